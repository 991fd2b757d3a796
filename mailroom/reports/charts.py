"""The report charts, drawn with matplotlib into PNG bytes, each with alt text that
states its data in words (a screen reader user gets the chart's content, not "a
chart"). Four charts: complaints received per month by stage, timeliness of each
Code clock against the Code's target, complaints by category, outcomes by stage.

Deterministic: the same figures give the same PNG bytes (a fixed style from
matplotlib's defaults, whatever the user's matplotlibrc; the bundled DejaVu font;
a fixed size and dpi; no "Software" or date in the PNG metadata), so a report made
twice is the same document.

Accessible: colours from the Okabe-Ito colour-blind-safe palette that have at least
3:1 contrast against white (WCAG 1.4.11), black edges, stage 2 hatched as well as
coloured, and every bar labelled with its number, so nothing is told by colour alone.

Text is data: labels (categories, outcomes) are printed literally (``$`` is not
mathtext), control characters dropped, and long labels shortened on the chart (the
alt text and the report's tables give them in full). matplotlib is imported here
only, inside the functions: importing it costs a third of a second.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailroom.reports.model import Count, MonthVolumes, PeriodFigures, Ratio
from mailroom.reports.report_context import (
    count_text,
    limit_text,
    month_text,
    percent_text,
    ratio_text,
    stage_text,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAX_BARS",
    "Chart",
    "all_charts",
    "categories_chart",
    "monthly_volumes_chart",
    "outcomes_chart",
    "timeliness_chart",
]

DPI = 150
WIDTH_INCHES = 8.0
BLUE = "#0072B2"  # 5.1:1 against white
VERMILLION = "#D55E00"  # 3.8:1 against white
STAGE_STYLE = {1: (BLUE, ""), 2: (VERMILLION, "///")}
MAX_BARS = 12  # categories and outcomes beyond these are summed into "Other"
MAX_LABEL_CHARS = 40  # on the chart; tables and alt text give the label in full
MAX_ALT_LABEL_CHARS = 120

_STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 10,
    "text.parse_math": False,  # "$5 refund" is text, not mathtext
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.edgecolor": "black",
    "axes.labelcolor": "black",
    "xtick.color": "black",
    "ytick.color": "black",
    "hatch.color": "black",
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "mailroom",  # were a chart ever written as SVG, its ids would not vary
    "path.simplify": False,
}

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


@dataclass(frozen=True)
class Chart:
    key: str  # the template variable: "monthly_volumes", "timeliness", "categories", "outcomes"
    title: str  # the image title (docPr title) and caption
    alt_text: str  # the data in words (docPr descr)
    png: bytes


# -- text ------------------------------------------------------------------------------


def _plain(label: str, limit: int) -> str:
    """One line of printable text, at most ``limit`` characters."""
    text = " ".join(_CONTROLS.sub(" ", label).split()) or "(blank)"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _on_chart(label: str) -> str:
    return _plain(label, MAX_LABEL_CHARS)


def _in_words(label: str) -> str:
    return _plain(label, MAX_ALT_LABEL_CHARS)


def _listing(parts: Sequence[str]) -> str:
    return "; ".join(parts) if parts else "none"


def _top(rows: Sequence[Count]) -> list[Count]:
    """The largest ``MAX_BARS`` - 1 rows and the rest summed as "Other", largest first
    (ties in the figures' order); all rows when they fit."""
    ordered = sorted(rows, key=lambda row: -row.count)
    if len(ordered) <= MAX_BARS:
        return ordered
    kept, rest = ordered[: MAX_BARS - 1], ordered[MAX_BARS - 1 :]
    return [*kept, Count(f"Other ({len(rest)} more)", sum(row.count for row in rest))]


# -- drawing ---------------------------------------------------------------------------


def _figure(height_inches: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI, layout="constrained")


def _png(draw: Any, height_inches: float) -> bytes:
    """Run ``draw(axes)`` on a fresh figure in the fixed style; the PNG bytes."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with matplotlib.style.context(["default", _STYLE]):
        figure = _figure(height_inches)
        FigureCanvasAgg(figure)
        draw(figure.add_subplot())
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def _bar_labels(axes: Axes, container: Any, labels: Sequence[str]) -> None:
    axes.bar_label(container, labels=list(labels), padding=2, fontsize=8, color="black")


def _short_month(month: str) -> str:
    """ "2026-04" -> "Apr 2026"."""
    text = month_text(month)
    parts = text.split()
    return f"{parts[0][:3]} {parts[1]}" if len(parts) == 2 else _on_chart(month)


# -- the four charts -------------------------------------------------------------------


def _range(months: Sequence[MonthVolumes], stage: int) -> str:
    values = [(row.stage1 if stage == 1 else row.stage2, row.month) for row in months]
    total = sum(value for value, _ in values)
    low = min(values, key=lambda item: item[0])
    high = max(values, key=lambda item: item[0])
    return (
        f"{stage_text(stage).lower()} ranged from {count_text(low[0])} ({month_text(low[1])}) "
        f"to {count_text(high[0])} ({month_text(high[1])}), {count_text(total)} in all"
    )


def monthly_volumes_chart(figures: PeriodFigures) -> Chart:
    months = list(figures.by_month)
    title = "Complaints received per month"
    if months:
        span = f"{month_text(months[0].month)} to {month_text(months[-1].month)}"
        words = (
            f"Bar chart of complaints received per month, {span}, stage 1 and stage 2 side by side: "
            f"{_range(months, 1)}; {_range(months, 2)}."
        )
    else:
        words = "Bar chart of complaints received per month: no months in the period."
    alt = f"{words} Every month's figures are in the table of complaints received per month."

    def draw(axes: Axes) -> None:
        positions = list(range(len(months)))
        width = 0.4
        for stage, offset in ((1, -width / 2), (2, width / 2)):
            colour, hatch = STAGE_STYLE[stage]
            values = [row.stage1 if stage == 1 else row.stage2 for row in months]
            bars = axes.bar(
                [p + offset for p in positions],
                values,
                width,
                label=stage_text(stage),
                color=colour,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.6,
            )
            _bar_labels(axes, bars, [count_text(v) for v in values])
        axes.set_xticks(positions, [_short_month(row.month) for row in months], rotation=45, ha="right")
        axes.set_ylabel("Complaints received")
        axes.set_title(title)
        axes.legend(frameon=False)
        axes.margins(y=0.15)

    return Chart("monthly_volumes", title, alt, _png(draw, 4.2))


def timeliness_chart(figures: PeriodFigures, limits: Mapping[str, int]) -> Chart:
    rows = list(figures.timeliness)
    title = "Complaints handled within the Code's time limits"
    described = [
        f"{_in_words(row.title)} ({row.paragraph}, {limit_text(row.clock, limits)}): "
        f"{ratio_text(row.in_time_ratio)}"
        for row in rows
    ]
    alt = (
        "Horizontal bar chart of the percentage of complaints handled within the time limit of each "
        f"Code clock, against the Code's target of 100%: {_listing(described)}. The median and 90th "
        "percentile working days are in the timeliness table."
    )

    def draw(axes: Axes) -> None:
        positions = list(range(len(rows)))
        values = [row.in_time_ratio.percent(1) or 0.0 for row in rows]
        axes.barh(positions, values, 0.6, color=BLUE, edgecolor="black", linewidth=0.6)
        # The numbers stand right of the target line, where no bar reaches.
        for position, row in zip(positions, rows, strict=True):
            ratio = row.in_time_ratio
            label = "no complaints" if row.count == 0 else ratio_text(ratio)
            axes.text(103, position, label, va="center", fontsize=8)
        axes.axvline(100, color="black", linestyle="--", linewidth=1.2, label="Code target: 100%")
        axes.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.35, -0.28), fontsize=8)
        axes.set_yticks(positions, [_on_chart(f"{row.paragraph} {row.title}") for row in rows])
        axes.invert_yaxis()
        axes.set_xlim(0, 150)
        axes.set_xticks([0, 20, 40, 60, 80, 100])
        axes.set_xlabel("% within the time limit")
        axes.set_title(title)

    return Chart("timeliness", title, alt, _png(draw, 1.6 + 0.5 * max(len(rows), 1)))


def categories_chart(figures: PeriodFigures) -> Chart:
    rows = _top(figures.by_category)
    total = sum(row.count for row in figures.by_category)
    title = "Complaints received by category"
    described = [
        f"{_in_words(row.label)} {count_text(row.count)} ({percent_text(Ratio(row.count, total))})"
        for row in rows
    ]
    alt = (
        f"Horizontal bar chart of complaints received by category, largest first, "
        f"{count_text(total)} in all: {_listing(described)}."
    )

    def draw(axes: Axes) -> None:
        positions = list(range(len(rows)))
        bars = axes.barh(
            positions, [row.count for row in rows], 0.6, color=BLUE, edgecolor="black", linewidth=0.6
        )
        _bar_labels(axes, bars, [count_text(row.count) for row in rows])
        axes.set_yticks(positions, [_on_chart(row.label) for row in rows])
        axes.invert_yaxis()
        axes.margins(x=0.12)
        axes.set_xlabel("Complaints received")
        axes.set_title(title)

    return Chart("categories", title, alt, _png(draw, 1.6 + 0.4 * max(len(rows), 1)))


def outcomes_chart(figures: PeriodFigures) -> Chart:
    stages = sorted(figures.outcomes)
    # One bar per outcome and stage, outcomes in order of their total over the stages.
    totals: dict[str, int] = {}
    for stage in stages:
        for row in figures.outcomes[stage]:
            totals[row.label] = totals.get(row.label, 0) + row.count
    labels = [row.label for row in _top([Count(label, count) for label, count in totals.items()])]
    kept = set(labels)
    by_stage: dict[int, dict[str, int]] = {}
    for stage in stages:
        counts = {label: 0 for label in labels}
        for row in figures.outcomes[stage]:
            key = row.label if row.label in kept else labels[-1]
            counts[key] += row.count
        by_stage[stage] = counts
    title = "Outcomes of complaints responded to, by stage"
    described = [
        f"{stage_text(stage).lower()}: "
        + _listing(
            [f"{_in_words(label)} {count_text(count)}" for label, count in by_stage[stage].items() if count]
        )
        for stage in stages
    ]
    alt = f"Horizontal bar chart of complaint outcomes by stage: {_listing(described)}."

    def draw(axes: Axes) -> None:
        positions = list(range(len(labels)))
        height = 0.8 / max(len(stages), 1)
        for index, stage in enumerate(stages):
            colour, hatch = STAGE_STYLE.get(stage, (BLUE, ""))
            offset = (index - (len(stages) - 1) / 2) * height
            values = [by_stage[stage][label] for label in labels]
            bars = axes.barh(
                [p + offset for p in positions],
                values,
                height,
                label=stage_text(stage),
                color=colour,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.6,
            )
            _bar_labels(axes, bars, [count_text(v) for v in values])
        axes.set_yticks(positions, [_on_chart(label) for label in labels])
        axes.invert_yaxis()
        axes.margins(x=0.12)
        axes.set_xlabel("Complaints")
        axes.set_title(title)
        if stages:
            axes.legend(frameon=False, loc="lower right")

    return Chart("outcomes", title, alt, _png(draw, 1.6 + 0.5 * max(len(labels), 1)))


def all_charts(figures: PeriodFigures, limits: Mapping[str, int]) -> list[Chart]:
    """The annual report's four charts, in the order the report shows them."""
    return [
        monthly_volumes_chart(figures),
        categories_chart(figures),
        timeliness_chart(figures, limits),
        outcomes_chart(figures),
    ]
