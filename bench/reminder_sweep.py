"""Reminder sweep over 1,000,000 stored complaints, on SQLite and PostgreSQL.

Fills a fresh database with N complaints, each with its stored Code clock
(``deadlines`` rows, as the worker writes them). Most are closed or have their
next reminder on a later day; ``--due`` of them reach a ladder step at the
sweep moment (Monday 09:05, UK). Then times one ``reminders.sweep``: the index
range scan on ``next_reminder_at``, the ladder, the reminder ledger and the
outbox rows, committed. The naive approach it replaces (load every open
complaint and its events, compute every clock, then ask the ladder) is timed
on a sample and scaled up. Peak memory of the sweep is measured with
tracemalloc, to show it does not grow with the number of complaints.

Usage: python -m bench.reminder_sweep [--complaints N] [--due K] [--naive-sample S] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from mailroom.clock import LONDON, FixedClock
from mailroom.clocks import deadlines_of
from mailroom.config import Settings
from mailroom.domain.reminders import reminder_due
from mailroom.reminders import sweep
from mailroom.services import Services, build_services
from mailroom.store.schema import Base
from tests.support.databases import throwaway_postgres

SWEEP_AT = datetime(2027, 3, 8, 9, 5, tzinfo=LONDON)  # a Monday
CHUNK = 20_000


def fill(services: Services, complaints: int, due: int) -> None:
    """Complaints received over the two years before the sweep; ``due`` of them
    at T-2 of their acknowledgement now, a tenth still running with reminders
    on later days, the rest answered long ago."""
    calendar = services.calendar
    version = calendar.version
    today = SWEEP_AT.date()
    t_minus_2 = calendar.add_working_days(today, 2)
    nine = datetime.combine(today, datetime.min.time().replace(hour=9), tzinfo=LONDON).astimezone(UTC)
    tables = Base.metadata.tables
    with services.store.engine.begin() as connection:
        for start in range(0, complaints, CHUNK):
            rows, clocks = [], []
            for n in range(start, min(start + CHUNK, complaints)):
                received = SWEEP_AT - timedelta(hours=1 + (n * 7919) % (2 * 365 * 24))
                if n < due:
                    received = SWEEP_AT - timedelta(days=4)  # acknowledgement due in 2 working days
                complaint_id = f"CMP-{received.year}-{n:07d}"
                running = n < due or n % 10 == 0
                rows.append(
                    {
                        "id": complaint_id,
                        "status": "open" if running else "closed",
                        "stage": 1,
                        "channel": "email",
                        "received_at": received,
                        "complainant_name": f"Resident {n}",
                        "complainant_email": f"resident{n}@example.org",
                        "subject": "Damp and mould in the bathroom",
                        "description": "",
                        "flags": "",
                        "created_at": received,
                        "officer": "",
                    }
                )
                later = nine + timedelta(days=1 + n % 30)
                clocks.append(
                    {
                        "complaint_id": complaint_id,
                        "clock": "stage1_acknowledgement",
                        "paragraph": "6.2",
                        "title": "Acknowledge, define and log the stage 1 complaint",
                        "started_at": received,
                        "due": t_minus_2 if n < due else received.date() + timedelta(days=7),
                        "lapses_at": received + timedelta(days=8),
                        "original_due": t_minus_2 if n < due else received.date() + timedelta(days=7),
                        "calendar_version": version,
                        "stopped_at": None if running else received + timedelta(days=2),
                        "next_reminder_at": nine if n < due else (later if running else None),
                        "computed_at": received,
                    }
                )
            connection.execute(insert(tables["complaints"]), rows)
            connection.execute(insert(tables["deadlines"]), clocks)
        connection.execute(text("ANALYZE"))


def time_sweep(services: Services) -> dict[str, Any]:
    started = time.perf_counter()
    report = sweep(services)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = sweep(services)  # the same moment: everything is ledgered already
    repeat = time.perf_counter() - started
    # The same sweep again from scratch under tracemalloc (which slows Python
    # down several times over, so it is not timed): its peak memory.
    nine = datetime.combine(SWEEP_AT.date(), datetime.min.time().replace(hour=9), tzinfo=LONDON)
    with services.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM outbox"))
        connection.execute(text("DELETE FROM reminder_log"))
        connection.execute(
            text("UPDATE deadlines SET next_reminder_at = :nine WHERE due = :due"),
            {
                "nine": nine.astimezone(UTC).replace(tzinfo=None) if _sqlite(services) else nine,
                "due": _t2(services),
            },
        )
    tracemalloc.start()
    traced = sweep(services)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "sweep_seconds": round(seconds, 3),
        "steps_queued": report.steps,
        "mails_queued": report.mails,
        "ms_per_reminder": round(seconds / max(report.steps, 1) * 1000, 3),
        "repeat_sweep_seconds": round(repeat, 4),
        "repeat_steps": again.steps,
        "peak_python_memory_mib": round(peak / 2**20, 1),
        "traced_steps": traced.steps,
    }


def _sqlite(services: Services) -> bool:
    return services.store.engine.dialect.name == "sqlite"


def _t2(services: Services) -> Any:
    return services.calendar.add_working_days(SWEEP_AT.date(), 2)


def time_naive(services: Services, sample: int, complaints: int) -> dict[str, Any]:
    """Load every open complaint, compute its clocks from its events, ask the
    ladder: what the sweep did before clocks were stored. Timed on ``sample``
    open complaints and scaled to all of them."""
    with services.store.engine.connect() as connection:
        open_count = connection.execute(
            text("SELECT count(*) FROM complaints WHERE status = 'open'")
        ).scalar_one()
    started = time.perf_counter()
    seen = 0
    with services.store.transaction() as repo:
        from sqlalchemy import select

        from mailroom.store.schema import Complaint

        for complaint in repo.session.scalars(
            select(Complaint).where(Complaint.status == "open").limit(sample)
        ):
            for deadline in deadlines_of(services, repo, complaint):
                if deadline.running:
                    reminder_due(
                        complaint.id, deadline, services.ladder, services.calendar, services.clock.now()
                    )
            seen += 1
    per_open = (time.perf_counter() - started) / max(seen, 1)
    # Before stored clocks, every complaint was loaded to find the open ones.
    return {
        "naive_seconds_per_open_complaint": round(per_open, 6),
        "naive_estimated_seconds": round(per_open * open_count, 1),
        "open_complaints": open_count,
        "naive_sample": seen,
    }


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        with throwaway_postgres() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def run(kind: str, complaints: int, due: int, sample: int) -> dict[str, Any]:
    with database(kind) as url, tempfile.TemporaryDirectory() as storage:
        settings = Settings.model_validate(
            {
                "storage": {"root": storage},
                "database": {"url": url},
                "maildir": {"path": None},
                "reminders": {"officer_addresses": ["team@landlord.example"]},
            }
        )
        services = build_services(settings, FixedClock(SWEEP_AT.astimezone(UTC)))
        started = time.perf_counter()
        fill(services, complaints, due)
        result: dict[str, Any] = {
            "database": kind,
            "complaints": complaints,
            "fill_seconds": round(time.perf_counter() - started, 1),
        }
        result.update(time_sweep(services))
        result.update(time_naive(services, sample, complaints))
        result["ratio_naive_over_sweep"] = round(
            result["naive_estimated_seconds"] / result["sweep_seconds"], 1
        )
        services.store.engine.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=500, help="clocks at a ladder step at the sweep moment")
    parser.add_argument("--naive-sample", type=int, default=2_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    results = [run(kind, args.complaints, args.due, args.naive_sample) for kind in kinds]
    print(json.dumps({"machine": platform.platform(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
