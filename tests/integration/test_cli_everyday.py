"""Everyday fixes (issue 8, item 8) through the real command: printed references
with their check character, ``--at now``, and a readable ``cases show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailroom.domain.ids import case_reference
from tests.support.deployment import mailroom, new_deployment


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, str]:
    config = new_deployment(tmp_path)
    logged = mailroom(
        config, "cases", "new", "--channel", "phone", "--name", "Ada Resident", "--received", "now",
        "--subject", "Damp in the back bedroom", "--json",
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    return config, json.loads(logged.stdout)["id"]


def test_commands_take_the_printed_reference(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    shown = mailroom(config, "cases", "show", case_reference(complaint_id), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == complaint_id


def test_a_reference_with_a_wrong_check_character_is_one_line_and_changes_nothing(
    case: tuple[Path, str],
) -> None:
    config, complaint_id = case
    reference = case_reference(complaint_id)
    wrong = reference[:-1] + ("A" if reference[-1] != "A" else "B")
    result = mailroom(config, "cases", "record", wrong, "stage1_acknowledged", "--at", "now")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "check character is wrong" in line and reference in line
    events = json.loads(mailroom(config, "cases", "show", complaint_id, "--json").stdout)["events"]
    assert "stage1_acknowledged" not in {event["kind"] for event in events}


def test_at_now_records_the_step_at_the_present_moment(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    recorded = mailroom(
        config, "cases", "record", complaint_id, "stage1_acknowledged", "--at", "now", "--json"
    )
    assert recorded.returncode == 0, recorded.stderr
    shown = json.loads(mailroom(config, "cases", "show", complaint_id, "--json").stdout)
    acknowledgement = next(d for d in shown["deadlines"] if d["clock"] == "stage1_acknowledgement")
    assert acknowledgement["state"] == "met"


def test_cases_show_prints_officer_parties_and_clocks(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    text = mailroom(config, "cases", "show", complaint_id).stdout
    assert "officer: team (unassigned)" in text
    assert "Code clocks" in text and "stage1_acknowledgement" in text
    assert "Ada Resident" in text


def test_a_step_out_of_order_is_refused_naming_the_state_and_the_steps_allowed(
    case: tuple[Path, str],
) -> None:
    config, complaint_id = case
    refused = mailroom(config, "cases", "record", complaint_id, "stage2_acknowledged", "--at", "now")
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "stage2_acknowledged does not fit" in line and "stage1_acknowledged" in line
    shown = json.loads(mailroom(config, "cases", "show", complaint_id, "--json").stdout)
    assert "stage1_acknowledged" in shown["procedure"]["allowed_next"]
    assert "procedure:" in mailroom(config, "cases", "show", complaint_id).stdout


def test_a_wrong_step_is_corrected_and_both_stay_on_the_trail(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    recorded = mailroom(config, "cases", "record", complaint_id, "withdrawn", "--at", "now", "--json")
    assert recorded.returncode == 0, recorded.stderr
    wrong = json.loads(recorded.stdout)["event_id"]
    assert (
        json.loads(mailroom(config, "cases", "show", complaint_id, "--json").stdout)["status"] == "withdrawn"
    )
    unexplained = mailroom(config, "cases", "correct", str(wrong), "--reason", " ")
    assert unexplained.returncode == 1 and "reason" in unexplained.stderr
    corrected = mailroom(config, "cases", "correct", str(wrong), "--reason", "logged on the wrong case")
    assert corrected.returncode == 0, corrected.stderr
    shown = json.loads(mailroom(config, "cases", "show", complaint_id, "--json").stdout)
    assert shown["status"] == "open"
    kinds = [event["kind"] for event in shown["events"]]
    assert "withdrawn" in kinds and "event_corrected" in kinds
