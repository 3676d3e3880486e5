"""``probe_server``: the conformance probe of a live SMTP (MX, submission) or IMAP endpoint.

A handful of short connections, each held to its own deadline and all to ``max_duration``: the main dialogue
(with the client certificate given), TLS 1.0 and 1.1 handshakes, the TLS 1.2 suites the server accepts (found by
elimination: each connection offers every suite not yet seen accepted), and for an MX a client without a
certificate and one with a certificate outside IGC Santé, each up to MAIL FROM. Nothing is delivered unless asked:
with ``send_test_to``, one test message to a mailbox of the operator's own (:mod:`mssante.probe._sending`).
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mssante._files import read_regular
from mssante.errors import InvalidInput, MssanteError
from mssante.net import TLS12_CIPHERS
from mssante.pki import (
    MAX_INPUT_BYTES,
    CrlFetcher,
    Purpose,
    RevocationChecker,
    RevocationMode,
    TrustStore,
    load_certificate,
    verify,
)
from mssante.probe import codes
from mssante.probe._dialogues import imap_dialogue, smtp_dialogue
from mssante.probe._judge import judge, tls_started
from mssante.probe._observations import ImapDialogue, Role, ServerObservation, SmtpDialogue
from mssante.probe._result import ProbeCheck, ProbeReport
from mssante.probe._revocation import fetched_checker
from mssante.probe._sending import send_test_message, sending_refusal
from mssante.report import Finding, Report
from mssante.trustspace import AllowList

__all__ = ["DEFAULT_MAX_DURATION", "DEFAULT_TIMEOUT", "judge_certificate", "probe_context", "probe_server"]

DEFAULT_TIMEOUT = 10.0
"""Seconds one connection of a probe may last, from TCP to QUIT."""
DEFAULT_MAX_DURATION = 120.0
"""Seconds a whole probe may last."""

_Path = str | os.PathLike[str]
_Identity = tuple[_Path, _Path]
_OLD_VERSIONS = (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1))
_ANY_SUITE = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
_NEEDS_CREDENTIALS = ("auth-psk", "auth-srp")
_BEFORE_SENDING = ("starttls-offered", "tls-handshake", "server-certificate")
"""The checks that must pass before the test message is sent: its session would be refused otherwise."""


def probe_server(
    host: str,
    port: int,
    *,
    store: TrustStore,
    at: dt.datetime,
    role: Role | str | None = None,
    client_certificate: _Identity | None = None,
    outsider_certificate: _Identity | None = None,
    revocation: RevocationChecker | RevocationMode | str | CrlFetcher = RevocationMode.HARD,
    revocation_mode: RevocationMode | str = RevocationMode.HARD,
    allowed_suites: Sequence[str] = TLS12_CIPHERS,
    timeout: float = DEFAULT_TIMEOUT,
    max_duration: float = DEFAULT_MAX_DURATION,
    send_test_to: str | None = None,
    allow_list: AllowList | None = None,
    username: str | None = None,
    token: Callable[[], str] | None = None,
    external: bool = False,
) -> ProbeReport:
    """Probe ``host:port`` and judge what it shows: a :class:`ProbeReport` of named checks.

    ``role`` is ``mx``, ``submission`` or ``imap`` (by default from the port: 25 an MX, 143 and 993 IMAP, any
    other submission). ``client_certificate`` (certificate and key PEM files) is an IGC Santé certificate of the
    caller's, presented in the main dialogue and the TLS checks; an MX that requires one cannot otherwise show its
    EHLO after STARTTLS nor its suites. ``outsider_certificate`` is the certificate an MX must refuse (by default
    one made on the spot, self-signed). The server certificate is judged by :func:`mssante.pki.verify` for
    ``host`` at ``at`` against ``store``, its revocation status by ``revocation``: a :class:`~mssante.pki.CrlFetcher`
    fetches the CRLs of its path and the answers of the OCSP responders its certificates name, judged in
    ``revocation_mode``. ``allowed_suites`` is the TLS 1.2 list the server's suites are judged against. Every
    connection lasts ``timeout`` seconds at most, the whole probe ``max_duration``.

    Nothing is delivered unless ``send_test_to`` names a mailbox of the operator's own: then, once TLS is up with
    the client certificate and the server certificate passed, one test message goes to it (check ``test-message``),
    sent by :class:`mssante.transport.Submission`. For an MX its domain must be listed on ``allow_list`` with the
    DN of ``client_certificate``; a submission probe logs in as ``username`` (a ``token`` for XOAUTH2, or
    ``external`` with the client certificate) and mails that mailbox only. Any other address raises
    :class:`~mssante.errors.InvalidInput` before a connection is opened.
    """
    if not (timeout > 0 and max_duration > 0):
        raise ValueError("timeout and max_duration are numbers of seconds above 0")
    role = Role(role) if role is not None else Role.of_port(port)
    if send_test_to is not None:
        authenticated = token is not None or (external and client_certificate is not None)
        _may_send(send_test_to, role, client_certificate, allow_list, username, authenticated=authenticated)
    end = time.monotonic() + max_duration

    def deadline() -> float:
        return min(time.monotonic() + timeout, end)

    try:
        main_context = probe_context(ciphers=":".join(allowed_suites), identity=client_certificate)
    except ssl.SSLError as error:  # no suite of the list known, or a certificate and key that do not go together
        raise InvalidInput(
            f"the probe cannot use its TLS settings: {getattr(error, 'reason', None) or error}"
        ) from None
    if role is Role.IMAP:
        main: SmtpDialogue | ImapDialogue = imap_dialogue(
            host, port, deadline=deadline(), context=main_context, client="given" if client_certificate else "none"
        )
    else:
        anonymous_main = role is Role.MX and client_certificate is None
        main = smtp_dialogue(
            host, port, deadline=deadline(), context=main_context, client="given" if client_certificate else "none",
            plain_mail=True, secure_mail=anonymous_main,
        )  # fmt: skip
    if not tls_started(main):  # no TLS to look at
        return judge(ServerObservation(host=host, port=port, role=role, main=main))

    def reach(context: ssl.SSLContext) -> tuple[bool | None, str]:
        """Whether a handshake with ``context`` completes (None: the dialogue ended before it), and the suite."""
        if role is Role.IMAP:
            seen: SmtpDialogue | ImapDialogue = imap_dialogue(host, port, deadline=deadline(), context=context)
        else:
            seen = smtp_dialogue(host, port, deadline=deadline(), context=context)
        if seen.handshake is not None:
            return True, seen.handshake.cipher
        if seen.failure is not None and seen.failure.step == "tls":
            return False, ""
        return None, ""

    blind = client_certificate is None and main.handshake is not None and main.failure is not None
    old_versions = tuple((label, None if blind else _old_version(reach, version, client_certificate))
                         for label, version in _OLD_VERSIONS)  # fmt: skip
    suites = None if blind or main.handshake is None else _suites(reach, client_certificate)
    anonymous = outsider = None
    if role is Role.MX and isinstance(main, SmtpDialogue):
        anonymous = main if client_certificate is None else _mx_client(host, port, deadline(), None, "none")
        with _outsider(outsider_certificate) as identity:
            outsider = _mx_client(host, port, deadline(), identity, "outsider")
    certificate = None
    if main.handshake is not None and main.handshake.certificate:
        certificate = judge_certificate(
            main.handshake.certificate, host, store=store, at=at, revocation=revocation,
            revocation_mode=revocation_mode,
        )  # fmt: skip
    observation = ServerObservation(
        host=host, port=port, role=role, main=main, anonymous=anonymous, outsider=outsider, old_versions=old_versions,
        suites=suites, allowed_suites=tuple(allowed_suites), certificate=certificate,
    )  # fmt: skip
    report = judge(observation)
    if send_test_to is None or not isinstance(main, SmtpDialogue):
        return report
    unready = _unready(main, report)
    if unready is not None:
        check = ProbeCheck(name="test-message", findings=[codes.NOT_OBSERVED(f"not sent to {send_test_to}: {unready}")])
    else:
        check = send_test_message(
            host, port, send_test_to, role=role, store=store, at=at, revocation=revocation,
            client_certificate=None if client_certificate is None else _strings(client_certificate),
            username=username, token=token, external=external, timeout=timeout,
            max_duration=max(min(timeout, end - time.monotonic()), 0.001),
        )  # fmt: skip
    return attrs.evolve(report, checks=[*report.checks, check])


def _may_send(
    address: str,
    role: Role,
    client_certificate: _Identity | None,
    allow_list: AllowList | None,
    username: str | None,
    *,
    authenticated: bool,
) -> None:
    """Raise :class:`InvalidInput` when the test message may not go to ``address``."""
    client_subject = None
    if client_certificate is not None:
        pem = read_regular(client_certificate[0], limit=MAX_INPUT_BYTES)
        client_subject = load_certificate(pem, what=os.fspath(client_certificate[0])).subject
    refusal = sending_refusal(
        address, role=role, client_subject=client_subject, allow_list=allow_list, username=username,
        authenticated=authenticated,
    )  # fmt: skip
    if refusal is not None:
        raise InvalidInput(f"no test message to {address}: {refusal}")


def _unready(main: SmtpDialogue, report: ProbeReport) -> str | None:
    """Why the test message is not sent (None: it is): TLS not up with the client certificate, or a check failed
    that the message's session would stumble on."""
    if main.handshake is None or main.secure_ehlo is None or not main.secure_ehlo.positive:
        return "the EHLO after STARTTLS was not reached"
    failing = [check.name for check in report.checks if not check.ok and check.name in _BEFORE_SENDING]
    if failing:
        return f"the check(s) {', '.join(failing)} failed"
    return None


