"""Due buckets of running Code clocks: overdue, today, soon, later.

The same reading as a clock's state (``domain/deadlines.py:deadline_state``), which
the CLI's ``deadlines`` and the reminders use, turned into date ranges SQL can
filter and count on:

- ``overdue``: the clock has lapsed (its due date is before today in London, or
  its lapse instant, the midnight ending the due date, has passed), or it was
  missed on the way (a late extension moved its date but the breach stands);
- ``today``: due today and not overdue;
- ``soon``: due after today and at most ``policy.due_soon_working_days`` working
  days ahead, counted on the working calendar. With N = that setting,
  ``working_days_between(today, due) <= N`` holds exactly when
  ``due < add_working_days(today, N + 1)``, so "soon" is one date range, and a
  weekend or bank holiday between today and the due date does not count;
- ``later``: everything else still running.

``today`` and ``soon`` together are the clocks whose state is ``due_soon``;
``later`` is ``due``; ``overdue`` is ``overdue``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from mailroom.clock import LONDON
from mailroom.domain.calendar import CalendarRangeError
from mailroom.queues.page import QueueError
from mailroom.queues.tables import DEADLINES
from mailroom.services import Services


class Bucket(enum.StrEnum):
    OVERDUE = "overdue"
    TODAY = "today"
    SOON = "soon"
    LATER = "later"


@dataclass(frozen=True)
class DueWindow:
    """Where "today" and "soon" fall at one instant."""

    now: datetime  # aware UTC
    today: date  # in Europe/London
    soon_before: date  # a clock due before this date (and after today) is due soon

    def bucket(self, due: date, lapses_at: datetime, missed_at: datetime | None) -> Bucket:
        """The bucket of one clock, as ``clause`` selects it in SQL."""
        if due < self.today or lapses_at <= self.now or (missed_at is not None and missed_at <= self.now):
            return Bucket.OVERDUE
        if due == self.today:
            return Bucket.TODAY
        return Bucket.SOON if due < self.soon_before else Bucket.LATER

    def clause(self, bucket: Bucket) -> ColumnElement[bool]:
        """The SQL condition on ``deadlines`` for ``bucket`` (the clock's running is checked apart)."""
        d = DEADLINES.c
        if bucket is Bucket.OVERDUE:
            return or_(d.due < self.today, d.lapses_at <= self.now, d.missed_at <= self.now)
        not_overdue = and_(
            d.due >= self.today,
            d.lapses_at > self.now,
            or_(d.missed_at.is_(None), d.missed_at > self.now),
        )
        if bucket is Bucket.TODAY:
            return and_(d.due == self.today, not_overdue)
        if bucket is Bucket.SOON:
            return and_(d.due > self.today, d.due < self.soon_before, not_overdue)
        return and_(d.due >= self.soon_before, not_overdue)


def due_window(services: Services) -> DueWindow:
    now = services.clock.now()
    today = now.astimezone(LONDON).date()
    calendar = services.calendar
    try:
        soon_before = calendar.add_working_days(today, services.settings.policy.due_soon_working_days + 1)
    except CalendarRangeError:
        # Past the calendar's last years no deadline can be counted either: every
        # clock still running there is "soon" rather than the page failing.
        soon_before = calendar.last + timedelta(days=1)
    return DueWindow(now, today, soon_before)


def parse_bucket(value: Bucket | str | None) -> Bucket | None:
    if value is None or value == "":
        return None
    try:
        return Bucket(value)
    except ValueError:
        names = ", ".join(b.value for b in Bucket)
        raise QueueError(f"no due bucket {value!r}: one of {names}") from None
