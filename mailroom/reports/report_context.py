"""The figures of a period as the text a report prints: "1,234", "97.8%",
"97.8% (1,234 of 1,262)", "£1,250.00", "1 April 2026". Pure: no store, no document
library. The annual report, the quarterly report and the self-assessment all take
their numbers from here, so a figure reads the same in every document (and in the
charts' alt text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mailroom.reports.model import ClockTimeliness, Count, PeriodFigures, Ratio, TsmFigure

NOT_AVAILABLE = "n/a"

__all__ = [
    "NOT_AVAILABLE",
    "ReportFacts",
    "count_text",
    "days_text",
    "limit_text",
    "money_text",
    "month_text",
    "percent_text",
    "ratio_text",
    "report_context",
    "stage_text",
    "tsm_value_text",
    "uk_date",
]


# -- single values -----------------------------------------------------------------------


def count_text(value: int) -> str:
    """1234 -> "1,234"."""
    return f"{value:,}"


def percent_text(ratio: Ratio) -> str:
    """ "97.8%"; "n/a" with nothing to divide by (0 of 0 is no percentage at all)."""
    value = ratio.percent(1)
    return NOT_AVAILABLE if value is None else f"{value:.1f}%"


def ratio_text(ratio: Ratio) -> str:
    """ "97.8% (1,234 of 1,262)"; "none in the period (0 of 0)" with no denominator."""
    counts = f"{count_text(ratio.numerator)} of {count_text(ratio.denominator)}"
    if ratio.denominator == 0:
        return f"none in the period ({counts})"
    return f"{percent_text(ratio)} ({counts})"


def days_text(value: float | None) -> str:
    """Working days to one decimal place, without a trailing ".0": 4, 4.5, 8.2."""
    if value is None:
        return NOT_AVAILABLE
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def money_text(pence: int) -> str:
    """12345 -> "£123.45" (an amount of compensation, always with the pence)."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def uk_date(day: date) -> str:
    """ "1 April 2026"."""
    return f"{day.day} {day:%B %Y}"


def month_text(month: str) -> str:
    """ "2026-04" -> "April 2026"; anything else is printed as given."""
    try:
        year, number = (int(part) for part in month.split("-", 1))
        return f"{date(year, number, 1):%B %Y}"
    except ValueError:
        return month


def stage_text(stage: int) -> str:
    return f"Stage {stage}"


def limit_text(clock: str, limits: Mapping[str, int]) -> str:
    """The clock's limit as the report states it: "5 working days"; a clock whose
    due date is set case by case (a remedy, an outstanding action) is "date promised"."""
    days = limits.get(clock, 0)
    if days <= 0:
        return "date promised"
    return f"{days} working day" if days == 1 else f"{days} working days"


def tsm_value_text(figure: TsmFigure) -> str:
    """CH01 "12.3 per 1,000 homes"; CH02 "87.5%"; "n/a" when it cannot be computed."""
    if figure.value is None:
        return NOT_AVAILABLE
    if figure.unit == "%":
        return f"{figure.value:.1f}%"
    return f"{figure.value:,.1f} {figure.unit}"


# -- the context -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFacts:
    """What a report says besides the figures: whose it is, when it was made, and the
    working-day limit of each clock in force (the rule pack's, ``ClockRule.working_days``)."""

    landlord: str
    produced_on: date
    limits: Mapping[str, int] = field(default_factory=dict)


def _counts(rows: Sequence[Count], total: int | None = None) -> list[dict[str, str]]:
    """Label, count and share of the total (the rows' own sum unless given)."""
    whole = sum(row.count for row in rows) if total is None else total
    return [
        {"label": row.label, "count": count_text(row.count), "share": percent_text(Ratio(row.count, whole))}
        for row in rows
    ]


def _timeliness_row(row: ClockTimeliness, limits: Mapping[str, int]) -> dict[str, str]:
    return {
        "paragraph": row.paragraph,
        "title": row.title,
        "limit": limit_text(row.clock, limits),
        "count": count_text(row.count),
        "in_time": count_text(row.in_time),
        "percent": percent_text(row.in_time_ratio),
        "median": days_text(row.median_working_days),
        "p90": days_text(row.p90_working_days),
    }


