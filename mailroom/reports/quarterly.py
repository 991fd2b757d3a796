"""The quarterly report for the Member Responsible for Complaints (Code section 9):
volumes, timeliness, themes, outcomes, and the Ombudsman's determinations with order
compliance (``mailroom report quarterly``). The same figures, context and charts as
the annual report, in ``report_templates/quarterly.docx``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from mailroom.reports.model import PeriodFigures

if TYPE_CHECKING:
    from mailroom.config import Settings

__all__ = ["QUARTERLY_TEMPLATE", "write_quarterly"]

QUARTERLY_TEMPLATE = "quarterly.docx"


def write_quarterly(
    settings: Settings,
    figures: PeriodFigures,
    out: Path,
    *,
    produced_on: date,
    template: Path | None = None,
) -> Path:
    """Write the quarter's report to ``out`` (``.docx`` or ``.pdf``). Raises ``ReportError``."""
    from mailroom.reports.charts import monthly_volumes_chart, timeliness_chart
    from mailroom.reports.report_context import report_context
    from mailroom.reports.report_docx import REPORT_TEMPLATES, render_report, write_document
    from mailroom.reports.report_facts import report_facts

    facts = report_facts(settings, produced_on)
    charts = [monthly_volumes_chart(figures), timeliness_chart(figures, facts.limits)]
    docx = render_report(
        template or REPORT_TEMPLATES / QUARTERLY_TEMPLATE, report_context(figures, facts), charts
    )
    return write_document(docx, out)
