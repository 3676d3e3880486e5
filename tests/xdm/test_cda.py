"""Reading the header of a CDA R2 document: the real CI-SIS example, its variants, and hostile input.

``tests/data/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml`` is a byte-for-byte copy of
``ansforge/TestContenuCDA-3-0`` @ 7cd489b : ``ExemplesCDA/BIO-TROD_2024.01_COVID-19.xml`` (the ANS
example of the BIO-TROD 2024.01 volet). Every expected value below was read in that file.
Variants are made by editing its text, so that each test changes one thing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.identifiers import InsAuthority
from mssante.report import Severity, finding_codes
from mssante.xdm import _cda_formats, _cda_scan
from mssante.xdm._cda import (
    MAX_CDA_BYTES,
    MAX_REPEATS,
    CdaAuthor,
    CdaHeader,
    read_cda_header,
    ts_to_utc,
)
from mssante.xdm._cda_formats import FORMAT_CODES, NON_STRUCTURED_FORMAT_CODES, NON_STRUCTURED_TEMPLATE, format_code_of
from mssante.xdm._model import Coding
from mssante.xdm._valuesets import correspondence

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
TEXT = CDA.decode("utf-8")

NOT_WELL_FORMED, FORBIDDEN_XML, TOO_LARGE, NOT_CDA = "MSS-CDA-001", "MSS-CDA-002", "MSS-CDA-003", "MSS-CDA-004"
NO_ID, NO_CODE, NO_RECORD_TARGET, BAD_VALUE = "MSS-CDA-005", "MSS-CDA-006", "MSS-CDA-007", "MSS-CDA-008"
BAD_TIME, BAD_INS, SEVERAL_INS, INS_C = "MSS-CDA-009", "MSS-CDA-010", "MSS-CDA-011", "MSS-CDA-012"
TOO_MANY, SEVERAL_RECORD_TARGETS = "MSS-CDA-013", "MSS-CDA-014"

TEST_INS_ID = '<id extension="279035121518989" root="1.2.250.1.213.1.4.10"/>'
VALID_NIR = "255081416802538"  # key 38 = 97 - (2550814168025 mod 97)
VALID_NIA = "146026322000196"  # key 96


def edited(old: str, new: str, text: str = TEXT) -> bytes:
    """The example with the first ``old`` replaced by ``new`` (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1).encode("utf-8")


def without(tag: str, text: str = TEXT) -> bytes:
    """The example without its first ``<tag ...>...</tag>`` element (one that holds no element of the same name)."""
    match = re.search(rf"<{tag}[ >](?:(?!<{tag}[ >]).)*?</{tag}>", text, re.DOTALL)
    assert match is not None, tag
    return (text[: match.start()] + text[match.end() :]).encode("utf-8")


def refused(data: bytes) -> tuple[str, ...]:
    """The codes of the errors in the report of the InvalidInput that reading ``data`` raises."""
    with pytest.raises(InvalidInput) as caught:
        read_cda_header(data)
    assert not caught.value.report.ok
    return tuple(finding.code for finding in caught.value.report.errors)


def outcome(data: bytes) -> CdaHeader | InvalidInput:
    """The header read from ``data``, or the InvalidInput that reading it raised."""
    try:
        return read_cda_header(data)
    except InvalidInput as error:
        return error


def assert_header_or_refusal(data: bytes) -> None:
    """Reading ``data`` gives a header with its required values, or an InvalidInput with an error of the reader."""
    result = outcome(data)
    if isinstance(result, InvalidInput):
        assert not result.report.ok
        assert all(code.startswith("MSS-CDA-") for code in result.report.codes)
    else:
        assert result.document_id
        assert result.type_code.code


@pytest.fixture(scope="module")
def header() -> CdaHeader:
    return read_cda_header(CDA)


# The real CI-SIS example


