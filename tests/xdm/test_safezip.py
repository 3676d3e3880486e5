"""Reading hostile ZIP archives: every refusal is an InvalidInput with a stable code, never a crash."""

from __future__ import annotations

import io
import os
import random
import stat
import struct
import tempfile
import tracemalloc
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.report import Code, Severity, finding_codes
from mssante.xdm import zip_codes as codes
from mssante.xdm._safezip import SafeZip, ZipEntry, ZipLimits

MIB = 1024 * 1024
DATA = Path(__file__).parent.parent / "data" / "xdm"

# (struct format, offset in the central directory record, offset in the local header)
FIELDS = {
    "flags": ("<H", 8, 6),
    "method": ("<H", 10, 8),
    "crc": ("<L", 16, 14),
    "compressed": ("<L", 20, 18),
    "size": ("<L", 24, 22),
    "external": ("<L", 38, None),
    "offset": ("<L", 42, None),
}


def build(*members: tuple[str | zipfile.ZipInfo, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An archive written by zipfile with ``members`` in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def records(data: bytes) -> list[tuple[int, int]]:
    """(central directory record offset, local header offset) of each entry, in archive order."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    position = archive.start_dir
    found = []
    for info in archive.infolist():
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, position + 28)
        found.append((position, info.header_offset))
        position += 46 + name_length + extra_length + comment_length
    return found


def patched(data: bytes, index: int, field: str, value: int, *, central: bool = True, local: bool = True) -> bytes:
    """``data`` with ``field`` of entry ``index`` set to ``value`` in the chosen headers."""
    layout, in_central, in_local = FIELDS[field]
    central_at, local_at = records(data)[index]
    result = bytearray(data)
    if central:
        struct.pack_into(layout, result, central_at + in_central, value)
    if local and in_local is not None:
        struct.pack_into(layout, result, local_at + in_local, value)
    return bytes(result)


def refusal(data: bytes, limits: ZipLimits | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(data, limits=limits or ZipLimits())
    return caught.value


def codes_of(error: InvalidInput) -> set[str]:
    return set(error.report.codes)


NORMAL = build(
    ("IHE_XDM/", b""),
    ("IHE_XDM/SUBSET01/", b""),
    ("IHE_XDM/SUBSET01/METADATA.XML", b"<SubmitObjectsRequest/>" * 200),
    ("IHE_XDM/SUBSET01/DOC00001.XML", bytes(range(256)) * 40),
    ("README.TXT", "Compte rendu — Hôpital\n".encode()),
    ("INDEX.HTM", b"<html/>"),
)


# Archives that are read


def test_a_normal_archive_reads_back() -> None:
    archive = SafeZip.open(NORMAL)
    assert archive.names == (
        "IHE_XDM/",
        "IHE_XDM/SUBSET01/",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC00001.XML",
        "README.TXT",
        "INDEX.HTM",
    )
    metadata = archive.entries[2]
    assert metadata == ZipEntry(
        name="IHE_XDM/SUBSET01/METADATA.XML",
        size=23 * 200,
        compressed_size=metadata.compressed_size,
        is_dir=False,
        crc=zlib.crc32(b"<SubmitObjectsRequest/>" * 200),
    )
    assert metadata.compressed_size < metadata.size
    assert [entry.is_dir for entry in archive.entries] == [True, True, False, False, False, False]
    assert archive.read("IHE_XDM/SUBSET01/METADATA.XML") == b"<SubmitObjectsRequest/>" * 200
    assert archive.read("IHE_XDM/SUBSET01/DOC00001.XML") == bytes(range(256)) * 40
    assert archive.read("README.TXT").decode() == "Compte rendu — Hôpital\n"
    assert archive.read("IHE_XDM/") == b""


def test_real_xdm_archives_read_back() -> None:
    nist = SafeZip.open((DATA / "nist-mie-connectathon2011-XDM.zip").read_bytes())
    assert len(nist.entries) == 15
    assert "__MACOSX/IHE_XDM/SUBSET01/._METADATA.XML" in nist.names
    assert nist.read("IHE_XDM/SUBSET01/METADATA.XML") == (DATA / "nist-mie-connectathon2011-METADATA.XML").read_bytes()
    nhind = SafeZip.open((DATA / "nhind-xd-NEGATIVE-missing-slash-xdm.zip").read_bytes())
    assert nhind.read("IHE_XDM/SUBSET01METADATA.xml").startswith(b"<")
    assert all(len(nhind.read(entry.name)) == entry.size for entry in nhind.entries)


def test_stored_zip64_and_streamed_entries_read_back() -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buffer = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            chunk = bytes(data)  # type: ignore[call-overload]
            self.buffer += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("streamed.xml", b"<a/>" * 1000)
        with archive.open("forced64.bin", "w", force_zip64=True) as stream:
            stream.write(b"0123456789" * 500)
        archive.writestr(zipfile.ZipInfo("stored.txt"), b"plain", compress_type=zipfile.ZIP_STORED)
    data = bytes(sink.buffer)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("streamed.xml").flag_bits & 0x08  # a data descriptor
    archive_read = SafeZip.open(data)
    assert archive_read.read("streamed.xml") == b"<a/>" * 1000
    assert archive_read.read("forced64.bin") == b"0123456789" * 500
    assert archive_read.read("stored.txt") == b"plain"

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("z64", "w", force_zip64=True) as w:
        w.write(b"zip64 " * 100)
    assert SafeZip.open(buffer.getvalue()).read("z64") == b"zip64 " * 100


def test_an_archive_after_a_stub_reads_back() -> None:
    archive = SafeZip.open(b"#!/bin/sh\necho self-extracting\n" * 20 + NORMAL)
    assert archive.read("README.TXT").decode() == "Compte rendu — Hôpital\n"


def test_an_empty_archive_has_no_entries() -> None:
    archive = SafeZip.open(build())
    assert archive.entries == ()
    assert archive.names == ()


def test_a_small_file_may_compress_as_well_as_it_likes() -> None:
    data = build(("zeros.bin", bytes(ZipLimits().ratio_threshold)))
    entry = SafeZip.open(data).entries[0]
    assert entry.size / entry.compressed_size > 200
    assert SafeZip.open(data).read("zeros.bin") == bytes(ZipLimits().ratio_threshold)
    assert codes.RATIO_TOO_HIGH.id in codes_of(refusal(build(("zeros.bin", bytes(MIB)))))


def test_reading_again_does_not_use_up_the_total_limit() -> None:
    archive = SafeZip.open(build(("a", b"x" * 600), ("b", b"y" * 400)), limits=ZipLimits(max_total_size=1000))
    for _ in range(3):
        assert archive.read("a") == b"x" * 600
        assert archive.read("b") == b"y" * 400


def test_an_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no entry named 'missing'"):
        SafeZip.open(NORMAL).read("missing")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """200 MiB of zeros deflated into about 200 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("bomb.bin", "w") as stream:
        zeros = bytes(MIB)
        for _ in range(200):
            stream.write(zeros)
    return buffer.getvalue()


def test_open_never_decompresses(monkeypatch: pytest.MonkeyPatch, bomb: bytes) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("open decompressed an entry")

    monkeypatch.setattr(zlib, "decompressobj", refuse)
    monkeypatch.setattr(zlib, "decompress", refuse)
    assert len(SafeZip.open(NORMAL).entries) == 6
    assert codes.RATIO_TOO_HIGH.id in codes_of(refusal(bomb))


# Sizes, ratios and counts


def test_a_zip_bomb_is_refused_from_its_headers(bomb: bytes) -> None:
    assert len(bomb) < MIB
    tracemalloc.start()
    try:
        error = refusal(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB
    assert {codes.ENTRY_TOO_LARGE.id, codes.RATIO_TOO_HIGH.id} <= codes_of(error)
    assert all(finding.severity is Severity.ERROR for finding in error.report)
    assert "decompression bomb" in str(error.report)
    assert str(error).startswith("ZIP archive refused: entry 'bomb.bin' declares 209715200 bytes")


def test_a_high_ratio_alone_is_refused() -> None:
    error = refusal(build(("zeros.bin", bytes(4 * MIB))))
    assert error.report.codes == (codes.RATIO_TOO_HIGH.id,)
    assert "above the limit max_ratio=200" in str(error)
    assert SafeZip.open(build(("zeros.bin", bytes(4 * MIB))), limits=ZipLimits(max_ratio=2000)).read("zeros.bin")


def test_entry_total_and_archive_limits() -> None:
    data = build(("a.bin", os.urandom(3000)), ("b.bin", os.urandom(3000)))
    assert refusal(data, ZipLimits(max_entry_size=2999)).report.codes == (codes.ENTRY_TOO_LARGE.id,) * 2
    assert refusal(data, ZipLimits(max_total_size=5999)).report.codes == (codes.TOTAL_TOO_LARGE.id,)
    assert refusal(data, ZipLimits(max_archive_size=len(data) - 1)).report.codes == (codes.ARCHIVE_TOO_LARGE.id,)
    assert SafeZip.open(data, limits=ZipLimits(max_total_size=6000, max_archive_size=len(data))).names


def test_too_many_entries() -> None:
    data = build(*((f"f{index}.txt", b"") for index in range(6)))
    error = refusal(data, ZipLimits(max_entries=5))
    assert error.report.codes == (codes.TOO_MANY_ENTRIES.id,)
    assert str(error) == "ZIP archive refused: the archive has 6 entries, above the limit max_entries=5"
    assert len(SafeZip.open(data, limits=ZipLimits(max_entries=6)).entries) == 6


def test_a_huge_directory_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    data = build(*((f"f{index}.txt", b"") for index in range(100)), method=zipfile.ZIP_STORED)
    assert len(SafeZip.open(data, limits=ZipLimits(max_entries=100)).entries) == 100

    def refuse(*args: object) -> None:
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    error = refusal(data, ZipLimits(max_entries=6))
    assert error.report.codes == (codes.TOO_MANY_ENTRIES.id,)
    assert "up to 100 entries, above the limit max_entries=6" in str(error)


def test_too_many_entries_with_the_default_limit() -> None:
    data = build(*((f"{index}", b"") for index in range(1001)), method=zipfile.ZIP_STORED)
    assert refusal(data).report.codes == (codes.TOO_MANY_ENTRIES.id,)


# Headers that lie


def test_a_header_declaring_less_than_the_data_is_refused_on_read() -> None:
    content = os.urandom(200_000)
    honest = build(("doc.pdf", content))
    lying = patched(patched(honest, 0, "size", 1000), 0, "crc", zlib.crc32(content[:1000]))
    archive = SafeZip.open(lying)
    assert archive.entries[0].size == 1000
    with pytest.raises(InvalidInput) as caught:
        archive.read("doc.pdf")
    assert caught.value.report.codes == (codes.SIZE_MISMATCH.id,)
    assert "more than the 1000 bytes its header declares" in str(caught.value)


def test_a_bomb_hidden_behind_a_small_declared_size_is_stopped(bomb: bytes) -> None:
    lying = patched(bomb, 0, "size", 10_000)
    archive = SafeZip.open(lying)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as caught:
            archive.read("bomb.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.report.codes == (codes.SIZE_MISMATCH.id,)
    assert peak < 4 * MIB


def test_a_header_declaring_more_than_the_data_is_refused_on_read() -> None:
    content = os.urandom(5000)
    lying = patched(build(("doc.pdf", content)), 0, "size", 6000)
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(lying).read("doc.pdf")
    assert caught.value.report.codes == (codes.SIZE_MISMATCH.id,)
    assert "inflates to 5000 bytes, not the 6000 bytes" in str(caught.value)


def test_local_and_central_headers_that_disagree_are_refused() -> None:
    data = build(("doc.xml", b"<doc/>" * 100))
    for field, value in [("size", 601), ("compressed", 3), ("crc", 1234), ("method", 0)]:
        error = refusal(patched(data, 0, field, value, local=False))
        assert codes.INCONSISTENT.id in codes_of(error), field
    assert "tools would disagree on its content" in str(refusal(patched(data, 0, "size", 601, local=False)).report)


def test_zip64_sizes_that_disagree_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("z", "w", force_zip64=True) as w:
        w.write(b"zip64 " * 100)
    _, local_at = records(buffer.getvalue())[0]
    # Python 3.11+ leaves the local sizes to the zip64 extra field; 3.10 also writes them in the 32-bit fields.
    # Both are valid: the test makes the first form on every Python.
    local = bytearray(buffer.getvalue())
    struct.pack_into("<2L", local, local_at + 18, 0xFFFFFFFF, 0xFFFFFFFF)
    data = bytes(local)
    assert codes.INCONSISTENT.id in codes_of(refusal(patched(data, 0, "size", 599, local=False)))
    extra_at = local_at + 30 + 1
    assert struct.unpack_from("<HH", data, extra_at) == (1, 16)
    forged = bytearray(data)
    struct.pack_into("<Q", forged, extra_at + 4, 5 * 2**32)
    error = refusal(bytes(forged))
    assert codes.INCONSISTENT.id in codes_of(error)
    assert "21474836480 bytes" in str(error.report)


def test_a_stored_entry_whose_sizes_differ_is_refused() -> None:
    data = build(("a.txt", b"hello"), method=zipfile.ZIP_STORED)
    error = refusal(patched(data, 0, "size", 4))
    assert codes.INCONSISTENT.id in codes_of(error)
    assert "stored uncompressed, yet declares 4 bytes for 5 bytes of data" in str(error)


def test_entries_sharing_their_data_are_refused() -> None:
    data = build(("a.txt", b"A" * 100), ("b.txt", b"B" * 100))
    _, first_local = records(data)[0]
    second_central, _ = records(data)[1]
    forged = bytearray(data)
    struct.pack_into("<L", forged, second_central + 42, first_local)
    error = refusal(bytes(forged))
    assert codes.OVERLAP.id in codes_of(error)
    assert "overlaps entry" in str(error.report)


def test_a_compressed_size_running_into_the_directory_is_refused() -> None:
    data = build(("a.txt", b"A" * 100))
    assert codes.OVERLAP.id in codes_of(refusal(patched(data, 0, "compressed", 10_000)))


def test_a_local_header_outside_the_archive_is_refused() -> None:
    data = build(("a.txt", b"A" * 100))
    assert codes.OVERLAP.id in codes_of(refusal(patched(data, 0, "offset", 0xFFFF)))


def test_a_central_record_pointing_at_no_local_header_is_refused() -> None:
    data = build(("a.txt", b"A" * 100), ("b.txt", b"B" * 100))
    error = refusal(patched(data, 1, "offset", 5))
    assert codes.INCONSISTENT.id in codes_of(error)
    assert "has no local header at offset 5" in str(error.report)


def test_local_and_central_names_that_differ_are_refused() -> None:
    data = build(("a.txt", b"A" * 100))
    _, local_at = records(data)[0]
    forged = bytearray(data)
    forged[local_at + 30 : local_at + 35] = b"b.txt"
    error = refusal(bytes(forged))
    assert error.report.codes == (codes.INCONSISTENT.id,)
    assert "is named 'b.txt' in its local header" in str(error)


def test_a_second_name_in_a_unicode_path_field_is_refused() -> None:
    info = zipfile.ZipInfo("safe.txt")
    name_crc = zlib.crc32(b"safe.txt")
    alias = b"\x01" + struct.pack("<L", name_crc) + b"../evil.txt"
    info.extra = struct.pack("<HH", 0x7075, len(alias)) + alias
    error = refusal(build((info, b"x")))
    assert error.report.codes == (codes.INCONSISTENT.id,)
    assert "evil.txt" in str(error)

    stale = zipfile.ZipInfo("safe.txt")
    old = b"\x01" + struct.pack("<L", name_crc ^ 1) + b"old.txt"
    stale.extra = struct.pack("<HH", 0x7075, len(old)) + old
    assert SafeZip.open(build((stale, b"x"))).read("safe.txt") == b"x"


# Names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../x", {codes.TRAVERSAL}),
        ("a/../../etc/passwd", {codes.TRAVERSAL}),
        ("/etc/x", {codes.ABSOLUTE_PATH}),
        ("C:\\x", {codes.ABSOLUTE_PATH, codes.BACKSLASH}),
        ("C:x", {codes.ABSOLUTE_PATH}),
        ("\\\\server\\share\\x", {codes.ABSOLUTE_PATH, codes.BACKSLASH}),
        ("a\\..\\b", {codes.TRAVERSAL, codes.BACKSLASH}),
        ("dir\\file.txt", {codes.BACKSLASH}),
        ("a\x01b.txt", {codes.BAD_CHARACTER}),
        ("line\nbreak", {codes.BAD_CHARACTER}),
        ("del\x7f", {codes.BAD_CHARACTER}),
        ("x" * 256, {codes.NAME_TOO_LONG}),
        ("a/" * 130 + "b.txt", {codes.NAME_TOO_LONG}),
    ],
    ids=[
        "parent",
        "parent-inside",
        "absolute",
        "drive",
        "drive-relative",
        "unc",
        "backslash-parent",
        "backslash",
        "control",
        "newline",
        "delete",
        "long",
        "long-path",
    ],
)
def test_unsafe_names_are_refused(name: str, expected: set[Code]) -> None:
    error = refusal(build((zipfile.ZipInfo(name), b"content")))
    assert codes_of(error) == {code.id for code in expected}
    assert all(finding.where == "entries[0]" for finding in error.report)


def test_traversal_message_says_what_is_wrong() -> None:
    error = refusal(build(("a/../../etc/passwd", b"root")))
    assert str(error) == (
        "ZIP archive refused: entry 'a/../../etc/passwd' escapes the archive: '..' is not accepted in a name"
    )


def test_a_nul_in_a_name_is_refused() -> None:
    data = build(("aXb.txt", b"content"))
    forged = data.replace(b"aXb.txt", b"a\x00b.txt")
    error = refusal(forged)
    assert error.report.codes == (codes.BAD_CHARACTER.id,)
    assert "U+0000" in str(error)


def test_an_empty_name_is_refused() -> None:
    error = refusal(build((zipfile.ZipInfo(""), b"content")))
    assert error.report.codes == (codes.BAD_CHARACTER.id,)


def test_names_that_are_merely_unusual_are_accepted() -> None:
    names = ["./a.txt", "a..b.txt", "...", "dossier/Hôpital é.pdf", "__MACOSX/._x", ".DS_Store", "x" * 255]
    archive = SafeZip.open(build(*((name, b"1") for name in names)))
    assert archive.names == tuple(names)


# Entries of other kinds


@pytest.mark.parametrize("kind", [stat.S_IFLNK, stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_links_and_special_files_are_refused(kind: int) -> None:
    info = zipfile.ZipInfo("link")
    info.create_system = 3
    info.external_attr = (kind | 0o777) << 16
    error = refusal(build((info, b"/etc/passwd")))
    assert error.report.codes == (codes.LINK.id,)
    assert ("symbolic link" in str(error)) == (kind == stat.S_IFLNK)


def test_regular_files_and_folders_with_unix_modes_are_accepted() -> None:
    file = zipfile.ZipInfo("run.sh")
    file.create_system = 3
    file.external_attr = (stat.S_IFREG | 0o755) << 16
    folder = zipfile.ZipInfo("dir/")
    folder.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
    assert SafeZip.open(build((file, b"#!/bin/sh"), (folder, b""))).names == ("run.sh", "dir/")


def test_encrypted_entries_are_refused() -> None:
    data = build(("secret.pdf", b"%PDF" * 100))
    error = refusal(patched(data, 0, "flags", 0x1))
    assert error.report.codes == (codes.ENCRYPTED.id,)
    assert "encrypted" in str(error)
    one_header_only = refusal(patched(data, 0, "flags", 0x1, local=False))
    assert codes_of(one_header_only) == {codes.ENCRYPTED.id, codes.INCONSISTENT.id}
    assert codes.ENCRYPTED.id in codes_of(refusal(patched(patched(data, 0, "flags", 0x1), 0, "method", 99)))
    assert codes.ENCRYPTED.id in codes_of(refusal(patched(data, 0, "flags", 0x40)))


@pytest.mark.parametrize(
    ("method", "label"), [(zipfile.ZIP_BZIP2, "bzip2 (method 12)"), (zipfile.ZIP_LZMA, "LZMA (method 14)")]
)
def test_methods_other_than_stored_and_deflate_are_refused(method: int, label: str) -> None:
    error = refusal(build(("doc.xml", b"<doc/>" * 100), method=method))
    assert error.report.codes == (codes.UNSUPPORTED.id,)
    assert label in str(error)
    assert "only stored (0) and deflate (8) are accepted" in str(error)


def test_unknown_methods_and_patched_data_are_refused() -> None:
    data = build(("doc.xml", b"<doc/>" * 100))
    assert "an unknown method (method 77)" in str(refusal(patched(data, 0, "method", 77)))
    assert refusal(patched(data, 0, "flags", 0x20)).report.codes == (codes.UNSUPPORTED.id,)


def test_a_folder_with_content_is_refused() -> None:
    data = build(("dir/", b""), method=zipfile.ZIP_STORED)
    forged = patched(patched(data, 0, "size", 3), 0, "compressed", 3)
    assert codes.INCONSISTENT.id in codes_of(refusal(forged))


# Duplicates


def test_exact_duplicates_are_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = build(("a.txt", b"first"), ("a.txt", b"second"))
    error = refusal(data)
    assert error.report.codes == (codes.DUPLICATE.id,)
    assert "'a.txt' appears twice" in str(error)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Report.PDF", "report.pdf"),
        ("dir/A.txt", "DIR/a.txt"),
        (unicodedata.normalize("NFC", "dossier/é.txt"), unicodedata.normalize("NFD", "dossier/é.txt")),
        ("straße.txt", "STRASSE.txt"),
        ("dir/", "Dir/"),
        ("name", "name/"),
    ],
    ids=["case", "case-in-folder", "nfc-nfd", "casefold", "folders", "file-and-folder"],
)
def test_names_that_collide_on_windows_or_macos_are_refused(first: str, second: str) -> None:
    assert first != second
    error = refusal(build((first, b""), (second, b"")))
    assert error.report.codes == (codes.DUPLICATE.id,)
    assert error.report.findings[0].where == "entries[1]"


def test_a_file_and_a_folder_of_the_same_name_are_refused() -> None:
    error = refusal(build(("doc", b"file"), ("Doc/inner.txt", b"inner")))
    assert error.report.codes == (codes.DUPLICATE.id,)
    assert "is a file, but 'Doc/inner.txt' puts a folder of that name" in str(error)


# Every finding at once


def test_every_finding_of_the_directory_is_reported() -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = build(
        ("../up.txt", b"1"), ("/abs.txt", b"2"), (link, b"/"), ("big.bin", bytes(2 * MIB)), ("A", b""), ("a", b"")
    )
    error = refusal(patched(data, 0, "flags", 0x1))
    assert codes_of(error) == {
        codes.ENCRYPTED.id,
        codes.TRAVERSAL.id,
        codes.ABSOLUTE_PATH.id,
        codes.LINK.id,
        codes.RATIO_TOO_HIGH.id,
        codes.DUPLICATE.id,
    }
    assert "(and 5 more findings)" in str(error)
    assert [finding.where for finding in error.report] == [f"entries[{index}]" for index in (0, 0, 1, 2, 3, 5)]


# Input that is not an archive


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK",
        b"PK\x03\x04",
        b"PK\x05\x06" + bytes(17),
        b"not a zip at all",
        bytes(1000),
        b"%PDF-1.7\n" + bytes(100),
    ],
    ids=["empty", "pk", "local-signature", "short-end-record", "text", "zeros", "pdf"],
)
def test_input_that_is_not_an_archive_is_refused(data: bytes) -> None:
    error = refusal(data)
    assert error.report.codes == (codes.NOT_A_ZIP.id,)
    assert str(error).startswith("ZIP archive refused: the bytes are not a readable ZIP archive")


