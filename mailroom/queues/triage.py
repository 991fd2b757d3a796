"""The triage queue: mail the rules could not place (``mails.triage_open``), with the
rule that sent it there and why. A person resolves each (``mailroom/triage.py:resolve``);
``guesses.py`` ranks the cases a mail may belong to.

Triage mail is on no case until resolved, so an officer restricted to their own
cases sees none of it: the queue is the inbox team's and managers' (officer None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from mailroom.queues.page import Key, Page, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, MAILS, of_officer, open_triage, optional, reading
from mailroom.services import Services


@dataclass(frozen=True)
class TriageRow:
    mail_id: int
    received_at: datetime
    from_email: str | None
    from_name: str | None
    subject: str
    rule: str  # the classification rule that sent it here ("subject_reference"...)
    reason: str  # its one line: "reference CMP-2026-000123 quoted by x, who is not a party"
    complaint_id: str | None  # None until resolved
    size: int


_M = MAILS.c
_SORTS = {"received": (Key(_M.received_at), Key(_M.id))}


def triage_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    rule: str | None = None,
    sort: str = "received",
    with_total: bool = False,
) -> Page[TriageRow]:
    """Open triage items, oldest first (``sort`` "-received": newest first)."""
    query = select(
        _M.id,
        _M.received_at,
        _M.from_email,
        _M.from_name,
        _M.subject,
        _M.rule,
        _M.reason,
        _M.complaint_id,
        _M.size,
    ).where(open_triage())
    if officer is not None:
        query = query.join(COMPLAINTS, COMPLAINTS.c.id == _M.complaint_id).where(of_officer(officer))
    if rule:
        query = query.where(_M.rule == rule)
    query = query.order_by(*ordering(sort, _SORTS))
    with reading(services) as connection:
        return fetch_page(connection, query, _row, page=page, page_size=page_size, with_total=with_total)


def _row(row: Row[Any]) -> TriageRow:
    return TriageRow(
        mail_id=row.id,
        received_at=row.received_at,
        from_email=optional(row.from_email),
        from_name=optional(row.from_name),
        subject=row.subject,
        rule=row.rule,
        reason=row.reason,
        complaint_id=row.complaint_id,
        size=row.size,
    )
