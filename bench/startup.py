"""Start-up of staff commands against the floor of importing typer, rich and pydantic.

Each command runs as a whole process, alternating with the floor command
(``python -c "import typer, rich, pydantic"``) so that both see the same machine;
the ratio is taken pair by pair and the median reported. The budget
(DEVELOPERS.md) is a ratio of at most 2.0 for every row.

Rows: ``mailroom --help``; ``cases list --json`` on an empty store and on one of
10,000 complaints (SQLite, built once in a temporary folder); ``calendar
add-working-days`` with the bank-holiday cache warm. The cache and store live in
the temporary folder, so the run touches nothing of the user's.

mailroom's byte-code is compiled first, as pip does when it installs a package
(this checkout may run with PYTHONDONTWRITEBYTECODE, which would otherwise make
every run compile mailroom from source).

Usage: python -m bench.startup [--runs N] [--cases N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

FLOOR = [sys.executable, "-c", "import typer, rich, pydantic"]
MAILROOM = [sys.executable, "-m", "mailroom"]
BUDGET = 2.0
PACKAGE = Path(__file__).resolve().parents[1] / "mailroom"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def paired(command: list[str], cwd: Path, env: dict[str, str], runs: int) -> dict[str, float]:
    timed(command, cwd, env)  # warm-up: page cache, .pyc files, the calendar cache
    timed(FLOOR, cwd, env)
    ratios, own, floors = [], [], []
    for _ in range(runs):
        a = timed(command, cwd, env)
        b = timed(FLOOR, cwd, env)
        own.append(a)
        floors.append(b)
        ratios.append(a / b)
    return {
        "median_s": round(statistics.median(own), 4),
        "floor_median_s": round(statistics.median(floors), 4),
        "ratio_median": round(statistics.median(ratios), 2),
        "ratio_max": round(max(ratios), 2),
    }


def build_store(folder: Path, cases: int) -> Path:
    """A migrated SQLite store under ``folder`` with ``cases`` complaints, and its config."""
    from sqlalchemy import insert

    from mailroom.config import load_settings
    from mailroom.services import build_services
    from mailroom.store.schema import Complaint

    folder.mkdir(parents=True)
    config = folder / "mailroom.toml"
    config.write_text(f'[storage]\nroot = "{folder / "storage"}"\n', encoding="utf-8")
    services = build_services(load_settings(config))
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    rows = [
        {
            "id": f"CMP-2026-{n:06d}",
            "status": "open",
            "stage": 1,
            "channel": "email",
            "received_at": start + timedelta(minutes=17 * n),
            "complainant_name": f"Resident {n}",
            "complainant_email": f"resident{n}@example.org",
            "subject": f"Damp and mould in flat {n}, reported three times",
            "description": "The bathroom ceiling is black with mould again.",
            "flags": "",
            "created_at": start + timedelta(minutes=17 * n),
            "officer": "",
        }
        for n in range(1, cases + 1)
    ]
    with services.store.engine.begin() as connection:
        for chunk in range(0, len(rows), 1000):
            connection.execute(insert(Complaint.__table__), rows[chunk : chunk + 1000])
    services.store.engine.dispose()
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailroom-startup-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "MAILROOM_CACHE_DIR": str(root / "cache")}
        env = {k: v for k, v in env.items() if not k.startswith("MAILROOM_") or k == "MAILROOM_CACHE_DIR"}
        # Measured as installed: pip compiles a package's byte-code at install time,
        # but an editable checkout under PYTHONDONTWRITEBYTECODE (set on the CI
        # machines) would compile mailroom's modules from source on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(PACKAGE)], check=True, env=env)
        empty = build_store(root / "empty", 0)
        full = build_store(root / "full", args.cases)
        listed = subprocess.run(
            [*MAILROOM, "cases", "list", "--json", "--config", str(full)], env=env, capture_output=True
        )
        assert len(json.loads(listed.stdout)) == args.cases, listed.stderr
        listing = [*MAILROOM, "cases", "list", "--json", "--config"]
        rows = {
            "mailroom --help": [*MAILROOM, "--help"],
            "cases list --json (empty store)": [*listing, str(empty)],
            f"cases list --json ({args.cases} cases)": [*listing, str(full)],
            "calendar add-working-days": [*MAILROOM, "calendar", "add-working-days", "2026-12-23", "5"],
        }
        results = {name: paired(command, root, env, args.runs) for name, command in rows.items()}
    within = all(row["ratio_median"] <= BUDGET for row in results.values())
    print(
        json.dumps(
            {
                "floor": " ".join(FLOOR[1:]),
                "budget_ratio": BUDGET,
                "runs": args.runs,
                "commands": results,
                "within_budget": within,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
