"""Which reminder a running Code clock calls for at ``now``: the ladder, as a pure function.

Default ladder (peer-lessons §2 items 23–24): two working days before the due
day, the morning of the due day, then every working day while overdue (those
also go to the manager). Reminders go out only inside the working-hours window
of a working day, never at midnight or at weekends.

At most one step is due at a time: the latest one whose moment has come. A
step missed while the worker was down is superseded by the next rather than
sent late alongside it. Each step has a key (complaint, clock, deadline
version, step); the ledger that makes it go at most once lives in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from mailroom.clock import LONDON
from mailroom.domain.deadlines import Deadline, DeadlineState


class LadderCalendar(Protocol):
    def is_working_day(self, d: date) -> bool: ...

    def add_working_days(self, start: date, n: int) -> date: ...

    def sub_working_days(self, start: date, n: int) -> date: ...

    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class Ladder:
    before: tuple[int, ...] = (2, 0)  # working days before the due day; 0 = the due day itself
    overdue_daily: bool = True
    window_start: time = time(9, 0)
    window_end: time = time(17, 0)


@dataclass(frozen=True)
class ReminderDue:
    complaint_id: str
    clock: str
    deadline_version: str  # due date + calendar version: a moved deadline gets fresh steps
    step: str  # "T-2", "T-0", "overdue-1", "overdue-2", ...
    due: date
    escalate: bool  # overdue: the manager is told too

    @property
    def key(self) -> str:
        return f"reminder:{self.complaint_id}:{self.clock}:{self.deadline_version}:{self.step}"


def reminder_due(
    complaint_id: str, deadline: Deadline, ladder: Ladder, calendar: LadderCalendar, now: datetime
) -> ReminderDue | None:
    if deadline.state in (DeadlineState.MET, DeadlineState.MISSED):
        return None  # the clock has stopped
    local = now.astimezone(LONDON)
    today = local.date()
    if not calendar.is_working_day(today) or not ladder.window_start <= local.time() < ladder.window_end:
        return None
    step = _latest_step(deadline.due, today, ladder, calendar)
    if step is None:
        return None
    version = f"{deadline.due.isoformat()}@{deadline.calendar_version}"
    return ReminderDue(complaint_id, deadline.clock, version, step, deadline.due, step.startswith("overdue"))


def _latest_step(due: date, today: date, ladder: Ladder, calendar: LadderCalendar) -> str | None:
    if today > due:
        if not ladder.overdue_daily:
            return None
        return f"overdue-{calendar.working_days_between(due, today)}"
    left = calendar.working_days_between(today, due)  # 0 on the due day
    reached = [days for days in ladder.before if days >= left]
    return f"T-{min(reached)}" if reached else None


def next_reminder_at(due: date, ladder: Ladder, calendar: LadderCalendar, after: datetime) -> datetime | None:
    """The first instant strictly after ``after`` at which the ladder reaches a new
    step for a clock due on ``due``: the opening of the working-hours window on a
    step's day. None when no step is left (the ladder has no overdue steps).

    The sweep looks only at clocks whose moment has come, so this is what keeps
    it from reading every case."""
    local_after = after.astimezone(LONDON)
    for day in sorted({calendar.sub_working_days(due, n) if n > 0 else due for n in ladder.before}):
        moment = _window_opens(day, ladder)
        if moment > after:
            return moment
    if not ladder.overdue_daily:
        return None
    day = calendar.add_working_days(max(due, local_after.date()), 0)
    if day <= due:
        day = calendar.add_working_days(due, 1)
    if _window_opens(day, ladder) <= after:
        day = calendar.add_working_days(day, 1)
    return _window_opens(day, ladder)


def _window_opens(day: date, ladder: Ladder) -> datetime:
    return datetime.combine(day, ladder.window_start, tzinfo=LONDON).astimezone(UTC)


def first_reminder_at(due: date, ladder: Ladder, calendar: LadderCalendar, now: datetime) -> datetime | None:
    """Where a freshly computed clock joins the ladder: today's step moment when
    today has one (the sweep then decides whether it is still inside the window,
    and the ledger whether it already went), else the next one."""
    midnight = datetime.combine(now.astimezone(LONDON).date(), time(0), tzinfo=LONDON).astimezone(UTC)
    return next_reminder_at(due, ladder, calendar, midnight - timedelta(microseconds=1))
