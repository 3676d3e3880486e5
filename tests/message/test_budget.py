"""One decoding budget for a whole message: its MIME parts, its attachments and the XDM archives inside them.

A message of a megabyte and a half must not take a gigabyte: every byte decoded (a MIME part, an entry inflated from
an attached archive) counts against the one budget of the message, archives are refused from their headers when they
expand more than the ratio bound allows (small entries included), and a package's documents are inflated only when
asked for. Memory is measured with tracemalloc, never with a clock.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

from mssante.errors import InvalidInput
from mssante.message import Attachment, Message, MimeLimits, compose, lint, parse
from mssante.xdm import Document, Package, SafeZip
from tests.counting import spy

MIB = 1024 * 1024
KIB = 1024
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()


def archive(members: Iterator[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as written:
        for name, content in members:
            written.writestr(name, content)
    return buffer.getvalue()


def mail(archives: list[bytes]) -> bytes:
    """A message with each archive attached as an IHE_XDM zip."""
    files = [
        Attachment(filename=f"IHE_XDM_{index:02d}.zip", content=data, content_type="application/zip")
        for index, data in enumerate(archives, start=1)
    ]
    message = compose(sender="a@hopital.mssante.fr", to=["b@cabinet.mssante.fr"], nil="DEV000001", at=AT,
                      text="Bonjour\n", attachments=files)  # fmt: skip
    return message.as_bytes()


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of the memory Python allocated inside the block, in bytes, as ``[peak]`` once the block ends."""
    found: list[int] = []
    tracemalloc.start()
    try:
        yield found
        found.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def xdm_findings(message_findings: tuple[object, ...]) -> list[str]:
    return [str(finding) for finding in message_findings if str(finding).startswith("MSS-MSG-021")]


# --- bombs that today's ratio rule let through -------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_mib_bomb() -> bytes:
    """96 entries of 1 MiB of zeros: each 1 MiB (the old threshold), each about 1 KB deflated."""
    return archive((f"IHE_XDM/SUBSET01/DOC{index:04d}.BIN", bytes(MIB)) for index in range(96))


@pytest.fixture(scope="module")
def split_bomb() -> bytes:
    """500 entries of 60 KiB of zeros: under any per-entry floor of 64 KiB, 30 MiB in all."""
    return archive((f"IHE_XDM/SUBSET01/D{index:04d}.BIN", bytes(60 * KIB)) for index in range(500))


def test_a_message_of_twelve_bombs_of_one_mib_entries_is_read_in_bounded_memory(one_mib_bomb: bytes) -> None:
    data = mail([one_mib_bomb] * 12)
    assert len(data) < 2 * MIB
    with peak_memory() as peak:
        message = parse(data)
    # Before: the twelve archives were inflated whole (96 MiB each, 1.1 GiB in all).
    assert peak[0] < 8 * len(data)
    assert len(message.attachments) == 12
    assert message.packages == ()
    unreadable = xdm_findings(message.findings)
    assert len(unreadable) == 12
    assert all("MSS-ZIP-006" in line and "max_ratio=200" in line for line in unreadable)


def test_splitting_a_bomb_into_small_entries_does_not_pass_the_ratio_bound(split_bomb: bytes) -> None:
    data = mail([split_bomb] * 12)
    assert len(data) < 2 * MIB
    with peak_memory() as peak:
        message = parse(data)
    assert peak[0] < 8 * len(data)
    unreadable = xdm_findings(message.findings)
    assert len(unreadable) == 12
    assert all("MSS-ZIP-006" in line for line in unreadable)


# --- archives within the ratio bound: the budget holds ------------------------------------------------------------


def compressible(size: int, seed: int) -> bytes:
    """``size`` bytes that deflate about 120 to 1: 8 KiB of noise, then zeros."""
    noise = random.Random(seed).randbytes(8 * KIB)
    return noise + bytes(size - len(noise))


@pytest.fixture(scope="module")
def dense() -> bytes:
    """A true XDM package of 30 documents of 1 MiB each that stays under the ratio bound (its metadata is small)."""
    base = Package.from_cda(CDA, at=AT)
    assert base.metadata is not None
    model = base.metadata.documents[0]
    documents = [
        Document(
            content=compressible(MIB, index),
            entry=attrs.evolve(
                model, entry_uuid=f"urn:uuid:00000000-0000-4000-8000-{index:012d}", unique_id=f"1.2.250.1.{index}",
                mime_type="application/octet-stream",
            ),
            name=f"DOC{index:04d}.BIN",
        )
        for index in range(1, 31)
    ]  # fmt: skip
    return Package.build(documents, base.metadata.submission_set).to_zip()


def heavy_readme(size: int) -> bytes:
    """An archive whose README.TXT, read with the package, inflates to ``size`` bytes."""
    return archive(iter([("README.TXT", compressible(size, 7)), ("IHE_XDM/SUBSET01/DOC0001.BIN", b"x")]))


BUDGET = 16 * MIB


def read_documents(message: Message, read: list[int]) -> None:
    """Read every document of every package of ``message``, noting the size of each in ``read``."""
    for _part, package in message.packages:
        for subset in package.subsets:
            entries = subset.metadata.documents if subset.metadata else ()
            read.extend(len(subset.content(entry) or b"") for entry in entries)


def test_documents_are_inflated_within_the_message_budget(dense: bytes) -> None:
    data = mail([dense] * 8)
    with peak_memory() as peak:
        message = parse(data, limits=MimeLimits(max_decoded_bytes=BUDGET))
        assert len(message.packages) == 8
        read: list[int] = []
        with pytest.raises(InvalidInput) as caught:
            read_documents(message, read)
    # Before: the packages were inflated whole when the message was read, 240 MiB, whatever the limit.
    assert "MSS-ZIP-023" in caught.value.report.codes
    assert MIB < sum(read) < BUDGET
    assert peak[0] < BUDGET + 4 * len(data)


