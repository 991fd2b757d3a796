"""Database URLs for tests: a SQLite file, or a throwaway PostgreSQL database.

PostgreSQL runs on these machines at 127.0.0.1:5432 with trust auth (see
DEVELOPERS.md); MAILROOM_TEST_PG overrides the admin URL. If it cannot be
reached the PostgreSQL tests FAIL: the store must be shown to work on both.

Safe under pytest-xdist: every database gets a fresh name (the xdist worker id,
for finding a leftover's owner, and a random part), and advisory locks are per
database, so tests on different workers never see each other's locks.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("MAILROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"mailroom_test_{worker}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
