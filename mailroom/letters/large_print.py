"""The large print variant of a letter, made from the rendered DOCX by style.

There is no second template to keep in step: a letter drafted for a case whose
recorded format (``Complaint.letter_format``, set with ``cases contact --format``) is
``large-print`` is the standard letter with its styles restyled:

- every font size, in the styles (and the document defaults) and set directly on a
  run (the letterhead's name), is scaled by 4/3 and raised to at least 16 pt
  (RNIB's and UKAAF's minimum for large print); 12 pt body text becomes 16 pt;
- paragraph spacing grows by the same factor, line spacing to at least 1.2;
- the side margins narrow to 2 cm, so that a line still holds about as many words;
- web and email addresses (the template's ``Web address`` character style) are
  set 80 % wide, so the Ombudsman's online form address still fits on one line at
  16 pt and is never broken across lines.

The text is untouched, so the checker's result is the same, and the address frame
stays where the DL window envelope needs it (it is placed from the page's corner).

``apply_letter_format(docx, letter_format)`` is what drafting calls with the case's
recorded format; ``large_print(docx)`` does the work.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

from lxml import etree  # type: ignore[import-untyped]

from mailroom.letters.render import TemplateError

__all__ = ["LARGE_PRINT", "MIN_HALF_POINTS", "STANDARD", "apply_letter_format", "large_print"]

STANDARD = "standard"
LARGE_PRINT = "large-print"
MIN_HALF_POINTS = 32  # 16 pt: w:sz is in half-points
_SCALE = 4 / 3
_MARGIN_TWIPS = 1134  # 2 cm
_MIN_LINE = 288  # 1.2 lines, in 240ths of a line ("auto" line rule)
_WEB_WIDTH = "80"  # per cent of the normal character width
WEB_STYLE_NAME = "Web address"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
_PARTS = re.compile(r"word/(document|styles|header\d*|footer\d*)\.xml")
# CT_RPr's children in schema order (Word refuses some documents with them out of order).
_RPR_ORDER = [
    "rStyle",
    "rFonts",
    "b",
    "bCs",
    "i",
    "iCs",
    "caps",
    "smallCaps",
    "strike",
    "dstrike",
    "outline",
    "shadow",
    "emboss",
    "imprint",
    "noProof",
    "snapToGrid",
    "vanish",
    "webHidden",
    "color",
    "spacing",
    "w",
    "kern",
    "position",
    "sz",
    "szCs",
    "highlight",
    "u",
    "effect",
    "bdr",
    "shd",
    "fitText",
    "vertAlign",
    "rtl",
    "cs",
    "em",
    "lang",
    "eastAsianLayout",
    "specVanish",
    "oMath",
]


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


def apply_letter_format(docx: bytes, letter_format: str | None) -> bytes:
    """``docx`` in the format the case records: large print for ``"large-print"``,
    unchanged for ``"standard"``, ``None`` or ``""``."""
    if not letter_format or letter_format == STANDARD:
        return docx
    if letter_format == LARGE_PRINT:
        return large_print(docx)
    raise TemplateError(f"unknown letter format {letter_format!r} (one of {STANDARD}, {LARGE_PRINT})")


def large_print(docx: bytes) -> bytes:
    """The large print variant of a rendered letter (DOCX bytes in, DOCX bytes out)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(docx))
    except zipfile.BadZipFile as exc:
        raise TemplateError(f"large print: not a DOCX file ({exc})") from None
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            match = _PARTS.fullmatch(info.filename)
            if match is not None:
                data = _restyle(data, _STEPS[match.group(1).rstrip("0123456789")], info.filename)
            target.writestr(info, data, compresslevel=1)
    return out.getvalue()


def _restyle(data: bytes, step: Callable[[etree._Element], None], name: str) -> bytes:
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"large print: {name}: malformed XML ({exc})") from None
    _sizes(root)
    _spacing(root)
    step(root)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return out


def _bigger(value: str | None) -> str:
    try:
        half_points = int(value or "0")
    except ValueError:
        half_points = 0
    return str(max(MIN_HALF_POINTS, round(half_points * _SCALE)))


def _sizes(root: etree._Element) -> None:
    for tag in ("sz", "szCs"):
        for element in root.iter(_w(tag)):
            element.set(_w("val"), _bigger(element.get(_w("val"))))


def _spacing(root: etree._Element) -> None:
    for element in root.iter(_w("spacing")):
        if element.getparent() is None or element.getparent().tag != _w("pPr"):
            continue  # character spacing (w:rPr/w:spacing) is left alone
        for side in ("before", "after"):
            value = element.get(_w(side))
            if value and value.isdigit():
                element.set(_w(side), str(round(int(value) * _SCALE)))
        line, rule = element.get(_w("line")), element.get(_w("lineRule"), "auto")
        if line and line.isdigit() and rule == "auto" and int(line) < _MIN_LINE:
            element.set(_w("line"), str(_MIN_LINE))


def _set_rpr(rpr: etree._Element, tag: str, value: str) -> None:
    """Set ``<w:tag w:val=value/>`` in ``rpr``, in schema order."""
    existing = rpr.find(_w(tag))
    if existing is None:
        existing = etree.Element(_w(tag))
        position = _RPR_ORDER.index(tag)
        later = [i for i, child in enumerate(rpr) if _local(child) in _RPR_ORDER[position + 1 :]]
        rpr.insert(later[0] if later else len(rpr), existing)
    existing.set(_w("val"), value)


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _styles(root: etree._Element) -> None:
    """Every style at least 16 pt: the document defaults get a size if they have none
    (a style without one inherits it), and the web address style is narrowed."""
    defaults = root.find("w:docDefaults", _NS)
    if defaults is None:
        defaults = etree.SubElement(root, _w("docDefaults"))
        root.insert(0, defaults)
    holder = defaults.find("w:rPrDefault", _NS)
    if holder is None:
        holder = etree.Element(_w("rPrDefault"))
        defaults.insert(0, holder)
    rpr = holder.find("w:rPr", _NS)
    if rpr is None:
        rpr = etree.SubElement(holder, _w("rPr"))
    for tag in ("sz", "szCs"):
        if rpr.find(_w(tag)) is None:
            _set_rpr(rpr, tag, str(MIN_HALF_POINTS))
    for style in root.iterfind("w:style", _NS):
        name = style.find("w:name", _NS)
        if name is None or name.get(_w("val")) != WEB_STYLE_NAME:
            continue
        style_rpr = style.find("w:rPr", _NS)
        if style_rpr is None:
            style_rpr = etree.SubElement(style, _w("rPr"))
        _set_rpr(style_rpr, "w", _WEB_WIDTH)


def _document(root: etree._Element) -> None:
    for margins in root.iter(_w("pgMar")):
        for side in ("left", "right"):
            margins.set(_w(side), str(_MARGIN_TWIPS))


def _nothing(root: etree._Element) -> None:
    return None


_STEPS: dict[str, Callable[[etree._Element], None]] = {
    "styles": _styles,
    "document": _document,
    "header": _nothing,
    "footer": _nothing,
}
