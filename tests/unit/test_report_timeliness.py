"""Working days a clock took, and nearest-rank percentiles (reports/figures_timeliness.py),
against values computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from mailroom.calendar_source import build_calendar
from mailroom.clock import LONDON
from mailroom.config import CalendarSettings
from mailroom.domain.regions import Region
from mailroom.reports.figures_sql import UkInstants
from mailroom.reports.figures_timeliness import ClockTally, WorkingDays, nearest_rank


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([5], 5, 5),
        ([1, 2], 1, 2),  # the median of two is the lower (rank ceil(1) = 1), not 1.5
        ([3, 1, 2], 2, 3),
        ([1, 2, 3, 4], 2, 4),
        (list(range(1, 11)), 5, 9),  # ranks ceil(5) = 5 and ceil(9) = 9
        (list(range(1, 12)), 6, 10),  # 11 values: ranks ceil(5.5) = 6 and ceil(9.9) = 10
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 7], 0, 0),  # 90% took no time at all
        ([0, 0, 0, 0, 0, 0, 0, 0, 7, 7], 0, 7),
    ],
)
def test_nearest_rank_by_hand(values: list[int], median: int, p90: int) -> None:
    assert nearest_rank(values, 50) == median
    assert nearest_rank(values, 90) == p90


def test_nearest_rank_of_nothing_and_out_of_range() -> None:
    assert nearest_rank([], 50) is None
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank([1], 0)


CALENDAR = build_calendar(CalendarSettings(region=Region.ENGLAND_AND_WALES))


def stored(moment: datetime) -> str:
    """An instant as the store gives it to the figures: its UTC wall time as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def uk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def taken(start: datetime, stop: datetime, cutoff: time | None = None) -> int | None:
    instants = UkInstants(cutoff)
    start_day, late = instants.day_and_late(stored(start))
    return WorkingDays(CALENDAR, cutoff).taken(start_day, late, instants.day(stored(stop)))


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        (uk(date(2026, 6, 1), 10), uk(date(2026, 6, 1), 16), 0),  # the same day
        (uk(date(2026, 6, 1), 10), uk(date(2026, 6, 5), 9), 4),  # Monday to Friday
        (uk(date(2026, 6, 5), 10), uk(date(2026, 6, 8), 9), 1),  # over a weekend
        (uk(date(2026, 6, 6), 10), uk(date(2026, 6, 8), 9), 1),  # received on a Saturday
        (uk(date(2026, 3, 31), 11), uk(date(2026, 4, 10), 15), 6),  # Good Friday, Easter Monday
        (uk(date(2026, 4, 1), 0, 30), uk(date(2026, 4, 2), 9), 1),  # 23:30 UTC on 31 March is 1 April
        (uk(date(2026, 12, 24), 23, 30), uk(date(2026, 12, 29), 9), 1),  # GMT; 25, 28 December off
    ],
)
def test_working_days_taken_by_hand(start: datetime, stop: datetime, expected: int) -> None:
    assert taken(start, stop) == expected


def test_the_cut_off_moves_day_zero_as_it_moves_the_due_date() -> None:
    """Received at 17:30 with a 17:00 cut-off counts from the next working day: an
    answer that next day took 0 working days, as the due date is counted."""
    cutoff = time(17)
    assert taken(uk(date(2026, 6, 1), 17, 30), uk(date(2026, 6, 2), 10), cutoff) == 0
    assert taken(uk(date(2026, 6, 1), 16, 59), uk(date(2026, 6, 2), 10), cutoff) == 1
    assert taken(uk(date(2026, 6, 1), 17, 30), uk(date(2026, 6, 1), 17, 45), cutoff) == 0  # never negative


def test_outside_the_calendar_no_count() -> None:
    assert WorkingDays(CALENDAR, None).taken(date(1997, 6, 2), False, date(1997, 6, 3)) is None


@pytest.mark.parametrize(
    ("raw", "day", "late"),
    [
        ("2026-03-31 23:30:00.000000", date(2026, 4, 1), False),  # SQLite's text: 00:30 BST
        ("2026-03-31 22:59:59", date(2026, 3, 31), True),  # PostgreSQL's text: 23:59:59 in London
        ("2026-12-31 23:30:00", date(2026, 12, 31), True),  # GMT: UTC is London
        ("2026-06-01 07:00:00", date(2026, 6, 1), False),  # 08:00 in London
        (datetime(2026, 3, 31, 16, 30, tzinfo=UTC), date(2026, 3, 31), True),  # a datetime: 17:30 BST
    ],
)
def test_stored_instants_as_uk_dates(raw: str | datetime, day: date, late: bool) -> None:
    assert UkInstants(time(17)).day_and_late(raw) == (day, late)
    assert UkInstants(None).day_and_late(raw) == (day, False)


def test_a_tally_gives_its_figure() -> None:
    tally = ClockTally(
        "stage1_acknowledgement", "6.2", "Acknowledge", met=4, in_time=3, ended=1, overdue_open=2
    )
    tally.days += [1, 2, 6, 3]
    figure = tally.figure()
    assert (figure.count, figure.in_time, figure.ended, figure.overdue_open) == (4, 3, 1, 2)
    assert (figure.median_working_days, figure.p90_working_days) == (2.0, 6.0)
    assert figure.in_time_ratio.percent() == 75.0
    empty = ClockTally("stage2_response", "6.14", "Stage 2").figure()
    assert (empty.median_working_days, empty.p90_working_days, empty.in_time_ratio.percent()) == (
        None,
        None,
        None,
    )