def test_document_values(header: CdaHeader) -> None:
    assert header.document_id == "1.2.250.1.213.1.1.1.59.2024.2.1"
    assert header.set_id == "1.2.250.1.213.1.1.1.59.2024.2"
    assert header.version == "1"
    assert header.title == "Test rapide d'orientation diagnostique : TROD Covid-19"
    assert header.type_code == Coding(
        code="96173-0", scheme="2.16.840.1.113883.6.1", display="Test rapide d'orientation diagnostique"
    )
    assert header.confidentiality == Coding(code="N", scheme="2.16.840.1.113883.5.25", display="Normal")
    assert header.language_code == "fr-FR"
    assert header.effective_time == "20240106113623+0100"
    assert ts_to_utc(header.effective_time) == "20240106103623"


def test_template_ids_and_format_code(header: CdaHeader) -> None:
    assert header.template_ids == (
        ("2.16.840.1.113883.2.8.2.1", ""),
        ("1.3.6.1.4.1.19376.1.5.3.1.1.1", ""),
        ("1.2.250.1.213.1.1.1.1", ""),
        ("1.2.250.1.213.1.1.1.59", "2024.01"),
    )
    # NOS ASS_A11: the BIO-TROD model 1.2.250.1.213.1.1.1.59 is urn:ans:ci-sis:trod:2024 in TRE_A06.
    assert header.format_code == Coding(
        code="urn:ans:ci-sis:trod:2024",
        scheme="1.2.250.1.213.1.1.4.2.282",
        display="Test rapide d'orientation diagnostique",
    )
    assert header.body_media_type is None


def test_patient(header: CdaHeader) -> None:
    patient = header.patient
    assert patient.ins is not None
    assert str(patient.ins) == "279035121518989"
    assert patient.ins.authority is InsAuthority.TEST
    assert patient.ins.authority.value == "1.2.250.1.213.1.4.10"
    assert not patient.ins.is_production
    assert patient.other_ids == ()
    assert patient.birth_family == "PAT-TROIS"
    assert patient.used_family == "PAT-TROIS"
    assert patient.given_names == "DOMINIQUE MARIE-LOUISE"
    assert patient.first_given == "DOMINIQUE"
    assert patient.used_given == "DOMINIQUE"
    assert patient.gender == "F"
    assert patient.birth_date == "19790328"
    assert patient.birthplace_code == "51215"
    assert patient.birthplace_city == "DOMPREMY"
    assert patient.telecoms == ("tel:0144534551", "tel:0647151010", "mailto:279035121518989@patient.mssante.fr")
    assert patient.mailboxes == ("279035121518989@patient.mssante.fr",)


PHARMACIST = Coding(code="G15_21/A", scheme="1.2.250.1.213.1.1.4.5", display="Pharmacien titulaire d'officine")


def test_author(header: CdaHeader) -> None:
    assert header.authors == (header.author,)
    assert header.author == CdaAuthor(
        idnps_root="1.2.250.1.71.4.2.1",
        idnps="807655473259",
        family="DIDOT",
        given="Pierre",
        specialty=PHARMACIST,
        organisation_name="Pharmacie des 4 cantons",
        organisation_id_root="1.2.250.1.71.4.2.2",
        organisation_id="2801234567",
        time="20240106113623+0100",
        telecoms=("tel:0140404022",),
    )


def test_custodian_and_legal_authenticator(header: CdaHeader) -> None:
    assert header.custodian_name == "Pharmacie des 4 cantons"
    assert header.custodian_id_root == "1.2.250.1.71.4.2.2"
    assert header.custodian_id == "2801234567"
    legal = header.legal_authenticator
    assert legal is not None
    assert (legal.idnps_root, legal.idnps, legal.family, legal.given) == (
        "1.2.250.1.71.4.2.1",
        "807655473259",
        "DIDOT",
        "Pierre",
    )
    assert legal.specialty == PHARMACIST
    assert (legal.organisation_name, legal.organisation_id) == ("Pharmacie des 4 cantons", "2801234567")
    assert legal.telecoms == ("tel:0105584396",)
    # The example really writes a three-digit offset here: kept as written, and reported.
    assert legal.time == "20240106113623+100"


def test_the_example_malformed_time_is_its_only_finding(header: CdaHeader) -> None:
    assert [(f.code, f.severity, f.where) for f in header.findings] == [
        (BAD_TIME, Severity.WARNING, "legalAuthenticator/time/@value")
    ]
    assert header.report.ok
    assert header.report.subject == header.document_id


