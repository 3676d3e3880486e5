"""Interoperability: real Postfix as an MSSanté operator, real Dovecot behind it, mssante on both ends.

A message composed by :func:`mssante.message.compose` (an IHE_XDM.zip of a CI-SIS CDA and its PDF) goes in
by :class:`~mssante.transport.Submission` (or :class:`~mssante.transport.Relay` on port 25), through Postfix
and LMTP into Dovecot, and comes back by :class:`~mssante.transport.ImapMailbox`, with every TLS check in force:
server certificates checked by :mod:`mssante.pki` (CRLs, host name), client certificates required and
verified by Postfix (``smtpd_tls_req_ccert``) and by Dovecot (CRLs required, login by certificate only).

Needs root, Postfix and Dovecot (``apt-get install postfix dovecot-imapd dovecot-lmtpd``): skipped without
them, failed when ``MSSANTE_REQUIRE_MTA`` is set (CI).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.errors import TransportError
from mssante.message import X_MSS_CODECDA, X_MSS_INS, X_MSS_NIL, compose, split_codes
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from mssante.transport import FetchedMessage, ImapMailbox, Relay, SendResult, Submission
from mssante.trustspace import AllowList, OperatorDn
from mssante.xdm import Package
from tests.transport.conftest import Files, write
from tests.transport.mta import Dovecot, Postfix, TlsFiles, require_mta, running

DOMAIN = "hopital.mssante.fr"
RECIPIENT = f"dr.martin@{DOMAIN}"
SENDER = "pierre.didot@pharmacie-4-cantons.mssante.fr"
CDA = (Path(__file__).parent.parent / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
PDF = b"%PDF-1.4\n% a PDF/A-1 rendering of the CDA document\n%%EOF\n"
DELIVERY_SECONDS = 20.0


@dataclasses.dataclass(frozen=True)
class Operator:
    postfix: Postfix
    dovecot: Dovecot


def _pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in certificates)


@pytest.fixture(scope="module")
def mx_certificate(pki: TestPki) -> IssuedCertificate:
    """The operator's SERV SSL certificate, for Postfix and Dovecot alike (clients connect to ``localhost``)."""
    return pki.server(["localhost"], organisation="OPERATEUR-A")


@pytest.fixture(scope="module")
def revoked(pki: TestPki) -> IssuedCertificate:
    """A mailbox certificate for the recipient, revoked in the CRL Dovecot is given."""
    return pki.organisation(RECIPIENT, usage="auth")


@pytest.fixture(scope="module")
def operator(
    pki: TestPki, mx_certificate: IssuedCertificate, revoked: IssuedCertificate, files: Path
) -> Iterator[Operator]:
    """Dovecot then Postfix, started once for the module, stopped and removed at the end."""
    require_mta()
    server = write(mx_certificate, files, "mx")
    cas, crls = files / "cas.pem", files / "crls.pem"
    cas.write_bytes(_pem([*pki.anchors, *pki.intermediates]))
    issuer = pki.issuer_of(revoked.certificate)
    crls.write_bytes(
        b"".join(
            x509.load_der_x509_crl(pki.crl(name, [revoked] if pki.ca(name) is issuer else [])).public_bytes(
                Encoding.PEM
            )
            for name in CA_NAMES
        )
    )
    tls = TlsFiles(certificate=server.certificate, key=server.key, cas=cas, crls=crls)
    dovecot = Dovecot(tls, users=[RECIPIENT])
    with running(dovecot):
        postfix = Postfix(tls, domain=DOMAIN, recipients=[RECIPIENT], lmtp_port=dovecot.lmtp_port)
        with running(postfix):
            yield Operator(postfix, dovecot)


@pytest.fixture(scope="module")
def mailbox_client(pki: TestPki, files: Path) -> Files:
    """The recipient's mailbox certificate (ORG, AUTH_CLI), its CN the MSSanté address Dovecot logs in."""
    return write(pki.organisation(RECIPIENT, usage="auth"), files, "mailbox")


