"""Trust stores: the IGC Santé anchors of one environment, pinned by fingerprint."""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable, Mapping
from functools import cached_property
from importlib import resources

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification

from mssante.errors import SecurityWarning, TrustError
from mssante.pki._load import load_certificate
from mssante.pki._types import Environment

__all__ = ["BUNDLED_FINGERPRINTS", "TrustStore", "fingerprint"]

BUNDLED_FINGERPRINTS: dict[Environment, dict[str, str]] = {
    Environment.PROD: {
        "acr-el": "2d9e22ca19f777c6b745257c723ecb8df3c35fa6f1f6ec36b83600c97346967f",
        "aci-el-per": "19c1eaeab477b6fbc233cda3b53fbdbc3f4e9bf6cf6973e46f7dfaef89c06c6c",
        "aci-el-org": "d834ee5b40686b73573f60547bf6052c6d404d942a5665cdb2c0b9137b5d27b2",
        "acr-st": "5891815e864506c662afb32f8de5b8de38bffa1af721780b69e19a0c050386c3",
        "aci-st-per": "6c339ebcb3e1b0102b143c9694225c2a4ab2ef6fedf7d364da8db305e7f7d997",
        "aci-st-org": "c0520a2b14fb68836a807bf86ab2b3e07d1b6061d91bc9c7b86a6f8de4b5638e",
        "acr-fo": "53d30a19570826bde0c0762501f1f1c7a659f976c6c023123df5239df34a4eea",
        "aci-fo-per": "38284e4f6107456e70c7439c85da7d564d0fe1fe1a968c9eb6d43e1fc0d63c3a",
    },
    Environment.TEST: {
        "acr-el": "01325aeb193871eec90fa89556804e4185cb362e0ca87a3d79939c71186da805",
        "aci-el-org": "dc528e3788691b3f7950164076f95b02c64334c68662bdede5750b4e0e5338f6",
    },
}
"""SHA-256 fingerprints of the certificates shipped with mssante, per environment (ANS publication)."""


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate's DER, in lower-case hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _certificates(certificates: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    return tuple(certificates)


def _key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _bundled(environment: Environment) -> tuple[x509.Certificate, ...]:
    folder = resources.files("mssante.pki") / "anchors" / environment.value
    certificates = []
    for name, expected in BUNDLED_FINGERPRINTS[environment].items():
        certificate = load_certificate((folder / f"{name}.pem").read_bytes(), what=f"anchor {name}")
        if fingerprint(certificate) != expected:
            raise TrustError(f"the bundled {environment} certificate {name} does not have its pinned fingerprint")
        certificates.append(certificate)
    return tuple(certificates)


@attrs.frozen(kw_only=True)
class TrustStore:
    """The certificates trusted for one environment: self-signed anchors and the intermediates under them.

    Anchors are matched by fingerprint (and so by key), never by name. IGC Santé certificates
    carry no usable issuer URL for the CAs, so the intermediates travel with the store.
    """

    environment: Environment
    anchors: tuple[x509.Certificate, ...] = attrs.field(converter=_certificates)
    intermediates: tuple[x509.Certificate, ...] = attrs.field(default=(), converter=_certificates)

    @anchors.validator
    def _check_anchors(self, _attribute: object, anchors: tuple[x509.Certificate, ...]) -> None:
        if not anchors:
            raise TrustError("a trust store needs at least one anchor")
        if not all(_is_self_issued(anchor) for anchor in anchors):
            raise TrustError("trust anchors are self-issued root certificates; give intermediates separately")

    @classmethod
    def bundled(cls, environment: Environment | str) -> TrustStore:
        """The IGC Santé hierarchy shipped with mssante for ``prod`` or ``test``.

        The TEST store emits a :class:`~mssante.errors.SecurityWarning`: what it accepts is never a
        production identity.
        """
        environment = Environment(environment)
        if environment is Environment.TEST:
            warnings.warn(
                "trusting the IGC Santé TEST hierarchy: certificates it accepts are test identities",
                SecurityWarning,
                stacklevel=2,
            )
        certificates = _bundled(environment)
        return cls.from_certificates(certificates, environment=environment)

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[x509.Certificate], *, environment: Environment | str
    ) -> TrustStore:
        """A store from explicit certificates: the self-issued ones become anchors, the others intermediates."""
        certificates = list(certificates)
        return cls(
            environment=Environment(environment),
            anchors=[certificate for certificate in certificates if _is_self_issued(certificate)],
            intermediates=[certificate for certificate in certificates if not _is_self_issued(certificate)],
        )

    @cached_property
    def fingerprints(self) -> frozenset[str]:
        """The SHA-256 fingerprints of the anchors."""
        return frozenset(fingerprint(anchor) for anchor in self.anchors)

    @cached_property
    def verification_store(self) -> verification.Store:
        """The anchors as a ``cryptography`` verification store."""
        return verification.Store(list(self.anchors))

    @cached_property
    def _policy_builder(self) -> verification.PolicyBuilder:
        """A ``cryptography`` policy builder on the anchors; each use sets its own time and policies."""
        return verification.PolicyBuilder().store(self.verification_store)

    @cached_property
    def _intermediates_by_subject(self) -> Mapping[x509.Name, tuple[x509.Certificate, ...]]:
        """The intermediates by subject name."""
        index: dict[x509.Name, tuple[x509.Certificate, ...]] = {}
        for certificate in self.intermediates:
            index[certificate.subject] = (*index.get(certificate.subject, ()), certificate)
        return types.MappingProxyType(index)

    @cached_property
    def _key_ids(self) -> frozenset[bytes]:
        return frozenset(filter(None, map(_key_id, (*self.anchors, *self.intermediates))))

    def is_anchor(self, certificate: x509.Certificate) -> bool:
        """True when ``certificate`` is one of the anchors (same fingerprint)."""
        return fingerprint(certificate) in self.fingerprints

    def knows_issuer_of(self, certificate: x509.Certificate) -> bool:
        """True when the certificate's authority key identifier is the key of a certificate of this store."""
        try:
            key_id = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except (x509.ExtensionNotFound, ValueError):
            return False
        return key_id in self._key_ids
