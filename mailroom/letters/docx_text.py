"""Read a DOCX back to plain text, for checking what a letter actually says.

Reads the package parts directly (zip + XML) rather than through python-docx, whose
``Document.paragraphs`` skips content controls and text boxes, whose ``cell.text``
leaves out nested tables and which creates a header part just from reading a
linked one (library-notes §4). Collected, in document order:

- per section: the headers that show (default; first-page if ``w:titlePg``; even-page
  if ``w:evenAndOddHeaders`` in settings), the body paragraphs, then the footers;
  a header or footer used by several sections is read once;
- body paragraphs, tables (including nested ones), block- and run-level content
  controls (``w:sdt``), text boxes (``w:txbxContent``, after the paragraph that
  anchors them; the VML fallback copy in ``mc:Fallback`` is skipped);
- footnotes and endnotes last.

Deleted (tracked) text, field codes and hidden runs (``w:vanish``) are left out.
Text is normalised: smart quotes become straight quotes, non-breaking and other
special spaces become spaces, soft hyphens and zero-width characters go, and runs
of whitespace collapse to one space. Empty paragraphs are dropped.
"""

from __future__ import annotations

import io
import os
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

from mailroom.letters.zip_limits import ReadBudget, TooLarge

__all__ = ["DocxReadError", "DocxText", "normalise_text", "read_docx_text"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_P, _T, _R_RUN = f"{_W}p", f"{_W}t", f"{_W}r"
_SPACES = frozenset({f"{_W}tab", f"{_W}ptab", f"{_W}br", f"{_W}cr"})
_NO_BREAK_HYPHEN = f"{_W}noBreakHyphen"
_TXBX = f"{_W}txbxContent"
# Subtrees with no visible text of the paragraph itself.
_SKIP = frozenset(
    {
        f"{_MC}Fallback",
        f"{_W}pPr",
        f"{_W}rPr",
        f"{_W}sdtPr",
        f"{_W}sdtEndPr",
        f"{_W}del",
        f"{_W}delText",
        f"{_W}instrText",
        f"{_W}moveFrom",
        f"{_W}sectPr",
        f"{_W}tblPr",
        f"{_W}tblGrid",
        f"{_W}trPr",
        f"{_W}tcPr",
    }
)
_FALSE = {"0", "false", "off", "none"}

_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys(
            "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", " "
        ),
        **dict.fromkeys("\u202f\u205f\u3000\t\n\r\x0b\x0c", " "),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011", "-"),
        **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", None),
    }
)


def normalise_text(text: str) -> str:
    """Text as the checker sees it: straight quotes, plain spaces, collapsed whitespace.

    Guillemets are left alone (``«field»`` is a mail-merge placeholder the checker looks for).
    """
    return " ".join(text.translate(_TRANSLATE).split())


class DocxReadError(ValueError):
    """The file is not a readable DOCX. The message is one line."""


