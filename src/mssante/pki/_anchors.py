"""Trust stores: the IGC Santé anchors of one environment, pinned by fingerprint or by key identifier."""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from mssante.errors import InvalidInput, SecurityWarning, TrustError
from mssante.pki import codes as _codes
from mssante.pki._load import load_certificate
from mssante.pki._types import Environment
from mssante.report import Finding, Report

if TYPE_CHECKING:
    from mssante.pki._verify import CheckCache

__all__ = ["BUNDLED_FINGERPRINTS", "IGC_SANTE_CAS", "PublishedCa", "TrustStore", "fingerprint"]

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


@attrs.frozen(kw_only=True)
class PublishedCa:
    """An IGC Santé CA as ANS publishes it: its names, where to download it, and what mssante pins for it.

    ``name`` is the name of ANS's file (``ACI-FO-PP-TEST``), ``common_name`` the CN of the certificate,
    ``issuer`` the CN of the CA that issued it (None for a root), ``url`` where ANS publishes the certificate
    (None when the address is not known). A certificate given for it is trusted only when it has the pinned
    ``sha256`` fingerprint, or when the identifier of its key (``key_identifier``: the SHA-1 of the public key,
    RFC 5280 §4.2.1.2 method 1, which IGC Santé uses) is the pinned one. A root with neither pin is trusted
    only above a CA whose key is pinned (see :meth:`TrustStore.with_published_cas`).
    """

    environment: Environment = attrs.field(converter=Environment)
    name: str
    common_name: str
    issuer: str | None = None
    url: str | None = None
    sha256: str | None = None
    key_identifier: bytes | None = None

    @property
    def pinned(self) -> bool:
        """True when a certificate for this CA is checked against a pin of its own."""
        return self.sha256 is not None or self.key_identifier is not None

    def advice(self) -> str:
        """What to do when this CA is missing from a store: which file to add, and from where."""
        if self.url:
            return f"add {self.name} from {self.url}"
        return f"it ships with mssante: use TrustStore.bundled({self.environment.value!r})"


_AC, _AC_TEST = "http://igc-sante.esante.gouv.fr/AC", "http://igc-sante.esante.gouv.fr/AC%20TEST"
_EL, _ST, _FO = "AC RACINE IGC-SANTE ELEMENTAIRE", "AC RACINE IGC-SANTE STANDARD", "AC RACINE IGC-SANTE FORT"
_PROD, _TEST = Environment.PROD, Environment.TEST
_PINS = BUNDLED_FINGERPRINTS

# (environment, ANS file name, CN, CN of the issuer, where ANS publishes it, SHA-256, key identifier)
_CATALOGUE: tuple[tuple[Environment, str, str, str | None, str | None, str | None, str | None], ...] = (
    (_PROD, "ACR-EL", _EL, None, f"{_AC}/ACR-EL.cer",
     _PINS[_PROD]["acr-el"], "8c6fead58b82faf9be87dc730e27150747c49e2f"),
    (_PROD, "ACI-EL-ORG", "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", _EL, f"{_AC}/ACI-EL-ORG.cer",
     _PINS[_PROD]["aci-el-org"], "d7fbfadcd5027fe7c153864d4be8a44a1e0bbb63"),
    (_PROD, "ACI-EL-PER", "AC IGC-SANTE ELEMENTAIRE PERSONNES", _EL, None,
     _PINS[_PROD]["aci-el-per"], "ceaf9b1c194a6b53a7a8c9d81fdb6114cd07f22e"),
    (_PROD, "ACR-ST", _ST, None, None,
     _PINS[_PROD]["acr-st"], "c0ac89f12470d52be2d5d4b48405c0810572539b"),
    (_PROD, "ACI-ST-ORG", "AC IGC-SANTE STANDARD ORGANISATIONS", _ST, None,
     _PINS[_PROD]["aci-st-org"], "66b62d3db8fc1e1a1349688284587324c4ace5a0"),
    (_PROD, "ACI-ST-PER", "AC IGC-SANTE STANDARD PERSONNES", _ST, None,
     _PINS[_PROD]["aci-st-per"], "19f276d58d7a17ca829be97b5aef3f05a690d4f3"),
    (_PROD, "ACR-FO", _FO, None, None,
     _PINS[_PROD]["acr-fo"], "38430511002ee752c3e8974674f8a4fb9cdce5ee"),
    (_PROD, "ACI-FO-PER", "AC IGC-SANTE FORT PERSONNES", _FO, None,
     _PINS[_PROD]["aci-fo-per"], "800f918821797d5555c65d6dd5938d6ade5c2aa6"),
    (_TEST, "ACR-EL-TEST", f"TEST {_EL}", None, f"{_AC_TEST}/ACR-EL-TEST.cer",
     _PINS[_TEST]["acr-el"], "9cad86bba6aacac5613a04b047fddc3bcd3d57f4"),
    (_TEST, "ACI-EL-ORG-TEST", "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", f"TEST {_EL}",
     f"{_AC_TEST}/ACI-EL-ORG-TEST.cer", _PINS[_TEST]["aci-el-org"], "212e847d3b1ef512de51a2215cae93a8ef5be3f5"),
    # Not shipped: no public copy was found. Nothing published names the root's key, so it has no pin; its
    # address follows the one of ACR-EL-TEST.
    (_TEST, "ACR-FO-TEST", f"TEST {_FO}", None, f"{_AC_TEST}/ACR-FO-TEST.cer", None, None),
    # The key identifier is the authority key identifier of ANS's TEST CPS certificates (2020), which give this
    # address as caIssuers.
    (_TEST, "ACI-FO-PP-TEST", "TEST AC IGC-SANTE FORT PERSONNES", f"TEST {_FO}", f"{_AC_TEST}/ACI-FO-PP-TEST.cer",
     None, "3af1e7f5ceebedf78dc9c9b29fedd46529dc1ffd"),
)  # fmt: skip

