"""Reading an untrusted ZIP archive: every header checked before a byte is inflated, every read bounded.

The archive is read by the standard library's :mod:`zipfile`. Before any entry is decompressed,
the central directory, the end record and each entry's local header are checked against
:class:`ZipLimits` and against each other; :class:`SafeZip` then inflates an entry only when asked,
never more bytes than its header declared, and only when its :class:`~mssante.xdm.Budget` covers them.

The compression ratio is bounded for each entry larger than ``ratio_threshold`` (64 KiB) and for the
entries together: splitting a bomb into entries under the threshold gains nothing, since all of them
together may expand at most ``max_ratio`` times what they store (``ratio_threshold`` bytes excepted).
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import attrs

from mssante.errors import InvalidInput
from mssante.report import Finding, Report
from mssante.xdm import zip_codes as codes
from mssante.xdm._budget import ENTRY_COST, Budget

__all__ = ["SafeZip", "ZipEntry", "ZipLimits"]

_MIB = 1024 * 1024
_CHUNK = 64 * 1024

_ENCRYPTED = 0x0001
_DESCRIPTOR = 0x0008
_PATCHED = 0x0020
_STRONG_ENCRYPTION = 0x0040
_UTF8 = 0x0800
_MASKED_HEADERS = 0x2000
_AES = 99
_ACCEPTED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_METHOD_NAMES = {
    1: "shrink",
    2: "reduce",
    3: "reduce",
    4: "reduce",
    5: "reduce",
    6: "implode",
    9: "deflate64",
    10: "PKWARE implode",
    12: "bzip2",
    14: "LZMA",
    18: "IBM TERSE",
    19: "IBM LZ77",
    93: "Zstandard",
    95: "xz",
    96: "JPEG",
    97: "WavPack",
    98: "PPMd",
}

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_SIGNATURE = b"PK\x06\x06"
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_MAX_COMMENT = 0xFFFF
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_EXTRA_HEADER = struct.Struct("<HH")
_ZIP64_EXTRA = 0x0001
_UNICODE_PATH_EXTRA = 0x7075
_ZIP64_MARK = 0xFFFF_FFFF
_ZIP16_MARK = 0xFFFF
_DESCRIPTOR_MIN = 12
_RECORD_ALLOWANCE = 16

_DRIVE = re.compile(r"[A-Za-z]:")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The characters of the Unicode Bidi_Control property: they make a name show otherwise than it is stored."""
_LINE_SEPARATORS = frozenset("\u2028\u2029")
_SEPARATORS = re.compile(r"[/\\]")

_STDLIB_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    IndexError,
    KeyError,
    UserWarning,
)
"""What zipfile and zlib raise on hostile bytes (a warning too, when warnings are errors)."""


_POSITIVE = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))
_NATURAL = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0))


@attrs.frozen(kw_only=True)
class ZipLimits:
    """Bounds on an untrusted archive; the defaults suit an e-mail attachment such as ``IHE_XDM.ZIP``."""

    max_archive_size: int = attrs.field(default=128 * _MIB, validator=_POSITIVE)
    """The archive itself, in bytes."""
    max_entries: int = attrs.field(default=1000, validator=_POSITIVE)
    """Entries of the central directory, folders included.

    Records are first counted by their signature, before the directory is parsed: more than 16 times
    this many refuses the archive unread, so that a directory of millions of records costs nothing.
    """
    max_entry_size: int = attrs.field(default=64 * _MIB, validator=_POSITIVE)
    """One entry, uncompressed, in bytes."""
    max_total_size: int = attrs.field(default=256 * _MIB, validator=_POSITIVE)
    """All entries together, uncompressed, in bytes."""
    max_ratio: int = attrs.field(default=200, validator=_POSITIVE)
    """Uncompressed size over compressed size: for each entry larger than ``ratio_threshold``, and for the entries
    together once they pass ``ratio_threshold``."""
    ratio_threshold: int = attrs.field(default=64 * 1024, validator=_NATURAL)
    """An entry up to this size (uncompressed, in bytes) may compress as well as it likes, and so may the entries
    together up to this size: many small entries are bounded together, so splitting a bomb gains nothing."""
    max_name_length: int = attrs.field(default=255, validator=_POSITIVE)
    """An entry name, in characters."""


