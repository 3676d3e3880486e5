"""Reading certificates: PEM, DER, PKCS#7 with the BER fallback, PKCS#12, and hostile input."""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mssante import pki
from mssante.errors import InvalidInput
from mssante.pki import _load
from mssante.pki._load import certificates_from_ber_pkcs7
from tests.counting import WatchedBytes

DATA = Path(__file__).parent.parent / "data" / "pki"
P7B = DATA / "Chaine_de_certification-IGC-Sante.p7b"


def p7b_der() -> bytes:
    match = re.search(rb"-----BEGIN PKCS7-----(.*)-----END PKCS7-----", P7B.read_bytes(), re.DOTALL)
    assert match
    return base64.b64decode(match.group(1))


def test_official_p7b_needs_and_gets_the_ber_fallback() -> None:
    certificates = pki.load_certificates(P7B.read_bytes())
    assert len(certificates) == 8
    # Our own lenient reader finds exactly the same certificates in the DER form.
    assert certificates_from_ber_pkcs7(p7b_der()) == certificates
    assert pki.load_certificates(p7b_der()) == certificates


def test_pem_der_and_bundles() -> None:
    store = pki.TrustStore.bundled("prod")
    root = store.anchors[0]
    pem = root.public_bytes(serialization.Encoding.PEM)
    der = root.public_bytes(serialization.Encoding.DER)
    assert pki.load_certificate(pem) == root
    assert pki.load_certificate(der) == root
    bundle = b"junk before\n" + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in store.intermediates)
    assert pki.load_certificates(bundle) == list(store.intermediates)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "MSS-PKI-001"),
        (b"not a certificate", "MSS-PKI-001"),
        (b"\x30\x82\xff\xff" + b"\x00" * 20, "MSS-PKI-001"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "MSS-PKI-001"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "MSS-PKI-001"),
    ],
    ids=["empty", "text", "truncated-der", "bad-pem-body", "no-certificate-in-pem"],
)
def test_unreadable_input_is_a_finding(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        pki.load_certificates(data)
    assert caught.value.report.codes == (code,)


def test_truncated_real_certificate() -> None:
    der = pki.TrustStore.bundled("prod").anchors[0].public_bytes(serialization.Encoding.DER)
    for cut in (1, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(InvalidInput):
            pki.load_certificates(der[:cut])


def test_a_50_mb_file_is_refused_unread() -> None:
    data = WatchedBytes(os.urandom(1024) * 50 * 1024)
    with pytest.raises(InvalidInput) as caught:
        pki.load_certificates(data)
    assert caught.value.report.codes == ("MSS-PKI-002",)
    assert data.read == 0  # catches a size check made after the input is copied, searched or parsed


class ScanCounter:
    """Stands in for a compiled expression and counts the bytes it is given to scan, in :attr:`scanned`."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.scanned = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.pattern, name)

        def scanning(data: bytes, *args: Any, **kwargs: Any) -> Any:
            self.scanned += len(data)
            return method(data, *args, **kwargs)

        return scanning


def test_a_pem_with_10000_certificates_is_refused_before_its_blocks_are_scanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root_pem = pki.TrustStore.bundled("prod").anchors[0].public_bytes(serialization.Encoding.PEM)
    many = b"-----BEGIN CERTIFICATE-----\n" * 10_000  # and no END at all: the worst case for a PEM scanner
    blocks = ScanCounter(_load._PEM_BLOCK)
    monkeypatch.setattr(_load, "_PEM_BLOCK", blocks)
    for data in (many, root_pem * 100):
        with pytest.raises(InvalidInput) as caught:
            pki.load_certificates(data)
        assert caught.value.report.codes == ("MSS-PKI-002",)
    # Catches scanning such input for its blocks: each BEGIN without END sends the expression to the end (quadratic).
    assert blocks.scanned == 0
    pki.load_certificates(root_pem)
    assert blocks.scanned == len(root_pem)  # and the counter does see the scan of a file that is read


def test_pkcs12_bad_password_and_garbage() -> None:
    with pytest.raises(InvalidInput) as caught:
        pki.load_pkcs12(b"garbage", b"secret")
    assert caught.value.report.codes == ("MSS-PKI-020",)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_invalid_input(data: bytes) -> None:
    try:
        certificates = pki.load_certificates(data)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes
    else:
        assert certificates


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=5000), st.binary(min_size=1, max_size=8))
@example(position=335, junk=b"\x00\x00\x00\x03")  # a BIT STRING name attribute: cryptography raises TypeError
def test_corrupted_p7b_never_raises_anything_but_invalid_input(position: int, junk: bytes) -> None:
    der = p7b_der()
    position %= len(der)
    corrupted = der[:position] + junk + der[position + len(junk) :]
    with contextlib.suppress(InvalidInput):
        assert pki.load_certificates(corrupted)
