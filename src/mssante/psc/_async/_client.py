"""The provider over HTTPS: discovery, key set, token requests (code, refresh, back-channel); each request within a
wall-clock deadline and a byte bound (:func:`mssante.net.attempt`). The async source: the sync twin is generated."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import warnings
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType

import httpx
from joserfc.jwk import KeySet

from mssante._secrets import scrub
from mssante.errors import SecurityWarning
from mssante.net import DEFAULT_TIMEOUT, Answer, Deadline, Exchange, Failure
from mssante.psc import codes
from mssante.psc._backend_async import attempt
from mssante.psc._backend_async import sleep as _sleep
from mssante.psc._errors import PscError
from mssante.psc._idtoken import DEFAULT_LEEWAY, UnknownKey, check_id_token, read_key_set
from mssante.psc._metadata import ProviderMetadata, check_endpoint, discovery_url, parse_metadata
from mssante.psc._requests import (
    AuthMethod,
    AuthorizationRequest,
    CibaWait,
    ClientCredentials,
    authorization_request,
    ciba_poll_answer,
    ciba_start_form,
    parse_ciba_start,
)
from mssante.psc._tokens import TokenSet, parse_token_answer
from mssante.report import Code

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DURATION", "AsyncPscClient"]

DEFAULT_MAX_DURATION = 30.0
"""Seconds allowed to one request to the provider, whole (connection, TLS, answer)."""

DEFAULT_MAX_BYTES = 256 * 1024
"""The largest answer read from the provider (metadata, key set, tokens)."""

_Path = str | os.PathLike[str]

_FIRST_POLL = 1.0
"""Seconds before the first poll of the back-channel flow (then the provider's interval between polls)."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class AsyncPscClient:
    """A client of a Pro Santé Connect (OpenID Connect) provider, ``issuer``, as ``client_id``.

    The client proves itself with ``client_secret`` (``client_secret_basic``, or ``auth_method`` ``client_secret_post``)
    or with mutual TLS (``certificate`` and ``key``, PEM files: an IGC Santé ORG certificate; RFC 8705
    ``tls_client_auth``, required in the PSC Espace de Confiance). ``ca_file`` adds anchors to the system's for the
    provider's server certificate (a test CA), or ``context`` replaces the TLS context whole.

    Every request has ``max_duration`` seconds in all and reads at most ``max_bytes``; ``timeout`` bounds each
    network operation. Endpoints must be https: ``allow_http_loopback`` lets a provider on this machine be reached in
    plain http (tests only: it emits :class:`~mssante.errors.SecurityWarning`). ``clock`` gives the time (UTC).
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        auth_method: AuthMethod | str | None = None,
        certificate: _Path | None = None,
        key: _Path | None = None,
        ca_file: _Path | None = None,
        context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        max_bytes: int = DEFAULT_MAX_BYTES,
        leeway: float = DEFAULT_LEEWAY,
        allow_http_loopback: bool = False,
        clock: Callable[[], dt.datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if allow_http_loopback:
            warnings.warn(
                "allow_http_loopback: the provider may be reached in plain http on this machine (tests only)",
                SecurityWarning,
                stacklevel=2,
            )
        if (why := check_endpoint(issuer, allow_http_loopback=allow_http_loopback)) is not None:
            raise ValueError(f"the issuer must be an https URL: {why}")
        if key is not None and certificate is None:
            raise ValueError("a key was given without its certificate")
        method = AuthMethod(auth_method) if auth_method is not None else None
        if method is None:
            method = AuthMethod.CLIENT_SECRET_BASIC if client_secret is not None else AuthMethod.TLS_CLIENT_AUTH
        if method is AuthMethod.TLS_CLIENT_AUTH and certificate is None and context is None:
            raise ValueError("tls_client_auth needs the client certificate (certificate and key) or a context")
        self.issuer = issuer
        self.credentials = ClientCredentials(client_id=client_id, secret=client_secret, method=method)
        self._allow_http = allow_http_loopback
        self._timeout = timeout
        self.max_duration = max_duration
        self.max_bytes = max_bytes
        self._leeway = leeway
        self._clock = clock
        if context is None:
            context = ssl.create_default_context(cafile=os.fspath(ca_file) if ca_file is not None else None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if certificate is not None:
                context.load_cert_chain(os.fspath(certificate), os.fspath(key) if key is not None else None)
        self._http = httpx.AsyncClient(verify=context, transport=transport, follow_redirects=False, trust_env=False)
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None

    def __repr__(self) -> str:
        return f"AsyncPscClient({self.issuer!r}, client_id={self.client_id!r}, {self.credentials.method.value})"

    @property
    def client_id(self) -> str:
        """The client's id at the provider."""
        return self.credentials.client_id

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPscClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    def now(self) -> dt.datetime:
        """The time of the client's clock (UTC)."""
        return self._clock()

    # --- requests -----------------------------------------------------------------------------------------------

    async def _ask(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        secrets: tuple[str, ...] = (),
    ) -> Answer:
        ask = Exchange(
            method=method,
            url=url,
            deadline=Deadline.after(self.max_duration),
            timeout=self._timeout,
            max_bytes=self.max_bytes,
            headers=dict(headers or {"Accept": "application/json"}),
            content=content,
            error_bytes=16 * 1024,
            follow_redirects=False,
            name=url.split("?", 1)[0],
        )
        answer = await attempt(self._http, ask)
        if isinstance(answer, Failure):
            detail = scrub(answer.detail, (*secrets, self.credentials.secret or ""))
            why = "did not answer in time" if answer.timed_out else f"cannot be reached: {detail}"
            if answer.reason == "oversize":
                why = f"answered more than {self.max_bytes} bytes: {detail}"
            raise codes.failure(codes.UNREACHABLE, f"the provider {why}", where=self.issuer)
        return answer

    async def _get_json(self, url: str) -> bytes:
        answer = await self._ask("GET", url)
        if answer.status != 200:
            message = f"the provider answered {answer.status} to {url.split('?', 1)[0]}"
            raise codes.failure(codes.UNREACHABLE, message, where=self.issuer)
        return answer.body

    async def _post(self, url: str, form: Mapping[str, str], *, secrets: tuple[str, ...] = ()) -> Answer:
        headers, body = self.credentials.authenticate(url, form)
        return await self._ask("POST", url, headers=headers, content=body, secrets=secrets)

    async def metadata(self, *, refresh: bool = False) -> ProviderMetadata:
        """The provider's discovery metadata (fetched once, or again with ``refresh``); its issuer is the one
        configured, its endpoints https, and it offers this client's authentication method."""
        if self._metadata is None or refresh:
            body = await self._get_json(discovery_url(self.issuer))
            metadata = parse_metadata(body, self.issuer, allow_http_loopback=self._allow_http)
            self.credentials.check_offered(metadata)
            self._metadata = metadata
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's key set (fetched once, or again with ``refresh``)."""
        if self._keys is None or refresh:
            metadata = await self.metadata()
            self._keys = read_key_set(await self._get_json(metadata.jwks_uri), where=self.issuer)
        return self._keys

    async def _endpoint(self, name: str) -> str:
        return (await self.metadata()).endpoint(name, mtls=self.credentials.mtls)

    # --- tokens -------------------------------------------------------------------------------------------------

    async def check_id_token(
        self, id_token: str, *, nonce: str | None, at: dt.datetime | None = None
    ) -> Mapping[str, object]:
        """The claims of ``id_token`` once checked (see :func:`~mssante.psc.check_id_token`). A key id the key set
        lacks makes the key set be fetched again, once (the provider rotated its keys); still unknown, refused."""
        when = at or self.now()
        algorithms = (await self.metadata()).signing_algorithms

        def check(keys: KeySet) -> Mapping[str, object]:
            return check_id_token(
                id_token, keys, issuer=self.issuer, client_id=self.client_id, nonce=nonce, at=when,
                algorithms=algorithms, leeway=self._leeway,
            )  # fmt: skip

        try:
            return check(await self.keys())
        except UnknownKey:
            keys = await self.keys(refresh=True)
        try:
            return check(keys)
        except UnknownKey as unknown:
            message = f"the ID token names a key ({unknown}) the provider's key set does not hold"
            raise codes.failure(codes.BAD_SIGNATURE, message, where=self.issuer) from None

    async def _tokens(
        self,
        answer: Answer,
        *,
        refused: Code,
        nonce: str | None,
        previous: TokenSet | None = None,
        at: dt.datetime,
        secrets: tuple[str, ...] = (),
    ) -> TokenSet:
        tokens = parse_token_answer(
            answer.status, answer.body, at=at, refused=refused, where=self.issuer, previous=previous, secrets=secrets
        )
        if tokens.id_token is None or (previous is not None and tokens.id_token == previous.id_token):
            return tokens
        claims = await self.check_id_token(tokens.id_token, nonce=nonce, at=at)
        subject = claims.get("sub")
        if previous is not None and previous.subject is not None and subject != previous.subject:
            message = "the refreshed ID token names another subject (OpenID Connect Core 1.0 §12.2)"
            raise codes.failure(codes.REFRESH_REFUSED, message, where=self.issuer)
        return TokenSet(
            access_token=tokens.access_token,
            expires_at=tokens.expires_at,
            issued_at=tokens.issued_at,
            refresh_token=tokens.refresh_token,
            id_token=tokens.id_token,
            scope=tokens.scope,
            subject=subject if isinstance(subject, str) else None,
            claims=dict(claims),
        )

    async def authorization_request(self, redirect_uri: str, *, scope: str = "openid") -> AuthorizationRequest:
        """A new authorization-code request with PKCE: open its ``url`` in the user's browser."""
        return authorization_request(await self.metadata(), self.client_id, redirect_uri, scope=scope)

    async def exchange_code(self, request: AuthorizationRequest, code: str) -> TokenSet:
        """The tokens for ``code``, the answer to ``request`` (its verifier sent, its nonce checked)."""
        at = self.now()
        answer = await self._post(await self._endpoint("token_endpoint"), request.token_form(code), secrets=(code,))
        return await self._tokens(answer, refused=codes.GRANT_REFUSED, nonce=request.nonce, at=at)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens for ``tokens``' refresh token (RFC 6749 §6); ``MSS-PSC-009`` when refused or unreachable."""
        if tokens.refresh_token is None:
            raise codes.failure(codes.REFRESH_REFUSED, "there is no refresh token", where=self.issuer)
        at = self.now()
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        try:
            answer = await self._post(await self._endpoint("token_endpoint"), form, secrets=tokens.secrets())
        except PscError as error:
            raise codes.failure(codes.REFRESH_REFUSED, f"the refresh failed: {error}", where=self.issuer) from None
        return await self._tokens(
            answer, refused=codes.REFRESH_REFUSED, nonce=None, previous=tokens, at=at, secrets=tokens.secrets()
        )

    async def ciba(
        self,
        login_hint: str,
        *,
        scope: str = "openid",
        binding_message: str | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> TokenSet:
        """Back-channel authentication (OpenID Connect CIBA Core 1.0, poll mode): the provider asks the user named by
        ``login_hint`` on their device; the tokens once approved. ``MSS-PSC-011`` when the provider does not offer it,
        ``MSS-PSC-010`` when denied or expired."""
        metadata = await self.metadata()
        if not metadata.ciba:
            message = "the provider does not offer back-channel authentication in poll mode"
            raise codes.failure(codes.CIBA_UNSUPPORTED, message, where=self.issuer)
        form = ciba_start_form(login_hint, scope=scope, binding_message=binding_message)
        answer = await self._post(await self._endpoint("backchannel_authentication_endpoint"), form)
        request = parse_ciba_start(answer.status, answer.body, at=self.now(), where=self.issuer)
        interval = min(request.interval, _FIRST_POLL)  # the interval is between polls (CIBA Core §7.3)
        wait = sleep or _sleep
        while True:
            await wait(interval)
            at = self.now()
            if at >= request.expires_at:
                message = "the back-channel authentication expired before the user approved it"
                raise codes.failure(codes.GRANT_REFUSED, message, where=self.issuer)
            answer = await self._post(
                await self._endpoint("token_endpoint"), request.poll_form(), secrets=(request.auth_req_id,)
            )
            interval = max(interval, request.interval)
            if answer.status == 200:
                return await self._tokens(answer, refused=codes.GRANT_REFUSED, nonce=None, at=at)
            if ciba_poll_answer(answer.status, answer.body, where=self.issuer) is CibaWait.SLOW_DOWN:
                interval += 5  # CIBA Core §11: slow_down adds 5 s to the interval
