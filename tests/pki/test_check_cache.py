"""The cache a trust store keeps for verify(): what it keeps never answers for another time, purpose or CRL set."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mssante import pki
from mssante.pki import CertStatus, RevocationChecker, TrustStore
from mssante.pki._verify import CheckCache
from mssante.testing import TestPki
from tests.pki.conftest import AT, store_of

HOST = "mss.example.org"


def _codes(report: pki.CertificateReport) -> list[tuple[str, str, str]]:
    return [(finding.code, finding.severity.value, finding.where) for finding in report.report.findings]


def _fresh(certificate: x509.Certificate) -> x509.Certificate:
    """The same certificate as another object, as a TLS stack gives it on each connection."""
    return x509.load_der_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))


def _same(first: pki.CertificateReport, second: pki.CertificateReport) -> None:
    assert first.report == second.report
    assert (first.chain, first.profile, first.profiles, first.identity) == (
        second.chain,
        second.profile,
        second.profiles,
        second.identity,
    )
    assert first.revocation == second.revocation


@pytest.fixture
def store(prod_pki: TestPki) -> TrustStore:
    return store_of(prod_pki)  # a store of its own: its cache starts empty


def test_each_store_owns_its_cache_and_a_check_fills_only_its_own(
    prod_pki: TestPki, store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    other = store_of(prod_pki)
    assert isinstance(store._checks, CheckCache)
    assert store._checks is store._checks
    assert store._checks is not other._checks
    issued = prod_pki.server([HOST])
    pki.verify(issued.certificate, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls)
    assert len(store._checks) == 1
    assert len(other._checks) == 0


def test_a_checked_certificate_is_judged_again_at_another_time(
    prod_pki: TestPki, store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.server([HOST])
    certificate = issued.certificate

    def check(at: dt.datetime, cert: x509.Certificate = certificate) -> pki.CertificateReport:
        return pki.verify(cert, purpose="server", store=store, at=at, host=HOST, revocation=fresh_crls)

    assert check(AT).ok
    later = certificate.not_valid_after_utc + dt.timedelta(days=1)
    expired = check(later)
    assert not expired.ok
    assert "MSS-PKI-007" in expired.report.codes
    assert check(AT).ok  # and back: nothing of the expired answer was kept
    _same(check(later, _fresh(certificate)), pki.verify(
        certificate, purpose="server", store=store_of(prod_pki), at=later, host=HOST, revocation=fresh_crls
    ))  # fmt: skip


def test_a_checked_certificate_is_judged_again_for_another_purpose_and_host(
    prod_pki: TestPki, store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    organisation = prod_pki.organisation(usage="auth").certificate
    assert pki.verify(organisation, purpose="organisation", store=store, at=AT, revocation=fresh_crls).ok
    as_server = pki.verify(organisation, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls)
    assert not as_server.ok
    cold = pki.verify(organisation, purpose="server", store=store_of(prod_pki), at=AT, host=HOST,
                      revocation=fresh_crls)  # fmt: skip
    _same(as_server, cold)
    server = prod_pki.server([HOST]).certificate
    assert pki.verify(server, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls).ok
    other_host = pki.verify(server, purpose="server", store=store, at=AT, host="other.example.org",
                            revocation=fresh_crls)  # fmt: skip
    assert "MSS-PKI-010" in other_host.report.codes
    assert pki.verify(server, purpose="client", store=store, at=AT, revocation=fresh_crls).ok


def test_a_checked_certificate_is_judged_again_with_other_crls(prod_pki: TestPki, store: TrustStore) -> None:
    issued = prod_pki.server([HOST])
    good = RevocationChecker(crls=[prod_pki.crl("ACI-EL-ORG"), prod_pki.crl("ACR-EL")])
    revoked = RevocationChecker(crls=[prod_pki.crl("ACI-EL-ORG", revoked=[issued]), prod_pki.crl("ACR-EL")])
    for certificate in (issued.certificate, _fresh(issued.certificate)):
        first = pki.verify(certificate, purpose="server", store=store, at=AT, host=HOST, revocation=good)
        assert first.ok
        assert first.revocation[0].status is CertStatus.GOOD
        refused = pki.verify(certificate, purpose="server", store=store, at=AT, host=HOST, revocation=revoked)
        assert not refused.ok
        assert refused.revocation[0].status is CertStatus.REVOKED
        unknown = pki.verify(certificate, purpose="server", store=store, at=AT, host=HOST)
        assert not unknown.ok
        assert unknown.revocation[0].status is CertStatus.UNKNOWN
        again = pki.verify(certificate, purpose="server", store=store, at=AT, host=HOST, revocation=good)
        _same(first, again)


def test_the_intermediates_given_are_used_on_every_call(prod_pki: TestPki, fresh_crls: RevocationChecker) -> None:
    store = TrustStore.from_certificates(prod_pki.anchors, environment=prod_pki.environment)
    issued = prod_pki.server([HOST])
    alone = pki.verify(issued.certificate, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls)
    assert not alone.ok
    assert not alone.chain
    given = pki.verify(issued.certificate, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls,
                       intermediates=issued.intermediates)  # fmt: skip
    assert given.ok
    assert len(given.chain) == 3
    again = pki.verify(issued.certificate, purpose="server", store=store, at=AT, host=HOST, revocation=fresh_crls)
    _same(alone, again)


def test_the_cache_is_bounded_and_drops_the_least_recently_checked(prod_pki: TestPki, store: TrustStore) -> None:
    cache = CheckCache(store, size=3)
    certificates = [prod_pki.server([HOST]).certificate for _ in range(4)]
    readings = [cache.reading(certificate) for certificate in certificates[:3]]
    assert cache.reading(certificates[0]) is readings[0]  # checked again: now the most recent
    cache.reading(certificates[3])
    assert len(cache) == 3
    assert cache.reading(certificates[0]) is readings[0]
    assert cache.reading(_fresh(certificates[2])) is readings[2]  # an equal certificate shares the reading
    assert cache.reading(certificates[1]) is not readings[1]  # it was dropped


def test_a_certificate_checked_from_several_threads_gets_one_answer(
    prod_pki: TestPki, store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    certificates = [prod_pki.server([HOST]).certificate for _ in range(6)]
    expected = [
        _codes(pki.verify(c, purpose="server", store=store_of(prod_pki), at=AT, host=HOST, revocation=fresh_crls))
        for c in certificates
    ]
    failures: list[str] = []

    def work() -> None:
        for _ in range(3):
            for certificate, codes in zip(certificates, expected, strict=True):
                report = pki.verify(certificate, purpose="server", store=store, at=AT, host=HOST,
                                    revocation=fresh_crls)  # fmt: skip
                if _codes(report) != codes:
                    failures.append(report.report.subject)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
