"""`mailroom report tsm` (mailroom/report_tsm_cli.py) on a real store: text, JSON and
CSV, with and without --list, and its one-line refusals. The command is registered
here on a `report` group the way mailroom/cli.py registers command functions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailroom.accounts.audit import Actor
from mailroom.case_events import ClockEvent, record_event
from mailroom.cli import app
from mailroom.cli_common import command_group
from mailroom.clock import LONDON, FixedClock
from mailroom.config import load_settings
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.report_tsm_cli import report_tsm
from mailroom.reports.homes import set_homes
from mailroom.services import build_services

runner = CliRunner()
root = command_group("test root")
report_app = command_group("Reports.")
report_app.command("tsm")(report_tsm)
root.add_typer(report_app, name="report")


def uk(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A deployment with three complaints in 2026-27: one answered in time, one
    acknowledged late (so late), one still open; 2,500 homes."""
    path = tmp_path / "mailroom.toml"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(tmp_path / 'storage'))}\n"
        f"[database]\nurl = {json.dumps('sqlite:///' + str(tmp_path / 'mailroom.db'))}\n"
        '[maildir]\npath = ""\n',
        encoding="utf-8",
    )
    assert runner.invoke(app, ["init", "-c", str(path)]).exit_code == 0
    services = build_services(load_settings(path), FixedClock(datetime(2027, 5, 1, tzinfo=UTC)))
    try:
        for received, acknowledged, responded in (
            (date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 9)),
            (date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 12)),
            (date(2026, 9, 1), None, None),
        ):
            request = OtherChannelComplaint(
                Channel.PHONE, uk(received), "A Resident", "a@example.org", "Leak", "x"
            )
            complaint_id = log_complaint(services, request)
            if acknowledged and responded:
                record_event(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(acknowledged))
                record_event(services, complaint_id, ClockEvent.STAGE1_RESPONDED, uk(responded))
        set_homes(services, "2026-27", 2_500, Actor("reports@example.org"))
    finally:
        services.store.engine.dispose()
    return path


def tsm(config: Path, *args: str) -> Any:
    return runner.invoke(root, ["report", "tsm", "--year", "2026-27", "-c", str(config), *args])


def test_json_gives_each_measure_with_its_rule_and_with_list_the_ids(config: Path) -> None:
    done = tsm(config, "--json", "--list")
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["period"] == {"label": "2026-27", "first_day": "2026-04-01", "last_day": "2027-03-31"}
    assert data["homes"] == 2500 and data["notes"] == []
    assert data["definitions"]["file"] == "rules/tsm-2024.toml"
    measures = {m["code"]: m for m in data["measures"]}
    assert (measures["CH01(1)"]["numerator"], measures["CH01(1)"]["denominator"]) == (3, 2500)
    assert measures["CH01(1)"]["value"] == 1.2  # 3 / 2,500 x 1,000
    assert measures["CH01(1)"]["complaints"] == ["CMP-2026-000001", "CMP-2026-000002", "CMP-2026-000003"]
    ch02 = measures["CH02(1)"]
    assert (ch02["numerator"], ch02["denominator"], ch02["value"]) == (1, 2, 50.0)
    assert ch02["complaints"] == ["CMP-2026-000001"]
    assert ch02["denominator_complaints"] == ["CMP-2026-000001", "CMP-2026-000002"]
    assert (measures["CH02(2)"]["denominator"], measures["CH02(2)"]["value"]) == (0, None)
    assert ch02["rule"].startswith("CH02(1): ") and ch02["verify"]
    without = json.loads(tsm(config, "--json").output)
    assert "complaints" not in without["measures"][0]


def test_csv_one_row_per_measure_or_per_complaint(config: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(tsm(config, "--csv").output)))
    assert [r["code"] for r in rows] == ["CH01(1)", "CH01(2)", "CH02(1)", "CH02(2)"]
    assert (rows[0]["value"], rows[0]["numerator"], rows[0]["denominator"]) == ("1.2", "3", "2500")
    assert (rows[2]["value"], rows[3]["value"]) == ("50.0", "n/a")
    listed = list(csv.DictReader(io.StringIO(tsm(config, "--csv", "--list").output)))
    assert [(r["code"], r["complaint_id"], r["counted_as"]) for r in listed if r["code"] == "CH02(1)"] == [
        ("CH02(1)", "CMP-2026-000001", "responded within timescale"),
        ("CH02(1)", "CMP-2026-000002", "responded outside timescale"),
    ]
    assert len([r for r in listed if r["code"] == "CH01(1)"]) == 3


def test_text_for_a_person(config: Path) -> None:
    done = tsm(config, "--list")
    assert done.exit_code == 0, done.output
    text = done.output
    assert "Tenant Satisfaction Measures 2026-27 (1 April 2026 to 31 March 2027); homes: 2,500" in text
    assert "1.2 per 1,000 homes (3 complaints, 2,500 homes)" in text
    assert "50.0% (1 of 2 within timescale)" in text
    assert "CMP-2026-000002  responded outside timescale" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--year", "2026-27 Q1"], "TSMs are annual"),
        (["--year", "2026-28"], "1 April to 31 March"),
        (["--year", "2026-27", "--json", "--csv"], "choose one"),
    ],
)
def test_refusals_are_one_line(config: Path, args: list[str], says: str) -> None:
    done = runner.invoke(root, ["report", "tsm", "-c", str(config), *args])
    assert done.exit_code != 0
    assert says in str(done.exception) or says in done.output
