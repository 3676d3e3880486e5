"""``probe_server(send_test_to=...)``: one test message, only to a mailbox of the operator's own, only when asked.

An MX probe mails a domain the allow-list lists with the probe's own certificate; a submission probe logs in and
mails the mailbox it logged in as. Any other address is refused before a connection is opened (the probe cannot
be used to mail third parties); without the flag nothing is delivered (the other probe tests)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from mssante.errors import InvalidInput
from mssante.pki import RevocationChecker, TrustStore, load_certificate
from mssante.probe import probe_server
from mssante.testing import LocalOperator, TestPki
from mssante.trustspace import AllowList, OperatorDn
from tests.probe.servers import ProbedRecorder, context, smtp

DOMAIN = "operateur.example"
ADDRESS = f"sonde@{DOMAIN}"


def allow_list(domain: str, subject: x509.Name) -> AllowList:
    """An allow-list listing ``domain`` with the operator certificate ``subject``."""
    return AllowList.parse(
        b'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        b"<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine>"
        + f"<Nom>{domain}</Nom><Description>T</Description><DNCertificatOperateur>{OperatorDn.from_name(subject)}"
        "</DNCertificatOperateur><ResponsableContact>r</ResponsableContact><SupportContact>s</SupportContact>"
        "<DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine></ListeDomaines></ListeBlancheMSSante>".encode()
    )


@pytest.fixture(scope="module")
def own(client: tuple[Path, Path]) -> AllowList:
    """The allow-list that lists ``DOMAIN`` with the probe's client certificate."""
    return allow_list(DOMAIN, load_certificate(client[0].read_bytes()).subject)


@pytest.fixture
def mx(pki: TestPki, store: TrustStore, directory: Path) -> Iterator[tuple[int, ProbedRecorder]]:
    recorder = ProbedRecorder()
    with smtp(recorder, tls=context(store, pki.server(["localhost"]), directory, "send-mx")) as controller:
        yield controller.port, recorder


SendProbe = Callable[..., Any]


@pytest.fixture
def send_probe(
    store: TrustStore, now: dt.datetime, crls: RevocationChecker, client: tuple[Path, Path], own: AllowList
) -> SendProbe:
    """``probe_server`` on a port of localhost as an MX, sending the test message to :data:`ADDRESS` of a domain of
    the operator's own; ``options`` change any of that."""

    def run(port: int, **options: Any) -> Any:
        arguments: dict[str, Any] = {"role": "mx", "store": store, "at": now, "revocation": crls,
                                     "client_certificate": client, "send_test_to": ADDRESS, "allow_list": own,
                                     **options}  # fmt: skip
        return probe_server("localhost", port, timeout=5.0, max_duration=30.0, **arguments)

    return run


def test_an_mx_probe_sends_one_message_to_a_domain_of_its_own(
    mx: tuple[int, ProbedRecorder], send_probe: SendProbe
) -> None:
    port, recorder = mx
    report = send_probe(port)
    assert report.ok, str(report)
    assert report.checks[-1].name == "test-message"
    assert report.check("test-message").codes == ("MSS-PRB-032",)
    assert recorder.data_commands == 1
    [received] = recorder.messages
    assert received.recipients == [ADDRESS]
    message = message_from_bytes(received.data)
    assert "conformance probe" in message["Subject"]
    assert message["X-MSS-NIL"] == "MSSANTE-PROBE"
    assert message["To"] == ADDRESS


def test_a_refused_test_message_fails_its_check(mx: tuple[int, ProbedRecorder], send_probe: SendProbe) -> None:
    port, recorder = mx
    recorder.rcpt_replies[ADDRESS] = "550 5.1.1 no such mailbox"
    report = send_probe(port)
    check = report.check("test-message")
    assert check.codes == ("MSS-PRB-033",)
    assert "550" in check.findings[0].message
    assert not report.ok
    assert recorder.data_commands == 0


def test_no_message_when_the_checks_do_not_get_far_enough(
    pki: TestPki, store: TrustStore, directory: Path, send_probe: SendProbe
) -> None:
    recorder = ProbedRecorder()
    expired = pki.server(["localhost"], expired=True)
    with smtp(recorder, tls=context(store, expired, directory, "send-expired")) as controller:
        report = send_probe(controller.port)
    assert report.check("test-message").codes == ("MSS-PRB-020",)
    assert "server-certificate" in report.check("test-message").findings[0].message
    assert recorder.data_commands == 0


@contextlib.contextmanager
def listening() -> Iterator[socket.socket]:
    """A socket that listens and is never answered: a probe that connected would be waiting in its queue."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def _never_connected(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


@pytest.mark.parametrize(
    ("case", "options", "said"),
    [
        ("a domain not on the allow-list", {"send_test_to": "dr.martin@hopital.example"}, "not listed"),
        ("an invalid address", {"send_test_to": "not an address"}, "not an MSSanté address"),
        ("no allow-list", {"allow_list": None}, "allow-list"),
        ("no client certificate", {"client_certificate": None}, "--cert"),
        ("an IMAP server", {"role": "imap"}, "IMAP"),
        ("a submission server, not logged in", {"role": "submission"}, "logged-in"),
        (
            "a submission server, another mailbox",
            {"role": "submission", "username": f"autre@{DOMAIN}", "token": lambda: "t"},
            "logged in",
        ),
    ],
)
def test_any_other_address_is_refused_before_connecting(
    send_probe: SendProbe, case: str, options: dict[str, Any], said: str
) -> None:
    with listening() as server:
        with pytest.raises(InvalidInput, match=said):
            send_probe(server.getsockname()[1], **options)
        assert _never_connected(server)


def test_a_domain_listed_with_another_operator_is_refused(send_probe: SendProbe, foreign: TestPki) -> None:
    theirs = allow_list(DOMAIN, foreign.server(["mx.autre.example"], organisation="AUTRE").certificate.subject)
    with listening() as server:
        with pytest.raises(InvalidInput, match="not a domain of the operator's own"):
            send_probe(server.getsockname()[1], allow_list=theirs)
        assert _never_connected(server)


def test_a_submission_probe_mails_the_mailbox_it_logs_in_as(tmp_path: Path) -> None:
    with LocalOperator() as operator:
        address = f"sonde@{operator.domains[0]}"
        token = operator.add_user(address, token="jeton-de-la-sonde")
        report = probe_server(
            operator.host, operator.smtp_port, role="submission", store=operator.trust_store,
            at=dt.datetime.now(dt.timezone.utc), client_certificate=operator.client_certificate(tmp_path),
            revocation=operator.revocation, timeout=5.0, send_test_to=address, username=address,
            token=lambda: token,
        )  # fmt: skip
        delivered = operator.messages(address)
    assert report.check("test-message").codes == ("MSS-PRB-032",), str(report)
    [data] = delivered
    message = message_from_bytes(data)
    assert message["From"] == message["To"] == address
    assert "conformance probe" in message["Subject"]