def test_a_bare_end_record_is_an_empty_archive() -> None:
    assert SafeZip.open(b"PK\x05\x06" + bytes(18)).entries == ()


def test_random_bytes_are_refused() -> None:
    generator = random.Random(20260601)
    for size in (1, 21, 22, 100, 4096, 70_000):
        data = generator.randbytes(size)
        assert refusal(data).report.codes == (codes.NOT_A_ZIP.id,)


def test_an_archive_cut_anywhere_is_refused() -> None:
    for end in range(len(NORMAL)):
        with pytest.raises(InvalidInput) as caught:
            SafeZip.open(NORMAL[:end])
        assert caught.value.report.codes, end
        assert all(code.startswith("MSS-ZIP-") for code in caught.value.report.codes)


def test_damaged_data_is_refused_on_read() -> None:
    data = build(("a.txt", b"hello world" * 10), method=zipfile.ZIP_STORED)
    _, local_at = records(data)[0]
    damaged = bytearray(data)
    damaged[local_at + 30 + 5 + 3] ^= 0xFF
    archive = SafeZip.open(bytes(damaged))
    with pytest.raises(InvalidInput) as caught:
        archive.read("a.txt")
    assert caught.value.report.codes == (codes.CORRUPT_DATA.id,)
    assert "CRC" in str(caught.value)


