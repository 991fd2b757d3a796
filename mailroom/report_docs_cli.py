"""`mailroom report annual`, `report self-assessment`, `report quarterly` and
`report check-template`: the report documents (docs/reports.md). The lead registers
``report_annual``, ``report_self_assessment``, ``report_quarterly`` and
``report_check_template`` on the `report` group in ``mailroom/cli.py``. Like every
command module, only typer is imported here; the figures, the documents and
matplotlib inside the commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli_common import ConfigOption, command_services, out
from mailroom.errors import IntakeError

if TYPE_CHECKING:
    from datetime import date

    from mailroom.reports.model import Period, PeriodFigures
    from mailroom.services import Services

YearOption = Annotated[
    str, typer.Option("--year", help="The financial year, e.g. 2026-27 (1 April to 31 March).")
]
TemplateOption = Annotated[
    Path | None,
    typer.Option(
        "--template",
        help="A restyled copy of the bundled template (report_templates/); default: the bundled one.",
    ),
]


def _year(year: str) -> Period:
    from mailroom.reports.periods import parse_period

    period = parse_period(year)
    if " " in period.label:
        raise IntakeError(f"--year {year.strip()[:40]!r}: give a financial year like 2026-27, not a quarter")
    return period


def _figures(services: Services, period: Period) -> tuple[PeriodFigures, date]:
    from mailroom.clock import LONDON
    from mailroom.reports.figures import period_figures

    produced_on = services.clock.now().astimezone(LONDON).date()
    return period_figures(services, period), produced_on


def report_annual(
    year: YearOption,
    out_path: Annotated[Path, typer.Option("--out", help="The report file: .docx, or .pdf (LibreOffice).")],
    template: TemplateOption = None,
    config: ConfigOption = None,
) -> None:
    """The annual complaints performance and service improvement report (Code 8.1):
    volumes, timeliness, extensions, outcomes, refusals, remedies, Ombudsman
    determinations, learning, CH01/CH02 and four charts, with marked gaps for the
    narrative and the governing body's response."""
    from mailroom.reports.annual import write_annual

    period = _year(year)
    with command_services(config) as services:
        figures, produced_on = _figures(services, period)
        written = write_annual(
            services.settings, figures, out_path, produced_on=produced_on, template=template
        )
    out().print(f"annual report {period.label}: {written}")


def report_self_assessment(
    year: YearOption,
    out_path: Annotated[
        Path, typer.Option("--out", help="The self-assessment file: .docx, .csv, or .pdf (LibreOffice).")
    ],
    template: TemplateOption = None,
    config: ConfigOption = None,
) -> None:
    """The Code self-assessment in the Ombudsman's form layout: each provision with
    comply yes/no, evidence, commentary and actions; the provisions mailroom can
    evidence are filled in with the year's figure and how it was counted."""
    from mailroom.reports.self_assessment import write_self_assessment

    period = _year(year)
    with command_services(config) as services:
        figures, produced_on = _figures(services, period)
        written = write_self_assessment(
            services.settings, figures, out_path, produced_on=produced_on, template=template
        )
    out().print(f"self-assessment {period.label}: {written}")


def report_quarterly(
    quarter: Annotated[
        str, typer.Option("--quarter", help="The quarter, e.g. '2026-27 Q1' (April to June).")
    ],
    out_path: Annotated[Path, typer.Option("--out", help="The report file: .docx, or .pdf (LibreOffice).")],
    template: TemplateOption = None,
    config: ConfigOption = None,
) -> None:
    """The quarterly report for the Member Responsible for Complaints (Code section 9):
    volumes, timeliness, themes, outcomes, Ombudsman outcomes and order compliance."""
    from mailroom.reports.periods import parse_period
    from mailroom.reports.quarterly import write_quarterly

    period = parse_period(quarter)
    if " " not in period.label:
        raise IntakeError(f"--quarter {quarter.strip()[:40]!r}: give a quarter like '2026-27 Q1'")
    with command_services(config) as services:
        figures, produced_on = _figures(services, period)
        written = write_quarterly(
            services.settings, figures, out_path, produced_on=produced_on, template=template
        )
    out().print(f"quarterly report {period.label}: {written}")


class ReportKind(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    SELF_ASSESSMENT = "self-assessment"


def report_check_template(
    path: Annotated[Path, typer.Argument(help="The template to check, e.g. a restyled copy.")],
    kind: Annotated[ReportKind, typer.Option("--kind", help="The report it is a template for.")],
) -> None:
    """Check a report template before using it with --template: broken or split tags,
    names no report supplies, then a trial render with sample figures. Exit 1 on any problem."""
    from mailroom.reports.template_check import report_template_problems

    problems = report_template_problems(path, kind.value)
    for problem in problems:
        out().print(problem, soft_wrap=True)
    if problems:
        out().print(f"{len(problems)} problem(s) in {path.name}")
        raise typer.Exit(1)
    out().print(f"{path.name}: no problems as a template for the {kind.value} report")