def test_encounter_and_service_event(header: CdaHeader) -> None:
    assert header.healthcare_facility_type == Coding(
        code="SA33", scheme="1.2.250.1.71.4.2.4", display="Pharmacie d'officine"
    )
    assert header.practice_setting == Coding(code="DEPISTAGE", scheme="1.2.250.1.213.1.1.4.9", display="Dépistage")
    assert header.event_codes == (Coding(code="U07.1", scheme="2.16.840.1.113883.6.3", display="COVID-19"),)
    assert header.service_start == "20240106113623+0100"
    assert header.service_stop is None


def test_information_recipients(header: CdaHeader) -> None:
    (recipient,) = header.information_recipients
    assert (recipient.id_root, recipient.id) == ("1.2.250.1.71.4.2.1", "801234567897")
    assert (recipient.family, recipient.given) == ("MEDIONI", "Stéphane")
    assert recipient.organisation_name == "Centre de soins le Belvédère"
    assert recipient.telecoms == ("tel:0147150000", "mailto:stephane.medioni@mssante.fr")
    assert header.recipient_mailboxes == ("stephane.medioni@mssante.fr",)


def test_copies_of_the_input_read_the_same(header: CdaHeader) -> None:
    assert read_cda_header(bytes(bytearray(CDA))) == header


# Variants of the example


def test_without_record_target_cannot_be_packed() -> None:
    assert refused(without("recordTarget")) == (NO_RECORD_TARGET,)


def test_without_id_cannot_be_packed() -> None:
    assert refused(edited('<id root="1.2.250.1.213.1.1.1.59.2024.2.1"/>', "")) == (NO_ID,)


def test_without_code_cannot_be_packed() -> None:
    data = edited('<code code="96173-0"', '<code nullFlavor="UNK" foo="96173-0"')
    assert refused(data) == (NO_CODE,)


def test_every_missing_required_element_is_reported_at_once() -> None:
    text = without("recordTarget").decode()
    text = edited('<id root="1.2.250.1.213.1.1.1.59.2024.2.1"/>', "", text).decode()
    data = edited('<code code="96173-0" displayName="Test rapide d\'orientation diagnostique"', "<other", text)
    assert set(refused(data)) == {NO_ID, NO_CODE, NO_RECORD_TARGET}


def test_document_id_with_extension() -> None:
    data = edited('<id root="1.2.250.1.213.1.1.1.59.2024.2.1"/>', '<id root="1.2.250.1.999" extension="DOC-42"/>')
    assert read_cda_header(data).document_id == "1.2.250.1.999^DOC-42"


def test_a_production_nir_is_preferred_to_the_test_ins_wherever_it_is() -> None:
    data = edited(TEST_INS_ID, f'{TEST_INS_ID}<id extension="{VALID_NIR}" root="1.2.250.1.213.1.4.8"/>')
    header = read_cda_header(data)
    assert header.patient.ins is not None
    assert (str(header.patient.ins), header.patient.ins.authority) == (VALID_NIR, InsAuthority.NIR)
    assert header.patient.ins.is_production
    assert SEVERAL_INS in header.report.codes
    assert header.report.ok


def test_production_ins_keep_their_order() -> None:
    ids = (
        f'<id extension="{VALID_NIA}" root="1.2.250.1.213.1.4.9"/>'
        f'<id extension="{VALID_NIR}" root="1.2.250.1.213.1.4.8"/>'
    )
    header = read_cda_header(edited(TEST_INS_ID, TEST_INS_ID + ids))
    assert header.patient.ins is not None
    assert (str(header.patient.ins), header.patient.ins.authority) == (VALID_NIA, InsAuthority.NIA)


def test_an_invalid_production_ins_is_reported_and_not_used() -> None:
    bad = VALID_NIR[:-2] + "39"
    header = read_cda_header(edited(TEST_INS_ID, f'<id extension="{bad}" root="1.2.250.1.213.1.4.8"/>{TEST_INS_ID}'))
    assert header.patient.ins is not None
    assert header.patient.ins.authority is InsAuthority.TEST
    (finding,) = [f for f in header.findings if f.code == BAD_INS]
    assert finding.severity is Severity.WARNING
    assert finding.where == "recordTarget/patientRole/id[0]"


