"""A throw-away PKI shaped like IGC Santé: its CAs, leaves of every profile, CRLs and OCSP responses.

Names, extensions and their order copy the real IGC Santé certificates (production and TEST CAs, TEST
SERV SSL and CPS leaves). The keys are fresh RSA-2048 keys, made when first needed and kept by the
:class:`TestPki` that made them, so nothing it issues is trusted by the real anchors, and two
instances never trust each other's certificates.

:class:`TestPki` makes the keys and keeps what it made; the certificates are built by the modules of each part:
``_pki_hierarchy`` (the CAs), ``_pki_profiles`` (the leaves and their variants), ``_pki_revocation`` (CRLs and
OCSP), ``_pki_issued`` (an issued certificate and its files).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

from mssante.identifiers import IdNatStruct, Idnps
from mssante.pki import IGC_SANTE_CAS, CertStatus, Environment, PublishedCa, fingerprint
from mssante.testing import _pki_revocation as revocation
from mssante.testing._pki_hierarchy import (
    CA_NAMES,
    FLAVOURS,
    PUBLICATION_URL,
    SPECS,
    SYNTHETIC_PROD_POLICY_OID,
    CertificateAuthority,
    Flavour,
    make_ca,
)
from mssante.testing._pki_issued import IssuedCertificate
from mssante.testing._pki_profiles import (
    UNKNOWN_EXTENSION_OID,
    LeafOptions,
    LeafRequest,
    check_options,
    issue_leaf,
    leaf_validity,
    organisation_request,
    person_request,
    server_request,
)
from mssante.testing._pki_x509 import RSA_BITS, key_identifier_of, utc

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CA_NAMES",
    "SYNTHETIC_PROD_POLICY_OID",
    "UNKNOWN_EXTENSION_OID",
    "CertificateAuthority",
    "IssuedCertificate",
    "LeafOptions",
    "TestPki",
]


def _new_key(bits: int = RSA_BITS) -> rsa.RSAPrivateKey:
    """A fresh RSA key: every key of a :class:`TestPki` is made here, the slow part."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _at(moment: datetime) -> datetime:
    return utc(moment, "at")


