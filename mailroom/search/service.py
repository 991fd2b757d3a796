"""The use case: find complaints by reference, people, address, text and filed mail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Integer, String, text
from sqlalchemy.orm import Session

from mailroom.domain.ids import case_reference
from mailroom.search.model import SearchPage, SearchResult
from mailroom.search.query import ParsedQuery, parse_query
from mailroom.search.ranking import CANDIDATES_PER_SOURCE, Hit, labels_for
from mailroom.search.snippets import pick_snippet
from mailroom.store.schema import UTCDateTime

if TYPE_CHECKING:
    from mailroom.services import Services

MAX_LIMIT = 100
# Above any text match (tiers 1 to 4, plus less than 1 for the rank); finite, so
# that the page still turns into JSON.
REFERENCE_SCORE = 10.0
# Deeper than this a page lies past what ranking looked at anyway
# (CANDIDATES_PER_SOURCE a branch): such a page is empty, with a notice, rather
# than another page than the one asked for.
MAX_OFFSET = 5 * CANDIDATES_PER_SOURCE


def search_cases(
    services: Services, query: str, *, officer: str | None, limit: int = 25, offset: int = 0
) -> SearchPage:
    """One page of the complaints matching ``query``, best first.

    ``query``: a complaint ID or printed case reference (any case, check character
    optional; a wrong one finds nothing and says why), else words that must all
    appear, in any of: complainant name, email, address, subject, description, a
    party's name or email, or the subject, sender or text of a mail filed to the
    case. ``officer``: only complaints whose officer is exactly this address
    (None: every complaint). ``limit`` is held to 1..MAX_LIMIT and ``offset`` to
    0 and up; past MAX_OFFSET the page is empty. Never raises for anything typed.
    """
    with services.store.transaction() as repo:
        prefix = services.settings.ids.prefix
        return search_in_session(
            repo.session, query, id_prefix=prefix, officer=officer, limit=limit, offset=offset
        )


def search_in_session(
    session: Session, query: str, *, id_prefix: str, officer: str | None, limit: int, offset: int
) -> SearchPage:
    """``search_cases`` inside a transaction the caller already has."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    parsed = parse_query(query, id_prefix)
    if offset > MAX_OFFSET:
        notice = f"Only the first {MAX_OFFSET:,} results can be paged through: narrow the search."
        return SearchPage(parsed.text, (), offset, limit, False, True, notice)
    if parsed.complaint_id is not None:
        return _by_id(session, parsed, officer, limit, offset)
    if not parsed.terms:
        return SearchPage(parsed.text, (), offset, limit, False, notice=parsed.notice)
    if session.get_bind().dialect.name == "postgresql":
        from mailroom.search import postgres as backend
    else:
        from mailroom.search import sqlite as backend  # type: ignore[no-redef]
    # One row more than the page: whether another page follows, without a COUNT.
    hits = backend.find(session, parsed.terms, officer, limit + 1, offset)
    page = hits[:limit]
    fields = backend.marked_fields(session, parsed.terms, page)
    results = tuple(_result(hit, fields.get(hit.complaint_id, []), parsed.terms) for hit in page)
    truncated = any(hit.widest > CANDIDATES_PER_SOURCE for hit in hits)
    return SearchPage(parsed.text, results, offset, limit, len(hits) > limit, truncated)


def _result(hit: Hit, fields: Sequence[tuple[str, str]], terms: Sequence[str]) -> SearchResult:
    matched_in, snippet = pick_snippet(labels_for(hit.kind, hit.tier, fields), terms)
    return SearchResult(
        complaint_id=hit.complaint_id,
        reference=case_reference(hit.complaint_id),
        status=hit.status,
        stage=hit.stage,
        received_at=hit.received_at,
        complainant_name=hit.complainant_name,
        subject=hit.subject,
        officer=hit.officer,
        matched_in=matched_in,
        snippet=snippet,
        score=float(hit.score),
    )


def _by_id(session: Session, parsed: ParsedQuery, officer: str | None, limit: int, offset: int) -> SearchPage:
    """The case itself, alone: a reference is never mixed with text matches. An
    officer who may not see it gets what a missing case gives: nothing."""
    statement = text(
        "SELECT id, status, stage, received_at, complainant_name, subject, officer FROM complaints"
        " WHERE id = :id" + (" AND officer = :officer" if officer is not None else "")
    ).columns(
        id=String,
        status=String,
        stage=Integer,
        received_at=UTCDateTime(),
        complainant_name=String,
        subject=String,
        officer=String,
    )
    params = {"id": parsed.complaint_id, "officer": officer}
    row = session.execute(statement, params).first()
    if row is None or offset > 0:
        return SearchPage(parsed.text, (), offset, limit, False)
    reference = case_reference(row.id)
    result = SearchResult(
        complaint_id=row.id,
        reference=reference,
        status=row.status,
        stage=row.stage,
        received_at=row.received_at,
        complainant_name=row.complainant_name,
        subject=row.subject,
        officer=row.officer,
        matched_in="reference",
        snippet=reference,
        score=REFERENCE_SCORE,
    )
    return SearchPage(parsed.text, (result,), offset, limit, False)
