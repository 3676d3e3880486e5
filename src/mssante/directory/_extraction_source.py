"""Opening the bulk MSSanté extraction: a path, bytes, a binary stream or byte chunks, bare or zipped, cut into lines.

A ZIP archive (the ANS web service's form) is bounded in size and must hold exactly one plain file, which passes
the hostile-ZIP checks before it is inflated chunk by chunk. The content is cut into blocks of decoded lines,
at most a bounded number of bytes of one line held at a time: memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TypeAlias

from mssante._files import open_regular
from mssante.directory import codes
from mssante.errors import InvalidInput
from mssante.report import Code, Report

__all__ = ["ExtractionSource"]

ExtractionSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes]"
"""A path (``.txt`` or ``.zip``), the file's bytes, a binary stream, or an iterable of byte chunks."""

_CHUNK = 256 * 1024  # read at a time: a few blocks of lines in memory, whatever the file's size
_MIB = 1024 * 1024
_MAX_ARCHIVE = 512 * _MIB
_MAX_MEMBER = 1024 * _MIB
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError)


# What a line becomes when it cannot be read: no real line holds a line feed, so these cannot be mistaken for one.
_BAD_UTF8 = "\n(not valid UTF-8)"
_TOO_LONG = "\n(too long)"


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").removesuffix("\r")
    except UnicodeDecodeError:
        return _BAD_UTF8


def _decode_block(block: bytes, max_line: int) -> list[str]:
    """The lines of ``block`` (complete lines, each ending with LF), decoded one by one only when needed."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        lines = [_decode_line(raw) for raw in block.split(b"\n")[:-1]]
    else:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        lines.pop()
    if len(block) > max_line and max(map(len, lines)) > max_line:
        return [line if len(line) <= max_line else _TOO_LONG for line in lines]
    return lines


def _blocks(chunks: Iterable[bytes], max_line: int) -> Iterator[list[str]]:
    """The lines of a byte stream in blocks, at most ``max_line`` bytes of a line held at a time."""
    carry = b""
    discarding = False  # inside a line too long to keep
    for piece in chunks:
        chunk = bytes(piece)
        if discarding:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            chunk = chunk[end + 1 :]
            discarding = False
            yield [_TOO_LONG]
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if not cut:
            carry = data
        else:
            carry = data[cut:]
            yield _decode_block(data[:cut], max_line)
        if len(carry) > max_line:
            carry, discarding = b"", True
    if discarding:
        yield [_TOO_LONG]
    elif carry:
        yield _decode_block(carry + b"\n", max_line)


def _refuse(code: Code, message: str, *, subject: str = "extraction") -> InvalidInput:
    report = Report(findings=[code(message)], subject=subject)
    return InvalidInput(f"{subject} refused: {message}", report)


def _is_zip(head: bytes) -> bool:
    return head[:4] in _ZIP_MAGIC


def _bounded_read(stream: IO[bytes], limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        message = f"the ZIP archive is larger than {limit} bytes: it is not read"
        raise _refuse(codes.ZIP_NOT_ONE_FILE, message)
    return data


def _checked_member(data: bytes) -> zipfile.ZipInfo:
    """The one file of the extraction archive, once the archive passed the hostile-ZIP checks."""
    from mssante.xdm import SafeZip, ZipLimits  # noqa: PLC0415 (mssante.xdm is large; only ZIP input needs it)

    limits = ZipLimits(
        max_archive_size=_MAX_ARCHIVE, max_entries=16, max_entry_size=_MAX_MEMBER, max_total_size=_MAX_MEMBER
    )
    archive = SafeZip.open(data, limits=limits)
    entries = archive.entries
    if len(entries) != 1 or entries[0].is_dir or "/" in entries[0].name:
        names = ", ".join(repr(entry.name[:80]) for entry in entries[:5]) or "none"
        message = f"the ZIP archive must hold exactly one file with a plain name, not {len(entries)} entries ({names})"
        raise _refuse(codes.ZIP_NOT_ONE_FILE, message)
    entry = entries[0]
    with zipfile.ZipFile(io.BytesIO(data)) as checked:
        return checked.getinfo(entry.name)


def _member_chunks(archive_file: IO[bytes], expected: zipfile.ZipInfo) -> Iterator[bytes]:
    """The checked member's content in chunks; zipfile stops at its declared size and checks its CRC-32."""
    shown = repr(expected.orig_filename[:80])
    try:
        with zipfile.ZipFile(archive_file) as archive:
            infos = archive.infolist()
            same = [
                (info.orig_filename, info.file_size, info.compress_size, info.CRC, info.header_offset) for info in infos
            ] == [
                (
                    expected.orig_filename,
                    expected.file_size,
                    expected.compress_size,
                    expected.CRC,
                    expected.header_offset,
                )
            ]
            if not same:
                raise _refuse(codes.ZIP_DAMAGED, f"the ZIP archive changed while it was read ({shown})")
            with archive.open(infos[0]) as member:
                while chunk := member.read(_CHUNK):
                    yield chunk
    except _ZIP_ERRORS as error:
        message = f"the file {shown} of the ZIP archive cannot be inflated ({error})"
        raise _refuse(codes.ZIP_DAMAGED, message) from None


