"""The policy service called by a real Postfix (``check_policy_service``) at RCPT TO, with Dovecot behind it.

A sending operator whose certificate is listed for the sender's domain gets its message delivered; one whose
certificate is not listed, one without a certificate, and one whose certificate the service cannot check for
revocation are refused at RCPT with the MSS code in Postfix's reply. Needs root, Postfix and Dovecot (skipped
without them, failed when ``MSSANTE_REQUIRE_MTA`` is set).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from mssante.transport._policy_server import PolicyServer
from mssante.transport._policy_service import PolicyService, certificate_index
from mssante.trustspace import AllowList, OperatorDn
from tests.transport.conftest import Files, write
from tests.transport.mta import Dovecot, Postfix, TlsFiles, free_port, require_mta, running

DOMAIN = "hopital.mssante.fr"
RECIPIENT = f"dr.martin@{DOMAIN}"
SENDER_DOMAIN = "clinique.mssante.fr"
SENDER = f"secretariat@{SENDER_DOMAIN}"
DELIVERY_SECONDS = 20.0


def _pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in certificates)


def allowlist(*entries: tuple[str, x509.Certificate]) -> AllowList:
    domains = "".join(
        f"<Domaine><Nom>{domain}</Nom><Description>d</Description><DNCertificatOperateur>"
        f"{OperatorDn.from_name(certificate.subject)}</DNCertificatOperateur><ResponsableContact>r"
        "</ResponsableContact><SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        for domain, certificate in entries
    )
    return AllowList.parse(
        (
            '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
            f"<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domains}</ListeDomaines>"
            "</ListeBlancheMSSante>"
        ).encode()
    )


class Background:
    """A :class:`PolicyServer` in an event loop of its own, in a thread."""

    def __init__(self, server: PolicyServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            await self.server.start()
            self._ready.set()
            await self.server.serve()

        self.loop.run_until_complete(main())

    def __enter__(self) -> Background:
        self._thread.start()
        assert self._ready.wait(10), "the policy server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self._thread.join(10)
        self.loop.close()


class Setup:
    def __init__(self, postfix: Postfix, dovecot: Dovecot, cas: Path) -> None:
        self.postfix = postfix
        self.dovecot = dovecot
        self.cas = cas


@pytest.fixture(scope="module")
def listed(pki: TestPki) -> IssuedCertificate:
    return pki.server(["relay.clinique.example"], organisation="OPERATEUR-CLINIQUE")


@pytest.fixture(scope="module")
def uncached(pki: TestPki) -> IssuedCertificate:
    """Listed for the sender's domain too, but not in the service's certificate cache."""
    return pki.server(["relay2.clinique.example"], organisation="OPERATEUR-CLINIQUE")


@pytest.fixture(scope="module")
def setup(
    pki: TestPki, store: TrustStore, crls: RevocationChecker, files: Path, listed: IssuedCertificate,
    uncached: IssuedCertificate,
) -> Iterator[Setup]:  # fmt: skip
    require_mta()
    mx = write(pki.server(["localhost"], organisation="OPERATEUR-A"), files, "policy-mx")
    cas, crl_file = files / "policy-cas.pem", files / "policy-crls.pem"
    cas.write_bytes(_pem([*pki.anchors, *pki.intermediates]))
    crl_file.write_bytes(
        b"".join(x509.load_der_x509_crl(pki.crl(name)).public_bytes(Encoding.PEM) for name in CA_NAMES)
    )
    service = PolicyService(
        allowlist((SENDER_DOMAIN, listed.certificate), (SENDER_DOMAIN, uncached.certificate)), store,
        certificates=certificate_index([listed.certificate]), revocation=crls, recipient_domains=[DOMAIN],
    )  # fmt: skip
    server = PolicyServer(service, port=free_port(), request_deadline=5.0)
    tls = TlsFiles(certificate=mx.certificate, key=mx.key, cas=cas, crls=crl_file)
    with Background(server):
        dovecot = Dovecot(tls, users=[RECIPIENT])
        with running(dovecot):
            postfix = Postfix(
                tls, domain=DOMAIN, recipients=[RECIPIENT], lmtp_port=dovecot.lmtp_port,
                policy_service=("127.0.0.1", server.port),
            )  # fmt: skip
            with running(postfix):
                yield Setup(postfix, dovecot, cas)


def message(subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = RECIPIENT
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{subject.replace(' ', '-')}.{time.time_ns()}@{SENDER_DOMAIN}>"
    mail.set_content("Bonjour.\n")
    return mail


def offer(setup: Setup, client: Files | None, mail: EmailMessage) -> tuple[int, str]:
    """Open a session on the policy listener, offer ``mail``: the reply to RCPT TO (and DATA when accepted)."""
    context = ssl.create_default_context(cafile=str(setup.cas))
    if client is not None:
        context.load_cert_chain(client.certificate, client.key)
    assert setup.postfix.policy_port is not None
    with smtplib.SMTP("localhost", setup.postfix.policy_port, timeout=20) as smtp:
        smtp.starttls(context=context)
        smtp.ehlo("relay.clinique.example")
        smtp.mail(SENDER)
        code, reply = smtp.rcpt(RECIPIENT)
        if code == 250:
            smtp.data(mail.as_bytes())
        return code, reply.decode(errors="replace")


def delivered(setup: Setup, message_id: str) -> bool:
    deadline = time.monotonic() + DELIVERY_SECONDS
    while time.monotonic() < deadline:
        if any(message_id.encode() in data for data in setup.dovecot.messages(RECIPIENT)):
            return True
        time.sleep(0.1)
    return False


def test_a_listed_operator_certificate_is_accepted_and_the_mail_delivered(
    setup: Setup, listed: IssuedCertificate, files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mail = message("listed operator")
    with caplog.at_level(logging.INFO, logger="mssante.transport.audit"):
        code, reply = offer(setup, write(listed, files, "policy-listed"), mail)
    assert code == 250, reply
    assert delivered(setup, mail["Message-ID"]), setup.postfix.log.read_text(errors="replace")[-3000:]
    [event] = [record for record in caplog.records if getattr(record, "event", None) == "policy"]
    fingerprint = hashlib.sha256(listed.certificate.public_bytes(Encoding.DER)).hexdigest()
    assert vars(event)["certificate_sha256"] == fingerprint
    assert vars(event)["certificate_subject"] == "relay.clinique.example"
    assert vars(event)["action"] == "DUNNO"
    assert vars(event)["code"] == "MSS-WL-014"
    assert vars(event)["sender"] == SENDER


def test_an_unlisted_operator_certificate_is_refused_at_rcpt(setup: Setup, pki: TestPki, files: Path) -> None:
    stranger = write(pki.server(["relay.inconnu.example"], organisation="INCONNU"), files, "policy-unlisted")
    code, reply = offer(setup, stranger, message("unlisted operator"))
    assert code == 554, reply
    assert "5.7.1" in reply
    assert "MSS-WL-013" in reply


def test_a_session_without_client_certificate_is_refused_at_rcpt(setup: Setup) -> None:
    code, reply = offer(setup, None, message("no certificate"))
    assert code == 554, reply
    assert "MSS-PKI-001" in reply


def test_a_listed_certificate_the_service_cannot_check_for_revocation_is_deferred(
    setup: Setup, uncached: IssuedCertificate, files: Path
) -> None:
    code, reply = offer(setup, write(uncached, files, "policy-uncached"), message("uncached"))
    assert code == 450, reply
    assert "4.7.1" in reply
    assert "MSS-REV-001" in reply
    assert setup.postfix.queued() == []
