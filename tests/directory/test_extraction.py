"""Reading the bulk MSSanté extraction: exact models, tolerated variants, skipped lines, hostile ZIPs.

``tests/data/directory/extraction-SYNTHETIC.txt`` is a copy of the project's shared fixture
``fixtures/annuaire/extraction-correspondance-mssante-SYNTHETIC.txt``: the real header of the
"Extraction des BAL MSSanté" file (three public sources agree on it, see ``spec/annuaire.md`` §2.1)
over three SYNTHETIC lines (fake RPPS ``1000000000x``, fake FINESS ``1X0000009``).
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.addresses import Address, MailboxType
from mssante.directory._extraction import (
    _PLAIN_ADDRESS,
    EXTRACTION_HEADER,
    MAX_LINE_BYTES,
    ExtractionReader,
    mailbox_from_record,
    read_extraction,
)
from mssante.directory._models import DirectoryMailbox, Person, Structure
from mssante.errors import InvalidAddress, InvalidInput
from mssante.report import Severity
from mssante.testing._extraction import SYNTHETIC_MEMBER_NAME, synthetic_extraction, write_synthetic_extraction

FIXTURE = Path(__file__).parent.parent / "data" / "directory" / "extraction-SYNTHETIC.txt"
TEXT = FIXTURE.read_bytes()
HEADER, *LINES = TEXT.decode("utf-8").splitlines()

STRUCTURE = Structure(
    identifier="1X0000009",
    identifier_type="1",
    name="CENTRE HOSPITALIER EXEMPLE",
    postcode="75002",
    city="PARIS",
    department="75",
    address_lines=("1 R DE L EXEMPLE", "75002 PARIS"),
)
EXPECTED = (
    DirectoryMailbox(
        address="jean.exemple@medecin.mssante.fr",
        type=MailboxType.PER,
        digitization=True,
        person=Person(
            rpps="10000000001",
            idnps="810000000001",
            civility="DR",
            family="EXEMPLE",
            given="JEAN",
            profession_code="10",
            profession="Médecin",
            specialty_code="SM54",
            specialty="Médecine générale",
        ),
        structure=None,
        source="extraction",
    ),
    DirectoryMailbox(
        address="marie.exemple@ch-exemple.mssante.fr",
        type=MailboxType.PER,
        digitization=False,
        person=Person(
            rpps="10000000002",
            idnps="810000000002",
            civility="MME",
            family="EXEMPLE",
            given="MARIE",
            profession_code="60",
            profession="Infirmier",
        ),
        structure=STRUCTURE,
        source="extraction",
    ),
    DirectoryMailbox(
        address="secretariat.cardio@ch-exemple.mssante.fr",
        type=MailboxType.ORG,
        service="Secrétariat cardiologie",
        digitization=True,
        person=None,
        structure=STRUCTURE,
        source="extraction",
    ),
)


def text_of(*lines: str, header: str = HEADER, end: str = "\n") -> bytes:
    return "".join(line + end for line in (header, *lines)).encode("utf-8")


def line_with(**changes: str) -> str:
    """A copy of the fixture's second line with some columns changed (by 0-based position)."""
    fields = LINES[1].split("|")
    for position, value in changes.items():
        fields[int(position.removeprefix("c"))] = value
    return "|".join(fields)


def read(source: object, **options: int) -> tuple[ExtractionReader, list[DirectoryMailbox]]:
    reader = ExtractionReader(source, **options)  # type: ignore[arg-type]
    return reader, list(reader)


