"""Postfix tables and the IGC Santé CA file: exact text, the real list, and Postfix's own ``postmap`` reading them."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mssante.pki import Environment, TrustStore
from mssante.testing import TestPki
from mssante.trustspace import AllowList
from mssante.trustspace._export import igc_sante_cafile, postfix_sender_access, postfix_tls_policy
from tests.transport.mta import REQUIRE_MTA

OPERATOR = "OU=318751275100020,O=OPERATEUR,ST=Paris (75),C=FR"
ENTRIES = [
    ("CHU-X.MSSante.fr", f"CN=MX1.Operateur.fr,{OPERATOR}"),
    ("chu-x.mssante.fr", f"CN=mx2.operateur.fr,{OPERATOR}"),
    ("clinique.mssante.fr", f"CN=mx1.operateur.fr,{OPERATOR}"),
    ("clinique.mssante.fr", "CN=mx1.operateur.fr,OU=1750048886,O=AUTRE,C=FR"),  # same name, another DN
    ("annuaire.mssante.fr", f"CN=rassconsult,{OPERATOR}"),  # a CN that is not a host name (as in the real list)
    ("sans-cn.mssante.fr", OPERATOR),
    ("mixte.mssante.fr", "OU=1750048886,O=AUTRE,C=FR"),
    ("mixte.mssante.fr", "CN=mx.mixte.fr,OU=1750048886,O=AUTRE,C=FR"),
    ("evil.fr\ninjected.mssante.fr OK", f"CN=mx1.operateur.fr,{OPERATOR}"),  # a name that would add a line
    ("bad-dn.mssante.fr", "nonsense"),
]


def allow_list(entries: list[tuple[str, str]], generated: str = "2025-03-13T14:54:10Z") -> bytes:
    """An allow-list in the ANS format."""
    domaines = "".join(
        f"""
        <Domaine>
            <Nom>{name}</Nom>
            <Description>Test</Description>
            <DNCertificatOperateur>{dn}</DNCertificatOperateur>
            <ResponsableContact>01 02 03 04 05, responsable@example.org</ResponsableContact>
            <SupportContact>01 02 03 04 06, support@example.org</SupportContact>
            <DateMAJ>{generated}</DateMAJ>
        </Domaine>"""
        for name, dn in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">\n'
        f"    <DateDeGeneration>{generated}</DateDeGeneration>\n"
        f"    <ListeDomaines>{domaines}\n    </ListeDomaines>\n</ListeBlancheMSSante>\n"
    ).encode()


@pytest.fixture(scope="module")
def small() -> AllowList:
    return AllowList.parse(allow_list(ENTRIES), source="small.xml")


def test_tls_policy_exact(small: AllowList) -> None:
    assert postfix_tls_policy(small).splitlines() == [
        f"# MSSanté allow-list generated 2025-03-13T14:54:10Z, sha256 {small.sha256}",
        "# smtp_tls_policy_maps: the certificate names each MSSanté domain's MX must present (level secure).",
        "# 3 domains.",
        "",
        f"# annuaire.mssante.fr: left out: no operator DN has a CN that is a host name: CN=rassconsult,{OPERATOR}",
        "# bad-dn.mssante.fr: left out: the entry does not parse (name or DN; see the allow-list report)",
        "chu-x.mssante.fr secure match=mx1.operateur.fr:mx2.operateur.fr",
        "clinique.mssante.fr secure match=mx1.operateur.fr",
        "# evil.fr injected.mssante.fr OK: left out: the entry does not parse (name or DN; see the allow-list report)",
        "# mixte.mssante.fr: no CN usable as a name in: OU=1750048886,O=AUTRE,C=FR",
        "mixte.mssante.fr secure match=mx.mixte.fr",
        f"# sans-cn.mssante.fr: left out: no operator DN has a CN that is a host name: {OPERATOR}",
    ]


def test_sender_access_exact(small: AllowList) -> None:
    assert postfix_sender_access(small).splitlines() == [
        f"# MSSanté allow-list generated 2025-03-13T14:54:10Z, sha256 {small.sha256}",
        "# check_sender_access: the sender domains of the MSSanté allow-list; end the restriction list with reject.",
        "# 5 domains, and the null sender of delivery status notifications.",
        "",
        "<> OK",
        "annuaire.mssante.fr OK",
        "# bad-dn.mssante.fr: left out: the entry does not parse (name or DN; see the allow-list report)",
        "chu-x.mssante.fr OK",
        "clinique.mssante.fr OK",
        "# evil.fr injected.mssante.fr OK: left out: the entry does not parse (name or DN; see the allow-list report)",
        "mixte.mssante.fr OK",
        "sans-cn.mssante.fr OK",
    ]
    without_null = postfix_sender_access(small, null_sender=False)
    assert "<> OK" not in without_null
    assert without_null.splitlines()[2] == "# 5 domains."


def test_comments_cannot_carry_control_characters() -> None:
    allow = AllowList.parse(allow_list([("a\u0085b\x7f.mssante.fr", f"CN=mx.operateur.fr,{OPERATOR}")]))
    comment = postfix_sender_access(allow).splitlines()[-1]
    assert comment.startswith("# a b\\x7f.mssante.fr: left out")
    assert all(line.isprintable() for line in postfix_tls_policy(allow).splitlines())


def test_same_input_same_text(small: AllowList) -> None:
    reordered = AllowList.parse(allow_list(ENTRIES[::-1]))
    body = postfix_tls_policy(small).splitlines()[1:]
    assert postfix_tls_policy(reordered).splitlines()[1:] == body  # the header names the document's SHA-256


def test_real_list(real_list: AllowList) -> None:
    policy = postfix_tls_policy(real_list).splitlines()
    rules = [line for line in policy if line and not line.startswith("#")]
    assert len(policy) == 5006
    assert len(rules) == 5000  # 5,001 domains allowed; acces-annuaire.mssante.fr has CN=rassconsult
    assert policy[2] == "# 5000 domains."
    assert "uc-cmp.mssante.fr secure match=medimail-asip.mipih.fr" in rules
    assert "interop-mssante.apicrypt.org secure match=mailin.interop-mssante.apicrypt.org:" \
           "mailin2.interop-mssante.apicrypt.org" in rules  # fmt: skip
    assert [line for line in policy if line.startswith("# acces-annuaire.mssante.fr")] == [
        "# acces-annuaire.mssante.fr: left out: no operator DN has a CN that is a host name: "
        "CN=rassconsult,OU=318751275100020,O=AGENCE DU NUMERIQUE EN SANTE,ST=Paris (75),C=FR"
    ]
    access = postfix_sender_access(real_list).splitlines()
    assert len(access) == 5007
    assert len([line for line in access if line.endswith(" OK")]) == 5002  # 5,001 domains and <>
    assert "# sessad@ase.ditepbeziers.mssante.fr: left out" in "\n".join(access)


# --- the IGC Santé CA file ----------------------------------------------------------------------------------------


def test_cafile_of_the_bundled_production_hierarchy() -> None:
    store = TrustStore.bundled("prod")
    text = igc_sante_cafile(store)
    assert text.startswith("# IGC Santé prod: 3 root(s) and 5 intermediate CA(s)")
    certificates = x509.load_pem_x509_certificates(text.encode())
    assert len(certificates) == 8
    assert set(certificates) == {*store.anchors, *store.intermediates}
    assert [c.subject for c in certificates[:3]] == sorted(
        (anchor.subject for anchor in store.anchors), key=x509.Name.rfc4514_string
    )
    assert igc_sante_cafile(TrustStore.from_certificates(certificates[::-1], environment="prod")) == text


@pytest.fixture(scope="module")
def test_pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


def handshake(cafile: Path, chain: bytes, key: bytes, host: str, folder: Path) -> None:
    """A TLS handshake in memory: a server presenting ``chain``, a client trusting ``cafile`` only (as OpenSSL in
    Postfix does with ``smtp_tls_CAfile``)."""
    (folder / "chain.pem").write_bytes(chain)
    (folder / "key.pem").write_bytes(key)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    client_context = ssl.create_default_context(cafile=str(cafile))
    pipes = [ssl.MemoryBIO() for _ in range(4)]
    client = client_context.wrap_bio(pipes[0], pipes[1], server_hostname=host)
    server = server_context.wrap_bio(pipes[1], pipes[0], server_side=True)
    done = {client: False, server: False}
    for _ in range(10):
        for side in (client, server):
            if not done[side]:
                try:
                    side.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


def test_cafile_verifies_a_server_that_sends_only_its_leaf(test_pki: TestPki, tmp_path: Path) -> None:
    store = TrustStore.from_certificates([*test_pki.anchors, *test_pki.intermediates], environment="prod")
    cafile = tmp_path / "igc-sante.pem"
    cafile.write_text(igc_sante_cafile(store), encoding="utf-8")
    issued = test_pki.server(["mx1.operateur.fr"])
    leaf = issued.certificate.public_bytes(serialization.Encoding.PEM)
    handshake(cafile, leaf, issued.key_pem(), "mx1.operateur.fr", tmp_path)  # the intermediate comes from the file
    bundled = tmp_path / "prod.pem"
    bundled.write_text(igc_sante_cafile(TrustStore.bundled("prod")), encoding="utf-8")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(bundled, issued.pem(), issued.key_pem(), "mx1.operateur.fr", tmp_path)


# --- Postfix reads the tables ---------------------------------------------------------------------------------


def _postmap() -> str:
    found = shutil.which("postmap") or ("/usr/sbin/postmap" if os.access("/usr/sbin/postmap", os.X_OK) else None)
    if found is None:
        reason = "Postfix's postmap is not installed (apt-get install postfix): the tables are not read by Postfix"
        if os.environ.get(REQUIRE_MTA):  # CI installs Postfix: there, a missing postmap fails the test
            pytest.fail(f"{REQUIRE_MTA} is set but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def postmap(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``postmap`` with an empty configuration directory of its own (Postfix defaults, no system main.cf)."""
    config = tmp_path_factory.mktemp("postfix")
    (config / "main.cf").write_text("")
    return [_postmap(), "-c", str(config)]


