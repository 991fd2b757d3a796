"""The report charts (mailroom/reports/charts.py): real matplotlib, real PNGs; the same
figures give the same bytes, the alt text states the data, and labels are text."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from mailroom.reports.charts import (
    MAX_BARS,
    all_charts,
    categories_chart,
    monthly_volumes_chart,
    outcomes_chart,
    timeliness_chart,
)
from mailroom.reports.model import ClockTimeliness, Count, MonthVolumes, Period, PeriodFigures

LIMITS = {"stage1_acknowledgement": 5, "stage1_response": 10}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def figures() -> PeriodFigures:
    months = [f"{2026 + (n > 12)}-{(n - 1) % 12 + 1:02d}" for n in range(4, 16)]
    stage1 = [150, 140, 135, 130, 120, 160, 170, 180, 190, 210, 200, 195]
    return PeriodFigures(
        period=Period("2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        homes=12_500,
        received={1: sum(stage1), 2: 66},
        by_month=[MonthVolumes(m, s, 5 + i % 3) for i, (m, s) in enumerate(zip(months, stage1, strict=True))],
        by_category=[Count("Repairs", 750), Count("Damp and mould", 250), Count("Anti-social behaviour", 80)],
        timeliness=[
            ClockTimeliness("stage1_acknowledgement", "6.2", "Acknowledge stage 1", 1262, 1234, 2.0, 4.0),
            ClockTimeliness("stage1_response", "6.3", "Stage 1 response", 0, 0, None, None),
        ],
        outcomes={1: [Count("Upheld", 400), Count("Not upheld", 600)], 2: [Count("Upheld", 40)]},
    )


def test_four_charts_each_a_png_with_a_title_and_alt_text() -> None:
    charts = all_charts(figures(), LIMITS)
    assert [chart.key for chart in charts] == ["monthly_volumes", "categories", "timeliness", "outcomes"]
    for chart in charts:
        assert chart.png.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(chart.png)) as image:
            assert image.width == 1200  # 8 inches at 150 dpi
            assert image.height > 200
        assert chart.title and len(chart.alt_text) > 60


def test_the_same_figures_give_the_same_png_bytes() -> None:
    first = [chart.png for chart in all_charts(figures(), LIMITS)]
    second = [chart.png for chart in all_charts(figures(), LIMITS)]
    assert first == second
    changed = figures()
    changed.by_month[0] = MonthVolumes("2026-04", 151, 5)
    assert monthly_volumes_chart(changed).png != first[0]


def test_the_png_carries_no_software_version_or_date() -> None:
    png = monthly_volumes_chart(figures()).png
    with Image.open(io.BytesIO(png)) as image:
        assert "Software" not in image.info and "Creation Time" not in image.info


def test_the_monthly_alt_text_states_the_range_of_each_stage() -> None:
    alt = monthly_volumes_chart(figures()).alt_text
    assert alt.startswith("Bar chart of complaints received per month, April 2026 to March 2027")
    assert "stage 1 ranged from 120 (August 2026) to 210 (January 2027), 1,980 in all" in alt
    assert "stage 2 ranged from 5 (April 2026) to 7 (June 2026), 72 in all" in alt


def test_the_timeliness_alt_text_gives_each_clock_against_the_target() -> None:
    alt = timeliness_chart(figures(), LIMITS).alt_text
    assert "against the Code's target of 100%" in alt
    assert "Acknowledge stage 1 (6.2, 5 working days): 97.8% (1,234 of 1,262)" in alt
    assert "Stage 1 response (6.3, 10 working days): none in the period (0 of 0)" in alt


def test_the_category_and_outcome_alt_texts_list_the_counts() -> None:
    categories = categories_chart(figures()).alt_text
    assert "largest first, 1,080 in all: Repairs 750 (69.4%); Damp and mould 250 (23.1%)" in categories
    outcomes = outcomes_chart(figures()).alt_text
    assert "stage 1: Not upheld 600; Upheld 400; stage 2: Upheld 40" in outcomes


def test_many_categories_are_summed_into_other_on_the_chart_and_in_its_alt_text() -> None:
    many = figures()
    many.by_category = [Count(f"Category {n:02d}", 100 - n) for n in range(20)]
    alt = categories_chart(many).alt_text
    kept = MAX_BARS - 1
    assert f"Category {kept - 1:02d}" in alt and f"Category {kept:02d}" not in alt
    rest = sum(100 - n for n in range(kept, 20))
    assert f"Other ({20 - kept} more) {rest:,}" in alt


def test_labels_are_text_whatever_they_hold() -> None:
    hostile = figures()
    label = "£5 $\\nocommand{x}$ {{ 7*7 }} <w:p>&amp;\x00\x1b[31m\u202e" + "x" * 300
    hostile.by_category = [Count(label, 5), Count("$", 2)]
    hostile.outcomes = {1: [Count("$\\nocommand$", 1)]}
    chart = categories_chart(hostile)  # as mathtext, "$\nocommand{x}$" raises ValueError
    assert chart.png.startswith(PNG_SIGNATURE)
    assert "£5 $\\nocommand{x}$ {{ 7*7 }} <w:p>&amp;" in chart.alt_text
    assert "\x00" not in chart.alt_text and "\x1b" not in chart.alt_text and "\u202e" not in chart.alt_text
    assert "x" * 200 not in chart.alt_text  # a long label is shortened in words too
    assert outcomes_chart(hostile).png.startswith(PNG_SIGNATURE)


def test_an_empty_period_still_draws_every_chart() -> None:
    empty = PeriodFigures(period=Period("2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30)), homes=None)
    charts = all_charts(empty, {})
    assert all(chart.png.startswith(PNG_SIGNATURE) for chart in charts)
    assert "no months in the period" in charts[0].alt_text
