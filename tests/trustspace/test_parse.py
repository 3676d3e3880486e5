"""Reading the real ANS allow-list, and refusing every broken or hostile document whole."""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import _xml
from mssante.errors import InvalidInput
from mssante.trustspace import MAX_ALLOWLIST_BYTES, AllowList, _parse
from tests.counting import Call, WatchedBytes, spy
from tests.trustspace.conftest import CLOSING_TAG, DATA, MIRROR_HEAD, RESTORED

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
    b"<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration><ListeDomaines>"
)
TAIL = b"</ListeDomaines></ListeBlancheMSSante>"


def entry(name: str = "chu-x.mssante.fr", dn: str = "CN=mx.op.fr,OU=318751275100020,O=OP,ST=Paris (75),C=FR",
          updated: str = "2025-03-13T14:54:10Z", skip: str = "") -> bytes:  # fmt: skip
    fields = {
        "Nom": name, "Description": "CHU X", "DNCertificatOperateur": dn, "ResponsableContact": "a@op.fr",
        "SupportContact": "b@op.fr", "DateMAJ": updated,
    }  # fmt: skip
    inner = "".join(f"<{key}>{value}</{key}>" for key, value in fields.items() if key != skip)
    return f"<Domaine>{inner}</Domaine>".encode()


def document(*entries: bytes) -> bytes:
    return HEAD + b"".join(entries) + TAIL


def refused(data: bytes) -> tuple[str, ...]:
    with pytest.raises(InvalidInput) as caught:
        AllowList.parse(data)
    return caught.value.report.codes


def test_the_real_list_loads_whole(real_list: AllowList) -> None:
    assert len(real_list) == 6554
    assert len(real_list.domains) == 5002
    assert len({entry.dn_text for entry in real_list.entries}) == 392  # as published
    assert len(real_list.dns) == 388  # compared by value: 4 DNs are written two ways
    assert real_list.generated.isoformat() == "2025-03-13T14:54:10+00:00"
    assert real_list.sha256 == hashlib.sha256(RESTORED.read_bytes()).hexdigest()


def test_the_real_list_reports_its_flaws(real_list: AllowList) -> None:
    codes = real_list.report.codes
    assert codes.count("MSS-WL-008") == 1  # 'sessad@ase.ditepbeziers.mssante.fr' is not a domain name
    assert "MSS-WL-009" not in codes  # every published DN parses
    assert codes.count("MSS-WL-010") > 0  # the same domain and DN listed twice
    assert real_list.report.ok
    (bad,) = [entry for entry in real_list.entries if not entry.usable]
    assert bad.name == "sessad@ase.ditepbeziers.mssante.fr"


def test_the_published_truncated_files_are_refused(real_bytes: bytes) -> None:
    original = real_bytes.removesuffix(CLOSING_TAG)
    assert hashlib.sha256(original).hexdigest() == "ea660e72943a22a92aa569878e9bcd5311bed0ae5f40b4c82a992b1990a0ec59"
    assert refused(original) == ("MSS-WL-004",)
    with pytest.raises(InvalidInput, match="ends before </ListeBlancheMSSante>"):
        AllowList.load(MIRROR_HEAD)
    for cut in (10, 1000, len(real_bytes) // 2):
        assert refused(real_bytes[:cut])[0] in {"MSS-WL-004", "MSS-WL-001"}


def test_a_small_list() -> None:
    allow = AllowList.parse(document(entry(), entry("CHU-Y.mssante.fr"), entry(name="hôpital.mssante.fr")))
    assert allow.domains == {"chu-x.mssante.fr", "chu-y.mssante.fr", "xn--hpital-ixa.mssante.fr"}
    assert "CHU-X.MSSANTE.FR" in allow
    assert "hôpital.mssante.fr" in allow
    assert allow.report.codes == ()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "MSS-WL-001"),
        (b"not xml", "MSS-WL-001"),
        (document().replace(b"https://listeblanche.mssante.fr/schema", b"https://example.org/other"), "MSS-WL-005"),
        (document().replace(b"ListeBlancheMSSante", b"Liste"), "MSS-WL-005"),
        (document(entry()).replace(b"<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>", b""), "MSS-WL-006"),
        (HEAD.split(b"<ListeDomaines>")[0] + b"</ListeBlancheMSSante>", "MSS-WL-006"),
        (document(entry(skip="DNCertificatOperateur")), "MSS-WL-006"),
        (document(entry(skip="SupportContact")), "MSS-WL-006"),
        (document(entry(name="")), "MSS-WL-006"),
        (document(entry(dn=" ")), "MSS-WL-006"),
        (document(entry(updated="yesterday")), "MSS-WL-007"),
        (document(b"<Other/>"), "MSS-WL-005"),
    ],
    ids=[
        "empty", "not-xml", "wrong-namespace", "wrong-root", "no-generation-date", "no-domain-list", "no-dn",
        "no-support-contact", "empty-name", "empty-dn", "bad-date", "foreign-element",
    ],
)  # fmt: skip
def test_structural_problems_refuse_the_whole_list(data: bytes, code: str) -> None:
    assert refused(data) == (code,)