_DEFAULT_LIMITS = ZipLimits()


@attrs.frozen(kw_only=True)
class ZipEntry:
    """One entry of the central directory, as declared: sizes are checked again when it is read."""

    name: str
    """The name as stored in the archive (folders end with ``/``)."""
    size: int
    """The declared uncompressed size, in bytes."""
    compressed_size: int
    """The declared compressed size, in bytes."""
    is_dir: bool
    """True for a folder entry."""
    crc: int
    """The declared CRC-32 of the uncompressed content."""


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:77] + "...")


def _refused(findings: list[Finding]) -> InvalidInput:
    others = len(findings) - 1
    more = f" (and {others} more finding{'s' if others > 1 else ''})" if others else ""
    report = Report(findings=findings, subject="ZIP archive")
    return InvalidInput(f"ZIP archive refused: {findings[0].message}{more}", report)


def _extra_fields(extra: bytes) -> Iterator[tuple[int, bytes]]:
    """The (identifier, body) pairs of an extra field, stopping at the first one that does not fit."""
    offset = 0
    while offset + _EXTRA_HEADER.size <= len(extra):
        identifier, length = _EXTRA_HEADER.unpack_from(extra, offset)
        start = offset + _EXTRA_HEADER.size
        if start + length > len(extra):
            return
        yield identifier, extra[start : start + length]
        offset = start + length


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes in the central directory (both codecs zipfile decodes with round-trip)."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8 else "cp437")


def _name_findings(name: str, index: int, limits: ZipLimits, where: str) -> list[Finding]:
    if not name:
        return [codes.BAD_CHARACTER(f"entry {index} has an empty name: every entry needs one", where=where)]
    shown = _shown(name)
    findings = []
    if len(name) > limits.max_name_length:
        message = f"entry {shown} has {len(name)} characters, above the limit max_name_length={limits.max_name_length}"
        findings.append(codes.NAME_TOO_LONG(message, where=where))
    plain = name.isascii() and name.isprintable()  # printable ASCII: no control, bidi control or line separator
    controls = [] if plain else sorted({f"U+{ord(char):04X}" for char in name if unicodedata.category(char) == "Cc"})
    if controls:
        message = f"entry {shown} holds the control character {', '.join(controls)}: names must be printable text"
        findings.append(codes.BAD_CHARACTER(message, where=where))
    bidi = [] if plain else sorted({f"U+{ord(char):04X}" for char in name if char in _BIDI_CONTROLS})
    if bidi:
        message = (
            f"entry {shown} holds the bidirectional control {', '.join(bidi)}: it shows the name otherwise than it "
            "is stored (an .exe shown as a .pdf)"
        )
        findings.append(codes.BAD_CHARACTER(message, where=where))
    separators = [] if plain else sorted({f"U+{ord(char):04X}" for char in name if char in _LINE_SEPARATORS})
    if separators:
        message = f"entry {shown} holds the line separator {', '.join(separators)}: names must be one line of text"
        findings.append(codes.BAD_CHARACTER(message, where=where))
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        message = f"entry {shown} is an absolute path: names must be relative to the archive root"
        findings.append(codes.ABSOLUTE_PATH(message, where=where))
    if ".." in _SEPARATORS.split(name):
        message = f"entry {shown} escapes the archive: '..' is not accepted in a name"
        findings.append(codes.TRAVERSAL(message, where=where))
    if "\\" in name:
        message = f"entry {shown} uses '\\' as a separator: ZIP names separate folders with '/' only"
        findings.append(codes.BACKSLASH(message, where=where))
    return findings


