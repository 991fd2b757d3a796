"""The Code deadlines of stored complaints, for the CLI and the case views.

``deadlines_of`` computes a case's clocks from its events (always current);
``open_deadlines`` reads the stored rows (``mailroom/deadline_store.py``) so that
listing every running clock is one query, not one per case."""

from __future__ import annotations

from mailroom.deadline_store import compute
from mailroom.domain.deadlines import Deadline, deadline_state
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, StoredDeadline


def deadlines_of(services: Services, repo: Repository, complaint: Complaint) -> list[Deadline]:
    return compute(services, repo, complaint, services.clock.now())


def open_deadlines(
    services: Services, repo: Repository, officer: str | None = None
) -> list[tuple[Complaint, Deadline]]:
    """Clocks running on open complaints (not yet met), soonest first."""
    return [(complaint, stored_deadline(services, row)) for row, complaint in repo.running_deadlines(officer)]


def stored_deadline(services: Services, row: StoredDeadline) -> Deadline:
    state = deadline_state(
        row.stopped_at,
        row.lapses_at,
        row.due,
        services.calendar,
        services.clock.now(),
        services.settings.policy.due_soon_working_days,
        row.missed_at,
        row.ended_by,
    )
    return Deadline(
        row.clock,
        row.paragraph,
        row.title,
        row.started_at,
        row.due,
        row.lapses_at,
        state,
        row.calendar_version,
        row.stopped_at,
        row.original_due if row.original_due != row.due else None,
        missed_at=row.missed_at,
        ended_by=row.ended_by,
    )
