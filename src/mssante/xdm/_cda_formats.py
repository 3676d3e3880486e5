"""The XDS formatCode of a CDA document: the bundled NOS tables ``ASS_A11`` and ``ASS_A12`` and their lookups."""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import types
from collections.abc import Iterator, Mapping

from mssante.xdm._model import Coding
from mssante.xdm._valuesets import correspondence

__all__ = ["FORMAT_CODES", "NON_STRUCTURED_FORMAT_CODES", "NON_STRUCTURED_TEMPLATE", "format_code_of"]

# The format code of a structured CDA, by the root of a templateId: the bundled NOS table ASS_A11-CorresModeleCDA-
# XdsFormatCode-CISIS (dateMaj 2024-07-26, see mssante/xdm/data/README.md), which maps the model's templateId root
# alone. The tables below are bundled CSV files of mssante/xdm/data, read once, when first used:
# - ASS_A11-later-rows.csv: rows later versions of ASS_A11 publish and the bundled copy lacks (the IHE PaLM APSR
#   templates), as the ANS IG « Terminologies de Santé » v1.12.0 publishes the ConceptMap (version 20260629120000,
#   and 5.0.0 before it);
# - JDV_J10-XdsFormatCode-display-names.csv: display names from JDV_J10-XdsFormatCode-CISIS (ASS_A11 has none);
# - ASS_A12-non-structured-formatCode.csv: NOS ASS_A12, the format of an unstructured CDA by its body's media type.
_ANS_FORMATS = "1.2.250.1.213.1.1.4.2.282"  # TRE_A06-FormatCodeComplementaire
_IHE_FORMATS = "1.3.6.1.4.1.19376.1.2.3"  # TRE_A11-IheFormatCode
_CISIS = "1.2.250.1.213.1.1.1."


def _rows(name: str) -> list[list[str]]:
    """The rows of a bundled CSV table, without its header."""
    text = (importlib.resources.files("mssante.xdm") / "data" / name).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))[1:]


@functools.cache
def _format_displays() -> Mapping[str, str]:
    return types.MappingProxyType(dict(_rows("JDV_J10-XdsFormatCode-display-names.csv")))


@functools.cache
def _format_table() -> Mapping[str, Coding]:
    """templateId root -> formatCode: each root ASS_A11 maps to one format, then the later rows it lacks."""
    table = correspondence("A11")
    codes: dict[str, Coding] = {}
    for source, _target in table.rows:
        target = table.target(source.code)
        if target is not None:  # a root with several formats (XDS-SD) is decided by the body's media type
            display = _format_displays().get(target.code, "")
            codes[source.code] = Coding(code=target.code, scheme=target.code_system, display=display)
    for root, code in _rows("ASS_A11-later-rows.csv"):
        codes.setdefault(root, Coding(code=code, scheme=_IHE_FORMATS, display=_format_displays().get(code, "")))
    return types.MappingProxyType(codes)


class _FormatCodes(Mapping[str, Coding]):
    """The bundled ASS_A11 table as a mapping, read when first used."""

    def __getitem__(self, root: str) -> Coding:
        return _format_table()[root]

    def __iter__(self) -> Iterator[str]:
        return iter(_format_table())

    def __len__(self) -> int:
        return len(_format_table())

    def __repr__(self) -> str:
        return "<the formatCode of a structured CDA by templateId root (NOS ASS_A11)>"


FORMAT_CODES: Mapping[str, Coding] = _FormatCodes()
"""The XDS formatCode of a structured CDA by templateId root (NOS ``ASS_A11``, bundled; read when first used)."""

NON_STRUCTURED_TEMPLATE = "1.3.6.1.4.1.19376.1.2.20"
"""The templateId of an unstructured CDA (IHE XDS-SD, CI-SIS "CDA N1")."""


@functools.cache
def _non_structured_table() -> Mapping[str, Coding]:
    """media type -> formatCode of an unstructured CDA (ASS_A12)."""
    rows = _rows("ASS_A12-non-structured-formatCode.csv")
    return types.MappingProxyType(
        {media_type: Coding(code=code, scheme=_IHE_FORMATS, display=name) for media_type, code, name in rows}
    )


class _NonStructuredFormatCodes(Mapping[str, Coding]):
    """The bundled ASS_A12 table as a mapping, read when first used."""

    def __getitem__(self, media_type: str) -> Coding:
        return _non_structured_table()[media_type]

    def __iter__(self) -> Iterator[str]:
        return iter(_non_structured_table())

    def __len__(self) -> int:
        return len(_non_structured_table())

    def __repr__(self) -> str:
        return "<the formatCode of an unstructured CDA by the media type of its body (NOS ASS_A12)>"


NON_STRUCTURED_FORMAT_CODES: Mapping[str, Coding] = _NonStructuredFormatCodes()
"""The XDS formatCode of an unstructured CDA by the media type of its ``nonXMLBody/text`` (NOS ``ASS_A12``)."""


def format_code_of(template_ids: tuple[tuple[str, str], ...], body_media_type: str | None = None) -> Coding | None:
    """The XDS formatCode of a CDA from its templateIds ``(root, extension)``, or None when none is known.

    French (CI-SIS) templates are preferred over IHE ones, then document order; an unstructured CDA
    (:data:`NON_STRUCTURED_TEMPLATE`) takes its format from the media type of its body.
    """
    roots = [root for root, _extension in template_ids]
    for root in sorted(roots, key=lambda root: not root.startswith(_CISIS)):
        if root in FORMAT_CODES:
            return FORMAT_CODES[root]
    if NON_STRUCTURED_TEMPLATE in roots and body_media_type is not None:
        return NON_STRUCTURED_FORMAT_CODES.get(body_media_type.strip().lower())
    return None