@pytest.fixture(scope="module")
def package() -> Package:
    return Package.from_cda(CDA, at=dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc))


def message(package: Package) -> EmailMessage:
    """A CI-SIS message: the IHE_XDM.zip, its PDF, X-MSS-* headers; a new Message-ID each time."""
    return compose(
        sender=("Dr Pierre DIDOT", SENDER), to=[RECIPIENT], nil="DEV935997", at=dt.datetime.now(dt.timezone.utc),
        xdm=package, pdf=PDF, text="Bonjour,\nvoici le résultat du test.\n", read_receipt=True,
    )  # fmt: skip


def mailbox(
    operator: Operator,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files | None,
    *,
    external: bool = True,
    password: str | None = None,
) -> ImapMailbox:
    return ImapMailbox(
        "localhost", operator.dovecot.imap_port, store=store,
        client_certificate=(client.certificate, client.key) if client else None, username=RECIPIENT,
        external=external, password=password, revocation=crls, timeout=5,
    )  # fmt: skip


def submit(
    operator: Operator, store: TrustStore, crls: RevocationChecker, client: Files, sent: EmailMessage
) -> SendResult:
    """``sent`` submitted to Postfix with the client certificate ``client``: the result."""
    with Submission(
        "localhost", operator.postfix.submission_port, store=store,
        client_certificate=(client.certificate, client.key), revocation=crls, timeout=10,
    ) as smtp:  # fmt: skip
        return smtp.send(sent)


def wait_for(box: ImapMailbox, message_id: str, operator: Operator) -> FetchedMessage:
    """Poll the unseen messages until the one with ``message_id`` is there."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        for uid in box.unseen():
            fetched = box.fetch(uid)
            if fetched.message.message_id == message_id:
                return fetched
        if time.monotonic() > deadline:
            log = operator.postfix.log.read_text(errors="replace").splitlines()[-20:]
            pytest.fail(f"{message_id} not delivered in {DELIVERY_SECONDS:.0f} s; Postfix log:\n" + "\n".join(log))
        time.sleep(0.1)


def assert_intact(fetched: FetchedMessage, sent: EmailMessage, *, client_cn: str) -> None:
    """The message read back is the one sent: headers, X-MSS-*, attachments byte for byte, Postfix's trace."""
    original = sent.as_bytes(policy=email.policy.SMTP)
    assert fetched.raw.endswith(original)  # Postfix and Dovecot only prepended trace headers
    received = fetched.raw[: -len(original)]
    assert f'Client CN "{client_cn}"'.encode() in received
    assert b"(verified OK)" in received  # Postfix verified the client certificate against the test PKI
    assert b"using TLSv1." in received
    assert f"Delivered-To: {RECIPIENT}".encode() in received
    message = fetched.message
    assert message.message_id == sent["Message-ID"]
    assert message.subject == sent["Subject"]
    assert message.subject.startswith("XDM/1.0/DDM+")
    assert message.nil == sent[X_MSS_NIL] == "DEV935997"
    assert message.codecda == split_codes([sent[X_MSS_CODECDA]])
    assert message.codecda
    assert message.ins == sent[X_MSS_INS]
    assert [str(mailbox.address) for mailbox in message.to] == [RECIPIENT]
    attachments = [
        (part.get_filename(), part.get_content_type(), part.get_content()) for part in sent.iter_attachments()
    ]
    assert [kind for _, kind, _ in attachments] == ["application/zip", "application/pdf"]
    assert attachments[0][0] == "IHE_XDM.zip"
    assert str(attachments[1][0]).endswith(".pdf")
    assert attachments[1][2] == PDF
    assert [(part.filename, part.content_type, part.data) for part in message.attachments] == attachments
    [(part, package)] = message.packages
    assert part.data == attachments[0][2]
    assert CDA in [content for subset in package.subsets for content in subset.files.values()]
    assert not fetched.seen


