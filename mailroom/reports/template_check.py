"""Check a report template, typically a landlord's restyled copy, before a report is
made with it: broken or split tags and variables no report supplies (the letters'
lint, ``lint_template``), then a trial render with sample figures that have one of
everything, so that a misspelt ``{{ row.cuont }}`` inside a table row is found too."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mailroom.reports.model import (
    ClockTimeliness,
    Count,
    Learning,
    MonthVolumes,
    OmbudsmanDetermination,
    Period,
    PeriodFigures,
    TsmFigure,
)
from mailroom.reports.report_context import ReportFacts, report_context

__all__ = ["KINDS", "report_template_problems", "sample_figures"]

# The kind of report -> its bundled template (report_templates/).
KINDS = {
    "annual": "annual-report.docx",
    "quarterly": "quarterly.docx",
    "self-assessment": "self-assessment.docx",
}
_SAMPLE_FACTS = ReportFacts("Sample Housing", date(2027, 4, 20), {"stage1_acknowledgement": 5})


def sample_figures() -> PeriodFigures:
    """Figures with at least one item in every list, so every loop of a template runs."""
    return PeriodFigures(
        period=Period("2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        homes=1_000,
        received={1: 12, 2: 2},
        by_month=[MonthVolumes("2026-04", 12, 2)],
        by_category=[Count("Repairs", 12)],
        timeliness=[ClockTimeliness("stage1_acknowledgement", "6.2", "Acknowledge", 12, 11, 2.0, 4.0)],
        extensions=[Count("Complexity", 1)],
        outcomes={1: [Count("Upheld", 5)], 2: [Count("Not upheld", 1)]},
        refused_by_exclusion=[Count("Over 12 months", 1)],
        escalations_refused_by_exclusion=[Count("Previously considered", 1)],
        remedies=3,
        remedies_completed=2,
        remedies_completed_in_time=2,
        compensation_pence=10_000,
        ombudsman=[OmbudsmanDetermination("HC-2026-00001", date(2026, 9, 1), "service failure", 1, 1, 5_000)],
        learning=[Learning("HC-2026-00002", "Sample learning")],
        tsm=[
            TsmFigure(
                "CH01(1)", "Stage 1 per 1,000 homes", 1, 12.0, 12, 1_000, "per 1,000 homes", "Sample rule"
            )
        ],
        notes=["Sample note"],
    )


def report_template_problems(path: Path, kind: str) -> list[str]:
    """One line per problem with ``path`` as a template for ``kind`` (a key of
    ``KINDS``); empty when it is fit to use."""
    from mailroom.letters.render import lint_template
    from mailroom.reports.charts import all_charts
    from mailroom.reports.report_docx import ReportError, render_report
    from mailroom.reports.self_assessment import load_provisions, self_assessment_context

    if kind not in KINDS:
        return [f"{kind!r} is not a kind of report (one of {', '.join(KINDS)})"]
    figures = sample_figures()
    if kind == "self-assessment":
        context = self_assessment_context(figures, _SAMPLE_FACTS, load_provisions())
        charts = []
    else:
        context = report_context(figures, _SAMPLE_FACTS)
        charts = all_charts(figures, _SAMPLE_FACTS.limits)
    allowed = set(context) | ({"charts"} if charts else set())
    problems = lint_template(path, allowed)
    if problems:
        return problems
    try:
        render_report(path, context, charts)
    except ReportError as exc:
        return [str(exc)]
    return []
