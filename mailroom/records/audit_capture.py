"""Every write of a chained row gets its chain entry, in the same transaction.

``install`` hooks the store's sessions:

- after each flush, the ORM objects of chained tables that were inserted, updated
  or deleted are noted (their table and id) in ``session.info``;
- statements run outside the unit of work (bulk INSERT, UPDATE ... WHERE,
  DELETE ... WHERE) must go through ``execute_recorded``, which adds RETURNING
  and notes the ids; one run on a chained table any other way is refused at
  once (``UnrecordedChainWrite``), because the row would later read as tampered;
- just before the commit, the noted rows are read back as stored and hashed, and
  one entry per row version is appended (``audit_append.ChainAppender``).

A row noted but gone at commit was deleted (an entry says so) or was written in a
savepoint that was rolled back (nothing to say).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Delete, Insert, Update, event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from mailroom.clock import Clock
from mailroom.records.audit_append import (
    CHAIN,
    CHUNK,
    ChainAppender,
    boolean_columns,
    chained_table,
    row_key,
    rows_by_id,
)
from mailroom.records.audit_canonical import CHAINED_TABLES, DELETE, INSERT, UPDATE, row_sha256

_NOTED = "audit_chain.noted"  # session.info: {table name: {row id: change}}
_CLOCK = "audit_chain.clock"  # the sessionmaker's info: the Clock stamping entries
_RECORDED = "audit_chain_recorded"  # execution option of a statement whose rows are noted
_CHAINED = frozenset(CHAINED_TABLES)


class UnrecordedChainWrite(RuntimeError):
    """A bulk write to a chained table that did not note its rows: a bug."""


def install(sessions: sessionmaker[Session], clock: Clock) -> None:
    sessions.configure(info={_CLOCK: clock})
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_transaction_end", _after_transaction_end)
    event.listen(sessions, "do_orm_execute", _refuse_unrecorded)


def note(session: Session, table_name: str, ids: Iterable[Any], change: str) -> None:
    """Remember that these rows were written in this transaction. An insert stays an
    insert whatever follows it in the same transaction."""
    if table_name not in _CHAINED:
        return
    noted = session.info.setdefault(_NOTED, {}).setdefault(table_name, {})
    for row_id in ids:
        if noted.get(row_id) != INSERT:
            noted[row_id] = change


def execute_recorded(session: Session, statement: Insert | Update | Delete, params: Any = None) -> list[Any]:
    """Run an INSERT, UPDATE or DELETE on a chained table (``params``: one dict, or a
    list of dicts for an INSERT of many rows) and note the ids it wrote; returns them."""
    table = statement.table
    assert hasattr(table, "c") and hasattr(table, "name")
    change = INSERT if isinstance(statement, Insert) else UPDATE if isinstance(statement, Update) else DELETE
    returning = statement.returning(table.c.id).execution_options(**{_RECORDED: True})
    ids = list(session.scalars(returning, params) if params is not None else session.scalars(returning))
    note(session, table.name, ids, change)
    return ids


def _after_flush(session: Session, _context: Any) -> None:
    for objects, change in ((session.new, INSERT), (session.dirty, UPDATE), (session.deleted, DELETE)):
        for instance in objects:
            table = getattr(instance, "__table__", None)
            if table is None or table.name not in _CHAINED:
                continue
            if change == UPDATE and not session.is_modified(instance, include_collections=False):
                continue
            note(session, table.name, [instance.id], change)


def _refuse_unrecorded(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _CHAINED and not state.execution_options.get(_RECORDED):
        raise UnrecordedChainWrite(
            f"a bulk write to {getattr(table, 'name', '?')} would escape the audit chain: "
            "run it through mailroom.records.audit_capture.execute_recorded"
        )


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the chain is appended once, at the real commit
    session.flush()  # pending ORM writes are noted by the flush
    noted: dict[str, dict[Any, str]] = session.info.pop(_NOTED, {})
    if not any(noted.values()):
        return
    append_noted(session, noted)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_NOTED, None)  # rolled back, or committed: nothing carries over


def append_noted(session: Session, noted: dict[str, dict[Any, str]]) -> None:
    """Read the noted rows back as stored, hash them, then append one entry per row.
    The hashing is done before the chain's lock is taken: on PostgreSQL other
    writers wait for that lock, so it is held only for the appending itself."""
    connection = session.connection()
    versions = list(_row_versions(connection, noted))
    if not versions:
        return
    appender = ChainAppender(connection, session.info[_CLOCK].now())
    for version in versions:
        appender.append(*version)
    appender.flush()


def _row_versions(
    connection: Any, noted: dict[str, dict[Any, str]]
) -> Iterator[tuple[str, str, str, str | None, str]]:
    """(change, table, row id, case, row hash) of each noted row, in table then id order."""
    for name in CHAINED_TABLES:
        changes = noted.get(name)
        if not changes:
            continue
        table = chained_table(name)
        booleans = boolean_columns(table)
        ids = sorted(changes)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = rows_by_id(connection, table, chunk)
            gone = [row_id for row_id in chunk if row_id not in rows]
            deleted = _last_seen(connection, name, gone) if gone else {}
            for row_id in chunk:
                row = rows.get(row_id)
                if row is not None:
                    change = INSERT if changes[row_id] == INSERT else UPDATE
                    text_id, complaint_id = row_key(table, row)
                    yield change, name, text_id, complaint_id, row_sha256(row, booleans)
                elif str(row_id) in deleted:
                    yield DELETE, name, str(row_id), deleted[str(row_id)], ""


def _last_seen(connection: Any, table_name: str, row_ids: list[Any]) -> dict[str, str | None]:
    """Of these rows, gone now, those whose latest entry shows them present (so their
    deletion is news), with the case they belonged to. A row inserted and removed in
    the same transaction, or in a rolled-back savepoint, has no entry at all."""
    texts = [str(row_id) for row_id in row_ids]
    query = (
        select(CHAIN.c.row_id, CHAIN.c.change, CHAIN.c.complaint_id)
        .where(CHAIN.c.table_name == table_name, CHAIN.c.row_id.in_(texts))
        .order_by(CHAIN.c.row_id, CHAIN.c.seq)
    )
    latest: dict[str, tuple[str, str | None]] = {}
    for row_id, change, complaint_id in connection.execute(query):
        latest[row_id] = (change, complaint_id)
    return {row_id: complaint_id for row_id, (change, complaint_id) in latest.items() if change != DELETE}
