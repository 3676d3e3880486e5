"""The judgement of a server probe: observations in, named checks with findings out. No I/O.

Each check names one question of the qualification (is STARTTLS required, which TLS versions and suites, is a
client without an IGC Santé certificate refused before MAIL FROM...). A check that could not be made says so
(``MSS-PRB-020``, information) rather than passing in silence.
"""

from __future__ import annotations

from collections.abc import Iterator

from mssante.probe import codes
from mssante.probe._observations import (
    Failure,
    Handshake,
    ImapDialogue,
    Role,
    ServerObservation,
    SmtpDialogue,
)
from mssante.probe._result import ProbeCheck, ProbeReport
from mssante.report import Finding

__all__ = ["failed", "judge", "tls_started"]

_MECHANISMS = ("XOAUTH2", "EXTERNAL", "PLAIN", "OAUTHBEARER")
_PLAIN_MECHANISMS = ("PLAIN", "LOGIN")
_SECURE_STEPS = ("secure-ehlo", "secure-mail", "secure-capability")
_BEFORE_TLS = ("connect", "greeting", "ehlo", "starttls")


def judge(observation: ServerObservation) -> ProbeReport:
    """The checks of an SMTP (MX, submission) or IMAP endpoint, from what a probe saw of it."""
    subject = f"{observation.role.value} {observation.host}:{observation.port}"
    main = observation.main
    if main.failure is not None and main.failure.step == "connect":
        return ProbeReport(subject=subject, checks=[ProbeCheck(name="connection", findings=[failed(main.failure)])])
    checks = list(_imap(main)) if isinstance(main, ImapDialogue) else list(_smtp(observation, main))
    checks += _tls(observation, main)
    if isinstance(main, SmtpDialogue):
        checks += _smtp_after_tls(observation, main)
    elif main.secure_capabilities is not None:
        mechanisms = [item[5:] for item in main.secure_capabilities if item.startswith("AUTH=")]
        checks.append(ProbeCheck(name="authentication", findings=_mechanisms(mechanisms)))
    return ProbeReport(subject=subject, checks=checks)


def failed(failure: Failure) -> Finding:
    """The finding a dialogue's failure is."""
    said = f"{failure.step}: {failure.detail}"
    if failure.kind == "unreachable":
        return codes.UNREACHABLE(said)
    if failure.kind == "deadline":
        return codes.DEADLINE(said)
    if failure.kind == "tls":
        return codes.TLS_FAILED(said)
    if failure.kind == "closed" and failure.step == "greeting":
        return codes.NO_GREETING(said)
    return codes.MALFORMED(said)


def _failure_at(dialogue: SmtpDialogue | ImapDialogue, *steps: str) -> list[Finding]:
    failure = dialogue.failure
    return [failed(failure)] if failure is not None and failure.step in steps else []


def _smtp(observation: ServerObservation, main: SmtpDialogue) -> Iterator[ProbeCheck]:
    greeting = _failure_at(main, "greeting", "ehlo")
    if main.greeting is not None and main.greeting.code != 220:
        greeting.append(codes.NO_GREETING(f"the greeting is {main.greeting}"))
    if main.ehlo is not None and not main.ehlo.positive:
        greeting.append(codes.EHLO_REFUSED(f"EHLO answered {main.ehlo}"))
    elif main.greeting is not None and main.ehlo is not None and main.greeting.host != main.ehlo.host:
        greeting.append(codes.NAMES_DIFFER(f"the greeting names {main.greeting.host!r}, EHLO {main.ehlo.host!r}"))
    yield ProbeCheck(name="greeting", findings=greeting)
    if main.ehlo is None or not main.ehlo.positive:
        return
    offered = _failure_at(main, "starttls")
    if "STARTTLS" not in main.ehlo.keywords:
        offered.append(codes.NO_STARTTLS("EHLO does not list STARTTLS"))
    elif main.starttls is not None and main.starttls.code != 220:
        offered.append(codes.NO_STARTTLS(f"STARTTLS answered {main.starttls}"))
    yield ProbeCheck(name="starttls-offered", findings=offered)
    required = _failure_at(main, "plain-mail")
    if main.plain_mail is not None and main.plain_mail.positive:
        required.append(codes.PLAIN_MAIL_ACCEPTED(f"MAIL FROM:<> before STARTTLS answered {main.plain_mail}"))
    if "AUTH" in main.ehlo.keywords:
        required.append(codes.PLAIN_AUTH_OFFERED(f"EHLO before STARTTLS lists AUTH {main.ehlo.keywords['AUTH']}"))
    yield ProbeCheck(name="starttls-required", findings=required)


