"""What the commands read from their command line: files (bounded, regular files only) and times."""

from __future__ import annotations

import datetime as dt

from mssante._files import FileTooLarge, read_regular
from mssante.cli._contract import UsageError
from mssante.errors import InvalidInput

__all__ = ["iso_time", "parse_time", "read_bounded"]


def read_bounded(path: str, *, limit: int) -> bytes:
    """The bytes of a file given on the command line, at most ``limit``.

    Refuses (exit status 2, one line) a missing file, anything but a regular file (a FIFO, a device, a
    directory: never opened for reading, so nothing blocks) and a file larger than ``limit``.
    """
    try:
        return read_regular(path, limit=limit)
    except FileTooLarge:
        raise InvalidInput(f"{path} is larger than {limit} bytes: it is not read") from None
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror or error}") from None


def parse_time(text: str | None) -> dt.datetime:
    """An ISO 8601 time (``2018-06-01T00:00:00Z``) as an aware UTC datetime; now when not given."""
    if text is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"mssante: --at {text!r} is not an ISO 8601 time such as 2018-06-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def iso_time(moment: dt.datetime) -> str:
    """``2025-03-13T14:54:10Z``: a moment as the JSON output writes it."""
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
