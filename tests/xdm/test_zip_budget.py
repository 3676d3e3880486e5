"""The ratio bound without a bypass, and the decoding budget an archive shares with the message that carried it.

The ratio bound applies to every entry past ``ratio_threshold`` (64 KiB) and to the entries together: splitting a
bomb into entries under the threshold gains nothing. A :class:`~mssante.xdm.Budget` counts every byte inflated (and
each central directory entry at a fixed cost); a reader never inflates an entry the budget cannot cover.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.xdm import Budget, Package, SafeZip, ZipLimits, validate
from mssante.xdm import zip_codes as codes
from tests.counting import spy

KIB = 1024
MIB = 1024 * KIB
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
CDA = (Path(__file__).parent.parent / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()


def build(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def refusal(data: bytes, limits: ZipLimits | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(data, limits=limits or ZipLimits())
    return caught.value


def compressible(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that deflate about 120 to 1 (for 1 MiB): 8 KiB of noise, then zeros."""
    noise = random.Random(seed).randbytes(min(size, 8 * KIB))
    return noise + bytes(size - len(noise))


# --- the ratio bound ----------------------------------------------------------------------------------------------


def test_the_defaults() -> None:
    assert ZipLimits().max_ratio == 200
    assert ZipLimits().ratio_threshold == 64 * KIB


def test_an_entry_of_one_mib_of_zeros_is_refused() -> None:
    error = refusal(build(("zeros.bin", bytes(MIB))))
    assert error.report.codes == (codes.RATIO_TOO_HIGH.id,)
    assert "max_ratio=200" in str(error)


def test_an_entry_up_to_the_threshold_may_compress_as_well_as_it_likes() -> None:
    data = build(("zeros.bin", bytes(64 * KIB)))
    assert SafeZip.open(data).read("zeros.bin") == bytes(64 * KIB)


def test_entries_under_the_threshold_are_bounded_together() -> None:
    data = build(*((f"d{index:04d}.bin", bytes(60 * KIB)) for index in range(100)))
    error = refusal(data)
    assert error.report.codes == (codes.RATIO_TOO_HIGH.id,)
    assert error.report.findings[0].where == ""
    assert "the entries together expand" in str(error)


def test_incompressible_entries_let_others_expand_only_up_to_the_ratio_together() -> None:
    noise = random.Random(3).randbytes(64 * KIB)
    zeros = [(f"z{index:03d}.bin", bytes(60 * KIB)) for index in range(150)]  # 9 MiB from about 15 KB
    assert SafeZip.open(build(("noise.bin", noise), *zeros)).names  # about 80 KB stored: 16 MiB allowed
    assert codes.RATIO_TOO_HIGH.id in refusal(build(("noise.bin", noise[: 8 * KIB]), *zeros)).report.codes


def test_an_ordinary_package_passes() -> None:
    data = Package.from_cda(CDA, at=AT).to_zip()
    assert SafeZip.open(data).names == tuple(zipfile.ZipFile(io.BytesIO(data)).namelist())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 200 * KIB), st.integers(0, 4 * KIB), st.integers(0, 3)),
        max_size=12,
    )
)
def test_what_opens_never_expands_past_the_ratio_beyond_the_allowance(shapes: list[tuple[int, int, int]]) -> None:
    members = [(f"f{index}", random.Random(seed).randbytes(min(noise, size)) + bytes(size - min(noise, size)))
               for index, (size, noise, seed) in enumerate(shapes)]  # fmt: skip
    data = build(*members)
    limits = ZipLimits()
    outcome: SafeZip | InvalidInput
    try:
        outcome = SafeZip.open(data)
    except InvalidInput as error:
        outcome = error
    if isinstance(outcome, InvalidInput):
        assert set(outcome.report.codes) == {codes.RATIO_TOO_HIGH.id}
        return
    entries = outcome.entries
    total, packed = sum(entry.size for entry in entries), sum(entry.compressed_size for entry in entries)
    assert total <= max(limits.ratio_threshold, packed * limits.max_ratio)
    for entry in entries:
        assert entry.size <= max(limits.ratio_threshold, entry.compressed_size * limits.max_ratio)


# --- the budget ---------------------------------------------------------------------------------------------------


def test_a_budget_counts_what_is_taken() -> None:
    budget = Budget(limit=100)
    assert (budget.limit, budget.spent, budget.left) == (100, 0, 100)
    assert budget.take(60)
    assert not budget.take(41)  # refused whole: nothing spent
    assert budget.take(40)
    assert (budget.spent, budget.left) == (100, 0)
    assert not budget.take(1)
    assert budget.take(0)
    assert "spent=100" in repr(budget)
    with pytest.raises(ValueError, match="limit"):
        Budget(limit=0)
    with pytest.raises(ValueError, match="size"):
        budget.take(-1)


