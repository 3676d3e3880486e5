"""Full certificate validation (:func:`mssante.pki.verify`) against the bare ``cryptography`` verifier, same run.

The PKI is a :class:`~mssante.testing.TestPki` (production names, fixed time); every path is leaf, intermediate,
pinned root. Each baseline call builds its ``cryptography`` verifier, as a caller must since the verifier holds
the time, on a store of the roots built once (``TrustStore`` keeps its own), and is given the leaf's intermediate.
``verify`` finds the intermediate in the trust store, as with the bundled IGC Santé stores. Measured:

- ``server``: a SERV SSL leaf checked for a host name. Baseline: ``build_server_verifier``, WebPKI defaults.
- ``organisation``: an ORG AUTH_CLI leaf, the TLS client certificate of an organisation, which has no
  subjectAltName. Baseline: ``build_client_verifier`` with the WebPKI end-entity policy except that the SAN may
  be absent: the bare WebPKI client policy refuses SAN-less certificates, which IGC Santé issues to organisations.
  (The ``client`` purpose of mssante is an operator's server as a mutual-TLS client, next line.)
- ``client``: the SERV SSL leaf as a mutual-TLS client. Baseline: ``build_client_verifier``, WebPKI defaults.
- ``server, revocation on``: as ``server`` with fresh CRLs of every CA (preloaded :class:`IndexedCrl`). Baseline:
  the bare server verifier, then for each certificate of the chain but the root, ``is_signature_valid`` of its
  issuer's CRL under the issuer's key and ``get_revoked_certificate_by_serial_number`` (CRLs parsed once).
- ``new leaf each call``: ``server`` and ``organisation`` cycling through more distinct leaves (same key, other
  serial numbers) than a trust store keeps readings of, so that nothing judged from the certificate alone
  (profile, identity, fingerprint) is reused; each leaf object is parsed by ``cryptography`` on its first round, as
  the baseline's. The other lines check one certificate again and again, as for a peer that reconnects.

Revocation is ``off`` but on the revocation line: a :class:`RevocationChecker` built once, its
``SecurityWarning`` silenced. Besides the path, ``verify`` judges the signature algorithm, critical extensions,
key usages, IGC Santé profile and identity (identifiers, GIP-CPS private extensions) and builds a report of coded
findings: the ratio is the price of that.

Each case and its baseline run in turns (as ``timing.paired``), enough calls a turn to last about 0.05 s, timed in
CPU time of the process so that other work on a shared machine weighs on neither side.

Run: ``python benchmarks/bench_verify.py [--turns N]`` (needs the ``dev`` extra). Prints a Markdown table:
microseconds per call, minimum and median over the turns, and the ratios mssante / baseline.
"""

from __future__ import annotations

import argparse
import itertools
import time
import timeit
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import verification
from timing import TURNS, paired

from mssante import pki
from mssante.errors import SecurityWarning
from mssante.pki import CertStatus, Environment, IndexedCrl, RevocationChecker, RevocationMode, TrustStore
from mssante.testing import CA_NAMES, TestPki

TURN_SECONDS = 0.05
TARGET_SAME = 1.3
TARGET_NEW = 1.5
DISTINCT_LEAVES = 600  # more than a reading cache of the default size keeps
AT = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HOST = "mss.example.org"

Leaves = Iterator[x509.Certificate]


def _calls_per_turn(function: Callable[[], object]) -> int:
    """How many calls of ``function`` last about :data:`TURN_SECONDS`."""
    timer = timeit.Timer(function, timer=time.process_time)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= TURN_SECONDS / 5:
            return max(1, round(number * TURN_SECONDS / elapsed))
        number *= 2


def _server_baseline(roots: verification.Store, leaf: x509.Certificate, intermediate: x509.Certificate) -> object:
    builder = verification.PolicyBuilder().store(roots).time(AT)
    return builder.build_server_verifier(x509.DNSName(HOST)).verify(leaf, [intermediate])


_SAN_OPTIONAL = verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
)


def _client_baseline(
    roots: verification.Store, leaf: x509.Certificate, intermediate: x509.Certificate, *, san_optional: bool
) -> object:
    builder = verification.PolicyBuilder().store(roots).time(AT)
    if san_optional:
        builder = builder.extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(), ee_policy=_SAN_OPTIONAL
        )
    return builder.build_client_verifier().verify(leaf, [intermediate]).chain


def _revocation_baseline(
    roots: verification.Store,
    leaf: x509.Certificate,
    intermediate: x509.Certificate,
    crls: dict[x509.Name, x509.CertificateRevocationList],
) -> None:
    chain = _server_baseline(roots, leaf, intermediate)
    assert isinstance(chain, list)
    for subject, issuer in itertools.pairwise(chain):
        crl = crls[issuer.subject]
        key = issuer.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        if not crl.is_signature_valid(key) or crl.get_revoked_certificate_by_serial_number(subject.serial_number):
            raise AssertionError("the baseline found a bad CRL or a revoked certificate")