def zipped(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return output.getvalue()


# -- the fixture ---------------------------------------------------------------------------------------------------


def test_header_constant_is_the_fixture_header() -> None:
    assert len(EXTRACTION_HEADER) == 31
    assert "|".join(EXTRACTION_HEADER) == HEADER


def test_fixture_parses_into_the_exact_models() -> None:
    reader, mailboxes = read(FIXTURE)
    assert tuple(mailboxes) == EXPECTED
    assert (reader.name, reader.lines, reader.mailboxes, reader.skipped) == (FIXTURE.name, 3, 3, 0)
    assert reader.findings == ()
    assert reader.report.ok


def test_every_source_form_gives_the_same_mailboxes(tmp_path: Path) -> None:
    chunks = [TEXT[index : index + 7] for index in range(0, len(TEXT), 7)]  # splits lines and UTF-8 sequences
    for source in (str(FIXTURE), FIXTURE, TEXT, bytearray(TEXT), memoryview(TEXT), io.BytesIO(TEXT), iter(chunks)):
        assert tuple(read_extraction(source)) == EXPECTED, type(source)


def test_records_and_mailbox_from_record_agree() -> None:
    reader = ExtractionReader(FIXTURE)
    assert tuple(mailbox_from_record(record) for record in reader.records()) == EXPECTED


def test_numbered_records_number_each_structure_once() -> None:
    structures: list[tuple[int, str, str, str, str, str, str, str]] = []
    records = list(ExtractionReader(TEXT).numbered_records(structures))
    assert [record[-1] for record in records] == [None, 1, 1]
    assert structures == [
        (1, "1", "1X0000009", "CENTRE HOSPITALIER EXEMPLE", "1 R DE L EXEMPLE\n75002 PARIS", "75002", "PARIS", "75")
    ]


# -- tolerated variants ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("trailing pipe", text_of(*(line + "|" for line in LINES), header=HEADER + "|")),
        ("trailing pipe on lines only", text_of(*(line + "|" for line in LINES))),
        ("CRLF", text_of(*LINES, end="\r\n")),
        ("BOM", b"\xef\xbb\xbf" + TEXT),
        (
            "BOM, CRLF, trailing pipe",
            b"\xef\xbb\xbf" + text_of(*(x + "|" for x in LINES), header=HEADER + "|", end="\r\n"),
        ),
        ("no final newline", TEXT.rstrip(b"\n")),
        ("blank lines", text_of(LINES[0], "", LINES[1], "", LINES[2], "")),
    ],
)
def test_variants_are_tolerated(label: str, data: bytes) -> None:
    reader, mailboxes = read(data)
    assert tuple(mailboxes) == EXPECTED, label
    assert reader.skipped == 0


def test_digitization_values() -> None:
    values = {"True": True, "1": True, "O": True, "oui": True, "False": False, "0": False, "N": False, "": None}
    lines = [line_with(c17=value) for value in values] + [line_with(c17="peut-être")]
    _, mailboxes = read(text_of(*lines))
    assert [mailbox.digitization for mailbox in mailboxes] == [*values.values(), None]


def test_identifiers_of_the_person() -> None:
    lines = [
        line_with(c2="0", c3="751012345", c4=""),  # ADELI: no RPPS, IDNPS derived
        line_with(c2="8", c3="10000000002", c4=""),  # RPPS without IDNPS: derived
        line_with(c2="", c3="", c4=""),  # no identifier at all
    ]
    _, mailboxes = read(text_of(*lines))
    people = [mailbox.person for mailbox in mailboxes]
    assert [(person.rpps, person.idnps) for person in people if person] == [
        (None, "0751012345"),
        ("10000000002", "810000000002"),
        (None, None),
    ]


def test_address_is_canonical() -> None:
    _, mailboxes = read(text_of(line_with(c1=" Marie.Exemple@CH-Exemple.MSSante.fr ")))
    assert mailboxes[0].address == "Marie.Exemple@ch-exemple.mssante.fr"


