"""Shared fixtures. Real components (Dovecot, PostgreSQL) are started or
created by the fixtures themselves; see tests/support/.

`make test` runs the tests in parallel (pytest-xdist, one process per core).
Each worker process is a pytest session of its own, so everything below is
per worker: its own Dovecot (session fixture, free ports, its own directory
under the worker's basetemp, instance name from its pid), SMTP servers on free
ports, a throwaway PostgreSQL database per test with a unique name, and
LibreOffice with a private profile per converter (mailroom/letters/pdf.py
makes one under a fresh temporary directory every time). Nothing may use a
fixed port, path or database name, or look for processes by name alone: tag
the processes a test starts (see the SIGKILL test) and look for the tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mailroom.clock import FixedClock
from mailroom.config import Settings
from tests.support.databases import throwaway_postgres

if TYPE_CHECKING:
    from mailroom.services import Services

pytest_plugins = ["tests.support.dovecot", "tests.support.smtp"]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailroom.db'}"
    else:
        with throwaway_postgres() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mailroom.db'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


def make_settings(storage: Path, db: str, **sections: dict[str, object]) -> Settings:
    """Settings for a test: explicit values only, no file and no environment."""
    return Settings.model_validate(
        {"storage": {"root": storage}, "database": {"url": db}, "maildir": {"path": None}, **sections}
    )


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    from mailroom.services import build_services

    built = build_services(make_settings(tmp_path / "storage", sqlite_url), clock)
    yield built
    built.store.engine.dispose()
