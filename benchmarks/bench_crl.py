"""CRL indexing and lookups on a 200,000-entry CRL, against bare ``cryptography`` in the same run.

Baseline: ``x509.load_der_x509_crl`` plus one pass over the entries reading each serial number, the least any
index must do. Measured: :meth:`IndexedCrl.load` (parse + index), ``revoked(serial)`` lookups (hits and misses),
and for comparison other ways to index or look up. Targets: loading at most 1.3x the baseline, a lookup under
5 microseconds.

Run: ``python benchmarks/bench_crl.py [--entries N]``. The CRL is built once and kept in the temporary directory
(``mssante-bench/``); building 200,000 entries takes a few seconds. Prints a Markdown table (best of several
repeats).
"""

from __future__ import annotations

import argparse
import operator
import random
import tempfile
import timeit
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mssante.pki._revocation import IndexedCrl

REPEATS = 7
LOOKUPS = 100_000
LOAD_TARGET = 1.3
LOOKUP_TARGET_US = 5.0
AT = datetime(2025, 6, 2, tzinfo=timezone.utc)
FIRST_SERIAL = 0x1D2F3A4B5C6D7E8F9A0B  # 20-byte-ish serials, as CAs issue them
STEP = 7919


def _build(entries: int) -> tuple[bytes, bytes]:
    """A CRL of ``entries`` serials signed by a fresh P-256 key, and that key's certificate (both DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.COMMON_NAME, "BENCH AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(AT - timedelta(days=365))
        .not_valid_after(AT + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    revoked = [
        x509.RevokedCertificateBuilder()
        .serial_number(FIRST_SERIAL + index * STEP)
        .revocation_date(AT - timedelta(seconds=index))
        .build()
        for index in range(entries)
    ]
    # The constructor takes the entries at once; add_revoked_certificate() copies the list each time (quadratic).
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=name,
        last_update=AT - timedelta(hours=1),
        next_update=AT + timedelta(days=1),
        revoked_certificates=revoked,
    )
    crl = builder.sign(key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.DER)


def crl_fixture(entries: int) -> tuple[bytes, x509.Certificate]:
    """The cached benchmark CRL and its issuer, built on first use."""
    directory = Path(tempfile.gettempdir()) / "mssante-bench"
    crl_path, cert_path = directory / f"crl-{entries}.der", directory / f"crl-{entries}-issuer.der"
    if not (crl_path.exists() and cert_path.exists()):
        directory.mkdir(exist_ok=True)
        crl_der, cert_der = _build(entries)
        crl_path.write_bytes(crl_der)
        cert_path.write_bytes(cert_der)
    return crl_path.read_bytes(), x509.load_der_x509_certificate(cert_path.read_bytes())


def best(function: Callable[[], object], *, number: int = 1) -> float:
    """Best time of :data:`REPEATS` runs, in seconds per call."""
    return min(timeit.repeat(function, number=number, repeat=REPEATS)) / number


def main() -> None:
    """Measure and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    entries = parser.parse_args().entries
    der, issuer = crl_fixture(entries)

    def baseline() -> None:
        for entry in x509.load_der_x509_crl(der):
            entry.serial_number  # noqa: B018 - the read is what is measured

    def dict_of_dates() -> dict[int, datetime]:
        return {entry.serial_number: entry.revocation_date_utc for entry in x509.load_der_x509_crl(der)}

    def dict_of_entries() -> dict[int, x509.RevokedCertificate]:
        return {entry.serial_number: entry for entry in x509.load_der_x509_crl(der)}

    def dict_from_iterators() -> dict[int, x509.RevokedCertificate]:
        entries = list(x509.load_der_x509_crl(der))
        return dict(zip(map(operator.attrgetter("serial_number"), entries), entries, strict=True))

    def sorted_serials() -> list[int]:
        return sorted(entry.serial_number for entry in x509.load_der_x509_crl(der))

    base = best(baseline)
    rows: list[tuple[str, float, str]] = [("baseline: `load_der_x509_crl` + read every serial", base, "1.00")]
    loaded = best(lambda: IndexedCrl.load(der))
    rows.append(("**`IndexedCrl.load`** (parse + index serial → entry)", loaded, f"**{loaded / base:.2f}**"))
    for label, option in [
        ("option: dict serial → `revocation_date_utc`", dict_of_dates),
        ("option: dict serial → entry, dict comprehension", dict_of_entries),
        (
            "option: dict serial → entry, `dict(zip(map(attrgetter(...))))` (what `IndexedCrl` does)",
            dict_from_iterators,
        ),
        ("option: sorted list of serials (for `bisect`)", sorted_serials),
    ]:
        seconds = best(option)
        rows.append((label, seconds, f"{seconds / base:.2f}"))
    parse_only = best(lambda: x509.load_der_x509_crl(der))
    rows.append(("for reference: `load_der_x509_crl` alone (lazy)", parse_only, f"{parse_only / base:.2f}"))

    crl = IndexedCrl.load(der)
    rng = random.Random(5)
    hits = [FIRST_SERIAL + rng.randrange(entries) * STEP for _ in range(LOOKUPS)]
    misses = [serial + 1 for serial in hits]

    def lookup_hits() -> None:
        for serial in hits:
            crl.revoked(serial)

    def lookup_misses() -> None:
        for serial in misses:
            crl.revoked(serial)

    hit = best(lookup_hits) / LOOKUPS
    miss = best(lookup_misses) / LOOKUPS
    raw = x509.load_der_x509_crl(der)
    scan = min(timeit.repeat(lambda: raw.get_revoked_certificate_by_serial_number(hits[0]), number=20, repeat=3)) / 20
    verify = min(timeit.repeat(lambda: IndexedCrl.load(der).check_signature(issuer, at=AT), number=1, repeat=3))

    print(f"CRL: {entries:,} entries, {len(der) / 1e6:.1f} MB DER; best of {REPEATS} runs\n")
    print("| load and index | ms | ratio to baseline |")
    print("|---|---:|---:|")
    for label, seconds, ratio in rows:
        print(f"| {label} | {seconds * 1e3:.1f} | {ratio} |")
    verdict = "met" if loaded / base <= LOAD_TARGET else "NOT met"
    print(f"\nTarget: `IndexedCrl.load` at most {LOAD_TARGET}x the baseline: {verdict} ({loaded / base:.2f}x).\n")
    print("| lookup | µs per call |")
    print("|---|---:|")
    print(f"| `IndexedCrl.revoked(serial)`, listed serial (returns its date) | {hit * 1e6:.2f} |")
    print(f"| `IndexedCrl.revoked(serial)`, serial not listed | {miss * 1e6:.2f} |")
    print(f"| for reference: `get_revoked_certificate_by_serial_number` (linear scan) | {scan * 1e6:,.0f} |")
    print(f"| for reference: load + signature check (P-256, SHA-256 over the whole CRL) | {verify * 1e6:,.0f} |")
    verdict = "met" if max(hit, miss) * 1e6 < LOOKUP_TARGET_US else "NOT met"
    print(f"\nTarget: a lookup under {LOOKUP_TARGET_US:g} µs: {verdict}.")


if __name__ == "__main__":
    main()
