"""OCSP responses: reading one, finding the answer for a certificate, and trusting its responder's signature.

A response is trusted when it is signed by the certificate's issuer or by a delegated responder of the issuer (a
certificate issued by it with extended key usage OCSPSigning, valid at the time checked). SHA-1 and MD5 signatures
are never accepted.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from mssante.errors import InvalidInput
from mssante.pki import revocation_codes as codes
from mssante.pki._signing import (
    _PARSE_ERRORS,
    _algorithm,
    _CertificateKey,
    _computed_key_id,
    _extension,
    _name,
    _public_key,
    _tolerant,
    _unsupported_key,
    _valid_at,
    _weak_hash,
    _when,
)
from mssante.report import Finding, Report

__all__ = [
    "MAX_OCSP_RESPONSE_BYTES",
]

MAX_OCSP_RESPONSE_BYTES = 1024 * 1024
"""The largest OCSP response read (1 MiB; real responses are a few KiB)."""


def _verify_signature(key: _CertificateKey, response: ocsp.OCSPResponse) -> bool:
    """Whether the OCSP response's signature verifies under ``key`` (PKCS#1 v1.5, ECDSA, EdDSA)."""
    try:
        algorithm = response.signature_hash_algorithm
        signature, data = response.signature, response.tbs_response_bytes
        if response.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
            return False  # parameters not exposed: not supported
        if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        elif algorithm is None:
            return False
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        else:
            key.verify(signature, data, ec.ECDSA(algorithm))
    except (InvalidSignature, *_PARSE_ERRORS):
        return False
    return True


def _load_ocsp(data: object) -> ocsp.OCSPResponse:
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) > MAX_OCSP_RESPONSE_BYTES or not data:
        size = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else type(data).__name__
        message = f"an OCSP response is non-empty DER bytes of at most {MAX_OCSP_RESPONSE_BYTES}, got {size}"
        raise InvalidInput(message, Report(findings=[codes.OCSP_UNREADABLE(message, where="ocsp")]))
    try:
        with _tolerant():
            response = ocsp.load_der_ocsp_response(bytes(data))
            if response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL:
                _parse_now(response)
    except _PARSE_ERRORS as error:
        message = f"not a DER OCSP response: {error}"
        raise InvalidInput(message, Report(findings=[codes.OCSP_UNREADABLE(message, where="ocsp")])) from error
    return response


def _parse_now(response: ocsp.OCSPResponse) -> list[object]:
    """Read every field the checker uses, so that a malformed response fails at construction, not in check()."""
    fields: list[object] = [response.responder_name, response.responder_key_hash, response.tbs_response_bytes]
    for single in response.responses:
        fields += [single.serial_number, single.issuer_name_hash, single.issuer_key_hash, single.certificate_status]
        fields += [single.this_update_utc, single.next_update_utc, single.revocation_time_utc]
    for cert in response.certificates:
        fields += [cert.subject, cert.issuer, cert.serial_number, cert.extensions, cert.tbs_certificate_bytes]
        fields += [cert.not_valid_before_utc, cert.not_valid_after_utc]
    return fields


def _matching_single(
    response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse | None:
    """The single response whose CertID is exactly that of ``cert`` issued by ``issuer``."""
    expected: dict[str, ocsp.OCSPRequest] = {}
    for single in response.responses:
        if single.serial_number != cert.serial_number:
            continue
        try:
            algorithm = single.hash_algorithm
            request = expected.get(algorithm.name)
            if request is None:
                request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm).build()
                expected[algorithm.name] = request
        except _PARSE_ERRORS:
            continue
        if single.issuer_name_hash == request.issuer_name_hash and single.issuer_key_hash == request.issuer_key_hash:
            return single
    return None


def _ocsp_responder(response: ocsp.OCSPResponse, issuer: x509.Certificate, at: datetime) -> tuple[str, Finding | None]:
    """The responder's name, and why its signature cannot be trusted (None when it can)."""
    responder_name = response.responder_name
    responder_hash = response.responder_key_hash

    def identifies(cert: x509.Certificate) -> bool:
        if responder_name is not None:
            return cert.subject == responder_name
        return responder_hash is not None and _computed_key_id(cert) == responder_hash

    label = _name(responder_name) if responder_name is not None else f"key {(responder_hash or b'').hex()}"
    weak = _weak_hash(response)
    if weak is not None:
        return label, codes.WEAK_SIGNATURE(
            f"the OCSP response by {label} is signed with {_algorithm(response)}: SHA-1 signature not accepted",
            where="ocsp",
        )
    if identifies(issuer):
        key = _public_key(issuer)
        if key is not None and _verify_signature(key, response):
            return label, None
        if responder_hash is not None or not response.certificates:
            return label, codes.OCSP_BAD_SIGNATURE(
                f"the OCSP response by {label} does not verify under the key of {_name(issuer.subject)}"
                f"{_unsupported_key(issuer)}",
                where="ocsp",
            )
    problems: list[str] = []
    for candidate in response.certificates:
        if not identifies(candidate):
            continue
        problem = _delegate_problem(candidate, issuer, at)
        if problem is not None:
            problems.append(f"{_name(candidate.subject)} (serial {candidate.serial_number:x}): {problem}")
            continue
        key = _public_key(candidate)
        if key is not None and _verify_signature(key, response):
            return label, None
        return label, codes.OCSP_BAD_SIGNATURE(
            f"the OCSP response does not verify under the key of its responder {_name(candidate.subject)}"
            f"{_unsupported_key(candidate)}",
            where="ocsp",
        )
    reason = "; ".join(problems) if problems else "the responder is not the CA and no certificate for it is included"
    code = codes.WEAK_SIGNATURE if any("SHA-1" in problem for problem in problems) else codes.OCSP_UNAUTHORISED
    return label, code(f"OCSP responder {label} refused for CA {_name(issuer.subject)}: {reason}", where="ocsp")


def _delegate_problem(responder: x509.Certificate, issuer: x509.Certificate, at: datetime) -> str | None:
    """Why ``responder`` is not a delegated OCSP responder of ``issuer`` at ``at`` (None when it is)."""
    if responder.issuer != issuer.subject:
        return f"issued by {_name(responder.issuer)}, not by the CA"
    weak = _weak_hash(responder)
    if weak is not None:
        return f"SHA-1 signature not accepted on the responder certificate ({_algorithm(responder)})"
    try:
        responder.verify_directly_issued_by(issuer)
    except (InvalidSignature, *_PARSE_ERRORS):
        return "its signature does not verify under the CA's key"
    usage = _extension(responder, x509.ExtendedKeyUsage)
    if not isinstance(usage, x509.ExtendedKeyUsage) or ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
        return "no extended key usage OCSPSigning"
    if not _valid_at(responder, at):
        return (
            f"not valid at {_when(at)} (valid {_when(responder.not_valid_before_utc)} to "
            f"{_when(responder.not_valid_after_utc)})"
        )
    return None
