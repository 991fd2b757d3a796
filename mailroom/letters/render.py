"""Draft letters from DOCX templates with docxtpl's tag syntax, safely and fast.

Safety (shared/reference/library-notes.md §3):
- Templates run in a ``SandboxedEnvironment`` with ``autoescape=True`` and
  ``StrictUndefined``: ``{{ cycler.__init__.__globals__ }}`` raises ``SecurityError``
  and a missing variable raises ``UndefinedError``; both become ``TemplateError``.
- Every string in the context goes through ``clean_text`` first: one XML-illegal
  character (``\\x00``, ``\\x0b``, ``\\x1b``, ``\\ufffe``...) in any field otherwise
  makes docxtpl silently mangle the *other* fields.
- Complainant text is data: it is substituted once and never re-templated, so
  ``{{ 7*7 }}`` in a field prints literally. Multi-line values become a
  ``docxtpl.Listing`` (``MultilineText``) so that line breaks survive.

Speed: naive docxtpl (``DocxTemplate(path)``; ``render``; ``save``) re-opens the DOCX
with python-docx, re-runs ``patch_xml`` (a few dozen regexes over the whole XML),
re-compiles the Jinja template and re-serialises every part of the package, for
every letter. ``LetterRenderer`` does the template-only work once per template file
(cached by path, mtime and size): it keeps the untouched package members as a
ready-made zip in memory and, for each templated part (body, headers, footers,
footnotes, endnotes, core properties), the compiled Jinja template of docxtpl's
preprocessed XML. A render is then: Jinja render, docxtpl's ``resolve_listing``
(only when the output has line breaks or tabs), a strict XML parse (an error instead
of docxtpl's silent ``recover=True`` repair), and appending the rendered parts to the
zip. ``bench/letters.py`` measures the difference.

Supported from docxtpl: all tag forms handled by ``patch_xml`` (``{%p``, ``{%tr``,
``{%tc``, ``{{r``, colspan, cellbg, vm, hm, ``{_{`` escapes), ``Listing`` and
``RichText`` values. Not supported: ``InlineImage``, ``Subdoc`` and RichText
hyperlinks, which need a live python-docx document; use docxtpl directly for those.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jinja2
from docxtpl import DocxTemplate, Listing
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree  # type: ignore[import-untyped]

from mailroom.bidi import BIDI_CONTROLS
from mailroom.letters.sandbox import BudgetedSandbox, BudgetExceeded, budget, current_budget
from mailroom.letters.zip_limits import ReadBudget, TooLarge

__all__ = [
    "LetterRenderer",
    "MultilineText",
    "TemplateError",
    "clean_context",
    "clean_text",
    "lint_template",
    "make_environment",
]


class TemplateError(Exception):
    """A template could not be parsed or rendered. The message is one line and names
    the template file."""


# XML 1.0 Char production; everything else (C0 controls except tab/LF/CR, U+FFFE,
# U+FFFF and lone surrogates) is dropped. So are bidi controls (mailroom/bidi.py):
# legal XML, but they would let a field make the letter read differently.
_DROPPED = re.compile(f"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[{BIDI_CONTROLS}]")


def clean_text(s: str) -> str:
    """``s`` with line endings normalised to ``\\n`` and XML-illegal characters and
    bidi controls removed."""
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _DROPPED.sub("", s)


class MultilineText(str, Listing):  # type: ignore[misc]
    """A multi-line field value: a ``docxtpl.Listing`` (its ``__html__`` gives the text
    XML-escaped once, and docxtpl turns its ``\\n`` into ``<w:br/>``) that is also a
    ``str``, so ``{{ text|upper }}`` or ``{% if text %}`` work on the plain text."""

    def __init__(self, text: str) -> None:
        Listing.__init__(self, text)

    def __str__(self) -> str:
        return str.__str__(self)

    def __html__(self) -> str:
        return html.escape(str.__str__(self))


def clean_context(value: Any) -> Any:
    """``value`` with ``clean_text`` applied to every string (and ``Listing``),
    recursively through dicts, lists and tuples; multi-line strings become
    ``MultilineText`` (a ``Listing``)."""
    if isinstance(value, MultilineText):
        return MultilineText(clean_text(value))
    if isinstance(value, str):
        cleaned = clean_text(value)
        return MultilineText(cleaned) if "\n" in cleaned else cleaned
    if isinstance(value, Listing):
        # A caller's own Listing holds its text escaped; clean the text, not the XML.
        return MultilineText(clean_text(html.unescape(value.xml)))
    if isinstance(value, Mapping):
        return {key: clean_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_context(item) for item in value]
    return value


def make_environment() -> SandboxedEnvironment:
    """The Jinja environment for letter templates: sandboxed, with a time and size
    budget per letter (``mailroom/letters/sandbox.py``). Configured here once and
    never mutated afterwards (docxtpl's ``render(autoescape=True)`` would mutate
    it; we do not call that)."""
    return BudgetedSandbox(autoescape=True, undefined=jinja2.StrictUndefined)


# --- reading the template package -------------------------------------------------

_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_CORE = "/metadata/core-properties"
_TEMPLATED_REL_TYPES = ("/header", "/footer", "/footnotes", "/endnotes")
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf", ".tif", ".tiff", ".zip")

# docxtpl's own preprocessing (patch_xml, resolve_listing, fix_tables) does not use
# instance state, so one unloaded instance serves every template.
_DOCXTPL = DocxTemplate(io.BytesIO())

# docxtpl turns {_{ }_} {_% %_} into literal braces after rendering. Doing that on the
# whole output would also rewrite complainant text, so the template's escapes become
# XML-illegal sentinel characters (which clean_text removes from all data) instead.
_ESCAPES = {"{_{": "\x01\x02", "}_}": "\x01\x03", "{_%": "\x01\x04", "%_}": "\x01\x05"}
_UNESCAPES = {sentinel: literal.replace("_", "") for literal, sentinel in _ESCAPES.items()}
_PARA_START = re.compile(r"<w:p([ >])")
_PARA_LINE = re.compile(r"\n<w:p([ >])")
_TAG_TEXT = re.compile(r"<[^>]+>")


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(members: Mapping[str, bytes], rels_name: str, base: str) -> list[tuple[str, str]]:
    """(type, target part name) for every internal relationship in ``rels_name``."""
    data = members.get(rels_name)
    if data is None:
        return []
    found = []
    for rel in ElementTree.fromstring(data).iter(f"{_REL_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        name = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        found.append((rel.get("Type", ""), name))
    return found


def _read_package(path: Path) -> dict[str, bytes]:
    budget = ReadBudget()  # a template is read whole: the cap covers all its members
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename: budget.read(archive, info) for info in archive.infolist()}
    except TooLarge as exc:
        raise TemplateError(f"{path.name}: too large: {exc}") from None
    except FileNotFoundError:
        raise TemplateError(f"{path}: template file not found") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise TemplateError(f"{path.name}: not a DOCX file ({_one_line(str(exc))})") from None


def _templated_parts(path: Path, members: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(part name, label) of the parts that may hold tags, main document first."""
    package = _relationships(members, "_rels/.rels", "")
    main = next((name for kind, name in package if kind.endswith(_REL_OFFICE_DOCUMENT)), None)
    if main is None or main not in members:
        raise TemplateError(f"{path.name}: not a DOCX file (no main document part)")
    parts = [(main, "body")]
    for kind, name in _relationships(members, _rels_path(main), posixpath.dirname(main)):
        if kind.endswith(_TEMPLATED_REL_TYPES) and name in members:
            parts.append((name, posixpath.basename(name)))
    parts += [(name, "core properties") for kind, name in package if kind.endswith(_REL_CORE)]
    unique: dict[str, str] = {}
    for name, label in parts:
        if name in members:
            unique.setdefault(name, label)
    return list(unique.items())


