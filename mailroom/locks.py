"""One worker per mailbox at a time, also across processes and machines.

PostgreSQL: a session advisory lock (works across machines sharing the
database). SQLite: an flock on a file beside the data (one machine by nature).
The ledger's unique key is the backstop if a lock is ever bypassed.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError


def _lock_number(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def mailbox_lock(engine: Engine, lock_dir: Path, name: str) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _lock_number(f"mailroom:{name}")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released by the kernel if we die
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def deployment_lock(engine: Engine, lock_dir: Path, name: str = "scheduler") -> Iterator[bool]:
    """Try once, without waiting, to be the deployment's only holder of ``name``.

    Yields True while held (until the ``with`` block ends), False if another
    process holds it. PostgreSQL: a session advisory lock on a connection kept
    for the whole block (the server drops it if the process dies). SQLite: a
    non-blocking flock on <lock_dir>/<name>.lock (the kernel drops it likewise)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _lock_number(f"mailroom-deployment:{name}")
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    _advisory_unlock(connection, key)
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _advisory_unlock(connection: Connection, key: int) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except DBAPIError:
        # The session is gone or broken: never return it to the pool still
        # holding the lock; closing it ends the session and the lock with it.
        connection.invalidate()
