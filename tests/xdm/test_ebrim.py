"""METADATA.XML: real producers' files read, the writer's output valid against the ebRIM 3.0 schemas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mssante.errors import InvalidInput
from mssante.xdm._ebrim import MAX_METADATA_BYTES, SCHEMES, read_metadata, write_metadata
from mssante.xdm._model import (
    HAS_MEMBER,
    Author,
    Coding,
    DocumentEntry,
    Metadata,
    SubmissionSet,
    dtm,
    parse_dtm,
    symbolic_id,
)

DATA = Path(__file__).parent.parent / "data" / "xdm"
MIE = DATA / "nist-mie-connectathon2011-METADATA.XML"
NHIND = DATA / "nhind-samplexdm-METADATA.xml"
MINIMAL = DATA / "nist-xdm-minimal-METADATA.xml"


@pytest.fixture(scope="module")
def schema() -> Any:
    return etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))


def assert_valid(schema: Any, data: bytes) -> None:
    document = etree.fromstring(data)
    assert schema.validate(document), schema.error_log


def sample() -> Metadata:
    entry = DocumentEntry(
        entry_uuid=symbolic_id("1.2.3.4", "document"),
        unique_id="1.2.3.4",
        mime_type="text/xml",
        patient_id="279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH",
        title="Compte rendu d'examen de biologie médicale",
        comments="Résultat <TROD> & commentaire",
        uri="DOC0001.XML",
        hash="da39a3ee5e6b4b0d3255bfef95601890afd80709",
        size="0",
        creation_time="20240115093000",
        language_code="fr-FR",
        source_patient_info=("PID-5|NOM^Prénom^^^^^L", "PID-7|19790321", "PID-8|F"),
        authors=(
            Author(
                person="810000001916^DOC^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
                institutions=("Labo^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^3123456789",),
                specialties=("SM26^Qualifié en Médecine Générale^1.2.250.1.213.1.1.4.5",),
            ),
        ),
        type_code=Coding(code="96173-0", scheme="2.16.840.1.113883.6.1", display="CR de biologie"),
        confidentiality_codes=(Coding(code="N", scheme="2.16.840.1.113883.5.25", display="Normal"),),
        event_codes=(Coding(code="A", scheme="1.2.3"), Coding(code="B", scheme="1.2.3")),
        extra_slots=(("urn:example:slot", ("one", "two")),),
    )
    submission = SubmissionSet(
        entry_uuid=symbolic_id("2.25.1", "submission-set"),
        unique_id="2.25.1",
        source_id="1.2.250.1.999",
        submission_time="20240115100000",
        patient_id=entry.patient_id,
        intended_recipients=("||^^Internet^279035121518989@patient.mssante.fr",),
        content_type_code=Coding(code="04", scheme="1.2.250.1.213.2.2", display="Hospitalisation de jour"),
        authors=entry.authors,
    )
    return Metadata.of(submission, [entry])


@pytest.mark.parametrize("path", [MIE, NHIND, MINIMAL], ids=lambda path: path.name)
def test_real_metadata_reads_and_writes_back_valid(path: Path, schema: Any) -> None:
    metadata, _ = read_metadata(path.read_bytes())
    assert len(metadata.documents) == 1
    written = write_metadata(metadata)
    assert_valid(schema, written)
    again, findings = read_metadata(written)
    assert again == metadata
    assert findings == ()


def test_mie_values() -> None:
    metadata, findings = read_metadata(MIE.read_bytes())
    assert findings == ()
    entry = metadata.documents[0]
    assert entry.uri == "DOC00001.XML"
    assert entry.hash == "562238A00B39CC3D169D174021DB5EC54B53AFE6"
    assert entry.size == "4103"
    assert entry.mime_type == "text/x-cda-r2+xml"
    assert entry.patient_id == "1192011827^^^&1.3.6.1.4.1.21367.13.20.1000&ISO"
    assert entry.type_code == Coding(code="11488-4", scheme="LOINC", display="Consultation Note")
    assert entry.authors == (Author(person="Any^Physician", institutions=("MIE Office",)),)
    assert entry.source_patient_info == ("PID-3|1192011827^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",)
    assert metadata.submission_set.source_id == "1.3.6.1.4.1.21367.13.2235"
    assert metadata.submission_set.submission_time == "20110119134937"
    assert metadata.associations[0].status == "Original"
    assert metadata.associations[0].target == entry.entry_uuid


def test_short_association_type_is_read_as_the_urn_and_said() -> None:
    metadata, findings = read_metadata(NHIND.read_bytes())
    assert metadata.associations[0].type == HAS_MEMBER
    assert [finding.code for finding in findings] == ["MSS-XDM-023"]
    assert metadata.submission_set.intended_recipients == (
        "|beau@nologs.org^Smith^John^^^Dr^^^&1.3.6.1.4.1.21367.3100.1&ISO",
    )


def test_the_writer_output_is_schema_valid_and_round_trips(schema: Any) -> None:
    metadata = sample()
    written = write_metadata(metadata)
    assert_valid(schema, written)
    assert read_metadata(written) == (metadata, ())
    assert written.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    for scheme in (SCHEMES["typeCode"], SCHEMES["submissionSet.contentTypeCode"], SCHEMES["author"]):
        assert scheme.encode() in written
    assert write_metadata(metadata) == written  # reproducible: ids derived, not random


def test_a_schema_violation_is_caught_by_the_schema(schema: Any) -> None:
    written = write_metadata(sample()).replace(b"rim:ExtrinsicObject ", b"rim:ExtrinsicObjectX ", 1)
    written = written.replace(b"</rim:ExtrinsicObject>", b"</rim:ExtrinsicObjectX>", 1)
    assert not schema.validate(etree.fromstring(written))


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def _extra(values: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    kept = tuple(value.strip() for value in values if value.strip())
    return (("extra", kept),) if kept else ()


@settings(max_examples=60, deadline=None)
@given(title=_TEXT, comments=_TEXT, code=_TEXT.filter(bool), display=_TEXT, slot=st.lists(_TEXT, max_size=3))
def test_any_text_round_trips_and_stays_schema_valid(
    schema: Any, title: str, comments: str, code: str, display: str, slot: list[str]
) -> None:
    metadata = sample()
    entry = attrs.evolve(
        metadata.documents[0],
        title=title.strip(),
        comments=comments.strip(),
        type_code=Coding(code=code.strip() or "x", scheme="1.2", display=display.strip()),
        extra_slots=_extra(slot),
    )
    metadata = Metadata.of(metadata.submission_set, [entry])
    written = write_metadata(metadata)
    assert_valid(schema, written)
    assert read_metadata(written)[0] == metadata


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&lol3;</lcm:SubmitObjectsRequest>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&e;</lcm:SubmitObjectsRequest>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (BILLION_LAUGHS, "MSS-XDM-005"),
        (EXTERNAL, "MSS-XDM-005"),
        (b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>', "MSS-XDM-005"),
        (b"", "MSS-XDM-005"),
        (b"not xml", "MSS-XDM-005"),
        (b"<a><b></a>", "MSS-XDM-005"),
        (b"<rim:RegistryObjectList xmlns:rim='urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0'/>", "MSS-XDM-006"),
        (b"<SubmitObjectsRequest/>", "MSS-XDM-006"),
        (b"<SubmitObjectsRequest><RegistryObjectList/></SubmitObjectsRequest>", "MSS-XDM-007"),
        (b" " * (MAX_METADATA_BYTES + 1), "MSS-XDM-005"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "external-dtd",
        "empty",
        "text",
        "mismatched",
        "other-root",
        "no-list",
        "no-submission-set",
        "too-large",
    ],
)
def test_hostile_or_wrong_metadata_is_refused_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_metadata(data)
    assert caught.value.report.codes == (code,)


def test_two_submission_sets_are_refused() -> None:
    data = MIE.read_bytes().replace(
        b'classifiedObject="SubmissionSet01"></rim:Classification>',
        (
            b'classifiedObject="SubmissionSet01"></rim:Classification><rim:RegistryPackage id="Other"/>'
            b'<rim:Classification id="c" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" '
            b'classifiedObject="Other"/>'
        ),
    )
    with pytest.raises(InvalidInput) as caught:
        read_metadata(data)
    assert caught.value.report.codes == ("MSS-XDM-007",)


def test_truncated_metadata_is_refused_at_every_cut() -> None:
    data = MIE.read_bytes()
    for cut in range(0, len(data) - 30, 97):
        with pytest.raises(InvalidInput):
            read_metadata(data[:cut])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_metadata_or_a_clear_refusal(data: bytes) -> None:
    assert_read_or_refused(data)


def assert_read_or_refused(data: bytes) -> None:
    try:
        read_metadata(data)
    except InvalidInput as error:
        errors = error.report.errors
    else:
        errors = ("read",)  # type: ignore[assignment]
    assert errors


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=7083), st.binary(min_size=1, max_size=8))
def test_mutated_real_metadata_gives_metadata_or_a_clear_refusal(position: int, junk: bytes) -> None:
    data = MIE.read_bytes()
    assert_read_or_refused(data[:position] + junk + data[position + len(junk) :])


def test_control_characters_cannot_enter_the_model() -> None:
    with pytest.raises(InvalidInput):
        Coding(code="a\x00b")
    with pytest.raises(TypeError):
        Coding(code=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024", "2024-01-01T00:00:00+00:00"),
        ("20240115", "2024-01-15T00:00:00+00:00"),
        ("20240115093000", "2024-01-15T09:30:00+00:00"),
        ("20240115103000+0100", "2024-01-15T09:30:00+00:00"),
        ("20240115083000-0100", "2024-01-15T09:30:00+00:00"),
    ],
)
def test_xds_times(text: str, iso: str) -> None:
    moment = parse_dtm(text)
    assert moment is not None
    assert moment.isoformat() == iso


@pytest.mark.parametrize("text", ["", "24", "202401150", "20241315", "2024-01-15", "20240115+01", "x" * 20])
def test_not_xds_times(text: str) -> None:
    assert parse_dtm(text) is None


def test_dtm_writes_utc() -> None:
    moment = dt.datetime(2024, 1, 15, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert dtm(moment) == "20240115093000"
    assert dtm(dt.date(2024, 1, 15)) == "20240115"
    with pytest.raises(ValueError, match="aware"):
        dtm(dt.datetime(2024, 1, 15))


_AWKWARD = ["a & b", "<tag>", 'say "hi"', "it's", "tab\there", "line\nbreak", "é ü ß", "]]>", "&amp;", "x" * 300]


@pytest.mark.parametrize("text", _AWKWARD)
def test_the_writer_writes_the_bytes_elementtree_would(text: str) -> None:
    """Parsed and written again by ElementTree (indented, UTF-8, its escapes), the output is unchanged."""
    metadata = sample()
    entry = attrs.evolve(
        metadata.documents[0],
        title=text,
        comments=text,
        type_code=Coding(code=text.strip() or "x", scheme="1.2", display=text),
        extra_slots=(("x" + text.strip(), (text,)),),
    )
    metadata = Metadata.of(attrs.evolve(metadata.submission_set, title=text), [entry])
    written = write_metadata(metadata)
    ElementTree.register_namespace("lcm", "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0")
    ElementTree.register_namespace("rim", "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0")
    root = ElementTree.fromstring(written)
    for element in root.iter():
        if len(element):
            element.text = None
        element.tail = None
    ElementTree.indent(root)
    assert ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n" == written
    assert read_metadata(written)[0] == metadata
