"""Reasonable adjustments recorded on a case (issue 15, item 3; Code 3.1, 5.10):
`cases contact --format/--language` changes the case, records who, when and what on
its timeline (the audit chain still verifies), and the change shows in `cases show`,
on the desk's case page and in the evidence pack."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mailroom.adjustments import Adjustment, AdjustmentError, record_adjustment
from mailroom.case_detail import show_case, timeline
from mailroom.cli import app
from mailroom.clock import FixedClock
from mailroom.domain.models import Channel
from mailroom.errors import UserError
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.records.audit_chain import verify_chain
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.support.deployment import new_deployment

runner = CliRunner()


@pytest.fixture
def on_db(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path / "storage", db_url), clock)
    yield built
    built.store.engine.dispose()


def log_case(services: Services, name: str = "Ann Resident") -> str:
    request = OtherChannelComplaint(
        Channel.PHONE, datetime(2026, 11, 20, 11, 0, tzinfo=UTC), name, "ann@resident.example",
        "Damp in the bedroom", "Black mould on the bedroom wall.",
    )  # fmt: skip
    return log_complaint(services, request)


def test_an_adjustment_is_recorded_on_the_case_with_who_when_and_what(
    on_db: Services, clock: FixedClock
) -> None:
    complaint_id = log_case(on_db)
    changed = record_adjustment(
        on_db, complaint_id, Adjustment("large-print", "Polish\ninterpreter \x1b[31m for calls"), by="jo"
    )
    assert changed == ["letter_format", "language_note"]
    view = show_case(on_db, complaint_id)
    assert view is not None
    assert view["contact"]["letter_format"] == "large-print"
    assert view["contact"]["language_note"] == "Polish interpreter [31m for calls"  # one line, no ESC
    (event,) = [e for e in view["events"] if e["kind"] == "adjustment_recorded"]
    assert event["at"].startswith(clock.now().isoformat()[:19])
    assert "letters in large print (was standard print)" in event["detail"] and event["detail"].endswith(
        "by jo"
    )
    assert event["data"]["before"] == {"letter_format": "standard", "language_note": ""}
    assert event["data"]["after"]["letter_format"] == "large-print" and event["data"]["by"] == "jo"
    items = timeline(on_db, complaint_id)
    assert items is not None
    (item,) = [i for i in items if i.title.startswith("Adjustment recorded")]
    assert item.actor == "jo"

    # The same values again: nothing to record. Clearing the note is recorded.
    assert (
        record_adjustment(on_db, complaint_id, Adjustment("large-print", "Polish interpreter [31m for calls"))
        == []
    )
    assert record_adjustment(on_db, complaint_id, Adjustment(language_note=""), by="sam") == ["language_note"]
    view = show_case(on_db, complaint_id)
    assert view is not None and view["contact"]["language_note"] is None
    assert len([e for e in view["events"] if e["kind"] == "adjustment_recorded"]) == 2
    report = verify_chain(on_db)
    assert report.ok, report.summary()

    with pytest.raises(AdjustmentError, match=r"^--format: 'huge' is not one of standard, large-print$"):
        record_adjustment(on_db, complaint_id, Adjustment("huge"))
    with pytest.raises(AdjustmentError, match=r"^--language: at most 500 characters"):
        record_adjustment(on_db, complaint_id, Adjustment(language_note="x" * 501))
    with pytest.raises(AdjustmentError, match=r"^no complaint CMP-2099-999999-X$"):
        record_adjustment(on_db, "CMP-2099-999999-X", Adjustment("standard"))


def _cli(config: Path, *args: str) -> Result:
    return runner.invoke(app, [*args, "--config", str(config)])


def test_cases_contact_sets_the_format_and_language_and_cases_show_shows_them(tmp_path: Path) -> None:
    config = new_deployment(tmp_path, init=False)
    assert _cli(config, "init").exit_code == 0
    logged = _cli(
        config, "cases", "new", "--channel", "letter", "--name", "Jon Smyth", "--email", "jon@example.org",
        "--received", "2026-11-20T10:00", "--subject", "Repairs not done", "--json",
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    complaint_id = json.loads(logged.stdout)["id"]
    done = _cli(
        config, "cases", "contact", complaint_id, "--format", "large-print", "--language",
        "BSL interpreter for meetings", "--by", "inbox team",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{complaint_id}: adjustment recorded (letter format, language note)"
    shown = _cli(config, "cases", "show", complaint_id)
    assert (
        "adjustments (3.1, 5.10): letter format: large print; "
        "interpreting or translation: BSL interpreter for meetings"
    ) in " ".join(shown.stdout.split())
    view = json.loads(_cli(config, "cases", "show", complaint_id, "--json").stdout)
    assert view["contact"]["letter_format"] == "large-print"
    assert view["contact"]["language_note"] == "BSL interpreter for meetings"
    (event,) = [e for e in view["events"] if e["kind"] == "adjustment_recorded"]
    assert "inbox team" in event["detail"]
    standard = _cli(config, "cases", "contact", complaint_id, "--format", "standard", "--prefers", "email")
    assert (
        standard.stdout.strip()
        == f"{complaint_id}: contact details saved; adjustment recorded (letter format)"
    )

    # Errors a person can fix: one line (main() prints str() of the UserError).
    refused = _cli(config, "cases", "contact", complaint_id, "--format", "braille")
    assert isinstance(refused.exception, UserError)
    assert str(refused.exception) == "--format: 'braille' is not one of standard, large-print"
    nothing = _cli(config, "cases", "contact", complaint_id)
    assert isinstance(nothing.exception, UserError) and "nothing to change" in str(nothing.exception)


def test_the_evidence_pack_shows_the_adjustment_on_the_cover_and_in_the_chronology(
    services: Services, tmp_path: Path
) -> None:
    from mailroom.records.pack import build_pack

    complaint_id = log_case(services)
    record_adjustment(
        services, complaint_id, Adjustment("large-print", "Arabic translation of letters"), by="jo"
    )
    built = build_pack(services, complaint_id, tmp_path / "pack", "Jo Records")
    done = subprocess.run(["pdftotext", "-l", "3", str(built.pdf), "-"], capture_output=True, check=True)
    text = " ".join(done.stdout.decode("utf-8").split())
    assert "Letter format large print" in text
    assert "Interpreting or translation Arabic translation of letters" in text
    assert "Adjustment recorded: reasonable adjustment (Code 3.1, 5.10): letters in large print" in text
