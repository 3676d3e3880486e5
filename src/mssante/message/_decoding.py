"""Decoding what a message holds: charsets, RFC 2047 encoded words, base64, text parts, file names.

The one decoder of :mod:`mssante.message`: the parser reads headers, parameters and parts with it, and the builders
of read receipts and delivery reports read the original's subject with it. Everything here is linear in its input
and tells the problem it met (a code of :mod:`~mssante.message.mime_codes`) instead of raising.
"""

from __future__ import annotations

import binascii
import codecs
import re
import unicodedata

from mssante.message import mime_codes as codes
from mssante.message._limits import SHOWN
from mssante.report import Code

__all__ = [
    "COMMENT",
    "FOLD",
    "LINE_BREAKS",
    "TEXT_PROBLEMS",
    "as_text",
    "decode_base64",
    "decode_bytes",
    "decode_words",
    "first_token",
    "latin1_octets",
    "safe_filename",
    "text_of",
]

LINE_BREAKS = re.compile("[\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""NUL and every character :meth:`str.splitlines` breaks a line at."""
FOLD = re.compile(r"\r\n|\r|\n")
COMMENT = re.compile(r"\([^()]*\)")

_REFUSED_CODECS = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"})
"""Python codecs that are no mail charset: they interpret backslashes, refuse replacement, or depend on the OS."""


def _codec(charset: str | None) -> str | None:
    """The Python codec of a MIME charset; None when it is unknown or no text charset."""
    name = (charset or "").strip().strip('"').strip().lower()
    if not name or len(name) > 64 or not name.isascii():
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(octets: bytes, charset: str) -> tuple[str, Code | None]:
    """``octets`` decoded with ``charset``; the code of the problem met, if any."""
    return _decode_with(octets, _codec(charset))


def _decode_with(octets: bytes, codec: str | None) -> tuple[str, Code | None]:
    """``octets`` decoded with the Python ``codec`` (None: unknown); the code of the problem met, if any."""
    if codec is not None:
        try:
            return octets.decode(codec), None
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
        try:
            return octets.decode(codec, "replace"), codes.UNDECODABLE_TEXT
        except (UnicodeError, LookupError, ValueError, TypeError):
            return octets.decode("utf-8", "replace"), codes.UNDECODABLE_TEXT
    return octets.decode("utf-8", "replace"), codes.UNKNOWN_CHARSET


TEXT_PROBLEMS = {
    codes.UNKNOWN_CHARSET: "the charset {charset!r} is unknown: the text is decoded as UTF-8 with replacements",
    codes.UNDECODABLE_TEXT: "the text does not decode with its charset {charset!r}: bad bytes replaced",
    codes.MISSING_CHARSET: "8-bit text without a charset: decoded as UTF-8 if valid, else Windows-1252",
}


def text_of(data: bytes, charset: str | None) -> tuple[str, Code | None]:
    """Text data decoded, line endings as ``\\n``; the code of the problem met, if any."""
    problem: Code | None = None
    if charset is not None:
        text, problem = decode_bytes(data, charset)
    elif data.isascii():
        text = data.decode("ascii")
    else:
        problem = codes.MISSING_CHARSET
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return FOLD.sub("\n", text), problem


def as_text(value: str) -> str:
    """A header string with raw 8-bit bytes (surrogate-escaped) read as UTF-8, other surrogates replaced."""
    if value.isascii():
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in value)


def latin1_octets(value: str) -> bytes:
    """The octets of an RFC 2231 value, which the standard library hands over as Latin-1 text."""
    try:
        return value.encode("latin-1", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def decode_words(value: str) -> tuple[str, list[tuple[Code, str]]]:
    """``value`` with its RFC 2047 encoded words decoded, in linear time.

    Adjacent words in the same charset are decoded together (senders split multi-byte characters),
    and the white space between adjacent words is dropped, as RFC 2047 section 6.2 says.
    """
    if "=?" not in value:
        return value, []
    pieces: list[str] = []
    problems: dict[tuple[Code, str], None] = {}  # each problem once, in order
    pending = bytearray()
    pending_charset: str | None = None
    position = 0
    found: dict[str, str | None] = {}  # charset to codec, looked up once per value

    def flush() -> None:
        if pending_charset is not None:
            key = pending_charset.lower()
            codec = found[key] if key in found else found.setdefault(key, _codec(key))
            text, problem = _decode_with(bytes(pending), codec)
            if problem is not None:
                problems[problem, f"an encoded word does not decode with charset {pending_charset[:SHOWN]!r}"] = None
            pieces.append(text)

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        charset = match[1].split("*", 1)[0]
        encoded = match[3].encode("utf-8", "surrogateescape")
        if match[2] in "Bb":
            octets, problem = decode_base64(encoded)
            if problem:
                problems[codes.BROKEN_BASE64, f"an encoded word's base64 {problem}"] = None
        else:
            octets = binascii.a2b_qp(encoded, header=True)
        adjacent = pending_charset is not None and not between.strip(" \t")
        if adjacent and pending_charset is not None and charset.lower() == pending_charset.lower():
            pending += octets
        else:
            flush()
            if not adjacent:
                pieces.append(between)
            pending = bytearray(octets)
            pending_charset = charset
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces), list(problems)


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_OTHERS = bytes(sorted(set(range(256)) - set(_B64_ALPHABET + b"=")))
_B64_PADDING = re.compile(rb"=+")


def decode_base64(raw: bytes) -> tuple[bytes, str | None]:
    """Base64 decoded as far as it goes; a description of the damage, if any."""
    compact = b"".join(raw.split())
    stripped = compact.rstrip(b"=")
    if (
        len(compact) % 4 == 0
        and len(compact) - len(stripped) <= 2
        and not stripped.translate(None, _B64_ALPHABET)  # nothing but the alphabet before the padding
    ):
        return binascii.a2b_base64(compact), None
    damage = []
    cleaned = compact.translate(None, _B64_OTHERS)
    if len(cleaned) != len(compact):
        damage.append(f"holds {len(compact) - len(cleaned)} characters outside the base64 alphabet")
    segments = [segment for segment in _B64_PADDING.split(cleaned) if segment]
    if len(segments) > 1:
        damage.append("goes on after its padding")
    decoded = []
    for segment in segments:
        usable = len(segment) - len(segment) % 4 if len(segment) % 4 == 1 else len(segment)
        if usable != len(segment):
            damage.append("ends with a truncated group")
        elif len(segment) % 4 and segment is segments[-1] and not cleaned.endswith(b"="):
            damage.append("lacks its padding")
        chunk = segment[:usable]
        decoded.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)) if chunk else b"")
    return b"".join(decoded), "; ".join(damage) or "has misplaced padding"


def first_token(value: object) -> str:
    words = COMMENT.sub(" ", as_text(str(value))).split(";", 1)[0].split()
    return words[0].lower() if words else ""


_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_filename(name: str) -> str | None:
    """The base name of ``name`` without control or bidirectional characters; None when nothing is left."""
    cleaned = "".join(
        char
        for char in name
        if char not in _BIDI and unicodedata.category(char) not in ("Cc", "Cs") and char not in "\u2028\u2029"
    )
    base, previous = re.split(r"[/\\]", cleaned)[-1], None
    while base != previous:  # until no drive letter and no outer white space is left
        previous, base = base, _DRIVE.sub("", base.strip()).strip()
    if base in ("", ".", ".."):
        return None
    return base