IGC_SANTE_CAS: tuple[PublishedCa, ...] = tuple(
    PublishedCa(
        environment=environment,
        name=name,
        common_name=common_name,
        issuer=issuer,
        url=url,
        sha256=sha256,
        key_identifier=bytes.fromhex(key_id) if key_id else None,
    )
    for environment, name, common_name, issuer, url, sha256, key_id in _CATALOGUE
)
"""The IGC Santé CAs mssante knows, per environment: the ones it ships (pinned by SHA-256) and the TEST FORT
ones it does not (``ACI-FO-PP-TEST`` pinned by its key identifier, its root trusted only above it)."""


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate's DER, in lower-case hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _certificates(certificates: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    return tuple(certificates)


def _catalogue(entries: Iterable[PublishedCa]) -> tuple[PublishedCa, ...]:
    return tuple(entries)


def _fingerprints(fingerprints: Iterable[str]) -> frozenset[str]:
    return frozenset(fingerprints)


def _key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _common_name_of(name: x509.Name) -> str | None:
    try:
        names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    except (ValueError, TypeError):
        return None
    return str(names[0].value) if names else None


def _common_name(certificate: x509.Certificate) -> str | None:
    return _common_name_of(certificate.subject)


def _authority_key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        return None


def _key_hash(certificate: x509.Certificate) -> bytes | None:
    """The SHA-1 of the subject public key (RFC 5280 §4.2.1.2 method 1), as IGC Santé writes its key identifiers."""
    try:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _colons(key_id: bytes | None) -> str:
    return ":".join(f"{byte:02X}" for byte in key_id) if key_id else "(none)"


