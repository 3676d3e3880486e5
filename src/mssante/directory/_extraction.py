"""The bulk extraction of MSSanté mailboxes (``Extraction_Correspondance_MSSante``), read as a stream.

The ANS publishes every day one UTF-8 text file, ``|``-separated, with a 31-column header
(:data:`EXTRACTION_HEADER`) and one line per mailbox and structure (~536,000 lines, 89 MB), either
bare (data.gouv.fr) or as the only member of a ZIP archive (the ANS web service).
:class:`ExtractionReader` reads it from a path, bytes, a binary stream or an iterable of byte
chunks, one line at a time, and yields :class:`~mssante.directory.DirectoryMailbox` values: memory does not
grow with the file. A line that cannot be used is skipped with a finding (``MSS-DIR-*``); a file
whose header is not the extraction's is refused with :class:`~mssante.errors.InvalidInput`.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeAlias

from mssante.addresses import MailboxType, check
from mssante.directory import codes
from mssante.directory._extraction_source import _BAD_UTF8, _TOO_LONG, ExtractionSource, _blocks, _open_source, _refuse
from mssante.directory._models import PROFESSIONS, DirectoryMailbox, Person, Structure, postcode_department
from mssante.report import Code, Finding, Report

__all__ = [
    "EXTRACTION_HEADER",
    "MAX_LINE_BYTES",
    "RECORD_FIELDS",
    "STRUCTURE_FIELDS",
    "ExtractionReader",
    "ExtractionSource",
    "Record",
    "StructureRecord",
    "mailbox_from_record",
    "read_extraction",
]

EXTRACTION_HEADER: tuple[str, ...] = (
    "Type de BAL",
    "Adresse BAL",
    "Type Identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Type identifiant structure",
    "Identification Structure",
    "Service de rattachement",
    "Civilité d'exercice",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Catégorie profession",
    "Libellé de catégorie profession",
    "Code Profession",
    "Libellé Profession",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Dématérialisation",
    "Raison Sociale structure BAL",
    "Enseigne commerciale structure BAL",
    "L2COMPLEMENTLOCALISATION structure BAL",
    "L3COMPLEMENTDISTRIBUTION structure BAL",
    "L4NUMEROVOIE structure BAL",
    "L4COMPLEMENTNUMEROVOIE structure BAL",
    "NL4TYPEVOIE structure BAL",
    "L4LIBELLEVOIE structure BAL",
    "L5LIEUDITMENTION structure BAL",
    "L6LIGNEACHEMINEMENT structure BAL",
    "Code postal structure BAL",
    "Département structure BAL",
    "Pays structure BAL",
)
"""The 31 column names of the extraction's header line, in order (ANS, ``Extraction_Correspondance_MSSante``)."""

RECORD_FIELDS: tuple[str, ...] = (
    "address",
    "type",
    "rpps",
    "idnps",
    "civility",
    "family",
    "given",
    "profession_code",
    "profession",
    "specialty_code",
    "specialty",
    "digitization",
    "service",
    "structure",
)
"""The values of a :data:`Record`, in order; ``structure`` is a :data:`StructureRecord` or None."""

STRUCTURE_FIELDS: tuple[str, ...] = (
    "identifier_type",
    "identifier",
    "name",
    "address_lines",
    "postcode",
    "city",
    "department",
)
"""The values of a :data:`StructureRecord`, in order."""

StructureRecord: TypeAlias = tuple[str, str, str, str, str, str, str]
"""The structure of a line: the values named by :data:`STRUCTURE_FIELDS` (address lines joined by newlines).

Lines of the same structure share one tuple while they are read, so that it can serve as a key.
"""

Record: TypeAlias = tuple[
    str, str, str | None, str | None, str, str, str, str, str, str, str, bool | None, str, StructureRecord | None
]
"""One accepted line, normalised: the values named by :data:`RECORD_FIELDS`."""

MAX_LINE_BYTES = 64 * 1024
"""A line longer than this is skipped unread (real lines have under 1,000 bytes)."""

MAX_FINDINGS = 100
"""How many findings on skipped lines a reader keeps by default; the rest are counted."""

_COLUMNS = len(EXTRACTION_HEADER)
_STRUCTURE_START = EXTRACTION_HEADER.index("Raison Sociale structure BAL")
_STRUCTURE_COLUMNS = len(EXTRACTION_HEADER) - _STRUCTURE_START
_STRUCTURE_CACHE = 50_000

