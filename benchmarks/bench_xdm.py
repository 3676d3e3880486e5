"""Packing and reading an XDM package of a 5 MB CDA document, against the bare work in the same run.

Run: ``python benchmarks/bench_xdm.py`` (from the repository root). The document is the CI-SIS example
of the tests with a 5 MB PDF body (see :func:`big_cda`). Baselines: ``zipfile`` (deflate) plus a
``hashlib`` SHA-1 of the same bytes for packing; a ``zipfile`` read of every entry plus the SHA-1 for
reading. Prints a Markdown table: milliseconds (best of several repeats) and the ratio.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import random
import zipfile
from pathlib import Path

from timing import REPEATS, ROUNDS, interleaved

from mssante.xdm import Package, validate

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml"
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
SIZE = 5 * 1024 * 1024


def big_cda() -> bytes:
    """The example's header over a 5 MB unstructured body: a PDF (compressed, so random-like bytes) in base64.

    That is the usual shape of a large French CDA document (a scanned or generated report, CDA
    level 1); its deflate ratio is that of real PDFs, not that of repeated XML.
    """
    text = DATA.read_bytes()
    start = text.index(b"<component>", text.index(b"</documentationOf>"))
    end = text.rindex(b"</ClinicalDocument>")
    pdf = random.Random(0).randbytes(SIZE * 3 // 4)
    body = (
        b'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">'
        + base64.encodebytes(pdf)
        + b"</text></nonXMLBody></component>\n"
    )
    return text[:start] + body + text[end:]


def structured_cda() -> bytes:
    """The example with its structured body's sections repeated up to 5 MB: XML that deflates 100:1."""
    text = DATA.read_bytes()
    start = text.index(b"<component>", text.index(b"<structuredBody"))
    end = text.rindex(b"</structuredBody>")
    body = text[start:end]
    return text[:start] + body * ((SIZE - len(text)) // len(body) + 1) + text[end:]


def _pack(document: bytes) -> None:
    Package.from_cda(document, at=AT).to_zip()


def _bare_pack(document: bytes) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bare:
        bare.writestr("IHE_XDM/SUBSET01/DOC0001.XML", document)
    hashlib.sha1(document).hexdigest()


def _bare_read(archive: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as bare:
        for name in bare.namelist():
            hashlib.sha1(bare.read(name)).hexdigest()


def main() -> None:
    """Print the table."""
    rows = []
    for label, cda in (("PDF body", big_cda()), ("structured XML body", structured_cda())):
        archive = Package.from_cda(cda, at=AT).to_zip()
        pack = interleaved(functools.partial(_pack, cda), functools.partial(_bare_pack, cda))
        read = interleaved(functools.partial(validate, archive), functools.partial(_bare_read, archive))
        size = f"{len(cda) / 1e6:.1f} MB, zipped {len(archive) / 1e6:.2f} MB"
        rows.append((f"pack, {label} ({size})", *pack, "zipfile deflate + SHA-1"))
        rows.append((f"read + validate, {label}", *read, "zipfile read + SHA-1"))
    print(f"Best of {ROUNDS * REPEATS} runs\n")
    print("| operation | mssante ms | baseline | baseline ms | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, ours_ms, base_ms, what in rows:
        print(f"| {name} | {ours_ms:.1f} | {what} | {base_ms:.1f} | {ours_ms / base_ms:.2f} |")


if __name__ == "__main__":
    main()
