"""The Code self-assessment (Code 8.1a) in the Ombudsman's form layout: one row per
Code provision, with "comply yes/no", evidence, commentary and actions.

The provisions are data (``rules/self-assessment-2024.toml``). Those mailroom can
evidence carry a ``figure``: their evidence cell is filled in from the period's
figures, saying the figure and how it was counted, e.g. for 6.2 "Acknowledged,
defined and logged within 5 working days: 97.8% (1,234 of 1,262). ...". Every
other cell, and "comply" on every row, is left empty for a person: a figure is
evidence, not a verdict.

Written as DOCX (``report_templates/self-assessment.docx``) or CSV (one row per
provision, for a spreadsheet or the Ombudsman's online form)."""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailroom.errors import UserError
from mailroom.reports.model import ClockTimeliness, Count, PeriodFigures, Ratio
from mailroom.reports.report_context import (
    ReportFacts,
    count_text,
    days_text,
    limit_text,
    ratio_text,
    uk_date,
)
from mailroom.rule_pack_source import BUNDLED_RULE_PACK

if TYPE_CHECKING:
    from mailroom.config import Settings

__all__ = [
    "BUNDLED_PROVISIONS",
    "CSV_COLUMNS",
    "AssessmentRow",
    "Provision",
    "ProvisionError",
    "ProvisionList",
    "assessment_csv",
    "assessment_rows",
    "load_provisions",
    "self_assessment_context",
    "write_self_assessment",
]

BUNDLED_PROVISIONS = BUNDLED_RULE_PACK.parent / "self-assessment-2024.toml"
FIGURES = ("extensions", "remedies", "refused_by_exclusion", "learning")
TIMELINESS = "timeliness."
MAX_REASONS = 10  # reasons listed in one evidence cell; the rest are summed
CSV_COLUMNS = (
    "Code section",
    "Provision",
    "Code requirement",
    "Comply (yes/no)",
    "Evidence",
    "Commentary / explanation",
    "Actions and timescales",
    "Figure",
)


@dataclass(frozen=True)
class Provision:
    id: str  # "6.2"
    section: str  # the number of its section ("6a")
    requirement: str
    figure: str = ""  # "timeliness.stage1_acknowledgement", "extensions", ...; "" for a person
    measure: str = ""  # what a timeliness figure timed, with {limit}


@dataclass(frozen=True)
class ProvisionList:
    source: str
    sections: Mapping[str, str]  # number -> title, in the Code's order
    provisions: tuple[Provision, ...]


@dataclass(frozen=True)
class AssessmentRow:
    section: str  # "6a Complaint stages: stage 1"
    provision: str
    requirement: str
    comply: str
    evidence: str
    commentary: str
    actions: str
    figure: str


class ProvisionError(UserError):
    """The provisions file is not as described in its header. One line naming the key."""


# -- the provisions file -----------------------------------------------------------------


