"""`mssante policy check | serve`: the inbound policy answered as the Postfix policy service answers it."""

from __future__ import annotations

import datetime as dt
import io
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.pki import Environment
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.cli.running import run, run_json
from tests.transport.test_policy_core import listing

NOW = dt.datetime.now(dt.timezone.utc)
DOMAIN = "clinique.mssante.fr"
SENDER = f"secretariat@{DOMAIN}"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=NOW)


@pytest.fixture(scope="module")
def peer(pki: TestPki) -> IssuedCertificate:
    return pki.server(["relay.clinique.example"], organisation="OPERATEUR-CLINIQUE")


@pytest.fixture(scope="module")
def setup(pki: TestPki, peer: IssuedCertificate, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the allow-list, the CAs, the CRLs, the peer's certificate and a cache holding it."""
    directory = tmp_path_factory.mktemp("policy")
    (directory / "liste.xml").write_bytes(listing((DOMAIN, peer.certificate)))
    (directory / "cas.pem").write_bytes(
        b"".join(cert.public_bytes(Encoding.PEM) for cert in [*pki.anchors, *pki.intermediates])
    )
    for name in CA_NAMES:
        (directory / f"{name}.crl").write_bytes(pki.crl(name))
    (directory / "peer.pem").write_bytes(peer.certificate.public_bytes(Encoding.PEM))
    (directory / "cache").mkdir()
    (directory / "cache" / "peer.pem").write_bytes(peer.pem())
    return directory


def options(setup: Path, *extra: str) -> list[str]:
    return ["--allow-list", str(setup / "liste.xml"), "--trust-anchor", str(setup / "cas.pem"), *extra]


def crls(setup: Path) -> list[str]:
    return [argument for name in CA_NAMES for argument in ("--crl", str(setup / f"{name}.crl"))]


def test_check_accepts_a_listed_certificate_from_the_cache_checked_whole(setup: Path) -> None:
    status, payload = run_json(
        "policy", "check", *options(setup, "--certificates", str(setup / "cache"), *crls(setup)),
        "--cert", str(setup / "peer.pem"), "--sender", SENDER,
    )  # fmt: skip
    assert status == 0, payload
    assert payload["answer"] == "action=DUNNO"
    assert payload["action"] == "DUNNO"
    assert payload["code"] == "MSS-WL-014"
    assert payload["ok"] is True
    assert "MSS-REV-004" in [finding["code"] for finding in payload["findings"]]


def test_check_defers_a_certificate_it_cannot_check_for_revocation(setup: Path) -> None:
    status, out, _ = run("policy", "check", *options(setup, *crls(setup)), "--cert", str(setup / "peer.pem"),
                         "--sender", SENDER)  # fmt: skip
    assert status == 1
    assert out.startswith("action=DEFER 4.7.1 MSS-REV-001 ")


def test_check_in_soft_mode_decides_by_the_cn(setup: Path) -> None:
    status, out, _ = run("policy", "check", *options(setup, "--revocation", "soft"), "--cert",
                         str(setup / "peer.pem"), "--sender", SENDER)  # fmt: skip
    assert status == 0, out
    assert out.splitlines()[0] == "action=DUNNO"


def test_check_rejects_an_unlisted_certificate(setup: Path, pki: TestPki, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(pki.server(["relay.inconnu.example"], organisation="INCONNU").pem())
    status, payload = run_json("policy", "check", *options(setup, "--revocation", "soft"), "--cert", str(stranger),
                               "--sender", SENDER)  # fmt: skip
    assert status == 1
    assert payload["answer"].startswith("action=REJECT 5.7.1 MSS-WL-013 ")


def test_check_reads_a_request_from_standard_input(setup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"request=smtpd_access_policy\nsender={SENDER}\n\n"))
    status, out, _ = run("policy", "check", *options(setup, "--revocation", "soft"))
    assert status == 1
    assert out.startswith("action=REJECT 5.7.1 MSS-PKI-001 ")


def test_check_refuses_a_request_it_cannot_read(setup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("recipient=a@b.fr\n\n"))
    status, _, err = run("policy", "check", *options(setup, "--revocation", "soft"))
    assert status == 2
    assert "no sender attribute" in err


def test_check_without_allow_list_is_a_usage_error(setup: Path, tmp_path: Path) -> None:
    status, _, err = run("policy", "check", "--cache-dir", str(tmp_path), "--trust-anchor", str(setup / "cas.pem"),
                         "--revocation", "soft", "--cert", str(setup / "peer.pem"), "--sender", SENDER)  # fmt: skip
    assert status == 2
    assert "no allow-list" in err


def _ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        reply = b""
        while not reply.endswith(b"\n\n"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply


def test_serve_answers_reloads_and_stops_on_sigterm(setup: Path, peer: IssuedCertificate, pki: TestPki) -> None:
    listed = setup / "served.xml"
    listed.write_bytes(listing((DOMAIN, peer.certificate)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = (
        f"request=smtpd_access_policy\nprotocol_state=RCPT\nsender={SENDER}\nrecipient=dr@hopital.mssante.fr\n"
        f"ccert_subject=relay.clinique.example\nccert_issuer={_issuer(peer.certificate)}\n"
        f"ccert_fingerprint={_sha256_hex(peer.certificate)}\n\n"
    ).encode()
    command = [sys.executable, "-m", "mssante", "policy", "serve", "--listen", f"127.0.0.1:{port}",
               "--allow-list", str(listed), "--trust-anchor", str(setup / "cas.pem"), "--revocation", "soft",
               "--reload-interval", "0.1", "--verbose"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = _ask(port, request)
                break
            except OSError:
                assert server.poll() is None, "the service stopped"
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        assert reply == b"action=DUNNO\n\n"
        other = pki.server(["relay.autre.example"], organisation="AUTRE").certificate
        listed.write_bytes(listing((DOMAIN, other), generated="2026-06-02T00:00:00Z"))
        while not (reply := _ask(port, request)).startswith(b"action=REJECT"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert reply.startswith(b"action=REJECT 5.7.1 MSS-WL-013 ")
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0, err.decode()
    log = err.decode()
    assert "policy service listening on 127.0.0.1" in log
    assert "reloaded" in log
    assert "policy for" in log  # the audit events, with --verbose
    assert "policy service stopped" in log
    assert out == b""


def _issuer(certificate: x509.Certificate) -> str:
    return str(certificate.issuer.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value).replace(" ", "+20")


def _sha256_hex(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


@pytest.mark.parametrize("listen", ["x", "127.0.0.1:0", "127.0.0.1:99999"])
def test_serve_refuses_a_listen_address_that_is_not_host_port(setup: Path, listen: str) -> None:
    status, _, err = run("policy", "serve", "--listen", listen, *options(setup, "--revocation", "soft"))
    assert status == 2
    assert "is not HOST:PORT" in err


def test_a_decision_ttl_out_of_bounds_is_a_usage_error(setup: Path) -> None:
    status, _, err = run("policy", "check", *options(setup, "--decision-ttl", "-1"))
    assert status == 2
    assert "is not a number of seconds" in err
