"""Reading the ANS allow-list (parse + domain index) against three baselines, measured in the same run.

Run: ``python benchmarks/bench_allowlist.py [--turns N]`` (from the repository root). Each row alternates ours and
one baseline (:func:`benchmarks.timing.paired`) and prints min / median milliseconds and the ratio ours / baseline:

- ``xml.etree.ElementTree.fromstring``: the standard library's C parser building a tree, nothing read from it;
- ``lxml.etree.fromstring``: lxml building a tree, nothing read from it;
- the peer approach, as the script operators use today: lxml parse, then XPath extraction of the six fields of
  every ``Domaine`` into dicts, and a domain -> DNs index.

Ours reads the same bytes whole (UTF-8 screen, DTD screen, well-formedness, every field, every DN and date, the
duplicates) and builds the index; with lxml installed (the ``fast`` extra) lxml checks the document, otherwise
expat does (the ``pure`` rows). Sizes: the real list (6,554 entries), its first quarter, and the list with its
entries repeated two and four times (renamed, so that each is a distinct domain).
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from lxml import etree
from timing import best_ms, paired

from mssante import _xml
from mssante.trustspace import NAMESPACE, AllowList, OperatorDn

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "listeblanchemssante-2025-03-13-restored.xml"
MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"
FIELDS = ("Nom", "Description", "DNCertificatOperateur", "ResponsableContact", "SupportContact", "DateMAJ")
_ENTRY = re.compile(rb"<Domaine>.*?</Domaine>\s*", re.DOTALL)


def sized(data: bytes, factor: float) -> bytes:
    """The list with ``factor`` times its entries: the first part of them, or all repeated under other names."""
    entries = _ENTRY.findall(data)
    head = data[: data.index(b"<Domaine>")]
    tail = data[data.rindex(b"</Domaine>") + len(b"</Domaine>") :].lstrip()
    if factor <= 1:
        body = b"".join(entries[: int(len(entries) * factor)])
    else:
        copies = [b"".join(entries).replace(b"<Nom>", f"<Nom>r{copy}-".encode()) for copy in range(1, int(factor))]
        body = b"".join(entries) + b"".join(copies)
    return head + body + tail


_PEER_NS = {"l": NAMESPACE}
_PEER_DOMAINS = etree.XPath("//l:Domaine", namespaces=_PEER_NS)
_PEER_FIELDS = [(field, etree.XPath(f"string(l:{field})", namespaces=_PEER_NS)) for field in FIELDS]


def peer(data: bytes) -> dict[str, list[str]]:
    """The peer approach: lxml parse, XPath extraction of every entry's fields into a dict, a domain index."""
    root = etree.fromstring(data)
    entries = [{field: query(domain) for field, query in _PEER_FIELDS} for domain in _PEER_DOMAINS(root)]
    index: dict[str, list[str]] = {}
    for entry in entries:
        index.setdefault(entry["Nom"].strip().lower(), []).append(entry["DNCertificatOperateur"].strip())
    return index


def ours(data: bytes) -> None:
    AllowList.parse(data).operators("uc-cmp.mssante.fr")  # parsed, and the domain index built


def pure(data: bytes) -> None:
    """Ours with expat as the checker (lxml hidden from the XML route)."""
    found = _xml._etree
    _xml._etree = lambda: None  # type: ignore[assignment]
    try:
        ours(data)
    finally:
        _xml._etree = found


ROWS: list[tuple[str, str, Callable[[bytes], object], Callable[[bytes], object]]] = [
    ("mssante (lxml)", "`ElementTree.fromstring`", ours, ElementTree.fromstring),
    ("mssante (lxml)", "`lxml.etree.fromstring`", ours, etree.fromstring),
    ("mssante (lxml)", "peer: lxml + XPath into dicts", ours, peer),
    ("mssante (pure)", "`ElementTree.fromstring`", pure, ElementTree.fromstring),
    ("mssante (pure)", "peer: lxml + XPath into dicts", pure, peer),
]


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=9, help="alternating turns per row (default 9)")
    turns = parser.parse_args().turns
    real = DATA.read_bytes()
    assert _xml.lxml_available(), "install the fast extra (lxml) to compare with it"
    print(f"Real allow-list: {len(real):,} bytes, 6,554 entries; {turns} alternating turns per row\n")
    print(
        "| entries | bytes | ours | baseline | ours ms min / median | baseline ms min / median | ratio min / median |"
    )
    print("|---:|---:|---|---|---:|---:|---:|")
    for factor in (1, 0.25, 2, 4):
        data = sized(real, factor)
        count = data.count(b"<Domaine>")
        for name, baseline, mine, theirs in ROWS:
            result = paired(functools.partial(mine, data), functools.partial(theirs, data), turns=turns)
            print(f"| {count:,} | {len(data):,} | {name} | {baseline} | {result.row()} |")

    allow = AllowList.parse(real)
    dn = OperatorDn.parse(MIPIH)
    number = 20_000
    domain_us = best_ms(lambda: allow.check_domain("UC-CMP.mssante.fr"), number=number) * 1e3
    operator_us = best_ms(lambda: allow.check_operator("uc-cmp.mssante.fr", dn), number=number) * 1e3
    lookup_us = best_ms(lambda: allow.operators("uc-cmp.mssante.fr"), number=number) * 1e3
    print("\n| decision | µs per call |")
    print("|---|---:|")
    print(f"| `operators(domain)` (index lookup) | {lookup_us:.2f} |")
    print(f"| `check_domain(domain)` (with its report) | {domain_us:.2f} |")
    print(f"| `check_operator(domain, dn)` (with its report) | {operator_us:.2f} |")


if __name__ == "__main__":
    main()
