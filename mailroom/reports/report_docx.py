"""Render a report template (report_templates/*.docx) into a DOCX, or a PDF through
LibreOffice, with its charts as images that carry alt text.

docxtpl renders the template, as it does letters, in the letters' sandbox
(``mailroom/letters/render.py``: ``make_environment`` is a ``SandboxedEnvironment``
with autoescape, ``StrictUndefined`` and a time and size budget), with every string of
the context cleaned of XML-illegal characters and bidi controls first
(``clean_context``): a template is a file a landlord edits, and the figures carry text
from cases (categories, learning) that must print literally. The letters' fast
renderer is not used here because it cannot place images; a report is made once.

Alt text: docxtpl's ``InlineImage`` leaves the picture's ``wp:docPr`` without a
description, so ``_ChartImage`` sets ``descr`` (the chart's data in words) and
``title`` on it as it is inserted. Word shows them as the picture's alt text,
LibreOffice carries them into the tagged PDF, and screen readers read them.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailroom.errors import UserError
from mailroom.rule_pack_source import BUNDLED_RULE_PACK

if TYPE_CHECKING:
    from docx.shared import Length

    from mailroom.reports.charts import Chart

__all__ = [
    "CHART_WIDTH_CM",
    "REPORT_TEMPLATES",
    "ReportError",
    "render_report",
    "replace_atomically",
    "write_document",
]

REPORT_TEMPLATES = BUNDLED_RULE_PACK.parents[1] / "report_templates"
CHART_WIDTH_CM = 16.0  # the text width of an A4 page with 2 cm margins, less a little
RENDER_SECONDS = 60.0  # the sandbox's budget: a report is longer than a letter


class ReportError(UserError):
    """A report cannot be made (template, output path or conversion). One line."""


def _read_template(template: Path) -> bytes:
    """The template file, refused if it is not a zip or its members inflate beyond
    the letters' cap, before docxtpl (python-docx) inflates all of it in memory."""
    from mailroom.letters.zip_limits import ReadBudget, TooLarge

    budget = ReadBudget()
    try:
        data = template.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                budget.read(archive, info)
        return data
    except FileNotFoundError:
        raise ReportError(f"{template}: template file not found") from None
    except TooLarge as exc:
        raise ReportError(f"{template.name}: too large: {exc}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReportError(f"{template.name}: not a DOCX file ({' '.join(str(exc).split())})") from None


def _chart_image_class() -> type:
    from docxtpl import InlineImage

    from mailroom.letters.render import clean_text

    class _ChartImage(InlineImage):  # type: ignore[misc]
        """docxtpl's ``InlineImage``, with the chart's alt text and title on the picture."""

        def __init__(self, tpl: Any, chart: Chart, width: Length) -> None:
            super().__init__(tpl, io.BytesIO(chart.png), width=width)
            self.chart = chart

        def _insert_image(self) -> str:
            # A fresh stream each time: a template may show the same chart twice.
            inline = self.tpl.current_rendering_part.new_pic_inline(
                io.BytesIO(self.chart.png), self.width, None
            )
            inline.docPr.set("descr", clean_text(self.chart.alt_text))
            inline.docPr.set("title", clean_text(self.chart.title))
            return (
                f'</w:t></w:r><w:r><w:drawing>{inline.xml}</w:drawing></w:r><w:r><w:t xml:space="preserve">'
            )

    return _ChartImage


def render_report(template: Path, context: Mapping[str, Any], charts: Sequence[Chart] = ()) -> bytes:
    """The DOCX bytes of ``template`` rendered with ``context`` (cleaned here) and the
    charts as ``charts.<key>``. Raises ``ReportError`` (one line)."""
    import jinja2
    from docx.shared import Cm
    from docxtpl import DocxTemplate

    from mailroom.letters.render import clean_context, make_environment
    from mailroom.letters.sandbox import budget

    document = DocxTemplate(io.BytesIO(_read_template(template)))
    try:
        document.init_docx()
    except Exception as exc:  # python-docx raises several types for a zip that is not Word's
        raise ReportError(f"{template.name}: not a DOCX file ({type(exc).__name__})") from None
    image = _chart_image_class()
    full = dict(clean_context(dict(context)))
    full["charts"] = {chart.key: image(document, chart, Cm(CHART_WIDTH_CM)) for chart in charts}
    try:
        with budget(RENDER_SECONDS):
            document.render(full, jinja_env=make_environment())
    except jinja2.TemplateError as exc:
        message = " ".join((exc.message or str(exc)).split())
        raise ReportError(f"{template.name}: {type(exc).__name__}: {message}") from None
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def replace_atomically(data: bytes, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(name, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_document(docx: bytes, out: Path) -> Path:
    """Write the rendered report to ``out``: as it is for ``.docx``, converted by
    LibreOffice for ``.pdf``. The file appears whole or not at all."""
    suffix = out.suffix.lower()
    if suffix == ".docx":
        replace_atomically(docx, out)
        return out
    if suffix != ".pdf":
        raise ReportError(f"{out}: the report is written as .docx or .pdf, not {out.suffix or 'no suffix'}")
    from mailroom.letters.pdf import PdfError, convert_to_pdf

    with tempfile.TemporaryDirectory(prefix="mailroom-report-") as work:
        source = Path(work) / f"{out.stem}.docx"
        source.write_bytes(docx)
        try:
            pdf = convert_to_pdf(source, Path(work) / "pdf")
        except PdfError as exc:
            raise ReportError(f"{out.name}: {exc}") from None
        replace_atomically(pdf.read_bytes(), out)
    return out