def test_a_broken_deflate_stream_is_refused_on_read() -> None:
    data = build(("a.txt", os.urandom(3000)))
    _, local_at = records(data)[0]
    broken = bytearray(data)
    broken[local_at + 30 + 5 : local_at + 30 + 5 + 8] = b"\xff" * 8
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(bytes(broken)).read("a.txt")
    assert set(caught.value.report.codes) <= {codes.CORRUPT_DATA.id, codes.SIZE_MISMATCH.id}


# Extraction


def test_extract_writes_the_files_inside_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "out" / "new"
    written = SafeZip.open(NORMAL).extract_to(target)
    root = target.resolve()
    assert written == [
        root / "IHE_XDM" / "SUBSET01" / "METADATA.XML",
        root / "IHE_XDM" / "SUBSET01" / "DOC00001.XML",
        root / "README.TXT",
        root / "INDEX.HTM",
    ]
    assert (root / "IHE_XDM" / "SUBSET01" / "METADATA.XML").read_bytes() == b"<SubmitObjectsRequest/>" * 200
    assert (root / "README.TXT").read_text(encoding="utf-8") == "Compte rendu — Hôpital\n"
    assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*")) == [
        "IHE_XDM",
        "IHE_XDM/SUBSET01",
        "IHE_XDM/SUBSET01/DOC00001.XML",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "INDEX.HTM",
        "README.TXT",
    ]


