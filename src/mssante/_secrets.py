"""Secrets kept out of what the SDK says: an API key, a password or a bearer token in an error, a log line or a URL."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

__all__ = ["REDACTED", "scrub", "scrub_bytes"]

REDACTED = "[secret]"
"""What a secret becomes in what the SDK says."""

_BEARER = r"(?i)\b(bearer)(?:\s+|%20|\+)[A-Za-z0-9\-._~+/%]+=*"
_BEARER_TEXT, _BEARER_BYTES = re.compile(_BEARER), re.compile(_BEARER.encode())
_SHORTEST_CUT = 6


def _cut(text: str, secret: str) -> str:
    """``text`` without the start of ``secret`` it ends with (a server's text cut in the middle of the secret)."""
    for size in range(min(len(secret) - 1, len(text)), min(_SHORTEST_CUT, len(secret)) - 1, -1):
        if size > 0 and text.endswith(secret[:size]):
            return text[:-size] + REDACTED
    return text


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` (what a server said, a URL, a message) without ``secrets`` nor bearer tokens.

    A secret is found as written, percent-encoded (the text is then shown decoded), or cut short at the end of the
    text (a server's message cut by a length limit); each becomes :data:`REDACTED`. So does any ``Bearer`` token.
    """
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        if "%" in text:
            decoded = urllib.parse.unquote(text)
            if secret in decoded:
                text = decoded.replace(secret, REDACTED)
        text = _cut(text, secret)
    return _BEARER_TEXT.sub(rf"\1 {REDACTED}", text)


def scrub_bytes(body: bytes, secrets: Iterable[str]) -> bytes:
    """``body`` (an answer, before it is read) without ``secrets`` as written or percent-encoded, nor bearer tokens.

    Done before a body is parsed and its text cut to length, so that no part of a secret survives the cut.
    """
    for secret in secrets:
        for form in {secret, urllib.parse.quote(secret, safe=""), secret.replace("/", "\\/")}:
            if form:
                body = body.replace(form.encode("utf-8", "surrogatepass"), REDACTED.encode())
    return _BEARER_BYTES.sub(rb"\1 " + REDACTED.encode(), body)
