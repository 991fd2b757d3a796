"""The reminder ladder on a real England & Wales calendar, at many moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.calendar_source import build_calendar
from mailroom.clock import LONDON
from mailroom.config import CalendarSettings
from mailroom.domain.deadlines import Deadline, DeadlineState
from mailroom.domain.reminders import Ladder, next_reminder_at, reminder_due

CALENDAR = build_calendar(CalendarSettings())
LADDER = Ladder()


def deadline(due: date, state: DeadlineState = DeadlineState.DUE) -> Deadline:
    lapses = datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    started = datetime(2026, 1, 2, 9, tzinfo=UTC)
    return Deadline("stage1_acknowledgement", "6.2", "Acknowledge", started, due, lapses, state, "v1")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def step(due: date, moment: datetime, state: DeadlineState = DeadlineState.DUE) -> str | None:
    found = reminder_due("CMP-2026-000001", deadline(due, state), LADDER, CALENDAR, moment)
    return found.step if found else None


def test_the_default_ladder_over_a_week_with_a_bank_holiday() -> None:
    """Due Tue 26 May 2026; Mon 25 May is the spring bank holiday."""
    due = date(2026, 5, 26)
    assert step(due, at(date(2026, 5, 20), 10)) is None  # 4 working days before
    assert step(due, at(date(2026, 5, 21), 10)) == "T-2"  # Thu: Fri, Tue left
    assert step(due, at(date(2026, 5, 22), 10)) == "T-2"  # Fri (1 left): still the latest step reached
    assert step(due, at(date(2026, 5, 25), 10)) is None  # bank holiday: nothing is sent
    assert step(due, at(date(2026, 5, 26), 9)) == "T-0"  # the morning of the due day
    assert step(due, at(date(2026, 5, 27), 10)) == "overdue-1"
    assert step(due, at(date(2026, 5, 29), 10)) == "overdue-3"


def test_nothing_outside_working_hours_or_at_weekends() -> None:
    due = date(2026, 11, 9)  # Monday
    assert step(due, at(date(2026, 11, 9), 8, 59)) is None
    assert step(due, at(date(2026, 11, 9), 17, 0)) is None
    assert step(due, at(date(2026, 11, 7), 10)) is None  # Saturday
    assert step(due, at(date(2026, 11, 9), 16, 59)) == "T-0"


def test_a_stopped_clock_gets_no_reminder_and_overdue_escalates() -> None:
    due = date(2026, 11, 9)
    assert step(due, at(date(2026, 11, 9), 10), DeadlineState.MET) is None
    overdue = reminder_due("CMP-1", deadline(due), LADDER, CALENDAR, at(date(2026, 11, 10), 10))
    assert overdue is not None and overdue.escalate
    before = reminder_due("CMP-1", deadline(due), LADDER, CALENDAR, at(date(2026, 11, 5), 10))
    assert before is not None and not before.escalate
    assert before.key == "reminder:CMP-1:stage1_acknowledgement:2026-11-09@v1:T-2"


@settings(max_examples=300, deadline=None)
@given(
    due=st.dates(min_value=date(2022, 1, 1), max_value=date(2039, 12, 1)),
    offset=st.integers(min_value=-10, max_value=30),
    hour=st.integers(min_value=0, max_value=23),
)
def test_reminders_only_ever_on_working_days_in_working_hours(due: date, offset: int, hour: int) -> None:
    moment = at(due + timedelta(days=offset), hour)
    found = reminder_due("CMP-1", deadline(due), LADDER, CALENDAR, moment)
    if found is not None:
        local = moment.astimezone(LONDON)
        assert CALENDAR.is_working_day(local.date())
        assert 9 <= local.hour < 17
        assert found.escalate == (local.date() > due)


@settings(max_examples=60, deadline=None)
@given(
    due=st.dates(date(2026, 1, 5), date(2027, 12, 20)),
    before=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
    overdue_daily=st.booleans(),
)
def test_next_reminder_at_is_exactly_where_the_ladder_takes_a_new_step(
    due: date, before: list[int], overdue_daily: bool
) -> None:
    """Walking every quarter hour from eight working days before the due date:
    the moments where the ladder's step changes are those the stored clock
    would be woken at by next_reminder_at. So the sweep, which reads only due
    rows, sends what sweeping every row every quarter hour would send."""
    due = CALENDAR.add_working_days(due, 0)
    ladder = Ladder(tuple(before), overdue_daily)
    start = at(CALENDAR.sub_working_days(due, 8), 0)
    changes, previous = [], None
    moment = start
    while moment < at(CALENDAR.add_working_days(due, 4), 0):
        found = reminder_due("CMP-2026-000001", deadline(due), ladder, CALENDAR, moment)
        current = found.step if found else None
        if current is not None and current != previous:
            changes.append(moment.astimezone(UTC))
        previous = current if current is not None else previous
        moment += timedelta(minutes=15)
    limit = at(CALENDAR.add_working_days(due, 4), 0)
    woken, after = [], start - timedelta(microseconds=1)
    while (wake := next_reminder_at(due, ladder, CALENDAR, after)) is not None and wake < limit:
        woken.append(wake)
        after = wake
    assert changes  # every ladder has at least one step in the walk
    assert woken == changes
