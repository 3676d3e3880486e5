"""MkDocs hook: the table of finding codes, generated from the library at build time.

A page line that reads exactly ``<!-- finding-codes -->`` is replaced with every finding code the
library declares (code, default severity, meaning), grouped by area: ``MSS-ID-006`` belongs to
area ``ID``. The table is never written by hand, so it cannot drift from the code.
"""

from __future__ import annotations

import html
import importlib
import logging
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mkdocs.exceptions import PluginError

if TYPE_CHECKING:
    from mssante.report import Code

PLACEHOLDER = "<!-- finding-codes -->"


def code_modules() -> tuple[str, ...]:
    """Every public subpackage of mssante but the command line: each may declare finding codes."""
    import mssante  # noqa: PLC0415 (the hook imports the library only when the site is built)

    return tuple(
        f"mssante.{module.name}"
        for module in pkgutil.iter_modules(mssante.__path__)
        if module.ispkg and not module.name.startswith("_") and module.name != "cli"
    )


# One line per area, in the order the areas appear on the page; other areas follow, sorted.
AREAS = {
    "ID": "National identifiers: RPPS, ADELI, IDNPS, FINESS, SIREN, SIRET, IdNat_Struct.",
    "INS": "INS matricules (NIR and NIA).",
    "ADR": "MSSanté addresses.",
    "PKI": "IGC Santé certificates: reading, chains, profiles, identity.",
    "REV": "Revocation: CRLs, OCSP responses and their download.",
    "WL": "The ANS allow-list and the decisions made with it.",
    "WLF": "Downloading the allow-list and its cache.",
    "XDM": "XDM packages and their metadata: IHE XDM rules, then CI-SIS rules.",
    "ZIP": "ZIP archives read as hostile input (XDM packages).",
    "HLV": "HL7 v2 datatypes of XDS metadata (CX, XCN, XON, XTN).",
    "JDV": "CI-SIS value sets (jeux de valeurs).",
    "CDA": "CDA R2 document headers.",
    "MSG": "MSSanté messages: the linter's rules.",
    "MIME": "Reading MIME messages as hostile input.",
    "MDN": "Read receipts (MDN, RFC 8098, with the CI-SIS forms).",
    "DSN": "Delivery reports (DSN, RFC 3464).",
    "DIR": "The directory: the bulk extraction and its index, and the bounds of online queries.",
    "FHIR": "The FHIR API of the Annuaire Santé.",
    "PUB": "Publishing mailboxes in the directory (the draft write API).",
    "TRK": "Delivery tracking: DSNs and MDNs matched to the messages sent.",
    "TRN": "Transport: sessions refused or failed (SMTP, IMAP, TLS, DNS), messages not sent.",
    "PSC": "Pro Santé Connect: the provider, its tokens and ID tokens.",
    "POL": "The Postfix policy service: requests refused before any MSSanté rule.",
    "PRB": "Conformance probes: live servers, domains and messages (mssante probe).",
    "SRV": "Autoconfiguration: submission and IMAP servers from DNS SRV records (RFC 6186).",
}

TABLE_HEAD = "| Code | Severity | Meaning |\n|---|---|---|"

log = logging.getLogger("mkdocs.hooks.finding_codes")


def _import(name: str) -> bool:
    """Import ``name``; False when the module (or a package above it) does not exist."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        parents = {name.rsplit(".", depth)[0] for depth in range(name.count(".") + 1)}
        if error.name not in parents:
            raise PluginError(f"finding codes: importing {name} failed: {error}") from error
        return False
    except Exception as error:
        raise PluginError(f"finding codes: importing {name} failed: {error!r}") from error
    return True


def load_codes() -> tuple[Code, ...]:
    """Every finding code declared by the subpackages of mssante (see :func:`code_modules`)."""
    if not _import("mssante"):
        raise PluginError(
            'finding codes: mssante cannot be imported; install the project (pip install -e ".[dev]") '
            "or put src/ on PYTHONPATH"
        )
    for name in code_modules():
        _import(name)
    codes: tuple[Code, ...] = importlib.import_module("mssante.report").finding_codes()
    return codes


def area_of(code: str) -> str:
    """The middle part of a code: ``MSS-ID-006`` -> ``ID``."""
    parts = code.split("-")
    return parts[1] if len(parts) == 3 else code


def _cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def render(codes: Iterable[Code]) -> str:
    """The Markdown tables, one ``### AREA`` section per area."""
    by_area: dict[str, list[Code]] = {}
    for code in codes:
        by_area.setdefault(area_of(code.id), []).append(code)
    if not by_area:
        return "*No finding code is declared yet.*"
    order = [area for area in AREAS if area in by_area] + sorted(set(by_area) - set(AREAS))
    sections = []
    for area in order:
        rows = [
            f"| `{code.id}` | {code.severity.value} | {_cell(code.title)} |"
            for code in sorted(by_area[area], key=lambda code: code.id)
        ]
        header = [f"### {area}", "", AREAS.get(area, area), "", TABLE_HEAD]
        sections.append("\n".join([*header, *rows]))
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """Replace the placeholder line of a page with the finding-code tables."""
    if PLACEHOLDER not in markdown:
        return markdown
    table = render(load_codes())
    lines = [table if line.strip() == PLACEHOLDER else line for line in markdown.split("\n")]
    return "\n".join(lines)
