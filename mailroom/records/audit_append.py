"""Appending to the audit chain, and reading chained rows the way they are hashed.

Both the writer (``audit_capture``: at each commit) and the migration that chains
the rows of an existing store use ``ChainAppender``; verification reads rows
through ``read_rows``/``rows_by_id`` so it hashes exactly what the writer hashed:
the stored values, read back through the same column types.

The chain is appended under a lock held to the end of the transaction: on
PostgreSQL a transaction-scoped advisory lock, taken as the last thing before the
commit, so nothing waits on anything after it (no deadlock) and the next writer,
reading under READ COMMITTED once the lock is free, sees the committed head. On
SQLite every write transaction is BEGIN IMMEDIATE and so already serialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Table, insert, inspect, select, text

from mailroom.records.audit_canonical import CHAINED_TABLES, GENESIS, GENESIS_PREV, ChainLink, row_sha256
from mailroom.store.schema import Base

CHAIN = Base.metadata.tables["audit_chain"]
CHAIN_LOCK = 0x6D61696C63686149  # "mailchaI": the chain's advisory lock key on PostgreSQL
CHUNK = 500  # rows per IN (...) list and per INSERT: bounded memory and parameters


def chained_table(name: str) -> Table:
    return Base.metadata.tables[name]


def boolean_columns(table: Table) -> frozenset[str]:
    return frozenset(column.name for column in table.columns if isinstance(column.type, Boolean))


def row_key(table: Table, row: Mapping[Any, Any]) -> tuple[str, str | None]:
    """(row id as text, the case it belongs to) of a row of a chained table."""
    row_id = row["id"]
    complaint_id = row_id if table.name == "complaints" else row.get("complaint_id")
    return str(row_id), None if complaint_id is None else str(complaint_id)


def digest_of(table: Table, row: Mapping[Any, Any], booleans: frozenset[str] | None = None) -> str:
    return row_sha256(row, boolean_columns(table) if booleans is None else booleans)


def typed_id(table: Table, row_id: str) -> Any:
    """A chain entry's ``row_id`` as the table's key type (the chain stores text)."""
    return row_id if table.name == "complaints" else int(row_id)


def rows_by_id(
    connection: Connection, table: Table, ids: Iterable[Any], columns: Sequence[Column[Any]] | None = None
) -> dict[Any, Mapping[Any, Any]]:
    """The current rows with these ids (absent ones left out), read ``CHUNK`` at a time."""
    selected = list(columns) if columns is not None else list(table.columns)
    found: dict[Any, Mapping[Any, Any]] = {}
    pending = sorted(set(ids))
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        for row in connection.execute(select(*selected).where(table.c.id.in_(chunk))):
            found[row.id] = row._mapping
    return found


def read_rows(
    connection: Connection, table: Table, where: Any = None, columns: Sequence[Column[Any]] | None = None
) -> Iterator[Sequence[Mapping[Any, Any]]]:
    """Every row of ``table`` (matching ``where``) in id order, ``CHUNK`` rows at a
    time, by keyset: memory stays bounded however big the table."""
    selected = list(columns) if columns is not None else list(table.columns)
    last: Any = None
    while True:
        query = select(*selected).order_by(table.c.id).limit(CHUNK)
        if where is not None:
            query = query.where(where)
        if last is not None:
            query = query.where(table.c.id > last)
        chunk = [row._mapping for row in connection.execute(query)]
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["id"]


class ChainAppender:
    """Appends entries after the head, holding the chain's lock to the end of the
    transaction; entries are inserted ``CHUNK`` at a time."""

    def __init__(self, connection: Connection, at: datetime) -> None:
        self.connection = connection
        self.at = at
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
        head = connection.execute(
            select(CHAIN.c.seq, CHAIN.c.entry_sha256).order_by(CHAIN.c.seq.desc()).limit(1)
        ).first()
        self.seq, self.prev = (int(head[0]), str(head[1])) if head is not None else (0, GENESIS_PREV)
        self._pending: list[dict[str, Any]] = []

    def append(
        self, change: str, table_name: str, row_id: str, complaint_id: str | None, row_digest: str
    ) -> None:
        self.seq += 1
        link = ChainLink(self.seq, self.at, change, table_name, row_id, complaint_id, row_digest, self.prev)
        self.prev = link.sha256()
        self._pending.append(
            {
                "seq": link.seq,
                "at": link.at,
                "change": link.change,
                "table_name": link.table_name,
                "row_id": link.row_id,
                "complaint_id": link.complaint_id,
                "row_sha256": link.row_sha256,
                "prev_sha256": link.prev_sha256,
                "entry_sha256": self.prev,
            }
        )
        if len(self._pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.connection.execute(insert(CHAIN), self._pending)
            self._pending = []


def chain_existing_rows(connection: Connection, at: datetime, tables: Sequence[str] = CHAINED_TABLES) -> int:
    """Append a ``genesis`` entry for every row of ``tables``, in table then id order,
    so that a store upgraded to the chain verifies clean. For a migration: only the
    columns the database has now are hashed (a store being brought up through later
    revisions has no rows yet). A later migration that changes a chained table's
    columns must call this again for that table: every row's canonical form changed."""
    present = {name: {c["name"] for c in inspect(connection).get_columns(name)} for name in tables}
    appender = ChainAppender(connection, at)
    count = 0
    for name in tables:
        table = chained_table(name)
        columns = [column for column in table.columns if column.name in present[name]]
        booleans = boolean_columns(table)
        for chunk in read_rows(connection, table, columns=columns):
            for row in chunk:
                row_id, complaint_id = row_key(table, row)
                appender.append(GENESIS, name, row_id, complaint_id, row_sha256(row, booleans))
                count += 1
    appender.flush()
    return count
