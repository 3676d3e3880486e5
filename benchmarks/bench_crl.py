"""CRL indexing and lookups at several sizes, against bare ``cryptography`` in the same run.

Time baseline: ``x509.load_der_x509_crl`` plus one pass over the entries reading each serial number, the least any
index must do; :meth:`IndexedCrl.load` (parse + index) and the baseline run in turns (as ``timing.paired``, minimum
and median, in CPU time of the process so that other work on a shared machine weighs on neither side). Memory
baseline: the parsed CRL and a bare ``set`` of its serial numbers, the least a lookup structure keeps; each side is
built in a fresh subprocess, which reports the ``tracemalloc`` peak and the resident memory kept after the build
(the CRL bytes are read before either is measured). Lookups: ``revoked(serial)`` for serials not listed (the common
case) and listed ones. Targets: loading at most 1.2x the baseline at every size, memory at most 1.3x the bare set, a
lookup of a serial not listed under 5 microseconds.

Run: ``python benchmarks/bench_crl.py [--entries N ...] [--turns T]`` (default 10,000 and 200,000 entries; add
1000000 for the largest size, which takes a while). Each CRL is built once and kept in the temporary directory
(``mssante-bench/``); building 200,000 entries takes a few seconds. Prints one Markdown table per size.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
import timeit
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from timing import paired

from mssante.pki import IndexedCrl

LOOKUPS = 100_000
HITS = 200
LOAD_TARGET = 1.2
MEMORY_TARGET = 1.3
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


def _resident() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _bare_set(der: bytes) -> object:
    crl = x509.load_der_x509_crl(der)
    return crl, {entry.serial_number for entry in crl}


def memory_child(side: str, entries: int) -> None:
    """In a fresh process: build ``side`` (``ours`` or ``bare``) and print its memory as JSON."""
    der, _ = crl_fixture(entries)
    build: Callable[[], object] = (lambda: IndexedCrl.load(der)) if side == "ours" else (lambda: _bare_set(der))
    gc.collect()
    before = _resident()
    built = build()
    kept = _resident() - before
    del built
    gc.collect()
    tracemalloc.start()
    built = build()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del built
    print(json.dumps({"rss": kept, "peak": peak}))


def _memory(side: str, entries: int) -> dict[str, int]:
    command = [sys.executable, __file__, "--memory-child", side, "--entries", str(entries)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, int] = json.loads(output.splitlines()[-1])
    return result


def _per_call_us(function: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def _first_lookup(crl: IndexedCrl, serial: int) -> float:
    """Microseconds of the first ``revoked(serial)`` on a freshly loaded CRL."""
    start = timeit.default_timer()
    crl.revoked(serial)
    return (timeit.default_timer() - start) * 1e6


def measure(entries: int, turns: int) -> None:
    """Measure one size and print its table."""
    der, issuer = crl_fixture(entries)

    def baseline() -> None:
        for entry in x509.load_der_x509_crl(der):
            entry.serial_number  # noqa: B018 - the read is what is measured

    load = paired(lambda: IndexedCrl.load(der), baseline, timer=time.process_time, turns=turns)
    ours_memory, bare_memory = _memory("ours", entries), _memory("bare", entries)
    rss_ratio = ours_memory["rss"] / max(bare_memory["rss"], 1)
    peak_ratio = ours_memory["peak"] / max(bare_memory["peak"], 1)

    crl = IndexedCrl.load(der)
    rng = random.Random(5)
    listed = [FIRST_SERIAL + rng.randrange(entries) * STEP for _ in range(LOOKUPS)]
    misses = [serial + 1 for serial in listed]
    hits = listed[:HITS]

    def lookup_misses() -> None:
        for serial in misses:
            crl.revoked(serial)

    def lookup_hits() -> None:
        for serial in hits:
            crl.revoked(serial)

    miss = _per_call_us(lookup_misses, 1) / LOOKUPS
    first_hit = min(_first_lookup(IndexedCrl.load(der), serial) for serial in hits[:3])
    lookup_hits()
    hit = _per_call_us(lookup_hits, 10) / HITS
    verify = min(timeit.repeat(lambda: IndexedCrl.load(der).check_signature(issuer, at=AT), number=1, repeat=3))

    print(
        f"CRL: {entries:,} entries, {len(der) / 1e6:.1f} MB DER; CPU time min / median of {turns} alternating turns\n"
    )
    print("| measure | `IndexedCrl.load` | baseline | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| load + index, ms (baseline: `load_der_x509_crl` + read every serial) | {load.ours_min:.1f} / "
        f"{load.ours_median:.1f} | {load.baseline_min:.1f} / {load.baseline_median:.1f} "
        f"| {load.ratio_min:.2f}x / {load.ratio_median:.2f}x |"
    )
    print(
        f"| memory kept (RSS), MB (baseline: parsed CRL + `set` of serials) | {ours_memory['rss'] / 1e6:.1f} "
        f"| {bare_memory['rss'] / 1e6:.1f} | {rss_ratio:.2f}x |"
    )
    print(
        f"| memory peak (tracemalloc), MB (same baseline) | {ours_memory['peak'] / 1e6:.1f} "
        f"| {bare_memory['peak'] / 1e6:.1f} | {peak_ratio:.2f}x |"
    )
    verdicts = [
        f"load {'met' if load.ratio_min <= LOAD_TARGET else 'NOT met'} (≤ {LOAD_TARGET}x)",
        f"memory {'met' if max(rss_ratio, peak_ratio) <= MEMORY_TARGET else 'NOT met'} (≤ {MEMORY_TARGET}x)",
        f"lookup {'met' if miss < LOOKUP_TARGET_US else 'NOT met'} (< {LOOKUP_TARGET_US:g} µs)",
    ]
    print(f"\nTargets: {'; '.join(verdicts)}.\n")
    print("| lookup | µs per call |")
    print("|---|---:|")
    print(f"| `revoked(serial)`, serial not listed | {miss:.2f} |")
    print(f"| `revoked(serial)`, listed serial, first lookup of it | {first_hit:,.1f} |")
    print(f"| `revoked(serial)`, listed serial, looked up before | {hit:.2f} |")
    print(f"| for reference: load + signature check (P-256, SHA-256 over the whole CRL) | {verify * 1e6:,.0f} |")
    print()


def main() -> None:
    """Measure each size and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--turns", type=int, default=9)
    parser.add_argument("--memory-child", choices=["ours", "bare"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(arguments.memory_child, arguments.entries[0])
        return
    for entries in arguments.entries:
        measure(entries, arguments.turns)


if __name__ == "__main__":
    main()