_TYPES = {kind.value: kind.value for kind in MailboxType}
_BOOLEANS: dict[str, bool] = {
    **dict.fromkeys(("True", "true", "TRUE", "1", "O", "o", "Oui", "OUI", "oui", "Y", "y"), True),
    **dict.fromkeys(("False", "false", "FALSE", "0", "N", "n", "Non", "NON", "non"), False),
}
# A strict subset of what Address.parse accepts unchanged: dot-atom ASCII local part of at most 64 characters,
# lower-case ASCII domain without "--" whose last label starts with a letter, not the patient domain. Anything
# else goes through mssante.addresses.check.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_ADDRESS = re.compile(
    r"(?=[^@]{1,64}@)"  # a local part of 1 to 64 characters
    rf"{_ATOM}(?:\.{_ATOM})*@"
    r"(?!patient\.mssante\.fr\Z)(?![a-z0-9.-]*--)"  # not a patient address; no "--" (IDNA rules apply)
    rf"(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?",  # the last label starts with a letter
    re.ASCII,
).fullmatch
_MAX_PLAIN_ADDRESS = 254


_MISSING = object()


def _describe_header(fields: Sequence[str]) -> str | None:
    """Why ``fields`` is not the extraction header, or None when it is."""
    if len(fields) == _COLUMNS + 1 and not fields[-1]:
        fields = fields[:-1]
    for position, (found, expected) in enumerate(zip(fields, EXTRACTION_HEADER, strict=False), start=1):
        if found != expected:
            return f"column {position} is {found[:80]!r} where {expected!r} is expected"
    if len(fields) < _COLUMNS:
        missing = EXTRACTION_HEADER[len(fields)]
        return f"it has {len(fields)} columns, not {_COLUMNS}: column {len(fields) + 1} {missing!r} is missing"
    if len(fields) > _COLUMNS:
        return f"it has {len(fields)} columns, not {_COLUMNS}: column {_COLUMNS + 1} {fields[_COLUMNS][:80]!r} is extra"
    return None


def _check_header(line: str, name: str) -> None:
    subject = name or "extraction"
    if line in (_BAD_UTF8, _TOO_LONG):
        reason = "not valid UTF-8" if line is _BAD_UTF8 else f"longer than {MAX_LINE_BYTES} bytes"
        raise _refuse(codes.BAD_HEADER, f"the header line is {reason}", subject=subject)
    difference = _describe_header(line.removeprefix("\ufeff").split("|"))
    if difference is not None:
        message = f"the first line is not the header of the MSSanté extraction: {difference}"
        raise _refuse(codes.BAD_HEADER, message, subject=subject)


def _city(line6: str, postcode: str) -> str:
    """The city of an L6 line (``75002 PARIS`` -> ``PARIS``): what follows the postcode."""
    head, _, rest = line6.partition(" ")
    if head.isdigit() or (postcode and head == postcode):
        return rest.strip()
    return line6


def _structure(identifier_type: str, identifier: str, tail: str) -> StructureRecord | tuple[()] | None:
    """The structure of a line from its identifier and its 13 last columns; ``()`` when all are empty.

    None when ``tail`` does not hold 13 columns (a trailing empty one allowed).
    """
    f = tail.split("|")
    if len(f) != _STRUCTURE_COLUMNS and (len(f) != _STRUCTURE_COLUMNS + 1 or f[-1]):
        return None
    (name, trade_name, line2, line3, number, number_complement, street_type, street, line5, line6, postcode) = f[:11]
    street_line = " ".join(part for part in (number, number_complement, street_type, street) if part)
    lines = "\n".join(part for part in (line2, line3, street_line, line5, line6, f[12]) if part)
    city = _city(line6, postcode) if line6 else ""
    department = f[11] or postcode_department(postcode)  # the column, else what the postcode says
    structure = (identifier_type, identifier, name or trade_name, lines, postcode, city, department)
    return structure if any(structure) else ()


def structure_from_record(structure: Sequence[str]) -> Structure:
    """The :class:`~mssante.directory.Structure` of a :data:`StructureRecord`."""
    identifier_type, identifier, name, address_lines, postcode, city, department = structure
    return Structure(
        identifier=identifier,
        identifier_type=identifier_type,
        name=name,
        postcode=postcode,
        city=city,
        department=department,
        address_lines=tuple(address_lines.split("\n")) if address_lines else (),
    )


