"""FHIR Patch bodies for publishing mailboxes: the draft API's examples reproduced, its rules enforced.

Fixtures (tests/data/directory/fhir/): ``mssig-patch-*.json`` and ``mssig-operationoutcome-412-conditional-patch.json``
are verbatim from the draft MSS IG ("API Messagerie Sécurisée de Santé", pages "Écriture (PATCH)" and
"Opérations combinées", and ``openapi-balmss.yaml`` of ansforge/IG-fhir-annuaire @5fbc358d).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mssante.addresses import MailboxType
from mssante.directory import MODIFIABLE, MailboxPatch, MailboxPublisher, PatchTarget
from mssante.errors import DirectoryError, InvalidInput

DATA = Path(__file__).parent.parent / "data" / "directory" / "fhir"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_insert_of_an_organisation_mailbox_is_the_specification_example() -> None:
    patch = MailboxPatch.for_target(PatchTarget.of("finess", "123456789"))
    patch.insert("structure@domain.mssante.fr", "ORG", description="BAL principale de la structure")
    assert patch.to_json() == fixture("mssig-patch-insert-bal-org.json")
    assert json.loads(patch.to_bytes()) == fixture("mssig-patch-insert-bal-org.json")


def test_combined_operations_are_the_specification_example() -> None:
    patch = MailboxPatch(resource_type="Practitioner")
    patch.replace("jean.dupont.pro@domain.mssante.fr", MailboxType.PER, "listeRouge", True)
    patch.delete("jean.dupont.ancien@domain.mssante.fr", "PER")
    assert patch.to_json() == fixture("mssig-patch-listerouge-and-delete-bal-per.json")


def test_conditional_patch_urls() -> None:
    base = "https://gateway.example/fhir/mss"
    assert PatchTarget.of("finess", "123456789").url(base) == (
        f"{base}/Organization?identifier=https://finess.esante.gouv.fr%7C123456789"
    )
    assert PatchTarget.of("idnps", "800012345678").url(base + "/") == (
        f"{base}/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1%7C800012345678"
    )
    assert PatchTarget.of("situation", "1010399870").resource_type == "PractitionerRole"


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (lambda p: p.insert("not-an-address", "PER"), "MSS-PUB-001"),
        (lambda p: p.insert("dr@gmail.com", "PER"), "MSS-PUB-001"),
        (lambda p: p.delete("o'brien@chu.mssante.fr", "PER"), "MSS-PUB-001"),
        (lambda p: p.insert("bal@chu.mssante.fr", "ORG"), "MSS-PUB-002"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "address", "x@chu.mssante.fr"), "MSS-PUB-003"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "type", "ORG"), "MSS-PUB-003"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "description", "x"), "MSS-PUB-004"),
        (lambda p: p.insert("dr@chu.mssante.fr", "PER", service="Cardiologie"), "MSS-PUB-004"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "listeRouge", "yes"), "MSS-PUB-005"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "rank", 0), "MSS-PUB-005"),
        (lambda p: p.to_json(), "MSS-PUB-007"),
    ],
    ids=["not-an-address", "not-mssante", "quote", "org-on-practitioner", "address-immutable", "type-immutable",
         "per-description", "per-service", "bad-boolean", "bad-rank", "empty"],
)  # fmt: skip
def test_the_rules_of_the_draft_api(action: Any, code: str) -> None:
    patch = MailboxPatch(resource_type="Practitioner")
    with pytest.raises(InvalidInput) as caught:
        action(patch)
    assert caught.value.report.codes == (code,)


def test_what_each_type_may_change() -> None:
    organisation = MailboxPatch(resource_type="Organization")
    for field in sorted(MODIFIABLE[MailboxType.ORG] - {"listeRouge", "rank"}):
        organisation.replace("bal@chu.mssante.fr", "ORG", field, "Texte")
    organisation.replace("bal@chu.mssante.fr", "APP", "rank", 1)
    assert len(organisation.to_json()["parameter"]) == 4
    with pytest.raises(ValueError, match="Practitioner, PractitionerRole or Organization"):
        MailboxPatch(resource_type="Device")
    with pytest.raises(ValueError, match="give one of"):
        PatchTarget.of("siret", "1")
    with pytest.raises(InvalidInput):
        PatchTarget.of("rpps", "1|2")


@given(st.text(max_size=60))
def test_any_text_is_a_clean_refusal_or_a_valid_operation(text: str) -> None:
    patch = MailboxPatch(resource_type="Organization")
    try:
        patch.insert(f"{text}@chu.mssante.fr", "ORG", description=text or "x")
    except InvalidInput as error:
        refused = error.report.codes
    else:
        refused = ()
        body = json.loads(patch.to_bytes())
        assert body["parameter"][0]["part"][3]["valueContactPoint"]["value"] == f"{text}@chu.mssante.fr"
    assert set(refused) <= {"MSS-PUB-001", "MSS-PUB-005"}


class _WriteEndpoint(BaseHTTPRequestHandler):
    """A stand-in for the draft write endpoint: 200 with the resource, or the 412 of the specification."""

    seen: ClassVar[list[tuple[str, str, bytes, str]]] = []

    def do_PATCH(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers["Content-Type"], body, self.headers["ESANTE-API-KEY"]))
        if "999999999" in self.path:
            status, answer = 412, (DATA / "mssig-operationoutcome-412-conditional-patch.json").read_bytes()
        else:
            status, answer = 200, json.dumps({"resourceType": "Organization", "id": "001-01-1"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WriteEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir/mss"
    server.shutdown()
    server.server_close()
    thread.join()


def test_publishing_is_an_explicit_opt_in() -> None:
    with pytest.raises(DirectoryError, match="draft"):
        MailboxPublisher("https://gateway.example/fhir/mss", api_key="k")


def test_a_patch_is_sent_and_its_answer_read(endpoint: str) -> None:
    target = PatchTarget.of("finess", "123456789")
    patch = MailboxPatch.for_target(target).insert("structure@domain.mssante.fr", "ORG", description="BAL")
    with MailboxPublisher(endpoint, api_key="secret", accept_draft_api=True) as publisher:
        assert publisher.publish(target, patch) == {"resourceType": "Organization", "id": "001-01-1"}
        path, content_type, body, key = _WriteEndpoint.seen[-1]
        assert path == "/fhir/mss/Organization?identifier=https://finess.esante.gouv.fr%7C123456789"
        assert (content_type, key) == ("application/fhir+json", "secret")
        assert json.loads(body) == patch.to_json()
        ambiguous = PatchTarget.of("finess", "999999999")
        with pytest.raises(DirectoryError, match="Multiple matches") as caught:
            publisher.publish(ambiguous, MailboxPatch.for_target(ambiguous).delete("x@domain.mssante.fr", "ORG"))
        assert "secret" not in str(caught.value)
        with pytest.raises(ValueError, match="a patch of Practitioner"):
            publisher.publish(target, MailboxPatch(resource_type="Practitioner").delete("x@a.mssante.fr", "PER"))
