"""Small HTML fragments for the ``_repr_html_`` of the models shown in notebooks.

Every piece of text is escaped; long values are cut with an ellipsis and a note, long lists and tables
show their first rows and say how many more there are. Inline styles only: no script, no external CSS.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "MAX_ROWS",
    "MAX_TEXT",
    "Markup",
    "definitions",
    "findings",
    "heading",
    "items",
    "section",
    "table",
    "text",
    "verdict",
]

MAX_TEXT = 300
"""Characters of one value shown before it is cut."""
MAX_ROWS = 50
"""Rows of a table or items of a list shown before the rest is summarised."""

_TABLE = "border-collapse:collapse;margin:0.25em 0;font-size:0.9em"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
_LABEL = _CELL + ";font-weight:600;background:#f5f5f5;white-space:nowrap"
_NOTE = "color:#777;font-style:italic"
_SEVERITY = {
    "error": "background:#fde2e1;color:#a4000f;font-weight:600",
    "warning": "background:#fff3cd;color:#7a4d00;font-weight:600",
    "info": "background:#e7f1fb;color:#0b4f8a",
}
_GOOD = "background:#e3f4e1;color:#1d6b1d;font-weight:600;padding:1px 6px;border-radius:3px"
_BAD = "background:#fde2e1;color:#a4000f;font-weight:600;padding:1px 6px;border-radius:3px"


class Markup(str):
    """A fragment that is already HTML: inserted as is where text would be escaped."""

    __slots__ = ()


class _Finding(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> object: ...
    @property
    def message(self) -> str: ...
    @property
    def where(self) -> str: ...


def _printable(value: str) -> str:
    """The text with control characters and lone surrogates replaced by U+FFFD (tab and new lines kept)."""
    if value.isprintable():
        return value
    return "".join(
        "\ufffd" if char not in "\t\n" and unicodedata.category(char) in {"Cc", "Cs"} else char for char in value
    )


def text(value: object, *, limit: int = MAX_TEXT) -> Markup:
    """``value`` as escaped text; beyond ``limit`` characters it is cut with an ellipsis and a note."""
    if isinstance(value, Markup):
        return value
    shown = "" if value is None else str(value)
    note = ""
    if len(shown) > limit:
        note = f' <span style="{_NOTE}">({len(shown):,} characters, truncated)</span>'
        shown = shown[:limit] + "…"
    return Markup(html.escape(_printable(shown), quote=True) + note)


def _more(count: int) -> str:
    return f'<span style="{_NOTE}">… {count:,} more</span>'


def heading(title: object, *, ok: bool | None = None) -> Markup:
    """A title, with an ok / not ok badge when ``ok`` is given."""
    badge = "" if ok is None else " " + verdict(ok=ok)
    return Markup(f'<div style="font-weight:600;font-size:1.1em;margin:0.3em 0">{text(title)}{badge}</div>')


def verdict(*, ok: bool, good: str = "ok", bad: str = "not ok") -> Markup:
    """A coloured badge: ``good`` in green when ``ok``, else ``bad`` in red."""
    return Markup(f'<span style="{_GOOD if ok else _BAD}">{text(good if ok else bad)}</span>')


def items(values: Iterable[object], *, limit: int = MAX_ROWS) -> Markup:
    """A bulleted list, the first ``limit`` values shown; empty text for no values."""
    shown: list[str] = []
    hidden = 0
    for value in values:
        if len(shown) < limit:
            shown.append(f"<li>{text(value)}</li>")
        else:
            hidden += 1
    if not shown:
        return Markup("")
    more = f"<li>{_more(hidden)}</li>" if hidden else ""
    return Markup(f'<ul style="margin:0;padding-left:1.2em">{"".join(shown)}{more}</ul>')


def definitions(rows: Iterable[tuple[str, object]]) -> Markup:
    """A two-column table of label and value; rows whose value is None or empty are left out."""
    cells = [
        f'<tr><th style="{_LABEL}">{text(label)}</th><td style="{_CELL}">{text(value)}</td></tr>'
        for label, value in rows
        if value is not None and value not in ("", ())
    ]
    if not cells:
        return Markup("")
    return Markup(f'<table style="{_TABLE}"><tbody>{"".join(cells)}</tbody></table>')


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, limit: int = MAX_ROWS) -> Markup:
    """A table with a header row, the first ``limit`` rows shown and the rest counted."""
    body: list[str] = []
    hidden = 0
    for row in rows:
        if len(body) < limit:
            body.append("<tr>" + "".join(f'<td style="{_CELL}">{text(cell)}</td>' for cell in row) + "</tr>")
        else:
            hidden += 1
    if hidden:
        body.append(f'<tr><td style="{_CELL}" colspan="{len(headers)}">{_more(hidden)}</td></tr>')
    head = "".join(f'<th style="{_LABEL}">{text(name)}</th>' for name in headers)
    return Markup(f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def findings(values: Iterable[_Finding], *, limit: int = MAX_ROWS) -> Markup:
    """The findings as a table (code, severity, message, where), each row coloured by its severity."""
    body: list[str] = []
    counts: dict[str, int] = {}
    for finding in values:
        severity = str(finding.severity)
        counts[severity] = counts.get(severity, 0) + 1
        if len(body) >= limit:
            continue
        style = _SEVERITY.get(severity, "")
        cells = (finding.code, severity, finding.message, finding.where)
        body.append(f'<tr style="{style}">' + "".join(f'<td style="{_CELL}">{text(c)}</td>' for c in cells) + "</tr>")
    total = sum(counts.values())
    if not total:
        return Markup(f'<div style="{_NOTE}">no finding</div>')
    if total > len(body):
        body.append(f'<tr><td style="{_CELL}" colspan="4">{_more(total - len(body))}</td></tr>')
    summary = ", ".join(
        f"{count:,} {severity}{'s' if count > 1 and severity in {'error', 'warning'} else ''}"
        for severity, count in sorted(counts.items())
    )
    head = "".join(f'<th style="{_LABEL}">{name}</th>' for name in ("code", "severity", "message", "where"))
    return Markup(
        f'<div style="{_NOTE}">{text(summary)}</div>'
        f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def section(*parts: str) -> Markup:
    """Fragments put together in one block."""
    return Markup('<div class="mssante">' + "".join(parts) + "</div>")
