"""Differential tests: mssante's path validation and revocation verdicts against pyhanko-certvalidator's.

Each case is built with the test PKIs of the other tests: valid chains of every TLS profile and of the TEST
hierarchy; time (expired, not yet valid, an expired CA, the last second); revocation (by the CA's CRL, by the
root's CRL, by OCSP, on hold, a separate CRL signer, missing, stale, future-dated and wrongly signed CRLs, OCSP
answers unknown, stale or from a wrong responder); paths (a look-alike issuer, the other environment, a broken
signature, a path length, name constraints, CAs without keyCertSign or cA); and leaves (an unknown critical
extension, SHA-1, usages missing). Both implementations get the same anchors, intermediates, CRLs and OCSP
responses and judge at the same moment, fail-closed on revocation (mssante's ``hard``, pyhanko's ``require``),
for the same usages (digitalSignature and clientAuth: the TLS client purposes; pyhanko has no host name check).
Their verdicts must agree: ok, refused, or revoked.

The known differences are :data:`KNOWN_DIFFERENCES`, each shown by a case: rules mssante applies and pyhanko
does not, three of IGC Santé (profiles, environments, the root trusted only above a pinned CA) and two stricter
readings of revocation information.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mssante import pki
from mssante.pki import CertStatus, Environment, RevocationChecker, TrustStore
from mssante.pki._signing import DEFAULT_CLOCK_SKEW
from mssante.testing import IssuedCertificate, TestPki
from tests.pki.conftest import AT, ca_pair, issue, store_of

pytest.importorskip("pyhanko_certvalidator")
asn1_x509: Any = pytest.importorskip("asn1crypto.x509")

from pyhanko_certvalidator import CertificateValidator, ValidationContext  # noqa: E402
from pyhanko_certvalidator.errors import (  # noqa: E402
    InvalidCertificateError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.validate import validate_usage  # noqa: E402

Verdict = Literal["ok", "refused", "revoked"]

# The same settings on both sides: SHA-1 and MD5 prove nothing, and revocation information may be dated up to
# mssante's clock-skew allowance after the moment checked. (pyhanko applies that tolerance to every time it
# compares; the cases keep certificates' own times a day or more from the moment checked, or exactly on it.)
WEAK_HASHES = {"md2", "md5", "sha1"}

KNOWN_DIFFERENCES: dict[str, str] = {
    "profile": (
        "IGC Santé profiles: mssante requires the profile of the purpose (a SERV SSL certificate issued by an "
        "ELEMENTAIRE ORGANISATIONS CA, DNS names, a valid IdNat_Struct or IdNat_PS...). pyhanko checks RFC 5280 "
        "and the usages asked for, and knows nothing of IGC Santé's CAs and identifiers."
    ),
    "environment": (
        "IGC Santé environments: a production store never accepts a chain that ends at a TEST CA, even when TEST "
        "roots were put in it by hand (MSS-PKI-009). To pyhanko a root is a root."
    ),
    "guarded-anchor": (
        "A root added from a download without a pin of its own (TEST AC RACINE IGC-SANTE FORT) is trusted by "
        "mssante only on paths through the CA whose key it pins (ACI-FO-PP-TEST). pyhanko trusts every path to "
        "a trust root."
    ),
    "sha1-crl": (
        "A SHA-1 (or MD5) signature proves nothing to mssante, on a CRL as on a certificate or an OCSP response "
        "(MSS-REV-009): the status stays unknown. pyhanko applies its weak-hash list to certificates and OCSP "
        "responses, not to CRL signatures, and takes the CRL."
    ),
    "remove-from-crl": (
        "An entry of reason removeFromCRL in a complete CRL: RFC 5280 §5.3.1 keeps that reason for delta CRLs, "
        "so such a CRL is malformed. mssante counts every entry of a complete CRL as a revocation (fail closed); "
        "pyhanko, as OpenSSL does, reads it as 'not revoked'."
    ),
}
"""The known, justified differences: each is a rule mssante applies and pyhanko does not, shown by a case."""


@attrs.frozen(kw_only=True)
class Case:
    """One certificate to judge, what both implementations are given, and the verdicts expected."""

    leaf: x509.Certificate
    store: TrustStore
    intermediates: tuple[x509.Certificate, ...] = ()  # given with the leaf, beyond the store's
    crls: tuple[bytes, ...] = ()
    ocsp: tuple[bytes, ...] = ()
    crl_signers: tuple[x509.Certificate, ...] = ()
    purpose: str = "client"
    at: dt.datetime = AT
    expected: Verdict
    difference: str | None = None  # a key of KNOWN_DIFFERENCES...
    pyhanko: Verdict = "ok"  # ...and then pyhanko's verdict


def mssante_verdict(case: Case) -> Verdict:
    checker = RevocationChecker(crls=case.crls, ocsp_responses=case.ocsp, crl_signers=case.crl_signers)
    result = pki.verify(
        case.leaf, purpose=case.purpose, store=case.store, at=case.at, intermediates=case.intermediates,
        revocation=checker,
    )  # fmt: skip
    if any(status.status is CertStatus.REVOKED for status in result.revocation):
        return "revoked"
    return "ok" if result.ok else "refused"


def _asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def pyhanko_verdict(case: Case) -> Verdict:
    others = (*case.store.intermediates, *case.intermediates, *case.crl_signers)
    context = ValidationContext(
        trust_roots=[_asn1(anchor) for anchor in case.store.anchors],
        other_certs=[_asn1(certificate) for certificate in others],
        crls=list(case.crls),
        ocsps=list(case.ocsp),
        moment=case.at,
        revocation_mode="require",
        allow_fetching=False,
        weak_hash_algos=WEAK_HASHES,
        time_tolerance=DEFAULT_CLOCK_SKEW,
    )
    leaf = _asn1(case.leaf)
    try:
        asyncio.run(CertificateValidator(leaf, validation_context=context).async_validate_path())
        validate_usage(leaf, {"digital_signature"}, {"client_auth"}, extended_optional=False)
    except RevokedError:
        return "revoked"
    except (PathBuildingError, PathValidationError, InvalidCertificateError):
        return "refused"
    return "ok"


@attrs.frozen(kw_only=True)
class Corpus:
    """The test PKIs, and the stores and CAs the cases share."""

    prod: TestPki
    test: TestPki
    foreign: TestPki  # production names, other keys
    other_test: TestPki  # TEST names, other keys

    def store(self, testing: TestPki | None = None) -> TrustStore:
        return store_of(testing or self.prod)

    def crls(self, *names: str, testing: TestPki | None = None, **options: Any) -> tuple[bytes, ...]:
        return tuple((testing or self.prod).crl(name, **options) for name in names)


def _good(issued: IssuedCertificate, corpus: Corpus, *crls: str, purpose: str = "client") -> Case:
    return Case(leaf=issued.certificate, store=corpus.store(), crls=corpus.crls(*crls), purpose=purpose, expected="ok")


def _server(corpus: Corpus, expected: Verdict, **variant: Any) -> Case:
    leaf = corpus.prod.server(**variant).certificate
    return Case(leaf=leaf, store=corpus.store(), crls=corpus.crls("ACI-EL-ORG", "ACR-EL"), expected=expected)


def _key_usage(**usages: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")  # fmt: skip
    return x509.KeyUsage(**{name: usages.get(name, False) for name in names})


def _crl_listing(corpus: Corpus, expected: Verdict, revoked: bool | dt.datetime = False, **options: Any) -> Case:
    """A server certificate whose CA's CRL has ``options``, and lists it when ``revoked`` (true, or a date)."""
    issued = corpus.prod.server()
    serial = issued.certificate.serial_number
    entries = [] if revoked is False else [issued] if revoked is True else [(serial, revoked)]
    crl = corpus.prod.crl("ACI-EL-ORG", revoked=entries, **options)
    return Case(leaf=issued.certificate, store=corpus.store(), crls=(crl, corpus.prod.crl("ACR-EL")), expected=expected)


