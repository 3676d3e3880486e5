"""Property tests of the pure parsers: any bytes give a value or a PscError with a code, never another exception."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import KeySet

from mssante.psc import PscError, check_id_token, parse_metadata, parse_token_answer, read_key_set
from mssante.psc import codes as psc_codes
from tests.psc.lying_provider import new_key

ISSUER = "https://psc.example"
AT = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
KEY = new_key("k1")
KEYS = KeySet([KEY])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
metadata_like = st.fixed_dictionaries(
    {},
    optional={
        "issuer": st.sampled_from([ISSUER, "https://other.example"]) | json_values,
        "authorization_endpoint": st.sampled_from([f"{ISSUER}/a", "http://psc.example/a"]) | json_values,
        "token_endpoint": st.sampled_from([f"{ISSUER}/t", "ftp://x"]) | json_values,
        "jwks_uri": st.just(f"{ISSUER}/j") | json_values,
        "token_endpoint_auth_methods_supported": st.lists(st.text(max_size=10)) | json_values,
    },
)


@settings(max_examples=60)
@given(st.binary(max_size=200) | metadata_like.map(lambda value: json.dumps(value).encode()))
def test_metadata_parser_total(body: bytes) -> None:
    try:
        metadata = parse_metadata(body, ISSUER)
    except PscError as error:
        assert error.code in (psc_codes.METADATA_INVALID.id, psc_codes.ISSUER_MISMATCH.id)  # noqa: PT017 - a property: either outcome is fine
    else:
        assert metadata.issuer == ISSUER
        assert metadata.token_endpoint.startswith("https://")


token_like = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.text(max_size=20) | json_values,
        "token_type": st.sampled_from(["Bearer", "bearer", "mac"]) | json_values,
        "expires_in": st.integers(-10, 100_000) | json_values,
        "refresh_token": st.text(max_size=10) | json_values,
        "scope": json_values,
    },
)


@settings(max_examples=60)
@given(st.integers(100, 599), st.binary(max_size=200) | token_like.map(lambda value: json.dumps(value).encode()))
def test_token_answer_parser_total(status: int, body: bytes) -> None:
    try:
        tokens = parse_token_answer(status, body, at=AT, refused=psc_codes.GRANT_REFUSED, where=ISSUER)
    except PscError as error:
        assert error.code in (psc_codes.GRANT_REFUSED.id, psc_codes.ANSWER_INVALID.id)  # noqa: PT017 - a property: either outcome is fine
    else:
        assert status == 200
        assert tokens.expires_at > AT
        assert tokens.access_token not in repr(tokens)


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_key_set_parser_total(body: bytes) -> None:
    try:
        read_key_set(body, where=ISSUER)
    except PscError as error:
        assert error.code == psc_codes.ANSWER_INVALID.id  # noqa: PT017 - a property: either outcome is fine


claims_like = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.sampled_from([ISSUER, "https://evil.example"]) | json_values,
        "aud": st.sampled_from(["client", ["client", "other"], "other"]) | json_values,
        "azp": st.sampled_from(["client", "other"]),
        "exp": st.integers(0, 2 * 10**9) | json_values,
        "iat": st.integers(0, 2 * 10**9) | json_values,
        "nonce": st.sampled_from(["n", "m"]),
        "sub": st.text(max_size=5),
    },
)


@settings(max_examples=60)
@given(claims_like)
def test_claim_checks_total(claims: dict[str, object]) -> None:
    token = jwt.encode({"alg": "ES256", "kid": "k1"}, claims, KEY)
    try:
        checked = check_id_token(token, KEYS, issuer=ISSUER, client_id="client", nonce="n", at=AT, algorithms=["ES256"])
    except PscError as error:
        assert error.code.startswith("MSS-PSC-")  # noqa: PT017 - a property: either outcome is fine
    else:
        assert checked["iss"] == ISSUER
        assert checked["nonce"] == "n"


@settings(max_examples=60)
@given(st.text(max_size=200))
def test_id_token_garbage(token: str) -> None:
    try:
        check_id_token(token, KEYS, issuer=ISSUER, client_id="client", nonce=None, at=AT)
    except PscError as error:
        assert error.code == psc_codes.BAD_SIGNATURE.id  # noqa: PT017 - a property: either outcome is fine