def _tsm_row(figure: TsmFigure) -> dict[str, str]:
    return {
        "code": figure.code,
        "title": figure.title,
        "value": tsm_value_text(figure),
        "numerator": count_text(figure.numerator),
        "denominator": count_text(figure.denominator),
        "rule": figure.rule,
    }


def _ombudsman(figures: PeriodFigures) -> dict[str, Any]:
    determinations = sorted(figures.ombudsman, key=lambda d: (d.determined_on, d.complaint_id))
    orders = sum(d.orders for d in determinations)
    complied = sum(d.orders_complied_in_time for d in determinations)
    findings: dict[str, int] = {}
    for item in determinations:
        findings[item.finding] = findings.get(item.finding, 0) + 1
    return {
        "ombudsman": [
            {
                "complaint_id": item.complaint_id,
                "determined_on": uk_date(item.determined_on),
                "finding": item.finding,
                "orders": count_text(item.orders),
                "complied": count_text(item.orders_complied_in_time),
                "compensation": money_text(item.compensation_pence),
            }
            for item in determinations
        ],
        "ombudsman_findings": _counts(
            [Count(label, count) for label, count in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0]))]
        ),
        "ombudsman_total": count_text(len(determinations)),
        "orders_total": count_text(orders),
        "orders_complied": ratio_text(Ratio(complied, orders)),
        "ombudsman_compensation": money_text(sum(d.compensation_pence for d in determinations)),
    }


def report_context(figures: PeriodFigures, facts: ReportFacts) -> dict[str, Any]:
    """Every figure of ``figures`` as template variables (all text, formatted once here).
    The lists keep the figures' order, except the Ombudsman's determinations (by date)."""
    period = figures.period
    received_total = sum(figures.received.values())
    refused_total = sum(row.count for row in figures.refused_by_exclusion)
    context: dict[str, Any] = {
        "landlord": facts.landlord,
        "produced_on": uk_date(facts.produced_on),
        "period": {
            "label": period.label,
            "first_day": uk_date(period.first_day),
            "last_day": uk_date(period.last_day),
        },
        "homes": NOT_AVAILABLE if figures.homes is None else count_text(figures.homes),
        "received": [
            {"stage": stage_text(stage), "count": count_text(count)}
            for stage, count in sorted(figures.received.items())
        ],
        "received_total": count_text(received_total),
        "months": [
            {
                "month": month_text(row.month),
                "stage1": count_text(row.stage1),
                "stage2": count_text(row.stage2),
                "total": count_text(row.stage1 + row.stage2),
            }
            for row in figures.by_month
        ],
        "categories": _counts(figures.by_category),
        "timeliness": [_timeliness_row(row, facts.limits) for row in figures.timeliness],
        "extensions": _counts(figures.extensions),
        "extensions_total": count_text(sum(row.count for row in figures.extensions)),
        "outcomes": [
            {"stage": stage_text(stage), **row}
            for stage, rows in sorted(figures.outcomes.items())
            for row in _counts(rows)
        ],
        "refused": _counts(figures.refused_by_exclusion),
        "refused_total": count_text(refused_total),
        "escalations_refused": _counts(figures.escalations_refused_by_exclusion),
        "escalations_refused_total": count_text(
            sum(row.count for row in figures.escalations_refused_by_exclusion)
        ),
        "remedies": count_text(figures.remedies),
        "remedies_completed": count_text(figures.remedies_completed),
        "remedies_in_time": ratio_text(Ratio(figures.remedies_completed_in_time, figures.remedies_completed)),
        "compensation": money_text(figures.compensation_pence),
        "learning": [{"complaint_id": item.complaint_id, "text": item.text} for item in figures.learning],
        "learning_total": count_text(len(figures.learning)),
        "tsm": [_tsm_row(figure) for figure in figures.tsm],
        "notes": list(figures.notes),
    }
    context.update(_ombudsman(figures))
    return context
