"""The annual complaints performance and service improvement report (Code 8.1), with
the governing body's response left to complete (8.2): ``mailroom report annual``.

Made from ``report_templates/annual-report.docx`` (or a landlord's restyled copy)
with every figure of the year (``report_context``) and four charts with alt text
(``charts``); written as DOCX, or PDF through LibreOffice."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from mailroom.reports.model import PeriodFigures

if TYPE_CHECKING:
    from mailroom.config import Settings

__all__ = ["ANNUAL_TEMPLATE", "write_annual"]

ANNUAL_TEMPLATE = "annual-report.docx"


def write_annual(
    settings: Settings,
    figures: PeriodFigures,
    out: Path,
    *,
    produced_on: date,
    template: Path | None = None,
) -> Path:
    """Write the annual report for ``figures`` to ``out`` (``.docx`` or ``.pdf``);
    ``template``: a restyled copy of the bundled template. Raises ``ReportError``."""
    from mailroom.reports.charts import all_charts
    from mailroom.reports.report_context import report_context
    from mailroom.reports.report_docx import REPORT_TEMPLATES, render_report, write_document
    from mailroom.reports.report_facts import report_facts

    facts = report_facts(settings, produced_on)
    docx = render_report(
        template or REPORT_TEMPLATES / ANNUAL_TEMPLATE,
        report_context(figures, facts),
        all_charts(figures, facts.limits),
    )
    return write_document(docx, out)
