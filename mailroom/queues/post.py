"""Letters to print and post: issued letters in status "for_post" (``letters/drafts.py:_issue``
sets it when the complainant has no email address or asked for post), with the PDF
to print and the address it goes to.

Nothing in the store marks a letter as posted yet, so a letter stays here after it
is printed; the oldest come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from mailroom.queues.page import Key, Page, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, LETTERS, of_officer, optional, reading
from mailroom.services import Services

FOR_POST = "for_post"  # letters.drafts.FOR_POST


@dataclass(frozen=True)
class PostRow:
    letter_id: int
    complaint_id: str
    letter_type: str
    issued_at: datetime | None
    approved_by: str | None
    pdf_path: str  # relative to the storage root
    complainant_name: str
    postal_address: str | None  # None: the case has none; ask before posting
    contact_preference: str  # "post" (asked for it), or "email" with no address to email
    officer: str | None


_L, _C = LETTERS.c, COMPLAINTS.c
# issued_at is never NULL on a letter for post (set as it is issued), so no NULLS LAST:
# the index on (status, issued_at) is then read forwards or backwards.
_SORTS = {"issued": (Key(_L.issued_at), Key(_L.id))}


def post_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    sort: str = "issued",
    with_total: bool = False,
) -> Page[PostRow]:
    query = (
        select(
            _L.id,
            _L.complaint_id,
            _L.letter_type,
            _L.issued_at,
            _L.approved_by,
            _L.pdf_path,
            _C.complainant_name,
            _C.postal_address,
            _C.contact_preference,
            _C.officer,
        )
        .join(COMPLAINTS, _C.id == _L.complaint_id)
        .where(_L.status == FOR_POST)
    )
    if officer is not None:
        query = query.where(of_officer(officer))
    query = query.order_by(*ordering(sort, _SORTS))
    with reading(services) as connection:
        return fetch_page(connection, query, _row, page=page, page_size=page_size, with_total=with_total)


def _row(row: Row[Any]) -> PostRow:
    return PostRow(
        letter_id=row.id,
        complaint_id=row.complaint_id,
        letter_type=row.letter_type,
        issued_at=row.issued_at,
        approved_by=optional(row.approved_by),
        pdf_path=row.pdf_path,
        complainant_name=row.complainant_name,
        postal_address=optional(row.postal_address),
        contact_preference=row.contact_preference,
        officer=optional(row.officer),
    )
