"""What is sent to the provider, and how its redirect and back-channel answers are judged, without I/O.

PKCE (RFC 7636) with authlib's helpers; client authentication by secret (RFC 6749 §2.3.1, authlib's ``ClientAuth``)
or mutual TLS (RFC 8705 §2.1, ``tls_client_auth``: the client id in the form, the certificate in the handshake);
the back-channel flow (OpenID Connect CIBA Core 1.0, poll mode), which no library offers, as a few pure functions.
"""

from __future__ import annotations

import datetime as dt
import enum
import urllib.parse
from collections.abc import Mapping

import attrs
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.auth import ClientAuth  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]

from mssante.psc import codes
from mssante.psc._errors import PscError
from mssante.psc._json import read_object
from mssante.psc._metadata import ProviderMetadata
from mssante.psc._tokens import parse_error

__all__ = [
    "AuthMethod",
    "AuthorizationRequest",
    "CibaRequest",
    "CibaWait",
    "ClientCredentials",
    "authorization_request",
    "ciba_poll_answer",
    "ciba_start_form",
    "parse_ciba_start",
    "read_redirect",
]

DEFAULT_SCOPE = "openid"
_SHOWN = 200


class AuthMethod(str, enum.Enum):
    """How the client proves itself at the token endpoint."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method name, not a secret
    TLS_CLIENT_AUTH = "tls_client_auth"
    """RFC 8705 §2.1: the client's certificate (an IGC Santé ORG certificate for PSC) in the TLS handshake."""


@attrs.frozen(kw_only=True)
class ClientCredentials:
    """The client: its id, and its secret or mutual TLS."""

    client_id: str
    secret: str | None = attrs.field(default=None, repr=False)
    method: AuthMethod = attrs.field(converter=AuthMethod)

    def __attrs_post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("client_id is required")
        if self.method is AuthMethod.TLS_CLIENT_AUTH and self.secret is not None:
            raise ValueError("tls_client_auth authenticates with the certificate: give no client secret")
        if self.method is not AuthMethod.TLS_CLIENT_AUTH and not self.secret:
            raise ValueError(f"{self.method.value} needs the client secret")

    @property
    def mtls(self) -> bool:
        """Whether the client authenticates with its certificate."""
        return self.method is AuthMethod.TLS_CLIENT_AUTH

    def check_offered(self, metadata: ProviderMetadata) -> None:
        """``MSS-PSC-013`` when the provider does not offer this method at its token endpoint."""
        if self.method.value not in metadata.token_endpoint_auth_methods:
            offered = ", ".join(metadata.token_endpoint_auth_methods) or "none"
            message = f"the provider does not offer {self.method.value} (offers: {offered})"
            raise codes.failure(codes.CLIENT_AUTH_UNSUPPORTED, message, where=metadata.issuer)

    def authenticate(self, url: str, form: Mapping[str, str]) -> tuple[dict[str, str], bytes]:
        """The headers and the form body of a request to ``url`` authenticated as this client."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        body = urllib.parse.urlencode(dict(form))
        if self.mtls:
            body = urllib.parse.urlencode({**form, "client_id": self.client_id})
            return headers, body.encode("ascii")
        auth = ClientAuth(self.client_id, self.secret, self.method.value)
        _, headers, body = auth.prepare("POST", url, headers, body)
        return dict(headers), body.encode("ascii") if isinstance(body, str) else bytes(body)


@attrs.frozen(kw_only=True)
class AuthorizationRequest:
    """One authorization-code request with PKCE: the URL the user opens and what checks its answer."""

    url: str
    redirect_uri: str
    state: str = attrs.field(repr=False)
    nonce: str = attrs.field(repr=False)
    verifier: str = attrs.field(repr=False)

    def token_form(self, code: str) -> dict[str, str]:
        """The form that exchanges ``code`` for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
        }