def test_parse_returns_what_it_could_read_when_the_budget_runs_out() -> None:
    data = mail([heavy_readme(MIB)] * 8)
    message = parse(data, limits=MimeLimits(max_decoded_bytes=6 * MIB))
    unreadable = xdm_findings(message.findings)
    assert 0 < len(message.packages) < 8
    assert len(message.packages) + len(unreadable) == 8
    assert all("MSS-ZIP-023" in line for line in unreadable)
    assert message.text == "Bonjour\n"
    assert len(message.attachments) == 8


def test_lint_reports_what_the_budget_left_unread_and_does_not_raise(dense: bytes) -> None:
    report = lint(mail([dense] * 2), limits=MimeLimits(max_decoded_bytes=BUDGET))
    assert "MSS-ZIP-023" in report.codes


def test_decoded_mime_parts_and_inflated_entries_share_one_budget() -> None:
    readme = heavy_readme(600 * KIB)
    scan = Attachment(
        filename="scan.pdf", content=random.Random(1).randbytes(600 * KIB), content_type="application/pdf"
    )
    alone = compose(
        sender="a@hopital.mssante.fr",
        to=["b@cabinet.mssante.fr"],
        nil="DEV000001",
        at=AT,
        attachments=[Attachment(filename="IHE_XDM.zip", content=readme, content_type="application/zip")],
    )
    both = compose(
        sender="a@hopital.mssante.fr",
        to=["b@cabinet.mssante.fr"],
        nil="DEV000001",
        at=AT,
        attachments=[scan, Attachment(filename="IHE_XDM.zip", content=readme, content_type="application/zip")],
    )
    limits = MimeLimits(max_decoded_bytes=MIB)
    assert len(parse(alone.as_bytes(), limits=limits).packages) == 1
    message = parse(both.as_bytes(), limits=limits)  # the PDF's 600 KiB and README's 600 KiB: more than 1 MiB
    assert message.packages == ()
    assert "MSS-ZIP-023" in xdm_findings(message.findings)[0]


def test_a_budget_given_to_parse_is_spent_by_the_packages_read_later(dense: bytes) -> None:
    from mssante.xdm import Budget  # noqa: PLC0415 (a new name: the other tests of this file run without it)

    budget = Budget(limit=BUDGET)
    message = parse(mail([dense]), budget=budget)
    after_parse = budget.spent
    assert after_parse > len(dense)  # the MIME parts, the central directory, README, INDEX and METADATA
    [(_part, package)] = message.packages
    [subset] = package.subsets
    assert len(subset.files["DOC0001.BIN"]) == MIB
    assert budget.spent == after_parse + MIB
    assert len(subset.files["DOC0001.BIN"]) == MIB  # inflated once, counted once
    assert budget.spent == after_parse + MIB
    assert budget.left == BUDGET - budget.spent


# --- packages are read lazily ----------------------------------------------------------------------------------


def test_parse_inflates_no_document_until_it_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    package = Package.from_cda(CDA, at=AT)
    data = compose(sender="a@hopital.mssante.fr", to=["b@cabinet.mssante.fr"], nil="DEV000001", at=AT,
                   xdm=package).as_bytes()  # fmt: skip
    reads = spy(monkeypatch, SafeZip, "read")
    message = parse(data)
    names = {args[1] for args, _ in reads}
    assert names == {"README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"}
    assert len(message.patients) == 1
    [(_part, read_package)] = message.packages
    [(_entry, content)] = read_package.documents
    assert content == CDA
    assert {args[1] for args, _ in reads} - names == {"IHE_XDM/SUBSET01/DOC0001.XML"}


def test_a_damaged_document_is_a_finding_of_lint_not_a_traceback() -> None:
    package = Package.from_cda(CDA, at=AT)
    zipped = bytearray(package.to_zip())
    found = zipfile.ZipFile(io.BytesIO(bytes(zipped))).getinfo("IHE_XDM/SUBSET01/DOC0001.XML")
    start = found.header_offset + 30 + len(found.filename) + len(found.extra) + 100
    zipped[start : start + 8] = bytes(8)  # inside the deflated data: the CRC-32 no longer matches
    attachment = Attachment(filename="IHE_XDM.zip", content=bytes(zipped), content_type="application/zip")
    data = compose(sender="a@hopital.mssante.fr", to=["b@cabinet.mssante.fr"], nil="DEV000001", at=AT,
                   attachments=[attachment]).as_bytes()  # fmt: skip
    message = parse(data)
    assert len(message.packages) == 1  # its metadata reads: the package is there
    report = lint(message)
    damaged = [finding for finding in report if finding.code in ("MSS-ZIP-018", "MSS-ZIP-019")]
    assert damaged
    assert all("DocumentEntry[0]" in finding.where for finding in damaged)


# --- bounds of the whole -------------------------------------------------------------------------------------


def test_the_central_directories_count_against_the_budget() -> None:
    many = archive((f"IHE_XDM/SUBSET01/F{index:04d}", b"") for index in range(1000))
    data = mail([many] * 20)
    limit = 8 * MIB
    with peak_memory() as peak:
        message = parse(data, limits=MimeLimits(max_decoded_bytes=limit))
    unreadable = xdm_findings(message.findings)
    assert 0 < len(message.packages) < 20
    assert len(message.packages) + len(unreadable) == 20
    assert all("MSS-ZIP-023" in line for line in unreadable)
    assert peak[0] < limit + 4 * len(data)
