"""How long the Code clocks took: working days from start to stop, and their median
and 90th percentile. Pure: the calendar and the rows are passed in.

Working days taken (docs/reports.md): the working days after the clock's day zero
up to and including the UK date it stopped, counted as its due date is (a clock
met on its due date took exactly its limit: an acknowledgement on the fifth
working day after receipt took 5). Day zero is the start's UK date, moved only by
the opt-in cut-off (``calendar.cutoff``) as the due date is; a clock stopped the
day it started took 0.

Percentiles are nearest-rank: the p-th percentile of n values is the value at
rank ceil(p/100 x n) in ascending order. So the median and the 90th percentile are
always working-day counts that happened, and read plainly: "90% of stage 1
acknowledgements were sent within 4 working days". The median of an even count is
the lower of the two middle values, not their mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from mailroom.clock import LONDON
from mailroom.domain.calendar import CalendarRangeError, WorkingCalendar
from mailroom.reports.model import ClockTimeliness


def nearest_rank(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank ``percent``-th percentile of ``values`` (sorted or not); None for none."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percent}")
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil without floats
    return ordered[rank - 1]


class WorkingDays:
    """Working days taken from a clock's start to its stop, on one calendar. The start
    is given as its UK date and whether its UK time was at or after the cut-off."""

    def __init__(self, calendar: WorkingCalendar, cutoff: time | None) -> None:
        self._calendar = calendar
        self._cutoff = cutoff
        self._day_zero: dict[tuple[date, bool], date | None] = {}
        self._counts: dict[tuple[date, date], int | None] = {}

    def taken(self, start_day: date, start_late: bool, stop_day: date) -> int | None:
        """None when either day is outside the calendar's span (no count is possible)."""
        key = (start_day, start_late)
        if key not in self._day_zero:
            self._day_zero[key] = self._zero(start_day, start_late)
        zero = self._day_zero[key]
        if zero is None:
            return None
        pair = (zero, stop_day)
        if pair not in self._counts:
            try:
                self._counts[pair] = max(0, self._calendar.working_days_between(zero, stop_day))
            except CalendarRangeError:
                self._counts[pair] = None
        return self._counts[pair]

    def _zero(self, day: date, late: bool) -> date | None:
        """The calendar's own day zero (the cut-off rule in one place: calendar.py)."""
        at = self._cutoff if late and self._cutoff is not None else time(0)
        try:
            return self._calendar.day_zero(datetime.combine(day, at, tzinfo=LONDON), self._cutoff)
        except CalendarRangeError:
            return None


@dataclass
class ClockTally:
    """One Code clock over a period, filled row by row."""

    clock: str
    paragraph: str
    title: str
    met: int = 0  # stopped by its own step in the period
    in_time: int = 0  # of those, never lapsed (a late extension leaves it lapsed)
    ended: int = 0  # stopped in the period by a step that ends it unmet (refused, withdrawn...)
    overdue_open: int = 0  # still running at the end of the period, past its due date
    days: list[int] = field(default_factory=list)  # working days taken by each one met

    def figure(self) -> ClockTimeliness:
        median, p90 = nearest_rank(self.days, 50), nearest_rank(self.days, 90)
        return ClockTimeliness(
            clock=self.clock,
            paragraph=self.paragraph,
            title=self.title,
            count=self.met,
            in_time=self.in_time,
            median_working_days=None if median is None else float(median),
            p90_working_days=None if p90 is None else float(p90),
            ended=self.ended,
            overdue_open=self.overdue_open,
        )
