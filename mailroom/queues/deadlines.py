"""The deadlines queue: Code clocks running on open complaints, by due bucket.

The rows are the stored clocks (``deadlines``, kept current by
``deadline_store.refresh_case``), exactly those the CLI's ``deadlines`` lists:
not yet stopped, on a complaint whose status is "open". Buckets are explained in
``buckets.py``; each row's ``state`` is the one ``deadlines --json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Row

from mailroom.domain.deadlines import deadline_state
from mailroom.queues.buckets import Bucket, DueWindow, due_window, parse_bucket
from mailroom.queues.page import Key, Page, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, DEADLINES, OPEN, of_officer, optional, reading
from mailroom.services import Services


@dataclass(frozen=True)
class DeadlineRow:
    deadline_id: int
    complaint_id: str
    clock: str  # "stage1_response", "remedy#42"
    paragraph: str  # of the Code ("6.3"), or "policy"
    title: str
    due: date
    lapses_at: datetime  # the midnight ending ``due``, London time (UTC here)
    bucket: Bucket
    state: str  # due, due_soon or overdue: as ``mailroom deadlines --json`` says
    missed_at: datetime | None  # lapsed unmet once; a late extension keeps the breach
    extended_from: date | None  # the due date before any extension
    complainant_name: str
    subject: str
    stage: int
    officer: str | None  # None: the team's


_D, _C = DEADLINES.c, COMPLAINTS.c
_SORTS = {
    "due": (Key(_D.due), Key(_D.lapses_at), Key(_D.id)),
    "received": (Key(_C.received_at), Key(_D.id)),
}


def running(officer: str | None = None) -> Select[Any]:
    """Running clocks on open complaints (with the complaint's columns), before any bucket."""
    query = (
        select(
            _D.id,
            _D.complaint_id,
            _D.clock,
            _D.paragraph,
            _D.title,
            _D.due,
            _D.lapses_at,
            _D.missed_at,
            _D.original_due,
            _D.ended_by,
            _C.complainant_name,
            _C.subject,
            _C.stage,
            _C.officer,
        )
        .join(COMPLAINTS, _C.id == _D.complaint_id)
        .where(_D.stopped_at.is_(None), _C.status == OPEN)
    )
    return query if officer is None else query.where(of_officer(officer))


def deadlines_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    bucket: Bucket | str | None = None,
    assigned_to: str | None = None,
    sort: str = "due",
    with_total: bool = False,
) -> Page[DeadlineRow]:
    """One page of running clocks. ``officer``: the person looking, restricted to their
    own cases (None: everyone's). ``assigned_to``: a manager's filter by officer ("" for
    the team's unassigned cases). ``bucket``: overdue, today, soon or later (None: all)."""
    window = due_window(services)
    query = running(officer)
    chosen = parse_bucket(bucket)
    if chosen is not None:
        query = query.where(window.clause(chosen))
    if assigned_to is not None:
        query = query.where(_C.officer == assigned_to.strip().lower())
    query = query.order_by(*ordering(sort, _SORTS))
    with reading(services) as connection:
        return fetch_page(
            connection,
            query,
            lambda row: _row(services, window, row),
            page=page,
            page_size=page_size,
            with_total=with_total,
        )


def _row(services: Services, window: DueWindow, row: Row[Any]) -> DeadlineRow:
    state = deadline_state(
        None,
        row.lapses_at,
        row.due,
        services.calendar,
        window.now,
        services.settings.policy.due_soon_working_days,
        row.missed_at,
        row.ended_by,
    )
    return DeadlineRow(
        deadline_id=row.id,
        complaint_id=row.complaint_id,
        clock=row.clock,
        paragraph=row.paragraph,
        title=row.title,
        due=row.due,
        lapses_at=row.lapses_at,
        bucket=window.bucket(row.due, row.lapses_at, row.missed_at),
        state=state.value,
        missed_at=row.missed_at,
        extended_from=row.original_due if row.original_due != row.due else None,
        complainant_name=row.complainant_name,
        subject=row.subject,
        stage=row.stage,
        officer=optional(row.officer),
    )
