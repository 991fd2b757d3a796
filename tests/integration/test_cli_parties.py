"""Correcting who complained and who else may write about a case (issue 8, item 6),
through the real command, with the audit trail kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment import mailroom, new_deployment


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, str]:
    config = new_deployment(tmp_path)
    logged = mailroom(
        config, "cases", "new", "--channel", "letter", "--name", "Jon Smyth", "--email", "jon@example.org",
        "--received", "2026-11-20T10:00", "--subject", "Repairs not done", "--json",
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    return config, json.loads(logged.stdout)["id"]


def _show(config: Path, complaint_id: str) -> dict[str, Any]:
    shown = mailroom(config, "cases", "show", complaint_id, "--json")
    assert shown.returncode == 0, shown.stderr
    view: dict[str, Any] = json.loads(shown.stdout)
    return view


def test_edit_corrects_the_complainant_and_keeps_both_values_on_the_trail(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    edited = mailroom(
        config, "cases", "edit", complaint_id, "--name", "Jon Smith", "--email", "Jon.Smith@Example.org",
        "--by", "inbox team",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    view = _show(config, complaint_id)
    assert view["complainant"] == {"name": "Jon Smith", "email": "jon.smith@example.org"}
    assert {(p["email"], p["role"]) for p in view["parties"]} == {("jon.smith@example.org", "complainant")}
    (event,) = [e for e in view["events"] if e["kind"] == "complainant_edited"]
    assert (
        "Jon Smyth" in event["detail"] and "Jon Smith" in event["detail"] and "inbox team" in event["detail"]
    )
    assert event["data"]["before"]["email"] == "jon@example.org"
    again = mailroom(config, "cases", "edit", complaint_id, "--name", "Jon  Smith")
    assert "nothing to change" in again.stdout  # and no second event
    assert len([e for e in _show(config, complaint_id)["events"] if e["kind"] == "complainant_edited"]) == 1


def test_parties_are_added_and_removed_with_a_role(case: tuple[Path, str]) -> None:
    config, complaint_id = case
    added = mailroom(
        config, "cases", "party-add", complaint_id, "advocate@advice.example", "--role", "representative",
        "--name", "Ann Advocate",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    parties = {(p["email"], p["role"]) for p in _show(config, complaint_id)["parties"]}
    assert ("advocate@advice.example", "representative") in parties
    assert mailroom(config, "cases", "party-remove", complaint_id, "advocate@advice.example").returncode == 0
    view = _show(config, complaint_id)
    assert "advocate@advice.example" not in {p["email"] for p in view["parties"]}
    assert {"party_added", "party_removed"} <= {e["kind"] for e in view["events"]}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("party-add", "{id}", "x@example.org", "--role", "landlord"), "is not one of"),
        (("party-add", "{id}", "not an address", "--role", "other"), "not an email address"),
        (("party-add", "{id}", "jon@example.org", "--role", "other"), "is the complainant"),
        (("party-remove", "{id}", "jon@example.org"), "is the complainant"),
        (("party-remove", "{id}", "nobody@example.org"), "is not a party"),
        (("edit", "{id}", "--name", "  "), "cannot be empty"),
    ],
)
def test_bad_changes_are_one_line_and_change_nothing(
    case: tuple[Path, str], args: tuple[str, ...], says: str
) -> None:
    config, complaint_id = case
    before = _show(config, complaint_id)
    result = mailroom(config, "cases", *(arg.format(id=complaint_id) for arg in args))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert says in line
    assert _show(config, complaint_id) == before


def test_naming_the_constituent_of_an_mp_enquiry_keeps_the_mp_as_a_party(tmp_path: Path) -> None:
    """An MP's enquiry opens a case from the MP's mail; once staff know the
    constituent they name them, and the MP stays a party with their role."""
    from tests.support import mailgen

    config = new_deployment(tmp_path, init=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mp.eml").write_bytes(mailgen.mp_enquiry(1))
    assert mailroom(config, "ingest", str(inbox)).returncode == 0
    (case,) = json.loads(mailroom(config, "cases", "list", "--json").stdout)
    mp_address = case["complainant"]["email"]
    edited = mailroom(
        config,
        "cases",
        "edit",
        case["id"],
        "--name",
        "Mrs Constance Tuent",
        "--email",
        "constance@example.org",
    )
    assert edited.returncode == 0, edited.stderr
    roles = {p["email"]: p["role"] for p in _show(config, case["id"])["parties"]}
    assert roles == {mp_address: "mp", "constance@example.org": "complainant"}