def test_extract_creates_folders_that_have_no_entry(tmp_path: Path) -> None:
    written = SafeZip.open(build(("a/b/c.txt", b"deep"), ("./d.txt", b"dot"))).extract_to(tmp_path)
    assert [path.relative_to(tmp_path.resolve()).as_posix() for path in written] == ["a/b/c.txt", "d.txt"]
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"deep"


def test_extract_never_replaces_a_file(tmp_path: Path) -> None:
    (tmp_path / "README.TXT").write_bytes(b"mine")
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(NORMAL).extract_to(tmp_path)
    assert caught.value.report.codes == (codes.TARGET_EXISTS.id,)
    assert (tmp_path / "README.TXT").read_bytes() == b"mine"
    assert [path.name for path in tmp_path.iterdir()] == ["README.TXT"]


def test_extract_refuses_a_file_in_the_way_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "IHE_XDM").write_bytes(b"a file")
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(NORMAL).extract_to(tmp_path)
    assert set(caught.value.report.codes) == {codes.TARGET_EXISTS.id}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_extract_never_follows_a_link_in_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "IHE_XDM").symlink_to(outside, target_is_directory=True)
    (target / "README.TXT").symlink_to(outside / "readme")
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(NORMAL).extract_to(target)
    assert set(caught.value.report.codes) == {codes.TARGET_ESCAPES.id}
    assert "links are not followed" in str(caught.value)
    assert list(outside.iterdir()) == []


