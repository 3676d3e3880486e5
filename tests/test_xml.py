"""The one route for untrusted XML: hostile documents get the library's error, never a traceback nor an expansion."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import _xml

LIMIT = 1024 * 1024

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><a>&lol3;</a>"""
QUADRATIC = b'<!DOCTYPE a [<!ENTITY x "' + b"x" * 10_000 + b'">]><a>' + b"&x;" * 10_000 + b"</a>"
EXTERNAL_ENTITY = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>'
PARAMETER_ENTITY = b"<!DOCTYPE a [<!ENTITY % p SYSTEM 'http://evil.example/p.dtd'> %p;]><a/>"
UNPARSED_ENTITY = b'<!DOCTYPE a [<!NOTATION n SYSTEM "n"><!ENTITY u SYSTEM "u" NDATA n>]><a/>'
EXTERNAL_DTD = b'<!DOCTYPE a SYSTEM "http://evil.example/a.dtd"><a/>'

HOSTILE_DTDS = {
    "billion-laughs": BILLION_LAUGHS,
    "quadratic-blowup": QUADRATIC,
    "external-entity": EXTERNAL_ENTITY,
    "parameter-entity": PARAMETER_ENTITY,
    "unparsed-entity": UNPARSED_ENTITY,
    "external-dtd": EXTERNAL_DTD,
    "public-dtd": b'<!DOCTYPE a PUBLIC "-//E//X" "x.dtd"><a/>',
    "empty-dtd": b"<!DOCTYPE a><a/>",
    "after-comment": b"<!-- c --><!DOCTYPE a><a/>",
    "after-pi": b'<?xml version="1.0"?><?pi x?>\n<!DOCTYPE a><a/>',
    "after-bom": b"\xef\xbb\xbf<!DOCTYPE a><a/>",
    "line-breaks-inside": b"<!DOCTYPE\n\ta\r\n[\n]\n><a/>",
    "utf-16-with-mark": BILLION_LAUGHS.decode().encode("utf-16"),
    "utf-16le-declared": (b'<?xml version="1.0" encoding="UTF-16"?>' + EXTERNAL_ENTITY[21:])
    .decode()
    .encode("utf-16-le"),
    "latin-1-declared": b'<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE a [<!ENTITY e "\xe9">]><a>&e;</a>',
}


def reading(data: bytes) -> str | None:
    """The text of the root, or the reason of the refusal."""
    try:
        return _xml.parse_untrusted(data, limit=LIMIT).text
    except _xml.UnreadableXml as error:
        return error.reason


def checking(data: bytes, *, fast: bool) -> str | None:
    """The reason the check refuses ``data``, None when it passes."""
    try:
        _xml.check_well_formed(data, fast=fast)
    except _xml.UnreadableXml as error:
        return error.reason
    return None


@pytest.mark.parametrize("data", HOSTILE_DTDS.values(), ids=HOSTILE_DTDS.keys())
def test_a_dtd_is_refused_by_every_entry_point(data: bytes) -> None:
    for read in (
        lambda: _xml.parse_untrusted(data, limit=LIMIT),
        lambda: _xml.check_well_formed(data),
        lambda: _xml.check_well_formed(data, fast=True),
        lambda: _xml.check_prolog(data),
        lambda: _xml.run(_xml.guarded_parser(), data),
    ):
        with pytest.raises(_xml.UnreadableXml) as caught:
            read()
        assert caught.value.reason in {"forbidden", "malformed"}  # forbidden, or not readable before the DTD
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.parse_untrusted(data, limit=LIMIT)
    if not data.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00")):
        assert caught.value.reason == "forbidden"


def test_a_dtd_is_refused_at_its_start_before_any_declaration() -> None:
    # The DTD's declarations are never read: an unclosed internal subset is refused as a DTD, not as malformed.
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.parse_untrusted(b'<!DOCTYPE a [<!ENTITY e "', limit=LIMIT)
    assert caught.value.reason == "forbidden"


