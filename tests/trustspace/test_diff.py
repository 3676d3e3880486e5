"""What changed between two allow-lists: the real list against copies edited in their bytes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from mssante.trustspace import AllowList
from mssante.trustspace._diff import AllowListDiff, diff

MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"
MIPIH_REWRITTEN = "CN=medimail-asip.mipih.fr, OU=318310021300028, O=GIP MIPIH, L=Haute-Garonne(31), C=FR"
ENOVACOM = "CN=mss.enovacom.fr,OU=344368557300034,O=ENOVACOM,ST=Bouches-du-Rhône (13),C=FR"
NEW_DN = "CN=mss.exemple-operateur.fr,OU=318751275100020,O=OPERATEUR EXEMPLE,ST=Paris (75),C=FR"
NEW_ENTRY = f"""<Domaine>
            <Nom>Nouveau-CHU.mssante.fr</Nom>
            <Description>CHU NOUVEAU</Description>
            <DNCertificatOperateur>{NEW_DN}</DNCertificatOperateur>
            <ResponsableContact>01 02 03 04 05, responsable@exemple-operateur.fr</ResponsableContact>
            <SupportContact>01 02 03 04 06, support@exemple-operateur.fr</SupportContact>
            <DateMAJ>2025-03-14T08:00:00Z</DateMAJ>
        </Domaine>
        """.encode()


def entry(data: bytes, name: str, dn: str | None = None) -> re.Match[bytes]:
    """The first ``Domaine`` element named ``name`` (and with ``dn``), with the blank that follows it."""
    pattern = rb"<Domaine>\s*<Nom>" + re.escape(name.encode()) + rb"</Nom>(?:(?!</Domaine>).)*"
    if dn is not None:
        pattern += re.escape(f"<DNCertificatOperateur>{dn}</DNCertificatOperateur>".encode()) + rb".*?"
    found = re.search(pattern + rb"</Domaine>\s*", data, re.DOTALL)
    assert found, name
    return found


def without(data: bytes, name: str, dn: str | None = None) -> bytes:
    found = entry(data, name, dn)
    return data[: found.start()] + data[found.end() :]


def with_dn(data: bytes, name: str, old: str, new: str) -> bytes:
    found = entry(data, name, old)
    block = found.group().replace(old.encode(), new.encode())
    return data[: found.start()] + block + data[found.end() :]


@pytest.fixture(scope="module")
def edited(real_bytes: bytes) -> AllowList:
    """The real list one day later: one domain gone, one new, operators changed, one DN only rewritten."""
    data = real_bytes.replace(b"<DateDeGeneration>2025-03-13T14:54:10Z", b"<DateDeGeneration>2025-03-14T08:00:00Z")
    data = without(data, "adsea29.mssante.fr")  # its only entry
    data = without(data, "15-20.mssante.fr", ENOVACOM)  # one of its five operators
    data = with_dn(data, "ae.mssante.fr", MIPIH, NEW_DN)  # another operator
    data = with_dn(data, "UC-CMP.mssante.fr", MIPIH, MIPIH_REWRITTEN)  # the same DN, written otherwise
    data = data.replace(b"<Domaine>", NEW_ENTRY + b"<Domaine>", 1)
    return AllowList.parse(data, source="edited.xml")


def test_the_same_list_has_no_difference(real_list: AllowList, real_bytes: bytes) -> None:
    difference = diff(real_list, AllowList.parse(real_bytes))
    assert difference.empty
    assert not difference
    assert (difference.added, difference.removed, difference.changed) == ((), (), ())
    assert difference.dns_added == {}


def test_added_removed_and_changed(real_list: AllowList, edited: AllowList) -> None:
    difference = diff(real_list, edited)
    assert difference
    assert not difference.empty
    assert difference.added == ("nouveau-chu.mssante.fr",)
    assert difference.removed == ("adsea29.mssante.fr",)
    assert difference.changed == ("15-20.mssante.fr", "ae.mssante.fr")
    assert dict(difference.dns_added) == {"15-20.mssante.fr": (), "ae.mssante.fr": (NEW_DN,)}
    assert dict(difference.dns_removed) == {"15-20.mssante.fr": (ENOVACOM,), "ae.mssante.fr": (MIPIH,)}
    assert edited.entries_for("uc-cmp.mssante.fr")[0].dn_text == MIPIH_REWRITTEN  # rewritten, yet no change


def test_a_dn_rewritten_everywhere_is_no_change(real_list: AllowList, real_bytes: bytes) -> None:
    rewritten = real_bytes.replace(MIPIH.encode(), MIPIH_REWRITTEN.encode())
    assert rewritten.count(MIPIH_REWRITTEN.encode()) > 2000
    assert diff(real_list, AllowList.parse(rewritten)).empty


def test_the_reverse_diff_swaps_added_and_removed(real_list: AllowList, edited: AllowList) -> None:
    forward, backward = diff(real_list, edited), diff(edited, real_list)
    assert (backward.added, backward.removed, backward.changed) == (forward.removed, forward.added, forward.changed)
    assert backward.dns_added == forward.dns_removed


def test_json_form(real_list: AllowList, edited: AllowList) -> None:
    data = diff(real_list, edited).to_dict()
    assert data["old"] == "2025-03-13T14:54:10Z"
    assert data["new"] == "2025-03-14T08:00:00Z"
    assert data["old_sha256"] == real_list.sha256
    assert data["new_sha256"] == edited.sha256
    assert data["added"] == ["nouveau-chu.mssante.fr"]
    assert data["removed"] == ["adsea29.mssante.fr"]
    assert data["changed"] == ["15-20.mssante.fr", "ae.mssante.fr"]
    assert data["dns_added"] == {"15-20.mssante.fr": [], "ae.mssante.fr": [NEW_DN]}
    assert data["dns_removed"] == {"15-20.mssante.fr": [ENOVACOM], "ae.mssante.fr": [MIPIH]}


def test_a_diff_is_a_frozen_value(real_list: AllowList, edited: AllowList) -> None:
    difference = diff(real_list, edited)
    assert difference == diff(real_list, edited)
    assert hash(difference) == hash(diff(real_list, edited))
    with pytest.raises(TypeError):
        difference.dns_added["x"] = ()  # type: ignore[index]
    empty = AllowListDiff(old_generated=real_list.generated, new_generated=dt.datetime.now(dt.timezone.utc))
    assert empty.empty
    assert empty.to_dict()["changed"] == []
