"""The ID token checked (OpenID Connect Core 1.0 §3.1.3.7): signature by the provider's key set, then its claims."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, DecodeError, InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from mssante.psc import codes
from mssante.psc._json import read_object

__all__ = ["DEFAULT_LEEWAY", "UnknownKey", "check_id_token", "read_key_set"]

DEFAULT_LEEWAY = 60.0
"""Seconds of clock difference allowed to ``exp`` and ``iat``."""

_ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


class UnknownKey(Exception):
    """The ID token names a key (``kid``) the key set does not hold: fetch the key set again, once."""


def read_key_set(body: bytes, *, where: str) -> KeySet:
    """The provider's JWKS (RFC 7517 §5) in ``body``: public keys only; ``MSS-PSC-004`` when it cannot be read."""

    def invalid(reason: str) -> Exception:
        return codes.failure(codes.ANSWER_INVALID, f"the key set of the provider cannot be used: {reason}", where=where)

    document = read_object(body, invalid=invalid)
    keys = document.get("keys")
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise invalid("no list of keys")
    public = [{name: value for name, value in key.items() if name not in ("d", "p", "q", "dp", "dq", "qi", "k")}
              for key in keys if key.get("kty") in ("RSA", "EC", "OKP")]  # fmt: skip
    try:
        key_set: KeySet = KeySet.import_key_set({"keys": public})
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise invalid(type(error).__name__) from None
    return key_set


def check_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    at: dt.datetime,
    algorithms: Sequence[str] = ("RS256", "ES256", "PS256"),
    leeway: float = DEFAULT_LEEWAY,
) -> Mapping[str, Any]:
    """The claims of ``token`` once checked at ``at``: signed by a key of ``keys`` with an asymmetric algorithm of
    ``algorithms`` (never ``none``), ``iss`` is ``issuer``, ``aud`` holds ``client_id`` (``azp`` too when there are
    several), ``exp`` after and ``iat`` before ``at`` (within ``leeway``), ``nonce`` the one sent (when ``nonce``).

    Raises :class:`UnknownKey` when the token names a key ``keys`` lacks, :class:`~mssante.psc.PscError`
    (``MSS-PSC-002``, ``005`` to ``008``) otherwise.
    """
    if at.tzinfo is None:
        raise ValueError("at is timezone-aware (UTC)")
    where = issuer
    allowed = [alg for alg in algorithms if alg in _ASYMMETRIC]

    def unsigned(reason: str) -> Exception:
        return codes.failure(codes.BAD_SIGNATURE, f"the ID token is refused: {reason}", where=where)

    try:
        header = extract_compact(token.encode("ascii")).headers()
    except (DecodeError, JoseError, ValueError, UnicodeError):
        raise unsigned("it is not a compact JWS") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise unsigned(f"algorithm {str(alg)[:20]!r} is not allowed (allowed: {', '.join(allowed)})")
    kid = header.get("kid")
    if kid is not None and not any(key.kid == kid for key in keys.keys):
        raise UnknownKey(str(kid)[:100])
    try:
        decoded = jwt.decode(token, keys, algorithms=allowed)
    except (InvalidKeyIdError, MissingKeyError):
        raise UnknownKey(str(kid)[:100]) from None
    except BadSignatureError:
        raise unsigned("its signature does not verify with the provider's key") from None
    except (JoseError, ValueError, TypeError):
        raise unsigned("it cannot be read as a signed JWT") from None
    claims = decoded.claims
    check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, at=at, leeway=leeway)
    return claims


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str | None, at: dt.datetime, leeway: float
) -> None:
    """The claim checks of OpenID Connect Core 1.0 §3.1.3.7 (items 2-5, 9-11) on ``claims``, already verified."""
    where = issuer
    if claims.get("iss") != issuer:
        shown = repr(claims.get("iss"))[:200]
        raise codes.failure(codes.ISSUER_MISMATCH, f"the ID token was issued by {shown}, not {issuer!r}", where=where)
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise codes.failure(codes.AUDIENCE, f"the ID token is not for the client {client_id!r}", where=where)
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise codes.failure(codes.AUDIENCE, f"the ID token was issued to {str(azp)[:100]!r} (azp)", where=where)
    now = at.timestamp()
    expiry = claims.get("exp")
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)):
        raise codes.failure(codes.EXPIRED, "the ID token has no exp", where=where)
    if now >= expiry + leeway:
        raise codes.failure(codes.EXPIRED, f"the ID token expired (exp {int(expiry)})", where=where)
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, (int, float)):
        raise codes.failure(codes.EXPIRED, "the ID token has no iat", where=where)
    if issued > now + leeway:
        raise codes.failure(codes.EXPIRED, "the ID token was issued in the future (iat)", where=where)
    if nonce is not None and claims.get("nonce") != nonce:
        raise codes.failure(codes.NONCE, "the ID token's nonce is not the one sent", where=where)