def test_structure_fields_and_city() -> None:
    line = line_with(
        c18="",
        c19="PHARMACIE DU PARC",
        c20="BATIMENT A",
        c21="BP 12",
        c23="BIS",
        c26="LIEU-DIT",
        c27="42000 ST ETIENNE CEDEX",
    )
    _, (mailbox,) = read(text_of(line))
    assert mailbox.structure == Structure(
        identifier="1X0000009",
        identifier_type="1",
        name="PHARMACIE DU PARC",
        postcode="75002",
        city="ST ETIENNE CEDEX",
        department="75",
        address_lines=("BATIMENT A", "BP 12", "1 BIS R DE L EXEMPLE", "LIEU-DIT", "42000 ST ETIENNE CEDEX"),
    )
    _, (mailbox,) = read(text_of(line_with(c27="PARIS")))
    assert mailbox.structure is not None
    assert mailbox.structure.city == "PARIS"


@pytest.mark.parametrize(
    ("postcode", "department", "expected"),
    [
        ("75002", "", "75"),
        ("20000", "", "2A"),
        ("20167", "", "2A"),
        ("20200", "", "2B"),
        ("20600", "", "2B"),
        ("97400", "", "974"),
        ("97133", "", "977"),
        ("98000", "", ""),  # Monaco
        ("7500", "", ""),
        ("", "", ""),
        ("05110", "04", "04"),  # the column wins over the postcode
    ],
)
def test_the_department_is_the_columns_else_the_postcodes(postcode: str, department: str, expected: str) -> None:
    _, (mailbox,) = read(text_of(line_with(c28=postcode, c29=department)))
    assert mailbox.structure is not None
    assert (mailbox.structure.postcode, mailbox.structure.department) == (postcode, expected)


def test_a_profession_code_without_its_label_gets_the_label() -> None:
    lines = (line_with(c14="Infirmière"), line_with(c14=""), line_with(c13="07", c14=""))
    _, mailboxes = read(text_of(*lines))
    people = [(m.person.profession_code, m.person.profession) if m.person else None for m in mailboxes]
    assert people == [("60", "Infirmière"), ("60", "Infirmier"), ("07", "")]  # as the file says, else the code's


# -- refused files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            HEADER.replace("Code Profession", "Code profession"),
            "column 14 is 'Code profession' where 'Code Profession'",
        ),
        (HEADER.replace(" structure BAL", ""), "column 19 is 'Raison Sociale' where 'Raison Sociale structure BAL'"),
        (HEADER.rsplit("|", 1)[0], "it has 30 columns, not 31: column 31 'Pays structure BAL' is missing"),
        (HEADER + "|Extra", "it has 32 columns, not 31: column 32 'Extra' is extra"),
        (HEADER.replace("|", ";"), "column 1 is"),
        ("", "column 1 is '' where 'Type de BAL'"),
    ],
)
def test_a_different_header_is_refused(header: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match="not the header of the MSSanté extraction") as caught:
        read(text_of(*LINES, header=header))
    assert expected in str(caught.value)
    assert caught.value.report.codes == ("MSS-DIR-001",)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\n", b"x" * (MAX_LINE_BYTES + 10)])
def test_empty_binary_or_endless_first_line_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        read(data)
    assert caught.value.report.codes[0] in ("MSS-DIR-001", "MSS-DIR-002")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot be read") as caught:
        read(tmp_path / "missing.txt")
    assert caught.value.report.codes == ("MSS-DIR-011",)


def test_wrong_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        read(12)
    with pytest.raises(TypeError):
        read(io.StringIO(HEADER))


# -- skipped lines ---------------------------------------------------------------------------------------------------


