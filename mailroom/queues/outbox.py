"""Outbound mail that did not arrive: outbox rows that failed to send (``outbound.py``
gave up on them) or bounced (``bounces.py`` linked a delivery report to them). The
same rows ``mailroom outbox list --status failed|bounced`` shows.

A bounced row names the report it was linked from (the ``bounce_linked`` event on the
case, whose line names the outbox row), so the desk can open the server's report.
Rows on no case (a reminder digest, an alert to the team) are seen only without an
officer restriction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import Row

from mailroom.queues.page import Key, Page, QueueError, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, EVENTS, OUTBOX, of_officer, optional, reading
from mailroom.services import Services

FAILED, BOUNCED = "failed", "bounced"  # outbound.FAILED; bounces.py marks "bounced"
PROBLEMS = (FAILED, BOUNCED)
BOUNCE_LINKED = "bounce_linked"  # bounces.LINKED
_OUTBOX_IN_DETAIL = re.compile(r"\boutbox (\d+)\)")  # bounces.py: "(... outbox 12) bounced: ..."


@dataclass(frozen=True)
class OutboxRow:
    outbox_id: int
    status: str  # failed or bounced
    created_at: datetime
    sent_at: datetime | None  # a bounced mail was sent first
    complaint_id: str | None
    recipients: tuple[str, ...]
    subject: str
    attempts: int
    error: str | None  # the last send error, or the receiving server's words
    report_mail_id: int | None  # bounced: the delivery report's mail
    officer: str | None


_O, _C = OUTBOX.c, COMPLAINTS.c
_SORTS = {"created": (Key(_O.created_at), Key(_O.id))}


def outbox_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    status: str | None = None,
    sort: str = "-created",
    with_total: bool = False,
) -> Page[OutboxRow]:
    """Failed and bounced mail, newest first. ``status``: only "failed" or only "bounced"."""
    if status and status not in PROBLEMS:
        raise QueueError(f"outbox status {status!r}: one of {', '.join(PROBLEMS)}")
    statuses = [status] if status else list(PROBLEMS)
    query = select(
        _O.id,
        _O.status,
        _O.created_at,
        _O.sent_at,
        _O.complaint_id,
        _O.recipients,
        _O.subject,
        _O.attempts,
        _O.last_error,
        _C.officer,
    ).where(_O.status.in_(statuses))
    if officer is None:
        query = query.outerjoin(COMPLAINTS, _C.id == _O.complaint_id)
    else:
        query = query.join(COMPLAINTS, _C.id == _O.complaint_id).where(of_officer(officer))
    query = query.order_by(*ordering(sort, _SORTS))
    with reading(services) as connection:
        found = fetch_page(
            connection, query, lambda row: row, page=page, page_size=page_size, with_total=with_total
        )
        reports = _reports(connection, found.rows)
    rows = tuple(_row(row, reports.get(row.id)) for row in found.rows)
    return Page(rows, found.number, found.size, found.has_more, found.total)


def _reports(connection: Connection, rows: tuple[Row[Any], ...]) -> dict[int, int]:
    """Outbox id -> the mail id of the report that bounced it, for the page's bounced rows."""
    cases = sorted({row.complaint_id for row in rows if row.status == BOUNCED and row.complaint_id})
    if not cases:
        return {}
    e = EVENTS.c
    query = (
        select(e.mail_id, e.detail)
        .where(e.complaint_id.in_(cases), e.kind == BOUNCE_LINKED, e.mail_id.is_not(None))
        .order_by(e.id)
    )
    found: dict[int, int] = {}
    for mail_id, detail in connection.execute(query):
        match = _OUTBOX_IN_DETAIL.search(detail)
        if match:
            found.setdefault(int(match.group(1)), int(mail_id))  # the first report linked it
    return found


def _row(row: Row[Any], report: int | None) -> OutboxRow:
    return OutboxRow(
        outbox_id=row.id,
        status=row.status,
        created_at=row.created_at,
        sent_at=row.sent_at,
        complaint_id=row.complaint_id,
        recipients=tuple(address.strip() for address in row.recipients.split(",") if address.strip()),
        subject=row.subject,
        attempts=row.attempts,
        error=optional(row.last_error),
        report_mail_id=report,
        officer=optional(row.officer),
    )
