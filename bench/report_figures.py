"""Report figures benchmark: ``period_figures`` for a financial year of 100,000
complaints, on SQLite and on PostgreSQL, against the issue's budget of 10 s.

The complaints come from the planned year of the acceptance test
(tests/support/report_plan.py), all received in 2026-27: acknowledgements,
extensions (within the cap, beyond it, late), refusals with their exclusions,
withdrawals, escalations, responses with decisions, remedies and learning. They
are written in bulk (``report_plan.bulk_write``: multi-row inserts, the clocks
computed by the pure ``case_deadlines`` that ``refresh_case`` runs), so that
100,000 complaints take a minute or two rather than the hours the use cases would.
A test (test_report_figures.py) shows the bulk rows give the same figures.

Each database is timed twice, cold (the first run after seeding) and warm, and
the annual figures are timed whole: every query, the outcomes of each case, the
TSM measures. The TSM alone (``tsm_report``, what ``mailroom report tsm`` runs)
is timed too.

Usage: python -m bench.report_figures [--complaints N] [--db sqlite|postgresql|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

BUDGET_SECONDS = 10.0
CHUNK = 5_000  # cases planned and written per transaction


@contextmanager
def _database(kind: str, root: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root / 'mailroom.db'}"
        return
    from tests.support.databases import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


def _services(root: Path, url: str) -> Any:
    from mailroom.clock import FixedClock
    from mailroom.services import build_services
    from tests.conftest import make_settings
    from tests.support.report_plan import NOW

    return build_services(make_settings(root / "storage", url), FixedClock(NOW))


def seed(services: Any, complaints: int) -> tuple[float, dict[str, int]]:
    """``complaints`` planned cases, all received in 2026-27, written in bulk."""
    from tests.support.report_plan import BulkIds, bulk_write, plan

    started, ids = time.perf_counter(), BulkIds()
    rows: dict[str, int] = {}
    for start in range(0, complaints, CHUNK):
        count = min(CHUNK, complaints - start)
        plans = plan(services.calendar, count, start=start, first=date(2026, 4, 1), span=365)
        with services.store.engine.begin() as connection:
            for table, written in bulk_write(connection, services, plans, ids).items():
                rows[table] = rows.get(table, 0) + written
    if services.store.engine.dialect.name == "postgresql":
        with services.store.engine.connect() as connection:  # fresh statistics, as autovacuum would make
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started, rows


def measure(kind: str, complaints: int) -> dict[str, Any]:
    from mailroom.reports.annual import write_annual
    from mailroom.reports.figures import period_figures, tsm_report
    from mailroom.reports.periods import parse_period

    year = parse_period("2026-27")
    with (
        tempfile.TemporaryDirectory(prefix="mailroom-bench-report-") as work,
        _database(kind, Path(work)) as url,
    ):
        services = _services(Path(work), url)
        try:
            seeded, rows = seed(services, complaints)
            timings = {}
            for name in ("annual_cold", "annual_warm"):
                started = time.perf_counter()
                figures = period_figures(services, year)
                timings[name] = time.perf_counter() - started
            started = time.perf_counter()
            tsm_report(services, year)
            timings["tsm_only"] = time.perf_counter() - started
            # The whole annual report: the figures, then the DOCX with its four charts.
            started = time.perf_counter()
            write_annual(
                services.settings,
                period_figures(services, year),
                Path(work) / "annual-report.docx",
                produced_on=date(2027, 4, 30),
            )
            timings["annual_report_docx"] = time.perf_counter() - started
        finally:
            services.store.engine.dispose()
    worst = max(timings["annual_cold"], timings["annual_warm"], timings["annual_report_docx"])
    return {
        "database": kind,
        "complaints": complaints,
        "rows": rows,
        "seed_seconds": round(seeded, 1),
        "seconds": {name: round(value, 2) for name, value in timings.items()},
        "budget_seconds": BUDGET_SECONDS,
        "ratio_to_budget": round(worst / BUDGET_SECONDS, 3),
        "within_budget": worst <= BUDGET_SECONDS,
        "received": figures.received,
        "tsm": {figure.code: [figure.numerator, figure.denominator] for figure in figures.tsm},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [measure(kind, args.complaints) for kind in kinds]
    if args.json:
        print(json.dumps({"machine": platform.platform(), "results": results}, indent=2))
        return
    for result in results:
        seconds = result["seconds"]
        print(
            f"{result['database']}: {result['complaints']:,} complaints "
            f"(seeded in {result['seed_seconds']} s): "
            f"annual figures {seconds['annual_cold']} s cold, {seconds['annual_warm']} s warm; "
            f"TSM alone {seconds['tsm_only']} s; the annual report DOCX (figures, charts, document) "
            f"{seconds['annual_report_docx']} s; worst {result['ratio_to_budget']:.0%} of the "
            f"{BUDGET_SECONDS:.0f} s budget{'' if result['within_budget'] else ' - OVER BUDGET'}"
        )


if __name__ == "__main__":
    main()
