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
from collections.abc import Sequence
from datetime import datetime

from mailroom.domain.deadlines import CaseEvent, Deadline, case_deadlines
from mailroom.domain.reminders import first_reminder_at
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, StoredDeadline

OPEN = "open"
# Cases refreshed per transaction when catching up after a calendar change.
REFRESH_BATCH = 500


def case_events(repo: Repository, complaint: Complaint) -> list[CaseEvent]:
    """The events the clocks count from, with their structured payloads."""
    events = [CaseEvent("received", complaint.received_at)]
    for event in repo.events_of_case(complaint.id):
        data = json.loads(event.payload) if event.payload else {}
        events.append(CaseEvent(event.kind, event.at, event.id, {k: str(v) for k, v in data.items()}))
    return events


def compute(services: Services, repo: Repository, complaint: Complaint, now: datetime) -> list[Deadline]:
    return case_deadlines(
        case_events(repo, complaint),
        services.rule_pack,
        services.calendar,
        now,
        services.settings.calendar.cutoff,
        services.settings.policy.due_soon_working_days,
    )


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
        for deadline in case_deadlines(
            [CaseEvent("received", received_at)],
            services.rule_pack,
            services.calendar,
            now,
            services.settings.calendar.cutoff,
            services.settings.policy.due_soon_working_days,
        ):
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
            stale = repo.stale_deadline_cases(version, REFRESH_BATCH)
            refresh_cases(services, repo, stale)
        done += len(stale)
        if len(stale) < REFRESH_BATCH:
            return done


def _fill(row: StoredDeadline, deadline: Deadline, status: str, services: Services, now: datetime) -> None:
    row.paragraph, row.title = deadline.paragraph, deadline.title
    row.started_at, row.due, row.lapses_at = deadline.started_at, deadline.due, deadline.lapses_at
    row.original_due = deadline.original_due or deadline.due
    row.calendar_version, row.stopped_at = deadline.calendar_version, deadline.stopped_at
    row.computed_at = now
    row.next_reminder_at = None
    if deadline.running and status == OPEN:
        row.next_reminder_at = first_reminder_at(deadline.due, services.ladder, services.calendar, now)


def _moved(row: StoredDeadline, deadline: Deadline) -> str:
    why = (
        f"calendar {row.calendar_version} -> {deadline.calendar_version}"
        if row.calendar_version != deadline.calendar_version
        else "recorded on the case"
    )
    moved = f"due {row.due.isoformat()} -> {deadline.due.isoformat()}"
    return f"{deadline.clock} ({deadline.paragraph}) {moved}: {why}"
