"""The sample files shipped with mssante.testing: each listed, sourced, small, and what it says it is."""

from __future__ import annotations

import re
import zipfile
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import pytest

from mssante import xdm
from mssante.testing import _samples
from mssante.testing._samples import SAMPLE_NAMES, sample_bytes, sample_path
from mssante.trustspace import AllowList

DATA = Path(__file__).resolve().parent.parent / "data"
FOLDER = Path(str(resources.files("mssante.testing") / "samples"))
EXCERPT = "listeblanchemssante-2025-03-13-excerpt.xml"
COPIES = {  # samples shipped unchanged from the test data
    "cisis-BIO-TROD_2024.01_COVID-19.xml": DATA / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml",
    "nist-mie-connectathon2011-XDM.zip": DATA / "xdm" / "nist-mie-connectathon2011-XDM.zip",
    "nhind-xd-NEGATIVE-missing-slash-xdm.zip": DATA / "xdm" / "nhind-xd-NEGATIVE-missing-slash-xdm.zip",
    "extraction-SYNTHETIC.txt": DATA / "directory" / "extraction-SYNTHETIC.txt",
}


def test_every_file_is_listed_and_sourced_in_the_readme() -> None:
    files = sorted(path.name for path in FOLDER.iterdir() if path.name != "README.md")
    assert files == sorted(SAMPLE_NAMES)
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in readme for name in SAMPLE_NAMES)


def test_samples_stay_small() -> None:
    # The package carries them to every user: an excerpt, never the 3.6 MB allow-list.
    assert sum(len(sample_bytes(name)) for name in SAMPLE_NAMES) < 100_000


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_path_and_bytes_agree(name: str) -> None:
    path = sample_path(name)
    assert path.is_file()
    assert path.name == name
    assert path.read_bytes() == sample_bytes(name)


@pytest.mark.parametrize(("name", "source"), COPIES.items())
def test_copies_are_unchanged(name: str, source: Path) -> None:
    assert sample_bytes(name) == source.read_bytes()


def test_the_allowlist_excerpt_is_entries_of_the_real_list() -> None:
    real = (DATA / "listeblanchemssante-2025-03-13-restored.xml").read_text(encoding="utf-8")
    excerpt = sample_bytes(EXCERPT).decode("utf-8")
    entries = re.findall(r"        <Domaine>\n.*?</Domaine>\n", excerpt, flags=re.DOTALL)
    head, tail = excerpt.split(entries[0], 1)[0], excerpt.rsplit(entries[-1], 1)[1]
    assert real.startswith(head)
    assert real.endswith(tail)
    assert all(entry in real for entry in entries)
    assert head + "".join(entries) + tail == excerpt

    allow = AllowList.parse(excerpt.encode("utf-8"))
    assert len(allow) == len(entries) == 21
    assert allow.report.codes == ("MSS-WL-008", "MSS-WL-010")  # sessad@..., abrapa-ehpad-finkwiller listed twice
    assert allow.check_operator(
        "uc-cmp.mssante.fr", "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"
    ).ok
    assert allow.check_domain("medecin.mssante.fr").ok


def test_the_xdm_samples_are_what_they_say() -> None:
    vendor = xdm.Package.read(sample_bytes("nist-mie-connectathon2011-XDM.zip"))
    assert [finding.code for finding in vendor.findings] == ["MSS-XDM-022"]  # __MACOSX/ junk skipped
    broken = xdm.validate(sample_bytes("nhind-xd-NEGATIVE-missing-slash-xdm.zip"))
    assert not broken.ok
    assert "MSS-XDM-027" in broken.codes
    header = xdm.read_cda_header(sample_bytes("cisis-BIO-TROD_2024.01_COVID-19.xml"))
    assert header.patient.ins is not None
    assert str(header.patient.ins) == "279035121518989"


@pytest.mark.parametrize("name", ["README.md", "../_samples.py", "samples/extraction-SYNTHETIC.txt", ""])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown sample"):
        sample_path(name)
    with pytest.raises(ValueError, match="unknown sample"):
        sample_bytes(name)


def test_a_zipped_package_gives_a_copy_removed_at_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "mssante.zip"
    with zipfile.ZipFile(archive, "w") as written:
        for name in SAMPLE_NAMES:
            written.writestr(f"mssante/testing/samples/{name}", sample_bytes(name))
    at_exit = ExitStack()
    monkeypatch.setattr(_samples, "_extracted", at_exit)
    monkeypatch.setattr(_samples, "_paths", {})
    monkeypatch.setattr(resources, "files", lambda _: zipfile.Path(archive, "mssante/testing/"))

    copy = sample_path(EXCERPT)
    assert not copy.is_relative_to(FOLDER)
    assert copy.read_bytes() == sample_bytes(EXCERPT)
    assert sample_path(EXCERPT) == copy  # one copy per file
    at_exit.close()
    assert not copy.exists()