def main() -> None:
    """Build the PKI, check that every operation accepts its certificate, then measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=TURNS)
    turns = parser.parse_args().turns
    test_pki = TestPki.create(environment=Environment.PROD, at=AT)
    store = TrustStore.from_certificates([*test_pki.anchors, *test_pki.intermediates], environment=Environment.PROD)
    roots = verification.Store(test_pki.anchors)
    server, organisation = test_pki.server([HOST]), test_pki.organisation(usage="auth")
    server_ca, org_ca = server.intermediates[0], organisation.intermediates[0]
    crl_ders = [test_pki.crl(name) for name in CA_NAMES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        off = RevocationChecker(mode=RevocationMode.OFF)
    fresh_crls = RevocationChecker(crls=[IndexedCrl.load(der) for der in crl_ders])
    parsed_crls = {crl.issuer: crl for crl in map(x509.load_der_x509_crl, crl_ders)}

    def same(certificate: x509.Certificate) -> Leaves:
        return itertools.repeat(certificate)

    def new_each_call(make: Callable[[], x509.Certificate]) -> Leaves:
        return itertools.cycle([make() for _ in range(DISTINCT_LEAVES)])

    def ours(leaves: Leaves, purpose: str, revocation: RevocationChecker) -> Callable[[], pki.CertificateReport]:
        host = HOST if purpose == "server" else None
        return lambda: pki.verify(next(leaves), purpose=purpose, store=store, at=AT, host=host, revocation=revocation)

    new_servers = new_each_call(lambda: test_pki.server([HOST], key=server.key).certificate)
    new_organisations = new_each_call(lambda: test_pki.organisation(usage="auth", key=organisation.key).certificate)
    server_leaf, org_leaf = same(server.certificate), same(organisation.certificate)
    webpki_server = "`build_server_verifier`, WebPKI defaults"
    webpki_client_no_san = "`build_client_verifier`, WebPKI defaults but SAN may be absent"
    cases: list[tuple[str, Callable[[], pki.CertificateReport], str, Callable[[], object]]] = [
        (
            "server (SERV SSL), revocation off",
            ours(server_leaf, "server", off),
            webpki_server,
            lambda: _server_baseline(roots, next(server_leaf), server_ca),
        ),
        (
            "organisation (ORG AUTH_CLI, TLS client), revocation off",
            ours(org_leaf, "organisation", off),
            webpki_client_no_san,
            lambda: _client_baseline(roots, next(org_leaf), org_ca, san_optional=True),
        ),
        (
            "client (SERV SSL, mutual TLS), revocation off",
            ours(server_leaf, "client", off),
            "`build_client_verifier`, WebPKI defaults",
            lambda: _client_baseline(roots, next(server_leaf), server_ca, san_optional=False),
        ),
        (
            "server (SERV SSL), revocation on (fresh CRLs)",
            ours(server_leaf, "server", fresh_crls),
            "server verifier + CRL signature + serial lookup per certificate",
            lambda: _revocation_baseline(roots, next(server_leaf), server_ca, parsed_crls),
        ),
        (
            "server (SERV SSL), revocation off, new leaf each call",
            ours(new_servers, "server", off),
            webpki_server,
            lambda: _server_baseline(roots, next(new_servers), server_ca),
        ),
        (
            "organisation (ORG AUTH_CLI), revocation off, new leaf each call",
            ours(new_organisations, "organisation", off),
            webpki_client_no_san,
            lambda: _client_baseline(roots, next(new_organisations), org_ca, san_optional=True),
        ),
    ]
    for name, function, _, baseline in cases:
        report = function()
        if not (report.ok and len(report.chain) == 3):
            raise AssertionError(f"{name}: not accepted\n{report.report}")
        if revocation_on := "revocation on" in name:
            assert all(result.status is CertStatus.GOOD for result in report.revocation), name
        assert revocation_on or all(result.status is CertStatus.UNKNOWN for result in report.revocation), name
        baseline()

    print(f"CPU µs per call, min / median of {turns} alternating turns\n")
    print("| operation | mssante µs | baseline | baseline µs | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, function, baseline_name, baseline in cases:
        number = _calls_per_turn(baseline)
        result = paired(function, baseline, number=number, turns=turns, timer=time.process_time)
        print(
            f"| {name} | {result.ours_min * 1e3:.1f} / {result.ours_median * 1e3:.1f} | {baseline_name} "
            f"| {result.baseline_min * 1e3:.1f} / {result.baseline_median * 1e3:.1f} "
            f"| {result.ratio_min:.2f}x / {result.ratio_median:.2f}x |"
        )
    print()
    print(
        f"Targets: at most {TARGET_SAME}x the bare verifier for a certificate checked again, {TARGET_NEW}x for a new "
        "one (leaf + intermediate to a pinned root, revocation off). The ORG AUTH_CLI baseline lets the SAN be "
        "absent: the bare WebPKI client policy refuses SAN-less certificates. With revocation on, an IndexedCrl "
        "keeps the result of its signature check, where the baseline verifies each CRL signature on every call."
    )


if __name__ == "__main__":
    main()
