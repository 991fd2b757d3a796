"""The ranking query both backends share: candidate hits in, one page of cases out.

Each backend contributes *branches*: SELECTs over one source (complaints, case
parties, mails) yielding ``complaint_id, tier, rank, kind, source_id``. Here they
are capped, pooled, reduced to the best hit per complaint and ordered.

Score = tier + rank / (1 + rank), then the complaint ID, newest first. The tier
says where every term matched (4: a complainant's or party's name or email, or
the subject; 3: the address or the description; 2: a filed mail's subject or
sender; 1: a filed mail's text); the database's rank (``ts_rank``, or ``-bm25``
for FTS5) only orders hits within a tier. So a name or subject hit always comes
before a hit in a mail's text, on either database, however many times the mail
repeats the word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, text
from sqlalchemy.orm import Session
from sqlalchemy.types import Float

from mailroom.store.schema import UTCDateTime

# Each branch contributes at most this many matches to the ranking: the scan
# after the index stops there, so reading rows, checking the officer and ranking
# cost the same for a common word as for a rare one (finding the matches in the
# index still grows with the word's frequency: docs/search.md). Past the cap the
# page says ``truncated`` and the person should narrow the query.
CANDIDATES_PER_SOURCE = 500

TIER_STRONG = 4  # name, email, subject of the complaint; a party's name or email
TIER_CASE_TEXT = 3  # the complaint's address or description
TIER_MAIL_HEAD = 2  # a filed mail's subject or sender
TIER_MAIL_TEXT = 1  # a filed mail's text


# Per complaint on a page: (label, text with the matched words marked) for each
# field of its best hit, in a fixed order.
Fields = dict[str, list[tuple[str, str]]]


class Hit(NamedTuple):
    complaint_id: str
    kind: str  # "complaint", "party" or "mail": the source of the best hit
    source_id: int | None  # the party's or mail's id (SQLite: the complaint's FTS row)
    tier: int
    score: float
    widest: int  # the most candidates any one source gave
    status: str
    stage: int
    received_at: datetime
    complainant_name: str
    subject: str
    officer: str


def ranked_sql(branches: Mapping[str, str]) -> str:
    """The whole query for ``branches`` (name -> SELECT without LIMIT). Binds
    ``:cap``, ``:limit`` and ``:offset`` besides the branches' own parameters."""
    ctes = [
        # The cap goes on the inner SELECT: a window over the outer one must not
        # make the scan below run to the end.
        f"{name} AS (SELECT b.*, COUNT(*) OVER () AS branch_size FROM ({select} LIMIT :cap) AS b)"
        for name, select in branches.items()
    ]
    pooled = " UNION ALL ".join(
        f"SELECT complaint_id, tier, rank, kind, source_id, branch_size FROM {name}" for name in branches
    )
    return (
        "WITH " + ", ".join(ctes) + f", hits AS ({pooled}),"
        " scored AS ("
        "  SELECT complaint_id, kind, source_id, tier, tier + rank / (1.0 + rank) AS score,"
        "   ROW_NUMBER() OVER (PARTITION BY complaint_id"
        "    ORDER BY tier + rank / (1.0 + rank) DESC, source_id) AS rn,"
        "   MAX(branch_size) OVER () AS widest"
        "  FROM hits),"
        # Equal scores page by ID, newest first (IDs are allocated in order of
        # receipt): an order the hits carry, so complaints is read for the page
        # alone and not for every candidate.
        " page AS (SELECT complaint_id, kind, source_id, tier, score, widest FROM scored WHERE rn = 1"
        "  ORDER BY score DESC, complaint_id DESC LIMIT :limit OFFSET :offset)"
        " SELECT p.complaint_id, p.kind, p.source_id, p.tier, p.score, p.widest,"
        "  c.status, c.stage, c.received_at, c.complainant_name, c.subject, c.officer"
        " FROM page AS p JOIN complaints AS c ON c.id = p.complaint_id"
        " ORDER BY p.score DESC, p.complaint_id DESC"
    )


def run_ranked(session: Session, sql: str, params: Mapping[str, Any], limit: int, offset: int) -> list[Hit]:
    statement = text(sql).columns(
        complaint_id=String,
        kind=String,
        source_id=Integer,
        tier=Integer,
        score=Float,
        widest=Integer,
        status=String,
        stage=Integer,
        received_at=UTCDateTime(),  # SQLite hands back text; this makes it an aware datetime
        complainant_name=String,
        subject=String,
        officer=String,
    )
    rows = session.execute(
        statement, {**params, "cap": CANDIDATES_PER_SOURCE + 1, "limit": limit, "offset": offset}
    )
    return [Hit(*row) for row in rows]


def officer_check(column: str) -> str:
    """The condition that the complaint ``column`` names is the officer's (binds
    ``:officer``). Written into each branch, before its cap and the page's LIMIT,
    so that pages, ``has_more`` and ``truncated`` count only what the officer may
    see. A correlated EXISTS: one primary-key lookup per candidate, where an IN
    list would first collect every case the officer has, once per branch."""
    return f"EXISTS (SELECT 1 FROM complaints AS o WHERE o.id = {column} AND o.officer = :officer)"


def labels_for(kind: str, tier: int, fields: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``fields`` in the order a snippet should look at them for a hit of this tier:
    the fields that make up the tier first."""
    if (kind, tier) in (("complaint", TIER_CASE_TEXT), ("mail", TIER_MAIL_TEXT)):
        long_first = [field for field in fields if field[0] in ("address", "description", "mail text")]
        return long_first + [field for field in fields if field not in long_first]
    return list(fields)
