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

from sqlalchemy import Engine, text


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