def test_ipp_and_legacy_ins_c() -> None:
    ids = '<id extension="0456789999" root="1.2.250.1.999.1.1.7898.2"/><id extension="123" root="1.2.250.1.213.1.4.2"/>'
    header = read_cda_header(edited(TEST_INS_ID, TEST_INS_ID + ids))
    assert header.patient.other_ids == (("1.2.250.1.999.1.1.7898.2", "0456789999"),)
    assert INS_C in header.report.codes


def test_no_ins_at_all() -> None:
    header = read_cda_header(edited(TEST_INS_ID, '<id extension="0456789999" root="1.2.250.1.999.1.1.7898.2"/>'))
    assert header.patient.ins is None
    assert header.patient.other_ids == (("1.2.250.1.999.1.1.7898.2", "0456789999"),)


def test_without_service_event() -> None:
    header = read_cda_header(without("documentationOf"))
    assert header.service_start is None
    assert header.service_stop is None
    assert header.practice_setting is None
    assert header.event_codes == ()


def test_service_event_interval() -> None:
    data = edited(
        '<low value="20240106113623+0100"/>\n         </effectiveTime>\n         <!-- Professionnel',
        '<low value="20240106113623+0100"/><high value="20240107"/></effectiveTime><!-- Professionnel',
    )
    header = read_cda_header(data)
    assert (header.service_start, header.service_stop) == ("20240106113623+0100", "20240107")


def test_several_service_events() -> None:
    match = re.search(r"<documentationOf>.*?</documentationOf>", TEXT, re.DOTALL)
    assert match is not None
    first = re.sub(r"<performer .*?</performer>", "", match.group(), flags=re.DOTALL)
    first = first.replace('code="U07.1" displayName="COVID-19"', 'code="B34.2" displayName="Coronavirus"')
    first = first.replace("20240106113623+0100", "20240105")
    header = read_cda_header(edited(match.group(), first + match.group()))
    assert [code.code for code in header.event_codes] == ["B34.2", "U07.1"]
    assert header.service_start == "20240105"
    assert header.practice_setting is not None
    assert header.practice_setting.code == "DEPISTAGE"


def test_without_optional_parts() -> None:
    text = TEXT
    for tag in ("componentOf", "legalAuthenticator", "custodian", "title"):
        text = without(tag, text).decode()
    text = re.sub(
        r"<informationRecipient>\s*<intendedRecipient>.*?</intendedRecipient>\s*</informationRecipient>",
        "",
        text,
        flags=re.DOTALL,
    )
    header = read_cda_header(text.encode())
    assert header.healthcare_facility_type is None
    assert header.legal_authenticator is None
    assert header.information_recipients == ()
    assert header.recipient_mailboxes == ()
    assert (header.custodian_name, header.custodian_id) == (None, None)
    assert header.title is None
    assert header.report.ok


def test_without_author() -> None:
    header = read_cda_header(without("author"))
    assert (header.author, header.authors) == (None, ())


def test_names_one_given_per_element() -> None:
    data = edited(
        "<given>DOMINIQUE MARIE-LOUISE</given>\n               <!-- Premier prénom de l’acte de naissance -->\n"
        '               <given qualifier="BR">DOMINIQUE</given>',
        "<given>DOMINIQUE</given><given>MARIE-LOUISE</given>",
    )
    patient = read_cda_header(data).patient
    assert patient.given_names == "DOMINIQUE MARIE-LOUISE"
    assert patient.first_given == "DOMINIQUE"


def test_name_without_qualifiers() -> None:
    data = edited('<family qualifier="BR">PAT-TROIS</family>', "<family>NOM</family>")
    data = edited('<family qualifier="CL">PAT-TROIS</family>', "", data.decode())
    patient = read_cda_header(data).patient
    assert (patient.birth_family, patient.used_family) == ("NOM", None)


