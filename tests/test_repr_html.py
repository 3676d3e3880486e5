"""The HTML shown in notebooks: real models render their key facts, well-formed, escaped and bounded."""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mssante import _html, identifiers, pki
from mssante.directory import DirectoryMailbox, read_extraction
from mssante.message import Message, compose, parse
from mssante.pki import TrustStore
from mssante.report import Finding, Report, Severity
from mssante.transport import Delivery, FetchedMessage, MemoryTransport, RecipientResult, SendResult
from mssante.trustspace import AllowList, Decision
from mssante.xdm import Package

DATA = Path(__file__).parent / "data"
CDA = (DATA / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' </td></table>"
TAGS = frozenset({"div", "span", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"})
_TAG_START = re.compile(r"<(/?)([a-z]+)[ >]")


class _Checker(HTMLParser):
    """Checks that tags are known and balanced; collects the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TAGS, tag
        assert all(name in {"style", "class", "colspan"} for name, _ in attrs), attrs
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"unexpected empty tag {tag}")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag, f"</{tag}> closes another element"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def checked(fragment: str) -> str:
    """The text of a well-formed fragment made of known tags only (and no script)."""
    assert "<script" not in fragment.lower()
    assert all(match[2] in TAGS for match in _TAG_START.finditer(fragment))
    assert fragment.count("<") == len(_TAG_START.findall(fragment)), "a < that starts no known tag"
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    assert not checker.stack, f"unclosed {checker.stack}"
    return "".join(checker.text)


def rendered(model: object) -> str:
    """The model's HTML, checked as HTML and as XML; returns its text."""
    fragment = model._repr_html_()  # type: ignore[attr-defined]
    assert isinstance(fragment, str)
    assert len(fragment) < 200_000
    etree.fromstring(f"<root>{fragment}</root>")
    return checked(fragment)


@pytest.fixture(scope="module")
def certificates() -> list[x509.Certificate]:
    return pki.load_certificates((DATA / "pki" / "Chaine_de_certification-IGC-Sante.p7b").read_bytes())


@pytest.fixture(scope="module")
def organisations_ca(certificates: list[x509.Certificate]) -> x509.Certificate:
    return next(c for c in certificates if "ELEMENTAIRE ORGANISATIONS" in c.subject.rfc4514_string())


@pytest.fixture(scope="module")
def package() -> Package:
    return Package.from_cda(CDA, at=AT)


@pytest.fixture(scope="module")
def allow_list() -> AllowList:
    return AllowList.load(DATA / "listeblanchemssante-2025-03-13-restored.xml")


# --- real models ---


def test_report_shows_verdict_and_findings() -> None:
    report = identifiers.check("10003461033").report
    text = rendered(report)
    assert "not ok" in text
    assert "MSS-ID-006" in text
    assert "error" in text
    assert "#fde2e1" in report._repr_html_()  # the error row is coloured
    assert "ok" in rendered(identifiers.check("10000001916").report)


def test_finding_is_one_row() -> None:
    finding = Finding(code="MSS-ID-006", severity=Severity.WARNING, message="a message", where="here")
    text = rendered(finding)
    assert all(part in text for part in ("MSS-ID-006", "warning", "a message", "here"))


def test_certificate_description(organisations_ca: x509.Certificate) -> None:
    text = rendered(pki.describe(organisations_ca))
    assert "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" in text
    assert "CN=AC RACINE IGC-SANTE ELEMENTAIRE" in text  # the issuer
    assert "2033-06-24" in text
    assert "http://igc-sante.esante.gouv.fr/CRL/ACR-EL.crl" in text
    assert pki.fingerprint(organisations_ca) in text


def test_certificate_report(organisations_ca: x509.Certificate) -> None:
    result = pki.verify(
        organisations_ca, purpose="server", store=TrustStore.bundled("prod"), at=AT, host="mss.example.org"
    )
    text = rendered(result)
    assert not result.ok
    assert "not ok" in text
    assert "server" in text
    assert "MSS-PKI-013" in text
    assert "not built" in text  # no chain for a refused leaf


def test_message(package: Package) -> None:
    mail = compose(
        sender=("Dr Pierre DIDOT", "pierre.didot@pharmacie-4-cantons.mssante.fr"),
        to=["279035121518989@patient.mssante.fr"],
        nil="DEV935997",
        at=AT,
        xdm=package,
        text="Bonjour <b>&</b>",
    )
    text = rendered(parse(mail.as_bytes()))
    assert "XDM/1.0/DDM+" in text
    assert "Dr Pierre DIDOT <pierre.didot@pharmacie-4-cantons.mssante.fr>" in text
    assert "279035121518989@patient.mssante.fr" in text
    assert "DEV935997" in text
    assert "IHE_XDM.zip" in text
    assert "Bonjour <b>&</b>" in text  # the body is shown as text, not as HTML
    assert "PAT-TROIS" in text


def test_package_built_and_read(package: Package) -> None:
    text = rendered(package)
    assert "1 document(s)" in text
    assert "text/xml" in text
    assert "DOC0001.XML" in text
    read = Package.read((DATA / "xdm" / "nist-mie-connectathon2011-XDM.zip").read_bytes())
    text = rendered(read)
    assert "document(s)" in text
    assert "__MACOSX" in text  # the junk skipped is listed


def test_directory_mailbox() -> None:
    mailboxes = list(read_extraction(DATA / "directory" / "extraction-SYNTHETIC.txt"))
    text = rendered(mailboxes[1])
    assert "marie.exemple@ch-exemple.mssante.fr" in text
    assert "10000000002" in text
    assert "Infirmier" in text
    assert "CENTRE HOSPITALIER EXEMPLE" in text
    assert "75002 PARIS" in text
    assert "Mailbox" in rendered(DirectoryMailbox(address="x@y.mssante.fr"))


def test_allow_list_decision(allow_list: AllowList) -> None:
    listed = allow_list.check_domain("medecin.mssante.fr")
    text = rendered(listed)
    assert listed.ok
    assert "medecin.mssante.fr" in text
    assert "yes" in text
    assert "MSS-WL-012" in text
    assert any(str(dn)[:20] in text for dn in listed.operators)
    refused = allow_list.check_domain("not-listed.example.org")
    assert "not ok" in rendered(refused)


def test_send_result(package: Package) -> None:
    mail = compose(sender="a@x.mssante.fr", to=["b@y.mssante.fr", "c@y.mssante.fr"], nil="DEV1", at=AT)
    result = MemoryTransport(reject={"c@y.mssante.fr": (550, "5.1.1 unknown")}).send(mail)
    text = rendered(result)
    assert "memory:" in text
    assert "not ok" in text
    assert "rejected" in text
    assert "5.1.1 unknown" in text


def test_fetched_message(package: Package) -> None:
    mail = compose(sender="a@x.mssante.fr", to=["b@y.mssante.fr"], nil="DEV1", at=AT, xdm=package, text="<i>x</i>")
    raw = mail.as_bytes()
    text = rendered(FetchedMessage(uid="42", raw=raw, message=parse(raw), flags=("\\Seen",)))
    assert "42" in text
    assert f"{len(raw):,} bytes" in text
    assert "\\Seen" in text
    assert "<i>x</i>" in text  # the message's own table follows, its body as text


def test_attrs_slotted_classes_keep_their_slots() -> None:
    classes = (Report, Finding, Package, DirectoryMailbox, SendResult, Decision, Message)
    for cls in (*classes, pki.CertificateReport, pki.CertificateDescription):
        assert "_repr_html_" in cls.__dict__, cls
        assert "__slots__" in cls.__dict__, cls
    assert not hasattr(Finding(code="MSS-ID-006", severity="info", message="m"), "__dict__")


# --- hostile text ---


def test_hostile_text_is_escaped_everywhere() -> None:
    findings = [Finding(code="MSS-ID-006", severity=Severity.ERROR, message=HOSTILE, where=HOSTILE)]
    report = Report(findings=findings, subject=HOSTILE)
    fragment = report._repr_html_()
    assert "<script" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;" in fragment
    assert HOSTILE in rendered(report)
    result = SendResult(
        message_id=HOSTILE,
        server=HOSTILE,
        recipients=[RecipientResult(recipient=HOSTILE, delivery=Delivery.DEFERRED, code=None, reply=HOSTILE)],
    )
    assert HOSTILE in rendered(result)
    assert HOSTILE in rendered(DirectoryMailbox(address=HOSTILE, description=HOSTILE))


def test_long_values_are_cut_with_a_note() -> None:
    long = "x" * 100_000
    text = rendered(Report(findings=[Finding(code="MSS-ID-006", severity="info", message=long)], subject=long))
    assert "100,000 characters, truncated" in text
    assert "x" * _html.MAX_TEXT + "…" in text
    assert len(text) < 5_000


def test_ten_thousand_findings_are_capped() -> None:
    findings = [Finding(code="MSS-ID-006", severity="error", message=f"finding {n}") for n in range(10_000)]
    fragment = Report(findings=findings)._repr_html_()
    text = rendered(Report(findings=findings))
    assert "finding 49" in text
    assert "finding 50" not in text
    assert f"… {10_000 - _html.MAX_ROWS:,} more" in text
    assert "10,000 errors" in text
    assert len(fragment) < 100_000


def test_long_lists_are_capped() -> None:
    text = checked(_html.items(range(1_000)))
    assert f"… {1_000 - _html.MAX_ROWS:,} more" in text
    text = checked(_html.table(["n"], [[n] for n in range(1_000)], limit=10))
    assert "… 990 more" in text


def test_control_characters_are_replaced() -> None:
    fragment = _html.text("a\x00b\x1bc\ud800d\te\nf")
    assert fragment == "a\ufffdb\ufffdc\ufffdd\te\nf"
    etree.fromstring(f"<root>{fragment}</root>")


def test_markup_is_not_escaped_again() -> None:
    inner = _html.items(["<a>"])
    assert _html.definitions([("list", inner)]).count("&lt;a&gt;") == 1
    assert _html.definitions([("empty", ""), ("none", None), ("nothing", ())]) == ""


@attrs.frozen
class _Hostile:
    code: str
    severity: str
    message: str
    where: str


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=40))
def test_any_text_yields_no_markup(value: str, label: str) -> None:
    fragments = [
        _html.text(value),
        _html.heading(value, ok=False),
        _html.verdict(ok=True, good=value),
        _html.items([value, label]),
        _html.definitions([(label, value)]),
        _html.table([label], [[value]]),
        _html.findings([_Hostile(code=label, severity=label, message=value, where=value)]),
        _html.section(_html.text(label), _html.text(value)),
    ]
    for fragment in fragments:
        text = checked(fragment)
        if value and len(value) <= _html.MAX_TEXT and value.isprintable():
            assert value in text
    expected = "".join(
        "\ufffd" if char not in "\t\n" and unicodedata.category(char) in {"Cc", "Cs"} else char for char in value
    )
    assert html.unescape(_html.text(value, limit=10_000)) == expected