def _strings(identity: _Identity) -> tuple[str, str]:
    return os.fspath(identity[0]), os.fspath(identity[1])


def probe_context(
    *,
    ciphers: str,
    identity: _Identity | None,
    version: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A client context that accepts any server certificate (it is judged after, by :func:`mssante.pki.verify`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.options |= ssl.OP_NO_COMPRESSION
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: the probe asks for them on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version or ssl.TLSVersion.TLSv1_2
        if version is not None or maximum is not None:
            context.maximum_version = maximum or version or ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers(ciphers)
    if identity is not None:
        context.load_cert_chain(*identity)
    return context


Reach = Callable[[ssl.SSLContext], tuple[bool | None, str]]


def _old_version(reach: Reach, version: ssl.TLSVersion, identity: _Identity | None) -> bool | None:
    try:
        context = probe_context(ciphers=_ANY_SUITE, identity=identity, version=version)
    except (ssl.SSLError, ValueError):  # this OpenSSL cannot speak it at all
        return None
    return reach(context)[0]


def _candidates() -> list[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers(_ANY_SUITE)
    return [
        suite["name"]
        for suite in context.get_ciphers()
        if suite["protocol"] != "TLSv1.3" and suite.get("auth") not in _NEEDS_CREDENTIALS
    ]


def _suites(reach: Reach, identity: _Identity | None) -> tuple[str, ...] | None:
    """The TLS 1.2 suites the server accepts: offer all those not yet accepted until no handshake completes."""
    remaining = _candidates()
    accepted: list[str] = []
    while remaining:
        try:
            context = probe_context(
                ciphers=":".join(remaining) + ":@SECLEVEL=0", identity=identity, version=ssl.TLSVersion.TLSv1_2
            )
        except ssl.SSLError:  # pragma: no cover - none of them can be offered
            break
        completed, suite = reach(context)
        if completed is None:
            return None if not accepted else tuple(accepted)
        if not completed or suite not in remaining:
            break
        accepted.append(suite)
        remaining.remove(suite)
    return tuple(accepted)


def _mx_client(host: str, port: int, deadline: float, identity: _Identity | None, client: str) -> SmtpDialogue:
    context = probe_context(ciphers=_ANY_SUITE, identity=identity)
    return smtp_dialogue(host, port, deadline=deadline, context=context, client=client, secure_mail=True)


@contextmanager
def _outsider(given: _Identity | None) -> Iterator[_Identity]:
    """The certificate outside IGC Santé an MX must refuse: the one given, or a self-signed one made now."""
    if given is not None:
        yield given
        return
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outside IGC Sante (mssante probe)")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mssante-probe-") as directory:
        paths = (os.path.join(directory, "outsider.pem"), os.path.join(directory, "outsider.key"))
        with open(paths[0], "wb") as file:
            file.write(certificate.public_bytes(serialization.Encoding.PEM))
        descriptor = os.open(paths[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        yield paths


def judge_certificate(
    der: bytes,
    host: str,
    *,
    store: TrustStore,
    at: dt.datetime,
    revocation: RevocationChecker | RevocationMode | str | CrlFetcher,
    revocation_mode: RevocationMode | str = RevocationMode.HARD,
) -> Report:
    """The server certificate judged by :func:`mssante.pki.verify`; with a fetcher, the CRLs of its path and the
    answers of the OCSP responders its certificates name are fetched first, and judged in ``revocation_mode``."""
    notes: list[Finding] = []
    try:
        certificate = x509.load_der_x509_certificate(der)
        checker: RevocationChecker | RevocationMode | str
        if isinstance(revocation, CrlFetcher):
            checker, notes = fetched_checker(revocation, certificate, store=store, at=at, mode=revocation_mode)
        else:
            checker = revocation
        report = verify(certificate, purpose=Purpose.SERVER, store=store, at=at, host=host, revocation=checker).report
    except MssanteError as error:
        found = getattr(error, "report", None)
        findings = list(found.findings) if isinstance(found, Report) else []
        return Report(findings=findings or [codes.MALFORMED(f"the server certificate cannot be read: {error}")])
    except ValueError as error:
        return Report(findings=[codes.MALFORMED(f"the server certificate cannot be read: {error}")])
    return Report(findings=[*report.findings, *notes])