# --- a message through Postfix and Dovecot -----------------------------------------------------------------


def test_submission_to_postfix_then_mailbox_from_dovecot(
    operator: Operator, package: Package, store: TrustStore, crls: RevocationChecker, client: Files,
    mailbox_client: Files,
) -> None:  # fmt: skip
    sent = message(package)
    result = submit(operator, store, crls, client, sent)
    assert result.ok, result
    assert result.accepted == (RECIPIENT,)
    assert result.recipients[0].code == 250
    with mailbox(operator, store, crls, mailbox_client) as box:
        fetched = wait_for(box, sent["Message-ID"], operator)
        assert_intact(fetched, sent, client_cn="LOGICIEL")
        box.delete(fetched.uid)
        assert fetched.uid not in box.unseen()
    assert not any(sent["Message-ID"].encode() in data for data in operator.dovecot.messages(RECIPIENT))


def entry(domain: str, dn: OperatorDn) -> str:
    return (
        f"<Domaine><Nom>{domain}</Nom><Description>{domain}</Description>"
        f"<DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>r</ResponsableContact>"
        "<SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
    )


def allowlist(mx_certificate: IssuedCertificate) -> AllowList:
    """An allow-list where the domain's operator is the one of the MX certificate."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>"
        f"{entry(DOMAIN, OperatorDn.from_name(mx_certificate.certificate.subject))}"
        "</ListeDomaines></ListeBlancheMSSante>"
    )
    return AllowList.parse(xml.encode())


def test_relay_to_postfix_port_25_then_mailbox(
    operator: Operator, pki: TestPki, mx_certificate: IssuedCertificate, package: Package, store: TrustStore,
    crls: RevocationChecker, mailbox_client: Files, files: Path,
) -> None:  # fmt: skip
    sending = write(pki.server(["relay.operateur.mssante.fr"], organisation="OPERATEUR-B"), files, "relay")
    asked: list[str] = []

    def resolver(domain: str) -> list[tuple[int, str]]:
        asked.append(domain)
        return [(10, "localhost")]

    relay = Relay(
        allowlist=allowlist(mx_certificate), store=store, client_certificate=(sending.certificate, sending.key),
        revocation=crls, resolver=resolver, port=operator.postfix.relay_port, timeout=10,
    )  # fmt: skip
    sent = message(package)
    [result] = relay.send(sent)
    assert asked == [DOMAIN]
    assert result.ok, result
    assert result.accepted == (RECIPIENT,)
    with mailbox(operator, store, crls, mailbox_client) as box:
        fetched = wait_for(box, sent["Message-ID"], operator)
        assert_intact(fetched, sent, client_cn="relay.operateur.mssante.fr")
        box.delete(fetched.uid)


# --- refusals by the real servers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "answer"),
    [("no certificate", "No client certificate presented"), ("other PKI", "Client certificate not trusted")],
)
def test_postfix_refuses_a_submission_without_a_trusted_client_certificate(
    variant: str, answer: str, operator: Operator, package: Package, foreign: TestPki, store: TrustStore,
    crls: RevocationChecker, client: Files, mailbox_client: Files, files: Path,
) -> None:  # fmt: skip
    stranger = write(foreign.organisation("LOGICIEL", usage="auth"), files, "stranger")
    certificate = None if variant == "no certificate" else (stranger.certificate, stranger.key)
    refused = message(package)
    smtp = Submission(
        "localhost", operator.postfix.submission_port, store=store, client_certificate=certificate,
        revocation=crls, timeout=10,
    )  # fmt: skip
    with pytest.raises(TransportError) as caught:
        smtp.send(refused)
    assert f"localhost:{operator.postfix.submission_port} refused EHLO after STARTTLS: 421 4.7.1" in str(caught.value)
    assert answer in str(caught.value)
    assert caught.value.report.codes == ("MSS-TRN-006",)  # the client certificate refused
    # A message sent after it with a certificate arrives; the refused one never does.
    control = message(package)
    assert submit(operator, store, crls, client, control).ok
    with mailbox(operator, store, crls, mailbox_client) as box:
        fetched = wait_for(box, control["Message-ID"], operator)
        box.delete(fetched.uid)
    assert operator.postfix.queued() == []
    assert not any(refused["Message-ID"].encode() in data for data in operator.dovecot.messages(RECIPIENT))
    assert refused["Message-ID"] not in operator.postfix.log.read_text(errors="replace")


def test_postfix_relay_listener_refuses_an_operator_of_another_pki(
    operator: Operator, mx_certificate: IssuedCertificate, foreign: TestPki, package: Package, store: TrustStore,
    crls: RevocationChecker, files: Path,
) -> None:  # fmt: skip
    stranger = write(foreign.server(["relay.autre.example"], organisation="AUTRE"), files, "stranger-relay")
    relay = Relay(
        allowlist=allowlist(mx_certificate), store=store, client_certificate=(stranger.certificate, stranger.key),
        revocation=crls, resolver=lambda domain: [(10, "localhost")], port=operator.postfix.relay_port, timeout=10,
    )  # fmt: skip
    sent = message(package)
    [result] = relay.send(sent)
    assert result.deferred == (RECIPIENT,)  # a 421 after STARTTLS: this MX could not be used now
    assert result.recipients[0].code is None
    assert "421 4.7.1" in result.recipients[0].reply
    assert "Client certificate not trusted" in result.recipients[0].reply
    assert operator.postfix.queued() == []
    assert sent["Message-ID"] not in operator.postfix.log.read_text(errors="replace")


def wait_for_log(path: Path, offset: int, expected: str) -> None:
    """Wait (2 s at most) for ``expected`` in the log written after ``offset``: the log process writes it."""
    deadline = time.monotonic() + 2.0
    while True:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        if expected in text:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{expected!r} not in the Dovecot log:\n{text}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("variant", "answer", "logged"),
    [
        (
            "no certificate",
            "Client didn't present valid SSL certificate",
            "Client didn't present valid SSL certificate",
        ),
        ("other PKI", "Client didn't present valid SSL certificate", "unable to get local issuer certificate"),
        ("revoked", "Client didn't present valid SSL certificate", "certificate revoked"),
        ("unknown mailbox", "AUTHENTICATIONFAILED", f"passwd-file(inconnu@{DOMAIN},127.0.0.1,"),
    ],
)
def test_dovecot_refuses_a_login_without_a_valid_client_certificate(
    variant: str, answer: str, logged: str, operator: Operator, pki: TestPki, foreign: TestPki,
    revoked: IssuedCertificate, store: TrustStore, crls: RevocationChecker, files: Path,
) -> None:  # fmt: skip
    certificates = {
        "no certificate": None,
        "other PKI": foreign.organisation(RECIPIENT, usage="auth"),
        "revoked": revoked,
        "unknown mailbox": pki.organisation(f"inconnu@{DOMAIN}", usage="auth"),
    }
    issued = certificates[variant]
    client = write(issued, files, variant.replace(" ", "-")) if issued is not None else None
    offset = operator.dovecot.log.stat().st_size
    with pytest.raises(TransportError, match="refused EXTERNAL") as caught:
        mailbox(operator, store, crls, client).connect()
    assert answer in str(caught.value)
    assert caught.value.report.codes == ("MSS-TRN-006",)  # the certificate refused as credentials
    wait_for_log(operator.dovecot.log, offset, logged)


def test_dovecot_refuses_login_with_a_password(
    operator: Operator, store: TrustStore, crls: RevocationChecker, mailbox_client: Files
) -> None:
    with pytest.raises(TransportError, match="refused LOGIN") as caught:
        mailbox(operator, store, crls, mailbox_client, external=False, password="any password").connect()
    assert "Unsupported authentication mechanism" in str(caught.value)
    assert caught.value.report.codes == ("MSS-TRN-011",)