def lookup(postmap: list[str], table: str, *keys: str) -> dict[str, str]:
    """What Postfix answers for each key (``postmap -q -``: keys on standard input); missing keys are absent."""
    done = subprocess.run(
        [*postmap, "-q", "-", table], input="".join(f"{key}\n" for key in keys), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert "warning" not in done.stderr, done.stderr
    return dict(line.split("\t", 1) for line in done.stdout.splitlines())


def test_postfix_reads_the_small_tables(postmap: list[str], small: AllowList, tmp_path: Path) -> None:
    policy, access = tmp_path / "mssante_tls_policy", tmp_path / "mssante_senders"
    policy.write_text(postfix_tls_policy(small), encoding="utf-8")
    access.write_text(postfix_sender_access(small), encoding="utf-8")
    keys = ["chu-x.mssante.fr", "CHU-X.mssante.fr", "clinique.mssante.fr", "mixte.mssante.fr", "sans-cn.mssante.fr",
            "annuaire.mssante.fr", "injected.mssante.fr", "evil.fr", "bad-dn.mssante.fr", "<>", "#"]  # fmt: skip
    assert lookup(postmap, f"texthash:{policy}", *keys) == {
        "chu-x.mssante.fr": "secure match=mx1.operateur.fr:mx2.operateur.fr",
        "CHU-X.mssante.fr": "secure match=mx1.operateur.fr:mx2.operateur.fr",
        "clinique.mssante.fr": "secure match=mx1.operateur.fr",
        "mixte.mssante.fr": "secure match=mx.mixte.fr",
    }
    assert lookup(postmap, f"texthash:{access}", *keys) == {
        "chu-x.mssante.fr": "OK",
        "CHU-X.mssante.fr": "OK",
        "clinique.mssante.fr": "OK",
        "mixte.mssante.fr": "OK",
        "sans-cn.mssante.fr": "OK",
        "annuaire.mssante.fr": "OK",
        "<>": "OK",
    }


def test_postfix_reads_the_real_tables(postmap: list[str], real_list: AllowList, tmp_path: Path) -> None:
    policy, access = tmp_path / "mssante_tls_policy", tmp_path / "mssante_senders"
    policy.write_text(postfix_tls_policy(real_list), encoding="utf-8")
    access.write_text(postfix_sender_access(real_list), encoding="utf-8")
    domains = sorted(real_list.domains)
    answers = lookup(postmap, f"texthash:{policy}", *domains)
    assert len(answers) == 5000
    assert answers["uc-cmp.mssante.fr"] == "secure match=medimail-asip.mipih.fr"
    for domain, answer in answers.items():
        names = {dn.common_name.lower() for dn in real_list.operators(domain) if dn.common_name}
        assert answer == "secure match=" + ":".join(sorted(names))
    senders = lookup(postmap, f"texthash:{access}", *domains, "unknown.mssante.fr")
    assert set(senders) == {domain for domain in domains if real_list.operators(domain)}
    assert set(senders.values()) == {"OK"}

    compiled = tmp_path / "compiled"
    compiled.write_text(postfix_sender_access(real_list), encoding="utf-8")
    done = subprocess.run([*postmap, f"hash:{compiled}"], capture_output=True, text=True, timeout=120, check=False)
    if "unsupported dictionary type" in done.stderr:
        pytest.skip(f"this Postfix has no hash tables: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert lookup(postmap, f"hash:{compiled}", "UC-CMP.mssante.fr", "unknown.mssante.fr") == {"UC-CMP.mssante.fr": "OK"}
