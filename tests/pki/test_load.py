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
from tests.counting import WatchedBytes, lines_run

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


# Hostile BER: the lenient PKCS#7 reader follows indefinite lengths, so it bounds how deep and how many.


def tlv(tag: int, content: bytes) -> bytes:
    """One definite-length BER element."""
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def indefinite(tag: int, content: bytes) -> bytes:
    """One indefinite-length BER element: its content, then the end-of-contents octets."""
    return bytes([tag, 0x80]) + content + b"\x00\x00"


SIGNED_DATA_OID = tlv(0x06, bytes.fromhex("2a864886f70d010702"))
DATA_OID = tlv(0x06, bytes.fromhex("2a864886f70d010701"))


def p7_with_bag(bag_content: bytes) -> bytes:
    """A BER PKCS#7 SignedData (every length indefinite) whose certificate bag holds ``bag_content``."""
    signed = tlv(0x02, b"\x01") + tlv(0x31, b"") + tlv(0x30, DATA_OID) + indefinite(0xA0, bag_content) + tlv(0x31, b"")
    return indefinite(0x30, SIGNED_DATA_OID + indefinite(0xA0, indefinite(0x30, signed)))


DEEP = 100_000


def nested(depth: int) -> bytes:
    return b"\x30\x80" * depth + b"\x00\x00" * depth


@pytest.mark.parametrize(
    "data",
    [
        nested(DEEP),
        p7_with_bag(nested(DEEP)),
        indefinite(0x30, SIGNED_DATA_OID + nested(DEEP)),
        b"-----BEGIN PKCS7-----\n" + base64.encodebytes(p7_with_bag(nested(DEEP))) + b"-----END PKCS7-----\n",
    ],
    ids=["bare", "in-the-certificate-bag", "in-the-content-info", "pem"],
)
def test_100000_nested_indefinite_lengths_are_unreadable_not_a_recursion_error(data: bytes) -> None:
    def load() -> None:
        with pytest.raises(InvalidInput) as caught:
            pki.load_certificates(data)
        assert caught.value.report.codes == ("MSS-PKI-001",)
        assert "nested deeper than" in str(caught.value)

    # Catches a reader that walks the whole nesting (recursion, or one step per level): refused within the bound.
    assert lines_run(load, budget=200_000) < 20 * _load.MAX_BER_DEPTH + 2_000


def test_as_deep_as_the_bound_is_read_and_one_deeper_is_not() -> None:
    ber = _load._Ber(p7_with_bag(nested(_load.MAX_BER_DEPTH - 4)))
    assert list(ber.elements(0, len(ber.data), depth=1))  # the bag is at depth 4, its content from depth 5
    with pytest.raises(ValueError, match="nested deeper than"):
        certificates_from_ber_pkcs7(p7_with_bag(nested(_load.MAX_BER_DEPTH - 3)))


def test_a_million_elements_are_refused_after_the_element_budget() -> None:
    data = indefinite(0x30, b"\x05\x00" * 1_500_000)  # 3 MB of NULLs inside one indefinite-length SEQUENCE

    def load() -> None:
        with pytest.raises(InvalidInput) as caught:
            pki.load_certificates(data)
        assert caught.value.report.codes == ("MSS-PKI-001",)
        assert "BER elements" in str(caught.value)

    # The budget counts element headers: reading stops there, not at the end of the input.
    assert lines_run(load, budget=10_000_000) < 40 * _load.MAX_BER_ELEMENTS  # 1.5 million headers would be ~30 million


def test_the_official_p7b_is_far_from_the_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    readers: list[_load._Ber] = []
    original = _load._Ber

    def recording(data: bytes) -> _load._Ber:
        readers.append(original(data))
        return readers[-1]

    monkeypatch.setattr(_load, "_Ber", recording)
    assert len(certificates_from_ber_pkcs7(p7b_der())) == 8
    (reader,) = readers
    assert reader.headers < _load.MAX_BER_ELEMENTS // 1000


def ber_elements() -> st.SearchStrategy[bytes]:
    """Random BER: primitive and constructed elements, definite and indefinite lengths, and some damage."""
    primitive = st.builds(tlv, st.sampled_from([0x02, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x80, 0x81]),
                          st.binary(max_size=12))  # fmt: skip
    damaged = st.sampled_from([
        b"\x30\x80", b"\x00\x00", b"\x30\x85\xff\xff\xff\xff\xff", b"\x1f\x81\x01\x00", b"\x30\x84\x7f\xff\xff\xff",
        b"\x04\x80\x00\x00", b"\x30", b"\x30\x81", b"\xa0\x80",
    ])  # fmt: skip

    def constructed(children: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[bytes]:
        tags = st.sampled_from([0x30, 0x31, 0xA0, 0xA3])
        return st.one_of(
            st.builds(lambda tag, items: tlv(tag, b"".join(items)), tags, children),
            st.builds(lambda tag, items: indefinite(tag, b"".join(items)), tags, children),
        )

    return st.recursive(st.one_of(primitive, damaged), lambda inner: constructed(st.lists(inner, max_size=4)),
                        max_leaves=40)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(ber_elements(), min_size=1, max_size=4), st.booleans(), st.integers(min_value=0, max_value=8))
def test_random_ber_is_read_or_refused_never_a_traceback(elements: list[bytes], in_a_bag: bool, cut: int) -> None:
    content = b"".join(elements)
    data = p7_with_bag(content) if in_a_bag else content
    data = data[: len(data) - cut]
    try:
        certificates = pki.load_certificates(data)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes in {("MSS-PKI-001",), ("MSS-PKI-002",), ("MSS-PKI-004",)}
    else:
        assert certificates


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=100), st.sampled_from([0x30, 0x31, 0xA0]))
def test_any_nesting_depth_is_read_or_refused_cleanly(depth: int, tag: int) -> None:
    data = p7_with_bag(bytes([tag, 0x80]) * depth + b"\x00\x00" * depth)
    with pytest.raises(InvalidInput) as caught:
        pki.load_certificates(data)
    assert caught.value.report.codes == ("MSS-PKI-001",)