def test_extract_removes_what_it_wrote_when_an_entry_is_damaged(tmp_path: Path) -> None:
    data = build(("ok/first.txt", b"fine"), ("second.txt", b"hello world" * 10), method=zipfile.ZIP_STORED)
    _, local_at = records(data)[1]
    damaged = bytearray(data)
    damaged[local_at + 30 + 10 + 3] ^= 0xFF
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(bytes(damaged)).extract_to(tmp_path)
    assert caught.value.report.codes == (codes.CORRUPT_DATA.id,)
    assert list(tmp_path.iterdir()) == []


def test_extract_into_a_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(NORMAL).extract_to(tmp_path / "file" / "sub")
    assert caught.value.report.codes == (codes.EXTRACT_FAILED.id,)


# Properties


T = TypeVar("T")


def attempt(action: Callable[[], T]) -> T | InvalidInput:
    """What ``action`` returns, or the InvalidInput it raises (any other exception fails the test)."""
    try:
        return action()
    except InvalidInput as error:
        return error


def refused_properly(outcome: object) -> bool:
    return isinstance(outcome, InvalidInput) and bool(outcome.report.codes) and not outcome.report.ok


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=300).map(lambda tail: b"PK\x03\x04" + tail),
        st.tuples(st.binary(max_size=300), st.binary(min_size=18, max_size=60)).map(
            lambda parts: parts[0] + b"PK\x05\x06" + parts[1]
        ),
    )
)
def test_any_bytes_open_or_are_refused(data: bytes) -> None:
    archive = attempt(lambda: SafeZip.open(data))
    if isinstance(archive, InvalidInput):
        assert refused_properly(archive)
        return
    for name in archive.names:
        content = attempt(partial(archive.read, name))
        assert isinstance(content, bytes) or refused_properly(content)


