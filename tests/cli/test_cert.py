"""``mssante cert inspect`` and ``mssante cert verify``, per the command-line contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from mssante.pki import Environment, TrustStore
from mssante.testing import CA_NAMES, TestPki
from tests.cli.running import run, run_json

AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
AT_TEXT = "2026-06-01T12:00:00Z"
DATA = Path(__file__).parent.parent / "data" / "pki"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def files(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cert")

    def write(name: str, data: bytes) -> str:
        path = folder / name
        path.write_bytes(data)
        return str(path)

    server = pki.server(["mss.example.org"])
    revoked = pki.server(["mss.example.org"])
    pem = serialization.Encoding.PEM
    unit = NameOID.ORGANIZATIONAL_UNIT_NAME
    two_units = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EXEMPLE"),
        x509.NameAttribute(unit, "318751275100020"),
        x509.NameAttribute(unit, "1540002698"),
        x509.NameAttribute(NameOID.COMMON_NAME, "mss.example.org"),
    ])  # fmt: skip
    no_common_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")])
    return {
        "organisation": write("org.pem", pki.organisation("EMA", structure="1540002698").certificate.public_bytes(pem)),
        "organisation-sign": write("org-sign.pem", pki.organisation(usage="sign").certificate.public_bytes(pem)),
        "two-units": write("two-units.pem", pki.server(subject=two_units).certificate.public_bytes(pem)),
        "no-common-name": write("no-cn.pem", pki.person(subject=no_common_name).certificate.public_bytes(pem)),
        "server": write("server.pem", server.certificate.public_bytes(pem)),
        "server.der": write("server.der", server.certificate.public_bytes(serialization.Encoding.DER)),
        "revoked": write("revoked.pem", revoked.certificate.public_bytes(pem)),
        "person": write("person.pem", pki.person("810000001916", profession=10).certificate.public_bytes(pem)),
        "intermediate": write("intermediate.pem", pki.ca("ACI-EL-ORG").certificate.public_bytes(pem)),
        "roots": write("roots.pem", b"".join(root.public_bytes(pem) for root in pki.anchors)),
        "crl-org": write("aci-el-org.crl", pki.crl("ACI-EL-ORG", revoked=[revoked])),
        "crl-root": write("acr-el.crl", pki.crl("ACR-EL")),
        "garbage": write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    }


def verify_args(files: dict[str, str], leaf: str = "server", *extra: str) -> list[str]:
    return [
        "cert", "verify", files[leaf], "--trust-anchor", files["roots"], "--chain", files["intermediate"],
        "--at", AT_TEXT, "--crl", files["crl-org"], "--crl", files["crl-root"], *extra,
    ]  # fmt: skip


def test_inspect_shape(files: dict[str, str]) -> None:
    status, data = run_json("cert", "inspect", files["server"])
    assert status == 0
    for key in ("subject", "issuer", "profile", "identity", "not_before", "not_after", "sha256", "ok", "findings"):
        assert key in data
    assert data["profile"] == "serv-ssl"
    assert data["subject"].startswith("CN=mss.example.org,OU=318751275100020")
    assert data["identity"]["kind"] == "server"
    assert data["identity"]["type"] == "idnst"
    assert data["identity"]["value"] == "318751275100020"
    assert data["not_before"].endswith("Z")
    assert len(data["sha256"]) == 64
    assert data["revocation"]["crl"][0] == "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG.crl"
    assert data["revocation"]["ocsp"] == ["http://ocsp.esante.gouv.fr"]
    assert run_json("cert", "inspect", files["server.der"])[1]["sha256"] == data["sha256"]


def test_inspect_person_identity(files: dict[str, str]) -> None:
    status, data = run_json("cert", "inspect", files["person"])
    assert status == 0
    assert data["profile"] == "cps-auth"
    assert data["identity"] == {
        "kind": "person", "type": "idnps", "value": "810000001916", "name": "CAMILLE DUPONT", "profession": 10,
        "organisation": None, "structure": None, "fqdns": [],
    }  # fmt: skip


def test_inspect_real_ca_certificates() -> None:
    status, out, _ = run("cert", "inspect", str(DATA / "Chaine_de_certification-IGC-Sante.p7b"))
    assert status == 0
    assert "AC RACINE IGC-SANTE ELEMENTAIRE" in out
    assert "what     root CA of IGC Santé ELEMENTAIRE\n" in out  # not "profile none"
    assert "holder   the CA itself: AC RACINE IGC-SANTE ELEMENTAIRE\n" in out
    assert "none" not in out.lower()


def test_a_ca_is_said_to_be_a_root_or_an_intermediate(files: dict[str, str]) -> None:
    status, out, _ = run("cert", "inspect", files["intermediate"])
    assert status == 0
    assert "what     intermediate CA of IGC Santé ELEMENTAIRE ORGANISATIONS\n" in out
    assert run_json("cert", "inspect", files["intermediate"])[1]["ca"] == "intermediate"
    assert run_json("cert", "inspect", files["server"])[1]["ca"] is None
    status, out, _ = run(
        "cert", "verify", files["intermediate"], "--purpose", "client", "--trust-anchor", files["roots"],
        "--at", AT_TEXT, "--revocation", "off",
    )  # fmt: skip
    assert status == 1
    assert out.splitlines()[0] == f"refused  {files['intermediate']}  intermediate CA"


def test_text_says_who_holds_the_certificate(files: dict[str, str]) -> None:
    holders = {
        leaf: next(line for line in run("cert", "inspect", files[leaf])[1].splitlines() if line.startswith("holder"))
        for leaf in ("server", "organisation", "person")
    }
    assert holders == {
        "server": "holder   a server: mss.example.org, idnst 318751275100020",
        "organisation": "holder   an organisation: EMA, idnst 1540002698",
        "person": "holder   a person: CAMILLE DUPONT, idnps 810000001916",
    }
    status, out, _ = run(*verify_args(files, "organisation-sign", "--purpose", "organisation"))
    assert status == 1
    assert "an organisation certificate needs clientAuth" in out
    assert "a organisation" not in out


def test_text_output_never_shows_a_python_none(files: dict[str, str]) -> None:
    for leaf in ("server", "organisation", "person", "two-units", "no-common-name", "intermediate", "roots"):
        for argv in (["cert", "inspect", files[leaf]], verify_args(files, leaf, "--purpose", "organisation")):
            _, out, err = run(*argv)
            assert "None" not in out + err, (leaf, out)


def test_verify_ok(files: dict[str, str]) -> None:
    status, data = run_json(*verify_args(files, "server", "--host", "mss.example.org"))
    assert status == 0, data
    assert data["ok"] is True
    assert data["profile"] == "serv-ssl"
    assert len(data["chain"]) == 3
    assert data["chain"][0].startswith("CN=mss.example.org")
    assert data["chain"][2].startswith("CN=AC RACINE IGC-SANTE ELEMENTAIRE")


def test_verify_refusals_exit_1(files: dict[str, str]) -> None:
    status, data = run_json(*verify_args(files, "server", "--host", "other.example.org"))
    assert status == 1
    assert "MSS-PKI-010" in [f["code"] for f in data["findings"]]
    status, data = run_json(*verify_args(files, "revoked", "--host", "mss.example.org"))
    assert status == 1
    assert data["revocation"][0] == "revoked"
    status, data = run_json(*verify_args(files, "server", "--host", "mss.example.org", "--at", "2040-01-01T00:00:00Z"))
    assert status == 1
    assert "MSS-PKI-007" in [f["code"] for f in data["findings"]]


def test_verify_person_purpose(files: dict[str, str], pki: TestPki, tmp_path: Path) -> None:
    chain = tmp_path / "per.pem"
    chain.write_bytes(pki.ca("ACI-FO-PER").certificate.public_bytes(serialization.Encoding.PEM))
    crls = [tmp_path / "fo-per.crl", tmp_path / "fo.crl"]
    crls[0].write_bytes(pki.crl("ACI-FO-PER"))
    crls[1].write_bytes(pki.crl("ACR-FO"))
    status, data = run_json(
        "cert", "verify", files["person"], "--purpose", "person", "--trust-anchor", files["roots"],
        "--chain", str(chain), "--at", AT_TEXT, "--crl", str(crls[0]), "--crl", str(crls[1]),
    )  # fmt: skip
    assert status == 0, data
    assert data["identity"]["value"] == "810000001916"


def test_verify_without_revocation_data_is_hard_by_default(files: dict[str, str]) -> None:
    argv = ["cert", "verify", files["server"], "--trust-anchor", files["roots"], "--chain", files["intermediate"],
            "--at", AT_TEXT, "--host", "mss.example.org"]  # fmt: skip
    status, data = run_json(*argv)
    assert status == 1
    assert data["revocation"] == ["unknown", "unknown"]
    status, out, err = run(*argv, "--revocation", "off", "--json")
    assert status == 0
    assert json.loads(out)["ok"] is True
    assert "warning" in err


def test_verify_against_the_bundled_anchors_refuses_the_look_alike(files: dict[str, str]) -> None:
    status, data = run_json(
        "cert", "verify", files["server"], "--chain", files["intermediate"], "--at", AT_TEXT,
        "--host", "mss.example.org", "--revocation", "off",
    )  # fmt: skip
    assert status == 1
    assert "MSS-PKI-008" in [f["code"] for f in data["findings"]]


def test_verify_test_environment_warns(files: dict[str, str]) -> None:
    status, out, err = run(
        "cert", "verify", files["server"], "--env", "test", "--at", AT_TEXT, "--host", "mss.example.org", "--json",
    )  # fmt: skip
    assert status == 1
    assert "TEST" in err
    codes = [f["code"] for f in json.loads(out)["findings"]]
    assert "MSS-PKI-021" in codes


@pytest.mark.parametrize(
    "argv",
    [
        ["cert", "inspect", "/nonexistent/cert.pem"],
        ["cert", "verify", "/nonexistent/cert.pem"],
        ["cert", "verify", "GARBAGE"],
        ["cert", "inspect", "GARBAGE"],
        ["cert", "verify", "SERVER", "--at", "yesterday"],
        ["cert", "verify", "SERVER", "--purpose", "mail"],
        ["cert", "verify", "SERVER", "--crl", "GARBAGE"],
    ],
    ids=[
        "missing-inspect",
        "missing-verify",
        "garbage-verify",
        "garbage-inspect",
        "bad-time",
        "bad-purpose",
        "bad-crl",
    ],
)
def test_unreadable_input_exits_2(files: dict[str, str], argv: list[str]) -> None:
    argv = [files["garbage"] if a == "GARBAGE" else files["server"] if a == "SERVER" else a for a in argv]
    status, out, err = run(*argv, "--json")
    assert status == 2, out
    assert json.loads(out)["ok"] is False
    assert len(err.strip().splitlines()) >= 1
    assert "Traceback" not in err


def test_bundled_store_is_the_default(files: dict[str, str]) -> None:
    assert len(TrustStore.bundled("prod").anchors) == 3
    assert len(CA_NAMES) == 9


def test_verify_reports_the_test_chain_and_the_missing_host(tmp_path: Path) -> None:
    test_pki = TestPki.create(environment=Environment.TEST, at=AT)
    server = tmp_path / "test-server.pem"
    server.write_bytes(test_pki.server(["mss.example.org"]).certificate.public_bytes(serialization.Encoding.PEM))
    status, data = run_json("cert", "verify", str(server), "--env", "prod", "--at", AT_TEXT)
    assert status == 1
    errors = [f["code"] for f in data["findings"] if f["severity"] == "error"]
    assert {"MSS-PKI-018", "MSS-PKI-009"} <= set(errors)


def test_verify_names_the_missing_test_fort_ca_and_refuses_a_look_alike_file(tmp_path: Path) -> None:
    test_pki = TestPki.create(environment=Environment.TEST, at=AT)
    pem = serialization.Encoding.PEM
    ans_key = x509.AuthorityKeyIdentifier(bytes.fromhex("3af1e7f5ceebedf78dc9c9b29fedd46529dc1ffd"), None, None)
    card = tmp_path / "card.pem"
    card.write_bytes(test_pki.person(usage="sign", extra_extensions=[(ans_key, False)]).certificate.public_bytes(pem))
    argv = ["cert", "verify", str(card), "--env", "test", "--purpose", "person", "--at", AT_TEXT, "--revocation", "off"]
    status, out, _ = run(*argv)
    assert status == 1
    assert (
        "MSS-PKI-023 error: TEST AC IGC-SANTE FORT PERSONNES is not in the store: add ACI-FO-PP-TEST from "
        "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-FO-PP-TEST.cer (ACI-FO-PP-TEST)"
    ) in out
    assert "MSS-PKI-025 error: this is a card's signature certificate" in out  # and why it is not for TLS
    assert "MSS-PKI-008" not in out
    assert out.splitlines()[0].endswith("cps-sign")
    # The test PKI's FORT CA is not ANS's: refused before anything is trusted.
    look_alike = tmp_path / "ACI-FO-PP-TEST.pem"
    look_alike.write_bytes(test_pki.ca("ACI-FO-PER").certificate.public_bytes(pem))
    status, out, err = run(*argv, "--add-ca", str(look_alike), "--json")
    assert status == 2
    assert json.loads(out)["findings"][0]["code"] == "MSS-PKI-024"
    assert "not 3A:F1:E7:F5:CE:EB:ED:F7:8D:C9:C9:B2:9F:ED:D4:65:29:DC:1F:FD" in err
