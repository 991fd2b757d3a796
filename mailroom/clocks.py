"""The Code deadlines of stored complaints: a case's events from the store, fed
to the pure rules in ``mailroom/domain/deadlines.py`` with the calendar and now."""

from __future__ import annotations

from mailroom.domain.deadlines import CaseEvent, Deadline, case_deadlines
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint

OPEN_STATUSES = ("open",)


def deadlines_of(services: Services, repo: Repository, complaint: Complaint) -> list[Deadline]:
    events = [CaseEvent("received", complaint.received_at)]
    events += [CaseEvent(event.kind, event.at) for event in repo.events_of_case(complaint.id)]
    return case_deadlines(
        events,
        services.rule_pack,
        services.calendar,
        services.clock.now(),
        services.settings.calendar.cutoff,
        services.settings.policy.due_soon_working_days,
    )


def open_deadlines(services: Services, repo: Repository) -> list[tuple[Complaint, Deadline]]:
    """Clocks running on open complaints (not yet met), soonest first."""
    running = [
        (complaint, deadline)
        for complaint in repo.list_complaints()
        if complaint.status in OPEN_STATUSES
        for deadline in deadlines_of(services, repo, complaint)
        if deadline.stopped_at is None
    ]
    return sorted(running, key=lambda pair: (pair[1].lapses_at, pair[0].id))
