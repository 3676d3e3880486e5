"""IHE_XDM.ZIP: the package written in its canonical layout, and read as real systems write it.

Written: ``README.TXT``, ``INDEX.HTM``, ``IHE_XDM/``, ``IHE_XDM/SUBSET01/`` (explicit directory
entries), ``METADATA.XML`` and the documents in upper-case 8.3 names, ``hash`` (SHA-1, lower-case
hex), ``size`` and ``URI`` computed from the exact bytes written. Read: names without regard to
case, a wrapper folder, any subset name, ``__MACOSX/`` junk; what was tolerated is reported.

A package read is read lazily: README.TXT, INDEX.HTM and METADATA.XML when it is read, each document
only when it is asked for (:attr:`Subset.files`, :meth:`Subset.content`, :attr:`Package.documents`),
then kept; all of it within the :class:`~mssante.xdm.Budget` the package was read with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from mssante import _html
from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.report import Finding, Report
from mssante.xdm import codes as _codes
from mssante.xdm import zip_codes as _zip
from mssante.xdm._budget import Budget
from mssante.xdm._cda import CdaHeader, read_cda_header
from mssante.xdm._ebrim import read_metadata, write_metadata
from mssante.xdm._fromcda import completed, derived_entry, overridden, submission_set_from_cda
from mssante.xdm._hl7 import Xcn, Xon
from mssante.xdm._model import DEPRECATED, Author, DocumentEntry, DocumentRef, Metadata, SubmissionSet, parse_dtm
from mssante.xdm._safezip import SafeZip, ZipLimits

__all__ = ["MAX_PACKAGE_BYTES", "Document", "Package", "Subset"]

MAX_PACKAGE_BYTES = ZipLimits().max_archive_size
"""The largest archive read (the default :class:`ZipLimits`)."""

_EXTENSIONS = {
    "text/xml": "XML",
    "application/xml": "XML",
    "text/x-cda-r2+xml": "XML",
    "application/pdf": "PDF",
    "text/plain": "TXT",
    "text/html": "HTM",
    "application/dicom": "DCM",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "image/tiff": "TIF",
    "application/fhir+json": "JSN",
    "application/json": "JSN",
}
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_VERSION_CONTROL = frozenset({".svn", ".git", "cvs", ".hg", ".bzr"})


@attrs.frozen(kw_only=True)
class Document:
    """A document to pack: its bytes and metadata (``hash``, ``size`` and ``URI`` are filled in when packed)."""

    content: bytes = attrs.field(repr=False)
    entry: DocumentEntry
    name: str = ""
    """The file name in the subset; ``DOC0001.XML``, ``DOC0002.PDF``... when empty."""
    replaces: DocumentRef | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(DocumentRef))
    )
    """The document sent earlier that this one replaces ("annule et remplace"): an RPLC association names it."""


class _LazyFiles(Mapping[str, bytes]):
    """The files of a subset read from an archive: names known at once, each inflated on first use, then kept."""

    __slots__ = ("_archive", "_kept", "_paths")

    def __init__(self, archive: SafeZip, paths: Mapping[str, str]) -> None:
        self._archive = archive
        self._paths = dict(paths)  # name in the subset -> name in the archive
        self._kept: dict[str, bytes] = {}

    def __getitem__(self, name: str) -> bytes:
        if name in self._kept:
            return self._kept[name]
        path = self._paths[name]  # KeyError for a name the subset does not have
        return self._kept.setdefault(name, self._archive.read(path))

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"<{len(self._paths)} files, {len(self._kept)} inflated>"


@attrs.frozen(kw_only=True)
class Subset:
    """One submission set directory: its metadata and its files, by name relative to the directory.

    For a package read from an archive, ``files`` inflates a file when it is first asked for (its names and
    ``in`` inflate nothing), within the package's budget: :class:`~mssante.errors.InvalidInput` when the file
    is damaged (``MSS-ZIP-018``, ``-019``) or the budget cannot cover it (``MSS-ZIP-023``).
    """

    directory: str
    metadata: Metadata | None
    files: Mapping[str, bytes] = attrs.field(repr=False)
    metadata_path: str = ""
    """Where METADATA.XML was read from in the archive (``IHE_XDM/SUBSET01/METADATA.XML`` when packed)."""

    def content(self, entry: DocumentEntry) -> bytes | None:
        """The bytes the entry's ``URI`` names (compared without regard to case), if the subset has them.

        Only that file is inflated; :class:`~mssante.errors.InvalidInput` as for :attr:`files`.
        """
        wanted = entry.uri.casefold()
        name = next((name for name in self.files if name.casefold() == wanted), None)
        return None if name is None else self.files[name]


def _canonical_name(index: int, mime_type: str) -> str:
    return f"DOC{index:04d}.{_EXTENSIONS.get(mime_type.split(';', maxsplit=1)[0].strip().lower(), 'BIN')}"


def _readable(parse: Callable[[str], Xcn | Xon], text: str) -> str:
    """A person or an organisation as a reader would write it (the encoded text when it does not parse)."""
    try:
        value = parse(text)
    except InvalidInput:
        return text
    if isinstance(value, Xon):
        return f"{value.name} ({value.identifier})" if value.identifier else value.name
    name = " ".join(part for part in (value.prefix, value.given, value.family) if part)
    return f"{name} ({value.id})" if name and value.id else name or value.id


def _who(author: Author) -> str:
    parts = [_readable(Xcn.parse, author.person)] if author.person else []
    parts += [_readable(Xon.parse, institution) for institution in author.institutions]
    return ", ".join(parts)


def _readme(metadata: Metadata, directory: str, application: str) -> str:
    submission = metadata.submission_set
    senders = "; ".join(_who(author) for author in submission.authors) or "-"
    moment = parse_dtm(submission.submission_time)
    lines = [
        "Archive IHE XDM (IHE_XDM.ZIP) - documents de santé et leurs métadonnées",
        "",
        f"Émetteur : {senders}",
        f"Application de l'émetteur : {application}",
        f"Date de constitution : {moment.strftime('%d/%m/%Y %H:%M UTC') if moment else submission.submission_time}",
        f"Identifiant du lot de soumission : {submission.unique_id}",
        "",
        "Instructions :",
        "Ouvrir INDEX.HTM dans un navigateur pour consulter la liste des documents.",
        "Les métadonnées (IHE XDS, ebRIM 3.0, CI-SIS) sont dans le fichier METADATA.XML du lot.",
        "",
        "Arborescence :",
        "README.TXT     ce fichier",
        "INDEX.HTM      sommaire des documents",
        f"IHE_XDM/{directory}/METADATA.XML     métadonnées du lot",
    ]
    lines += [
        f"IHE_XDM/{directory}/{entry.uri}     {entry.title or entry.mime_type}{_request_note(metadata, entry)}"
        for entry in metadata.documents
    ]
    return "\r\n".join(lines) + "\r\n"


def _request_note(metadata: Metadata, entry: DocumentEntry) -> str:
    request = metadata.request_of(entry)
    if request == "deletion":
        return " (demande de suppression de ce document)"
    if request == "replacement":
        return f" (annule et remplace le document {', '.join(metadata.replaced_ids(entry))})"
    return ""


def _index(metadata: Metadata, directory: str) -> str:
    rows = "\n".join(
        f'<li><a href="IHE_XDM/{directory}/{html.escape(entry.uri)}">{html.escape(entry.title or entry.uri)}</a>'
        f" ({html.escape(entry.mime_type)}, {html.escape(entry.size)} octets)</li>"
        for entry in metadata.documents
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">\n'
        "<head><title>Archive IHE XDM</title></head>\n<body>\n"
        "<h1>Archive IHE XDM</h1>\n"
        f"<p>Lot de soumission {html.escape(metadata.submission_set.unique_id)} : "
        f"{len(metadata.documents)} document(s).</p>\n"
        f"<ul>\n{rows}\n</ul>\n"
        f'<p><a href="IHE_XDM/{directory}/METADATA.XML">Métadonnées (METADATA.XML)</a> - '
        '<a href="README.TXT">README.TXT</a></p>\n'
        "</body>\n</html>\n"
    )


@attrs.frozen(kw_only=True)
class Package:
    """An XDM package: its submission sets, README.TXT, INDEX.HTM, and what was tolerated when it was read."""

    subsets: tuple[Subset, ...]
    readme: str = ""
    index: str = ""
    findings: tuple[Finding, ...] = ()
    """Findings of reading (tolerated deviations, unreadable metadata); :func:`validate` judges the rest."""
    junk: tuple[str, ...] = ()
    """Entries skipped: operating-system junk (``__MACOSX/``, ``.DS_Store``...), then version-control folders
    (``.svn/``, ``.git/``, ``CVS/``...)."""

    def _repr_html_(self) -> str:
        """The submission set, one row per document entry, and what reading tolerated, for notebooks."""
        submission = self.metadata.submission_set if self.metadata else None
        sizes = [
            (entry, _shown_size(subset, entry))
            for subset in self.subsets
            if subset.metadata is not None
            for entry in subset.metadata.documents
        ]
        return _html.section(
            _html.heading(f"XDM package: {len(self.subsets)} submission set(s), {len(sizes)} document(s)"),
            _html.definitions(
                [
                    ("subsets", ", ".join(subset.directory for subset in self.subsets)),
                    ("submitted", submission.submission_time if submission else None),
                    ("source", submission.source_id if submission else None),
                    ("patient", submission.patient_id if submission else None),
                    ("recipients", _html.items(submission.intended_recipients if submission else ())),
                    ("junk skipped", _html.items(self.junk)),
                ]
            ),
            _html.table(
                ["title", "type", "media type", "patient", "URI", "bytes"],
                [
                    (
                        entry.title,
                        entry.type_code.display or entry.type_code.code if entry.type_code else "",
                        entry.mime_type,
                        entry.patient_id,
                        entry.uri,
                        size,
                    )
                    for entry, size in sizes
                ],
            ),
            _html.findings(self.findings),
        )

    @property
    def metadata(self) -> Metadata | None:
        """The metadata of the first submission set (MSSanté sends one)."""
        return self.subsets[0].metadata if self.subsets else None

    @property
    def documents(self) -> list[tuple[DocumentEntry, bytes | None]]:
        """Every document entry with the bytes its ``URI`` names (None when the file is missing).

        For a package read from an archive, the documents are inflated here (once) within its budget:
        :class:`~mssante.errors.InvalidInput` when one is damaged or the budget cannot cover it.
        """
        return [
            (entry, subset.content(entry))
            for subset in self.subsets
            if subset.metadata is not None
            for entry in subset.metadata.documents
        ]

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        submission_set: SubmissionSet,
        *,
        application: str = "mssante",
    ) -> Package:
        """A package of one submission set (``SUBSET01``): each entry gets the ``hash``, ``size`` and ``URI``
        of its bytes, and a ``HasMember`` association; a document that replaces another (:attr:`Document.replaces`)
        an ``RPLC`` association to it."""
        if not documents:
            raise ValueError("a package holds at least one document")
        files: dict[str, bytes] = {}
        entries = []
        replaces: dict[str, str] = {}
        for number, document in enumerate(documents, start=1):
            name = document.name or _canonical_name(number, document.entry.mime_type)
            if name.casefold() in {taken.casefold() for taken in files} or name.upper() == "METADATA.XML":
                raise ValueError(f"two documents would be named {name!r}")
            files[name] = document.content
            entries.append(
                attrs.evolve(
                    document.entry,
                    uri=name,
                    hash=hashlib.sha1(document.content).hexdigest(),  # noqa: S324 (the XDS hash is SHA-1)
                    size=str(len(document.content)),
                )
            )
            if document.replaces is not None:
                replaces[document.entry.entry_uuid] = document.replaces.entry_uuid
        metadata = Metadata.of(submission_set, entries, replaces=replaces)
        directory = "SUBSET01"
        return cls(
            subsets=(
                Subset(
                    directory=directory,
                    metadata=metadata,
                    files=files,
                    metadata_path=f"IHE_XDM/{directory}/METADATA.XML",
                ),
            ),
            readme=_readme(metadata, directory, application),
            index=_index(metadata, directory),
        )

    @classmethod
    def from_cda(
        cls,
        cda: bytes | Sequence[bytes],
        *,
        at: dt.datetime,
        source_id: str = "",
        recipients: Sequence[Address | str] = (),
        document: Mapping[str, Any] | None = None,
        submission_set: Mapping[str, Any] | None = None,
        application: str = "mssante",
    ) -> Package:
        """A package of CDA R2 documents, its metadata derived from their headers (CI-SIS mapping).

        ``at`` is the submission time; ``source_id`` the sending system's OID (default: the root of
        the first document's id); ``recipients`` the intended recipients' MSSanté addresses (those
        of the CDA's information recipients are added). ``document`` and ``submission_set`` replace
        derived fields by name (codes as ``{"code", "scheme", "display"}``; a code given without a display gets
        its value set's, a typeCode given without a classCode gets the class ``ASS_X04`` maps it to). The
        submission set's ``contentTypeCode`` is not in a CDA header: give it in ``submission_set`` (a code of
        JDV_J03-XdsContentTypeCode-CISIS), or :func:`validate` says it is missing. What reading the headers and
        deriving the metadata noticed is in :attr:`findings` (a patient id under an INS authority that fails its
        check is kept as read for patientId, and said; so is a CDA that says it replaces another, ``MSS-XDM-047``:
        :meth:`replacement` packs a replacement). Raises :class:`~mssante.errors.InvalidInput` when a document is
        not a CDA R2 document with an id, a code and a patient, or the documents are about different patients.
        """
        return cls._from_cda(
            cda,
            at=at,
            source_id=source_id,
            recipients=recipients,
            document=document,
            submission_set=submission_set,
            application=application,
        )

    @classmethod
    def replacement(
        cls,
        cda: bytes,
        *,
        at: dt.datetime,
        replaces: DocumentRef | str | None = None,
        source_id: str = "",
        recipients: Sequence[Address | str] = (),
        document: Mapping[str, Any] | None = None,
        submission_set: Mapping[str, Any] | None = None,
        application: str = "mssante",
    ) -> Package:
        """The package that replaces a document sent earlier ("annule et remplace"): the new version ``cda``, its
        entry with an ``RPLC`` association (``urn:ihe:iti:2007:AssociationType:RPLC``, IHE ITI TF-3 4.2.2.2) to the
        ``entryUUID`` of the replaced document.

        ``replaces`` names the replaced document by the identifiers its sender kept (:class:`DocumentRef`; a text is
        its uniqueId, its entryUUID then derived as this SDK derives it when it packs a CDA). Without it, the CDA's
        own ``relatedDocument[@typeCode='RPLC']/parentDocument/id`` is taken, when it names one document. The rest
        is as for :meth:`from_cda`. When the CDA names another replaced document, a finding says so
        (``MSS-XDM-048``). The receiver answers ``900`` (not the latest version) or ``901`` (not the author's
        organisation) when it cannot replace it (:class:`mssante.message.IntegrationError`).

        Raises :class:`~mssante.errors.InvalidInput` as :meth:`from_cda` does, when nothing names the replaced
        document, or when the new version has the replaced one's uniqueId (a new version has a new id).
        """
        return cls._from_cda(
            cda,
            at=at,
            source_id=source_id,
            recipients=recipients,
            document=document,
            submission_set=submission_set,
            application=application,
            replaces=replaces,
            replacing=True,
        )

    @classmethod
    def deletion(
        cls,
        cda: bytes,
        *,
        at: dt.datetime,
        source_id: str = "",
        recipients: Sequence[Address | str] = (),
        document: Mapping[str, Any] | None = None,
        submission_set: Mapping[str, Any] | None = None,
        application: str = "mssante",
    ) -> Package:
        """The package that asks the receiver to delete a document sent earlier ("suppression").

        It carries the document's latest version ``cda``, as the volet's HL7 message does, its entry with the
        identifiers it was sent with (the uniqueId of the CDA; the entryUUID this SDK derived when it packed it, or
        ``document={"entry_uuid": ...}``) and the availabilityStatus ``Deprecated``. The volet describes the
        request, not how the mail carries it: this form is this SDK's reading (the docs say so). The receiver
        answers ``900`` or ``901`` when it cannot delete it. The rest is as for :meth:`from_cda`.
        """
        return cls._from_cda(
            cda,
            at=at,
            source_id=source_id,
            recipients=recipients,
            document={**(document or {}), "availability_status": DEPRECATED},
            submission_set=submission_set,
            application=application,
            deletion=True,
        )

    @classmethod
    def _from_cda(
        cls,
        cda: bytes | Sequence[bytes],
        *,
        at: dt.datetime,
        source_id: str,
        recipients: Sequence[Address | str],
        document: Mapping[str, Any] | None,
        submission_set: Mapping[str, Any] | None,
        application: str,
        replaces: DocumentRef | str | None = None,
        replacing: bool = False,
        deletion: bool = False,
    ) -> Package:
        documents = [cda] if isinstance(cda, bytes | bytearray) else list(cda)
        if not documents:
            raise ValueError("give at least one CDA document")
        headers = [read_cda_header(bytes(data)) for data in documents]
        ref, replacing_said = _replaced(headers[0], replaces) if replacing else (None, [])
        entries, noticed = [], []
        for header in headers:
            entry, findings = derived_entry(header)
            entries.append(completed(overridden(entry, document, what="document"), document))
            noticed.append([*header.findings, *findings])
        patients = {entry.patient_id for entry in entries}
        if len(patients) > 1:
            finding = _codes.SEVERAL_PATIENTS(f"the documents concern {len(patients)} patients: {sorted(patients)}")
            raise InvalidInput(finding.message, Report(findings=[finding]))
        derived = submission_set_from_cda(headers, entries, at=at, source_id=source_id, recipients=recipients)
        package = cls.build(
            [
                Document(content=bytes(data), entry=entry, replaces=ref)
                for data, entry in zip(documents, entries, strict=True)
            ],
            completed(overridden(derived, submission_set, what="submission_set"), submission_set),
            application=application,
        )
        assert package.metadata is not None  # built just above
        said = [
            attrs.evolve(finding, where=f"{entry.uri}: {finding.where}" if finding.where else entry.uri)
            for entry, findings in zip(package.metadata.documents, noticed, strict=True)
            for finding in findings
        ]
        first = package.metadata.documents[0].uri
        said += [attrs.evolve(finding, where=f"{first}: {finding.where}") for finding in replacing_said]
        if not replacing and not deletion:  # a new version sent as a new document: said
            said += [
                _codes.CDA_REPLACES_WITHOUT_RPLC(
                    f"the CDA replaces {', '.join(header.replaced_ids)}; without an RPLC association the receiver "
                    "takes it for a new document (Package.replacement, mssante xdm replace)",
                    where=f"{entry.uri}: relatedDocument",
                )
                for entry, header in zip(package.metadata.documents, headers, strict=True)
                if header.replaced_ids
            ]
        return attrs.evolve(package, findings=(*package.findings, *said))

    def to_zip(self) -> bytes:
        """The IHE_XDM.ZIP bytes: canonical layout, explicit directory entries, deflated, reproducible."""
        moment = None
        if self.metadata is not None:
            moment = parse_dtm(self.metadata.submission_set.submission_time)
        stamp = (moment or dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)).timetuple()[:6]
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def put(name: str, data: bytes) -> None:
                info = zipfile.ZipInfo(name, date_time=stamp)
                if name.endswith("/"):
                    info.external_attr = (0o40755 << 16) | 0x10
                    archive.writestr(info, b"")
                else:
                    info.external_attr = 0o100644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, data)

            put("README.TXT", self.readme.encode("utf-8"))
            put("INDEX.HTM", self.index.encode("utf-8"))
            put("IHE_XDM/", b"")
            for subset in self.subsets:
                put(f"IHE_XDM/{subset.directory}/", b"")
                if subset.metadata is not None:
                    put(f"IHE_XDM/{subset.directory}/METADATA.XML", write_metadata(subset.metadata))
                for name, data in subset.files.items():
                    put(f"IHE_XDM/{subset.directory}/{name}", data)
        return output.getvalue()

    @classmethod
    def read(cls, data: bytes, *, limits: ZipLimits | None = None, budget: Budget | None = None) -> Package:
        """Read an XDM ZIP as real systems write it.

        :class:`~mssante.errors.InvalidInput` when the bytes are not a safe ZIP archive (see
        :class:`ZipLimits`), or when ``budget`` cannot cover the central directory, README.TXT, INDEX.HTM
        and METADATA.XML (``MSS-ZIP-023``); a package without README, INDEX or metadata is read and
        :func:`validate` says what is missing. The documents are inflated only when asked for, within
        ``budget`` (shared by reference: give the message's to count them against it); without one, the
        archive has its own (``max_total_size`` of ``limits``).
        """
        archive = SafeZip.open(data, limits=limits or ZipLimits(), budget=budget)
        return _Reader(archive).package()


def _refused(code: Any, message: str, where: str) -> InvalidInput:
    finding = code(message, where=where)
    return InvalidInput(finding.message, Report(findings=[finding]))


def _replaced(header: CdaHeader, replaces: DocumentRef | str | None) -> tuple[DocumentRef, list[Finding]]:
    """The document a new version replaces (given, else the one its relatedDocument RPLC names), and what is said."""
    if replaces is None:
        if len(header.replaced_ids) != 1:
            named = ", ".join(header.replaced_ids) or "none"
            message = f"give the replaced document: the CDA's relatedDocument RPLC names {named}"
            raise _refused(_codes.MISSING_ATTRIBUTE, message, "relatedDocument")
        replaces = header.replaced_ids[0]
    ref = replaces if isinstance(replaces, DocumentRef) else DocumentRef(unique_id=replaces)
    if ref.unique_id == header.document_id:
        message = f"the new version has the replaced document's id {ref.unique_id!r}: a new version has a new id"
        raise _refused(_codes.RPLC_WITHIN, message, "id")
    said: list[Finding] = []
    if header.replaced_ids and ref.unique_id not in header.replaced_ids:
        message = (
            f"the CDA replaces {', '.join(header.replaced_ids)} (relatedDocument RPLC), the package {ref.unique_id}"
        )
        said.append(_codes.CDA_REPLACES_ANOTHER(message, where="relatedDocument"))
    return ref, said


def _shown_size(subset: Subset, entry: DocumentEntry) -> str:
    try:
        data = subset.content(entry)
    except InvalidInput as error:
        return f"unreadable ({', '.join(error.report.codes)})"
    return "missing" if data is None else f"{len(data):,}"


def _is_junk(name: str) -> bool:
    parts = name.split("/")
    base = parts[-1].casefold()
    return "__macosx" in (part.casefold() for part in parts) or base in _JUNK_NAMES or base.startswith("._")


def _version_control_folder(name: str) -> str:
    """The version-control folder (``.svn/``, ``.git/``, ``CVS/``...) an entry is in, or is; "" when none."""
    parts = name.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.casefold() in _VERSION_CONTROL:
            return "/".join(parts[: index + 1]) + "/"
    return ""


class _Reader:
    """Locates the package root, the subsets and their files in a checked archive."""

    def __init__(self, archive: SafeZip) -> None:
        self.archive = archive
        self.findings: list[Finding] = []
        self.junk = [entry.name for entry in archive.entries if _is_junk(entry.name)]
        self.version_control = [
            entry.name for entry in archive.entries if _version_control_folder(entry.name) and not _is_junk(entry.name)
        ]
        skipped = {*self.junk, *self.version_control}
        self.files = [entry.name for entry in archive.entries if not entry.is_dir and entry.name not in skipped]
        self.directories = {
            entry.name.rstrip("/") for entry in archive.entries if entry.is_dir and entry.name not in skipped
        }

    def root(self) -> str:
        """The folder holding IHE_XDM/ (empty at the top), by the shortest path."""
        roots = set()
        for name in self.files:
            parts = name.split("/")
            folded = [part.casefold() for part in parts[:-1]]
            if "ihe_xdm" in folded:
                roots.add("/".join(parts[: folded.index("ihe_xdm")]))
        if not roots:
            return ""
        root = min(roots, key=lambda path: (path.count("/"), path))
        if root:
            self.findings.append(_codes.WRAPPED(f"the package is inside {root + '/'!r}", where=root + "/"))
        return root + "/" if root else ""

    def text(self, root: str, name: str) -> str:
        """README.TXT or INDEX.HTM at the root, read as UTF-8 (Latin-1 when it is not)."""
        for path in self.files:
            if path.casefold() == (root + name).casefold():
                if path != root + name:
                    self.findings.append(_codes.NOT_CANONICAL_NAME(f"{path!r} is written {name}", where=path))
                data = self.archive.read(path)
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    return data.decode("latin-1")
        return ""

    def package(self) -> Package:
        if self.junk:
            self.findings.append(_codes.JUNK(f"{len(self.junk)} entries skipped", where=self.junk[0]))
        if self.version_control:
            folders = sorted({_version_control_folder(name) for name in self.version_control})
            message = f"{len(self.version_control)} entries skipped, in {', '.join(folders)}"
            self.findings.append(_codes.VERSION_CONTROL(message, where=folders[0]))
        root = self.root()
        readme, index = self.text(root, "README.TXT"), self.text(root, "INDEX.HTM")
        subsets: dict[str, dict[str, str]] = {}  # subset path -> {relative name: archive name}
        inside = [path[len(root) :].split("/") for path in self.files if path.startswith(root)]
        inside = [parts for parts in inside if parts[0].casefold() == "ihe_xdm"]
        glued = [  # IHE_XDM/SUBSET01METADATA.xml: a known producer bug, read as IHE_XDM/SUBSET01/METADATA.xml
            parts[1][: -len("metadata.xml")]
            for parts in inside
            if len(parts) == 2 and parts[1].casefold().endswith("metadata.xml") and len(parts[1]) > len("metadata.xml")
        ]
        for parts in inside:
            path = root + "/".join(parts)
            if len(parts) > 2:
                subsets.setdefault("/".join(parts[:2]), {})["/".join(parts[2:])] = path
                continue
            prefix = next((prefix for prefix in glued if parts[1].startswith(prefix)), None)
            if prefix is None:
                continue
            name = parts[1][len(prefix) :]
            if name.casefold() == "metadata.xml":
                message = f"{path!r} is not in a subset directory: the '/' after {prefix!r} is missing"
                self.findings.append(_codes.MISNAMED_ENTRY(message, where=path))
            subsets.setdefault(f"{parts[0]}/{prefix}", {})[name] = path
        folded = {directory.casefold() for directory in self.directories}
        absent = [key for key in ("IHE_XDM", *sorted(subsets)) if (root + key).casefold() not in folded]
        if subsets and absent:
            message = "no directory entry for " + ", ".join(f"{root + key}/" for key in absent)
            self.findings.append(_codes.MISSING_DIRECTORY_ENTRY(message, where=root + absent[0] + "/"))
        return Package(
            subsets=tuple(self.subset(key, names) for key, names in sorted(subsets.items())),
            readme=readme,
            index=index,
            findings=tuple(self.findings),
            junk=(*self.junk, *self.version_control),
        )

    def subset(self, key: str, names: dict[str, str]) -> Subset:
        directory = key.split("/")[1]
        metadata_name = next((name for name in names if name.casefold() == "metadata.xml"), None)
        metadata, path = None, ""
        if metadata_name is not None:
            path = names.pop(metadata_name)
            if not path.endswith(f"IHE_XDM/{directory}/METADATA.XML"):
                message = f"{path!r} is written IHE_XDM/{directory}/METADATA.XML"
                self.findings.append(_codes.NOT_CANONICAL_NAME(message, where=path))
            try:
                metadata, tolerated = read_metadata(self.archive.read(path), where=path)
            except InvalidInput as error:
                if _zip.BUDGET_EXHAUSTED.id in error.report.codes:
                    raise  # the budget, not the package, is at fault: no package is better than a wrong one
                self.findings.extend(error.report.findings)
            else:
                self.findings.extend(tolerated)
        files = _LazyFiles(self.archive, names)
        return Subset(directory=directory, metadata=metadata, files=files, metadata_path=path)
