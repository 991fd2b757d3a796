"""Working days and Code deadlines: a pure, precomputed calendar (stdlib only).

The rules (also in docs/working-days.md):

* A working day is Monday to Friday, not a bank holiday of the region and not a
  configured closure day; a configured extra working day is a working day even
  on a weekend or a bank holiday.
* ``add_working_days(start, n)`` is the n-th working day strictly after
  ``start``; ``start`` itself is never counted. ``n == 0`` gives ``start`` if it
  is a working day, else the next one.
* Day 0 of an event at an instant is its Europe/London date, whether or not
  that is a working day: working day 1 is the first working day after the day
  of receipt (the strict reading; a Saturday receipt is not treated as a
  Monday one). Only an opt-in cut-off moves day 0: received at or after it, or
  on a day that is not a working day, the count starts from the next working day.
* A deadline of N working days is ``add_working_days(day_zero, N)`` and lapses
  at the end of that day, London time (``deadline_instant``). So a case clock
  and ``calendar add-working-days DATE N`` agree whenever no cut-off is set.

The calendar knows nothing about where its holidays came from (see
``mailroom.calendar_source``): it takes the non-working dates as data, so tests
and every caller get the same answers from the same inputs, and ``version``
names those inputs so each stored deadline can say which calendar made it.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from mailroom.clock import LONDON

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


class CalendarRangeError(ValueError):
    """A date falls outside the span the calendar was built for. ``str()`` is one line."""


class WorkingCalendar:
    """Working days of one region over ``first``..``last`` inclusive.

    Built once and never changed: all state is tuples and frozensets, so one
    instance can be shared between threads without locking.
    """

    __slots__ = ("_days", "_first", "_last", "_region", "_version", "_working")

    def __init__(
        self,
        region: str,
        non_working: frozenset[date],
        extra_working: frozenset[date],
        first: date,
        last: date,
    ) -> None:
        if last < first:
            raise ValueError(f"calendar span is empty: {first.isoformat()} is after {last.isoformat()}")
        self._region = region
        self._first = first
        self._last = last
        self._days: tuple[date, ...] = tuple(_working_days(non_working, extra_working, first, last))
        self._working = frozenset(self._days)
        self._version = _version(region, non_working, extra_working, first, last)

    # -- identity ----------------------------------------------------------------------------------

    @property
    def region(self) -> str:
        return self._region

    @property
    def first(self) -> date:
        return self._first

    @property
    def last(self) -> date:
        return self._last

    @property
    def version(self) -> str:
        """16 hex digits of SHA-256 over region, span, non-working and extra working days."""
        return self._version

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(region={self._region!r}, span={self._first.isoformat()}.."
            f"{self._last.isoformat()}, version={self._version!r})"
        )

    # -- days --------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        self._check(d)
        return d in self._working

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after ``start``; n == 0: ``start`` if working, else the next."""
        if n < 0:
            raise ValueError(f"working days to add must be >= 0, got {n}")
        self._check(start)
        # bisect_left finds start itself when it is a working day (the n == 0 case);
        # bisect_right skips it, so index + n - 1 is the n-th working day after it.
        index = bisect_left(self._days, start) if n == 0 else bisect_right(self._days, start) + n - 1
        if index >= len(self._days):
            raise CalendarRangeError(
                f"{start.isoformat()} + {n} working days falls after the calendar span {self._span()}"
            )
        return self._days[index]

    def sub_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly before ``start`` (n >= 1)."""
        if n < 1:
            raise ValueError(f"working days to subtract must be >= 1, got {n}")
        self._check(start)
        index = bisect_left(self._days, start) - n
        if index < 0:
            raise CalendarRangeError(
                f"{start.isoformat()} - {n} working days falls before the calendar span {self._span()}"
            )
        return self._days[index]

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``."""
        self._check(a)
        self._check(b)
        return bisect_right(self._days, b) - bisect_right(self._days, a)

    # -- instants ----------------------------------------------------------------------------------

    def day_zero(self, received_at: datetime, cutoff: time | None) -> date:
        """The day an event at ``received_at`` counts from: working day 1 is the first
        working day after it.

        The London wall-clock date is what counts (00:30 BST is the next day even
        though it is 23:30 UTC), working day or not: counting a Saturday receipt from
        the Monday would give one more working day than the Code allows. ``cutoff``
        (London wall time, opt-in) treats anything received at or after it, or on a
        day that is not a working day, as received on the next working day.
        """
        local = _london(received_at, "received_at")
        if cutoff is not None and cutoff.tzinfo is not None:
            raise ValueError("cutoff is UK wall-clock time and must not carry a timezone")
        today = local.date()
        self._check(today)
        if cutoff is None or (self.is_working_day(today) and local.time() < cutoff):
            return today
        return self.next_working_day(today)

    def due_date(self, event_at: datetime, working_days: int, cutoff: time | None) -> date:
        """The last day for something due ``working_days`` working days after ``event_at``."""
        return self.add_working_days(self.day_zero(event_at, cutoff), working_days)

    def deadline_instant(self, d: date) -> datetime:
        """The UTC instant a deadline due on ``d`` lapses: the midnight that ends ``d`` in London.

        Built from the London wall clock, not by adding 24 hours, so it is right on
        the days the clocks change. Pure time-zone arithmetic: not limited to the span.
        """
        return datetime.combine(d + _ONE_DAY, time(0), tzinfo=LONDON).astimezone(UTC)

    # -- helpers -----------------------------------------------------------------------------------

    def _check(self, d: date) -> None:
        if not self._first <= d <= self._last:
            raise CalendarRangeError(f"{d.isoformat()} is outside the calendar span {self._span()}")

    def _span(self) -> str:
        return f"{self._first.isoformat()}..{self._last.isoformat()} ({self._region})"


def _working_days(
    non_working: frozenset[date], extra_working: frozenset[date], first: date, last: date
) -> Iterable[date]:
    day = first
    while day <= last:
        # Extra working days win over weekends, bank holidays and closures alike.
        if day in extra_working or (day.weekday() < _SATURDAY and day not in non_working):
            yield day
        day += _ONE_DAY


def _version(
    region: str, non_working: frozenset[date], extra_working: frozenset[date], first: date, last: date
) -> str:
    # Only dates inside the span can change an answer, so only they are hashed:
    # a stray closure from years ago does not force a recomputation.
    def listed(days: frozenset[date]) -> str:
        return ",".join(sorted(d.isoformat() for d in days if first <= d <= last))

    text = "\n".join(
        [
            "mailroom-calendar-v1",
            region,
            f"{first.isoformat()}..{last.isoformat()}",
            "non-working:" + listed(non_working),
            "extra-working:" + listed(extra_working),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _london(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(LONDON)
