"""Keep the stored ``deadlines`` rows in step with each case's events and the calendar.

The events are the truth; a row is the clock as last computed from them by the
pure ``domain/deadlines.py``, plus ``next_reminder_at`` from the pure ladder.
Whatever changes a case's clocks (a complaint logged, a step recorded, the
case closed, the calendar changed) calls ``refresh_case`` in the same
transaction, so a row is never older than the events it came from. A moved
due date is written on the case as a ``deadline_moved`` event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from mailroom.clock import LONDON
from mailroom.domain.calendar import CalendarRangeError
from mailroom.domain.case_steps import CORRECTED
from mailroom.domain.deadlines import CaseEvent, Deadline, case_deadlines
from mailroom.domain.reminders import first_reminder_at
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, Event, StoredDeadline

log = logging.getLogger(__name__)

OPEN = "open"
# Cases refreshed per transaction when catching up after a calendar change.
REFRESH_BATCH = 500


def live_events(repo: Repository, complaint_id: str) -> list[Event]:
    """The case's events that count, in order: without the steps a correction names,
    nor the corrections themselves (both stay on the audit trail)."""
    events = repo.events_of_case(complaint_id)
    corrected = {corrected_ref(event) for event in events if event.kind == CORRECTED}
    return [event for event in events if event.kind != CORRECTED and event.id not in corrected]


def corrected_ref(event: Event) -> int | None:
    """The id of the step a correction event names."""
    ref = json.loads(event.payload or "{}").get("ref")
    return int(ref) if ref is not None else None


def case_events(repo: Repository, complaint: Complaint) -> list[CaseEvent]:
    """The events the clocks count from, with their structured payloads."""
    events = [CaseEvent("received", complaint.received_at)]
    for event in live_events(repo, complaint.id):
        data = json.loads(event.payload) if event.payload else {}
        events.append(CaseEvent(event.kind, event.at, event.id, {k: str(v) for k, v in data.items()}))
    return events


def compute(services: Services, repo: Repository, complaint: Complaint, now: datetime) -> list[Deadline]:
    """The case's clocks; none for a complaint outside the calendar's span (an
    old archive ingested, say 1997): the Code's clocks cannot run there."""
    try:
        return case_deadlines(
            case_events(repo, complaint),
            services.rule_pack,
            services.calendar,
            now,
            services.settings.calendar.cutoff,
            services.settings.policy.due_soon_working_days,
        )
    except CalendarRangeError as exc:
        log.warning("no Code clocks for %s: %s", complaint.id, exc)
        return []


def refresh_case(services: Services, repo: Repository, complaint_id: str) -> list[Deadline]:
    """Recompute a case's clocks and store them; returns them as computed."""
    now = services.clock.now()
    complaint = repo.get_complaint(complaint_id)
    if complaint is None:
        raise LookupError(f"no complaint {complaint_id}")
    computed = compute(services, repo, complaint, now)
    stored = {row.clock: row for row in repo.deadlines_of_case(complaint_id)}
    for deadline in computed:
        row = stored.pop(deadline.clock, None)
        if row is None:
            row = StoredDeadline(complaint_id=complaint_id, clock=deadline.clock)
            repo.add_deadline(row)
        elif row.due != deadline.due and deadline.running:
            repo.add_event(now, "deadline_moved", _moved(row, deadline), complaint_id=complaint_id)
        _fill(row, deadline, complaint.status, services, now)
    repo.delete_deadlines([row.id for row in stored.values()])
    repo.session.flush()
    return computed


def start_new_cases(services: Services, repo: Repository, cases: Sequence[tuple[str, datetime]]) -> None:
    """The clocks of complaints just logged (id, received_at): the worker's hot
    path, in the batch's transaction. Only receipt has happened, so the clocks
    come from that alone and are inserted in one statement."""
    now = services.clock.now()
    rows = []
    for complaint_id, received_at in cases:
        try:
            deadlines = case_deadlines(
                [CaseEvent("received", received_at)],
                services.rule_pack,
                services.calendar,
                now,
                services.settings.calendar.cutoff,
                services.settings.policy.due_soon_working_days,
            )
        except CalendarRangeError as exc:  # e.g. a 1997 mail from an archive: no clock runs
            log.warning("no Code clocks for %s: %s", complaint_id, exc)
            continue
        for deadline in deadlines:
            row = StoredDeadline(complaint_id=complaint_id, clock=deadline.clock)
            _fill(row, deadline, OPEN, services, now)
            rows.append(row)
    repo.insert_deadlines(rows)


def refresh_cases(services: Services, repo: Repository, complaint_ids: Sequence[str]) -> None:
    for complaint_id in complaint_ids:
        refresh_case(services, repo, complaint_id)


def refresh_stale(services: Services) -> int:
    """Bring every open clock onto the current calendar (and compute those never
    computed, e.g. cases logged before this table existed); returns cases refreshed."""
    version, done = services.calendar.version, 0
    while True:
        with services.store.transaction() as repo:
            stale = repo.stale_deadline_cases(version, REFRESH_BATCH, _computable(services))
            refresh_cases(services, repo, stale)
        done += len(stale)
        if len(stale) < REFRESH_BATCH:
            return done


def _computable(services: Services) -> tuple[datetime, datetime]:
    """Receipt instants whose clocks fit in the calendar's span, with room for
    the longest clock and its extension; outside it a case has no clocks, so it
    must not count as "never computed" either."""
    calendar = services.calendar
    first = datetime.combine(calendar.first, time(0), tzinfo=LONDON)
    last = datetime.combine(calendar.last - timedelta(days=366), time(0), tzinfo=LONDON)
    return first, last


def _fill(row: StoredDeadline, deadline: Deadline, status: str, services: Services, now: datetime) -> None:
    row.paragraph, row.title = deadline.paragraph, deadline.title
    row.started_at, row.due, row.lapses_at = deadline.started_at, deadline.due, deadline.lapses_at
    row.original_due = deadline.original_due or deadline.due
    row.calendar_version, row.stopped_at = deadline.calendar_version, deadline.stopped_at
    row.missed_at, row.ended_by = deadline.missed_at, deadline.ended_by
    row.computed_at = now
    row.next_reminder_at = None
    if deadline.running and status == OPEN:
        try:
            row.next_reminder_at = first_reminder_at(deadline.due, services.ladder, services.calendar, now)
        except CalendarRangeError:  # the ladder would step past the calendar's span
            row.next_reminder_at = None


def _moved(row: StoredDeadline, deadline: Deadline) -> str:
    why = (
        f"calendar {row.calendar_version} -> {deadline.calendar_version}"
        if row.calendar_version != deadline.calendar_version
        else "recorded on the case"
    )
    moved = f"due {row.due.isoformat()} -> {deadline.due.isoformat()}"
    return f"{deadline.clock} ({deadline.paragraph}) {moved}: {why}"