def mailbox_from_record(record: Sequence[Any], *, source: str = "extraction") -> DirectoryMailbox:
    """The :class:`~mssante.directory.DirectoryMailbox` of a :data:`Record`."""
    (
        address,
        kind,
        rpps,
        idnps,
        civility,
        family,
        given,
        profession_code,
        profession,
        specialty_code,
        specialty,
        digitization,
        service,
        structure,
    ) = record
    person = None
    if rpps or idnps or civility or family or given or profession_code or profession or specialty_code or specialty:
        person = Person(
            rpps=rpps,
            idnps=idnps,
            civility=civility,
            family=family,
            given=given,
            profession_code=profession_code,
            profession=profession,
            specialty_code=specialty_code,
            specialty=specialty,
        )
    return DirectoryMailbox(
        address=address,
        type=MailboxType(kind),
        service=service,
        digitization=None if digitization is None else bool(digitization),
        person=person,
        structure=structure_from_record(structure) if structure else None,
        source=source,
    )


class ExtractionReader:
    """The mailboxes of an MSSanté extraction file, read as a stream.

    Iterate it for :class:`~mssante.directory.DirectoryMailbox` values (``source="extraction"``), or call
    :meth:`records` for plain tuples (faster, for bulk loaders). The header is checked on the
    first step: a file that is not the extraction raises :class:`~mssante.errors.InvalidInput`.
    Lines that cannot be used are skipped: :attr:`skipped` counts them and :attr:`findings`
    describes the first ``max_findings``. Counters are those of the iteration in progress or
    last finished; a stream or chunk iterable can be read only once.

        reader = ExtractionReader("Extraction_Correspondance_MSSante_202608261013.zip")
        for mailbox in reader:
            ...
        print(reader.mailboxes, reader.skipped, reader.report)
    """

    def __init__(self, source: ExtractionSource, *, max_findings: int = MAX_FINDINGS) -> None:
        """Read ``source``: a path (``.txt`` or ``.zip``), bytes, a binary stream or byte chunks."""
        self._source = source
        self._max_findings = max_findings
        self.name = ""
        """The file name: the ZIP member's, the path's, or ``""`` for bytes."""
        self.lines = 0
        """Data lines read so far (blank lines and the header not counted)."""
        self.mailboxes = 0
        """Lines accepted so far."""
        self.skipped = 0
        """Lines skipped so far."""
        self._findings: list[Finding] = []

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings on skipped lines, the first ``max_findings``, then one that counts the rest."""
        kept = tuple(self._findings)
        if self.skipped > len(kept):
            more = self.skipped - len(kept)
            kept += (codes.MORE_SKIPPED(f"{more} more lines were skipped; only the first {len(kept)} are described"),)
        return kept

    @property
    def report(self) -> Report:
        """The findings as a :class:`~mssante.report.Report` (skipped lines are warnings: it stays ok)."""
        return Report(findings=self.findings, subject=self.name or "extraction")

    def __iter__(self) -> Iterator[DirectoryMailbox]:
        """The mailboxes of the accepted lines, in file order."""
        for record in self.records():
            yield mailbox_from_record(record)

    def _skip(self, code: Code, message: str, line: int) -> None:
        self.skipped += 1
        if len(self._findings) < self._max_findings:
            self._findings.append(code(f"line {line}: {message}: skipped", where=f"line {line}"))

    def records(self) -> Iterator[Record]:
        """The accepted lines as :data:`Record` tuples (see :data:`RECORD_FIELDS`), in file order."""
        return self._records(None)

    def numbered_records(self, structures: list[tuple[int, str, str, str, str, str, str, str]]) -> Iterator[Any]:
        """The accepted lines as :data:`Record` tuples whose ``structure`` is a number, for bulk loaders.

        The first line of a structure appends ``(number, *structure)`` to ``structures`` (numbers count
        from 1); lines without structure have None. A structure is numbered once while the reader
        remembers it: past 50,000 distinct structures, one seen again gets a new number.
        """
        return self._records(structures)

    def _records(self, numbered: list[tuple[int, str, str, str, str, str, str, str]] | None) -> Iterator[Any]:
        self.lines = self.mailboxes = self.skipped = 0
        self._findings = []
        with contextlib.ExitStack() as stack:
            self.name, chunks = _open_source(self._source, stack)
            blocks = _blocks(chunks, MAX_LINE_BYTES)
            first = next(blocks, None)
            if not first:
                raise _refuse(
                    codes.EMPTY, "the file is empty: it has no header line", subject=self.name or "extraction"
                )
            _check_header(first[0], self.name)
            yield from self._parse(itertools.chain([first[1:]], blocks), numbered)

    def _parse(  # noqa: PLR0915 (one hot loop, kept flat for speed)
        self,
        blocks: Iterable[list[str]],
        numbered: list[tuple[int, str, str, str, str, str, str, str]] | None,
    ) -> Iterator[Any]:
        types, booleans, plain, structure_of, missing = _TYPES, _BOOLEANS, _PLAIN_ADDRESS, _structure, _MISSING
        professions = PROFESSIONS
        # The structure columns repeat on every line of a structure: they are parsed once per distinct text,
        # and the record carries the same value (tuple or number) for each. The text is remembered by a
        # 128-bit digest (not the text itself), which keeps the memory small whatever the lines hold.
        structures: dict[bytes, object] = {}
        blake2b = hashlib.blake2b
        number = 1
        lines = accepted = serial = 0
        for block in blocks:
            self.lines, self.mailboxes = lines, accepted
            for line in block:
                number += 1
                if not line:
                    continue
                lines += 1
                f = line.split("|", _STRUCTURE_START)
                if len(f) <= _STRUCTURE_START:
                    if line is _BAD_UTF8:
                        self._skip(codes.BAD_UTF8, "not valid UTF-8", number)
                    elif line is _TOO_LONG:
                        self._skip(codes.LINE_TOO_LONG, f"longer than {MAX_LINE_BYTES} bytes", number)
                    else:
                        self._skip(codes.FIELD_COUNT, f"{len(f)} fields, not {_COLUMNS}", number)
                    continue
                tail = f[_STRUCTURE_START]
                key = blake2b(f"{f[5]}|{f[6]}|{tail}".encode("utf-8", "surrogatepass"), digest_size=16).digest()
                structure = structures.get(key, missing)
                if structure is missing:
                    parsed = structure_of(f[5], f[6], tail)
                    if parsed is None:
                        count = _STRUCTURE_START + tail.count("|") + 1
                        self._skip(codes.FIELD_COUNT, f"{count} fields, not {_COLUMNS}", number)
                        continue
                    if not parsed:
                        structure = None
                    elif numbered is None:
                        structure = parsed
                    else:
                        serial += 1
                        numbered.append((serial, *parsed))
                        structure = serial
                    if len(structures) >= _STRUCTURE_CACHE:
                        structures.clear()
                    structures[key] = structure
                kind = types.get(f[0])
                if kind is None:
                    self._skip(codes.UNKNOWN_TYPE, f"BAL type {f[0][:20]!r} is not PER, ORG, APP or CAB", number)
                    continue
                address = f[1]
                if len(address) > _MAX_PLAIN_ADDRESS or not plain(address):
                    verdict = check(address)
                    if verdict.address is None:
                        reason = verdict.report.errors[0].message
                        self._skip(codes.BAD_ADDRESS, f"{address[:80]!r} is not an MSSanté address ({reason})", number)
                        continue
                    address = str(verdict.address)
                idnps = f[4] or None
                rpps = None
                pp_id = f[3]
                if pp_id:
                    pp_type = f[2]
                    if pp_type == "8":
                        rpps = pp_id
                        idnps = idnps or "8" + pp_id
                    elif pp_type == "0":
                        idnps = idnps or "0" + pp_id
                accepted += 1
                yield (
                    address,
                    kind,
                    rpps,
                    idnps,
                    f[8],
                    f[9],
                    f[10],
                    f[13],
                    f[14] or professions.get(f[13], ""),  # the label, else the code's (a line may give the code alone)
                    f[15],
                    f[16],
                    booleans.get(f[17]),
                    f[7],
                    structure,
                )
        self.lines, self.mailboxes = lines, accepted


def read_extraction(source: ExtractionSource, *, max_findings: int = MAX_FINDINGS) -> Iterator[DirectoryMailbox]:
    """The mailboxes of an extraction file, streamed; see :class:`ExtractionReader` for counts and findings."""
    return iter(ExtractionReader(source, max_findings=max_findings))