def test_bad_lines_are_skipped_with_findings() -> None:
    lines = [
        LINES[0],
        LINES[0].rsplit("|", 3)[0],  # 28 fields
        LINES[0] + "|x|y",  # 33 fields
        "PER|nothing",  # 2 fields
        "PER|\udcff\udcfe|broken",  # bytes that are not UTF-8
        line_with(c1="not an address"),
        line_with(c1="a@b"),  # no dot in the domain
        line_with(c1="123@patient.mssante.fr"),  # a patient address with an invalid INS
        line_with(c0="APX"),
        "x" * (MAX_LINE_BYTES + 1),
        LINES[2],
    ]
    data = "".join(line + "\n" for line in (HEADER, *lines)).encode("utf-8", "surrogateescape")
    reader, mailboxes = read(data)
    assert [mailbox.address for mailbox in mailboxes] == [EXPECTED[0].address, EXPECTED[2].address]
    assert (reader.lines, reader.mailboxes, reader.skipped) == (11, 2, 9)
    assert [finding.code for finding in reader.findings] == [
        "MSS-DIR-003",
        "MSS-DIR-003",
        "MSS-DIR-003",
        "MSS-DIR-004",
        "MSS-DIR-005",
        "MSS-DIR-005",
        "MSS-DIR-005",
        "MSS-DIR-006",
        "MSS-DIR-007",
    ]
    assert [finding.where for finding in reader.findings] == [f"line {number}" for number in range(3, 12)]
    assert "28 fields, not 31" in reader.findings[0].message
    assert "33 fields, not 31" in reader.findings[1].message
    assert "'APX'" in reader.findings[7].message
    assert all(finding.severity is Severity.WARNING for finding in reader.findings)
    assert reader.report.ok


def test_findings_are_capped_and_the_rest_counted() -> None:
    reader, mailboxes = read(text_of(*(["PER|x"] * 250), LINES[0]), max_findings=5)
    assert len(mailboxes) == 1
    assert reader.skipped == 250
    assert len(reader.findings) == 6
    assert reader.findings[-1].code == "MSS-DIR-008"
    assert "245 more lines were skipped" in reader.findings[-1].message


# -- ZIP archives -----------------------------------------------------------------------------------------------------


def test_zip_extraction_is_read(tmp_path: Path) -> None:
    archive = zipped({"Extraction_Correspondance_MSSante_202608261013.txt": TEXT})
    path = tmp_path / "extraction.zip"
    path.write_bytes(archive)
    chunks = [archive[index : index + 1000] for index in range(0, len(archive), 1000)]
    for source in (path, archive, io.BytesIO(archive), iter(chunks)):
        reader, mailboxes = read(source)
        assert tuple(mailboxes) == EXPECTED
        assert reader.name == "Extraction_Correspondance_MSSante_202608261013.txt"