def test_two_archives_sharing_a_budget_stop_where_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    data = build(*((f"d{index}.bin", compressible(MIB, index)) for index in range(4)))
    budget = Budget(limit=6 * MIB)
    first, second = SafeZip.open(data, budget=budget), SafeZip.open(data, budget=budget)
    opened = budget.spent  # the two central directories
    assert 0 < opened < 32 * KIB
    for name in first.names:
        assert len(first.read(name)) == MIB
    assert len(second.read("d0.bin")) == MIB
    inflations = spy(monkeypatch, zlib, "decompressobj")
    with pytest.raises(InvalidInput) as caught:
        second.read("d1.bin")
    error = caught.value
    assert error.report.codes == (codes.BUDGET_EXHAUSTED.id,)
    assert "budget" in str(error)
    assert inflations == []  # refused before a byte is inflated
    assert budget.spent == opened + 5 * MIB
    assert first.read("d3.bin") == compressible(MIB, 3)  # read before: read again, not counted again
    assert budget.spent == opened + 5 * MIB


def test_a_central_directory_costs_its_entries() -> None:
    data = build(*((f"f{index:04d}", b"") for index in range(1000)))
    with pytest.raises(InvalidInput) as caught:
        SafeZip.open(data, budget=Budget(limit=MIB))
    assert caught.value.report.codes == (codes.BUDGET_EXHAUSTED.id,)
    assert SafeZip.open(data, budget=Budget(limit=4 * MIB)).names


def test_an_archive_alone_has_a_budget_of_its_total_limit() -> None:
    data = build(("a", b"x" * 600), ("b", b"y" * 400))
    archive = SafeZip.open(data, limits=ZipLimits(max_total_size=1000))
    for _ in range(3):
        assert archive.read("a") == b"x" * 600
        assert archive.read("b") == b"y" * 400


def test_a_package_reads_its_documents_lazily_within_its_budget() -> None:
    package = Package.from_cda(CDA, at=AT)
    data = package.to_zip()
    budget = Budget(limit=MIB)
    read = Package.read(data, budget=budget)
    before = budget.spent
    [subset] = read.subsets
    assert set(subset.files) == {"DOC0001.XML"}
    assert "DOC0001.XML" in subset.files
    assert budget.spent == before  # names and membership inflate nothing
    assert subset.files["DOC0001.XML"] == CDA
    assert budget.spent == before + len(CDA)
    assert validate(read).ok == validate(data).ok
    assert budget.spent == before + len(CDA)  # validate read the document already inflated


def test_validate_reports_the_documents_a_spent_budget_leaves_unread() -> None:
    data = Package.from_cda(CDA, at=AT).to_zip()
    probe = Budget(limit=MIB)
    Package.read(data, budget=probe)
    budget = Budget(limit=probe.spent + len(CDA) - 1)  # enough for the package, one byte short for its document
    report = validate(Package.read(data, budget=budget))
    [unread] = [finding for finding in report if finding.code == codes.BUDGET_EXHAUSTED.id]
    assert "DocumentEntry[0]" in unread.where


def test_reading_a_package_in_a_small_budget_takes_little_memory() -> None:
    data = build(*((f"IHE_XDM/SUBSET01/DOC{index:04d}.BIN", compressible(MIB, index)) for index in range(40)))
    tracemalloc.start()
    try:
        package = Package.read(data, budget=Budget(limit=4 * MIB))
        [subset] = package.subsets
        with pytest.raises(InvalidInput):
            [subset.files[name] for name in sorted(subset.files)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB + 8 * len(data)


def test_validate_reads_bytes_within_the_budget_it_is_given() -> None:
    data = Package.from_cda(CDA, at=AT).to_zip()
    assert codes.BUDGET_EXHAUSTED.id in validate(data, budget=Budget(limit=1000)).codes  # the directory alone
    budget = Budget(limit=MIB)
    assert codes.BUDGET_EXHAUSTED.id not in validate(data, budget=budget).codes
    assert budget.spent > len(CDA)


def test_a_package_shows_in_a_notebook_whatever_its_budget_left() -> None:
    data = Package.from_cda(CDA, at=AT).to_zip()
    probe = Budget(limit=MIB)
    Package.read(data, budget=probe)
    package = Package.read(data, budget=Budget(limit=probe.spent))  # nothing left for the document
    shown = package._repr_html_()
    assert "unreadable (MSS-ZIP-023)" in shown
    assert "1 document(s)" in shown
