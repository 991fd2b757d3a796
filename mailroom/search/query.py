"""Turn what a person typed into something safe to hand to the database.

Nothing typed reaches SQL or a full-text query syntax as syntax: control
characters (NUL included) become spaces, the text is cut to MAX_QUERY_CHARS, and
what remains is split into at most MAX_TERMS plain terms. Each backend then
quotes the terms its own way (``plainto_tsquery`` for PostgreSQL, FTS5 phrases
for SQLite), so operators such as ``NEAR``, ``*``, ``:``, ``^``, ``OR`` or
parentheses are only words, or nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailroom.domain.ids import typed_complaint_id

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TERM_CHARS = 64


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]  # plain terms, all to be matched
    complaint_id: str | None  # set when the query is a complaint ID or case reference
    notice: str = ""  # why nothing will be found, for the person searching

    @property
    def text(self) -> str:
        return self.complaint_id or " ".join(self.terms)


def parse_query(text: str, id_prefix: str) -> ParsedQuery:
    cleaned = _visible(text)[:MAX_QUERY_CHARS].strip()
    id_shape = re.compile(rf"{re.escape(id_prefix)}-\d{{4}}-\d{{4,10}}(?:-[0-9A-Z])?")
    if id_shape.fullmatch(cleaned.upper()):
        try:
            return ParsedQuery((), typed_complaint_id(cleaned))
        except ValueError as exc:
            # A mistyped reference shows nothing rather than a neighbour's case.
            return ParsedQuery((), None, str(exc))
    terms: list[str] = []
    seen: set[str] = set()
    for chunk in cleaned.split():
        term = chunk[:MAX_TERM_CHARS]
        # A chunk of punctuation alone ("*", '"', "(") is syntax, never a word.
        if not any(char.isalnum() for char in term) or term.casefold() in seen:
            continue
        seen.add(term.casefold())
        terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return ParsedQuery(tuple(terms), None)


def _visible(text: str) -> str:
    """Every control, format, surrogate, private-use or unassigned character as a
    space: NUL cannot be sent to PostgreSQL at all, a lone surrogate cannot be
    encoded, and the private-use characters are search's own snippet markers."""
    return "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