def _alias_findings(info: zipfile.ZipInfo, shown: str, where: str) -> list[Finding]:
    """A second name the entry carries, under which another tool would extract it."""
    if info.filename != info.orig_filename:
        message = f"entry {shown} is also named {_shown(info.filename)}: an entry must have one name"
        return [codes.INCONSISTENT(message, where=where)]
    crc = zlib.crc32(_raw_name(info))
    for identifier, body in _extra_fields(info.extra):
        if identifier != _UNICODE_PATH_EXTRA or len(body) < 5 or body[0] != 1:
            continue
        if int.from_bytes(body[1:5], "little") != crc:
            continue  # a stale field: every tool ignores it
        alias = body[5:].decode("utf-8", errors="replace")
        if alias and alias != info.orig_filename:
            message = f"entry {shown} is named {_shown(alias)} in its Unicode path field: an entry must have one name"
            return [codes.INCONSISTENT(message, where=where)]
    return []


def _kind_findings(info: zipfile.ZipInfo, shown: str, where: str) -> list[Finding]:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        message = f"entry {shown} is a symbolic link: links are never extracted, as they can point anywhere"
        return [codes.LINK(message, where=where)]
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        message = f"entry {shown} is a special file (device, FIFO or socket): only files and folders are accepted"
        return [codes.LINK(message, where=where)]
    return []


def _method_findings(info: zipfile.ZipInfo, shown: str, where: str) -> list[Finding]:
    flags, method = info.flag_bits, info.compress_type
    findings = []
    if flags & (_ENCRYPTED | _STRONG_ENCRYPTION | _MASKED_HEADERS) or method == _AES:
        message = f"entry {shown} is encrypted: encrypted entries are not read; ask for an archive without a password"
        findings.append(codes.ENCRYPTED(message, where=where))
    elif method not in _ACCEPTED_METHODS:
        label = _METHOD_NAMES.get(method, "an unknown method")
        message = (
            f"entry {shown} is compressed with {label} (method {method}): only stored (0) and deflate (8) "
            "are accepted; re-create the archive with deflate"
        )
        findings.append(codes.UNSUPPORTED(message, where=where))
    if flags & _PATCHED:
        message = f"entry {shown} holds compressed patched data (flag bit 5): only plain entries are accepted"
        findings.append(codes.UNSUPPORTED(message, where=where))
    return findings


def _size_findings(info: zipfile.ZipInfo, shown: str, limits: ZipLimits, where: str) -> list[Finding]:
    size, packed = info.file_size, info.compress_size
    findings = []
    if size > limits.max_entry_size:
        message = f"entry {shown} declares {size} bytes, above the limit max_entry_size={limits.max_entry_size}"
        findings.append(codes.ENTRY_TOO_LARGE(message, where=where))
    if size > limits.ratio_threshold and size > packed * limits.max_ratio:
        ratio = f"{size / packed:.0f}:1" if packed else "without bound"
        message = (
            f"entry {shown} expands {packed} bytes into {size} ({ratio}), above the limit "
            f"max_ratio={limits.max_ratio}: this is how a decompression bomb looks"
        )
        findings.append(codes.RATIO_TOO_HIGH(message, where=where))
    encrypted = info.flag_bits & _ENCRYPTED
    if info.compress_type == zipfile.ZIP_STORED and not encrypted and size != packed:
        message = f"entry {shown} is stored uncompressed, yet declares {size} bytes for {packed} bytes of data"
        findings.append(codes.INCONSISTENT(message, where=where))
    if info.orig_filename.endswith("/") and size:
        message = f"folder entry {shown} declares {size} bytes of content: a folder has none"
        findings.append(codes.INCONSISTENT(message, where=where))
    return findings


class _Span(NamedTuple):
    """Where an entry lies in the archive: its local header, name, extra field, data and data descriptor."""

    start: int
    end: int
    entry: int
    """The entry's index in the central directory."""
    name: str


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    """The (uncompressed, compressed) sizes of a local header's ZIP64 extra field."""
    for identifier, body in _extra_fields(extra):
        if identifier == _ZIP64_EXTRA and len(body) >= 16:
            size, packed = struct.unpack_from("<QQ", body)
            return size, packed
    return None