def test_too_many_authors_are_capped() -> None:
    match = re.search(r"<author>.*?</author>", TEXT, re.DOTALL)
    assert match is not None
    data = edited(match.group(), match.group() * (MAX_REPEATS + 5))
    header = read_cda_header(data)
    assert len(header.authors) == MAX_REPEATS
    assert TOO_MANY in header.report.codes


def test_two_record_targets() -> None:
    match = re.search(r"<recordTarget>.*?</recordTarget>", TEXT, re.DOTALL)
    assert match is not None
    header = read_cda_header(edited(match.group(), match.group() * 2))
    assert SEVERAL_RECORD_TARGETS in header.report.codes
    assert header.patient.ins is not None


@pytest.mark.parametrize("value", ["&#x7f;", "&#x85;", "&#x9f;"])
def test_control_characters_are_refused(value: str) -> None:
    assert refused(edited("TROD Covid-19</title>", f"TROD{value}Covid-19</title>")) == (BAD_VALUE,)


def test_a_value_longer_than_metadata_can_hold_is_refused() -> None:
    assert refused(edited("TROD Covid-19</title>", "x" * (64 * 1024 + 1) + "</title>")) == (BAD_VALUE,)


def test_whitespace_in_text_is_collapsed() -> None:
    header = read_cda_header(edited("<title>Test rapide", "<title>\n\t  Test \n rapide"))
    assert header.title == "Test rapide d'orientation diagnostique : TROD Covid-19"


def test_unstructured_cda_takes_its_format_from_the_media_type() -> None:
    text = without("structuredBody").decode()
    text = edited("<component>", '<component><nonXMLBody><text mediaType="application/pdf"', text).decode()
    text = edited("</component>", 'representation="B64">JVBERi0=</text></nonXMLBody></component>', text).decode()
    data = edited('<templateId root="1.2.250.1.213.1.1.1.59" extension="2024.01"/>', "", text)
    data = edited("<templateId ", f'<templateId root="{NON_STRUCTURED_TEMPLATE}"/><templateId ', data.decode())
    header = read_cda_header(data)
    assert header.body_media_type == "application/pdf"
    assert header.format_code == NON_STRUCTURED_FORMAT_CODES["application/pdf"]
    assert header.format_code is not None
    assert header.format_code.code == "urn:ihe:iti:xds-sd:pdf:2008"


def test_unknown_templates_give_no_format_code() -> None:
    data = edited('<templateId root="1.2.250.1.213.1.1.1.59" extension="2024.01"/>', "")
    assert read_cda_header(data).format_code is None


# Format codes


def test_format_table() -> None:
    assert {code.scheme for code in FORMAT_CODES.values()} == {"1.2.250.1.213.1.1.4.2.282", "1.3.6.1.4.1.19376.1.2.3"}
    assert FORMAT_CODES["1.2.250.1.213.1.1.1.13"].code == "urn:asip:ci-sis:vsm:2012"
    assert FORMAT_CODES["1.3.6.1.4.1.19376.1.3.3"].code == "urn:ihe:lab:xd-lab:2008"
    assert FORMAT_CODES["1.3.6.1.4.1.19376.1.8.1.1.2.20"].code == "urn:ihe:pat:apsr:larynx:2010"
    assert all(code.code.startswith("urn:") for code in FORMAT_CODES.values())


def test_format_table_is_the_bundled_ass_a11() -> None:
    a11 = correspondence("A11")
    for source, target in a11.rows:
        if len(a11.targets(source.code)) == 1:
            assert (FORMAT_CODES[source.code].code, FORMAT_CODES[source.code].scheme) == (
                target.code,
                target.code_system,
            )
    # rows the older hand-written table had left out, which ASS_A11 (2024-07-26) has
    assert FORMAT_CODES["1.2.250.1.213.1.1.1.10"].code == "urn:asip:ci-sis:cva:2017"
    assert FORMAT_CODES["1.2.250.1.213.1.1.1.60"].code == "urn:asip:ci-sis:dlu:2024"
    assert FORMAT_CODES["1.2.250.1.213.1.1.1.48"].display == "Document de liaison d'urgence DOM"
    # the XDS-SD template has a format per media type: ASS_A12 decides, among A11's targets
    assert NON_STRUCTURED_TEMPLATE not in FORMAT_CODES
    targets = {(target.code, target.code_system) for target in a11.targets(NON_STRUCTURED_TEMPLATE)}
    assert {(code.code, code.scheme) for code in NON_STRUCTURED_FORMAT_CODES.values()} == targets
    assert len(FORMAT_CODES) == len(list(FORMAT_CODES)) == 61 + 21  # A11's one-format templates, then APSR
    assert "ASS_A11" in repr(FORMAT_CODES)


