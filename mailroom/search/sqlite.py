"""Search on SQLite: the FTS5 tables of migration 0009, kept in step by triggers.

Terms reach FTS5 only as quoted phrases ("term", quotes doubled), so nothing a
person types is read as FTS5 syntax; all phrases must match (implicit AND). The
tiers come from column filters: a second MATCH restricted to the strong
columns. FTS tables are named without aliases because FTS5's MATCH and its
auxiliary functions (bm25, highlight, snippet) take the table's own name;
CROSS JOIN keeps the FTS scan as the outer loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from mailroom.search.ranking import (
    TIER_CASE_TEXT,
    TIER_MAIL_HEAD,
    TIER_MAIL_TEXT,
    TIER_STRONG,
    Fields,
    Hit,
    officer_check,
    ranked_sql,
    run_ranked,
)
from mailroom.search.snippets import MARK_END, MARK_START

_STRONG_COMPLAINT_COLUMNS = "{complainant_name complainant_email subject}"
_STRONG_MAIL_COLUMNS = "{subject from_name from_email}"
SNIPPET_TOKENS = 24
# PostgreSQL's English stop words (tsearch_data/english.stop): FTS5 keeps every
# word, so without this "damp and mould" would need the word "and" on SQLite but
# not on PostgreSQL.
_STOP_TEXT = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she "
    "her hers herself it its itself they them their theirs themselves what which who whom this that "
    "these those am is are was were be been being have has had having do does did doing a an the and "
    "but if or because as until while of at by for with about against between into through during "
    "before after above below to from up down in out on off over under again further then once here "
    "there when where why how all any both each few more most other some such no nor not only own "
    "same so than too very s t can will just don should now"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())


def fts_query(terms: Sequence[str]) -> str:
    """Each term as an FTS5 string: inside double quotes every character but the
    quote itself is text, and the tokenizer keeps only letters and digits. ""
    when nothing but stop words is left."""
    kept = [term for term in terms if term.casefold() not in STOP_WORDS]
    return " ".join('"' + term.replace('"', '""') + '"' for term in kept)


def branches(officer: str | None) -> dict[str, str]:
    """The SELECTs ``ranking.ranked_sql`` pools; they bind ``:any_column``,
    ``:strong_complaint``, ``:strong_mail`` (and ``:officer``)."""

    def mine(column: str) -> str:
        return f" AND {officer_check(column)}" if officer is not None else ""

    complaints_officer = mine("search_complaints_fts.complaint_id")
    mails_officer = mine("m.complaint_id")

    def complaint_branch(match: str, tier: int) -> str:
        return (
            f"SELECT complaint_id, {tier} AS tier, -bm25(search_complaints_fts) AS rank,"
            " 'complaint' AS kind, rowid AS source_id FROM search_complaints_fts"
            f" WHERE search_complaints_fts MATCH :{match}{complaints_officer}"
        )

    def mail_branch(match: str, tier: int) -> str:
        return (
            f"SELECT m.complaint_id, {tier} AS tier, -bm25(search_mails_fts) AS rank,"
            " 'mail' AS kind, m.id AS source_id"
            " FROM search_mails_fts CROSS JOIN mails AS m ON m.id = search_mails_fts.rowid"
            f" WHERE search_mails_fts MATCH :{match} AND m.complaint_id IS NOT NULL{mails_officer}"
        )

    return {
        "complaint_strong": complaint_branch("strong_complaint", TIER_STRONG),
        "complaint_any": complaint_branch("any_column", TIER_CASE_TEXT),
        "party_hits": (
            f"SELECT p.complaint_id, {TIER_STRONG} AS tier, -bm25(search_case_parties_fts) AS rank,"
            " 'party' AS kind, p.id AS source_id"
            " FROM search_case_parties_fts CROSS JOIN case_parties AS p"
            " ON p.id = search_case_parties_fts.rowid"
            f" WHERE search_case_parties_fts MATCH :any_column{mine('p.complaint_id')}"
        ),
        "mail_strong": mail_branch("strong_mail", TIER_MAIL_HEAD),
        "mail_any": mail_branch("any_column", TIER_MAIL_TEXT),
    }


def find(session: Session, terms: Sequence[str], officer: str | None, limit: int, offset: int) -> list[Hit]:
    any_column = fts_query(terms)
    if not any_column:
        return []  # as on PostgreSQL, where such a query has no lexemes and matches nothing
    params: dict[str, object] = {
        "any_column": any_column,
        # A column filter before a parenthesised group applies to every phrase in it.
        "strong_complaint": f"{_STRONG_COMPLAINT_COLUMNS} : ({any_column})",
        "strong_mail": f"{_STRONG_MAIL_COLUMNS} : ({any_column})",
    }
    if officer is not None:
        params["officer"] = officer
    return run_ranked(session, ranked_sql(branches(officer)), params, limit, offset)


def marked_fields(session: Session, terms: Sequence[str], hits: Sequence[Hit]) -> Fields:
    """Per complaint on the page: (label, text with matched words marked) for each
    field of its best hit, in a fixed order. highlight() gives a whole column with
    its matches marked, snippet() an excerpt of a long one; both need the row to
    come from a MATCH, so each query repeats it."""
    params = {"q": fts_query(terms), "ms": MARK_START, "me": MARK_END, "n": SNIPPET_TOKENS}
    found: Fields = {}

    def rows(sql: str, ids: list[int]) -> list[tuple[str, ...]]:
        if not ids:
            return []
        statement = text(sql).bindparams(bindparam("ids", expanding=True))
        return [tuple(row) for row in session.execute(statement, {**params, "ids": ids})]

    for key, name, email, subject, address, description in rows(
        "SELECT complaint_id, highlight(search_complaints_fts, 1, :ms, :me),"
        " highlight(search_complaints_fts, 2, :ms, :me), highlight(search_complaints_fts, 3, :ms, :me),"
        " highlight(search_complaints_fts, 4, :ms, :me),"
        " snippet(search_complaints_fts, 5, :ms, :me, '…', :n)"
        " FROM search_complaints_fts WHERE search_complaints_fts MATCH :q AND rowid IN :ids",
        [hit.source_id for hit in hits if hit.kind == "complaint" and hit.source_id is not None],
    ):
        found[key] = [
            ("name", name),
            ("subject", subject),
            ("email", email),
            ("address", address),
            ("description", description),
        ]
    for key, name, email in rows(
        "SELECT p.complaint_id, highlight(search_case_parties_fts, 0, :ms, :me),"
        " highlight(search_case_parties_fts, 1, :ms, :me)"
        " FROM search_case_parties_fts CROSS JOIN case_parties AS p ON p.id = search_case_parties_fts.rowid"
        " WHERE search_case_parties_fts MATCH :q AND search_case_parties_fts.rowid IN :ids",
        [hit.source_id for hit in hits if hit.kind == "party" and hit.source_id is not None],
    ):
        found[key] = [("party", name), ("party", email)]
    for key, subject, from_name, from_email, body in rows(
        "SELECT m.complaint_id, highlight(search_mails_fts, 0, :ms, :me),"
        " highlight(search_mails_fts, 1, :ms, :me), highlight(search_mails_fts, 2, :ms, :me),"
        " snippet(search_mails_fts, 3, :ms, :me, '…', :n)"
        " FROM search_mails_fts CROSS JOIN mails AS m ON m.id = search_mails_fts.rowid"
        " WHERE search_mails_fts MATCH :q AND search_mails_fts.rowid IN :ids",
        [hit.source_id for hit in hits if hit.kind == "mail" and hit.source_id is not None],
    ):
        found[key] = [
            ("mail subject", subject),
            ("mail sender", from_name),
            ("mail sender", from_email),
            ("mail text", body),
        ]
    return found
