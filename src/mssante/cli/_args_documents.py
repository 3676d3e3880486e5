"""The arguments of ``xdm``, ``message`` and ``mdn``: XDM packages, messages and their notifications."""

from __future__ import annotations

import argparse
from typing import Any

from mssante.cli._choices import MDN_FORMS, XDM_ENVIRONMENTS
from mssante.cli._parsing import command_group

__all__ = ["register_mdn", "register_message", "register_xdm"]


def register_xdm(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``xdm`` command group."""
    commands = command_group(groups, "xdm", "IHE XDM packages (IHE_XDM.ZIP)")
    inspect = commands.add_parser(
        "inspect", parents=[json_flag], help="read an XDM package (tolerant) and list what it holds",
        description="Read an IHE_XDM.ZIP as real systems write it (any case, wrapper folder, any subset name, "
        "__MACOSX junk) and list its submission sets and documents. The findings say what was tolerated. "
        "An archive that is not a safe ZIP (bomb, traversal, symlink, encryption) is refused: exit status 2.",
    )  # fmt: skip
    inspect.add_argument("zip", metavar="ZIP")
    inspect.set_defaults(handler="mssante.cli._xdm:run_inspect")

    judge = commands.add_parser(
        "validate", parents=[json_flag], help="judge an XDM package (IHE XDM + CI-SIS rules)",
        description="Judge an IHE_XDM.ZIP: README.TXT, INDEX.HTM, METADATA.XML; each document's hash, size "
        "and URI against its file; required attributes; then the CI-SIS rules (one patient with a valid INS, "
        "codes in the CI-SIS value sets). Exit status 1 when an error is found.",
    )  # fmt: skip
    judge.add_argument("zip", metavar="ZIP")
    judge.add_argument("--ihe-only", action="store_true", help="apply the IHE XDM rules only, not the CI-SIS ones")
    judge.add_argument("--env", choices=XDM_ENVIRONMENTS, default="prod",
                       help="prod (default), or test: a TEST or DEMO INS is expected there (MSS-XDM-044 is "
                       "information)")  # fmt: skip
    judge.set_defaults(handler="mssante.cli._xdm:run_validate")

    pack = commands.add_parser(
        "pack", parents=[json_flag], help="build an IHE_XDM.ZIP from CDA documents",
        description="Build an IHE_XDM.ZIP from CDA R2 documents: the metadata is derived from each CDA header "
        "(patient INS and traits, author, type, class by ASS_X04, format by ASS_A11, confidentiality, title, "
        'dates...). --metadata gives a JSON object {"document": {...}, "submission_set": {...}} whose fields '
        "override the derived ones; the submission set's contentTypeCode (JDV_J03) is in no CDA header: give it "
        'there, as {"submission_set": {"content_type_code": {"code": ..., "scheme": ...}}}. A patient id under '
        "an INS authority that fails its check is kept as read, and the package is then not valid. The package "
        "is validated (CI-SIS rules, for --env) and written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    pack.add_argument("documents", metavar="DOCUMENT", nargs="+", help="a CDA R2 document (XML)")
    _packing_options(pack)
    pack.set_defaults(handler="mssante.cli._xdm:run_pack")

    replace = commands.add_parser(
        "replace", parents=[json_flag], help="build the package that replaces a document sent earlier",
        description="Build the IHE_XDM.ZIP that replaces a document sent earlier ('annule et remplace'): the new "
        "version DOCUMENT, its metadata derived as for pack, and an RPLC association "
        "(urn:ihe:iti:2007:AssociationType:RPLC) to the replaced document's entryUUID. --replaces gives the "
        "replaced document's uniqueId (default: the one the CDA's relatedDocument typeCode=RPLC names); "
        "--entry-uuid its entryUUID when the earlier package was not built by this SDK (its METADATA.XML gives "
        "it; this SDK derives it from the uniqueId otherwise). The receiver answers 900 or 901 when it cannot "
        "replace it. Written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    replace.add_argument("document", metavar="DOCUMENT", help="the new version, a CDA R2 document (XML)")
    replace.add_argument("--replaces", metavar="UNIQUE_ID", help="the replaced document's uniqueId (its CDA id)")
    replace.add_argument("--entry-uuid", metavar="UUID", help="the replaced document's entryUUID, as it was sent")
    _packing_options(replace)
    replace.set_defaults(handler="mssante.cli._xdm:run_replace")

    delete = commands.add_parser(
        "delete", parents=[json_flag], help="build the package that asks to delete a document sent earlier",
        description="Build the IHE_XDM.ZIP that asks the receiver to delete a document sent earlier "
        "('suppression'): its latest version DOCUMENT, with the identifiers it was sent with (the CDA's id; "
        "--entry-uuid when the earlier package was not built by this SDK) and the availabilityStatus Deprecated. "
        "The volet describes the request, not how the mail carries it: this form is this SDK's reading. The "
        "receiver answers 900 or 901 when it cannot delete it. Written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    delete.add_argument("document", metavar="DOCUMENT", help="the latest version sent, a CDA R2 document (XML)")
    delete.add_argument("--entry-uuid", metavar="UUID", help="the document's entryUUID, as it was sent")
    _packing_options(delete)
    delete.set_defaults(handler="mssante.cli._xdm:run_delete")


def _packing_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", metavar="ZIP", required=True, help="where to write the package")
    command.add_argument("--metadata", metavar="JSON",
                         help="a JSON file of metadata fields overriding the derived ones")  # fmt: skip
    command.add_argument("--to", metavar="ADDRESS", action="append", help="an intended recipient's MSSanté address")
    command.add_argument("--source-id", metavar="OID", help="the sending system's OID (default: the CDA id root)")
    command.add_argument("--at", metavar="TIME", help="the submission time, ISO 8601 (default: now)")
    command.add_argument("--env", choices=XDM_ENVIRONMENTS, default="prod",
                         help="prod (default), or test: the package is validated for that environment (a TEST or "
                         "DEMO INS is expected in test)")  # fmt: skip


def register_message(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``message`` command group."""
    commands = command_group(groups, "message", "MSSanté messages")
    inspect = commands.add_parser(
        "inspect", parents=[json_flag], help="read a message: headers, attachments, XDM, patient",
        description="Read a message (.eml) as real mailers write it and show its subject, addresses, X-MSS-* "
        "headers, attachments, XDM packages and the patient they are about.",
    )  # fmt: skip
    inspect.add_argument("eml", metavar="EML")
    inspect.set_defaults(handler="mssante.cli._message:run_inspect")

    judge = commands.add_parser(
        "lint", parents=[json_flag], help="judge a message against the MSSanté rules",
        description="Judge a message against the MSSanté rules (X-MSS-* headers, subject convention, patient "
        "messaging, one patient) and its XDM packages against the XDM and CI-SIS rules. A read receipt (MDN) or a "
        "delivery report (DSN) is judged as a notification: its block, its headers, not the rules of a message. "
        "Exit status 1 when an error is found.",
    )  # fmt: skip
    judge.add_argument("eml", metavar="EML")
    judge.add_argument("--env", choices=XDM_ENVIRONMENTS, default="prod",
                       help="prod (default), or test: a TEST or DEMO INS is expected there (MSS-XDM-044 is "
                       "information)")  # fmt: skip
    judge.set_defaults(handler="mssante.cli._message:run_lint")

    build = commands.add_parser(
        "compose", parents=[json_flag], help="write a message (.eml) from CDA/PDF documents and addresses",
        description="Compose an MSSanté message: the CDA documents packed as IHE_XDM.zip (metadata derived from "
        "their headers), the PDF alongside, the X-MSS-* headers and the subject convention. The message is "
        "linted; exit status 1 when the linter finds an error (the file is written either way).",
    )  # fmt: skip
    build.add_argument("--from", dest="sender", metavar="ADDRESS", required=True, help="the sender's address")
    build.add_argument("--from-name", dest="sender_name", metavar="NAME", help="the sender's display name")
    build.add_argument("--to", metavar="ADDRESS", action="append", required=True, help="a recipient (repeat)")
    build.add_argument("--cc", metavar="ADDRESS", action="append", help="a copy recipient (repeat)")
    build.add_argument("--nil", metavar="REF", required=True, help="the product reference (X-MSS-NIL)")
    build.add_argument("--cda", metavar="FILE", action="append", help="a CDA R2 document to pack (repeat)")
    build.add_argument("--metadata", metavar="JSON",
                       help='a JSON file of XDM metadata overriding what the CDA headers give, as for xdm pack: '
                       '{"document": {...}, "submission_set": {...}}; the contentTypeCode (JDV_J03) is in no CDA '
                       'header: {"submission_set": {"content_type_code": {"code": ..., "scheme": ...}}}')  # fmt: skip
    build.add_argument("--pdf", metavar="FILE", help="the same document as PDF/A-1")
    build.add_argument("--attach", metavar="FILE", action="append", help="another file to attach (repeat)")
    build.add_argument("--subject", help="the subject (default: the XDM convention when documents are packed)")
    build.add_argument("--text", help="the body text")
    build.add_argument("--text-file", metavar="FILE", help="the body text, from a UTF-8 file")
    build.add_argument("--read-receipt", action="store_true", help="ask for an MDN (Disposition-Notification-To)")
    build.add_argument("--no-reply", action="store_true", help="forbid the patient's reply (X-MSS-MES: FIN)")
    build.add_argument("--at", metavar="TIME", help="the Date, ISO 8601 (default: now)")
    build.add_argument("--out", metavar="EML", required=True, help="where to write the message")
    build.set_defaults(handler="mssante.cli._message:run_compose")


def register_mdn(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``mdn`` command group."""
    mdn = command_group(groups, "mdn", "read receipts (MDN), delivery reports (DSN) and the volet's KO mail")
    read = mdn.add_parser(
        "parse", parents=[json_flag], help="read an MDN or a DSN",
        description="Read a read receipt (MDN, RFC 8098, with the CI-SIS error forms), a delivery report "
        "(DSN, RFC 3464) or the volet's KO mail (kind ko). The meaning of a volet error code is given (900 and 901: "
        "a replacement or a deletion refused). A report of either type whose block is broken or missing is still an "
        "MDN or a DSN, with the findings that say what is wrong: exit status 1. Exit status 2 when the message is "
        "none of these.",
    )  # fmt: skip
    read.add_argument("eml", metavar="EML")
    read.set_defaults(handler="mssante.cli._message:run_mdn_parse")

    reply = mdn.add_parser(
        "build", parents=[json_flag], help="write the MDN answering a message",
        description="Write the MDN answering EML (which must ask for one with Disposition-Notification-To; when it "
        "does not, mdn ko writes the volet's KO mail): processed, or with --error CODE the CI-SIS integration error "
        "and its label, written as the CI-SIS volet does (Disposition: ...; processed/Error: CODE^LABEL) or, with "
        "--form rfc8098, as RFC 8098 does (processed/error and an Error: field). The original's IHE_XDM.zip and "
        "PDF go back with it. When EML's Disposition-Notification-To differs from its Return-Path, an MDN needs the "
        "user's confirmation (RFC 8098 2.1): nothing is written (exit status 1, MSS-MDN-010) unless --confirmed.",
    )  # fmt: skip
    reply.add_argument("eml", metavar="EML")
    reply.add_argument("--from", dest="sender", metavar="ADDRESS", required=True, help="who sends the MDN")
    reply.add_argument("--final-recipient", metavar="ADDRESS", required=True, help="the mailbox that processed it")
    reply.add_argument("--error", metavar="CODE",
                       help="an integration error code: 900 to 906, or an HL7 error of the volet (100 to 207); "
                       "another code needs --label")  # fmt: skip
    reply.add_argument("--label", help="the error label (default: the label of the volet's tables)")
    reply.add_argument("--form", choices=MDN_FORMS, default="volet",
                       help="volet (default): the error inside Disposition, the form ANS's receivers read; rfc8098: "
                       "processed/error and a separate Error: field")  # fmt: skip
    reply.add_argument("--confirmed", action="store_true",
                       help="the user confirmed this MDN (needed when Disposition-Notification-To differs from "
                       "Return-Path)")  # fmt: skip
    reply.add_argument("--no-attachments", action="store_true",
                       help="do not attach the original's IHE_XDM.zip and PDF again")  # fmt: skip
    reply.add_argument("--reporting-ua", metavar="UA", default="mssante", help="the Reporting-UA field")
    reply.add_argument("--at", metavar="TIME", help="the Date, ISO 8601 (default: now)")
    reply.add_argument("--out", metavar="EML", required=True, help="where to write the MDN")
    reply.set_defaults(handler="mssante.cli._message:run_mdn_build")

    ko = mdn.add_parser(
        "ko", parents=[json_flag], help="write the volet's KO mail answering a message that asked for no MDN",
        description="Write the plain mail the CI-SIS volet sends when a message could not be integrated and asked "
        "for no MDN: subject [KO Intégration système !][CODE] and the original's subject, the code and label in "
        "French, the original's attachments again (and, with --embed-original, the original whole before them).",
    )  # fmt: skip
    ko.add_argument("eml", metavar="EML")
    ko.add_argument("--from", dest="sender", metavar="ADDRESS", required=True, help="who sends the mail")
    ko.add_argument(
        "--error",
        metavar="CODE",
        required=True,
        help="the error code: 900 to 906, or an HL7 error of the volet; another code needs --label",
    )
    ko.add_argument("--label", help="the error label (default: the label of the volet's tables)")
    ko.add_argument("--to", metavar="ADDRESS", help="who it goes to (default: the original's Reply-To, else From)")
    ko.add_argument("--embed-original", action="store_true", help="attach the original whole (message/rfc822)")
    ko.add_argument("--at", metavar="TIME", help="the Date, ISO 8601 (default: now)")
    ko.add_argument("--out", metavar="EML", required=True, help="where to write the mail")
    ko.set_defaults(handler="mssante.cli._message:run_mdn_ko")
