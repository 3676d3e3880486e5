"""The declared dependency floors and the two pinned sets CI installs agree with pyproject.toml.

``requirements/floors.txt`` pins each runtime and extra dependency at exactly the minimum pyproject.toml declares
(CI runs the suite with it); ``requirements/dev.lock`` pins every package of the development environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
_USER_EXTRAS = ("cli", "async", "testing", "fast", "psc", "postgres")


def _pins(path: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def _floors() -> dict[str, Version]:
    """Each dependency of the base install and the users' extras, with the version after its ``>=``."""
    texts = [
        *PROJECT["dependencies"],
        *(text for extra in _USER_EXTRAS for text in PROJECT["optional-dependencies"][extra]),
    ]
    floors: dict[str, Version] = {}
    for requirement in map(Requirement, texts):
        [minimum] = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        floors[canonicalize_name(requirement.name)] = Version(minimum)
    return floors


def test_floors_file_pins_exactly_the_declared_minimums() -> None:
    assert _pins(ROOT / "requirements" / "floors.txt") == _floors()


def test_every_dependency_declares_a_floor() -> None:
    for extra in ("dev", *_USER_EXTRAS):
        for requirement in map(Requirement, PROJECT["optional-dependencies"][extra]):
            if canonicalize_name(requirement.name) != "mssante":
                assert any(spec.operator == ">=" for spec in requirement.specifier), requirement


def test_the_lock_pins_the_whole_development_environment() -> None:
    locked = _pins(ROOT / "requirements" / "dev.lock")
    wanted = {
        canonicalize_name(Requirement(text).name)
        for extra in ("dev", *_USER_EXTRAS)
        for text in PROJECT["optional-dependencies"][extra]
    } | set(_floors())
    assert wanted - {"mssante"} <= set(locked)
    for name, minimum in _floors().items():
        assert locked[name] >= minimum, name