def test_unusable_entries_are_kept_reported_and_allow_nothing() -> None:
    allow = AllowList.parse(document(entry(), entry(name="not a domain"), entry(name="ok.mssante.fr", dn="FOO=x")))
    assert len(allow) == 3
    assert allow.report.codes == ("MSS-WL-008", "MSS-WL-009")
    assert allow.report.ok
    assert "ok.mssante.fr" not in allow
    assert allow.check_domain("ok.mssante.fr").listed is False


def test_duplicates_are_reported_once_each() -> None:
    same_dn_other_spelling = "CN=mx.op.fr, OU=318751275100020, O=OP, L=Paris(75), C=FR"
    allow = AllowList.parse(document(entry(), entry(), entry(dn=same_dn_other_spelling)))
    assert allow.report.codes == ("MSS-WL-010", "MSS-WL-010")
    assert len(allow.operators("chu-x.mssante.fr")) == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><DateDeGeneration>&lol3;</DateDeGeneration>
</ListeBlancheMSSante>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><DateDeGeneration>&xxe;</DateDeGeneration>
</ListeBlancheMSSante>"""
# A list whose one entry is expanded from internal entities: a domain and an operator DN nobody published.
BODY = HEAD.split(b"?>", 1)[1] + entry("&d;", dn="&n;") + TAIL
ENTITIES = b'<!DOCTYPE ListeBlancheMSSante [<!ENTITY d "evil.example.com"><!ENTITY n "CN=mx.evil.example,O=E,C=FR">]>'
SMUGGLED = ENTITIES + BODY
PARAMETER_ENTITY = (b"<!DOCTYPE ListeBlancheMSSante [<!ENTITY % p '<!ENTITY d \"evil.example.com\">'> %p;"
                    b'<!ENTITY n "CN=mx.evil.example,O=E,C=FR">]>' + BODY)  # fmt: skip


def parsers_run(monkeypatch: pytest.MonkeyPatch) -> list[list[Call]]:
    """Every XML parser made while the test runs: the guarded one (through pyexpat) and the element tree's."""
    owners: list[tuple[object, str]] = [
        (expat, "ParserCreate"),
        (ElementTree, "XMLParser"),
        (ElementTree, "fromstring"),
    ]
    return [spy(monkeypatch, owner, name) for owner, name in owners]


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        b'<?xml version="1.0" encoding="UTF-8"?>' + SMUGGLED,
        SMUGGLED,
        b"\xef\xbb\xbf" + SMUGGLED,
        b'<?xml version="1.0"?><!-- a comment first -->\n' + SMUGGLED,
        b"<!-- a comment first -->" + SMUGGLED,
        b'<?xml version="1.0"?><?pi first?>' + SMUGGLED,
        PARAMETER_ENTITY,
        b'<!DOCTYPE ListeBlancheMSSante SYSTEM "http://evil.example/x.dtd">' + BODY,
        b'<!DOCTYPE ListeBlancheMSSante PUBLIC "-//E//X" "x.dtd">' + document(entry()),
        b"<!DOCTYPE ListeBlancheMSSante>" + document(entry()),
    ],
    ids=["billion-laughs", "external-entity", "internal-entities", "no-declaration", "utf-8-bom", "after-comment",
         "after-comment-no-declaration", "after-processing-instruction", "parameter-entity", "external-dtd",
         "public-dtd", "empty-dtd"],
)  # fmt: skip
def test_a_dtd_is_refused_by_a_parser_that_forbids_dtds(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    guarded, tree, fromstring = parsers_run(monkeypatch)
    assert refused(data) == ("MSS-WL-003",)
    # The refusal comes from the one guarded parser, at the DTD: no tree is built, no entity declared nor expanded.
    assert (len(guarded), tree, fromstring) == (1, [], [])


@pytest.mark.parametrize("checker", ["expat", "lxml"])
def test_a_doctype_inside_the_document_is_malformed_xml(checker: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if checker == "expat":
        monkeypatch.setattr(_xml, "_etree", lambda: None)
    guarded, tree, _ = parsers_run(monkeypatch)
    assert refused(document().replace(b"<ListeDomaines>", b"<!DOCTYPE x><ListeDomaines>")) == ("MSS-WL-001",)
    # expat alone reads it once; after lxml's refusal, expat reads it again and says why. No tree is built.
    assert (len(guarded), tree) == ((1, []) if checker == "expat" else (2, []))


LATIN_1 = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + document(entry("chu-é.mssante.fr"))[38:].decode().encode(
    "latin-1"
)
NOT_UTF8 = {
    # The bypasses of the byte screen: UTF-16LE without a byte-order mark carrying a DTD, a declaration with
    # spaces around "=", a declaration whose encoding comes after byte 200.
    "utf-16le-no-bom-dtd": (b'<?xml version="1.0" encoding="UTF-16"?>' + SMUGGLED).decode().encode("utf-16-le"),
    "spaces-around-equals": LATIN_1.replace(b"encoding=", b"encoding = "),
    "declaration-past-byte-200": LATIN_1.replace(b'"1.0" ', b'"1.0"' + b" " * 300),
    "tabs-and-newlines": LATIN_1.replace(b"encoding=", b"encoding\t\n=\r\n"),
    "single-quotes": LATIN_1.replace(b'"ISO-8859-1"', b"'ISO-8859-1'"),
    "windows-1252": LATIN_1.replace(b"ISO-8859-1", b"windows-1252"),
    "declared-utf-16-in-ascii-bytes": LATIN_1.replace(b"ISO-8859-1", b"UTF-16"),
    "ebcdic": document(entry()).decode().encode("cp500"),
    "ebcdic-looking-start": b"\x4c\x6f\xa7\x94" + document(entry())[4:],
    "utf-16le-no-bom": document(entry()).decode().encode("utf-16-le"),
    "utf-16be-no-bom": document(entry()).decode().encode("utf-16-be"),
    "utf-16le-bom": b"\xff\xfe" + document(entry()).decode().encode("utf-16-le"),
    "utf-16be-bom": b"\xfe\xff" + document(entry()).decode().encode("utf-16-be"),
    "utf-16-dtd": BILLION_LAUGHS.decode().encode("utf-16"),
    "utf-16le-space-first": (b" " + SMUGGLED).decode().encode("utf-16-le"),
    "utf-16be-no-declaration": SMUGGLED.decode().encode("utf-16-be"),
    "utf-32le-no-bom": document(entry()).decode().encode("utf-32-le"),
    "utf-32be-no-bom": document(entry()).decode().encode("utf-32-be"),
    "utf-32-bom": document(entry()).decode().encode("utf-32"),
    "utf-32be-bom": b"\x00\x00\xfe\xff" + document(entry()).decode().encode("utf-32-be"),
    "ucs-4-unusual-order": b"\x00\x00\x3c\x00" + document(entry())[1:],
    "utf-8-bom-then-latin-1": b"\xef\xbb\xbf" + LATIN_1,
}


@pytest.mark.parametrize("data", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_an_encoding_other_than_utf8_is_refused_before_any_parser(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = parsers_run(monkeypatch)
    assert refused(data) == ("MSS-WL-018",)
    assert calls == [[], [], []]  # decided from the bytes, as XML 1.0 Appendix F says, before any parser reads them


READABLE = {
    "no-declaration": document(entry())[38:],
    "utf-8-bom": b"\xef\xbb\xbf" + document(entry()),
    "lower-case-utf-8": document(entry()).replace(b"UTF-8", b"utf-8"),
    "us-ascii": document(entry()).replace(b"UTF-8", b"US-ASCII"),
    "spaces-and-single-quotes": document(entry()).replace(b'encoding="UTF-8"', b"encoding = 'UTF-8' "),
    "standalone": document(entry()).replace(b'"UTF-8"', b'"UTF-8" standalone="yes"'),
    "no-encoding": document(entry()).replace(b' encoding="UTF-8"', b""),
    "long-declaration": document(entry()).replace(b'"1.0" ', b'"1.0"' + b" " * 300),
}


@pytest.mark.parametrize("data", READABLE.values(), ids=READABLE.keys())
def test_utf8_and_us_ascii_are_read(data: bytes) -> None:
    assert AllowList.parse(data).domains == {"chu-x.mssante.fr"}


@pytest.mark.parametrize(
    "data",
    [
        b"\n" + LATIN_1,  # a declaration must be the first thing: here it is a misplaced processing instruction
        document(entry()).replace(b"<ListeDomaines>", b'<ListeDomaines><?xml version="1.0" encoding="ISO-8859-1"?>'),
        b" " * 300 + LATIN_1,
        document(entry())[38:] + b'<?xml version="1.0" encoding="ISO-8859-1"?>',
        document(entry()).replace(b"US-ASCII", b"x").replace(b"UTF-8", b"US-ASCII").replace(b"chu-x", b"chu-\xc3\xa9"),
        document(entry()).replace(b'version="1.0" ', b""),
        document(entry()).replace(b'"UTF-8"', b'"UTF-8\''),
        document(entry()).replace(b'"UTF-8"', b'"UTF-8" foo="bar"'),
    ],
    ids=["after-a-line-break", "inside-the-document", "after-300-spaces", "at-the-end", "us-ascii-with-utf-8",
         "no-version", "mismatched-quotes", "unknown-pseudo-attribute"],
)  # fmt: skip
def test_a_misplaced_or_malformed_declaration_is_malformed_xml(data: bytes) -> None:
    assert refused(data) == ("MSS-WL-001",)


PREFIXES = [
    b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b" ", b"\x00", b"\n",
    b"<!-- c -->", b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-8"?>',
    b"<?xml version='1.0' encoding = 'ISO-8859-1' ?>", b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="EBCDIC-CP-US"?>', b'<?xml version="1.0" encoding="utf-7"?>',
]  # fmt: skip
CODECS = ["utf-8", "utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32", "cp500", "latin-1", "utf-7"]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES),
    dtd=st.sampled_from([b"", ENTITIES, b"<!DOCTYPE x>", PARAMETER_ENTITY[:89] + b"]>"]),
    codec=st.sampled_from(CODECS),
    spaces=st.text(" \t\r\n", max_size=250),
    cut=st.integers(min_value=0, max_value=8),
)
def test_any_encoding_and_dtd_give_a_list_or_the_librarys_error(
    prefix: bytes, dtd: bytes, codec: str, spaces: str, cut: int
) -> None:
    text = (prefix.replace(b"<?xml ", b"<?xml " + spaces.encode()) + dtd + BODY).decode("latin-1")
    data = text.encode(codec)[cut:] if codec != "utf-8" else prefix + spaces.encode() + dtd + BODY
    try:
        allow = AllowList.parse(data)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes
    else:  # only UTF-8 without a DTD is read, so the entities never give a domain nor a DN
        assert not dtd
        assert "evil" not in repr(allow.entries)


def test_a_200_mb_document_is_refused_unread() -> None:
    big = WatchedBytes(b" " * (MAX_ALLOWLIST_BYTES + 1))
    assert refused(big) == ("MSS-WL-002",)
    assert big.read == 0  # catches a size check made after the document is copied, searched or parsed


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    try:
        AllowList.parse(data)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=0, max_value=3000), junk=st.binary(min_size=1, max_size=6))
