"""The dialogues a server probe holds: SMTP up to MAIL FROM at most (then RSET and QUIT), IMAP up to CAPABILITY
after STARTTLS (then LOGOUT). Nothing is sent beyond the envelope: no RCPT, no DATA, no login (the test message a
probe sends when asked goes through :class:`mssante.transport.Submission`, never through these dialogues).

Each dialogue ends at its deadline; what it saw up to its end, and where and why it ended, is its value.
"""

from __future__ import annotations

import ssl
from typing import Any

from mssante.probe._observations import Failure, Handshake, ImapDialogue, SmtpDialogue, SmtpReply
from mssante.probe._wire import MAX_LINES, Reply, Wire, WireFailure

__all__ = ["imap_dialogue", "smtp_dialogue"]


def _reply(reply: Reply) -> SmtpReply:
    return SmtpReply(code=reply.code, lines=reply.lines)


def _handshake(tls: ssl.SSLSocket) -> Handshake:
    cipher = tls.cipher()
    return Handshake(
        version=tls.version() or "",
        cipher=cipher[0] if cipher else "",
        certificate=tls.getpeercert(binary_form=True),
    )


def _client_name(wire: Wire) -> str:
    """This side's address as an EHLO address literal (RFC 5321 §4.1.3)."""
    try:
        address = wire.local_address
    except OSError:  # pragma: no cover - a socket without an address
        return "[127.0.0.1]"
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def smtp_dialogue(
    host: str,
    port: int,
    *,
    deadline: float,
    context: ssl.SSLContext | None,
    client: str = "none",
    plain_mail: bool = False,
    secure_mail: bool = False,
    address: str | None = None,
) -> SmtpDialogue:
    """Greeting, EHLO, (MAIL FROM:<> and RSET), STARTTLS, the handshake with ``context``, EHLO, (MAIL FROM:<> and
    RSET), QUIT; stopped where the server stops it. Without ``context``, it ends at the answer to STARTTLS. The
    connection goes to ``address`` when given (an MX's address resolved elsewhere), ``host`` naming it for TLS."""
    seen: dict[str, Any] = {"client": client}
    step = "connect"
    wire: Wire | None = None
    try:
        wire = Wire(host, port, deadline=deadline, address=address)
        step = "greeting"
        seen["greeting"] = _reply(wire.reply())
        if seen["greeting"].code != 220:
            return SmtpDialogue(**seen)
        step = "ehlo"
        name = _client_name(wire)
        seen["ehlo"] = ehlo = _reply(wire.command(f"EHLO {name}"))
        if not ehlo.positive:
            return SmtpDialogue(**seen)
        if plain_mail:
            step = "plain-mail"
            seen["plain_mail"] = _envelope(wire)
        if "STARTTLS" not in ehlo.keywords:
            return SmtpDialogue(**seen)
        step = "starttls"
        seen["starttls"] = _reply(wire.command("STARTTLS"))
        if seen["starttls"].code != 220 or context is None:
            return SmtpDialogue(**seen)
        step = "tls"
        seen["handshake"] = _handshake(wire.starttls(context, host))
        step = "secure-ehlo"
        seen["secure_ehlo"] = _reply(wire.command(f"EHLO {name}"))
        if secure_mail and seen["secure_ehlo"].positive:
            step = "secure-mail"
            seen["secure_mail"] = _envelope(wire)
        _quit(wire, "QUIT")
    except WireFailure as failure:
        seen["failure"] = Failure(step=step, kind=failure.kind, detail=failure.detail)
    finally:
        if wire is not None:
            wire.close()
    return SmtpDialogue(**seen)


def _envelope(wire: Wire) -> SmtpReply:
    """``MAIL FROM:<>`` (the null reverse path: nothing can bounce to it), then RSET when it was accepted."""
    answer = _reply(wire.command("MAIL FROM:<>"))
    if answer.positive:
        wire.command("RSET")
    return answer


def _quit(wire: Wire, command: str) -> None:
    """Say goodbye; what the server answers, or not, changes nothing."""
    try:
        wire.send(command.encode("ascii") + b"\r\n")
        wire.readline()
    except WireFailure:
        pass


def _imap_command(wire: Wire, tag: str, command: str) -> tuple[list[str], str]:
    """Send ``<tag> <command>``; the untagged lines and the tagged answer's text (``OK ...``)."""
    wire.send(f"{tag} {command}\r\n".encode("ascii"))
    untagged: list[str] = []
    for _ in range(MAX_LINES):
        line = wire.readline()
        if line.startswith(f"{tag} "):
            return untagged, line[len(tag) + 1 :]
        untagged.append(line)
    raise WireFailure("malformed", f"more than {MAX_LINES} lines before the answer to {command}")


def _capabilities(lines: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "*" and words[1].upper() == "CAPABILITY":
            found += [word.upper() for word in words[2:]]
    return tuple(found)


def imap_dialogue(
    host: str, port: int, *, deadline: float, context: ssl.SSLContext | None, client: str = "none"
) -> ImapDialogue:
    """Greeting, CAPABILITY, STARTTLS, the handshake with ``context``, CAPABILITY, LOGOUT; never a login."""
    seen: dict[str, Any] = {"client": client}
    step = "connect"
    wire: Wire | None = None
    try:
        wire = Wire(host, port, deadline=deadline)
        step = "greeting"
        seen["greeting"] = greeting = wire.readline()
        if not greeting.upper().startswith("* OK"):
            return ImapDialogue(**seen)
        step = "capability"
        lines, _ = _imap_command(wire, "p1", "CAPABILITY")
        seen["capabilities"] = capabilities = _capabilities(lines)
        if "STARTTLS" not in capabilities:
            _quit(wire, "p9 LOGOUT")
            return ImapDialogue(**seen)
        step = "starttls"
        _, seen["starttls"] = _imap_command(wire, "p2", "STARTTLS")
        if not seen["starttls"].upper().startswith("OK") or context is None:
            return ImapDialogue(**seen)
        step = "tls"
        seen["handshake"] = _handshake(wire.starttls(context, host))
        step = "secure-capability"
        lines, _ = _imap_command(wire, "p3", "CAPABILITY")
        seen["secure_capabilities"] = _capabilities(lines)
        _quit(wire, "p9 LOGOUT")
    except WireFailure as failure:
        seen["failure"] = Failure(step=step, kind=failure.kind, detail=failure.detail)
    finally:
        if wire is not None:
            wire.close()
    return ImapDialogue(**seen)