def _issued(child: x509.Certificate, root: x509.Certificate) -> bool:
    """True when ``root``'s key signed ``child`` and the names and key identifiers agree."""
    if child.issuer != root.subject or _authority_key_id(child) not in (None, _key_hash(root)):
        return False
    try:
        child.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


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

    ``catalogue`` lists the IGC Santé CAs the store can be told about (:data:`IGC_SANTE_CAS` by default): the
    pins :meth:`with_published_cas` checks, and the names :func:`~mssante.pki.verify` uses to say which CA is
    missing and where ANS publishes it. ``guarded_anchors`` holds the fingerprints of anchors added without a
    pin of their own: they are trusted only on a path through a CA whose key the catalogue pins.
    """

    environment: Environment
    anchors: tuple[x509.Certificate, ...] = attrs.field(converter=_certificates)
    intermediates: tuple[x509.Certificate, ...] = attrs.field(default=(), converter=_certificates)
    catalogue: tuple[PublishedCa, ...] = attrs.field(default=IGC_SANTE_CAS, converter=_catalogue, repr=False)
    guarded_anchors: frozenset[str] = attrs.field(default=frozenset(), converter=_fingerprints)

    @anchors.validator
    def _check_anchors(self, _attribute: object, anchors: tuple[x509.Certificate, ...]) -> None:
        if not anchors:
            raise TrustError("a trust store needs at least one anchor")
        if not all(_is_self_issued(anchor) for anchor in anchors):
            raise TrustError("trust anchors are self-issued root certificates; give intermediates separately")

    @guarded_anchors.validator
    def _check_guarded(self, _attribute: object, guarded: frozenset[str]) -> None:
        if not guarded <= {fingerprint(anchor) for anchor in self.anchors}:
            raise TrustError("a guarded anchor is one of the store's anchors, named by its SHA-256 fingerprint")

    @classmethod
    def bundled(cls, environment: Environment | str) -> TrustStore:
        """The IGC Santé hierarchy shipped with mssante for ``prod`` or ``test``.

        The TEST store emits a :class:`~mssante.errors.SecurityWarning`: what it accepts is never a
        production identity. The TEST FORT CAs are not shipped (no public copy): add the files ANS publishes
        with :meth:`with_published_cas`.
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
        cls,
        certificates: Iterable[x509.Certificate],
        *,
        environment: Environment | str,
        catalogue: Iterable[PublishedCa] = IGC_SANTE_CAS,
    ) -> TrustStore:
        """A store from explicit certificates: the self-issued ones become anchors, the others intermediates."""
        certificates = list(certificates)
        return cls(
            environment=Environment(environment),
            anchors=[certificate for certificate in certificates if _is_self_issued(certificate)],
            intermediates=[certificate for certificate in certificates if not _is_self_issued(certificate)],
            catalogue=_catalogue(catalogue),
        )

    def with_published_cas(self, certificates: Iterable[x509.Certificate]) -> TrustStore:
        """This store with IGC Santé CA certificates as ANS publishes them, each checked before it is trusted.

        For the CAs mssante knows but does not ship, such as the TEST FORT ones (``ACR-FO-TEST`` and
        ``ACI-FO-PP-TEST``, downloaded from ANS). Each certificate must be a CA of the store's environment in
        :attr:`catalogue` and carry the pin mssante holds for it: its SHA-256 fingerprint, or the identifier of
        its key (the SHA-1 of the public key, RFC 5280 §4.2.1.2 method 1). A root the catalogue has no pin for
        is accepted only together with a CA it issued whose key is pinned (its signature is checked), and is
        then trusted only on paths through such a CA: a look-alike root can issue nothing that validates.

        Certificates already in the store are skipped. When any certificate is refused, nothing is added:
        :class:`~mssante.errors.InvalidInput` with an ``MSS-PKI-024`` finding for each one refused.
        """
        present = {fingerprint(certificate) for certificate in (*self.anchors, *self.intermediates)}
        entries = {entry.common_name: entry for entry in self.catalogue if entry.environment is self.environment}
        accepted: dict[str, x509.Certificate] = {}
        unpinned_roots: list[tuple[x509.Certificate, PublishedCa]] = []
        refusals: list[Finding] = []
        for certificate in certificates:
            print_ = fingerprint(certificate)
            if print_ in present or print_ in accepted:
                continue
            entry = entries.get(_common_name(certificate) or "")
            problem = self._pin_problem(certificate, entry)
            if problem:
                refusals.append(_codes.CA_REFUSED(problem, where=_common_name(certificate) or print_[:16]))
            elif entry is not None and not entry.pinned:
                unpinned_roots.append((certificate, entry))
            else:
                accepted[print_] = certificate
        pinned_cas = [
            (certificate, pinned)
            for certificate in (*self.intermediates, *accepted.values())
            if (pinned := self._pinned_key(certificate)) is not None
        ]
        guarded: set[str] = set()
        for root, entry in unpinned_roots:
            if any(pinned.issuer == entry.common_name and _issued(child, root) for child, pinned in pinned_cas):
                accepted[fingerprint(root)] = root
                guarded.add(fingerprint(root))
            else:
                below = [e.name for e in entries.values() if e.issuer == entry.common_name and e.pinned]
                refusals.append(_codes.CA_REFUSED(
                    f"{entry.common_name} has no pin of its own: it is trusted only with a CA it issued whose key "
                    f"mssante pins ({', '.join(below) or 'none known'}), and no such CA was given or is in the store",
                    where=entry.common_name,
                ))  # fmt: skip
        if refusals:
            report = Report(findings=refusals, subject="the CA certificates given")
            raise InvalidInput(f"a CA certificate is refused: {refusals[0].message}", report)
        added = list(accepted.values())
        return attrs.evolve(
            self,
            anchors=(*self.anchors, *(c for c in added if _is_self_issued(c))),
            intermediates=(*self.intermediates, *(c for c in added if not _is_self_issued(c))),
            guarded_anchors=self.guarded_anchors | guarded,
        )

    def _pin_problem(self, certificate: x509.Certificate, entry: PublishedCa | None) -> str | None:
        """Why ``certificate`` is not the CA ``entry`` of the catalogue; None when it is (or may be, for a root
        without a pin of its own, whose issuing is checked afterwards)."""
        name = _common_name(certificate) or certificate.subject.rfc4514_string()
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except (x509.ExtensionNotFound, ValueError):
            constraints = None
        if constraints is None or not constraints.ca:
            return f"{name} is not a CA certificate (basicConstraints cA is not set)"
        if entry is None:
            return (
                f"{name} is not an IGC Santé CA of the {self.environment} hierarchy that mssante knows; "
                "to trust other roots, build the store from them (TrustStore.from_certificates, --trust-anchor)"
            )
        if _is_self_issued(certificate) != (entry.issuer is None):
            if entry.issuer is None:
                return f"{name} is a root in ANS's hierarchy, and this certificate is not self-issued"
            return f"{name} is an intermediate CA in ANS's hierarchy, and this certificate is self-issued"
        if entry.sha256 is not None and fingerprint(certificate) != entry.sha256:
            return (
                f"{name} has the SHA-256 fingerprint {fingerprint(certificate)}, not {entry.sha256}: "
                f"it is not the {entry.name} that ANS publishes"
            )
        if entry.key_identifier is not None:
            computed, written = _key_hash(certificate), _key_id(certificate)
            if computed != entry.key_identifier:
                return (
                    f"{name} holds a key whose identifier is {_colons(computed)}, not {_colons(entry.key_identifier)}: "
                    f"it is not the {entry.name} that ANS publishes"
                )
            if written not in (None, entry.key_identifier):
                return f"{name} names its key {_colons(written)}, not by the identifier of the key it holds"
        if not entry.pinned and entry.issuer is not None:
            return f"{name} has no pin in mssante: it cannot be checked, so it is not trusted"
        return None

    def _pinned_key(self, certificate: x509.Certificate) -> PublishedCa | None:
        """The catalogue entry whose key pin ``certificate``'s key matches, if any (this environment's)."""
        computed = _key_hash(certificate)
        return next(
            (
                entry
                for entry in self.catalogue
                if entry.environment is self.environment and entry.key_identifier == computed
            ),
            None,
        )

    def guard_refusal(self, chain: Sequence[x509.Certificate]) -> str | None:
        """Why a built ``chain`` (leaf first, anchor last) is not trusted; None when it is.

        A chain that ends at a guarded anchor must go through a CA whose key the catalogue pins, right below it.
        """
        if not chain or not self.guarded_anchors or fingerprint(chain[-1]) not in self.guarded_anchors:
            return None
        root = _common_name(chain[-1]) or chain[-1].subject.rfc4514_string()
        pinned = self._pinned_key(chain[-2]) if len(chain) >= 3 else None
        if pinned is not None and pinned.issuer == root:
            return None
        below = chain[-2].subject.rfc4514_string() if len(chain) >= 2 else "nothing"
        names = [e.name for e in self.catalogue if e.environment is self.environment and e.issuer == root and e.pinned]
        return (
            f"the chain ends at {root}, added without a pin of its own: it is trusted only through "
            f"{' or '.join(names) or 'a CA whose key mssante pins'}, and this chain goes through {below}"
        )

    def missing_cas(
        self, certificate: x509.Certificate, others: Iterable[x509.Certificate] = ()
    ) -> tuple[PublishedCa, ...]:
        """The known IGC Santé CAs above ``certificate`` (per :attr:`catalogue`) that the store lacks.

        Walks up from the certificate's issuer by name, among the store's certificates and ``others``
        (intermediates given with the certificate). It stops at a name the catalogue does not know, at an
        anchor, and where an authority key identifier names another key than the one pinned for that name: a
        look-alike is not missing anything. Names are compared here only to say what to add, never to trust.
        """
        entries = {entry.common_name: entry for entry in self.catalogue if entry.environment is self.environment}
        anchors = {_common_name(anchor) for anchor in self.anchors}
        issuers: dict[str | None, x509.Certificate] = {}
        for candidate in (*self.intermediates, *others):
            issuers.setdefault(_common_name(candidate), candidate)
        missing: list[PublishedCa] = []
        name, key_id = _common_name_of(certificate.issuer), _authority_key_id(certificate)
        for _ in range(8):  # longer than any IGC Santé chain
            entry = entries.get(name or "")
            if entry is None or name in anchors:
                break
            if key_id is not None and entry.key_identifier is not None and key_id != entry.key_identifier:
                break
            holder = issuers.get(name)
            if holder is not None:
                name, key_id = _common_name_of(holder.issuer), _authority_key_id(holder)
                continue
            missing.append(entry)
            name, key_id = entry.issuer, None
        return tuple(missing)

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
    def _checks(self) -> CheckCache:
        """What :func:`~mssante.pki.verify` keeps between checks with this store (see :class:`CheckCache`)."""
        from mssante.pki._verify import CheckCache  # noqa: PLC0415 - _verify imports this module

        return CheckCache(self)

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
        key_id = _authority_key_id(certificate)
        return key_id is not None and key_id in self._key_ids
