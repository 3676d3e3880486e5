"""Small public sample files shipped with mssante, for examples and tests that must run anywhere.

The files are in ``mssante/testing/samples/`` (its README names each file's source): an official CI-SIS CDA
document, two XDM packages as real systems sent them (one broken), an excerpt of the ANS allow-list of
2025-03-13 and a three-line directory extraction. :func:`sample_path` gives a file's path, :func:`sample_bytes` its
bytes; both refuse a name that is not in :data:`SAMPLE_NAMES`.

    from mssante import xdm
    from mssante.testing import sample_bytes

    cda = sample_bytes("cisis-BIO-TROD_2024.01_COVID-19.xml")
    content_type = {"code": "07", "scheme": "1.2.250.1.213.2.2"}  # JDV_J03: the activity the submission comes from
    package = xdm.Package.from_cda(cda, at=at, submission_set={"content_type_code": content_type})
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["SAMPLE_NAMES", "sample_bytes", "sample_path"]

SAMPLE_NAMES: tuple[str, ...] = (
    "cisis-BIO-TROD_2024.01_COVID-19.xml",
    "extraction-SYNTHETIC.txt",
    "listeblanchemssante-2025-03-13-excerpt.xml",
    "nhind-xd-NEGATIVE-missing-slash-xdm.zip",
    "nist-mie-connectathon2011-XDM.zip",
)
"""The names of the sample files, for :func:`sample_path` and :func:`sample_bytes`."""

_FOLDER = "samples"
_extracted = contextlib.ExitStack()  # copies made when the package is not a folder (a zip import), removed at exit
_lock = threading.Lock()
_paths: dict[str, Path] = {}
atexit.register(_extracted.close)


def _resource(name: str) -> Traversable:
    if name not in SAMPLE_NAMES:
        raise ValueError(f"unknown sample {name!r}: expected one of {', '.join(SAMPLE_NAMES)}")
    return resources.files("mssante.testing") / _FOLDER / name


def sample_bytes(name: str) -> bytes:
    """The content of the sample file called ``name`` (one of :data:`SAMPLE_NAMES`)."""
    return _resource(name).read_bytes()


def sample_path(name: str) -> Path:
    """The path of the sample file called ``name`` (one of :data:`SAMPLE_NAMES`): read it, do not write it.

    Installed as files (the usual case), this is the file in the package; otherwise a copy is made on first use
    and removed when the interpreter exits.
    """
    resource = _resource(name)
    if isinstance(resource, Path):
        return resource
    with _lock:
        if name not in _paths:
            _paths[name] = _extracted.enter_context(resources.as_file(resource))
        return _paths[name]
