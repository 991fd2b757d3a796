"""Start-up budget (DEVELOPERS.md, issue 10): a staff command loads only what it
uses. Checked on ``sys.modules`` of a fresh interpreter, never on time; the
times are in bench/startup.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "alembic", "docxtpl", "docx", "holidays", "apscheduler", "pydantic_settings")

# Runs one command in-process, then prints the top-level packages it loaded.
_PROBE = """
import json, sys
from mailroom.cli import main
sys.argv = ["mailroom", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _loaded_by(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], cwd=cwd, env=env, capture_output=True, text=True
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), done.stdout


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    return {**clean, "MAILROOM_CACHE_DIR": str(tmp_path / "cache")}


def test_importing_the_command_line_loads_no_store_letters_or_calendar_data() -> None:
    probe = "import sys, mailroom.cli; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split())
    assert "mailroom" in loaded and "typer" in loaded  # the probe did import it
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_help_loads_no_domain(tmp_path: Path, env: dict[str, str]) -> None:
    code, loaded, out = _loaded_by(["--help"], tmp_path, env)
    assert code == 0 and "cases" in out
    assert loaded.isdisjoint(HEAVY)


def test_a_listing_on_an_existing_store_loads_neither_sqlalchemy_nor_alembic(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """`init` creates and migrates the store (SQLAlchemy and Alembic); a listing then
    reads it through the driver alone."""
    config = tmp_path / "mailroom.toml"
    config.write_text(f'[storage]\nroot = "{tmp_path / "storage"}"\n', encoding="utf-8")
    code, first, _ = _loaded_by(["init", "--config", str(config)], tmp_path, env)
    assert code == 0
    assert {"sqlalchemy", "alembic"} <= first  # a new database was created the usual way
    code, loaded, out = _loaded_by(["cases", "list", "--json", "--config", str(config)], tmp_path, env)
    assert code == 0 and json.loads(out) == []
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_a_listing_outside_a_deployment_says_so_and_creates_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailroom", "cases", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "no database" in line and "mailroom init" in line
    assert not (tmp_path / "storage").exists()


def test_working_days_load_the_holidays_package_once(tmp_path: Path, env: dict[str, str]) -> None:
    args = ["calendar", "add-working-days", "2026-12-23", "5"]
    code, loaded, out = _loaded_by(args, tmp_path, env)
    assert (code, out) == (0, "2027-01-04\n")
    assert "holidays" in loaded  # the first run builds the cache
    code, loaded, out = _loaded_by(args, tmp_path, env)
    assert (code, out) == (0, "2027-01-04\n")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