def _odd_ca(corpus: Corpus, unit: str, extension: x509.ExtensionType) -> Case:
    """A CA under ACR-EL whose ``extension`` replaces the usual one, and a leaf it issued."""
    ca, key, crl = _new_ca(corpus, ca_pair(corpus.prod, "ACR-EL"), unit, extension)
    leaf = issue(corpus.prod.server().certificate, (ca, key))
    return Case(leaf=leaf, store=corpus.store(), intermediates=(ca,), crls=(crl, *corpus.crls("ACR-EL")),
                expected="refused")  # fmt: skip


def _boundary(corpus: Corpus) -> Case:
    # Checked at the very second the leaf expires: still valid (RFC 5280 §4.1.2.5, inclusive).
    issued = corpus.prod.server()
    end = issued.certificate.not_valid_after_utc
    crls = corpus.crls("ACI-EL-ORG", "ACR-EL", this_update=end - dt.timedelta(hours=1))
    return Case(leaf=issued.certificate, store=corpus.store(), crls=crls, at=end, expected="ok")


def _new_ca(
    corpus: Corpus, parent: tuple[x509.Certificate, rsa.RSAPrivateKey], unit: str, *extra: x509.ExtensionType
) -> tuple[x509.Certificate, rsa.RSAPrivateKey, bytes]:
    """A CA named as ELEMENTAIRE ORGANISATIONS (so the leaves keep their profile) under ``parent``, and its CRL."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name.from_rfc4514_string(f"CN=AC IGC-SANTE ELEMENTAIRE ORGANISATIONS,OU={unit},O=ASIP-SANTE,C=FR")
    template = corpus.prod.ca("ACI-EL-ORG").certificate
    certificate = issue(template, parent, public_key=key.public_key(), subject=subject, replace=extra, critical=True)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(subject)
        .last_update(AT - dt.timedelta(hours=1))
        .next_update(AT + dt.timedelta(days=7))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    return certificate, key, crl


def _path_length(corpus: Corpus) -> Case:
    # ACI-EL-ORG has pathLen 0: a CA under it cannot issue.
    sub, key, crl = _new_ca(corpus, ca_pair(corpus.prod, "ACI-EL-ORG"), "SOUS-AC")
    leaf = issue(corpus.prod.server().certificate, (sub, key))
    crls = (crl, *corpus.crls("ACI-EL-ORG", "ACR-EL"))
    return Case(leaf=leaf, store=corpus.store(), intermediates=(sub,), crls=crls, expected="refused")


def _name_constraints(corpus: Corpus, host: str, expected: Verdict) -> Case:
    permitted = x509.NameConstraints(permitted_subtrees=[x509.DNSName("example.org")], excluded_subtrees=None)
    ca, key, crl = _new_ca(corpus, ca_pair(corpus.prod, "ACR-EL"), "CONTRAINTE", permitted)
    leaf = issue(corpus.prod.server([host]).certificate, (ca, key))
    return Case(leaf=leaf, store=corpus.store(), intermediates=(ca,), crls=(crl, *corpus.crls("ACR-EL")),
                expected=expected)  # fmt: skip


def _expired_ca(corpus: Corpus) -> Case:
    later = corpus.prod.ca("ACI-EL-ORG").certificate.not_valid_after_utc + dt.timedelta(days=1)
    leaf = corpus.prod.server(not_after=later + dt.timedelta(days=30)).certificate
    start, end = later - dt.timedelta(hours=1), later + dt.timedelta(days=7)
    crls = corpus.crls("ACI-EL-ORG", "ACR-EL", this_update=start, next_update=end)
    return Case(leaf=leaf, store=corpus.store(), crls=crls, at=later, expected="refused")


def _revoked(corpus: Corpus) -> Case:
    issued = corpus.prod.server()
    crls = (corpus.prod.crl("ACI-EL-ORG", revoked=[issued]), corpus.prod.crl("ACR-EL"))
    return Case(leaf=issued.certificate, store=corpus.store(), crls=crls, expected="revoked")


def _revoked_ca(corpus: Corpus) -> Case:
    crls = (
        corpus.prod.crl("ACI-EL-ORG"),
        corpus.prod.crl("ACR-EL", revoked=[corpus.prod.ca("ACI-EL-ORG").certificate]),
    )
    return Case(leaf=corpus.prod.server().certificate, store=corpus.store(), crls=crls, expected="revoked")


def _ocsp(corpus: Corpus, status: CertStatus, expected: Verdict, **options: Any) -> Case:
    issued = corpus.prod.server()
    response = corpus.prod.ocsp_response(issued, status, **options)
    return Case(leaf=issued.certificate, store=corpus.store(), ocsp=(response,), crls=corpus.crls("ACR-EL"),
                expected=expected)  # fmt: skip


def _separate_crl_signer(corpus: Corpus) -> Case:
    crls = (corpus.prod.crl("ACI-EL-ORG", signer="separate"), corpus.prod.crl("ACR-EL"))
    signer = corpus.prod.crl_signer("ACI-EL-ORG").certificate
    return Case(leaf=corpus.prod.server().certificate, store=corpus.store(), crls=crls, crl_signers=(signer,),
                expected="ok")  # fmt: skip


def _broken_signature(corpus: Corpus) -> Case:
    der = bytearray(corpus.prod.server().certificate.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte of the signature
    leaf = x509.load_der_x509_certificate(bytes(der))
    return Case(leaf=leaf, store=corpus.store(), crls=corpus.crls("ACI-EL-ORG", "ACR-EL"), expected="refused")


def _guarded_anchor(corpus: Corpus) -> Case:
    # A root downloaded as TEST AC RACINE IGC-SANTE FORT (the look-alike's) that issued the genuine key of
    # ACI-FO-PP-TEST: it is trusted through that CA only, not through a CA of its own.
    genuine = corpus.test.ca("ACI-FO-PER").certificate
    resigned = issue(genuine, ca_pair(corpus.other_test, "ACR-FO"))
    store = TrustStore.from_certificates(
        [corpus.test.ca("ACR-EL").certificate], environment="test", catalogue=corpus.test.published_cas()
    ).with_published_cas([corpus.other_test.ca("ACR-FO").certificate, resigned])
    crls = corpus.crls("ACI-FO-PER", "ACR-FO", testing=corpus.other_test)
    its_own_ca = corpus.other_test.ca("ACI-FO-PER").certificate
    return Case(
        leaf=corpus.other_test.person().certificate, store=store, intermediates=(its_own_ca,), crls=crls,
        purpose="person", expected="refused", difference="guarded-anchor",
    )  # fmt: skip


CASES: dict[str, Callable[[Corpus], Case]] = {
    # Valid chains, one per TLS profile and environment.
    "server": lambda c: _good(c.prod.server(), c, "ACI-EL-ORG", "ACR-EL"),
    "organisation": lambda c: _good(c.prod.organisation(), c, "ACI-EL-ORG", "ACR-EL", purpose="organisation"),
    "person": lambda c: _good(c.prod.person(), c, "ACI-FO-PER", "ACR-FO", purpose="person"),
    "test-hierarchy": lambda c: Case(
        leaf=c.test.server().certificate,
        store=c.store(c.test),
        crls=c.crls("ACI-EL-ORG", "ACR-EL", testing=c.test),
        expected="ok",
    ),
    # Time.
    "expired": lambda c: _server(c, "refused", expired=True),
    "not-yet-valid": lambda c: _server(c, "refused", not_yet_valid=True),
    "expired-ca": _expired_ca,
    "checked-at-the-last-second": _boundary,
    # Revocation.
    "revoked-by-crl": _revoked,
    "ca-revoked-by-the-root-crl": _revoked_ca,
    "revoked-by-ocsp": lambda c: _ocsp(c, CertStatus.REVOKED, "revoked"),
    "good-by-ocsp": lambda c: _ocsp(c, CertStatus.GOOD, "ok"),
    "good-by-ocsp-signed-by-the-ca": lambda c: _ocsp(c, CertStatus.GOOD, "ok", responder="ca"),
    "ocsp-unknown-status": lambda c: _ocsp(c, CertStatus.UNKNOWN, "refused"),
    "ocsp-by-a-wrong-responder": lambda c: _ocsp(c, CertStatus.GOOD, "refused", responder=c.prod.server()),
    "stale-ocsp": lambda c: _ocsp(
        c, CertStatus.GOOD, "refused", this_update=AT - dt.timedelta(days=3), next_update=AT - dt.timedelta(days=1)
    ),
    "on-hold": lambda c: _crl_listing(c, "revoked", revoked=True, reason=x509.ReasonFlags.certificate_hold),
    "revoked-after-the-moment-checked": lambda c: _crl_listing(c, "ok", revoked=AT + dt.timedelta(days=1)),
    "crl-issued-within-the-clock-skew": lambda c: _crl_listing(c, "ok", this_update=AT + dt.timedelta(minutes=2)),
    "separate-crl-signer": _separate_crl_signer,
    "no-crl-for-the-ca": lambda c: Case(
        leaf=c.prod.server().certificate, store=c.store(), crls=c.crls("ACI-EL-ORG"), expected="refused"
    ),
    "stale-crl": lambda c: Case(
        leaf=c.prod.server().certificate,
        store=c.store(),
        expected="refused",
        crls=(
            c.prod.crl("ACI-EL-ORG", this_update=AT - dt.timedelta(days=9), next_update=AT - dt.timedelta(days=2)),
            c.prod.crl("ACR-EL"),
        ),
    ),
    "crl-signed-by-another-key": lambda c: Case(
        leaf=c.prod.server().certificate,
        store=c.store(),
        expected="refused",
        crls=(c.prod.crl("ACI-EL-ORG", signer=c.prod.server()), c.prod.crl("ACR-EL")),
    ),
    # Paths.
    "look-alike-issuer": lambda c: Case(
        leaf=c.foreign.server().certificate,
        store=c.store(),
        intermediates=tuple(c.foreign.intermediates),
        crls=c.crls("ACI-EL-ORG", "ACR-EL", testing=c.foreign),
        expected="refused",
    ),
    "other-environment": lambda c: Case(
        leaf=c.test.server().certificate,
        store=c.store(),
        crls=c.crls("ACI-EL-ORG", "ACR-EL", testing=c.test),
        expected="refused",
    ),
    "broken-signature": _broken_signature,
    "path-length": _path_length,
    "name-constraints-permitted": lambda c: _name_constraints(c, "mss.example.org", "ok"),
    "name-constraints-violated": lambda c: _name_constraints(c, "mss.example.net", "refused"),
    "unknown-critical-extension": lambda c: _server(c, "refused", unknown_critical_extension=True),
    "ca-without-keycertsign": lambda c: _odd_ca(c, "SANS-KCS", _key_usage(crl_sign=True)),
    "ca-that-is-not-a-ca": lambda c: _odd_ca(c, "PAS-CA", x509.BasicConstraints(ca=False, path_length=None)),
    "leaf-without-digitalsignature": lambda c: _server(c, "refused", key_usage=_key_usage(key_encipherment=True)),
    "leaf-without-extended-key-usage": lambda c: _server(c, "refused", eku=None),
    "sha1-signature": lambda c: _server(c, "refused", signature_hash=hashes.SHA1()),
    "signature-certificate": lambda c: Case(
        leaf=c.prod.person(usage="sign").certificate,
        store=c.store(),
        crls=c.crls("ACI-FO-PER", "ACR-FO"),
        purpose="person",
        expected="refused",
    ),
    # The known differences.
    "serv-ssl-from-a-personnes-ca": lambda c: Case(
        leaf=c.prod.server(issuer="ACI-EL-PER").certificate,
        store=c.store(),
        crls=c.crls("ACI-EL-PER", "ACR-EL"),
        expected="refused",
        difference="profile",
    ),
    "test-roots-in-a-production-store": lambda c: Case(
        leaf=c.test.server().certificate,
        store=TrustStore.from_certificates([*c.test.anchors, *c.test.intermediates], environment="prod"),
        crls=c.crls("ACI-EL-ORG", "ACR-EL", testing=c.test),
        expected="refused",
        difference="environment",
    ),
    "through-a-guarded-anchor-without-the-pinned-ca": _guarded_anchor,
    "sha1-signed-crl": lambda c: Case(
        leaf=c.prod.server().certificate,
        store=c.store(),
        expected="refused",
        difference="sha1-crl",
        crls=(c.prod.crl("ACI-EL-ORG", signature_hash=hashes.SHA1()), c.prod.crl("ACR-EL")),
    ),
    "remove-from-crl-in-a-complete-crl": lambda c: attrs.evolve(
        _crl_listing(c, "revoked", revoked=True, reason=x509.ReasonFlags.remove_from_crl),
        difference="remove-from-crl",
    ),
}


@pytest.fixture(scope="module")
def corpus(prod_pki: TestPki, test_pki: TestPki) -> Corpus:
    return Corpus(
        prod=prod_pki,
        test=test_pki,
        foreign=TestPki.create(environment=Environment.PROD, at=AT),
        other_test=TestPki.create(environment=Environment.TEST, at=AT),
    )


@pytest.mark.parametrize("name", list(CASES))
def test_mssante_and_pyhanko_agree(corpus: Corpus, name: str) -> None:
    case = CASES[name](corpus)
    ours, theirs = mssante_verdict(case), pyhanko_verdict(case)
    if case.difference is None:
        assert (ours, theirs) == (case.expected, case.expected)
    else:  # a known difference: mssante applies a rule pyhanko does not have
        assert case.difference in KNOWN_DIFFERENCES
        assert case.expected != case.pyhanko
        assert (ours, theirs) == (case.expected, case.pyhanko)


def test_every_known_difference_is_shown_by_a_case(corpus: Corpus) -> None:
    # The list stays short and justified: each entry is shown by a case, and no case refers to an unlisted one.
    shown = {CASES[name](corpus).difference for name in CASES} - {None}
    assert shown == set(KNOWN_DIFFERENCES)
