"""What a search returns: a page of cases, each with what a result list shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SearchResult:
    complaint_id: str
    reference: str  # the ID with its check character, as printed for residents
    status: str
    stage: int
    received_at: datetime  # aware, UTC
    complainant_name: str
    subject: str
    officer: str  # "" = the team's shared addresses
    # Where the query matched: "reference", "name", "email", "subject", "address",
    # "description", "party", "mail subject", "mail sender" or "mail text".
    matched_in: str
    # Plain text around the match, at most SNIPPET_CHARS long; never markup (the
    # caller escapes it like any other text).
    snippet: str
    score: float  # higher is better; only the order means anything


@dataclass(frozen=True)
class SearchPage:
    query: str  # what was searched for: the terms as understood, or the complaint ID
    results: tuple[SearchResult, ...]
    offset: int
    limit: int
    has_more: bool  # another page follows
    # Some source matched more than CANDIDATES_PER_SOURCE rows and only that many
    # were ranked: the person searching should narrow the query.
    truncated: bool = False
    notice: str = ""  # plain text to show above the results, "" when nothing to say
