"""Identifier and address checks against peer libraries, measured in the same run.

Baselines: python-stdnum (NIR and SIRET validators) and email-validator (syntax only, no DNS).
Run: ``python benchmarks/bench_identifiers.py`` (needs the ``dev`` extra). Prints a Markdown table:
microseconds per call (best of several repeats) and the ratio mssante / baseline.
"""

from __future__ import annotations

import random
import timeit
from collections.abc import Callable, Sequence

import email_validator
from stdnum.fr import nir, siret

from mssante import addresses, identifiers

REPEATS = 7


def _ins_values(count: int) -> list[str]:
    rng = random.Random(1)
    values = []
    for _ in range(count):
        body = f"{rng.choice('12')}{rng.randrange(10**12):012d}"
        key = identifiers.ins_key(body)
        values.append(body + (key if rng.random() < 0.9 else f"{(int(key) % 97) + 1:02d}"))
    return values


def _siret_values(count: int) -> list[str]:
    rng = random.Random(2)
    values = []
    for _ in range(count):
        siren = f"{rng.randrange(10**8):08d}"
        siren += identifiers.luhn_key(siren)
        body = siren + f"{rng.randrange(10**4):04d}"
        values.append(body + identifiers.luhn_key(body))
    return values


def _address_values(count: int) -> list[str]:
    rng = random.Random(3)
    names = ["dr.martin", "secretariat", "accueil-urgences", "j.dupont", "labo"]
    return [f"{rng.choice(names)}{i}@chu-{i % 97}.mssante.fr" for i in range(count)]


def _email_validator(value: str) -> bool:
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def _per_call(function: Callable[[str], object], values: Sequence[str]) -> float:
    def run() -> None:
        for value in values:
            function(value)

    best = min(timeit.repeat(run, number=1, repeat=REPEATS))
    return best / len(values) * 1e6


CASES: list[tuple[str, Callable[[str], object], str, Callable[[str], object], Callable[[int], list[str]]]] = [
    ("INS matricule check", identifiers.check_ins, "stdnum.fr.nir.is_valid", nir.is_valid, _ins_values),
    (
        "INS key only",
        lambda value: identifiers.ins_key(value[:13]),
        "stdnum.fr.nir.calc_check_digits",
        nir.calc_check_digits,
        _ins_values,
    ),
    (
        "SIRET check",
        lambda value: identifiers.check(value, "siret"),
        "stdnum.fr.siret.is_valid",
        siret.is_valid,
        _siret_values,
    ),
    ("address check", addresses.check, "email_validator (no DNS)", _email_validator, _address_values),
]


def main(count: int = 20_000) -> None:
    """Print the table of results."""
    print("| operation | mssante µs/call | baseline | baseline µs/call | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, ours, baseline_name, baseline, make in CASES:
        values = make(count)
        mine, theirs = _per_call(ours, values), _per_call(baseline, values)
        print(f"| {name} | {mine:.2f} | {baseline_name} | {theirs:.2f} | {mine / theirs:.2f} |")


if __name__ == "__main__":
    main()
