"""Finding codes of Pro Santé Connect (``MSS-PSC-*``): why a token could not be had, kept or trusted.

Every :class:`~mssante.psc.PscError` carries a report with one of these codes. Each gives its source: the OpenID
Connect or OAuth 2.0 section, or the MSSanté rule, that makes it a refusal.
"""

from __future__ import annotations

from mssante.psc._errors import PscError
from mssante.report import Code, Report, Severity, define_code

__all__ = ["failure"]

ERROR = Severity.ERROR

METADATA_INVALID = define_code(
    "MSS-PSC-001",
    ERROR,
    "the provider's discovery metadata is not what OpenID Connect Discovery requires: not a JSON object, an "
    "endpoint missing, or an endpoint that is not https (OpenID Connect Discovery 1.0 §3, §4.3; RFC 8414 §2)",
)
ISSUER_MISMATCH = define_code(
    "MSS-PSC-002",
    ERROR,
    "the issuer named by the provider (its metadata, or an ID token's iss) is not the issuer configured "
    "(OpenID Connect Discovery 1.0 §4.3; OpenID Connect Core 1.0 §3.1.3.7 item 2)",
)
UNREACHABLE = define_code(
    "MSS-PSC-003",
    ERROR,
    "the provider cannot be reached, or did not answer within the deadline or the size bound (mssante bound; "
    "RFC 6749 §5.2 gives no answer to act on)",
)
ANSWER_INVALID = define_code(
    "MSS-PSC-004",
    ERROR,
    "the provider's answer is not what OAuth 2.0 requires: not JSON, no access_token, no token_type Bearer, a bad "
    "expires_in, or a key set that cannot be read (RFC 6749 §5.1; RFC 7517 §5)",
)
BAD_SIGNATURE = define_code(
    "MSS-PSC-005",
    ERROR,
    "the ID token is not signed by a key of the provider's key set: unsigned (alg none), a signature that does not "
    "verify, an algorithm not allowed, or a key id unknown after fetching the key set again (OpenID Connect Core 1.0 "
    "§3.1.3.7 items 6-8, §10.1.1)",
)
EXPIRED = define_code(
    "MSS-PSC-006",
    ERROR,
    "the ID token has expired, has no exp, or was issued in the future (OpenID Connect Core 1.0 §3.1.3.7 items 9-10)",
)
AUDIENCE = define_code(
    "MSS-PSC-007",
    ERROR,
    "the ID token is not for this client: its aud does not hold the client id, or azp names another client "
    "(OpenID Connect Core 1.0 §3.1.3.7 items 3-5)",
)
NONCE = define_code(
    "MSS-PSC-008",
    ERROR,
    "the ID token's nonce is not the one sent in the authentication request (OpenID Connect Core 1.0 §3.1.3.7 "
    "item 11, §15.5.2)",
)
REFRESH_REFUSED = define_code(
    "MSS-PSC-009",
    ERROR,
    "the provider refused to refresh the access token (or could not be reached in time to): the Pro Santé Connect "
    "session ends, the sessions using the token are closed and the user must log in again (RFC 6749 §6; ANS, "
    "Référentiel #2 MSSanté: SC.MSS/CONF.10, SC.MSS/CONF.11)",
)
GRANT_REFUSED = define_code(
    "MSS-PSC-010",
    ERROR,
    "the provider refused the grant: the authorization code or its PKCE verifier (RFC 7636 §4.6), or the "
    "back-channel authentication request, denied or expired (OpenID Connect CIBA Core 1.0 §11, §13) (RFC 6749 §5.2)",
)
CIBA_UNSUPPORTED = define_code(
    "MSS-PSC-011",
    ERROR,
    "the provider does not offer back-channel authentication in poll mode: no backchannel_authentication_endpoint, "
    "or poll not among backchannel_token_delivery_modes_supported (OpenID Connect CIBA Core 1.0 §4)",
)
LOGIN_FAILED = define_code(
    "MSS-PSC-012",
    ERROR,
    "the login did not come back: the redirect carries an error, a state that is not the one sent, no code, or "
    "did not come before the deadline (RFC 6749 §4.1.2, §10.12; RFC 8252 §7.3)",
)
CLIENT_AUTH_UNSUPPORTED = define_code(
    "MSS-PSC-013",
    ERROR,
    "the provider does not offer the client authentication configured at its token endpoint (client secret, or "
    "mutual TLS with the organisation's certificate, tls_client_auth) (RFC 8705 §2.1, §5; ANS: mutual TLS is "
    "required in the Pro Santé Connect Espace de Confiance)",
)
TOKEN_ENDED = define_code(
    "MSS-PSC-014",
    ERROR,
    "the token source has ended (its refresh failed, or it was closed): no token is given any more, the user must "
    "log in again (ANS, Référentiel #2 MSSanté: SC.MSS/CONF.10; SC.MSS/CONF.28: the token never kept on disk)",
)


def failure(code: Code, message: str, *, where: str = "") -> PscError:
    """A :class:`~mssante.psc.PscError` saying ``message``, with the finding of ``code`` (at ``where``)."""
    return PscError(message, Report(findings=[code(message, where=where)], subject=where or "psc"))