def _local_findings(
    data: bytes, info: zipfile.ZipInfo, index: int, start_dir: int, where: str
) -> tuple[list[Finding], _Span | None]:
    """The entry's local header, compared with its central directory record."""
    shown = _shown(info.orig_filename)
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > start_dir:
        message = f"entry {shown} puts its local header at offset {offset}, outside the data of the archive"
        return [codes.OVERLAP(message, where=where)], None
    fields = _LOCAL_HEADER.unpack_from(data, offset)
    signature, flags, method, crc, packed, size, name_length, extra_length = (fields[0], *fields[3:5], *fields[7:])
    if signature != _LOCAL_SIGNATURE:
        message = f"entry {shown} has no local header at offset {offset}: the central directory points elsewhere"
        return [codes.INCONSISTENT(message, where=where)], None
    name_start = offset + _LOCAL_HEADER.size
    data_start = name_start + name_length + extra_length
    findings = []
    local_name = data[name_start : name_start + name_length].decode("utf-8" if flags & _UTF8 else "cp437", "replace")
    if local_name != info.orig_filename:
        message = f"entry {shown} is named {_shown(local_name)} in its local header: the two names must be equal"
        findings.append(codes.INCONSISTENT(message, where=where))
    if method != info.compress_type:
        message = f"entry {shown} declares method {method} in its local header, {info.compress_type} in the directory"
        findings.append(codes.INCONSISTENT(message, where=where))
    if (flags ^ info.flag_bits) & _ENCRYPTED:
        message = f"entry {shown} is encrypted according to one of its headers only"
        findings.append(codes.INCONSISTENT(message, where=where))
    if not flags & _DESCRIPTOR:
        if _ZIP64_MARK in (packed, size):
            sizes = _zip64_sizes(data[name_start + name_length : data_start])
            size, packed = sizes if sizes is not None else (-1, -1)
        local = (size, packed, crc)
        central = (info.file_size, info.compress_size, info.CRC)
        if local != central:
            message = (
                f"entry {shown} declares {size} bytes ({packed} compressed, CRC-32 {crc:08x}) in its local header "
                f"but {central[0]} bytes ({central[1]} compressed, CRC-32 {central[2]:08x}) in the central "
                "directory: tools would disagree on its content"
            )
            findings.append(codes.INCONSISTENT(message, where=where))
    end = data_start + info.compress_size + (_DESCRIPTOR_MIN if flags & _DESCRIPTOR else 0)
    return findings, _Span(start=offset, end=end, entry=index, name=info.orig_filename)


def _overlap_findings(spans: list[_Span], start_dir: int) -> list[Finding]:
    ordered = sorted(spans, key=lambda span: (span.start, span.entry))
    findings = []
    for position, span in enumerate(ordered):
        following = ordered[position + 1] if position + 1 < len(ordered) else None
        where = f"entries[{span.entry}]"
        if span.end > start_dir:
            message = f"entry {_shown(span.name)} runs into the central directory: its data is shorter than it declares"
            findings.append(codes.OVERLAP(message, where=where))
        elif following is not None and span.end > following.start:
            message = (
                f"entry {_shown(span.name)} overlaps entry {_shown(following.name)}: entries must not share data "
                "(overlapping entries are a zip-bomb construction)"
            )
            findings.append(codes.OVERLAP(message, where=where))
    return findings


def _folded(name: str) -> str:
    """The name as a case-insensitive, normalisation-insensitive file system (Windows, macOS) sees it.

    Windows also drops the dots and spaces that end each component: ``a.xml.`` and ``a.xml `` are ``a.xml``.
    """
    trimmed = "/".join(part.rstrip(". ") or part for part in name.split("/"))
    if trimmed.isascii():  # NFC leaves ASCII as it is, and casefold() is lower() there
        return trimmed.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", trimmed).casefold())


