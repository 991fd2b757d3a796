"""One case for the desk and the command line (mailroom/case_detail.py), on SQLite and
PostgreSQL: ``show_case`` is exactly what ``cases show --json`` prints, and the
timeline merges mails, steps, letters, reminders and audit entries in time order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailroom.accounts.audit import Actor, record
from mailroom.case_detail import show_case, timeline
from mailroom.case_events import ClockEvent, EventDetails, record_event
from mailroom.cli import app
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import draft
from mailroom.letters.types import LetterType, field_names
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.parties import add_party
from mailroom.reminders import sweep
from mailroom.services import Services, build_services
from mailroom.staff import assign, save_member
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen
from tests.support.letter_samples import sample_context

ROOT = Path(__file__).resolve().parents[2]
LANDLORD_FILE = ROOT / "rules" / "policies" / "ongo-2025.toml"
ANN = "ann@landlord.example"
runner = CliRunner()


def uk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def office(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    settings = make_settings(
        tmp_path / "storage",
        db_url,
        policy={"landlord_file": LANDLORD_FILE},
        reminders={"officer_addresses": ["team@landlord.example"]},
    )
    services = build_services(settings, clock)
    save_member(services, ANN, "Ann Officer")
    yield services
    services.store.engine.dispose()


def cli_config(office: Services, tmp_path: Path) -> Path:
    """The same deployment as ``office``, for the command line."""
    settings = office.settings
    path = tmp_path / "mailroom.toml"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(settings.storage.root))}\n"
        f"[database]\nurl = {json.dumps(settings.database_url)}\n"
        f'[maildir]\npath = ""\n'
        f"[policy]\nlandlord_file = {json.dumps(str(LANDLORD_FILE))}\n"
        f"[reminders]\nofficer_addresses = {json.dumps(['team@landlord.example'])}\n",
        encoding="utf-8",
    )
    return path


def test_show_case_is_what_cases_show_json_prints(
    office: Services, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case with a scan, a representative, an officer, steps and an extension; the
    command runs in this process with its clock at the same instant."""
    clock.set(uk(date(2026, 11, 2), 9))
    scan = tmp_path / "letter.pdf"
    scan.write_bytes(b"%PDF-1.4 a scanned letter")
    request = OtherChannelComplaint(
        Channel.LETTER, uk(date(2026, 11, 2), 8), "Ms Ünïcode", "u@example.org", "Mould", "In the bedroom.",
        documents=(scan,), postal_address="1 Harrow Court", contact_preference="post",
    )  # fmt: skip
    complaint_id = log_complaint(office, request)
    add_party(office, complaint_id, "advocate@example.net", "A Advocate", "representative", by=ANN)
    assign(office, complaint_id, ANN)
    clock.set(uk(date(2026, 11, 20), 12))
    record_event(office, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 3)), by=ANN)
    details = EventDetails(until=date(2026, 11, 24))
    record_event(office, complaint_id, ClockEvent.STAGE1_EXTENDED, uk(date(2026, 11, 16)), details=details)

    view = show_case(office, complaint_id)
    assert view is not None
    assert (
        view["procedure"]["state"] == "stage1_open"
        and "stage1_responded" in view["procedure"]["allowed_next"]
    )
    assert {d["clock"]: d["state"] for d in view["deadlines"]} == {
        "stage1_acknowledgement": "met",
        "stage1_response": "due_soon",  # Tue 24 Nov: two working days ahead
    }
    assert [p["role"] for p in view["parties"]] == ["complainant", "representative"]
    assert view["officer"] == ANN and view["documents"]

    monkeypatch.setattr("mailroom.clock.SystemClock.now", lambda self: clock.now())
    config = cli_config(office, tmp_path)
    shown = runner.invoke(
        app, ["cases", "show", case_reference(complaint_id).lower(), "--json", "-c", str(config)]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == json.loads(json.dumps(view))

    assert show_case(office, "CMP-2026-999999") is None
    missing = runner.invoke(app, ["cases", "show", "CMP-2026-999999", "--json", "-c", str(config)])
    assert missing.exit_code == 1 and "no complaint CMP-2026-999999" in str(missing.exception)


def test_the_timeline_merges_everything_in_time_order(
    office: Services, clock: FixedClock, tmp_path: Path
) -> None:
    """Complaint by email Mon 2 Nov, a letter drafted, acknowledged Tue 3 Nov (response
    due Tue 17 Nov), a reply, a reminder two working days before, an audit entry."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mailgen.complaint(1))
    clock.set(uk(date(2026, 11, 2), 9, 30))
    run_once(office, [MaildirSource([inbox])])
    with office.store.transaction() as repo:
        (complaint,) = repo.list_complaints()
        (first,) = repo.list_mails()
        complaint_id, message_id, sender = complaint.id, first.message_id, first.from_email
    clock.set(uk(date(2026, 11, 2), 11))
    context = sample_context(LetterType.STAGE1_ACKNOWLEDGEMENT)
    fields = {name: context[name] for name in field_names(LetterType.STAGE1_ACKNOWLEDGEMENT)}
    letter = draft(office, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    clock.set(uk(date(2026, 11, 3), 12))
    record_event(office, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 3), 10), by=ANN)
    reply = mailgen.reply_to(message_id, case_reference(complaint_id), sender, date=uk(date(2026, 11, 5), 8))
    (inbox / "b.eml").write_bytes(reply)
    clock.set(uk(date(2026, 11, 5), 9))
    run_once(office, [MaildirSource([inbox])])
    clock.set(uk(date(2026, 11, 13), 10))  # T-2 before Tue 17 Nov
    sweep(office)
    with office.store.transaction() as repo:
        replied = [m for m in repo.list_mails() if m.outcome == "reply"]
        assert len(replied) == 1 and repo.reminders_logged(complaint_id)
        # An event on one of the case's mails recorded outside any case (intake.py does so
        # when a mail is seen again in the mailbox).
        repo.add_event(uk(date(2026, 11, 13), 10, 30), "resighted", "seen again", mail_id=replied[0].id)
        record(
            repo.session, uk(date(2026, 11, 13), 11), Actor(ANN, "127.0.0.1"), "case.note",
            complaint_id=complaint_id, target=f"case {complaint_id}", detail="rang the resident",
        )  # fmt: skip
        events = repo.events_of_case(complaint_id)

    items = timeline(office, complaint_id)
    assert items is not None
    assert [item.at for item in items] == sorted(item.at for item in items)
    assert {item.kind for item in items} == {"mail", "step", "letter", "reminder", "audit"}
    mails = [item for item in items if item.kind == "mail"]
    assert [item.mail_id for item in mails] == [first.id, replied[0].id]
    assert all(item.actor == sender for item in mails)
    assert mails[1].title.startswith("Reply from") and complaint_id in mails[1].title
    (drafted,) = [item for item in items if item.kind == "letter"]
    assert drafted.letter_id == letter.draft_id and "drafted" in drafted.title
    (reminder,) = [item for item in items if item.kind == "reminder"]
    assert reminder.reminder_key and "stage1_response" in reminder.title
    (audit,) = [item for item in items if item.kind == "audit"]
    assert (audit.actor, audit.detail) == (ANN, "rang the resident") and audit.audit_id
    # Steps: every event of the case but those its mail and letter items already show.
    echoes = {"letter_drafted", "mail_complaint", "mail_reply"}
    steps = [item for item in items if item.kind == "step"]
    assert [item.event_id for item in steps] == [e.id for e in events if e.kind not in echoes], [
        (e.id, e.kind, e.complaint_id, e.mail_id) for e in events
    ]
    assert {"logged", "stage1_acknowledged", "resighted"} <= {e.kind for e in events if e.kind not in echoes}
    noted = next(item for item in steps if item.title.startswith("Resighted"))
    assert noted.mail_id == replied[0].id
    acknowledged = next(item for item in steps if item.title.startswith("Stage1 acknowledged"))
    assert f"recorded by {ANN}" in acknowledged.title
    assert all("\n" not in item.title and len(item.title) <= 200 for item in items)
    # In time order, whatever the source: received, drafted, acknowledged, replied, reminded.
    order = [(item.kind, item.event_id or item.mail_id or item.letter_id) for item in items]
    at_ack = order.index(("step", acknowledged.event_id))
    assert order.index(("mail", first.id)) < order.index(("letter", letter.draft_id)) < at_ack
    assert at_ack < order.index(("mail", replied[0].id)) < items.index(reminder) < items.index(audit)
    assert timeline(office, "CMP-2026-999999") is None
