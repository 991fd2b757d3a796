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
    """At most SNIPPET_CHARS of ``text`` on one line, starting a little before
    position ``around``, without marks or control characters."""
    start = max(0, around - SNIPPET_CHARS // 4)
    if start > 0:  # begin at a word, not inside one
        space = text.find(" ", start, around)
        start = space + 1 if space >= 0 else start
    window = text[start : start + SNIPPET_CHARS * 2]
    plain = "".join(
        " " if unicodedata.category(char).startswith("C") else char
        for char in window
        if char not in (MARK_START, MARK_END)
    )
    line = " ".join(plain.split())
    if start > 0 and not line.startswith("…"):
        line = "…" + line
    if len(line) > SNIPPET_CHARS:
        line = line[: SNIPPET_CHARS - 1].rstrip() + "…"
    return line
