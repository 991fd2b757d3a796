"""The deadline and calendar commands, run as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import mailgen


def mailroom(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mailroom", *args, "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def write_config(tmp_path: Path, extra: str = "", init: bool = True) -> Path:
    config = tmp_path / "mailroom.toml"
    storage = tmp_path / "storage"
    config.write_text(
        f'[storage]\nroot = "{storage}"\n[maildir]\npath = ""\n[worker]\nprogress = false\n{extra}'
    )
    if init:  # only init, run and ingest may create the database
        created = mailroom(config, "init")
        assert created.returncode == 0, created.stderr
    return config


def test_add_working_days_prints_the_date_and_nothing_else(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert mailroom(config, "calendar", "add-working-days", "2022-09-12", "5").stdout == "2022-09-20\n"
    # 2 January is a bank holiday in Scotland only
    scotland = mailroom(config, "calendar", "add-working-days", "2026-12-31", "1", "--region", "scotland")
    assert scotland.stdout == "2027-01-05\n"
    assert mailroom(config, "calendar", "add-working-days", "2026-12-31", "1").stdout == "2027-01-04\n"


def test_add_working_days_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    results = [
        mailroom(config, "calendar", "add-working-days", *args)
        for args in (("31/12/2026", "1"), ("1900-01-01", "1"))
    ]
    # "--" so that -1 is read as a value, not an option
    negative = [
        sys.executable,
        "-m",
        "mailroom",
        "calendar",
        "add-working-days",
        "--config",
        str(config),
        "--",
    ]
    results.append(
        subprocess.run([*negative, "2026-12-31", "-1"], capture_output=True, text=True, timeout=120)
    )
    for result in results:
        assert result.returncode == 1, result.args
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_closure_day_in_config_moves_the_result(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[calendar]\nclosure_days = ["2027-01-04"]\n')
    assert mailroom(config, "calendar", "add-working-days", "2026-12-31", "1").stdout == "2027-01-05\n"


def test_deadlines_and_cases_show_report_the_code_clocks(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mailgen.complaint(1))
    assert mailroom(config, "ingest", str(inbox)).returncode == 0
    rows = json.loads(mailroom(config, "deadlines", "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["clock"] == "stage1_acknowledgement" and row["paragraph"] == "6.2"
    assert row["state"] in {"due", "due_soon", "overdue"}
    (case,) = json.loads(mailroom(config, "cases", "list", "--json").stdout)
    shown = json.loads(mailroom(config, "cases", "show", case["id"], "--json").stdout)
    assert [(d["clock"], d["due"], d["state"]) for d in shown["deadlines"]] == [
        (row["clock"], row["due"], row["state"])
    ]


def test_a_policy_laxer_than_the_code_stops_mailroom_with_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[policy]\nclocks = { stage1_response = 15 }\n", init=False)
    result = mailroom(config, "deadlines")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "policy.clocks.stage1_response" in line and "laxer" in line


def test_check_govuk_reports_each_difference_on_its_own_line(tmp_path: Path) -> None:
    from datetime import date

    from mailroom.calendar_source import bank_holidays
    from mailroom.config import Region

    england = sorted(d for d in bank_holidays(Region.ENGLAND_AND_WALES, range(2026, 2027)) if d.weekday() < 5)
    published = [d for d in england if d != date(2026, 5, 25)] + [date(2026, 7, 1)]  # one missing, one extra
    document = {
        division: {"division": division, "events": [{"title": "x", "date": d.isoformat()} for d in published]}
        for division in ("england-and-wales", "scotland", "northern-ireland")
    }
    govuk = tmp_path / "bank-holidays.json"
    govuk.write_text(json.dumps(document))
    config = write_config(tmp_path)
    result = mailroom(config, "calendar", "check-govuk", str(govuk))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "2026-05-25 (Mon): bank holiday in the calendar, not on gov.uk",
        "2026-07-01 (Wed): bank holiday on gov.uk, not in the calendar",
    ]
    clean = {
        k: {**v, "events": [{"title": "x", "date": d.isoformat()} for d in england]}
        for k, v in document.items()
    }
    govuk.write_text(json.dumps(clean))
    assert mailroom(config, "calendar", "check-govuk", str(govuk)).returncode == 0


def test_recording_the_acknowledgement_meets_its_clock_and_starts_the_response_clock(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mailgen.complaint(1))  # received Mon 2 Nov 2026 (mailgen.BASE_DATE)
    assert mailroom(config, "ingest", str(inbox)).returncode == 0
    (case,) = json.loads(mailroom(config, "cases", "list", "--json").stdout)
    recorded = mailroom(
        config, "cases", "record", case["id"], "stage1_acknowledged", "--at", "2026-11-04T10:00"
    )
    assert recorded.returncode == 0, recorded.stderr
    shown = json.loads(mailroom(config, "cases", "show", case["id"], "--json").stdout)
    clocks = {d["clock"]: d for d in shown["deadlines"]}
    assert clocks["stage1_acknowledgement"]["state"] == "met"
    assert clocks["stage1_response"]["started_at"] == "2026-11-04T10:00:00+00:00"
    assert clocks["stage1_response"]["due"] == "2026-11-18"  # 10 working days after Wed 4 Nov
    twice = mailroom(config, "cases", "record", case["id"], "stage1_acknowledged", "--at", "2026-11-05T10:00")
    assert twice.returncode == 1 and "already has stage1_acknowledged" in twice.stderr
    early = mailroom(config, "cases", "record", case["id"], "stage1_responded", "--at", "2020-01-01T10:00")
    assert early.returncode == 1 and "before the complaint was received" in early.stderr


def test_officers_assignment_extension_and_the_officer_filter(tmp_path: Path) -> None:
    """staff add, cases assign, cases record ... --until, deadlines --officer, reminders preview."""
    config = write_config(tmp_path, '[reminders]\nofficer_addresses = ["team@landlord.example"]\n')
    created = [
        json.loads(
            mailroom(
                config,
                "cases",
                "new",
                "--channel",
                "phone",
                "--name",
                name,
                "--received",
                "2026-11-02T10:00",
                "--subject",
                "Leaking roof",
                "--json",
            ).stdout
        )["id"]
        for name in ("Ann", "Bob")
    ]
    added = mailroom(
        config, "staff", "add", "ava@landlord.example", "--manager", "max@landlord.example", "--digest"
    )
    assert added.returncode == 0, added.stderr
    staff = json.loads(mailroom(config, "staff", "list", "--json").stdout)
    assert staff == [
        {"email": "ava@landlord.example", "name": "", "manager": "max@landlord.example", "digest": True}
    ]
    assert mailroom(config, "cases", "assign", created[0], "ava@landlord.example").returncode == 0
    refused = mailroom(config, "cases", "assign", created[1], "nobody@landlord.example")
    assert refused.returncode == 1 and "not on the staff list" in refused.stderr
    ack = mailroom(config, "cases", "record", created[0], "stage1_acknowledged", "--at", "2026-11-03T10:00")
    assert ack.returncode == 0, ack.stderr
    extended = mailroom(
        config,
        "cases",
        "record",
        created[0],
        "stage1_extended",
        "--at",
        "2026-11-04T10:00",
        "--until",
        "2026-11-24",
        "--json",
    )
    assert extended.returncode == 0, extended.stderr
    assert json.loads(extended.stdout)["event"] == "stage1_extended"
    too_far = mailroom(
        config,
        "cases",
        "record",
        created[0],
        "stage1_extended",
        "--at",
        "2026-11-04T11:00",
        "--until",
        "2026-12-17",
    )
    assert too_far.returncode == 1 and "(6.3)" in too_far.stderr and "--good-reason" in too_far.stderr
    mine = json.loads(mailroom(config, "deadlines", "--officer", "ava@landlord.example", "--json").stdout)
    assert [(row["complaint_id"], row["clock"], row["due"], row["extended_from"]) for row in mine] == [
        (created[0], "stage1_response", "2026-11-24", "2026-11-17")
    ]
    assert {row["officer"] for row in mine} == {"ava@landlord.example"}
    preview = json.loads(mailroom(config, "reminders", "preview", "--date", "2026-11-20", "--json").stdout)
    by_case = {row["complaint_id"]: row for row in preview}
    assert by_case[created[0]]["digest_recipients"] == ["ava@landlord.example"]  # T-2 of the extended date
    assert by_case[created[0]]["step"] == "T-2" and by_case[created[0]]["recipients"] == []
    assert by_case[created[1]]["recipients"] == ["team@landlord.example"]  # no manager configured
    assert by_case[created[1]]["step"].startswith("overdue")
