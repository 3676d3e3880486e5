"""Composing and reading back a message with a 5 MB PDF and its XDM package, against bare standard-library calls.

Run: ``python benchmarks/bench_message.py`` (from the repository root). mssante: ``Package.from_cda`` +
``compose(...).as_bytes()``, then ``parse(bytes)``. Baseline, the same work by hand: ``zipfile`` + ``hashlib``
for the package, ``email.message.EmailMessage`` with the two attachments, ``as_bytes()``; then
``email.message_from_bytes`` with the default policy, every attachment decoded, the ZIP read and its entries
hashed. A third row reads a message of the most parts read by default (``MimeLimits().max_parts``: the text and 999
small attachments) with ``parse``, against ``email.message_from_bytes`` with every attachment's name and content.
Prints a Markdown table: milliseconds (best of several repeats) and the ratio.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import hashlib
import io
import random
import zipfile
from email.message import EmailMessage
from pathlib import Path

from timing import REPEATS, ROUNDS, interleaved

from mssante.message import MimeLimits, compose, parse
from mssante.xdm import Package

CDA = Path(__file__).resolve().parent.parent / "tests" / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml"
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PDF = b"%PDF-1.4\n" + random.Random(0).randbytes(5 * 1024 * 1024)  # compressed streams look random


def ours_compose(cda: bytes) -> bytes:
    package = Package.from_cda(cda, at=AT)
    mail = compose(sender="dr@chu.mssante.fr", to=["279035121518989@patient.mssante.fr"], nil="DEV935997", at=AT,
                   xdm=package, pdf=PDF, text="Bonjour")  # fmt: skip
    return mail.as_bytes()


def bare_compose(cda: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bare:
        bare.writestr("IHE_XDM/SUBSET01/DOC0001.XML", cda)
        bare.writestr("IHE_XDM/SUBSET01/METADATA.XML", hashlib.sha1(cda).hexdigest())
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = "dr@chu.mssante.fr"
    mail["To"] = "279035121518989@patient.mssante.fr"
    mail["Subject"] = "XDM/1.0/DDM+Test"
    mail.set_content("Bonjour")
    mail.add_attachment(archive.getvalue(), maintype="application", subtype="zip", filename="IHE_XDM.zip")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="document.pdf")
    return mail.as_bytes()


def bare_parse(data: bytes) -> None:
    mail = email.message_from_bytes(data, policy=email.policy.default)
    for part in mail.walk():
        if part.get_content_disposition() == "attachment":
            content = part.get_content()
            if part.get_filename() == "IHE_XDM.zip":
                with zipfile.ZipFile(io.BytesIO(content)) as bare:
                    for name in bare.namelist():
                        hashlib.sha1(bare.read(name)).hexdigest()


def many_parts() -> bytes:
    """A message of ``MimeLimits().max_parts`` parts: its text and small PDF attachments."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = "dr@chu.mssante.fr"
    mail["To"] = "secretariat@chu.mssante.fr"
    mail["Subject"] = "Comptes rendus"
    mail.set_content("Bonjour")
    for index in range(MimeLimits().max_parts - 1):
        mail.add_attachment(b"%PDF-1.4\n" + bytes(200), maintype="application", subtype="pdf", filename=f"{index}.pdf")
    return mail.as_bytes()


def bare_parse_parts(data: bytes) -> None:
    mail = email.message_from_bytes(data, policy=email.policy.default)
    for part in mail.walk():
        if part.get_content_disposition() == "attachment":
            part.get_filename()
            part.get_content()


def main() -> None:
    """Print the table."""
    cda = CDA.read_bytes()
    data = ours_compose(cda)
    parts = many_parts()
    rows = [
        ("compose (package + message + bytes)", *interleaved(functools.partial(ours_compose, cda),
                                                        functools.partial(bare_compose, cda))),
        ("parse back (MIME, attachments, XDM)", *interleaved(functools.partial(parse, data),
                                                        functools.partial(bare_parse, data))),
        (f"parse {MimeLimits().max_parts - 1} attachments and the text", *interleaved(functools.partial(parse, parts),
                                                        functools.partial(bare_parse_parts, parts))),
    ]  # fmt: skip
    print(
        f"Message: {len(data):,} bytes (a {len(PDF):,}-byte PDF and the XDM package); best of {ROUNDS * REPEATS} runs\n"
    )
    print("| operation | mssante ms | baseline ms | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours_ms, base_ms in rows:
        print(f"| {name} | {ours_ms:.1f} | {base_ms:.1f} | {ours_ms / base_ms:.2f} |")


if __name__ == "__main__":
    main()
