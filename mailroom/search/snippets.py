"""The short plain-text excerpt that shows where a case matched.

The database marks matched words in each candidate field with two private-use
characters (``ts_headline`` on PostgreSQL, FTS5 ``highlight``/``snippet`` on
SQLite); here the first field with a mark is chosen, the marks are removed and
the text is cut down. Private-use characters never survive ``parse_query``, so
the marks cannot come from the query; text that contained them already just
loses them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

MARK_START = "\ue000"
MARK_END = "\ue001"
SNIPPET_CHARS = 160


def pick_snippet(fields: Sequence[tuple[str, str]], terms: Sequence[str]) -> tuple[str, str]:
    """(label, snippet) for the first of ``fields`` (label, marked text), in order of
    preference, that matched. The database marks stemmed words; a plain
    substring of a term also counts, for the parts of an email address that
    PostgreSQL keeps as one token. No field matched: the first with any text."""
    folded = [term.casefold() for term in terms]
    for label, text in fields:
        if MARK_START in text:
            return label, _excerpt(text, text.index(MARK_START))
    for label, text in fields:
        lowered = text.casefold()
        hits = [lowered.find(term) for term in folded if term in lowered]
        if hits:
            return label, _excerpt(text, min(hits))
    for label, text in fields:
        if text.strip():
            return label, _excerpt(text, 0)
    return (fields[0][0] if fields else ""), ""


def _excerpt(text: str, around: int) -> str:
    """``text`` on one line, without marks or control characters; when longer
    than SNIPPET_CHARS, the SNIPPET_CHARS around position ``around``, starting
    at a word a little before it, with an ellipsis where text was cut."""
    line: list[str] = []
    at = 0
    for index, char in enumerate(text):
        if index == around:
            at = len(line)
        if char in (MARK_START, MARK_END):
            continue
        if char.isspace() or unicodedata.category(char).startswith("C"):
            if line and line[-1] != " ":
                line.append(" ")
        else:
            line.append(char)
    whole = "".join(line).rstrip()
    if len(whole) <= SNIPPET_CHARS:
        return whole
    start = max(0, at - SNIPPET_CHARS // 4)
    if start > 0:  # begin at a word, not inside one
        space = whole.find(" ", start, at)
        start = space + 1 if space >= 0 else start
    lead = "…" if start > 0 else ""
    room = SNIPPET_CHARS - len(lead)
    piece = whole[start : start + room]
    if start + room < len(whole):
        piece = piece[: room - 1].rstrip() + "…"
    return lead + piece
