"""``mssante cert inspect`` and ``mssante cert verify``, per the command-line contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

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
    return {
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
    assert "profile  none" in out


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
