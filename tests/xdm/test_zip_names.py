"""Names another tool reads otherwise, and an end record that disagrees with the central directory: refused.

- Windows drops the dots and spaces that end a path component: ``a.xml``, ``a.xml.`` and ``a.xml `` are one file.
- Bidirectional controls (U+202E and the others) show a name other than the one stored (``cod.exe`` as ``exe.doc``).
- The end-of-central-directory record counts the entries: a tool that trusts the count sees another archive.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.xdm import SafeZip
from mssante.xdm import zip_codes as codes


def build(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, b"" if name.endswith("/") else name.encode("utf-8"))
    return buffer.getvalue()


def refusal(data: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(data)
    return caught.value


# --- trailing dots and spaces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a.xml", "a.xml."),
        ("a.xml", "a.xml "),
        ("a.xml", "A.XML. ."),
        ("a.xml", "a.xml..."),
        ("dir/a.xml", "dir./a.xml"),
        ("dir/a.xml", "DIR /a.xml"),
        ("IHE_XDM/SUBSET01/METADATA.XML", "IHE_XDM/SUBSET01 ./METADATA.XML."),
        ("dir/", "dir./"),
        ("name", "name ./"),
    ],
)
def test_names_that_differ_by_trailing_dots_or_spaces_are_duplicates(first: str, second: str) -> None:
    error = refusal(build(first, second))
    assert error.report.codes == (codes.DUPLICATE.id,)
    assert error.report.findings[0].where == "entries[1]"
    assert "Windows" in str(error)


@settings(max_examples=150, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=12),
    st.text(". ", min_size=1, max_size=4),
    st.booleans(),
)
def test_any_name_and_its_trailing_dots_and_spaces_are_one_file(stem: str, tail: str, folder: bool) -> None:
    name = f"dir/{stem}" if not folder else f"{stem}/file.txt"
    other = f"dir/{stem}{tail}" if not folder else f"{stem}{tail}/file.txt"
    assert codes.DUPLICATE.id in refusal(build(name, other)).report.codes


@pytest.mark.parametrize(("first", "second"), [("a.xml", "a.xm"), ("a", "a.b"), (".profile", "profile"), ("a b", "ab")])
def test_names_that_differ_otherwise_are_accepted(first: str, second: str) -> None:
    assert SafeZip.open(build(first, second)).names == (first, second)


# --- bidirectional controls --------------------------------------------------------------------------------------

BIDI = ["\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
        "\u061c"]  # fmt: skip


@pytest.mark.parametrize("control", BIDI, ids=lambda char: f"U+{ord(char):04X}")
def test_bidirectional_controls_in_a_name_are_refused(control: str) -> None:
    error = refusal(build(f"IHE_XDM/SUBSET01/cr{control}lmx.exe"))
    assert error.report.codes == (codes.BAD_CHARACTER.id,)
    assert f"U+{ord(control):04X}" in str(error)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"], ids=["U+2028", "U+2029"])
def test_unicode_line_separators_in_a_name_are_refused(separator: str) -> None:
    assert refusal(build(f"a{separator}b.xml")).report.codes == (codes.BAD_CHARACTER.id,)


def test_names_in_other_scripts_are_accepted() -> None:
    names = ("IHE_XDM/SUBSET01/تقرير.pdf", "IHE_XDM/SUBSET01/compte-rendu été.pdf", "IHE_XDM/SUBSET01/報告.pdf")
    assert SafeZip.open(build(*names)).names == names


# --- the end record's entry count --------------------------------------------------------------------------------

END = struct.Struct("<4s4H2LH")


def with_counts(data: bytes, this_disk: int, total: int) -> bytes:
    position = data.rindex(b"PK\x05\x06")
    fields = list(END.unpack_from(data, position))
    fields[3], fields[4] = this_disk, total
    return data[:position] + END.pack(*fields) + data[position + END.size :]


@pytest.mark.parametrize(("this_disk", "total"), [(2, 2), (4, 4), (3, 2), (2, 3), (0, 0), (0xFFFF, 0xFFFF)])
def test_an_end_record_that_counts_other_entries_is_refused(this_disk: int, total: int) -> None:
    data = build("a.txt", "b.txt", "c.txt")
    assert SafeZip.open(with_counts(data, 3, 3)).names == ("a.txt", "b.txt", "c.txt")
    assert len(zipfile.ZipFile(io.BytesIO(with_counts(data, this_disk, total))).infolist()) == 3  # zipfile takes it
    error = refusal(with_counts(data, this_disk, total))
    assert error.report.codes == (codes.DIRECTORY_MISMATCH.id,)
    assert "3 entries" in str(error)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_any_count_but_the_true_one_is_refused(entries: int, this_disk: int, total: int) -> None:
    data = with_counts(build(*(f"f{index}" for index in range(entries))), this_disk, total)
    if this_disk == total == entries:
        assert len(SafeZip.open(data).names) == entries
    else:
        assert codes.DIRECTORY_MISMATCH.id in refusal(data).report.codes


def with_zip64_end(data: bytes, this_disk: int, total: int) -> bytes:
    """``data`` with a ZIP64 end record counting ``this_disk`` and ``total`` entries, the end record saying 0xFFFF."""
    position = data.rindex(b"PK\x05\x06")
    fields = list(END.unpack_from(data, position))
    size, offset = fields[5], fields[6]
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, this_disk, total, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, position, 1)
    fields[3] = fields[4] = 0xFFFF
    return data[:position] + record + locator + END.pack(*fields) + data[position + END.size :]


def test_a_zip64_end_record_is_read_for_the_count() -> None:
    data = build("a.txt", "b.txt")
    assert len(zipfile.ZipFile(io.BytesIO(with_zip64_end(data, 2, 2))).infolist()) == 2
    assert SafeZip.open(with_zip64_end(data, 2, 2)).names == ("a.txt", "b.txt")
    for this_disk, total in ((1, 1), (2, 3), (3, 2)):
        error = refusal(with_zip64_end(data, this_disk, total))
        assert error.report.codes == (codes.DIRECTORY_MISMATCH.id,)
    both = with_zip64_end(data, 2, 2)
    position = both.rindex(b"PK\x05\x06")
    for this_disk, total in ((2, 5), (5, 0xFFFF), (2, 2)):  # the end record counting too: it must count true
        patched = both[: position + 8] + struct.pack("<2H", this_disk, total) + both[position + 12 :]
        if (this_disk, total) == (2, 2):
            assert SafeZip.open(patched).names == ("a.txt", "b.txt")
        else:
            assert refusal(patched).report.codes == (codes.DIRECTORY_MISMATCH.id,)
