"""The tables the queues read, a read-only connection, and the officer's restriction.

Queues read through SQLAlchemy Core on the tables of ``store/schema.py`` (not the
ORM): a page is a handful of columns from one statement, and the column types
still turn stored instants into aware UTC datetimes on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from mailroom.queues.page import QueueError
from mailroom.services import Services
from mailroom.store.schema import Base

_TABLES = Base.metadata.tables
COMPLAINTS = _TABLES["complaints"]
MAILS = _TABLES["mails"]
LETTERS = _TABLES["letters"]
DEADLINES = _TABLES["deadlines"]
OUTBOX = _TABLES["outbox"]
EVENTS = _TABLES["events"]
PARTIES = _TABLES["case_parties"]
STAFF = _TABLES["staff"]
REMINDERS = _TABLES["reminder_log"]
AUDIT = _TABLES["audit_log"]

OPEN = "open"  # the complaint status whose clocks remind anyone (deadline_store.OPEN)


@contextmanager
def reading(services: Services) -> Iterator[Connection]:
    """A connection for one page; nothing is written, so it is rolled back on close."""
    with services.store.engine.connect() as connection:
        try:
            yield connection
        finally:
            connection.rollback()


def officer_address(officer: str) -> str:
    """The address an officer restriction compares with ``complaints.officer``
    (stored lower-cased by ``staff.assign``). A blank one is refused: "" on a case
    means "the team's", and an officer restricted to "" would see every unassigned case."""
    address = officer.strip().lower()
    if not address:
        raise QueueError("officer: an empty address is no officer's; pass None for everyone's cases")
    return address


def of_officer(officer: str) -> ColumnElement[bool]:
    """Only the cases ``officer`` handles."""
    return COMPLAINTS.c.officer == officer_address(officer)


def open_triage() -> ColumnElement[bool]:
    """Mail still in triage, written as the partial index ``ix_mails_open_triage_received_at``
    is (SQLite: "triage_open = 1", PostgreSQL: "triage_open"), so that it is used."""
    return MAILS.c.triage_open.expression


def optional(value: Any) -> Any:
    """None for an empty value: the store keeps "no value" as "" in text columns."""
    return value or None