def _text(source: str, where: str, body: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProvisionError(f"{source}: {where}.{key}: must be {'non-empty ' if required else ''}text")
    return value.strip()


def parse_provisions(text: str, source: str) -> ProvisionList:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisionError(f"{source}: not valid TOML: {exc}") from None
    sections: dict[str, str] = {}
    for index, body in enumerate(data.get("sections", [])):
        where = f"sections[{index}]"
        sections[_text(source, where, body, "number")] = _text(source, where, body, "title")
    provisions = []
    for index, body in enumerate(data.get("provisions", [])):
        where = f"provisions[{index}]"
        provision = Provision(
            id=_text(source, where, body, "id"),
            section=_text(source, where, body, "section"),
            requirement=_text(source, where, body, "requirement"),
            figure=_text(source, where, body, "figure", required=False),
            measure=_text(source, where, body, "measure", required=False),
        )
        if provision.section not in sections:
            raise ProvisionError(f"{source}: {where}.section: {provision.section!r} is not in [[sections]]")
        if provision.figure and not (provision.figure in FIGURES or provision.figure.startswith(TIMELINESS)):
            known = ", ".join((*FIGURES, "timeliness.<clock>"))
            raise ProvisionError(f"{source}: {where}.figure: {provision.figure!r} is not one of {known}")
        if provision.figure.startswith(TIMELINESS) and not provision.measure:
            raise ProvisionError(f"{source}: {where}.measure: a timeliness figure says what it timed")
        provisions.append(provision)
    ids = [p.id for p in provisions]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ProvisionError(f"{source}: provision {twice[0]} is listed twice")
    return ProvisionList(source, sections, tuple(provisions))


def load_provisions(path: Path = BUNDLED_PROVISIONS) -> ProvisionList:
    return parse_provisions(path.read_text(encoding="utf-8"), str(path))


# -- evidence from the figures (pure) ------------------------------------------------------


def _span(figures: PeriodFigures) -> str:
    period = figures.period
    return f"from {uk_date(period.first_day)} to {uk_date(period.last_day)}"


def _reasons(rows: Sequence[Count]) -> str:
    ordered = sorted(rows, key=lambda row: -row.count)
    shown = [f"{row.label} {count_text(row.count)}" for row in ordered[:MAX_REASONS]]
    rest = ordered[MAX_REASONS:]
    if rest:
        shown.append(f"{len(rest)} other reasons {count_text(sum(row.count for row in rest))}")
    return "; ".join(shown)


def _plural(number: int, noun: str) -> str:
    return f"{count_text(number)} {noun}{'' if number == 1 else 's'}"


def _total(rows: Sequence[Count]) -> int:
    return sum(row.count for row in rows)


def _timeliness(row: ClockTimeliness, measure: str, figures: PeriodFigures, facts: ReportFacts) -> str:
    what = measure.replace("{limit}", limit_text(row.clock, facts.limits))
    return (
        f"{what}: {ratio_text(row.in_time_ratio)}. Median {days_text(row.median_working_days)}, "
        f"90th percentile {days_text(row.p90_working_days)} working days. Counted by mailroom from the "
        f"Code clock {row.clock} ({row.paragraph}) of every complaint whose clock stopped "
        f"{_span(figures)}."
    )


def _extensions(figures: PeriodFigures) -> str:
    total = _total(figures.extensions)
    reasons = f" Reasons: {_reasons(figures.extensions)}." if total else ""
    return (
        f"Extensions agreed, both stages: {count_text(total)}.{reasons} Counted by mailroom from the "
        f"extensions recorded on cases {_span(figures)}."
    )


def _remedies(figures: PeriodFigures) -> str:
    ratio = Ratio(figures.remedies_completed_in_time, figures.remedies_completed)
    return (
        f"Remedies completed by the date promised: {ratio_text(ratio)}; remedies promised in the period: "
        f"{count_text(figures.remedies)}. Counted by mailroom from the remedy clocks (7.3) on cases "
        f"{_span(figures)}."
    )


def _refused(figures: PeriodFigures) -> str:
    refused, escalations = figures.refused_by_exclusion, figures.escalations_refused_by_exclusion
    parts = [f"Complaints not accepted: {count_text(_total(refused))}"]
    if refused:
        parts[0] += f" ({_reasons(refused)})"
    parts.append(f"escalations to stage 2 refused: {count_text(_total(escalations))}")
    if escalations:
        parts[1] += f" ({_reasons(escalations)})"
    return (
        f"{'; '.join(parts)}. Counted by mailroom from the refusals recorded on cases, by the exclusion "
        f"they rested on, {_span(figures)}."
    )


def _learning(figures: PeriodFigures) -> str:
    cases = len({item.complaint_id for item in figures.learning})
    return (
        f"Learning recorded: {_plural(len(figures.learning), 'item')} on {_plural(cases, 'complaint')}. "
        f"Counted by mailroom from the learning recorded on cases {_span(figures)}."
    )


def evidence(provision: Provision, figures: PeriodFigures, facts: ReportFacts) -> str:
    """The evidence mailroom gives for ``provision``: "" when it has none (the figure
    is not one it has, or the clock is not among the period's figures)."""
    figure = provision.figure
    if figure.startswith(TIMELINESS):
        clock = figure.removeprefix(TIMELINESS)
        row = next((row for row in figures.timeliness if row.clock == clock), None)
        return "" if row is None else _timeliness(row, provision.measure, figures, facts)
    if figure == "extensions":
        return _extensions(figures)
    if figure == "remedies":
        return _remedies(figures)
    if figure == "refused_by_exclusion":
        return _refused(figures)
    if figure == "learning":
        return _learning(figures)
    return ""


def _section_title(number: str, title: str) -> str:
    """ "6. Complaint stages: stage 1": the Code's number (the file splits section 6
    into "6a" and "6b", as the Code heads its stages)."""
    return f"{number.rstrip('ab')}. {title}"


def assessment_rows(
    figures: PeriodFigures, facts: ReportFacts, provisions: ProvisionList
) -> list[AssessmentRow]:
    return [
        AssessmentRow(
            section=_section_title(provision.section, provisions.sections[provision.section]),
            provision=provision.id,
            requirement=provision.requirement,
            comply="",
            evidence=evidence(provision, figures, facts),
            commentary="",
            actions="",
            figure=provision.figure,
        )
        for provision in provisions.provisions
    ]


def self_assessment_context(
    figures: PeriodFigures, facts: ReportFacts, provisions: ProvisionList
) -> dict[str, Any]:
    rows = assessment_rows(figures, facts, provisions)
    sections = []
    for number, title in provisions.sections.items():
        mine = [
            row
            for row, provision in zip(rows, provisions.provisions, strict=True)
            if provision.section == number
        ]
        if mine:
            sections.append(
                {
                    "title": _section_title(number, title),
                    "provisions": [
                        {
                            "id": row.provision,
                            "requirement": row.requirement,
                            "comply": row.comply,
                            "evidence": row.evidence,
                            "commentary": row.commentary,
                            "actions": row.actions,
                        }
                        for row in mine
                    ],
                }
            )
    period = figures.period
    return {
        "landlord": facts.landlord,
        "produced_on": uk_date(facts.produced_on),
        "period": {
            "label": period.label,
            "first_day": uk_date(period.first_day),
            "last_day": uk_date(period.last_day),
        },
        "sections": sections,
    }


# -- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading
    apostrophe (CSV injection: a label could be "=HYPERLINK(...)")."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def assessment_csv(rows: Sequence[AssessmentRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row.section,
                    row.provision,
                    row.requirement,
                    row.comply,
                    row.evidence,
                    row.commentary,
                    row.actions,
                    row.figure,
                )
            ]
        )
    return buffer.getvalue()


