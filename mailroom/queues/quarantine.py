"""The quarantine queue: mail that could not be ingested (unparseable, over the size
limit, or a step failed), kept until a person retries it (``mailroom/quarantine.py``).
The same mails ``quarantine list`` shows (``store/reader.py``: outcome "quarantined").

Quarantined mail is on no case, so an officer restricted to their own cases sees none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from mailroom.queues.page import Key, Page, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, MAILS, of_officer, optional, reading
from mailroom.services import Services

QUARANTINED = "quarantined"  # domain.models.Outcome.QUARANTINED


@dataclass(frozen=True)
class QuarantineRow:
    mail_id: int
    received_at: datetime
    ingested_at: datetime
    from_email: str | None
    subject: str
    reason: str  # why it is held: the error, or the size over the limit
    attempts: int  # ingestion plus each retry
    size: int
    path: str  # its folder, relative to the storage root


_M = MAILS.c
_SORTS = {
    "received": (Key(_M.received_at), Key(_M.id)),
    "attempts": (Key(_M.attempts), Key(_M.id)),
}


def quarantine_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    sort: str = "received",
    with_total: bool = False,
) -> Page[QuarantineRow]:
    """Quarantined mails, oldest first (``sort``: received or attempts, "-" reverses)."""
    query = select(
        _M.id,
        _M.received_at,
        _M.ingested_at,
        _M.from_email,
        _M.subject,
        _M.reason,
        _M.attempts,
        _M.size,
        _M.storage_path,
    ).where(_M.outcome == QUARANTINED)
    if officer is not None:
        query = query.join(COMPLAINTS, COMPLAINTS.c.id == _M.complaint_id).where(of_officer(officer))
    query = query.order_by(*ordering(sort, _SORTS))
    with reading(services) as connection:
        return fetch_page(connection, query, _row, page=page, page_size=page_size, with_total=with_total)


def _row(row: Row[Any]) -> QuarantineRow:
    return QuarantineRow(
        mail_id=row.id,
        received_at=row.received_at,
        ingested_at=row.ingested_at,
        from_email=optional(row.from_email),
        subject=row.subject,
        reason=row.reason,
        attempts=row.attempts,
        size=row.size,
        path=row.storage_path,
    )
