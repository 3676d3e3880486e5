"""Packing and reading an XDM package of a CDA document of 25 KB, 1 MB and 10 MB, against the bare work in the same run.

Run: ``python benchmarks/bench_xdm.py`` (from the repository root; ``--turns N`` for fewer or more turns). The
documents are the CI-SIS example of the tests as it is (25 KB), then padded to 1 MB and 10 MB in the two shapes of
large French CDA documents: an unstructured body carrying a PDF (see :func:`pdf_cda`) and a structured body whose
sections are repeated (see :func:`structured_cda`).

The baselines do the work a bare implementation does for the same package. Packing: ``zipfile`` (deflate) writes
the same entries (README.TXT, INDEX.HTM, the ``IHE_XDM/`` folders, METADATA.XML given as bytes, the document)
and ``hashlib`` takes the document's SHA-1. Reading: ``zipfile`` reads every entry back and the document's SHA-1
and size are compared with those of its metadata. Each side runs in turns with the other (``timing.paired``);
the table gives milliseconds per call, minimum and median, and the ratios.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import hashlib
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

from timing import TURNS, Paired, paired

from mssante.xdm import Package, validate, write_metadata

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml"
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
MB = 1024 * 1024
TURN_MS = 40.0
"""Each turn runs a side this long at least (several calls for a small document), so that a turn is not all noise."""


def pdf_cda(size: int) -> bytes:
    """The example's header over an unstructured body of ``size`` bytes: a PDF (random-like bytes) in base64.

    That is the usual shape of a large French CDA document (a scanned or generated report, CDA level 1); its
    deflate ratio is that of real PDFs, not that of repeated XML.
    """
    text = DATA.read_bytes()
    start = text.index(b"<component>", text.index(b"</documentationOf>"))
    end = text.rindex(b"</ClinicalDocument>")
    pdf = random.Random(0).randbytes(size * 3 // 4)
    body = (
        b'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">'
        + base64.encodebytes(pdf)
        + b"</text></nonXMLBody></component>\n"
    )
    return text[:start] + body + text[end:]


def structured_cda(size: int) -> bytes:
    """The example with its structured body's sections repeated up to ``size`` bytes: XML that deflates 100:1."""
    text = DATA.read_bytes()
    start = text.index(b"<component>", text.index(b"<structuredBody"))
    end = text.rindex(b"</structuredBody>")
    body = text[start:end]
    return text[:start] + body * ((size - len(text)) // len(body) + 1) + text[end:]


def ours_pack(document: bytes) -> bytes:
    return Package.from_cda(document, at=AT).to_zip()


def bare_pack(entries: list[tuple[str, bytes]], document: bytes) -> bytes:
    """The same entries written by ``zipfile`` (METADATA.XML given), and the document's SHA-1."""
    hashlib.sha1(document).hexdigest()
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bare:
        for name, data in entries:
            bare.writestr(name, data)
    return output.getvalue()


def bare_read(archive: bytes, name: str, sha1: str, size: int) -> None:
    """Every entry read back by ``zipfile``; the document's SHA-1 and size compared with the metadata's."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bare:
        contents = {entry: bare.read(entry) for entry in bare.namelist()}
    document = contents[name]
    if hashlib.sha1(document).hexdigest() != sha1 or len(document) != size:
        raise AssertionError("the document is not the one the metadata describes")


def _number(function: Callable[[], object]) -> int:
    """Calls a turn: enough for :data:`TURN_MS`, judged on one call."""
    once = paired(function, function, turns=1).ours_min
    return max(1, int(TURN_MS / max(once, 1e-3)))


def measure(document: bytes, turns: int) -> tuple[Paired, Paired, int]:
    """Packing and reading-and-validating ``document``, each paired with its baseline; and the archive's size."""
    package = Package.from_cda(document, at=AT)
    assert package.metadata is not None
    archive = package.to_zip()
    entry = package.metadata.documents[0]
    name = f"IHE_XDM/SUBSET01/{entry.uri}"
    entries = [
        ("README.TXT", package.readme.encode("utf-8")),
        ("INDEX.HTM", package.index.encode("utf-8")),
        ("IHE_XDM/", b""),
        ("IHE_XDM/SUBSET01/", b""),
        ("IHE_XDM/SUBSET01/METADATA.XML", write_metadata(package.metadata)),
        (name, document),
    ]
    packing = functools.partial(ours_pack, document)
    pack = paired(packing, functools.partial(bare_pack, entries, document), number=_number(packing), turns=turns)
    reading = functools.partial(validate, archive)
    bare = functools.partial(bare_read, archive, name, entry.hash, int(entry.size))
    read = paired(reading, bare, number=_number(reading), turns=turns)
    return pack, read, len(archive)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--turns", type=int, default=TURNS, help=f"turns of each side (default {TURNS})")
    turns = parser.parse_args().turns
    documents = [("example", DATA.read_bytes())]
    for size in (MB, 10 * MB):
        documents += [("PDF body", pdf_cda(size)), ("structured body", structured_cda(size))]
    print(f"{turns} turns of each side, alternating; ms per call, min / median\n")
    print("| operation | document | mssante ms | baseline ms | ratio |")
    print("|---|---|---:|---:|---:|")
    for label, document in documents:
        pack, read, zipped = measure(document, turns)
        shown = f"{label}, {len(document) / 1e3:,.0f} KB, zipped {zipped / 1e3:,.0f} KB"
        print(f"| pack | {shown} | {pack.row()} |")
        print(f"| read + validate | {shown} | {read.row()} |")


if __name__ == "__main__":
    main()