@pytest.mark.parametrize(
    "data",
    [
        b"<a><!DOCTYPE a></a>",
        b"<a/><!DOCTYPE a>",
        b"<a>&undefined;</a>",
        b"<a>&e;</a>",
        b'<a b="&x;"/>',
        b"<a>",
        b"<a><b></a>",
        b"",
        b"   ",
        b"<a/><b/>",
        b"<a>\x00</a>",
        b"\x00<a/>",
        b"<a>\xff</a>",
        b'<a x="1" x="2"/>',
    ],
)
def test_malformed_documents_are_the_librarys_error(data: bytes) -> None:
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.parse_untrusted(data, limit=LIMIT)
    assert caught.value.reason == "malformed"
    with pytest.raises(_xml.UnreadableXml):
        _xml.check_well_formed(data, fast=True)


def test_a_truncated_document_says_where_it_ends() -> None:
    whole = b'<?xml version="1.0"?><a><b c="d">text</b></a>'
    for cut in range(len(whole)):
        with pytest.raises(_xml.UnreadableXml) as caught:
            _xml.parse_untrusted(whole[:cut], limit=LIMIT)
        assert caught.value.reason == "malformed"
        assert "line 1" in caught.value.detail or "XML declaration" in caught.value.detail or cut == 0
    assert _xml.parse_untrusted(whole, limit=LIMIT).find("b").text == "text"  # type: ignore[union-attr]


def test_a_document_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.parse_untrusted(b"<a/>" + b" " * 100, limit=50)
    assert caught.value.reason == "too-large"
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.check_well_formed(b"<a/>" + b" " * 100, limit=50)
    assert caught.value.reason == "too-large"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-32"])
def test_utf16_and_utf32_without_a_mark_are_not_read_as_utf8(codec: str) -> None:
    data = '<?xml version="1.0"?><a>é</a>'.encode(codec)
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.require_utf8(data)
    assert caught.value.reason == "encoding"
    outcome = reading(data)
    assert outcome in {"malformed", "é"}  # expat reads UTF-16 by its first bytes, as XML 1.0 Appendix F says


def test_the_encodings_expat_reads_are_read() -> None:
    text = '<?xml version="1.0" encoding="{}"?><a>é</a>'
    for encoding in ("UTF-8", "ISO-8859-1", "UTF-16"):
        data = text.format(encoding).encode(encoding)
        assert _xml.parse_untrusted(data, limit=LIMIT).text == "é"
    with pytest.raises(_xml.UnreadableXml):  # a multi-byte encoding expat cannot use
        _xml.parse_untrusted(text.format("Shift_JIS").replace("é", "あ").encode("shift_jis"), limit=LIMIT)
    with pytest.raises(_xml.UnreadableXml):  # not an encoding
        _xml.parse_untrusted(text.format("x-no-such-thing").encode(), limit=LIMIT)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'<?xml version="1.0" encoding="UTF-8"?><a/>', None),
        (b"\xef\xbb\xbf<a/>", None),
        (b'<?xml version="1.0" encoding="us-ascii"?><a/>', None),
        (b'<?xml version="1.0" encoding="us-ascii"?><a>\xc3\xa9</a>', "malformed"),
        (b'<?xml version="1.0" encoding = "ISO-8859-1" ?><a/>', "encoding"),
        (b"<?xml encoding='UTF-8'?><a/>", "malformed"),
        (b"\xfe\xff\x00<", "encoding"),
        (b"\x4c\x6f\xa7\x94", "encoding"),
    ],
)
def test_require_utf8(data: bytes, reason: str | None) -> None:
    if reason is None:
        _xml.require_utf8(data)
        return
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.require_utf8(data)
    assert caught.value.reason == reason


def test_deep_nesting_is_read_or_refused_never_a_crash() -> None:
    depth = 100_000
    data = b"<a>" * depth + b"</a>" * depth
    root = _xml.parse_untrusted(data, limit=LIMIT)  # expat has no recursion: the tree is built iteratively
    assert root.tag == "a"
    _xml.check_well_formed(data, fast=True)  # lxml refuses past its depth limit; expat decides
    with pytest.raises(_xml.UnreadableXml):
        _xml.parse_untrusted(data[:-1], limit=LIMIT)