@attrs.frozen(kw_only=True, eq=False)
class TestPki:
    """An IGC Santé–shaped PKI for one environment, at one moment ``at``.

    Build it with :meth:`create`, once per test session (a session-scoped pytest fixture): the CAs
    are made on first use and kept, and so are the CRL signers and OCSP responders. All keys are
    RSA-2048 (the real CAs have RSA-4096) to stay fast. Every validity is relative to ``at``: the CAs
    are valid from five years before it for twenty years, leaves from 30 days before it for three.
    The TEST and production hierarchies differ in names, URLs and leaf policy, and each instance has
    its own keys: nothing one instance issues chains to another's anchors.
    """

    __test__: ClassVar[bool] = False  # not a test class, whatever its name

    environment: Environment = attrs.field(converter=Environment)
    at: datetime = attrs.field(converter=_at)
    publication: str = attrs.field(default=PUBLICATION_URL)
    """Where the CAs' CRLs and certificates are published (``<publication>/CRL/<name>.crl``): IGC Santé's
    server by default, a local HTTP server in tests that download them."""
    _cas: dict[str, CertificateAuthority] = attrs.field(init=False, factory=dict, repr=False)
    _crl_signers: dict[str, IssuedCertificate] = attrs.field(init=False, factory=dict, repr=False)
    _responders: dict[str, IssuedCertificate] = attrs.field(init=False, factory=dict, repr=False)
    _lock: threading.RLock = attrs.field(init=False, factory=threading.RLock, repr=False)

    @classmethod
    def create(
        cls, *, at: datetime, environment: Environment = Environment.TEST, publication: str = PUBLICATION_URL
    ) -> TestPki:
        """A new PKI for ``environment`` whose certificates are valid at ``at`` (a timezone-aware datetime).

        ``publication`` is the base URL written in the distribution points (see :attr:`publication`).
        """
        return cls(environment=environment, at=at, publication=publication.rstrip("/"))

    @property
    def _flavour(self) -> Flavour:
        return FLAVOURS[self.environment]

    # the CAs

    @property
    def anchors(self) -> list[x509.Certificate]:
        """The three root certificates (ELEMENTAIRE, STANDARD, FORT): the trust anchors."""
        return [self.ca(name).certificate for name in CA_NAMES if SPECS[name].parent is None]

    @property
    def intermediates(self) -> list[x509.Certificate]:
        """The six intermediate CA certificates."""
        return [self.ca(name).certificate for name in CA_NAMES if SPECS[name].parent is not None]

    def ca(self, name: str) -> CertificateAuthority:
        """The CA called ``name`` (one of :data:`CA_NAMES`, e.g. ``"ACI-EL-ORG"``), made on first use."""
        spec = SPECS.get(name)
        if spec is None:
            raise ValueError(f"unknown CA {name!r}: expected one of {', '.join(CA_NAMES)}")
        with self._lock:
            if name not in self._cas:
                parent = None if spec.parent is None else self.ca(spec.parent)
                self._cas[name] = make_ca(
                    name, parent, key=_new_key(), flavour=self._flavour, at=self.at, publication=self.publication
                )
            return self._cas[name]

    def published_cas(self) -> tuple[PublishedCa, ...]:
        """The IGC Santé CAs mssante knows for this environment, pinned to this PKI's keys instead of ANS's.

        For a trust store that stands in for the real one (``TrustStore.from_certificates(...,
        catalogue=pki.published_cas())``), to test what :data:`~mssante.pki.IGC_SANTE_CAS` drives: each entry of
        it keeps its kind of pin (the CAs mssante ships by fingerprint; the TEST FORT ones as ANS's certificates
        allow: ``ACI-FO-PP-TEST`` by key identifier, its root by none), with this PKI's file names and addresses.
        """
        by_cn = {spec.cn: name for name, spec in SPECS.items()}
        entries = []
        for entry in IGC_SANTE_CAS:
            if entry.environment is not self.environment:
                continue
            authority = self.ca(by_cn[entry.common_name.removeprefix(self._flavour.cn_prefix)])
            entries.append(
                attrs.evolve(
                    entry,
                    name=authority.ca_issuers_url.rsplit("/", 1)[-1].removesuffix(".cer"),
                    url=authority.ca_issuers_url,
                    sha256=fingerprint(authority.certificate) if entry.sha256 else None,
                    key_identifier=authority.key_identifier if entry.key_identifier else None,
                )
            )
        return tuple(entries)

    def issuer_of(self, certificate: x509.Certificate) -> CertificateAuthority:
        """The CA of this PKI that issued ``certificate`` (matched by issuer name and key identifier)."""
        try:
            aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            aki = None
        with self._lock:
            for authority in self._cas.values():
                if authority.certificate.subject == certificate.issuer and aki in (None, authority.key_identifier):
                    return authority
        raise ValueError(f"{certificate.subject.rfc4514_string()!r} was not issued by this test PKI")

    # the leaves

    def server(
        self,
        fqdns: Sequence[str] = ("mss.example.org",),
        *,
        structure: str | IdNatStruct = "318751275100020",
        organisation: str = "ASIP-SANTE",
        department: str = "Paris (75)",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """A SERV SSL certificate (MSSanté operator) from ``ACI-EL-ORG``: TLS server and client.

        Subject ``C=FR, ST=<department>, O=<organisation>, OU=<structure>, CN=<first FQDN>`` where the
        structure is an IdNat_Struct (``3`` + SIRET); every FQDN goes in the SAN. KU digitalSignature +
        keyEncipherment, EKU serverAuth + clientAuth.
        """
        request = server_request(fqdns, structure=structure, organisation=organisation, department=department)
        return self._leaf(request, options)

    def organisation(
        self,
        name: str = "APPLICATION",
        *,
        usage: Literal["auth", "sign", "conf"] = "auth",
        structure: str | IdNatStruct = "1750712184",
        organisation: str = "CENTRE HOSPITALIER EXEMPLE",
        department: str = "Paris (75)",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """An ORG certificate (a legal entity's software or mailbox) from ``ACI-EL-ORG``; no SAN.

        Subject ``C=FR, ST=<department>, O=<organisation>, OU=<structure>, CN=<name>``. ``usage``:
        ``auth`` (AUTH_CLI: KU digitalSignature, EKU clientAuth), ``sign`` (KU digitalSignature +
        nonRepudiation, EKU emailProtection, privateKeyUsagePeriod) or ``conf`` (KU keyEncipherment,
        EKU emailProtection).
        """
        request = organisation_request(
            name, usage=usage, structure=structure, organisation=organisation, department=department
        )
        return self._leaf(request, options)

    def person(
        self,
        idnps: str | Idnps = "810000001916",
        *,
        given_name: str = "CAMILLE",
        surname: str = "DUPONT",
        profession: int = 10,
        title: str | None = None,
        usage: Literal["auth", "sign"] = "auth",
        gamme: Literal["FO", "ST", "EL"] = "FO",
        product_type: int = 0,
        extension_2_3: str = "8000000001/2000000001",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """A CPS card certificate of a health professional, from ``ACI-<gamme>-PER`` (FORT by default).

        Subject ``givenName+CN+SN, title, C=FR`` (one multi-valued RDN) where CN is the IdNat_PS
        (``8`` + RPPS or ``0`` + ADELI) and ``title`` the label of the TRE_G15 ``profession`` code
        (give ``title`` for a code without a known label). ``usage``: ``auth`` (KU digitalSignature,
        EKU clientAuth) or ``sign`` (KU nonRepudiation, EKU emailProtection, privateKeyUsagePeriod).
        GIP-CPS extensions: product category 0x80, product type, 2.3 and the profession code.
        Identifiers are not validated, so tests can build certificates with malformed ones.
        """
        request = person_request(
            idnps,
            given_name=given_name,
            surname=surname,
            profession=profession,
            title=title,
            usage=usage,
            gamme=gamme,
            product_type=product_type,
            extension_2_3=extension_2_3,
        )
        return self._leaf(request, options)

    def _leaf(self, request: LeafRequest, options: LeafOptions) -> IssuedCertificate:
        check_options(options)
        authority = self.ca(options.get("issuer", request.issuer))
        validity = leaf_validity(self.at, options)
        key = options["key"] if "key" in options else _new_key(options.get("key_size", RSA_BITS))
        return issue_leaf(authority, request, options, key=key, validity=validity, flavour=self._flavour)

    # revocation

    def crl_signer(self, ca: str) -> IssuedCertificate:
        """The separate CRL-signing certificate of ``ca``: same name as the CA, its own key, KU cRLSign only.

        Issued by the CA (AKI = the CA's key identifier), as the GIP-CPS CAs signed their CRLs.
        """
        authority = self.ca(ca)
        with self._lock:
            if ca not in self._crl_signers:
                self._crl_signers[ca] = revocation.make_crl_signer(authority, key=_new_key(), flavour=self._flavour)
            return self._crl_signers[ca]

    def crl(
        self,
        ca: str,
        revoked: Iterable[int | tuple[int, datetime] | x509.Certificate | IssuedCertificate] = (),
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        signer: Literal["ca", "separate"] | IssuedCertificate = "ca",
        signature_hash: hashes.HashAlgorithm | None = None,
        crl_number: int = 1,
        reason: x509.ReasonFlags | None = None,
    ) -> bytes:
        """A DER CRL issued by ``ca`` listing ``revoked``: serials, ``(serial, revocation date)`` or certificates.

        ``this_update`` defaults to an hour before ``at``, ``next_update`` to 7 days after it, a revocation
        date to ``this_update``. ``signer``: the CA's key, its :meth:`crl_signer` (``"separate"``), or any
        issued certificate (a wrong signer); the CRL's AKI names the signer's key. ``signature_hash``
        defaults to SHA-256 (``SHA1()`` for legacy). Fast enough for 200,000 entries (about half a second).
        """
        authority = self.ca(ca)
        start = self.at - timedelta(hours=1) if this_update is None else utc(this_update, "this_update")
        end = start + timedelta(days=7) if next_update is None else utc(next_update, "next_update")
        if signer == "ca":
            key, signer_ski = authority.key, key_identifier_of(authority)
        else:
            chosen = self.crl_signer(ca) if signer == "separate" else signer
            if not isinstance(chosen, IssuedCertificate):
                raise ValueError(f"signer must be 'ca', 'separate' or an IssuedCertificate, not {signer!r}")
            key, signer_ski = chosen.key, key_identifier_of(chosen)
        return revocation.make_crl(
            authority,
            revoked,
            this_update=start,
            next_update=end,
            key=key,
            signer_key_identifier=signer_ski,
            signature_hash=signature_hash or hashes.SHA256(),
            crl_number=crl_number,
            reason=reason,
        )

    def ocsp_responder(self, ca: str) -> IssuedCertificate:
        """The delegated OCSP responder of ``ca``: issued by it, EKU OCSPSigning, id-pkix-ocsp-nocheck.

        Its name (``CN=[TEST ]OCSP <CA name>``) is made up: the real responder certificates were not found.
        """
        authority = self.ca(ca)
        with self._lock:
            if ca not in self._responders:
                self._responders[ca] = revocation.make_ocsp_responder(
                    authority, key=_new_key(), flavour=self._flavour, at=self.at
                )
            return self._responders[ca]

    def ocsp_response(
        self,
        certificate: x509.Certificate | IssuedCertificate,
        status: CertStatus = CertStatus.GOOD,
        *,
        responder: Literal["delegated", "ca"] | IssuedCertificate = "delegated",
        issuer: str | None = None,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        revocation_time: datetime | None = None,
        revocation_reason: x509.ReasonFlags | None = None,
        cert_id_hash: hashes.HashAlgorithm | None = None,
        signature_hash: hashes.HashAlgorithm | None = None,
        responder_id: Literal["hash", "name"] = "hash",
    ) -> bytes:
        """A DER OCSP response saying ``status`` for ``certificate``, signed by ``responder``.

        ``responder``: ``"delegated"`` (the CA's :meth:`ocsp_responder`, included in the response),
        ``"ca"`` (the CA's own key) or any issued certificate (a wrong responder). ``issuer`` names the CA
        for the CertID (by default the one that issued the certificate). ``this_update`` defaults to an
        hour before ``at``, ``next_update`` to a day after it, ``revocation_time`` to ``this_update``.
        The CertID uses SHA-1 by default, the signature SHA-256. (producedAt is the current time: the
        OCSP builder sets it.)
        """
        leaf = certificate.certificate if isinstance(certificate, IssuedCertificate) else certificate
        authority = self.issuer_of(leaf) if issuer is None else self.ca(issuer)
        start = self.at - timedelta(hours=1) if this_update is None else utc(this_update, "this_update")
        end = start + timedelta(days=1) if next_update is None else utc(next_update, "next_update")
        if responder == "ca":
            signing_certificate, key, included = authority.certificate, authority.key, False
        else:
            chosen = self.ocsp_responder(authority.name) if responder == "delegated" else responder
            if not isinstance(chosen, IssuedCertificate):
                raise ValueError(f"responder must be 'delegated', 'ca' or an IssuedCertificate, not {responder!r}")
            signing_certificate, key, included = chosen.certificate, chosen.key, True
        return revocation.make_ocsp_response(
            leaf,
            authority,
            status,
            this_update=start,
            next_update=end,
            revocation_time=revocation_time,
            revocation_reason=revocation_reason,
            cert_id_hash=cert_id_hash,
            signature_hash=signature_hash,
            responder_id=responder_id,
            signer=signing_certificate,
            key=key,
            included=included,
        )

    @staticmethod
    def ocsp_unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
        """A DER OCSP response that carries only an error status (``TRY_LATER``, ``UNAUTHORIZED``...)."""
        return revocation.ocsp_unsuccessful(status)