def test_zip_stored_is_read() -> None:
    _, mailboxes = read(zipped({"x.txt": TEXT}, method=zipfile.ZIP_STORED))
    assert tuple(mailboxes) == EXPECTED


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"a.txt": TEXT, "b.txt": TEXT}, "MSS-DIR-009"),
        ({}, "MSS-DIR-009"),
        ({"folder/": b""}, "MSS-DIR-009"),
        ({"folder/extraction.txt": TEXT}, "MSS-DIR-009"),
        ({"../extraction.txt": TEXT}, "MSS-ZIP-008"),
        ({"/etc/extraction.txt": TEXT}, "MSS-ZIP-007"),
        ({"bomb.txt": HEADER.encode() + b"\n" + b"\n" * (8 * 1024 * 1024)}, "MSS-ZIP-006"),
    ],
)
def test_hostile_zip_is_refused(members: dict[str, bytes], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read(zipped(members))
    assert code in caught.value.report.codes


def test_damaged_zip_member_is_refused() -> None:
    archive = bytearray(zipped({"x.txt": TEXT * 50}))
    archive[60] ^= 0xFF  # inside the deflated data: the CRC-32 no longer matches
    with pytest.raises(InvalidInput) as caught:
        read(bytes(archive))
    assert caught.value.report.codes in (("MSS-DIR-010",), ("MSS-DIR-001",))


def test_truncated_zip_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        read(zipped({"x.txt": TEXT})[:-30])
    assert caught.value.report.codes == ("MSS-ZIP-001",)


# -- streaming ------------------------------------------------------------------------------------------------------


def _repeated(lines: int) -> Iterator[bytes]:
    yield TEXT
    block = "".join(line + "\n" for line in LINES).encode("utf-8") * 100
    for _ in range(lines // 300):
        yield block


def _peak(lines: int) -> int:
    tracemalloc.start()
    try:
        reader = ExtractionReader(_repeated(lines))
        for _ in reader.records():
            pass
        assert reader.mailboxes == 3 + lines // 300 * 300
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file() -> None:
    small, large = _peak(6_000), _peak(60_000)
    assert large < 4 * 1024 * 1024
    assert large < small * 1.5


# -- the generator ----------------------------------------------------------------------------------------------------


def test_synthetic_files_are_deterministic_and_readable(tmp_path: Path) -> None:
    first = list(synthetic_extraction(3000, seed=7))
    assert first == list(synthetic_extraction(3000, seed=7))
    assert first != list(synthetic_extraction(3000, seed=8))
    assert first[0] == HEADER
    text = write_synthetic_extraction(tmp_path / "x.txt", 3000, seed=7)
    archive = write_synthetic_extraction(tmp_path / "x.zip", 3000, seed=7, zip=True)
    piped = write_synthetic_extraction(tmp_path / "p.txt", 3000, seed=7, trailing_pipe=True)
    assert text.read_text(encoding="utf-8") == "".join(line + "\n" for line in first)
    with zipfile.ZipFile(archive) as opened:
        assert opened.namelist() == [SYNTHETIC_MEMBER_NAME]
    readers = [ExtractionReader(path) for path in (text, archive, piped)]
    results = [list(reader) for reader in readers]
    assert results[0] == results[1] == results[2]
    assert all(reader.skipped == 0 and reader.mailboxes == 3000 for reader in readers)
    mailboxes = results[0]
    kinds = [mailbox.type for mailbox in mailboxes]
    assert 0.8 < kinds.count(MailboxType.PER) / 3000 < 0.9
    for mailbox in mailboxes:
        if mailbox.person and mailbox.person.rpps:
            assert mailbox.person.idnps == "8" + mailbox.person.rpps
            assert str(Address.parse(mailbox.address)) == mailbox.address
    assert any(not mailbox.structure for mailbox in mailboxes if mailbox.type is MailboxType.PER)
    assert any(
        char in "éèêëàâîïôöûüç" for mailbox in mailboxes if mailbox.person for char in mailbox.person.given.lower()
    )


# -- properties -------------------------------------------------------------------------------------------------------

_FIELD = st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\n\r|"), max_size=12)
_LINE = st.one_of(
    st.lists(_FIELD, min_size=29, max_size=33).map("|".join),
    st.builds(
        lambda kind, address, rest: "|".join([kind, address, *rest]),
        st.sampled_from(["PER", "ORG", "APP", "CAB", "per", ""]),
        st.text(alphabet="abcXYZ09.-_@+é|", max_size=30),
        st.lists(_FIELD, min_size=29, max_size=29),
    ),
    st.text(max_size=60),
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, max_size=8), tail=st.binary(max_size=40), header=st.booleans())
def test_random_lines_never_raise_but_invalid_input(lines: list[str], tail: bytes, header: bool) -> None:
    data = text_of(*lines, header=HEADER if header else lines[0] if lines else "x") + tail
    try:
        reader = ExtractionReader(data)
        for mailbox in reader:
            assert mailbox.address
        assert reader.lines == reader.mailboxes + reader.skipped
    except InvalidInput:
        pass


_ADDRESS_CHARS = "abcXYZ019.-_+!#'@" + "é"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(alphabet=_ADDRESS_CHARS, max_size=40), st.emails().map(str)))
def test_the_fast_address_path_accepts_only_canonical_valid_addresses(text: str) -> None:
    if _PLAIN_ADDRESS(text) and len(text) <= 254:
        try:
            parsed = Address.parse(text)
        except InvalidAddress:
            pytest.fail(f"{text!r} passed the fast path but Address.parse refuses it")
        assert str(parsed) == text
