"""``mailroom report tsm``: CH01 and CH02 of a year as text, JSON or CSV, each with
its numerator, denominator and the rule applied; with ``--list``, the complaint IDs
behind each figure. Pure: a ``TsmReport`` in, text or data out."""

from __future__ import annotations

import csv
import io
from typing import Any

from mailroom.reports.figures import TsmReport
from mailroom.reports.model import Period, TsmFigure

CSV_COLUMNS = ("code", "title", "stage", "value", "unit", "numerator", "denominator", "rule")
CSV_LIST_COLUMNS = ("code", "stage", "complaint_id", "counted_as")
NOT_AVAILABLE = "n/a"
# What a complaint listed behind a figure was counted as.
RECEIVED, IN_TIME, LATE = "received", "responded within timescale", "responded outside timescale"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tsm_json(report: TsmReport, with_ids: bool = False) -> dict[str, Any]:
    rules = report.rules
    return {
        "period": {
            "label": report.period.label,
            "first_day": report.period.first_day.isoformat(),
            "last_day": report.period.last_day.isoformat(),
        },
        "homes": report.homes,
        "definitions": {
            "file": rules.source,
            "id": rules.id,
            "title": rules.title,
            "sources": [
                {
                    "id": source.id,
                    "title": source.title,
                    "url": source.url,
                    "date": source.date.isoformat(),
                    "status": source.status,
                    "note": source.note,
                }
                for source in rules.sources.values()
            ],
        },
        "measures": [_measure_json(report, figure, with_ids) for figure in report.figures],
        "notes": list(report.notes),
    }


def _measure_json(report: TsmReport, figure: TsmFigure, with_ids: bool) -> dict[str, Any]:
    measure = next(m for m in report.rules.measures if m.code == figure.code)
    found: dict[str, Any] = {
        "code": figure.code,
        "title": figure.title,
        "stage": figure.stage,
        "value": figure.value,
        "unit": figure.unit,
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "rule": figure.rule,
        "verify": list(measure.verify),
    }
    if with_ids:
        found["complaints"] = list(figure.complaints)
        if measure.kind == "percent_in_time":
            found["denominator_complaints"] = list(figure.denominator_complaints)
    return found


def tsm_csv(report: TsmReport, with_ids: bool = False) -> str:
    """One row per measure; with ``with_ids``, one row per complaint behind each measure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if not with_ids:
        writer.writerow(CSV_COLUMNS)
        for figure in report.figures:
            value = NOT_AVAILABLE if figure.value is None else f"{figure.value:.{report.rules.places}f}"
            writer.writerow(
                _cell(str(v))
                for v in (
                    figure.code,
                    figure.title,
                    figure.stage,
                    value,
                    figure.unit,
                    figure.numerator,
                    figure.denominator,
                    figure.rule,
                )
            )
        return buffer.getvalue()
    writer.writerow(CSV_LIST_COLUMNS)
    for figure, complaint, counted_as in _listed(report.figures):
        writer.writerow(_cell(str(v)) for v in (figure.code, figure.stage, complaint, counted_as))
    return buffer.getvalue()


def tsm_lines(report: TsmReport, with_ids: bool = False) -> list[str]:
    """The report for a person: each measure, its figure, and the rule in words."""
    period = report.period
    homes = f"{report.homes:,}" if report.homes is not None else "not recorded"
    lines = [
        f"Tenant Satisfaction Measures {period.label} ({_day(period)}); homes: {homes}",
        f"Definitions: {report.rules.source} ({report.rules.title})",
    ]
    for figure in report.figures:
        lines += [
            "",
            f"{figure.code} {figure.title}",
            f"  {_value(report, figure)}",
            f"  Rule: {figure.rule}",
        ]
        measure = next(m for m in report.rules.measures if m.code == figure.code)
        lines += [f"  To verify: {item}" for item in measure.verify]
        if with_ids:
            lines += [f"  {complaint}  {counted_as}" for _, complaint, counted_as in _listed([figure])]
    if report.notes:
        lines.append("")
        lines += [f"Note: {note}" for note in report.notes]
    return lines


def _value(report: TsmReport, figure: TsmFigure) -> str:
    places = report.rules.places
    if figure.unit == "%":
        if figure.value is None:
            return f"{NOT_AVAILABLE}: no complaints responded to ({figure.numerator} of {figure.denominator})"
        return f"{figure.value:.{places}f}% ({figure.numerator:,} of {figure.denominator:,} within timescale)"
    if figure.value is None:
        return f"{NOT_AVAILABLE} per 1,000 homes: {figure.numerator:,} complaints, homes not recorded"
    counts = f"{figure.numerator:,} complaints, {figure.denominator:,} homes"
    return f"{figure.value:.{places}f} per 1,000 homes ({counts})"


def _listed(figures: list[TsmFigure]) -> list[tuple[TsmFigure, str, str]]:
    """Each complaint behind each figure, with what it was counted as."""
    rows: list[tuple[TsmFigure, str, str]] = []
    for figure in figures:
        if figure.unit == "%":
            in_time = set(figure.complaints)
            rows += [(figure, c, IN_TIME if c in in_time else LATE) for c in figure.denominator_complaints]
        else:
            rows += [(figure, c, RECEIVED) for c in figure.complaints]
    return rows


def _day(period: Period) -> str:
    first, last = period.first_day, period.last_day
    return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text (CSV injection: nothing starts a formula)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value