SMALL = build(
    ("dir/", b""),
    ("dir/a.xml", b"<a>" + b"text " * 40 + b"</a>"),
    (zipfile.ZipInfo("b.txt"), b"stored content"),
)


REAL = (DATA / "nist-mie-connectathon2011-XDM.zip").read_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([SMALL, REAL]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, 20),
)
def test_a_mutated_archive_opens_and_reads_or_is_refused(base: bytes, edits: list[tuple[float, int]], cut: int) -> None:
    mutated = bytearray(base)
    for where, value in edits:
        mutated[int(where * len(mutated))] = value
    data = bytes(mutated[: len(mutated) - cut] if cut > 15 else mutated)
    archive = attempt(lambda: SafeZip.open(data))
    if isinstance(archive, InvalidInput):
        assert refused_properly(archive)
        return
    for entry in archive.entries:
        content = attempt(partial(archive.read, entry.name))
        if isinstance(content, InvalidInput):
            assert refused_properly(content)
        else:
            assert len(content) == entry.size
            assert zlib.crc32(content) == entry.crc
    with tempfile.TemporaryDirectory() as folder:
        written = attempt(partial(archive.extract_to, Path(folder)))
        if isinstance(written, InvalidInput):
            assert refused_properly(written)
            assert list(Path(folder).iterdir()) == []
        else:
            assert all(path.resolve().is_relative_to(Path(folder).resolve()) for path in written)


# Codes and limits


def test_zip_codes_are_errors_with_titles() -> None:
    declared = [code for code in finding_codes() if code.id.startswith("MSS-ZIP-")]
    assert [code.id for code in declared] == [f"MSS-ZIP-{number:03d}" for number in range(1, 25)]
    assert all(code.severity is Severity.ERROR for code in declared)
    assert all(code.title and not code.title.endswith(".") for code in declared)


def test_limits_are_validated() -> None:
    assert ZipLimits().max_entries == 1000
    assert ZipLimits(ratio_threshold=0).ratio_threshold == 0
    with pytest.raises(ValueError, match="max_entries"):
        ZipLimits(max_entries=0)
    with pytest.raises(TypeError):
        ZipLimits(max_ratio="200")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ZipLimits(1000)  # type: ignore[call-arg]