def test_format_french_templates_first() -> None:
    ihe_first = (("1.3.6.1.4.1.19376.1.8.1.1.1", ""), ("1.2.250.1.213.1.1.1.57", ""))
    assert format_code_of(ihe_first) == FORMAT_CODES["1.2.250.1.213.1.1.1.57"]
    assert format_code_of((("1.3.6.1.4.1.19376.1.8.1.1.1", ""),)) == FORMAT_CODES["1.3.6.1.4.1.19376.1.8.1.1.1"]
    assert format_code_of(()) is None
    assert format_code_of(((NON_STRUCTURED_TEMPLATE, ""),), " TEXT/Plain ") == NON_STRUCTURED_FORMAT_CODES["text/plain"]
    assert format_code_of(((NON_STRUCTURED_TEMPLATE, ""),), "application/zip") is None
    assert format_code_of(((NON_STRUCTURED_TEMPLATE, ""),)) is None


# HL7 TS to XDS UTC


@pytest.mark.parametrize(
    ("ts", "utc"),
    [
        ("20240106113623+0100", "20240106103623"),
        ("20240106003623+0100", "20240105233623"),
        ("20240106113623-0230", "20240106140623"),
        ("20241231233000-0100", "20250101003000"),
        ("20240106113623", "20240106113623"),
        ("20240106113623.1234+0000", "20240106113623"),
        ("202401061136+0100", "202401061036"),
        ("2024010611+0100", "2024010610"),
        ("20240106+0100", "20240106"),
        ("20240106", "20240106"),
        ("2024", "2024"),
        (" 20240106113623+0100 ", "20240106103623"),
    ],
)
def test_ts_to_utc(ts: str, utc: str) -> None:
    assert ts_to_utc(ts) == utc


