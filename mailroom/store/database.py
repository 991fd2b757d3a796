"""Engine creation and schema migration (SQLite in WAL mode, or PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from mailroom.store.schema_version import HEAD, stored_revision

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6D61696C726F6F6D  # "mailroom" as a 64-bit advisory lock key
_READ_SNAPSHOT = "mailroom_read_snapshot"  # execution option: see read_snapshot


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the parent folder and turns on WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # JIT off: every query here is short, and a plan whose cost crosses the JIT
        # threshold paid 1.5 s of compiling for a 60 ms desk page (bench/desk_pages.py).
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": "-c jit=off"})
    if parsed.database and parsed.database != ":memory:":
        _create_private(Path(parsed.database))
    engine = create_engine(parsed, connect_args={"timeout": 60})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite ``url`` (None for PostgreSQL or in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite would make it
    0644 less the umask); its -wal and -shm files take the database's mode.
    A folder made for it is 0700."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An existing database keeps its mode (start-up fixes a loose one: storage_modes).
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transactions out of the driver's hands so BEGIN IMMEDIATE below is
    # the only BEGIN: concurrent workers then queue on the write lock instead
    # of failing with SQLITE_BUSY when a read transaction upgrades to a write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=60000")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint; safe in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch a database to WAL once. Two workers opening a new database at the
    same moment can both try; the switch needs an exclusive lock and SQLite may
    answer "database is locked" at once rather than wait, so retry briefly."""
    for attempt in range(100):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


def _sqlite_begin_immediate(connection: Any) -> None:
    if connection.get_execution_options().get(_READ_SNAPSHOT):
        connection.exec_driver_sql("BEGIN")  # deferred: a reader takes no write lock
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection whose every query sees the same committed state, for
    reads that take long (verifying the audit chain) and must not see a writer's
    commit half-way through, nor hold writers up: REPEATABLE READ on PostgreSQL; on
    SQLite a deferred transaction, which in WAL mode reads one snapshot without
    taking the write lock. Rolled back at the end."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            connection.execution_options(**{_READ_SNAPSHOT: True})
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). A database already at
    ``HEAD`` is not touched and Alembic (a third of a second to import) is not loaded."""
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            if stored_revision(cursor) == HEAD:
                return
        finally:
            cursor.close()
            connection.rollback()
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two workers starting on an empty database would both create the
            # tables; the transaction-scoped lock makes the second wait, then
            # find the schema at head. (SQLite: BEGIN IMMEDIATE does the same.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