@dataclass
class DocxText:
    """A document's text: ``paragraphs`` (normalised, non-empty, in document order)
    and ``text``, their whitespace-normalised join (one space between paragraphs, so
    rule-pack regexes such as ``received.{0,60}`` see the letter as one line)."""

    paragraphs: list[str]
    text: str = field(init=False)
    starts: list[int] = field(init=False, repr=False)  # offset of each paragraph in text

    def __post_init__(self) -> None:
        self.text = " ".join(self.paragraphs)
        self.starts = []
        offset = 0
        for paragraph in self.paragraphs:
            self.starts.append(offset)
            offset += len(paragraph) + 1

    @classmethod
    def from_text(cls, text: str) -> DocxText:
        """From plain text, one paragraph per line (for checking text that is not a DOCX)."""
        return cls([p for p in (normalise_text(line) for line in text.splitlines()) if p])

    def paragraph_at(self, offset: int) -> int:
        """Index of the paragraph containing ``offset`` of ``text``."""
        low, high = 0, len(self.starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low


# --- walking the XML --------------------------------------------------------------


def _property(element: ElementTree.Element, properties: str, name: str) -> ElementTree.Element | None:
    """``element/properties/name`` (e.g. ``w:rPr/w:vanish``), without ElementPath's overhead."""
    for child in element:
        if child.tag == properties:
            for item in child:
                if item.tag == name:
                    return item
            return None
    return None


def _hidden(run: ElementTree.Element) -> bool:
    vanish = _property(run, f"{_W}rPr", f"{_W}vanish")
    return vanish is not None and vanish.get(f"{_W}val", "true").lower() not in _FALSE


def _paragraph(p: ElementTree.Element, out: list[str]) -> None:
    pieces: list[str] = []
    boxes: list[ElementTree.Element] = []

    def walk(element: ElementTree.Element) -> None:
        for child in element:
            tag = child.tag
            if tag == _T:
                pieces.append(child.text or "")
            elif tag in _SPACES:
                pieces.append(" ")
            elif tag == _NO_BREAK_HYPHEN:
                pieces.append("-")
            elif tag == _TXBX:
                boxes.append(child)
            elif tag in _SKIP or (tag == _R_RUN and _hidden(child)):
                continue
            else:
                walk(child)

    walk(p)
    out.append("".join(pieces))
    for box in boxes:
        _blocks(box, out)


def _blocks(element: ElementTree.Element, out: list[str]) -> None:
    for child in element:
        if child.tag == _P:
            _paragraph(child, out)
        elif child.tag not in _SKIP:
            _blocks(child, out)


# --- the package ------------------------------------------------------------------


class _Package:
    """The parts of a DOCX, read from the zip as they are needed (a letter's media,
    fonts and styles are never decompressed)."""

    def __init__(self, source: bytes | str | os.PathLike[str]) -> None:
        self.label = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except FileNotFoundError:
            raise DocxReadError(f"{self.label}: file not found") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DocxReadError(f"{self.label}: not a DOCX file ({' '.join(str(exc).split())})") from None
        self.members = set(self.archive.namelist())
        self.budget = ReadBudget()  # shared by every part: many parts just under the cap add up
        package = self.rels("")
        main = next((t for kind, t in package.values() if kind.endswith("/officeDocument")), None)
        if main is None or main not in self.members:
            self.close()
            raise DocxReadError(f"{self.label}: not a DOCX file (no main document part)")
        self.main = main
        self.main_rels = self.rels(main)

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> _Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def xml(self, name: str) -> ElementTree.Element:
        try:
            return ElementTree.fromstring(self.budget.read(self.archive, name))
        except TooLarge as exc:
            raise DocxReadError(f"{self.label}: too large: {exc}") from None
        except ElementTree.ParseError as exc:
            raise DocxReadError(f"{self.label}: not a DOCX file (malformed {name}: {exc})") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise DocxReadError(f"{self.label}: not a DOCX file (unreadable {name}: {exc})") from None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """rId -> (type, part name) for the internal relationships of ``part``."""
        folder, name = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", name + ".rels")
        if rels_name not in self.members:
            return {}
        found = {}
        for rel in self.xml(rels_name).iter(f"{_REL}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            target = (
                target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )
            found[rel.get("Id", "")] = (rel.get("Type", ""), target)
        return found

    def related(self, suffix: str) -> Iterator[str]:
        for kind, target in self.main_rels.values():
            if kind.endswith(suffix) and target in self.members:
                yield target


def _even_headers(package: _Package) -> bool:
    for settings in package.related("/settings"):
        flag = package.xml(settings).find(f"{_W}evenAndOddHeaders")
        if flag is not None and flag.get(f"{_W}val", "true").lower() not in _FALSE:
            return True
    return False


def _section_parts(package: _Package, sect_pr: ElementTree.Element, kind: str, even: bool) -> list[str]:
    """Part names of the headers or footers (``kind``) that this section shows."""
    title_pg = sect_pr.find(f"{_W}titlePg")
    first = title_pg is not None and title_pg.get(f"{_W}val", "true").lower() not in _FALSE
    by_type = {}
    for reference in sect_pr.iter(f"{_W}{kind}Reference"):
        target = package.main_rels.get(reference.get(f"{_R}id", ""))
        if target is not None and target[1] in package.members:
            by_type[reference.get(f"{_W}type", "default")] = target[1]
    shown = [("first", first), ("default", True), ("even", even)]
    return [by_type[t] for t, show in shown if show and t in by_type]


def _notes(package: _Package, kind: str, out: list[str]) -> None:
    for name in package.related(f"/{kind}s"):
        for note in package.xml(name).iter(f"{_W}{kind}"):
            if note.get(f"{_W}type", "normal") in ("normal", ""):
                _blocks(note, out)


def read_docx_text(source: bytes | str | os.PathLike[str]) -> DocxText:
    """The text of a DOCX (path or bytes). Raises ``DocxReadError`` if it is not one."""
    with _Package(source) as package:
        return _read(package)


def _read(package: _Package) -> DocxText:
    document = package.xml(package.main)
    body = document.find(f"{_W}body")
    if body is None:
        raise DocxReadError(f"{package.label}: not a DOCX file (no w:body in {package.main})")
    even = _even_headers(package)
    seen: set[str] = set()
    raw: list[str] = []
    section: list[str] = []

    def emit(sect_pr: ElementTree.Element | None, kind: str) -> None:
        for name in [] if sect_pr is None else _section_parts(package, sect_pr, kind, even):
            if name not in seen:
                seen.add(name)
                _blocks(package.xml(name), raw)

    def flush(sect_pr: ElementTree.Element | None) -> None:
        emit(sect_pr, "header")
        raw.extend(section)
        emit(sect_pr, "footer")
        section.clear()

    for child in body:
        if child.tag == f"{_W}sectPr":
            flush(child)
        elif child.tag == _P:
            _paragraph(child, section)
            inner = _property(child, f"{_W}pPr", f"{_W}sectPr")
            if inner is not None:
                flush(inner)
        elif child.tag not in _SKIP:
            _blocks(child, section)
    if section:
        flush(None)
    _notes(package, "footnote", raw)
    _notes(package, "endnote", raw)
    return DocxText([p for p in (normalise_text(text) for text in raw) if p])
