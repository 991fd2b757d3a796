"""full-text search over complaints, case parties and the mails filed to cases

PostgreSQL: GIN expression indexes (building them indexes the existing rows).
SQLite: FTS5 tables kept in step by triggers, filled from the existing rows here.
Every object is named ``search_*``: the schema test leaves exactly those out of its
comparison with ``schema.py``. How search reads them: docs/search.md and
``mailroom/search/``.

The SQL is written out here, not imported, so that this revision stays what it
was. ``mailroom/search/postgres.py`` repeats the index expressions word for word
(PostgreSQL uses an expression index only for a query with the same expression);
``tests/integration/test_search.py`` checks that the plans use these indexes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# ----------------------------------------------------------------------------- PostgreSQL
# Weight A = what identifies a case or a person (name, subject, email), B = the
# address, C = the complaint's text, D = a mail's text; search ranks on them.
# An address is indexed three ways so that the whole address, the domain
# ("example.org") and each part ("doe") all match. Long text is cut at 100,000
# characters: a tsvector over 1 MB raises, and an index expression that raises
# would stop the mail from being stored at all.
_PG_INDEXES = {
    "search_complaints_text": (
        "complaints",
        "setweight(to_tsvector('english', complainant_name || ' ' || subject || ' ' || complainant_email"
        " || ' ' || translate(complainant_email, '@', ' ')"
        " || ' ' || translate(complainant_email, '@._+-', '     ')), 'A')"
        " || setweight(to_tsvector('english', left(postal_address, 2000)), 'B')"
        " || setweight(to_tsvector('english', left(description, 100000)), 'C')",
        "",
    ),
    "search_case_parties_text": (
        "case_parties",
        "to_tsvector('english', name || ' ' || email || ' ' || translate(email, '@', ' ')"
        " || ' ' || translate(email, '@._+-', '     '))",
        "",
    ),
    # Only mails filed to a case are searched; the partial index leaves out
    # quarantine, duplicates and automatic replies.
    "search_mails_text": (
        "mails",
        "setweight(to_tsvector('english', subject || ' ' || from_name || ' ' || from_email"
        " || ' ' || translate(from_email, '@', ' ')"
        " || ' ' || translate(from_email, '@._+-', '     ')), 'A')"
        " || setweight(to_tsvector('english', left(body_text, 100000)), 'D')",
        " WHERE complaint_id IS NOT NULL",
    ),
}

# ----------------------------------------------------------------------------- SQLite
# FTS5 with the Porter stemmer, close to PostgreSQL's 'english' configuration.
# case_parties and mails have INTEGER PRIMARY KEYs, so their FTS tables are
# external-content tables (no second copy of the text). complaints has a text key
# and its rowid may change (VACUUM, a batch migration copying the table), so its
# FTS table keeps its own copy, under a stable integer from search_complaint_keys.
_TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"
_COMPLAINT_VALUES = (
    "{r}.complainant_name, {r}.complainant_email, {r}.subject,"
    " substr({r}.postal_address, 1, 2000), substr({r}.description, 1, 100000)"
)
_MAIL_VALUES = "{r}.id, {r}.subject, {r}.from_name, {r}.from_email, substr({r}.body_text, 1, 100000)"
_MAIL_COLUMNS = "rowid, subject, from_name, from_email, body_text"
# An external-content FTS row is removed by the 'delete' command given exactly the
# values that were indexed, so each trigger passes the same expressions as above.
_MAIL_DELETE = (
    "INSERT INTO search_mails_fts(search_mails_fts, " + _MAIL_COLUMNS + ")"
    " SELECT 'delete', " + _MAIL_VALUES.format(r="old") + " WHERE old.complaint_id IS NOT NULL;"
)
_MAIL_INSERT = (
    "INSERT INTO search_mails_fts(" + _MAIL_COLUMNS + ")"
    " SELECT " + _MAIL_VALUES.format(r="new") + " WHERE new.complaint_id IS NOT NULL;"
)
_COMPLAINT_DELETE = (
    "DELETE FROM search_complaints_fts"
    " WHERE rowid = (SELECT id FROM search_complaint_keys WHERE complaint_id = old.id);"
    " DELETE FROM search_complaint_keys WHERE complaint_id = old.id;"
)
_COMPLAINT_INSERT = (
    "INSERT INTO search_complaint_keys(complaint_id) VALUES (new.id);"
    " INSERT INTO search_complaints_fts(rowid, complaint_id, complainant_name, complainant_email,"
    " subject, postal_address, description)"
    " SELECT k.id, new.id, " + _COMPLAINT_VALUES.format(r="new") + " FROM search_complaint_keys AS k"
    " WHERE k.complaint_id = new.id;"
)
_PARTY_COLUMNS = "rowid, name, email"
_PARTY_DELETE = "INSERT INTO search_case_parties_fts(search_case_parties_fts, " + _PARTY_COLUMNS + ")"
_PARTY_DELETE += " VALUES ('delete', old.id, old.name, old.email);"
_PARTY_INSERT = (
    "INSERT INTO search_case_parties_fts(" + _PARTY_COLUMNS + ") VALUES (new.id, new.name, new.email);"
)

_SQLITE_UPGRADE = [
    "CREATE TABLE search_complaint_keys (id INTEGER PRIMARY KEY, complaint_id VARCHAR(40) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE search_complaints_fts USING fts5(complaint_id UNINDEXED, complainant_name,"
    f" complainant_email, subject, postal_address, description, {_TOKENIZE})",
    "CREATE VIRTUAL TABLE search_case_parties_fts USING fts5(name, email,"
    f" content = 'case_parties', content_rowid = 'id', {_TOKENIZE})",
    "CREATE VIRTUAL TABLE search_mails_fts USING fts5(subject, from_name, from_email, body_text,"
    f" content = 'mails', content_rowid = 'id', {_TOKENIZE})",
    # Triggers. UPDATE OF names the indexed columns only: the worker's many
    # updates of status, officer, filed or attempts cost the index nothing.
    # The insert trigger clears first as well: a leftover key must never make the
    # complaint's own INSERT fail on the UNIQUE constraint.
    f"CREATE TRIGGER search_complaints_ai AFTER INSERT ON complaints BEGIN"
    f" {_COMPLAINT_DELETE.replace('old.', 'new.')} {_COMPLAINT_INSERT} END",
    "CREATE TRIGGER search_complaints_au AFTER UPDATE OF id, complainant_name, complainant_email, subject,"
    f" postal_address, description ON complaints BEGIN {_COMPLAINT_DELETE} {_COMPLAINT_INSERT} END",
    f"CREATE TRIGGER search_complaints_ad AFTER DELETE ON complaints BEGIN {_COMPLAINT_DELETE} END",
    f"CREATE TRIGGER search_case_parties_ai AFTER INSERT ON case_parties BEGIN {_PARTY_INSERT} END",
    "CREATE TRIGGER search_case_parties_au AFTER UPDATE OF name, email ON case_parties"
    f" BEGIN {_PARTY_DELETE} {_PARTY_INSERT} END",
    f"CREATE TRIGGER search_case_parties_ad AFTER DELETE ON case_parties BEGIN {_PARTY_DELETE} END",
    # One trigger per event, both steps guarded by WHERE: the order in which SQLite
    # fires two triggers on one event is not something to rely on.
    f"CREATE TRIGGER search_mails_ai AFTER INSERT ON mails BEGIN {_MAIL_INSERT} END",
    "CREATE TRIGGER search_mails_au AFTER UPDATE OF complaint_id, subject, from_name, from_email, body_text"
    f" ON mails BEGIN {_MAIL_DELETE} {_MAIL_INSERT} END",
    f"CREATE TRIGGER search_mails_ad AFTER DELETE ON mails BEGIN {_MAIL_DELETE} END",
    # Backfill: the rows stored before this revision.
    "INSERT INTO search_complaint_keys(complaint_id) SELECT id FROM complaints ORDER BY id",
    "INSERT INTO search_complaints_fts(rowid, complaint_id, complainant_name, complainant_email, subject,"
    " postal_address, description) SELECT k.id, c.id, " + _COMPLAINT_VALUES.format(r="c")
    + " FROM complaints AS c JOIN search_complaint_keys AS k ON k.complaint_id = c.id",
    "INSERT INTO search_case_parties_fts(" + _PARTY_COLUMNS + ") SELECT id, name, email FROM case_parties",
    "INSERT INTO search_mails_fts(" + _MAIL_COLUMNS + ") SELECT " + _MAIL_VALUES.format(r="m")
    + " FROM mails AS m WHERE m.complaint_id IS NOT NULL",
]
_SQLITE_TRIGGERS = [
    f"search_{table}_{event}"
    for table in ("complaints", "case_parties", "mails")
    for event in ("ai", "au", "ad")
]
_SQLITE_TABLES = [
    "search_mails_fts",
    "search_case_parties_fts",
    "search_complaints_fts",
    "search_complaint_keys",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, expression, where) in _PG_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression})){where}")
    else:
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for table in _SQLITE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table}")