def test_corrupted_lists_are_refused_or_read_never_a_traceback(position: int, junk: bytes) -> None:
    data = document(entry(), entry("chu-y.mssante.fr"))
    position %= len(data)
    corrupted = data[:position] + junk + data[position + len(junk) :]
    try:
        allow = AllowList.parse(corrupted)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes
    else:
        assert len(allow) <= 2


# Two ways of reading: the published shape by expat and one regular expression, anything else by the element
# tree. They must accept and refuse the same documents, with the same entries and findings.


def outcome(data: bytes) -> object:
    """What reading gives: the codes of a refusal, or the list's time, entries, index and findings."""
    try:
        allow = AllowList.parse(data)
    except InvalidInput as error:
        return error.report.codes
    return allow.generated, allow.entries, allow._operators, allow.report.findings


def both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = outcome(data)
    with monkeypatch.context() as patched:
        patched.setattr(_parse, "_published", lambda _data: None)
        slow = outcome(data)
    return fast, slow


def test_the_published_shape_takes_the_fast_path(real_bytes: bytes) -> None:
    published = _parse._published(real_bytes)
    assert published is not None
    columns, generated = published
    assert generated == "2025-03-13T14:54:10Z"
    assert [len(column) for column in columns] == [6554] * 6


def test_the_real_list_reads_the_same_both_ways(real_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both_ways(real_bytes, monkeypatch)
    assert fast == slow
    assert isinstance(fast, tuple)
    assert len(fast[1]) == 6554


SMALL = document(entry(), entry("b.mssante.fr", dn="CN=mx.b.fr,OU=1,O=B &amp; C,C=FR"), entry("c.fr"))
SHAPES = {
    "published": SMALL,
    "comment": SMALL.replace(b"<ListeDomaines>", b"<ListeDomaines><!-- c -->"),
    "cdata": SMALL.replace(b"<Description>CHU X", b"<Description><![CDATA[CHU <X>]]>"),
    "attribute": SMALL.replace(b"<Domaine>", b'<Domaine id="1">', 1),
    "prefix": SMALL.replace(b'xmlns="https://listeblanche.mssante.fr/schema"',
                            b'xmlns="https://listeblanche.mssante.fr/schema" xmlns:x="urn:x"'),
    "empty-element": SMALL.replace(b"<Description>CHU X</Description>", b"<Description/>", 1),
    "crlf": SMALL.replace(b"><", b">\r\n<"),
    "references": SMALL.replace(b"CHU X", b"CHU &#88; &lt;&gt; &quot;"),
    "c1-references": SMALL.replace(b"CHU X", b"CHU &#128; &#x85; &#x9F;&apos;"),
    "text-between-entries": SMALL.replace(b"</Domaine><Domaine>", b"</Domaine>junk<Domaine>", 1),
    "foreign-element": SMALL.replace(b"</Domaine><Domaine>", b"</Domaine><Autre/><Domaine>", 1),
    "nested-in-field": SMALL.replace(b"<Nom>c.fr</Nom>", b"<Nom>c<b>.</b>fr</Nom>"),
    "missing-field": document(entry(), entry(skip="DateMAJ")),
    "wrong-namespace": SMALL.replace(b"listeblanche.mssante.fr/schema", b"example.org/schema"),
    "undefined-entity": SMALL.replace(b"CHU X", b"CHU &eacute;"),
    "truncated": SMALL[:-30],
    "no-entries": document(),
    "bom": b"\xef\xbb\xbf" + SMALL,
    "trailing-text": SMALL + b"x",
}  # fmt: skip


@pytest.mark.parametrize("data", SHAPES.values(), ids=SHAPES.keys())
def test_every_shape_reads_the_same_both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both_ways(data, monkeypatch)
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL)), st.sampled_from(
    [b"<", b">", b"&", b"&amp;", b"</Domaine>", b"<Domaine>", b"<!-- -->", b"\r", b" ", b"x", b"\x00", b"/", b'"']
), st.integers(min_value=0, max_value=3))  # fmt: skip
def test_edited_lists_read_the_same_both_ways(position: int, insert: bytes, cut: int) -> None:
    data = SMALL[:position] + insert + SMALL[position + cut :]
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both_ways(data, monkeypatch)
    assert fast == slow