def _imap(main: ImapDialogue) -> Iterator[ProbeCheck]:
    greeting = _failure_at(main, "greeting", "capability")
    if main.greeting is not None and not main.greeting.upper().startswith("* OK"):
        greeting.append(codes.NO_GREETING(f"the greeting is {main.greeting[:120]!r}"))
    yield ProbeCheck(name="greeting", findings=greeting)
    capabilities = main.capabilities
    if capabilities is None:
        return
    offered = _failure_at(main, "starttls")
    if "STARTTLS" not in capabilities:
        offered.append(codes.NO_STARTTLS("CAPABILITY does not list STARTTLS"))
    elif main.starttls is not None and not main.starttls.upper().startswith("OK"):
        offered.append(codes.NO_STARTTLS(f"STARTTLS answered {main.starttls[:120]!r}"))
    yield ProbeCheck(name="starttls-offered", findings=offered)
    disabled: list[Finding] = []
    if "LOGINDISABLED" not in capabilities:
        disabled.append(codes.NO_LOGINDISABLED("CAPABILITY before STARTTLS does not list LOGINDISABLED"))
    plain = [item for item in capabilities if item in {f"AUTH={name}" for name in _PLAIN_MECHANISMS}]
    if plain:
        disabled.append(codes.PLAIN_AUTH_OFFERED(f"CAPABILITY before STARTTLS lists {' '.join(plain)}"))
    yield ProbeCheck(name="login-disabled", findings=disabled)


def _refused_for_certificate(dialogue: SmtpDialogue | ImapDialogue) -> bool:
    """Whether the dialogue ended, once TLS was asked, as a server that requires a client certificate ends it."""
    failure = dialogue.failure
    if failure is None or failure.kind not in ("tls", "closed"):
        return False
    return failure.step in _SECURE_STEPS or (failure.step == "tls" and "CERTIFICATE" in failure.detail.upper())


def tls_started(main: SmtpDialogue | ImapDialogue) -> bool:
    """Whether the server accepted STARTTLS: what follows is a TLS handshake."""
    if isinstance(main, ImapDialogue):
        return main.starttls is not None and main.starttls.upper().startswith("OK")
    return main.starttls is not None and main.starttls.code == 220


def _tls(observation: ServerObservation, main: SmtpDialogue | ImapDialogue) -> Iterator[ProbeCheck]:
    if not tls_started(main):
        return
    handshake = main.handshake
    findings: list[Finding] = []
    anonymous_refused = main.client == "none" and _refused_for_certificate(main)
    if main.client != "none" and _refused_for_certificate(main):
        assert main.failure is not None
        findings.append(codes.CLIENT_REFUSED(f"{main.failure.step}: {main.failure.detail}"))
    elif not anonymous_refused:
        findings += _failure_at(main, "tls", *_SECURE_STEPS)
    if handshake is not None:
        findings.append(codes.SUITES_ACCEPTED(f"negotiated {handshake.version} {handshake.cipher}"))
    yield ProbeCheck(name="tls-handshake", findings=findings)
    if handshake is None and not anonymous_refused:
        return
    yield ProbeCheck(name="tls-versions", findings=_versions(observation))
    yield ProbeCheck(name="cipher-suites", findings=_suites(observation))
    yield ProbeCheck(name="server-certificate", findings=_certificate(observation, handshake))