@pytest.mark.parametrize(
    "ts",
    [
        "",
        "abc",
        "20240106113623+100",
        "2024010611362",
        "20241306",
        "20240230",
        "20240106250000",
        "20240106113623+1500",
        "20240106113623+0160",
        "00010101000000+0100",
        "99991231230000-0100",
        "20240106113623Z",
        "２０２４",
    ],
)
def test_ts_to_utc_refuses(ts: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ts_to_utc(ts)
    assert caught.value.report.codes == (BAD_TIME,)
    assert not caught.value.report.ok
    assert str(caught.value).startswith("not an HL7 TS: ")


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_ts_to_utc_is_the_utc_moment(moment: dt.datetime, minutes: int) -> None:
    offset = dt.timezone(dt.timedelta(minutes=minutes))
    local = moment.replace(microsecond=0, tzinfo=offset)
    ts = (
        local.strftime("%Y%m%d%H%M%S")
        + f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    )
    assert ts_to_utc(ts) == local.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_ts_to_utc_on_any_text(text: str) -> None:
    try:
        result = ts_to_utc(text)
    except InvalidInput as error:
        codes = error.report.codes
        result = ""
    else:
        codes = ()
    assert codes == (BAD_TIME,) or re.fullmatch(r"[0-9]{4,14}", result)


# Hostile input


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol3;</title></ClinicalDocument>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"""
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "http://127.0.0.1:1/cda.dtd"><ClinicalDocument/>'
)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(BILLION_LAUGHS, FORBIDDEN_XML, id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, FORBIDDEN_XML, id="external-entity"),
        pytest.param(EXTERNAL_DTD, FORBIDDEN_XML, id="external-dtd"),
        pytest.param(
            edited("<ClinicalDocument ", "<!DOCTYPE ClinicalDocument><ClinicalDocument "), FORBIDDEN_XML, id="dtd"
        ),
        pytest.param(b"", NOT_WELL_FORMED, id="empty"),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", NOT_WELL_FORMED, id="pdf"),
        pytest.param(b"PK\x03\x04" + bytes(range(256)), NOT_WELL_FORMED, id="zip"),
        pytest.param(b"not xml at all", NOT_WELL_FORMED, id="text"),
        pytest.param(CDA + b"<ClinicalDocument/>", NOT_WELL_FORMED, id="two-roots"),
        pytest.param(b'<?xml version="1.0" encoding="bogus"?><a/>', NOT_WELL_FORMED, id="unknown-encoding"),
        pytest.param(b'<?xml version="1.0" encoding="cp932"?><a/>', NOT_WELL_FORMED, id="multibyte-encoding"),
        pytest.param(b'<?xml version="1.0" encoding="rot13"?><a/>', NOT_WELL_FORMED, id="not-a-text-encoding"),
        pytest.param(b'<?xml version="1.0" encoding="idna"?><a/>', NOT_WELL_FORMED, id="idna-encoding"),
        pytest.param(b'<html xmlns="urn:hl7-org:v3"/>', NOT_CDA, id="other-root"),
        pytest.param(edited('xmlns="urn:hl7-org:v3"', 'xmlns="urn:example:v3"'), NOT_CDA, id="wrong-namespace"),
        pytest.param(edited(' xmlns="urn:hl7-org:v3"', ""), NOT_CDA, id="no-namespace"),
        pytest.param(b"<ClinicalDocument/>", NOT_CDA, id="bare-root"),
    ],
)
def test_hostile_input_is_refused(data: bytes, code: str) -> None:
    assert refused(data) == (code,)


def test_input_over_the_bound_is_refused_before_parsing() -> None:
    assert refused(CDA + b" " * (MAX_CDA_BYTES - len(CDA) + 1)) == (TOO_LARGE,)


def test_truncated_anywhere_is_refused() -> None:
    end = CDA.rindex(b"</ClinicalDocument>") + len("</ClinicalDocument>") - 1
    offsets = {*range(0, end, 37), *(m.start() for m in re.finditer(rb"<", CDA[:end])), end}
    for offset in sorted(offsets):
        with pytest.raises(InvalidInput):
            read_cda_header(CDA[:offset])


def test_deep_nesting_in_the_body_is_read_without_recursion() -> None:
    depth = 100_000
    data = edited("<structuredBody>", "<structuredBody>" + "<x>" * depth + "</x>" * depth)
    assert read_cda_header(data).document_id == "1.2.250.1.213.1.1.1.59.2024.2.1"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_header_or_invalid_input(data: bytes) -> None:
    assert_header_or_refusal(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(CDA)), st.integers(min_value=0, max_value=64), st.binary(max_size=64))
def test_the_example_spliced_with_any_bytes(at: int, cut: int, junk: bytes) -> None:
    assert_header_or_refusal(CDA[:at] + junk + CDA[at + cut :])


TAGS = (  # the header elements the reader looks at
    *("id", "code", "title", "effectiveTime", "confidentialityCode", "languageCode", "setId", "versionNumber"),
    *("templateId", "recordTarget", "patientRole", "patient", "name", "family", "given", "birthTime", "birthplace"),
    *("administrativeGenderCode", "place", "addr", "county", "city", "telecom", "author", "time", "assignedAuthor"),
    *("assignedPerson", "representedOrganization", "custodian", "assignedCustodian", "legalAuthenticator"),
    *("representedCustodianOrganization", "assignedEntity", "informationRecipient", "intendedRecipient"),
    *("receivedOrganization", "documentationOf", "serviceEvent", "low", "high", "performer", "componentOf"),
    *("standardIndustryClassCode", "encompassingEncounter", "location", "healthCareFacility", "component"),
    *("nonXMLBody", "text"),
)
ATTRIBUTES = ("root", "extension", "code", "codeSystem", "displayName", "value", "qualifier", "mediaType")
VALUES = st.one_of(
    st.sampled_from([a.value for a in InsAuthority] + ["1.2.250.1.213.1.4.2", "1.2.250.1.71.4.2.1", "BR", "CL"]),
    st.sampled_from(["279035121518989", VALID_NIR, "20240106113623+0100", "mailto:a@b.fr", "application/pdf"]),
    st.text(max_size=20),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attributes = st.dictionaries(st.sampled_from(ATTRIBUTES), VALUES, max_size=3)
    return st.builds(
        lambda tag, attrs, content: (
            f"<{tag}{''.join(f' {k}={quoteattr(v)}' for k, v in attrs.items())}>{content}</{tag}>"
        ),
        st.sampled_from(TAGS),
        attributes,
        st.one_of(st.text(max_size=20).map(escape), st.lists(children, max_size=4).map("".join)),
    )


CDA_LIKE = st.recursive(st.just(""), _element, max_leaves=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(CDA_LIKE, max_size=8))
def test_any_header_shaped_document_gives_a_header_or_invalid_input(parts: list[str]) -> None:
    body = "".join(parts)
    try:
        data = f'<ClinicalDocument xmlns="urn:hl7-org:v3">{body}</ClinicalDocument>'.encode()
    except UnicodeEncodeError:  # a lone surrogate from st.text: not a document anyone can send
        return
    assert_header_or_refusal(data)


def test_codes_are_declared() -> None:
    declared = {code.id: code for code in finding_codes() if code.id.startswith("MSS-CDA-")}
    assert sorted(declared) == [f"MSS-CDA-{number:03d}" for number in range(1, 16)]
    assert all(declared[code].severity is Severity.ERROR for code in (NOT_WELL_FORMED, NO_ID, NO_RECORD_TARGET))


def test_the_code_tables_are_bundled_data_read_once() -> None:
    assert len(NON_STRUCTURED_FORMAT_CODES) == 5
    assert "ASS_A12" in repr(NON_STRUCTURED_FORMAT_CODES)
    assert FORMAT_CODES["1.3.6.1.4.1.19376.1.8.1.1.2.1"].display == ""  # an APSR organ row: no display name in J10
    assert FORMAT_CODES["1.3.6.1.4.1.19376.1.8.1.1.1"].display.startswith("Compte rendu d'anatomie")
    for table in (_cda_formats._format_displays, _cda_formats._non_structured_table, _cda_formats._format_table):
        table()
        assert table.cache_info().misses == 1


_HL7 = 'xmlns:hl7="urn:hl7-org:v3"'


@pytest.mark.parametrize(
    ("data", "by_bytes"),
    [
        (CDA, True),
        (edited("<component>", "<!-- <component> --><component>"), False),  # a comment first: the scan decides
        (edited("<component>", "<![CDATA[<component>]]><component>"), False),
        (edited("</title>", "</title><hl7:other " + _HL7 + "><hl7:component/></hl7:other>"), False),
        (
            edited("<component>", "<hl7:component " + _HL7 + ">").replace(
                b"</component>\n</Clin", b"</hl7:component>\n</Clin"
            ),
            True,
        ),
        (
            edited(
                "<component>",
                '<component><nonXMLBody><text mediaType="application/pdf"/></nonXMLBody></component><component>',
            ),
            True,
        ),
        (edited("</ClinicalDocument>", "<component/><title>after the body</title></ClinicalDocument>"), True),
        (edited("<component>", "<component\n>"), True),
        (edited('encoding="utf-8"', 'encoding="ISO-8859-15"'), False),
        (CDA.replace(b"<component>", b"<components/><component>", 1), True),
    ],
    ids=["example", "comment", "cdata", "deeper", "prefixed", "unstructured", "after", "newline", "latin-9", "near"],
)
def test_the_header_found_by_the_bytes_of_its_body_is_the_scan_s(data: bytes, by_bytes: bool) -> None:
    """Where the body is found by its bytes, the header tree and the body's media type are those of the scan."""
    fast = _cda_scan._parse_at_component(data)
    assert (fast is not None) == by_bytes
    scanned = _cda_scan._parse_scanned(data)
    if fast is not None:
        assert ElementTree.tostring(fast[0]) == ElementTree.tostring(scanned[0])
        assert fast[1] == scanned[1]