# Two checkers: lxml when it is installed (the fast extra), expat otherwise. A document lxml refuses is read again
# by expat, so both give the same list, or the same refusal in the same words.


def without_lxml(data: bytes) -> object:
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(_xml, "_etree", lambda: None)
        return outcome(data)


def messages(data: bytes) -> object:
    try:
        AllowList.parse(data)
    except InvalidInput as error:
        return [(finding.code, finding.message) for finding in error.report.findings]
    return None


@pytest.mark.parametrize("path", sorted(DATA.glob("listeblanchemssante-*.xml")), ids=lambda path: path.name)
def test_the_real_lists_read_the_same_with_and_without_lxml(path: Path) -> None:
    assert _xml.lxml_available()
    data = path.read_bytes()
    with_lxml = outcome(data)
    assert with_lxml == without_lxml(data)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(_xml, "_etree", lambda: None)
        pure_messages = messages(data)
    assert messages(data) == pure_messages


@pytest.mark.parametrize("data", [*SHAPES.values(), *NOT_UTF8.values(), *READABLE.values()])
def test_every_shape_reads_the_same_with_and_without_lxml(data: bytes) -> None:
    assert outcome(data) == without_lxml(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL)), st.sampled_from(
    [b"<", b">", b"&", b"&amp;", b"&#128;", b"&#x10FFFF;", b"&#1;", b"</Domaine>", b"<Domaine>", b"<!-- -->",
     b"<![CDATA[x]]>", b"\r", b" ", b"x", b"\x00", b"\x85", b"\xc2\x85", b"\xed\xa0\x80", b"\xef\xbf\xbe", b"/", b'"',
     b"<?pi?>", b"<!DOCTYPE x>", b"xmlns:p='urn:p'", b"<p:x/>", b"\xf4\x90\x80\x80"]
), st.integers(min_value=0, max_value=3))  # fmt: skip
def test_edited_lists_read_the_same_with_and_without_lxml(position: int, insert: bytes, cut: int) -> None:
    data = SMALL[:position] + insert + SMALL[position + cut :]
    assert outcome(data) == without_lxml(data)
