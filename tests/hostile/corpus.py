"""The hostile corpus: inputs made to break a reader, each with the commands that must stand up to it.

Every case is made on the spot from a few lines of code (nothing large is committed): a message carrying
decompression bombs, a MIME tree of 1,500 parts, an allow-list that smuggles a DTD in UTF-16, deeply nested BER, zip
entries whose names lie, special files where a regular file is expected, header values with line breaks... A case
names the commands (``mssante ...`` argument lists, or a Python snippet that uses the public API) that must answer
with the library's own error or a finding, in bounded time and memory: ``test_corpus.py`` runs each in a subprocess
under a memory limit and a timeout.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import NamedTuple

from mssante.testing import sample_bytes

PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "dr.martin@hopital.mssante.fr"
CDA = "cisis-BIO-TROD_2024.01_COVID-19.xml"


class Case(NamedTuple):
    """One hostile input: how to make it in a folder, and what to run on it (``{input}`` is its path)."""

    name: str
    make: Callable[[Path], Path]
    commands: tuple[tuple[str, ...], ...] = ()
    python: str = ""  # a snippet run with ``path`` bound to the input: it may raise only MssanteError
    special: bool = False  # the input is not a regular file: it must still be what it was afterwards
    refused: bool = False  # the answer must not be ok: exit 1 (judged not ok) or 2 (unreadable)
    absent: tuple[str, ...] = ()  # what must not appear in the answer (an entity's expansion, say)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _zip(entries: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _xdm(extra: list[tuple[str, bytes]]) -> bytes:
    """A plausible XDM tree with ``extra`` entries."""
    return _zip([("README.TXT", b"readme"), ("INDEX.HTM", b"<html></html>"), *extra])


def _message(attachments: list[tuple[str, str, bytes]], *, subject: str = "Compte rendu") -> bytes:
    mail = EmailMessage()
    mail["From"] = DOCTOR
    mail["To"] = PATIENT
    mail["Subject"] = subject
    mail["Message-ID"] = "<hostile@hopital.mssante.fr>"
    mail["Date"] = "Sun, 06 Dec 2026 10:00:00 +0000"
    mail["X-MSS-NIL"] = "DEV000001"
    mail.set_content("Bonjour")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def zip_bombs_in_a_message(folder: Path) -> Path:
    """Eight IHE_XDM.zip attachments, each of 250 entries of 1 MiB of zeros (2 GiB decoded in all, 2 MB sent)."""
    bomb = _xdm([(f"IHE_XDM/SUBSET01/DOC{index:04}.XML", bytes(1024 * 1024)) for index in range(250)])
    return _write(
        folder, "bombs.eml", _message([(f"IHE_XDM{index}.zip", "application/zip", bomb) for index in range(8)])
    )


def small_entries_bomb(folder: Path) -> Path:
    """One package of 2,000 entries of 512 KiB of zeros: no entry large, the whole 1 GiB."""
    return _write(folder, "small.zip", _xdm([(f"IHE_XDM/S/{index}.XML", bytes(512 * 1024)) for index in range(2000)]))


def many_parts(folder: Path) -> Path:
    """A 65 KB message of 1,500 MIME parts, as anyone can send."""
    boundary = "b"
    parts = "".join(f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n{index}\r\n" for index in range(1500))
    text = (
        f"From: {DOCTOR}\r\nTo: {PATIENT}\r\nSubject: parts\r\nMessage-ID: <parts@x.mssante.fr>\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n{parts}--{boundary}--\r\n'
    )
    return _write(folder, "parts.eml", text.encode())


def deep_nesting(folder: Path) -> Path:
    """A MIME tree 2,000 levels deep."""
    depth = 2000
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n' for level in range(depth)
    )
    tail = "".join(f"\r\n--b{level}--\r\n" for level in reversed(range(depth)))
    top = f"From: {DOCTOR}\r\nTo: {PATIENT}\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    text = f"{top}{head}Content-Type: text/plain\r\n\r\nx{tail}"
    return _write(folder, "deep.eml", text.encode())


_DTD_LIST = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY e "evil.example">]>'
    "<listeBlanche><domaine><nom>&e;</nom></domaine></listeBlanche>"
)


def allow_list_utf16_dtd(folder: Path) -> Path:
    """An allow-list in UTF-16LE without a BOM, whose DTD defines an entity expanded into a domain."""
    return _write(folder, "list-utf16.xml", _DTD_LIST.encode("utf-16-le"))


def allow_list_spaced_encoding(folder: Path) -> Path:
    """An allow-list declaring ``encoding = "ISO-8859-1"`` (spaces around ``=``), with a DTD."""
    text = _DTD_LIST.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding = "ISO-8859-1"?>')
    return _write(folder, "list-latin1.xml", text.encode("latin-1"))


def nested_ber(folder: Path) -> Path:
    """100,000 nested indefinite-length constructed BER elements."""
    depth = 100_000
    return _write(folder, "nested.p7b", b"\x30\x80" * depth + b"\x00\x00" * depth)


def zip_names_that_lie(folder: Path) -> Path:
    """Two entries that Windows writes to one file (a trailing dot), one with a right-to-left override."""
    entries = [
        ("IHE_XDM/SUBSET01/DOC0001.XML", b"<a/>"),
        ("IHE_XDM/SUBSET01/DOC0001.XML.", b"<b/>"),
        ("IHE_XDM/SUBSET01/LMX.\u202efdp", b"<c/>"),
    ]
    return _write(folder, "names.zip", _xdm(entries))


def zip_count_that_lies(folder: Path) -> Path:
    """An end-of-archive record that counts 1 entry where the central directory holds 3."""
    data = bytearray(_xdm([("IHE_XDM/SUBSET01/DOC0001.XML", b"<a/>")]))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2
    return _write(folder, "count.zip", bytes(data))


def fifo(folder: Path) -> Path:
    """A FIFO with no writer, where a file is expected: opening it for reading blocks forever."""
    path = folder / "fifo.eml"
    os.mkfifo(path)
    return path


def dev_zero(_folder: Path) -> Path:
    """A character device that never ends."""
    return Path("/dev/zero")


def line_breaks_in_a_subject(folder: Path) -> Path:
    """A CDA document, to compose with subjects that carry line breaks the email package refuses."""
    return _write(folder, "cda.xml", sample_bytes(CDA))


_ANY_FILE = (
    ("message", "inspect", "{input}"),
    ("message", "lint", "{input}"),
    ("mdn", "parse", "{input}"),
    ("xdm", "inspect", "{input}"),
    ("xdm", "validate", "{input}"),
    ("cert", "inspect", "{input}"),
    ("cert", "verify", "{input}", "--env", "test"),
    ("whitelist", "show", "--file", "{input}"),
    ("directory", "import", "{input}", "--db", "{folder}/index.sqlite3"),
)

_COMPOSE = ("message", "compose", "--from", DOCTOR, "--to", PATIENT, "--nil", "DEV1")
_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")

CASES: tuple[Case, ...] = (
    Case("zip-bombs-in-a-message", zip_bombs_in_a_message, (("message", "inspect", "{input}"),)),
    Case("zip-bombs-in-a-message-lint", zip_bombs_in_a_message, (("message", "lint", "{input}"),), refused=True),
    Case(
        "small-entries-bomb",
        small_entries_bomb,
        (("xdm", "inspect", "{input}"), ("xdm", "validate", "{input}")),
        refused=True,
    ),
    Case("1500-mime-parts", many_parts, (("message", "inspect", "{input}"), ("message", "lint", "{input}"))),
    Case("mime-2000-deep", deep_nesting, (("message", "inspect", "{input}"), ("mdn", "parse", "{input}"))),
    Case(
        "allow-list-utf16-dtd",
        allow_list_utf16_dtd,
        (("whitelist", "show", "--file", "{input}"), ("whitelist", "check", "evil.example", "--file", "{input}")),
        refused=True,
        absent=('evil.example"',),
    ),
    Case(
        "allow-list-spaced-encoding",
        allow_list_spaced_encoding,
        (("whitelist", "show", "--file", "{input}"),),
        refused=True,
    ),
    Case("ber-100000-deep", nested_ber, (("cert", "inspect", "{input}"),), refused=True),
    Case(
        "zip-names-that-lie",
        zip_names_that_lie,
        (("xdm", "validate", "{input}"),),
        refused=True,
    ),
    Case("zip-count-that-lies", zip_count_that_lies, (("xdm", "validate", "{input}"),), refused=True),
    Case("fifo-without-writer", fifo, _ANY_FILE, special=True, refused=True),
    Case(
        "dev-zero",
        dev_zero,
        (("directory", "import", "{input}", "--db", "{folder}/index.sqlite3"),),
        special=True,
        refused=True,
    ),
    Case(
        "fifo-as-output",
        fifo,
        (("xdm", "pack", "--out", "{input}", "{cda}"), (*_COMPOSE, "--cda", "{cda}", "--out", "{input}")),
        special=True,
        refused=True,
    ),
    Case(
        "line-breaks-in-headers",
        line_breaks_in_a_subject,
        tuple((*_COMPOSE, "--subject", f"a{brk}b", "--out", "{folder}/out.eml") for brk in _BREAKS),
        refused=True,
    ),
    Case(
        "line-breaks-in-headers-api",
        line_breaks_in_a_subject,
        python=(
            "import datetime as dt\n"
            "from mssante.message import compose\n"
            "at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)\n"
            f"compose(sender={DOCTOR!r}, to=[{PATIENT!r}], nil='DEV1', at=at, subject='s')  # the baseline is fine\n"
            f"for brk in {_BREAKS!r}:\n"
            "    for field in ('subject', 'message_id'):\n"
            "        try:\n"
            f"            compose(sender={DOCTOR!r}, to=[{PATIENT!r}], nil='DEV1', at=at,\n"
            "                    subject=f'a{brk}b' if field == 'subject' else 's',\n"
            "                    message_id=None if field == 'subject' else f'<a{brk}b@x.mssante.fr>')\n"
            "        except MssanteError:\n"
            "            continue\n"
            "        raise SystemExit(f'accepted {brk!r} in {field}')\n"
        ),
    ),
    Case(
        "envelope-that-parses-two-ways",
        line_breaks_in_a_subject,
        python=(
            "from mssante.transport import Envelope\n"
            "for text in ('evil@attacker.example, dr@hopital.mssante.fr',\n"
            "             '<evil@attacker.example> x@hopital.mssante.fr',\n"
            "             'dr@hopital.mssante.fr\\r\\nRCPT TO:<e@x.fr>'):\n"
            "    try:\n"
            "        Envelope(sender='dr@hopital.mssante.fr', recipients=(text,))\n"
            "    except MssanteError:\n"
            "        continue\n"
            "    raise SystemExit(f'accepted {text!r}')\n"
        ),
    ),
    Case(
        "attachment-content-type-injection",
        line_breaks_in_a_subject,
        python=(
            "import datetime as dt\n"
            "from mssante.message import Attachment, compose\n"
            "kinds = ('text/plain\\r\\nBcc: e@x.fr', 'not a type', 'text/plain; name=\"a\\nb\"', 'text/\\x85plain')\n"
            "for kind in kinds:\n"
            "    try:\n"
            f"        compose(sender={DOCTOR!r}, to=[{PATIENT!r}], nil='DEV1', at=dt.datetime.now(dt.timezone.utc),\n"
            "                attachments=[Attachment(filename='a.txt', content=b'x', content_type=kind)])\n"
            "    except MssanteError:\n"
            "        continue\n"
            "    raise SystemExit(f'accepted {kind!r}')\n"
        ),
    ),
)