def _versions(observation: ServerObservation) -> list[Finding]:
    findings: list[Finding] = []
    for version, accepted in observation.old_versions:
        if accepted:
            findings.append(codes.OLD_TLS_ACCEPTED(f"a {version} handshake completed"))
        elif accepted is None:
            findings.append(codes.NOT_OBSERVED(f"{version}: the handshake could not be tried"))
    return findings


def _suites(observation: ServerObservation) -> list[Finding]:
    if observation.suites is None:
        return [codes.NOT_OBSERVED("the TLS 1.2 suites could not be tried (give the client certificate)")]
    allowed = set(observation.allowed_suites)
    findings = [codes.SUITE_NOT_ALLOWED(f"TLS 1.2 {suite}") for suite in observation.suites if suite not in allowed]
    accepted = ", ".join(observation.suites) or "none"
    findings.append(codes.SUITES_ACCEPTED(f"TLS 1.2 suites accepted: {accepted}"))
    return findings


def _certificate(observation: ServerObservation, handshake: Handshake | None) -> list[Finding]:
    if handshake is None:
        return [codes.NOT_OBSERVED("no handshake completed: the certificate was not seen")]
    if observation.certificate is None:
        return [codes.NO_SERVER_CERTIFICATE(f"{observation.host} presented no certificate")]
    return list(observation.certificate.findings)


def _smtp_after_tls(observation: ServerObservation, main: SmtpDialogue) -> Iterator[ProbeCheck]:
    if main.ehlo is None or "STARTTLS" not in main.ehlo.keywords:
        return
    if observation.role is Role.MX:
        yield ProbeCheck(name="client-certificate-required", findings=_client(observation.anonymous, outsider=False))
        yield ProbeCheck(name="client-certificate-trusted", findings=_client(observation.outsider, outsider=True))
    secure = main.secure_ehlo
    if secure is None or not secure.positive:
        missing = codes.NOT_OBSERVED("the EHLO after STARTTLS was not reached" + _hint(observation, main))
        names = ["size", "dsn"] + (["authentication"] if observation.role is Role.SUBMISSION else [])
        yield from (ProbeCheck(name=name, findings=[missing]) for name in names)
        return
    keywords = secure.keywords
    yield ProbeCheck(name="size", findings=[] if "SIZE" in keywords else [codes.NO_SIZE()])
    yield ProbeCheck(name="dsn", findings=[] if "DSN" in keywords else [codes.NO_DSN()])
    if observation.role is Role.SUBMISSION:
        yield ProbeCheck(name="authentication", findings=_mechanisms(keywords.get("AUTH", "").upper().split()))


def _hint(observation: ServerObservation, main: SmtpDialogue) -> str:
    if main.client == "none" and _refused_for_certificate(main):
        return ": the server requires a client certificate; give --cert and --key to see it"
    return ""


def _client(dialogue: SmtpDialogue | None, *, outsider: bool) -> list[Finding]:
    who = "a certificate outside IGC Santé" if outsider else "no certificate"
    early = dialogue is not None and dialogue.failure is not None and dialogue.failure.step in _BEFORE_TLS
    if dialogue is None or early:
        return [codes.NOT_OBSERVED(f"a client with {who} could not be tried")]
    mail = dialogue.secure_mail
    if mail is not None and mail.positive:
        code = codes.OUTSIDER_CLIENT_ACCEPTED if outsider else codes.ANONYMOUS_CLIENT_ACCEPTED
        return [code(f"with {who}, MAIL FROM:<> after STARTTLS answered {mail}")]
    return []


def _mechanisms(offered: list[str]) -> list[Finding]:
    findings = [codes.MECHANISMS(f"AUTH {' '.join(offered) or '(none)'}")]
    if not any(name in offered for name in _MECHANISMS):
        findings.append(codes.NO_MECHANISM(f"AUTH {' '.join(offered) or '(none)'}"))
    return findings
