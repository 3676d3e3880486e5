"""`mssante send`: a session the server refuses, or that cannot be opened, is a verdict.

A refused server certificate, a server without STARTTLS, a refused client certificate and an unreachable server each
give exit status 1, ``ok`` false, the refusal's MSS code among the ``findings``, and the keys of ``send``
(``accepted``, ``rejected``...: nobody). Exit status 2 stays for a usage error or input that cannot be read. The
servers are started here, on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.message import compose
from mssante.pki import Environment, TrustStore, server_context
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.cli.running import run, run_json
from tests.transport.smtp_server import TOKEN, USER, Recorder, serve

TO = "dr.martin@hopital.mssante.fr"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("send")


def context(store: TrustStore, issued: IssuedCertificate, folder: Path, name: str) -> ssl.SSLContext:
    """A server TLS context presenting ``issued`` and requiring a client certificate from ``store``."""
    chain, key = issued.write(folder, name)
    return server_context(store, certificate=chain, key=key)


def options(pki: TestPki, folder: Path, client: IssuedCertificate, port: int) -> list[str]:
    """``mssante send EML`` to ``localhost:port`` with ``client`` as client certificate, the test PKI trusted."""
    eml = folder / "message.eml"
    mail = compose(sender=USER, to=[TO], nil="DEV000001", at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
                   subject="Compte rendu", text="Compte rendu en pièce jointe.")  # fmt: skip
    eml.write_bytes(mail.as_bytes())
    anchors = folder / "anchors.pem"
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    crls = []
    for name in CA_NAMES:
        (folder / f"{name}.crl").write_bytes(pki.crl(name))
        crls += ["--crl", str(folder / f"{name}.crl")]
    certificate, key = client.write(folder, "client")
    return [
        "send", str(eml), "--server", f"localhost:{port}", "--trust-anchor", str(anchors), *crls,
        "--cert", str(certificate), "--key", str(key), "--user", USER, "--xoauth2-token-env", "PSC_TOKEN",
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSC_TOKEN", TOKEN)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def good_server(pki: TestPki, store: TrustStore, folder: Path, recorder: Recorder) -> Iterator[int]:
    with serve(recorder, tls=context(store, pki.server(["localhost"]), folder, "server")) as controller:
        yield controller.port


@pytest.fixture(scope="module")
def client(pki: TestPki) -> IssuedCertificate:
    return pki.organisation("LOGICIEL", usage="auth")


def refusal(status: int, payload: dict[str, Any], recorder: Recorder) -> list[str]:
    """The codes of a refused send, once its shape is checked: exit status 1, not ok, nobody reached."""
    assert status == 1, payload
    assert payload["ok"] is False
    assert (payload["accepted"], payload["rejected"], payload["deferred"], payload["recipients"]) == ([], [], [], [])
    assert payload["error"].startswith("mssante: ")
    assert recorder.mail_peers == []
    return [finding["code"] for finding in payload["findings"]]


def test_an_accepted_message(
    good_server: int, recorder: Recorder, pki: TestPki, folder: Path, client: IssuedCertificate
) -> None:
    status, payload = run_json(*options(pki, folder, client, good_server))
    assert (status, payload["ok"], payload["accepted"]) == (0, True, [TO])
    assert len(recorder.messages) == 1


@pytest.mark.parametrize(
    ("reply", "delivery", "code"),
    [("550 5.1.1 no such mailbox", "rejected", "MSS-TRN-022"), ("450 4.2.1 mailbox busy", "deferred", "MSS-TRN-023")],
)
def test_a_recipient_not_accepted_is_a_finding(
    reply: str, delivery: str, code: str, good_server: int, recorder: Recorder, pki: TestPki, folder: Path,
    client: IssuedCertificate,
) -> None:  # fmt: skip
    recorder.rcpt_replies = {TO: reply}
    status, payload = run_json(*options(pki, folder, client, good_server))
    assert (status, payload["ok"], payload[delivery]) == (1, False, [TO])
    [finding] = payload["findings"]
    assert (finding["code"], finding["severity"], finding["where"]) == (code, "error", TO)
    assert reply in finding["message"]


@pytest.mark.parametrize(
    ("variant", "code"), [("other host", "MSS-PKI-010"), ("other PKI", "MSS-PKI-008"), ("expired", "MSS-PKI-007")]
)
def test_a_refused_server_certificate(
    variant: str, code: str, recorder: Recorder, pki: TestPki, store: TrustStore, folder: Path,
    client: IssuedCertificate,
) -> None:  # fmt: skip
    if variant == "other host":
        issued = pki.server(["mss.example.org"])
    elif variant == "other PKI":
        issued = TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc)).server(["localhost"])
    else:
        issued = pki.server(["localhost"], expired=True)
    with serve(recorder, tls=context(store, issued, folder, variant.replace(" ", "-"))) as controller:
        status, payload = run_json(*options(pki, folder, client, controller.port))
    assert code in refusal(status, payload, recorder)


def test_a_server_without_starttls(recorder: Recorder, pki: TestPki, folder: Path, client: IssuedCertificate) -> None:
    with serve(recorder, tls=None) as controller:
        status, payload = run_json(*options(pki, folder, client, controller.port))
        assert refusal(status, payload, recorder) == ["MSS-TRN-003"]
        status, out, _ = run(*options(pki, folder, client, controller.port))
    assert status == 1
    assert "MSS-TRN-003" in out


def test_a_refused_client_certificate(good_server: int, recorder: Recorder, pki: TestPki, folder: Path) -> None:
    stranger = TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))
    status, payload = run_json(*options(pki, folder, stranger.organisation("LOGICIEL", usage="auth"), good_server))
    assert refusal(status, payload, recorder) == ["MSS-TRN-006"]


def test_an_unreachable_server(recorder: Recorder, pki: TestPki, folder: Path, client: IssuedCertificate) -> None:
    with socket.socket() as nobody:  # a port of this machine where nothing listens
        nobody.bind(("127.0.0.1", 0))
        status, payload = run_json(*options(pki, folder, client, nobody.getsockname()[1]))
    assert refusal(status, payload, recorder) == ["MSS-TRN-001"]


def test_usage_errors_and_unreadable_input_stay_exit_status_2(
    good_server: int, recorder: Recorder, pki: TestPki, folder: Path, client: IssuedCertificate
) -> None:
    command = options(pki, folder, client, good_server)
    without_key = [*command[: command.index("--key")], *command[command.index("--key") + 2 :]]
    status, payload = run_json(*without_key)
    assert (status, payload["findings"]) == (2, []), payload
    assert "--cert and --key together" in payload["error"]
    missing = [*command]
    missing[1] = str(folder / "absent.eml")
    status, payload = run_json(*missing)
    assert (status, payload["findings"]) == (2, [])
    assert recorder.mail_peers == []