def authorization_request(
    metadata: ProviderMetadata,
    client_id: str,
    redirect_uri: str,
    *,
    scope: str = DEFAULT_SCOPE,
    extra: Mapping[str, str] | None = None,
) -> AuthorizationRequest:
    """A new authorization request (OpenID Connect Core 1.0 §3.1.2.1) with a fresh state, nonce and PKCE S256
    verifier (RFC 7636 §4.1-4.3)."""
    if metadata.code_challenge_methods and "S256" not in metadata.code_challenge_methods:
        message = "the provider does not offer PKCE S256 (RFC 7636 §4.2)"
        raise codes.failure(codes.METADATA_INVALID, message, where=metadata.issuer)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    parameters = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        **(extra or {}),
    }
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    url = metadata.authorization_endpoint + separator + urllib.parse.urlencode(parameters)
    return AuthorizationRequest(url=url, redirect_uri=redirect_uri, state=state, nonce=nonce, verifier=verifier)


def read_redirect(query: str, request: AuthorizationRequest, *, where: str) -> str:
    """The code in the query of the redirect that answers ``request``; ``MSS-PSC-012`` when it carries an error, a
    state that is not the one sent (RFC 6749 §10.12) or no code."""
    fields = urllib.parse.parse_qs(query, keep_blank_values=True)

    def one(name: str) -> str | None:
        values = fields.get(name, [])
        return values[0] if len(values) == 1 else None

    if one("state") != request.state:
        raise codes.failure(codes.LOGIN_FAILED, "the redirect's state is not the one sent: ignored", where=where)
    if (error := one("error")) is not None:
        description = (one("error_description") or "")[:_SHOWN]
        raise codes.failure(
            codes.LOGIN_FAILED, f"the login failed: {error[:_SHOWN]} {description}".strip(), where=where
        )
    code = one("code")
    if not code:
        raise codes.failure(codes.LOGIN_FAILED, "the redirect carries no code", where=where)
    return code


@attrs.frozen(kw_only=True)
class CibaRequest:
    """A back-channel authentication under way (OpenID Connect CIBA Core 1.0 §7.3)."""

    auth_req_id: str = attrs.field(repr=False)
    expires_at: dt.datetime
    interval: float

    def poll_form(self) -> dict[str, str]:
        """The token request that polls for it (CIBA Core §10.1)."""
        return {"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": self.auth_req_id}


def ciba_start_form(
    login_hint: str, *, scope: str = DEFAULT_SCOPE, binding_message: str | None = None
) -> dict[str, str]:
    """The back-channel authentication request (CIBA Core §7.1) for the user named by ``login_hint``."""
    form = {"scope": scope, "login_hint": login_hint}
    if binding_message:
        form["binding_message"] = binding_message
    return form


def parse_ciba_start(status: int, body: bytes, *, at: dt.datetime, where: str) -> CibaRequest:
    """The answer to a back-channel authentication request (CIBA Core §7.3, §13)."""
    if status != 200:
        error, description = parse_error(status, body)
        detail = f"{error}: {description}" if description else error
        raise codes.failure(
            codes.GRANT_REFUSED, f"the provider refused the back-channel request: {detail}", where=where
        )

    def invalid(reason: str) -> PscError:
        return codes.failure(codes.ANSWER_INVALID, f"the back-channel answer cannot be used: {reason}", where=where)

    document = read_object(body, invalid=invalid)
    request_id = document.get("auth_req_id")
    if not isinstance(request_id, str) or not request_id:
        raise invalid("no auth_req_id")
    expires_in = document.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not 0 < expires_in <= 86_400:
        raise invalid("expires_in is not a number of seconds")
    interval = document.get("interval", 5)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 <= interval <= 600:
        raise invalid("interval is not a number of seconds")
    return CibaRequest(
        auth_req_id=request_id, expires_at=at + dt.timedelta(seconds=float(expires_in)), interval=float(interval)
    )


class CibaWait(enum.Enum):
    """What a poll's error answer means: ask again (later, for ``SLOW_DOWN``)."""

    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"


def ciba_poll_answer(status: int, body: bytes, *, where: str) -> CibaWait:
    """Whether a poll's error answer asks to wait (CIBA Core §11); ``MSS-PSC-010`` for a denial or an expiry."""
    error, description = parse_error(status, body)
    if error in ("authorization_pending", "slow_down"):
        return CibaWait(error)
    detail = f"{error}: {description}" if description else error
    raise codes.failure(codes.GRANT_REFUSED, f"the back-channel authentication failed: {detail}", where=where)
