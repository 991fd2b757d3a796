"""Search on PostgreSQL: GIN expression indexes (migration 0009) and ts_rank.

The document expressions below are the index expressions of migration 0009,
word for word: PostgreSQL uses an expression index only for a WHERE clause that
repeats its expression. tests/integration/test_search.py checks the plans.
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
    officer_filter,
    ranked_sql,
    run_ranked,
)
from mailroom.search.snippets import MARK_END, MARK_START

COMPLAINT_DOC = (
    "setweight(to_tsvector('english', complainant_name || ' ' || subject || ' ' || complainant_email"
    " || ' ' || translate(complainant_email, '@', ' ')"
    " || ' ' || translate(complainant_email, '@._+-', '     ')), 'A')"
    " || setweight(to_tsvector('english', left(postal_address, 2000)), 'B')"
    " || setweight(to_tsvector('english', left(description, 100000)), 'C')"
)
PARTY_DOC = (
    "to_tsvector('english', name || ' ' || email || ' ' || translate(email, '@', ' ')"
    " || ' ' || translate(email, '@._+-', '     '))"
)
MAIL_DOC = (
    "setweight(to_tsvector('english', subject || ' ' || from_name || ' ' || from_email"
    " || ' ' || translate(from_email, '@', ' ')"
    " || ' ' || translate(from_email, '@._+-', '     ')), 'A')"
    " || setweight(to_tsvector('english', left(body_text, 100000)), 'D')"
)

# Every term must match (AND); plainto_tsquery reads no operators at all, so any
# text the parser let through is words.
_QUERY = "plainto_tsquery('english', :terms)"
# Weight A holds name, subject and email (a mail's subject and sender): every
# term found there puts the hit in the higher tier.
_HEAD = f"ts_filter(b.doc, '{{a}}') @@ {_QUERY}"

# ts_headline marks matched words with the snippet marks; on a short field the
# whole field comes back, on a long one an excerpt. Long text is cut first: the
# headline parses all of what it is given, for every row on the page.
_WHOLE = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_PART = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12"
HEADLINE_INPUT_CHARS = 10000


def branches(officer: str | None) -> dict[str, str]:
    """The SELECTs ``ranking.ranked_sql`` pools. Each computes its document once,
    in a subquery whose LIMIT keeps PostgreSQL from inlining it (and computing the
    tsvector again for the tier and again for the rank)."""
    return {
        "complaint_hits": (
            f"SELECT b.complaint_id, CASE WHEN {_HEAD} THEN {TIER_STRONG} ELSE {TIER_CASE_TEXT} END AS tier,"
            f" ts_rank(b.doc, {_QUERY}) AS rank, 'complaint' AS kind, CAST(NULL AS bigint) AS source_id"
            f" FROM (SELECT id AS complaint_id, {COMPLAINT_DOC} AS doc FROM complaints"
            f" WHERE {COMPLAINT_DOC} @@ {_QUERY}"
            + (" AND officer = :officer" if officer is not None else "")
            + " LIMIT :cap) AS b"
        ),
        "party_hits": (
            f"SELECT b.complaint_id, {TIER_STRONG} AS tier, ts_rank(b.doc, {_QUERY}) AS rank,"
            " 'party' AS kind, CAST(b.id AS bigint) AS source_id"
            f" FROM (SELECT id, complaint_id, {PARTY_DOC} AS doc FROM case_parties"
            f" WHERE {PARTY_DOC} @@ {_QUERY}{officer_filter('complaint_id', officer)} LIMIT :cap) AS b"
        ),
        "mail_hits": (
            f"SELECT b.complaint_id,"
            f" CASE WHEN {_HEAD} THEN {TIER_MAIL_HEAD} ELSE {TIER_MAIL_TEXT} END AS tier,"
            f" ts_rank(b.doc, {_QUERY}) AS rank, 'mail' AS kind, CAST(b.id AS bigint) AS source_id"
            f" FROM (SELECT id, complaint_id, {MAIL_DOC} AS doc FROM mails"
            # The partial index holds only mails filed to a case: this line lets
            # the planner prove that the query wants no others.
            f" WHERE {MAIL_DOC} @@ {_QUERY} AND complaint_id IS NOT NULL"
            f"{officer_filter('complaint_id', officer)} LIMIT :cap) AS b"
        ),
    }


def find(session: Session, terms: Sequence[str], officer: str | None, limit: int, offset: int) -> list[Hit]:
    params: dict[str, object] = {"terms": " ".join(terms)}
    if officer is not None:
        params["officer"] = officer
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