def _part_source(path: Path, members: Mapping[str, bytes], name: str) -> str:
    """The part's XML as docxtpl sees it: re-serialised by lxml, then ``patch_xml``."""
    try:
        root = etree.fromstring(members[name])
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"{path.name}: {name}: malformed XML ({_one_line(str(exc))})") from None
    source: str = _DOCXTPL.patch_xml(etree.tostring(root, encoding="unicode"))
    for literal, sentinel in _ESCAPES.items():
        source = source.replace(literal, sentinel)
    # As docxtpl: one paragraph per line, so Jinja's line numbers point at paragraphs.
    return _PARA_START.sub(r"\n<w:p\1", source)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _position(lineno: int | None) -> str:
    """Where a source line is in the document: the prepared XML has the part's root on
    line 1 and then one paragraph (``<w:p>``, table cells included) per line."""
    if not lineno or lineno < 2:
        return "start of part"
    return f"paragraph {lineno - 1}"


def _line_context(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()
    if not 1 <= lineno <= len(lines):
        return ""
    text = _one_line(_TAG_TEXT.sub("", lines[lineno - 1]))
    return f" near {text[:200]!r}" if text else ""


# --- compiled templates -----------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    name: str
    label: str
    template: jinja2.Template
    source: str  # the prepared XML, one paragraph a line: errors quote the paragraph
    fix_tables: bool
    fix_docpr: bool


@dataclass(frozen=True)
class CompiledTemplate:
    """Everything about a template file that does not depend on the letter."""

    path: Path
    base_zip: bytes  # every member that is not templated, as a finished zip
    parts: tuple[_Part, ...]
    variables: frozenset[str]  # undeclared variables used by the template


def _deterministic_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    stored = name.lower().endswith(_STORED_SUFFIXES)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def compile_template(path: Path, env: jinja2.Environment) -> CompiledTemplate:
    members = _read_package(path)
    parts: list[_Part] = []
    variables: set[str] = set()
    for name, label in _templated_parts(path, members):
        if b"{" not in members[name]:
            continue
        source = _part_source(path, members, name)
        try:
            variables |= meta.find_undeclared_variables(env.parse(source))
            template = env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            where = _line_context(source, exc.lineno)
            raise TemplateError(
                f"{path.name}: {label}: {_position(exc.lineno)}: {_one_line(exc.message or '')}{where}"
            ) from None
        has_loops = "{%" in source
        parts.append(
            _Part(
                name=name,
                label=label,
                template=template,
                source=source,
                fix_tables=label == "body" and has_loops and "<w:tbl" in source,
                fix_docpr=label == "body" and has_loops and "docPr" in source,
            )
        )
    templated = {part.name for part in parts}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        ordered = sorted(members, key=lambda n: n != "[Content_Types].xml")
        for name in ordered:
            if name not in templated:
                out.writestr(_deterministic_info(name), members[name])
    return CompiledTemplate(path, buffer.getvalue(), tuple(parts), frozenset(variables))


def _render_xml(name: str, part: _Part, context: Mapping[str, Any]) -> str:
    """The part's rendered XML; every failure a one-line ``TemplateError``."""
    try:
        return _generate(part.template, context)
    except BudgetExceeded as exc:
        raise TemplateError(f"{name}: {part.label}: over budget: {_one_line(str(exc))}") from None
    except RecursionError:
        raise TemplateError(f"{name}: {part.label}: over budget: macros nested too deeply") from None
    except (ArithmeticError, MemoryError) as exc:
        raise TemplateError(f"{name}: {part.label}: {type(exc).__name__}: {_one_line(str(exc))}") from None
    except jinja2.UndefinedError as exc:
        lineno = _template_lineno(exc)
        where = f"{_position(lineno)}: " if lineno else ""
        raise TemplateError(
            f"{name}: {part.label}: {where}undefined variable: {_one_line(exc.message or '')}"
            f"{_line_context(part.source, lineno)}"
        ) from None
    except SecurityError as exc:
        raise TemplateError(f"{name}: {part.label}: unsafe template: {_one_line(str(exc))}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}: {part.label}: {type(exc).__name__}: {_one_line(str(exc))}") from None


def _template_lineno(exc: BaseException) -> int | None:
    """The template line an error was raised on: Jinja maps its frames to the
    template's own lines, named ``<template>`` for templates from strings."""
    lineno, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def _render_part(compiled: CompiledTemplate, part: _Part, context: Mapping[str, Any]) -> bytes:
    name = compiled.path.name
    xml = _PARA_LINE.sub(r"<w:p\1", _render_xml(name, part, context))
    if "\x01" in xml:
        for sentinel, literal in _UNESCAPES.items():
            xml = xml.replace(sentinel, literal)
    if "\n" in xml or "\t" in xml:
        xml = _DOCXTPL.resolve_listing(xml)
    data = xml.encode("utf-8")
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        raise TemplateError(
            f"{name}: {part.label}: rendered XML is not well-formed ({_one_line(str(exc))})"
        ) from None
    if not (part.fix_tables or part.fix_docpr):
        return _XML_DECLARATION + data
    if part.fix_tables:
        root = _DOCXTPL.fix_tables(xml)
    if part.fix_docpr:
        ns = {"wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"}
        for number, element in enumerate(root.xpath("//wp:docPr", namespaces=ns), start=1001):
            element.attrib["id"] = str(number)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return out


def _generate(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """``template.render``, counting the output against the current budget as it
    is produced: literal text repeated by loops never passes the finalize hook."""
    spent = current_budget()
    pieces = []
    for piece in template.generate(context):
        if spent is not None:
            spent.emit(len(piece))
        pieces.append(piece)
    return "".join(pieces)


def render_compiled(compiled: CompiledTemplate, context: Mapping[str, Any]) -> bytes:
    """DOCX bytes of ``compiled`` rendered with ``context`` (cleaned here), within
    one budget for the whole letter (every part: body, headers, footers)."""
    cleaned = clean_context(dict(context))
    with budget():
        rendered = [(part.name, _render_part(compiled, part, cleaned)) for part in compiled.parts]
    buffer = io.BytesIO(compiled.base_zip)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a") as out:
        for part_name, data in rendered:
            out.writestr(_deterministic_info(part_name), data, compresslevel=1)
    return buffer.getvalue()


class LetterRenderer:
    """Renders letters; parsed templates are cached by path, mtime and size.

    Thread-safe: compiled Jinja templates are immutable and only read while rendering.
    """

    def __init__(self, env: jinja2.Environment | None = None) -> None:
        self._env = env if env is not None else make_environment()
        self._cache: dict[Path, tuple[tuple[int, int], CompiledTemplate]] = {}
        self._lock = threading.Lock()

    def compiled(self, template_path: str | Path) -> CompiledTemplate:
        path = Path(template_path).resolve()
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise TemplateError(f"{template_path}: template file not found") from None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._lock:
            cached = self._cache.get(path)
            if cached is None or cached[0] != key:
                cached = (key, compile_template(path, self._env))
                self._cache[path] = cached
            return cached[1]

    def render(self, template_path: str | Path, context: Mapping[str, Any]) -> bytes:
        """The letter as DOCX bytes. Raises ``TemplateError``."""
        return render_compiled(self.compiled(template_path), context)

    def variables(self, template_path: str | Path) -> frozenset[str]:
        """The variables the template uses (not counting loop variables and the like)."""
        return self.compiled(template_path).variables


# --- lint ------------------------------------------------------------------------

_JINJA_TAG = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_MARKUP_IN_TAG = re.compile(r"</?w:")
_STRAY = ("{{", "}}", "{%", "%}", "{#", "#}")


def _lint_part(path: Path, label: str, source: str, env: jinja2.Environment) -> tuple[list[str], set[str]]:
    problems: list[str] = []
    for lineno, line in enumerate(source.splitlines(), start=1):
        for match in _JINJA_TAG.finditer(line):
            if _MARKUP_IN_TAG.search(match.group(0)):
                text = _one_line(_TAG_TEXT.sub("", match.group(0)))
                problems.append(
                    f"{path.name}: {label}: {_position(lineno)}: tag split across runs or paragraphs that "
                    f"docxtpl cannot join: {text[:80]!r} (retype the tag in one go)"
                )
        text = _TAG_TEXT.sub("", _JINJA_TAG.sub("", line))
        stray = [marker for marker in _STRAY if marker in text]
        if stray:
            problems.append(
                f"{path.name}: {label}: {_position(lineno)}: stray {' '.join(stray)} (broken tag?) "
                f"in {_one_line(text)[:80]!r}"
            )
    try:
        found = meta.find_undeclared_variables(env.parse(source))
    except jinja2.TemplateSyntaxError as exc:
        where = _line_context(source, exc.lineno)
        problems.append(
            f"{path.name}: {label}: {_position(exc.lineno)}: {_one_line(exc.message or '')}{where}"
        )
        return problems, set()
    return problems, found


def lint_template(template_path: str | Path, allowed_variables: Iterable[str] | None = None) -> list[str]:
    """Problems with a template, one line each (empty if none): broken tags (Jinja
    syntax errors with line and text), tags split across runs that docxtpl cannot
    join, stray delimiters and, if ``allowed_variables`` is given, variables outside it."""
    path = Path(template_path)
    env = make_environment()
    try:
        members = _read_package(path)
        parts = _templated_parts(path, members)
    except TemplateError as exc:
        return [str(exc)]
    problems: list[str] = []
    used: dict[str, set[str]] = {}
    for name, label in parts:
        if b"{" not in members[name]:
            continue
        try:
            source = _part_source(path, members, name)
        except TemplateError as exc:
            problems.append(str(exc))
            continue
        found_problems, found = _lint_part(path, label, source, env)
        problems += found_problems
        for variable in found:
            used.setdefault(variable, set()).add(label)
    if allowed_variables is not None:
        allowed = set(allowed_variables)
        for variable in sorted(set(used) - allowed):
            where = ", ".join(sorted(used[variable]))
            problems.append(f"{path.name}: {where}: unknown variable {variable!r}")
    return problems
