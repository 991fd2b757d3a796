"""Search on PostgreSQL: GIN expression indexes (migration 0009), plainto_tsquery, ts_rank.

The document expressions below are the index expressions of migration 0009,
word for word: PostgreSQL uses an expression index only for a WHERE clause that
repeats its expression. tests/integration/test_search.py checks the plans.

What costs time is ``to_tsvector``, about 0.4 ms per KB: an expression index
stores no tsvector, so whatever reads a document outside the index parses it
again. So documents are only matched through the indexes, as exact bitmaps
(never rechecked), and each table has two: the *head* (name, subject, email; a
mail's subject and sender) and the whole *text*. A head hit is in the higher
tier and ranked by ``ts_rank`` of its head, which is short; a hit in the text
alone ranks below it, newest case first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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


def _address(column: str) -> str:
    """An address three ways: whole, split at "@" (the domain as a host name)
    and split at every punctuation mark (each part as a word)."""
    return f"{column} || ' ' || translate({column}, '@', ' ') || ' ' || translate({column}, '@._+-', '     ')"


_COMPLAINT_HEAD = f"complainant_name || ' ' || subject || ' ' || {_address('complainant_email')}"
_MAIL_HEAD = f"subject || ' ' || from_name || ' ' || {_address('from_email')}"
COMPLAINT_HEAD = f"to_tsvector('english', {_COMPLAINT_HEAD})"
_COMPLAINT_REST = "left(postal_address, 2000) || ' ' || left(description, 100000)"
COMPLAINT_TEXT = f"to_tsvector('english', {_COMPLAINT_HEAD} || ' ' || {_COMPLAINT_REST})"
PARTY_TEXT = f"to_tsvector('english', name || ' ' || {_address('email')})"
MAIL_HEAD = f"to_tsvector('english', {_MAIL_HEAD})"
MAIL_TEXT = f"to_tsvector('english', {_MAIL_HEAD} || ' ' || left(body_text, 100000))"
INDEXES = {
    "search_complaints_head": COMPLAINT_HEAD,
    "search_complaints_text": COMPLAINT_TEXT,
    "search_case_parties_text": PARTY_TEXT,
    "search_mails_head": MAIL_HEAD,
    "search_mails_text": MAIL_TEXT,
}

# Every term must match (AND); plainto_tsquery reads no operators at all, so any
# text the parser let through is words.
_QUERY = "plainto_tsquery('english', :terms)"

# ts_headline marks matched words with the snippet marks; on a short field the
# whole field comes back, on a long one an excerpt. Long text is cut first: the
# headline parses all of what it is given, for every row on the page.
_WHOLE = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_PART = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12"
HEADLINE_INPUT_CHARS = 10000

# For the search statements only (put back afterwards: the caller's transaction
# may go on). work_mem: a bitmap over every mail with a common word stays exact,
# so no row is rechecked, which would parse it again. enable_seqscan: the
# planner counts to_tsvector as cheap and, under a LIMIT, would rather filter
# the table row by row than read the index. plan_cache_mode: psycopg prepares a
# statement run five times, and PostgreSQL may then plan it once for any terms
# and officer; how common the terms are decides the plan, so plan every search.
_PLANNER = {"work_mem": "64MB", "enable_seqscan": "off", "plan_cache_mode": "force_custom_plan"}


def branches(officer: str | None) -> dict[str, str]:
    """The SELECTs ``ranking.ranked_sql`` pools, one per index.

    Each matches inside a subquery fenced with OFFSET 0 and applies the officer
    outside it. Without the fence the planner may start from the officer's
    cases (there is an index on officer) and parse each of their mails to test
    it; with it, the index finds the matches and the officer filters those,
    lazily, until the LIMIT is met."""

    def branch(select: str, table: str, columns: str, document: str, officer_check: str) -> str:
        # The partial mail indexes hold only mails filed to a case: the condition
        # lets the planner prove that the query wants no others.
        filed = " AND complaint_id IS NOT NULL" if table == "mails" else ""
        where = f" WHERE {officer_check}" if officer is not None else ""
        return (
            f"SELECT {select} FROM (SELECT {columns} FROM {table}"
            f" WHERE {document} @@ {_QUERY}{filed} OFFSET 0) AS t{where}"
        )

    complaint = "t.officer = :officer"
    other = officer_check("t.complaint_id")
    none = "CAST(NULL AS bigint) AS source_id"
    own = "CAST(id AS bigint) AS source_id"
    zero = "CAST(0 AS real) AS rank"
    return {
        "complaint_head": branch(
            f"id AS complaint_id, {TIER_STRONG} AS tier, ts_rank({COMPLAINT_HEAD}, {_QUERY}) AS rank,"
            f" 'complaint' AS kind, {none}",
            "complaints",
            "id, officer, complainant_name, subject, complainant_email",
            COMPLAINT_HEAD,
            complaint,
        ),
        "complaint_text": branch(
            f"id AS complaint_id, {TIER_CASE_TEXT} AS tier, {zero}, 'complaint' AS kind, {none}",
            "complaints",
            "id, officer",
            COMPLAINT_TEXT,
            complaint,
        ),
        "party_text": branch(
            f"complaint_id, {TIER_STRONG} AS tier, ts_rank({PARTY_TEXT}, {_QUERY}) AS rank,"
            f" 'party' AS kind, {own}",
            "case_parties",
            "id, complaint_id, name, email",
            PARTY_TEXT,
            other,
        ),
        "mail_head": branch(
            f"complaint_id, {TIER_MAIL_HEAD} AS tier, ts_rank({MAIL_HEAD}, {_QUERY}) AS rank,"
            f" 'mail' AS kind, {own}",
            "mails",
            "id, complaint_id, subject, from_name, from_email",
            MAIL_HEAD,
            other,
        ),
        "mail_text": branch(
            f"complaint_id, {TIER_MAIL_TEXT} AS tier, {zero}, 'mail' AS kind, {own}",
            "mails",
            "id, complaint_id",
            MAIL_TEXT,
            other,
        ),
    }


@contextmanager
def planner_settings(session: Session) -> Iterator[None]:
    names = list(_PLANNER)
    before = [
        session.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar_one() for name in names
    ]
    for name in names:
        session.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": name, "value": _PLANNER[name]}
        )
    try:
        yield
    finally:
        for name, value in zip(names, before, strict=True):
            session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def find(session: Session, terms: Sequence[str], officer: str | None, limit: int, offset: int) -> list[Hit]:
    params: dict[str, object] = {"terms": " ".join(terms)}
    if officer is not None:
        params["officer"] = officer
    with planner_settings(session):
        return run_ranked(session, ranked_sql(branches(officer)), params, limit, offset)


def marked_fields(session: Session, terms: Sequence[str], hits: Sequence[Hit]) -> Fields:
    """Per complaint on the page: (label, text with matched words marked) for each
    field of its best hit, in a fixed order."""
    params = {"terms": " ".join(terms), "whole": _WHOLE, "part": _PART, "cut": HEADLINE_INPUT_CHARS}
    found: Fields = {}
    complaints = [hit.complaint_id for hit in hits if hit.kind == "complaint"]
    if complaints:
        rows = session.execute(
            text(
                "SELECT id,"
                f" ts_headline('english', complainant_name, {_QUERY}, :whole),"
                f" ts_headline('english', subject, {_QUERY}, :whole),"
                f" ts_headline('english', complainant_email, {_QUERY}, :whole),"
                f" ts_headline('english', left(postal_address, 2000), {_QUERY}, :whole),"
                f" ts_headline('english', left(description, :cut), {_QUERY}, :part)"
                " FROM complaints WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {**params, "ids": complaints},
        )
        for key, name, subject, email, address, description in rows:
            found[key] = [
                ("name", name),
                ("subject", subject),
                ("email", email),
                ("address", address),
                ("description", description),
            ]
    parties = [hit.source_id for hit in hits if hit.kind == "party"]
    if parties:
        rows = session.execute(
            text(
                f"SELECT complaint_id, ts_headline('english', name, {_QUERY}, :whole), email"
                " FROM case_parties WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {**params, "ids": parties},
        )
        for key, name, email in rows:
            found[key] = [("party", name), ("party", email)]
    mails = [hit.source_id for hit in hits if hit.kind == "mail"]
    if mails:
        rows = session.execute(
            text(
                "SELECT complaint_id,"
                f" ts_headline('english', subject, {_QUERY}, :whole),"
                f" ts_headline('english', from_name, {_QUERY}, :whole),"
                " from_email,"
                f" ts_headline('english', left(body_text, :cut), {_QUERY}, :part)"
                " FROM mails WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {**params, "ids": mails},
        )
        for key, subject, from_name, from_email, body in rows:
            found[key] = [
                ("mail subject", subject),
                ("mail sender", from_name),
                ("mail sender", from_email),
                ("mail text", body),
            ]
    return found
