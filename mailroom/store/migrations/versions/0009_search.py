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
# Two documents per searched table. *head*: name, subject and email (a mail's
# subject and sender), each address whole, split at "@" so that the domain
# matches, and split at every mark so that each part does. *text*: the head and
# everything else (address, description; a mail's text), so that terms spread
# over several fields still all match. A hit in the head ranks higher; telling
# the two apart through indexes means no tsvector is computed again at search
# time (an expression index stores none). Long text is cut at 100,000
# characters: a tsvector over 1 MB raises, and an index expression that raised
# would stop the mail from being stored at all.
_COMPLAINT_HEAD = (
    "complainant_name || ' ' || subject || ' ' || complainant_email"
    " || ' ' || translate(complainant_email, '@', ' ')"
    " || ' ' || translate(complainant_email, '@._+-', '     ')"
)
_MAIL_HEAD = (
    "subject || ' ' || from_name || ' ' || from_email"
    " || ' ' || translate(from_email, '@', ' ')"
    " || ' ' || translate(from_email, '@._+-', '     ')"
)
# Only mails filed to a case are searched; the partial indexes leave out
# quarantine, duplicates and automatic replies.
_FILED = " WHERE complaint_id IS NOT NULL"
_PG_INDEXES = {
    "search_complaints_head": ("complaints", f"to_tsvector('english', {_COMPLAINT_HEAD})", ""),
    "search_complaints_text": (
        "complaints",
        f"to_tsvector('english', {_COMPLAINT_HEAD}"
        " || ' ' || left(postal_address, 2000) || ' ' || left(description, 100000))",
        "",
    ),
    "search_case_parties_text": (
        "case_parties",
        "to_tsvector('english', name || ' ' || email || ' ' || translate(email, '@', ' ')"
        " || ' ' || translate(email, '@._+-', '     '))",
        "",
    ),
    "search_mails_head": ("mails", f"to_tsvector('english', {_MAIL_HEAD})", _FILED),
    "search_mails_text": (
        "mails",
        f"to_tsvector('english', {_MAIL_HEAD} || ' ' || left(body_text, 100000))",
        _FILED,
    ),
}

# ----------------------------------------------------------------------------- SQLite
# FTS5 with the Porter stemmer, close to PostgreSQL's 'english' configuration.
# case_parties and mails have INTEGER PRIMARY KEYs, so their FTS tables are
# external-content tables (no second copy of the text). complaints has a text key
# and its rowid may change (VACUUM, a batch migration copying the table), so its
# FTS table keeps its own copy, under a stable integer from search_complaint_keys.
_TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"
_COMPLAINT_COLUMNS = "complainant_name, complainant_email, subject, postal_address, description"
_MAIL_COLUMNS = "rowid, subject, from_name, from_email, body_text"
_PARTY_COLUMNS = "rowid, name, email"


def _complaint_values(row: str) -> str:
    return (
        f"{row}.complainant_name, {row}.complainant_email, {row}.subject,"
        f" substr({row}.postal_address, 1, 2000), substr({row}.description, 1, 100000)"
    )


def _mail_values(row: str) -> str:
    return f"{row}.id, {row}.subject, {row}.from_name, {row}.from_email, substr({row}.body_text, 1, 100000)"


def _complaint_delete(row: str) -> str:
    return (
        "DELETE FROM search_complaints_fts"
        f" WHERE rowid = (SELECT id FROM search_complaint_keys WHERE complaint_id = {row}.id);"
        f" DELETE FROM search_complaint_keys WHERE complaint_id = {row}.id;"
    )


_COMPLAINT_INSERT = (
    "INSERT INTO search_complaint_keys(complaint_id) VALUES (new.id);"
    f" INSERT INTO search_complaints_fts(rowid, complaint_id, {_COMPLAINT_COLUMNS})"
    f" SELECT k.id, new.id, {_complaint_values('new')} FROM search_complaint_keys AS k"
    " WHERE k.complaint_id = new.id;"
)
# An external-content FTS row is removed by the 'delete' command given exactly the
# values that were indexed, so each trigger passes the same expressions.
_MAIL_DELETE = (
    f"INSERT INTO search_mails_fts(search_mails_fts, {_MAIL_COLUMNS})"
    f" SELECT 'delete', {_mail_values('old')} WHERE old.complaint_id IS NOT NULL;"
)
_MAIL_INSERT = (
    f"INSERT INTO search_mails_fts({_MAIL_COLUMNS})"
    f" SELECT {_mail_values('new')} WHERE new.complaint_id IS NOT NULL;"
)
_PARTY_DELETE = (
    f"INSERT INTO search_case_parties_fts(search_case_parties_fts, {_PARTY_COLUMNS})"
    " VALUES ('delete', old.id, old.name, old.email);"
)
_PARTY_INSERT = f"INSERT INTO search_case_parties_fts({_PARTY_COLUMNS}) VALUES (new.id, new.name, new.email);"

_SQLITE_UPGRADE = [
    "CREATE TABLE search_complaint_keys (id INTEGER PRIMARY KEY, complaint_id VARCHAR(40) NOT NULL UNIQUE)",
    f"CREATE VIRTUAL TABLE search_complaints_fts USING fts5(complaint_id UNINDEXED, {_COMPLAINT_COLUMNS},"
    f" {_TOKENIZE})",
    "CREATE VIRTUAL TABLE search_case_parties_fts USING fts5(name, email,"
    f" content = 'case_parties', content_rowid = 'id', {_TOKENIZE})",
    "CREATE VIRTUAL TABLE search_mails_fts USING fts5(subject, from_name, from_email, body_text,"
    f" content = 'mails', content_rowid = 'id', {_TOKENIZE})",
    # Triggers. UPDATE OF names the indexed columns only: the worker's many
    # updates of status, officer, filed or attempts cost the index nothing.
    # The insert trigger clears first as well: a leftover key must never make the
    # complaint's own INSERT fail on the UNIQUE constraint.
    "CREATE TRIGGER search_complaints_ai AFTER INSERT ON complaints"
    f" BEGIN {_complaint_delete('new')} {_COMPLAINT_INSERT} END",
    f"CREATE TRIGGER search_complaints_au AFTER UPDATE OF id, {_COMPLAINT_COLUMNS} ON complaints"
    f" BEGIN {_complaint_delete('old')} {_COMPLAINT_INSERT} END",
    f"CREATE TRIGGER search_complaints_ad AFTER DELETE ON complaints BEGIN {_complaint_delete('old')} END",
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
    f"INSERT INTO search_complaints_fts(rowid, complaint_id, {_COMPLAINT_COLUMNS})"
    f" SELECT k.id, c.id, {_complaint_values('c')}"
    " FROM complaints AS c JOIN search_complaint_keys AS k ON k.complaint_id = c.id",
    f"INSERT INTO search_case_parties_fts({_PARTY_COLUMNS}) SELECT id, name, email FROM case_parties",
    f"INSERT INTO search_mails_fts({_MAIL_COLUMNS}) SELECT {_mail_values('m')}"
    " FROM mails AS m WHERE m.complaint_id IS NOT NULL",
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
