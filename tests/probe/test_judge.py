"""The judgement of a server probe is pure: observations built by hand give the same checks as a live probe."""

from __future__ import annotations

import pytest

from mssante.probe import (
    Failure,
    Handshake,
    ImapDialogue,
    Role,
    ServerObservation,
    SmtpDialogue,
    SmtpReply,
    judge,
)
from mssante.report import Report

GREETING = SmtpReply(code=220, lines=("mx.example ESMTP",))
EHLO = SmtpReply(code=250, lines=("mx.example", "SIZE 10240000", "STARTTLS"))
SECURE_EHLO = SmtpReply(code=250, lines=("mx.example", "SIZE 10240000", "DSN", "AUTH XOAUTH2"))
HANDSHAKE = Handshake(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", certificate=b"der")


def _smtp(**changes: object) -> SmtpDialogue:
    seen: dict[str, object] = {
        "client": "given", "greeting": GREETING, "ehlo": EHLO, "plain_mail": SmtpReply(code=530, lines=("5.7.0",)),
        "starttls": SmtpReply(code=220, lines=("ready",)), "handshake": HANDSHAKE, "secure_ehlo": SECURE_EHLO,
    }  # fmt: skip
    seen.update(changes)
    return SmtpDialogue(**seen)  # type: ignore[arg-type]


def _observation(
    main: SmtpDialogue | ImapDialogue, role: Role = Role.SUBMISSION, **changes: object
) -> ServerObservation:
    seen: dict[str, object] = {
        "host": "mx.example", "port": 587, "role": role, "main": main,
        "old_versions": (("TLS 1.0", False), ("TLS 1.1", False)), "suites": ("ECDHE-RSA-AES128-GCM-SHA256",),
        "allowed_suites": ("ECDHE-RSA-AES128-GCM-SHA256",), "certificate": Report(),
    }  # fmt: skip
    seen.update(changes)
    return ServerObservation(**seen)  # type: ignore[arg-type]


def test_a_good_submission_server() -> None:
    report = judge(_observation(_smtp()))
    assert report.ok, str(report)
    assert report.check("authentication").codes == ("MSS-PRB-019",)


@pytest.mark.parametrize(
    ("changes", "check", "code"),
    [
        ({"greeting": SmtpReply(code=554, lines=("mx.example no service",))}, "greeting", "MSS-PRB-002"),
        ({"ehlo": SmtpReply(code=502, lines=("no",))}, "greeting", "MSS-PRB-004"),
        ({"starttls": SmtpReply(code=454, lines=("TLS not available",))}, "starttls-offered", "MSS-PRB-005"),
        ({"plain_mail": SmtpReply(code=250, lines=("ok",))}, "starttls-required", "MSS-PRB-006"),
        ({"handshake": None, "secure_ehlo": None, "failure": Failure(step="tls", kind="tls", detail="NO_CIPHERS")},
         "tls-handshake", "MSS-PRB-008"),
        ({"handshake": Handshake(version="TLSv1.3", cipher="x")}, "server-certificate", "MSS-PRB-012"),
    ],
)  # fmt: skip
def test_what_a_dialogue_shows(changes: dict[str, object], check: str, code: str) -> None:
    main = _smtp(**changes)
    certificate = None if "handshake" in changes else Report()
    report = judge(_observation(main, certificate=certificate))
    assert code in report.check(check).codes, str(report)
    assert not report.ok


def test_starttls_refused_is_no_handshake() -> None:
    main = _smtp(starttls=SmtpReply(code=454, lines=("4.7.0 TLS not available",)), handshake=None, secure_ehlo=None)
    report = judge(_observation(main, certificate=None))
    assert [check.name for check in report.checks] == [
        "greeting", "starttls-offered", "starttls-required", "size", "dsn", "authentication",
    ]  # fmt: skip
    assert report.check("starttls-offered").codes == ("MSS-PRB-005",)


def test_a_client_certificate_refused() -> None:
    failure = Failure(step="secure-ehlo", kind="tls", detail="TLSV13_ALERT_CERTIFICATE_REQUIRED")
    report = judge(_observation(_smtp(secure_ehlo=None, failure=failure), role=Role.MX))
    assert report.check("tls-handshake").codes[0] == "MSS-PRB-023"


def test_versions_not_observed_are_said() -> None:
    report = judge(_observation(_smtp(), old_versions=(("TLS 1.0", None),), suites=None))
    assert report.ok
    assert report.check("tls-versions").codes == ("MSS-PRB-020",)
    assert report.check("cipher-suites").codes == ("MSS-PRB-020",)


def test_an_unreachable_server_is_one_check() -> None:
    main = SmtpDialogue(failure=Failure(step="connect", kind="unreachable", detail="refused"))
    report = judge(_observation(main))
    assert [check.to_dict() for check in report.checks] == [
        {"name": "connection", "ok": False, "codes": ["MSS-PRB-001"]}
    ]
    assert report.to_dict()["ok"] is False
    assert "NOT OK connection" in str(report)
    with pytest.raises(KeyError):
        report.check("greeting")


def test_an_imap_server_without_mechanisms() -> None:
    main = ImapDialogue(
        greeting="* OK ready", capabilities=("IMAP4REV1", "STARTTLS", "LOGINDISABLED"), starttls="OK go",
        handshake=HANDSHAKE, secure_capabilities=("IMAP4REV1",),
    )  # fmt: skip
    report = judge(_observation(main, role=Role.IMAP, port=143))
    assert report.ok
    assert report.check("authentication").codes == ("MSS-PRB-019", "MSS-PRB-018")


@pytest.mark.parametrize(("port", "role"), [(25, Role.MX), (143, Role.IMAP), (993, Role.IMAP), (587, Role.SUBMISSION)])
def test_the_role_of_a_port(port: int, role: Role) -> None:
    assert Role.of_port(port) is role
