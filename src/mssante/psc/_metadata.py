"""The provider's discovery metadata (``/.well-known/openid-configuration``), read and judged without I/O."""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Callable, Mapping

import attrs

from mssante.psc import codes
from mssante.psc._errors import PscError
from mssante.psc._json import JsonObject, read_object

__all__ = ["ProviderMetadata", "discovery_url", "is_loopback", "parse_metadata"]

WELL_KNOWN = "/.well-known/openid-configuration"


def discovery_url(issuer: str) -> str:
    """Where the metadata of ``issuer`` is (OpenID Connect Discovery 1.0 §4.1)."""
    return issuer.rstrip("/") + WELL_KNOWN


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (``localhost`` or a loopback address)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, *, allow_http_loopback: bool = False) -> str | None:
    """Why ``url`` cannot be an endpoint (not an absolute https URL with a host), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "not a URL"
    if not parts.hostname:
        return "no host"
    if parts.fragment:
        return "a fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http_loopback and is_loopback(url):
        return None
    return f"{parts.scheme or 'no'} scheme, not https"


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


@attrs.frozen(kw_only=True)
class ProviderMetadata:
    """What the provider says of itself: its endpoints (https) and what it supports."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    backchannel_authentication_endpoint: str | None = None
    """CIBA (OpenID Connect CIBA Core 1.0 §4), or None when not offered."""
    mtls_endpoint_aliases: Mapping[str, str] = attrs.field(factory=dict)
    """The endpoints to use with mutual TLS client authentication (RFC 8705 §5)."""
    token_endpoint_auth_methods: tuple[str, ...] = ("client_secret_basic",)
    backchannel_modes: tuple[str, ...] = ()
    code_challenge_methods: tuple[str, ...] = ()
    signing_algorithms: tuple[str, ...] = ("RS256",)
    """``id_token_signing_alg_values_supported`` (never ``none``)."""

    @property
    def ciba(self) -> bool:
        """Whether the provider offers back-channel authentication in poll mode."""
        return self.backchannel_authentication_endpoint is not None and "poll" in self.backchannel_modes

    def endpoint(self, name: str, *, mtls: bool) -> str:
        """The URL of endpoint ``name`` (``token_endpoint``...), its mutual TLS alias when ``mtls`` and it has one."""
        if mtls and name in self.mtls_endpoint_aliases:
            return self.mtls_endpoint_aliases[name]
        url = getattr(self, name)
        if not isinstance(url, str):
            raise codes.failure(codes.CIBA_UNSUPPORTED, f"the provider has no {name}", where=self.issuer)
        return url


def parse_metadata(body: bytes, issuer: str, *, allow_http_loopback: bool = False) -> ProviderMetadata:
    """The metadata in ``body``, for ``issuer``; :class:`PscError` (``MSS-PSC-001`` or ``002``) when it cannot be used.

    Its ``issuer`` must be ``issuer`` exactly (OpenID Connect Discovery 1.0 §4.3); every endpoint https (http on a
    loopback address only with ``allow_http_loopback``).
    """

    def invalid(reason: str) -> PscError:
        return codes.failure(codes.METADATA_INVALID, f"the metadata of {issuer} cannot be used: {reason}", where=issuer)

    document = read_object(body, invalid=invalid)
    said = document.get("issuer")
    if said != issuer:
        shown = repr(said)[:200]
        message = f"the metadata names the issuer {shown}, not {issuer!r}"
        raise codes.failure(codes.ISSUER_MISMATCH, message, where=issuer)
    urls: dict[str, str | None] = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "backchannel_authentication_endpoint"):
        value = document.get(name)
        if value is None and name == "backchannel_authentication_endpoint":
            urls[name] = None
            continue
        if not isinstance(value, str):
            raise invalid(f"{name} is missing or not a string")
        if (why := check_endpoint(value, allow_http_loopback=allow_http_loopback)) is not None:
            raise invalid(f"{name} {value[:200]!r}: {why}")
        urls[name] = value
    aliases = _aliases(document.get("mtls_endpoint_aliases"), invalid, allow_http_loopback=allow_http_loopback)
    lists: dict[str, tuple[str, ...]] = {}
    for name, default in (
        ("token_endpoint_auth_methods_supported", ("client_secret_basic",)),
        ("backchannel_token_delivery_modes_supported", ()),
        ("code_challenge_methods_supported", ()),
        ("id_token_signing_alg_values_supported", ("RS256",)),
    ):
        value = document.get(name)
        read = default if value is None else _strings(value)
        if read is None:
            raise invalid(f"{name} is not a list of strings")
        lists[name] = read
    algorithms = tuple(alg for alg in lists["id_token_signing_alg_values_supported"] if alg.lower() != "none")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_required(urls, "authorization_endpoint"),
        token_endpoint=_required(urls, "token_endpoint"),
        jwks_uri=_required(urls, "jwks_uri"),
        backchannel_authentication_endpoint=urls["backchannel_authentication_endpoint"],
        mtls_endpoint_aliases=aliases,
        token_endpoint_auth_methods=lists["token_endpoint_auth_methods_supported"],
        backchannel_modes=lists["backchannel_token_delivery_modes_supported"],
        code_challenge_methods=lists["code_challenge_methods_supported"],
        signing_algorithms=algorithms,
    )


def _required(urls: dict[str, str | None], name: str) -> str:
    value = urls[name]
    assert value is not None
    return value


def _aliases(value: object, fail: Callable[[str], PscError], *, allow_http_loopback: bool) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("mtls_endpoint_aliases is not an object")
    aliases: dict[str, str] = {}
    document: JsonObject = value
    for name, url in document.items():
        if not isinstance(url, str):
            raise fail(f"mtls_endpoint_aliases.{name} is not a string")
        if (why := check_endpoint(url, allow_http_loopback=allow_http_loopback)) is not None:
            raise fail(f"mtls_endpoint_aliases.{name} {url[:200]!r}: {why}")
        aliases[str(name)] = url
    return aliases
