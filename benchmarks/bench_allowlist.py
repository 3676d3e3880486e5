"""Reading the real ANS allow-list against a bare ElementTree parse of the same bytes, measured in the same run.

Run: ``python benchmarks/bench_allowlist.py`` (from the repository root). Prints a Markdown table: milliseconds
(best of several repeats) and the ratio mssante / baseline, then the cost of a decision.
"""

from __future__ import annotations

import timeit
from pathlib import Path
from xml.etree import ElementTree

from mssante.trustspace import AllowList, OperatorDn

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "listeblanchemssante-2025-03-13-restored.xml"
REPEATS = 9
MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"


def _best_ms(function: object, number: int = 1) -> float:
    return min(timeit.repeat(function, number=number, repeat=REPEATS)) / number * 1e3  # type: ignore[arg-type]


def main() -> None:
    """Print the tables."""
    data = DATA.read_bytes()

    def ours() -> None:
        AllowList.parse(data).operators("uc-cmp.mssante.fr")  # parsed, and the domain index built

    def baseline() -> None:
        ElementTree.fromstring(data)

    # Interleave the two so that a busy machine weighs on both alike.
    mine, theirs = [], []
    for _ in range(REPEATS):
        mine.append(_best_ms(ours))
        theirs.append(_best_ms(baseline))
    ours_ms, base_ms = min(mine), min(theirs)
    print(f"Real allow-list: {len(data):,} bytes, 6,554 entries; best of {REPEATS * REPEATS} runs\n")
    print("| operation | mssante ms | baseline | baseline ms | ratio |")
    print("|---|---:|---|---:|---:|")
    ratio = ours_ms / base_ms
    print(f"| parse + index | {ours_ms:.1f} | `xml.etree.ElementTree.fromstring` | {base_ms:.1f} | {ratio:.2f} |")

    allow = AllowList.parse(data)
    dn = OperatorDn.parse(MIPIH)
    number = 20_000
    domain_us = _best_ms(lambda: allow.check_domain("UC-CMP.mssante.fr"), number) * 1e3
    operator_us = _best_ms(lambda: allow.check_operator("uc-cmp.mssante.fr", dn), number) * 1e3
    lookup_us = _best_ms(lambda: allow.operators("uc-cmp.mssante.fr"), number) * 1e3
    print("\n| decision | µs per call |")
    print("|---|---:|")
    print(f"| `operators(domain)` (index lookup) | {lookup_us:.2f} |")
    print(f"| `check_domain(domain)` (with its report) | {domain_us:.2f} |")
    print(f"| `check_operator(domain, dn)` (with its report) | {operator_us:.2f} |")


if __name__ == "__main__":
    main()
