"""Read-only queries for the staff listings, over the database driver alone.

Listing commands are what staff run most, many times in a row; building the
SQLAlchemy engine costs them more than the query itself. These queries read the
same tables through the DB-API driver (``sqlite3`` from the standard library, or
psycopg for PostgreSQL) and give named tuples with the attributes of the mapped classes
in ``schema.py``, so ``mailroom/views.py`` turns either into the same JSON.

Nothing here writes. A database that does not exist yet, or whose schema is
behind, is not read here: ``open_reader`` returns None and the caller opens the
store the usual way, which creates or migrates it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from mailroom.config_sources import sqlite_file
from mailroom.store.schema_version import HEAD, stored_revision

_COMPLAINT_COLUMNS = (
    "id, status, stage, channel, received_at, complainant_name, complainant_email, subject, flags, officer"
)
_MAIL_COLUMNS = (
    "id, outcome, rule, reason, complaint_id, message_id, from_email, from_name, subject, received_at,"
    " sha256, size, storage_path, duplicate_of, triage_open, attempts"
)


class ComplaintRow(NamedTuple):
    id: str
    status: str
    stage: int
    channel: str
    received_at: datetime
    complainant_name: str
    complainant_email: str
    subject: str
    flags: str
    officer: str


class MailRow(NamedTuple):
    id: int
    outcome: str
    rule: str
    reason: str
    complaint_id: str | None
    message_id: str
    from_email: str
    from_name: str
    subject: str
    received_at: datetime
    sha256: str
    size: int
    storage_path: str
    duplicate_of: int | None
    triage_open: bool
    attempts: int


class StaffRow(NamedTuple):
    email: str
    name: str
    manager_email: str
    digest: bool


class OutboxRow(NamedTuple):
    id: int
    created_at: datetime
    status: str  # pending, sending, sent, failed, bounced
    complaint_id: str | None
    recipients: str
    subject: str
    attempts: int
    sent_at: datetime | None
    last_error: str


class Reader:
    def __init__(self, connection: Any, placeholder: str) -> None:
        self._connection = connection
        self._placeholder = placeholder

    def list_complaints(self) -> list[ComplaintRow]:
        rows = self._rows(f"SELECT {_COMPLAINT_COLUMNS} FROM complaints ORDER BY received_at, id")
        utc = _utc
        return [ComplaintRow(r[0], r[1], r[2], r[3], utc(r[4]), r[5], r[6], r[7], r[8], r[9]) for r in rows]

    def list_mails(self, outcome: str | None = None, open_triage_only: bool = False) -> list[MailRow]:
        where, params = [], []
        if outcome is not None:
            where.append(f"outcome = {self._placeholder}")
            params.append(outcome)
        if open_triage_only:
            where.append("triage_open = " + ("1" if self._placeholder == "?" else "TRUE"))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(f"SELECT {_MAIL_COLUMNS} FROM mails{clause} ORDER BY received_at, id", params)
        return [MailRow(*[*r[:9], _utc(r[9]), *r[10:14], bool(r[14]), r[15]]) for r in rows]

    def staff(self) -> list[StaffRow]:
        rows = self._rows("SELECT email, name, manager_email, digest FROM staff ORDER BY email")
        return [StaffRow(email, name, manager, bool(digest)) for email, name, manager, digest in rows]

    def list_outbox(self, status: str | None = None) -> list[OutboxRow]:
        where, params = "", []
        if status is not None:
            where, params = f" WHERE status = {self._placeholder}", [status]
        rows = self._rows(
            "SELECT id, created_at, status, complaint_id, recipients, subject, attempts, sent_at, last_error"
            f" FROM outbox{where} ORDER BY id",
            params,
        )
        return [
            OutboxRow(r[0], _utc(r[1]), r[2], r[3], r[4], r[5], r[6], _utc(r[7]) if r[7] else None, r[8])
            for r in rows
        ]

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, params or [])
            return list(cursor.fetchall())
        finally:
            cursor.close()


@contextmanager
def open_reader(database_url: str) -> Iterator[Reader | None]:
    """A reader on the database at ``database_url``, or None when it cannot be read
    here (no database yet, schema behind, or a URL this module does not handle)."""
    connection, placeholder = _connect(database_url)
    if connection is None:
        yield None
        return
    try:
        cursor = connection.cursor()
        at_head = stored_revision(cursor) == HEAD
        cursor.close()
        yield Reader(connection, placeholder) if at_head else None
    finally:
        connection.close()


def _connect(database_url: str) -> tuple[Any, str]:
    scheme, _, rest = database_url.partition("://")
    path = sqlite_file(database_url)
    if path is not None:
        if not path or not Path(path).is_file():
            return None, "?"
        # Read-only: a listing never creates, locks for writing or changes the file.
        lite = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True, timeout=60)
        lite.execute("PRAGMA busy_timeout=60000")
        return lite, "?"
    if scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        import psycopg  # only PostgreSQL deployments pay for the driver

        try:
            pg = psycopg.connect(f"postgresql://{rest}")
        except psycopg.OperationalError:
            return None, "%s"  # the usual path reports the connection failure in full
        pg.read_only = True  # one READ ONLY transaction, never committed
        return pg, "%s"
    return None, "?"


def _utc(value: Any) -> datetime:
    """SQLite keeps naive UTC text (schema.UTCDateTime); PostgreSQL gives aware values."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