def _duplicate_findings(infos: list[zipfile.ZipInfo]) -> list[Finding]:
    findings = []
    seen: dict[str, int] = {}
    folders: dict[str, str] = {}
    for info in infos:
        name = info.orig_filename
        parts = name.rstrip("/").split("/")
        for depth in range(1, len(parts)):
            folders.setdefault(_folded("/".join(parts[:depth])), name)
    for index, info in enumerate(infos):
        name = info.orig_filename
        where = f"entries[{index}]"
        key = _folded(name.rstrip("/"))
        first = infos[seen.setdefault(key, index)].orig_filename
        if seen[key] != index:
            if first == name:
                message = f"entry {_shown(name)} appears twice in the archive: each name must be unique"
            else:
                message = (
                    f"entries {_shown(first)} and {_shown(name)} name the same file once case, Unicode "
                    "normalisation and the dots and spaces ending a component are ignored, as on Windows and macOS: "
                    "each name must be unique"
                )
            findings.append(codes.DUPLICATE(message, where=where))
        if not name.endswith("/") and key in folders:
            message = f"entry {_shown(name)} is a file, but {_shown(folders[key])} puts a folder of that name"
            findings.append(codes.DUPLICATE(message, where=where))
    return findings


def _ratio_findings(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> list[Finding]:
    """The ratio bound of the entries together: many entries under ``ratio_threshold`` are no way around it."""
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total <= limits.ratio_threshold or total <= packed * limits.max_ratio:
        return []
    ratio = f"{total / packed:.0f}:1" if packed else "without bound"
    message = (
        f"the entries together expand {packed} bytes into {total} ({ratio}), above the limit "
        f"max_ratio={limits.max_ratio} (only ratio_threshold={limits.ratio_threshold} bytes in all may compress "
        "better): this is how a decompression bomb split into small entries looks"
    )
    return [codes.RATIO_TOO_HIGH(message)]


def _end_counts(data: bytes) -> list[tuple[str, int | None, int | None]]:
    """The entry counts (record, on this disk, in all) the end records declare, found where zipfile looks for them.

    The end record's 0xFFFF means "see the ZIP64 end record" when there is one; each ZIP64 end record found (just
    before its locator, and where the locator points) counts too. Empty without an end record.
    """
    position = len(data) - _END.size
    if not (position >= 0 and data[position : position + 4] == _END_SIGNATURE and data[-2:] == b"\x00\x00"):
        position = data.rfind(_END_SIGNATURE, max(0, len(data) - _MAX_COMMENT - 1 - _END.size))
        if position < 0 or position + _END.size > len(data):
            return []
    fields = _END.unpack_from(data, position)
    found: list[tuple[str, int | None, int | None]] = []
    locator = position - _END64_LOCATOR.size
    if locator >= 0 and data[locator : locator + 4] == _END64_LOCATOR_SIGNATURE:
        pointed = _END64_LOCATOR.unpack_from(data, locator)[2]
        for record in sorted({locator - _END64.size, pointed}):
            if 0 <= record <= len(data) - _END64.size and data[record : record + 4] == _END64_SIGNATURE:
                zip64 = _END64.unpack_from(data, record)
                found.append(("the ZIP64 end record", zip64[6], zip64[7]))
    escaped = _ZIP16_MARK if found else None  # a count of 0xFFFF then says: see the ZIP64 record
    this_disk, total = (None if count == escaped else count for count in fields[3:5])
    found.insert(0, ("the end record", this_disk, total))
    return found


def _end_findings(data: bytes, infos: list[zipfile.ZipInfo]) -> list[Finding]:
    findings = []
    for record, this_disk, total in _end_counts(data):
        if {this_disk, total} - {None, len(infos)}:
            message = (
                f"{record} counts {total} entries ({this_disk} on this disk) but the central directory holds "
                f"{len(infos)} entries: tools that trust the count would read another archive"
            )
            findings.append(codes.DIRECTORY_MISMATCH(message))
    return findings[:1]


def _directory_cost(entries: int, budget: Budget, what: str) -> None:
    """Spend what ``entries`` entries of a central directory count; InvalidInput when the budget cannot."""
    cost = entries * ENTRY_COST
    if not budget.take(cost):
        message = (
            f"{what} {entries} entries count {cost} bytes ({ENTRY_COST} each), more than the {budget.left} bytes "
            f"left of the decoding budget of {budget.limit} bytes"
        )
        raise _refused([codes.BUDGET_EXHAUSTED(message)])


def _scan(
    data: bytes, limits: ZipLimits, budget: Budget | None = None
) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The parsed archive and its entries, once every check passed; InvalidInput with all findings otherwise.

    With a ``budget``, an archive whose end record declares more entries than it can cover is refused before its
    central directory is parsed (it would be, once parsed: for its budget or for its end record).
    """
    if len(data) > limits.max_archive_size:
        message = f"the archive has {len(data)} bytes, above the limit max_archive_size={limits.max_archive_size}"
        raise _refused([codes.ARCHIVE_TOO_LARGE(message)])
    records = data.count(_CENTRAL_SIGNATURE)  # an upper bound on what zipfile would build, counted for free
    if records > limits.max_entries * _RECORD_ALLOWANCE:
        message = f"the archive has up to {records} entries, above the limit max_entries={limits.max_entries}"
        raise _refused([codes.TOO_MANY_ENTRIES(message)])
    declared = max((total or 0 for _record, _this_disk, total in _end_counts(data)), default=0)
    if budget is not None and declared * ENTRY_COST > budget.left:
        _directory_cost(declared, budget, "the end record declares")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        start_dir = archive.start_dir
    except _STDLIB_ERRORS as error:
        message = f"the bytes are not a readable ZIP archive ({error}): check that the attachment is whole"
        raise _refused([codes.NOT_A_ZIP(message)]) from None
    if len(infos) > limits.max_entries:
        message = f"the archive has {len(infos)} entries, above the limit max_entries={limits.max_entries}"
        raise _refused([codes.TOO_MANY_ENTRIES(message)])
    findings: list[Finding] = []
    spans = []
    for index, info in enumerate(infos):
        where = f"entries[{index}]"
        shown = _shown(info.orig_filename)
        names = _name_findings(info.orig_filename, index, limits, where)
        findings += names or _alias_findings(info, shown, where)
        findings += _kind_findings(info, shown, where)
        findings += _method_findings(info, shown, where)
        findings += _size_findings(info, shown, limits, where)
        local, span = _local_findings(data, info, index, start_dir, where)
        findings += local
        if span is not None:
            spans.append(span)
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_size:
        message = f"the entries declare {total} bytes in all, above the limit max_total_size={limits.max_total_size}"
        findings.append(codes.TOTAL_TOO_LARGE(message))
    if not any(finding.code == codes.RATIO_TOO_HIGH.id for finding in findings):
        findings += _ratio_findings(infos, limits)
    findings += _end_findings(data, infos)
    findings += _duplicate_findings(infos)
    findings += _overlap_findings(spans, start_dir)
    if findings:
        raise _refused(findings)
    return archive, infos


class SafeZip:
    """An untrusted ZIP archive whose headers passed every check; entries are inflated on request, bounded.

    Build it with :meth:`open`.
    """

    __slots__ = ("_archive", "_budget", "_charged", "_entries", "_infos", "_limits", "_where")

    def __init__(self, data: bytes, *, limits: ZipLimits = _DEFAULT_LIMITS, budget: Budget | None = None) -> None:
        """Check the archive in ``data``: the same as :meth:`open`."""
        archive, infos = _scan(data, limits, budget)
        if budget is None:
            budget = Budget(limits.max_total_size + len(infos) * ENTRY_COST)
        _directory_cost(len(infos), budget, "the central directory's")
        self._budget = budget
        self._charged: set[str] = set()
        self._archive = archive
        self._limits = limits
        self._infos = {info.orig_filename: info for info in infos}
        self._where = {info.orig_filename: f"entries[{index}]" for index, info in enumerate(infos)}
        self._entries = tuple(
            ZipEntry(
                name=info.orig_filename,
                size=info.file_size,
                compressed_size=info.compress_size,
                is_dir=info.orig_filename.endswith("/"),
                crc=info.CRC,
            )
            for info in infos
        )

    @classmethod
    def open(cls, data: bytes, *, limits: ZipLimits = _DEFAULT_LIMITS, budget: Budget | None = None) -> SafeZip:
        """The archive in ``data``, once its central directory, end record and local headers passed every check.

        Nothing is decompressed here. ``budget`` is what reading may decode, shared with whatever else reads for
        the same input (the message that carried the archive): opening counts each entry of the central
        directory, reading an entry its size, once. Without one, the archive has its own budget of
        ``max_total_size`` (and its directory). Raises :class:`~mssante.errors.InvalidInput` with every
        finding (``MSS-ZIP-*``) when the archive is not accepted.
        """
        return cls(data, limits=limits, budget=budget)

    @property
    def entries(self) -> tuple[ZipEntry, ...]:
        """The entries, in archive order."""
        return self._entries

    @property
    def names(self) -> tuple[str, ...]:
        """The entry names, in archive order."""
        return tuple(entry.name for entry in self._entries)

    def read(self, name: str) -> bytes:
        """The content of the entry ``name``, checked against its declared size and CRC-32.

        Raises :class:`KeyError` when there is no such entry, and :class:`~mssante.errors.InvalidInput`
        when its data does not match its header or would pass a limit, or when the budget cannot cover its
        declared size (``MSS-ZIP-023``: nothing is inflated then). An entry read again is not counted again.
        """
        try:
            info = self._infos[name]
        except KeyError:
            raise KeyError(f"the archive has no entry named {name!r}") from None
        return b"".join(self._inflate(info))

    def _inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's content in chunks, stopped as soon as it passes its declared size or a limit."""
        name, declared, limits = info.orig_filename, info.file_size, self._limits
        shown, where = _shown(name), self._where[name]
        if name not in self._charged:
            budget = self._budget
            if not budget.take(declared):
                message = (
                    f"entry {shown} declares {declared} bytes, more than the {budget.left} bytes left of the "
                    f"decoding budget of {budget.limit} bytes: it is not inflated"
                )
                raise _refused([codes.BUDGET_EXHAUSTED(message, where=where)])
            self._charged.add(name)
        # zipfile stops at the declared size; let it run past a lying header so that the lie shows.
        bounded = copy.copy(info)
        bounded.file_size = declared + 2 * _CHUNK
        produced = 0
        try:
            stream = self._archive.open(bounded)
        except _STDLIB_ERRORS as error:
            raise _refused([_damaged(shown, error, where)]) from None
        with stream:
            while True:
                try:
                    chunk = stream.read(_CHUNK)
                except _STDLIB_ERRORS as error:
                    raise _refused([_damaged(shown, error, where)]) from None
                if not chunk:
                    break
                produced += len(chunk)
                if produced > declared:
                    message = f"entry {shown} inflates to more than the {declared} bytes its header declares"
                    raise _refused([codes.SIZE_MISMATCH(message, where=where)])
                if produced > limits.max_entry_size:
                    message = f"entry {shown} inflates to more than the limit max_entry_size={limits.max_entry_size}"
                    raise _refused([codes.ENTRY_TOO_LARGE(message, where=where)])
                yield chunk
        if produced != declared:
            message = f"entry {shown} inflates to {produced} bytes, not the {declared} bytes its header declares"
            raise _refused([codes.SIZE_MISMATCH(message, where=where)])

    def extract_to(self, directory: Path) -> list[Path]:
        """Write the folders and files of the archive under ``directory`` (created if missing).

        Every target is checked before anything is written: it must stay inside ``directory``, be
        reached through no symbolic link, and not exist yet. Files are then created exclusively, their
        content bounded as by :meth:`read`. On failure, what this call wrote is removed and
        :class:`~mssante.errors.InvalidInput` says why. Returns the files written, in archive order.
        """
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            root = directory.resolve(strict=True)
        except OSError as error:
            message = f"the folder {str(directory)!r} cannot be used ({error})"
            raise _refused([codes.EXTRACT_FAILED(message)]) from None
        plan = self._plan(root)
        created: list[Path] = []
        written: list[Path] = []
        try:
            for info, target in plan:
                if info.orig_filename.endswith("/"):
                    _make_folders(root, target, created)
                else:
                    _make_folders(root, target.parent, created)
                    self._write(info, target, written)
        except BaseException as error:
            _remove(written, created)
            if isinstance(error, FileExistsError):
                message = f"{str(error.filename)!r} appeared during extraction: extraction never replaces a file"
                raise _refused([codes.TARGET_EXISTS(message)]) from None
            if isinstance(error, OSError):
                message = f"{str(error.filename)!r} cannot be written ({error.strerror or error})"
                raise _refused([codes.EXTRACT_FAILED(message)]) from None
            raise
        return written

    def _plan(self, root: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
        """Each entry with its target under ``root``, once every target passed the checks."""
        plan = []
        findings = []
        for index, (name, info) in enumerate(self._infos.items()):
            parts = [part for part in name.split("/") if part not in ("", ".")]
            if not parts:
                continue
            where = f"entries[{index}]"
            try:
                finding = _target_finding(root, parts, is_dir=name.endswith("/"), shown=_shown(name), where=where)
            except OSError as error:
                finding = codes.EXTRACT_FAILED(f"entry {_shown(name)} cannot be placed ({error})", where=where)
            if finding is not None:
                findings.append(finding)
            plan.append((info, root.joinpath(*parts)))
        if findings:
            raise _refused(findings)
        return plan

    def _write(self, info: zipfile.ZipInfo, target: Path, written: list[Path]) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(target, flags, 0o666)
        written.append(target)
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in self._inflate(info):
                stream.write(chunk)


def _damaged(shown: str, error: BaseException, where: str) -> Finding:
    message = f"entry {shown} is damaged and cannot be read ({error}): ask the sender for the archive again"
    return codes.CORRUPT_DATA(message, where=where)


def _target_finding(root: Path, parts: list[str], *, is_dir: bool, shown: str, where: str) -> Finding | None:
    """Why the entry cannot be written at ``root/parts``, or None."""
    current = root
    for depth, part in enumerate(parts, start=1):
        current = current / part
        if current.is_symlink():
            message = (
                f"entry {shown} would be written through the symbolic link {str(current)!r}: links are not followed"
            )
            return codes.TARGET_ESCAPES(message, where=where)
        if not current.exists():
            break
        if depth == len(parts) and not is_dir:
            message = f"entry {shown} would replace {str(current)!r}: extraction never replaces a file"
            return codes.TARGET_EXISTS(message, where=where)
        if not current.is_dir():
            message = f"entry {shown} needs the folder {str(current)!r}, which is a file"
            return codes.TARGET_EXISTS(message, where=where)
    if not root.joinpath(*parts).resolve().is_relative_to(root):
        message = f"entry {shown} would be written outside {str(root)!r}"
        return codes.TARGET_ESCAPES(message, where=where)
    return None


def _make_folders(root: Path, folder: Path, created: list[Path]) -> None:
    missing = []
    while folder != root and not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _remove(written: list[Path], created: list[Path]) -> None:
    for path in reversed(written):
        with contextlib.suppress(OSError):
            path.unlink()
    for path in reversed(created):
        with contextlib.suppress(OSError):
            path.rmdir()
