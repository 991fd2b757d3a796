"""How many rows each work queue holds, for the desk's start page: one statement of
indexed counts (each queue's filter on the index ``0010_queue_indexes`` gives it).

The numbers are the queues' own: each count uses the membership and officer
restriction of its queue (tests/integration/test_queues.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from mailroom.queues.buckets import Bucket, due_window
from mailroom.queues.deadlines import running
from mailroom.queues.drafts import DRAFT
from mailroom.queues.outbox import PROBLEMS
from mailroom.queues.post import FOR_POST
from mailroom.queues.quarantine import QUARANTINED
from mailroom.queues.tables import COMPLAINTS, LETTERS, MAILS, OUTBOX, of_officer, open_triage, reading
from mailroom.services import Services


@dataclass(frozen=True)
class QueueCounts:
    drafts: int
    triage: int
    quarantine: int
    to_post: int
    outbox_problems: int  # failed or bounced
    overdue: int
    due_today: int
    due_soon: int


def queue_counts(services: Services, *, officer: str | None) -> QueueCounts:
    window = due_window(services)
    letters, mails, outbox = LETTERS.c, MAILS.c, OUTBOX.c
    on_case = COMPLAINTS.c.id

    def letters_in(status: str) -> ColumnElement[int]:
        query = select(func.count()).select_from(LETTERS).where(letters.status == status)
        return _scalar(_restricted(query, on_case == letters.complaint_id, officer))

    def mails_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
        query = select(func.count()).select_from(MAILS).where(condition)
        return _scalar(_restricted(query, on_case == mails.complaint_id, officer))

    def clocks_in(bucket: Bucket) -> ColumnElement[int]:
        query = running(officer).where(window.clause(bucket))
        return select(func.count()).select_from(query.subquery()).scalar_subquery()

    outbox_query = select(func.count()).select_from(OUTBOX).where(outbox.status.in_(PROBLEMS))
    statement = select(
        letters_in(DRAFT),
        mails_where(open_triage()),
        mails_where(mails.outcome == QUARANTINED),
        letters_in(FOR_POST),
        _scalar(_restricted(outbox_query, on_case == outbox.complaint_id, officer)),
        clocks_in(Bucket.OVERDUE),
        clocks_in(Bucket.TODAY),
        clocks_in(Bucket.SOON),
    )
    with reading(services) as connection:
        row = connection.execute(statement).one()
    return QueueCounts(*(int(n) for n in row))


def _restricted(query: Select[Any], joined: ColumnElement[bool], officer: str | None) -> Select[Any]:
    """``query`` on the officer's cases only (rows on no case drop out), as its queue does."""
    if officer is None:
        return query
    return query.join(COMPLAINTS, joined).where(of_officer(officer))


def _scalar(query: Select[Any]) -> ColumnElement[int]:
    return query.scalar_subquery()