def test_a_huge_attribute_is_read_within_the_size_bound() -> None:
    value = b"x" * (2 * 1024 * 1024)
    data = b'<a b="' + value + b'"/>'
    assert len(_xml.parse_untrusted(data, limit=4 * 1024 * 1024).get("b") or "") == len(value)
    _xml.check_well_formed(data, fast=True)
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.parse_untrusted(data, limit=1024 * 1024)
    assert caught.value.reason == "too-large"


def test_the_guarded_parser_streams_with_the_callers_handlers() -> None:
    seen: list[str] = []
    parser = _xml.guarded_parser(namespaces=True)
    parser.StartElementHandler = lambda name, _attributes: seen.append(name)
    _xml.run(parser, b'<a xmlns="urn:x"><b/></a>')
    assert seen == ["urn:x}a", "urn:x}b"]
    parser = _xml.guarded_parser()
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.run(parser, b"<!DOCTYPE a><a/>")
    assert caught.value.reason == "forbidden"


@pytest.mark.parametrize(
    "data",
    [b"<p:a/>", b'<a xmlns:x="u" xmlns:y="u" x:b="1" y:b="2"/>', b'<a xmlns:p=""/>', b'<a xmlns:xml="urn:x"/>'],
)
def test_namespaces_are_checked_by_both_checkers(data: bytes) -> None:
    for fast in (False, True):  # libxml2 only logs these: the check is expat's
        with pytest.raises(_xml.UnreadableXml):
            _xml.check_well_formed(data, fast=fast)


def test_without_lxml_the_check_is_expats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xml, "_etree", lambda: None)
    assert not _xml.lxml_available()
    _xml.check_well_formed(b"<a/>", fast=True)
    with pytest.raises(_xml.UnreadableXml) as caught:
        _xml.check_well_formed(b"<a>", fast=True)
    assert caught.value.detail.startswith("no element found")


ANY_XML = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda head, body, cut: (head + body)[: cut or None],
        st.sampled_from([b"", b'<?xml version="1.0"?>', b"\xef\xbb\xbf", b"\xff\xfe", b"<!DOCTYPE a>", b"<!-- c -->"]),
        st.text(alphabet='<>/&;!"=ab \x00\n[]-?é', max_size=80).map(str.encode),
        st.integers(min_value=0, max_value=80),
    ),
)


@settings(max_examples=400, deadline=None)
@given(ANY_XML)
def test_any_bytes_give_an_element_or_the_librarys_error(data: bytes) -> None:
    try:
        root: ElementTree.Element | str = _xml.parse_untrusted(data, limit=LIMIT)
    except _xml.UnreadableXml as error:
        root = error.reason
    if isinstance(root, str):
        assert root in {"forbidden", "malformed"}
    else:
        assert b"<!DOCTYPE" not in data.upper()  # no document with a DTD gives a tree
    assert {checking(data, fast=fast) for fast in (False, True)} <= {None, "forbidden", "malformed"}


def _verdict(data: bytes, *, fast: bool) -> object:
    try:
        _xml.check_well_formed(data, fast=fast)
    except _xml.UnreadableXml as error:
        return error.reason, str(error)
    return None


@settings(max_examples=500, deadline=None)
@given(ANY_XML)
def test_lxml_and_expat_checks_agree(data: bytes) -> None:
    assert _verdict(data, fast=True) == _verdict(data, fast=False)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"<a>", b"</a>", b"<b x='1'>", b"</b>", b"<c/>", b"text", b"&amp;", b"&#1;", b"&#x10FFFF;", b"&#128;",
             b"<![CDATA[]]>", b"<!---->", b"<?p?>", b"\xc2\x85", b"\xef\xbf\xbe", b"\xed\xa0\x80", b"\x0c", b"\r\n",
             b"<p:a xmlns:p='urn:p'>", b"</p:a>", b"]]>", b"<?xml version='1.0'?>", b"<!DOCTYPE a>", b" "]
        ),
        max_size=12,
    ).map(b"".join)
)  # fmt: skip
def test_lxml_and_expat_checks_agree_on_markup(data: bytes) -> None:
    assert _verdict(data, fast=True) == _verdict(data, fast=False)