def _open_zip(data: bytes, archive_file: IO[bytes]) -> tuple[str, Iterator[bytes]]:
    member = _checked_member(data)
    return member.orig_filename, _member_chunks(archive_file, member)


def _stream_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := stream.read(_CHUNK):
            yield chunk
    except OSError as error:
        raise _refuse(codes.UNREADABLE, f"the extraction cannot be read ({error})") from None


def _open_path(path: Path, stack: contextlib.ExitStack) -> tuple[str, Iterator[bytes]]:
    try:
        stream = stack.enter_context(open_regular(path))  # a FIFO or a device (/dev/zero) is refused unopened
        head = stream.read(4)
        stream.seek(0)
        if not _is_zip(head):
            return path.name, _stream_chunks(stream)
        size = os.fstat(stream.fileno()).st_size
        if size > _MAX_ARCHIVE:
            raise _refuse(codes.ZIP_NOT_ONE_FILE, f"the ZIP archive has {size} bytes, above {_MAX_ARCHIVE}")
        data = _bounded_read(stream, _MAX_ARCHIVE)
        stream.seek(0)
    except OSError as error:
        raise _refuse(codes.UNREADABLE, f"{str(path)[:200]!r} cannot be read: {error.strerror or error}") from None
    return _open_zip(data, stream)


def _open_chunks(chunks: Iterator[bytes]) -> tuple[str, Iterator[bytes]]:
    head = b""
    taken = []
    for chunk in chunks:
        taken.append(bytes(chunk))
        head += chunk[:4]
        if len(head) >= 4:
            break
    if not _is_zip(head):
        return "", itertools.chain(taken, chunks)
    data = bytearray()
    for chunk in itertools.chain(taken, chunks):
        data += chunk
        if len(data) > _MAX_ARCHIVE:
            raise _refuse(codes.ZIP_NOT_ONE_FILE, f"the ZIP archive is larger than {_MAX_ARCHIVE} bytes")
    whole = bytes(data)
    return _open_zip(whole, io.BytesIO(whole))


def _open_source(source: ExtractionSource, stack: contextlib.ExitStack) -> tuple[str, Iterator[bytes]]:
    """The source's file name (or ``""``) and its text content in byte chunks, unzipped when it is a ZIP."""
    if isinstance(source, (str, os.PathLike)):
        return _open_path(Path(source), stack)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if _is_zip(data):
            return _open_zip(data, io.BytesIO(data))
        view = memoryview(data)
        return "", (bytes(view[start : start + _CHUNK]) for start in range(0, len(data), _CHUNK))
    if hasattr(source, "read"):
        stream: IO[bytes] = source  # type: ignore[assignment]
        name = getattr(stream, "name", "")
        name = Path(name).name if isinstance(name, str) else ""
        try:
            first = stream.read(_CHUNK)
        except OSError as error:
            raise _refuse(codes.UNREADABLE, f"the extraction cannot be read ({error})") from None
        if not isinstance(first, bytes):
            raise TypeError(f"an extraction stream must be binary, not {type(first).__name__}")
        if _is_zip(first):
            rest = _bounded_read(stream, _MAX_ARCHIVE - len(first))
            whole = first + rest
            member, chunks = _open_zip(whole, io.BytesIO(whole))
            return member, chunks
        return name, itertools.chain([first], _stream_chunks(stream))
    if isinstance(source, Iterable):
        return _open_chunks(iter(source))
    raise TypeError(f"an extraction is read from a path, bytes, a binary stream or byte chunks, not {type(source)}")