# -- writing ----------------------------------------------------------------------------------


def write_self_assessment(
    settings: Settings,
    figures: PeriodFigures,
    out: Path,
    *,
    produced_on: date,
    template: Path | None = None,
    provisions: ProvisionList | None = None,
) -> Path:
    """The self-assessment as ``out``: ``.docx`` (or ``.pdf``) from the template, or
    ``.csv`` (UTF-8 with a byte order mark, so that Excel reads "£" and accents)."""
    from mailroom.reports.report_docx import REPORT_TEMPLATES, ReportError, render_report, write_document
    from mailroom.reports.report_facts import report_facts

    facts = report_facts(settings, produced_on)
    listed = provisions or load_provisions()
    suffix = out.suffix.lower()
    if suffix == ".csv":
        from mailroom.reports.report_docx import replace_atomically

        data = assessment_csv(assessment_rows(figures, facts, listed)).encode("utf-8-sig")
        replace_atomically(data, out)
        return out
    if suffix not in (".docx", ".pdf"):
        given = out.suffix or "no suffix"
        raise ReportError(f"{out}: the self-assessment is written as .docx, .pdf or .csv, not {given}")
    context = self_assessment_context(figures, facts, listed)
    docx = render_report(template or REPORT_TEMPLATES / "self-assessment.docx", context)
    return write_document(docx, out)
