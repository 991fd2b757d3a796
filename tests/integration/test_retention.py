"""Retention on real cases, on SQLite and PostgreSQL (mailroom/records/retention.py).

A store as staff would have made it: a complaint by email with an attachment, a
reply, a copy of the mail delivered twice, a representative, a call note, an
acknowledgement letter approved (LibreOffice), emailed (SMTP) and previewed; a
letter with a scan; phone complaints, one determined by the Ombudsman. On 1 June
2033, three are past their period (two closed in 2026, one determined in
March 2027), one is past it but on legal hold, two are still within it (closed in
2028; determined in 2028) and one is open. ``retention apply`` erases exactly the
three: their personal data is in no column of any table and their folders are
gone, the others are untouched, the annual figures are unchanged, each erasure is
signed and verifies, and a second apply erases nothing. Without ``--yes``, apply
erases nothing unless the plan is confirmed at a terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from mailroom.accounts.audit import Actor
from mailroom.case_events import CaseEventError, ClockEvent, EventDetails, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import approve, draft
from mailroom.letters.pack import LetterError
from mailroom.letters.pdf import PdfConverter
from mailroom.letters.preview import preview
from mailroom.letters.types import LetterType, field_names
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.outbound import send_due
from mailroom.parties import add_party
from mailroom.records.audit_chain import verify_chain
from mailroom.records.case_files import CallDirection, CallNote, CaseFileError, record_call
from mailroom.records.legal_hold import HoldError, release_hold, set_hold
from mailroom.records.retention import apply_retention, erasures, plan_retention, verify_erasure
from mailroom.records.retention_policy import OMBUDSMAN_DETERMINATION
from mailroom.reports.outcomes import Outcome, OutcomeKind, compensation_pence, remedy_count, stage_outcomes
from mailroom.retention_cli import RetentionRefused, cases_hold, cases_release_hold, retention_app
from mailroom.search.service import search_cases
from mailroom.services import Services, build_services
from mailroom.store.schema import AuditEntry, Complaint, Event, Mail, OutboxMessage, StoredDeadline
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.integration.test_letters import sample_fields, stage1_case
from tests.support import mailgen
from tests.support.letter_samples import sample_context

ROOT = Path(__file__).resolve().parents[2]
LANDLORD_FILE = ROOT / "rules" / "policies" / "ongo-2025.toml"
SENDER = "complaints@landlord.example"
ANN = "ann@landlord.example"
TODAY = datetime(2033, 6, 1, 10, 0, tzinfo=LONDON)
runner = CliRunner()


def uk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@dataclass(frozen=True)
class Resident:
    """A complainant, and the strings of theirs that erasure must take out."""

    name: str
    email: str
    more: tuple[str, ...] = ()

    @property
    def traces(self) -> tuple[str, ...]:
        return (self.name, self.email, *self.more)


@dataclass(frozen=True)
class Case:
    complaint_id: str
    resident: Resident


@pytest.fixture
def office(
    tmp_path: Path, db_url: str, clock: FixedClock, smtp_server: Any, ca_file: Path
) -> Iterator[Services]:
    _collector, port = smtp_server()
    smtp = {"host": "127.0.0.1", "port": port, "ca_file": ca_file, "sender": SENDER, "timeout": 5.0}
    settings = make_settings(tmp_path / "storage", db_url, policy={"landlord_file": LANDLORD_FILE}, smtp=smtp)
    services = build_services(settings, clock)
    yield services
    services.store.engine.dispose()


def config_file(office: Services, tmp_path: Path) -> Path:
    """The same deployment as ``office``, for the command line."""
    settings = office.settings
    path = tmp_path / "mailroom.toml"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(settings.storage.root))}\n"
        f"[database]\nurl = {json.dumps(settings.database_url)}\n"
        f'[maildir]\npath = ""\n'
        f"[policy]\nlandlord_file = {json.dumps(str(LANDLORD_FILE))}\n",
        encoding="utf-8",
    )
    return path


# -- the store -------------------------------------------------------------------------------------


def deliver(inbox: Path, name: str, raw: bytes, at: datetime) -> None:
    """A mail file whose delivery time (its mtime) is ``at``."""
    path = inbox / name
    path.write_bytes(raw)
    os.utime(path, (at.timestamp(), at.timestamp()))


def email_case(office: Services, clock: FixedClock, tmp_path: Path) -> Case:
    """By email with an attachment, 2 November 2026 (mailgen's date); acknowledged by
    letter (emailed, previewed), a reply and a second delivery of the first mail, a
    representative, a call, a hold set and released; responded, closed 1 December 2026."""
    name, address = mailgen.resident(1)
    attachment = f"{name} tenancy agreement.pdf"
    resident = Resident(
        name, address, (attachment, "Advocate Zephaniah Quill", "zephaniah.quill@advice.example")
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = mailgen.with_attachment(
        attachment, b"%PDF-1.4 tenancy of " + name.encode(), "application/pdf", n=1
    )
    deliver(inbox, "a.eml", first, uk(date(2026, 11, 2), 9, 10))
    clock.set(uk(date(2026, 11, 2), 9, 30))
    run_once(office, [MaildirSource([inbox])])
    with office.store.transaction() as repo:
        (complaint,) = repo.list_complaints()
        (mail,) = repo.list_mails()
        complaint_id, message_id = complaint.id, mail.message_id

    clock.set(uk(date(2026, 11, 3), 11))
    context = sample_context(LetterType.STAGE1_ACKNOWLEDGEMENT)
    fields = {field: context[field] for field in field_names(LetterType.STAGE1_ACKNOWLEDGEMENT)}
    letter = draft(office, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    issued = approve(office, letter.draft_id, by=ANN)
    assert issued.outbox_id is not None
    assert send_due(office.store, office.settings.smtp, clock).sent == 1
    with PdfConverter(timeout=60) as converter:
        shown = preview(office, letter.draft_id, converter)
    assert shown.pdf.is_file() and shown.pdf.parent.parent.name == ".previews"

    reply = mailgen.reply_to(message_id, case_reference(complaint_id), address)
    deliver(inbox, "b.eml", reply, uk(date(2026, 11, 5), 9))
    deliver(inbox, "c.eml", first, uk(date(2026, 11, 5), 9, 5))  # the same mail, delivered again
    clock.set(uk(date(2026, 11, 5), 10))
    run_once(office, [MaildirSource([inbox])])
    with office.store.transaction() as repo:
        outcomes = sorted(m.outcome for m in repo.list_mails())
    assert outcomes == ["complaint", "duplicate", "reply"], outcomes
    add_party(
        office, complaint_id, "zephaniah.quill@advice.example", "Advocate Zephaniah Quill", "representative"
    )
    call = CallNote(
        uk(date(2026, 11, 6)), CallDirection.INCOMING, name, f"{name} rang about the damp", by=ANN
    )
    clock.set(uk(date(2026, 11, 6), 12))
    record_call(office, complaint_id, call)
    set_hold(office, complaint_id, f"{name} mentioned a claim", Actor(ANN))
    release_hold(office, complaint_id, Actor(ANN))
    clock.set(uk(date(2026, 12, 1), 12))
    record_event(office, complaint_id, ClockEvent.STAGE1_RESPONDED, uk(date(2026, 11, 16)), by=ANN)
    record_event(office, complaint_id, ClockEvent.CLOSED, uk(date(2026, 12, 1)), by=ANN)
    return Case(complaint_id, resident)


def phone_case(
    office: Services,
    clock: FixedClock,
    resident: Resident,
    received: date,
    steps: list[tuple[ClockEvent, date]],
    *,
    channel: Channel = Channel.PHONE,
    scan: Path | None = None,
    address: str = "",
) -> Case:
    clock.set(uk(received, 11))
    request = OtherChannelComplaint(
        channel,
        uk(received, 9),
        resident.name,
        resident.email,
        f"Damp at the home of {resident.name}",
        f"{resident.name} says the bedroom wall is black with mould.",
        documents=(scan,) if scan else (),
        postal_address=address,
        contact_preference="post" if address else "email",
    )
    complaint_id = log_complaint(office, request)
    for event, day in steps:
        clock.set(uk(day, 12))
        record_event(office, complaint_id, event, uk(day), by=ANN)
    return Case(complaint_id, resident)


def determined(office: Services, clock: FixedClock, case: Case, day: date) -> None:
    """The Ombudsman's determination, as `cases ombudsman` will record it."""
    clock.set(uk(day, 12))
    with office.store.transaction() as repo:
        repo.add_event(
            uk(day), OMBUDSMAN_DETERMINATION, f"maladministration found for {case.resident.name}",
            complaint_id=case.complaint_id,
        )  # fmt: skip


ACK, RESPONDED, CLOSED = ClockEvent.STAGE1_ACKNOWLEDGED, ClockEvent.STAGE1_RESPONDED, ClockEvent.CLOSED


def build_office(office: Services, clock: FixedClock, tmp_path: Path) -> dict[str, Case]:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 a letter from Bartholomew Quince")
    cases = {"email": email_case(office, clock, tmp_path)}
    cases["letter"] = phone_case(
        office, clock, Resident("Bartholomew Quince", "b.quince@example.net", ("14 Larch Close",)),
        date(2026, 2, 2), [(CLOSED, date(2026, 2, 20))],
        channel=Channel.LETTER, scan=scan, address="14 Larch Close\nLeeds LS2 7QT",
    )  # fmt: skip
    steps_2020 = [(ACK, date(2020, 3, 4)), (RESPONDED, date(2020, 3, 16)), (CLOSED, date(2020, 6, 1))]
    cases["determined"] = phone_case(
        office, clock, Resident("Cordelia Marchbanks", "cordelia.m@example.org"), date(2020, 3, 2), steps_2020
    )
    determined(office, clock, cases["determined"], date(2027, 3, 1))  # + 6 years: 1 March 2033
    cases["held"] = phone_case(
        office, clock, Resident("Desmond Fairweather", "desmond.f@example.org"), date(2026, 1, 12),
        [(ACK, date(2026, 1, 13)), (CLOSED, date(2026, 3, 2))],
    )  # fmt: skip
    cases["recent"] = phone_case(
        office, clock, Resident("Eulalie Brightwater", "eulalie.b@example.org"), date(2026, 1, 19),
        [(ACK, date(2026, 1, 20)), (RESPONDED, date(2026, 1, 30)), (CLOSED, date(2028, 1, 10))],
    )  # fmt: skip
    cases["determined_later"] = phone_case(
        office, clock, Resident("Gideon Ashcombe", "gideon.a@example.org"), date(2020, 4, 1),
        [(CLOSED, date(2020, 7, 1))],
    )  # fmt: skip
    determined(office, clock, cases["determined_later"], date(2028, 1, 10))  # + 6 years: 2034
    cases["open"] = phone_case(
        office, clock, Resident("Florentina Oakhurst", "florentina.o@example.org"), date(2026, 2, 9),
        [(ACK, date(2026, 2, 10))],
    )  # fmt: skip
    return cases


# -- what must not change, and what must go ------------------------------------------------------------


def annual_figures(office: Services) -> dict[tuple[Any, ...], int]:
    """What the annual reports count, by year received: complaints by stage, status
    and channel, and each Code clock met, missed, ended or running."""
    figures: Counter[tuple[Any, ...]] = Counter()
    with office.store.transaction() as repo:
        years = {}
        for row in repo.session.execute(
            select(Complaint.id, Complaint.received_at, Complaint.stage, Complaint.status, Complaint.channel)
        ):
            years[row.id] = row.received_at.astimezone(LONDON).year
            figures[(years[row.id], "complaints", row.stage, row.status, row.channel)] += 1
        for d in repo.session.scalars(select(StoredDeadline)):
            outcome = "missed" if d.missed_at else d.ended_by or ("met" if d.stopped_at else "running")
            figures[(years[d.complaint_id], d.clock, outcome)] += 1
    return dict(figures)


def kept_facts(office: Services) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the figures come from, column by column as kept."""
    with office.store.transaction() as repo:
        session = repo.session
        kept = Complaint.id, Complaint.status, Complaint.stage, Complaint.channel, Complaint.received_at
        columns = [c for c in StoredDeadline.__table__.columns if c.name != "computed_at"]
        return {
            "complaints": sorted(
                tuple(r) for r in session.execute(select(*kept, Complaint.flags, Complaint.officer))
            ),
            "deadlines": sorted(tuple(r) for r in session.execute(select(*columns))),
            "events": sorted(
                tuple(r)
                for r in session.execute(
                    select(Event.id, Event.complaint_id, Event.mail_id, Event.kind, Event.at)
                )
            ),
            "outbox": sorted(
                tuple(r) for r in session.execute(select(OutboxMessage.id, OutboxMessage.status))
            ),
        }


def traces_in_database(office: Services, needle: str) -> list[str]:
    """Every table.column (every table, the search indexes' own included) holding ``needle``."""
    engine = office.store.engine
    found = []
    lowered = needle.lower()
    with engine.connect() as connection:
        inspector = inspect(connection)  # one connection: a second would wait on SQLite's write lock
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in connection.execute(text(f'SELECT {quoted} FROM "{table}"')):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    if isinstance(value, str) and lowered in value.lower():
                        found.append(f"{table}.{column}")
    return sorted(set(found))


def sqlite_files_hold(office: Services, needle: str) -> bool:
    """Whether the SQLite database file (or its write-ahead log) still holds ``needle``."""
    database = Path(office.store.engine.url.database or "")
    data = b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
    return needle.encode() in data


def duplicate_folders(office: Services) -> list[Path]:
    """The folders of mails outside any case (here: the second delivery of a mail)."""
    with office.store.transaction() as repo:
        paths = repo.session.scalars(select(Mail.storage_path).where(Mail.complaint_id.is_(None))).all()
    return [office.storage.root / path for path in paths]


# -- the test --------------------------------------------------------------------------------------


def test_apply_erases_exactly_the_cases_past_their_period(
    office: Services, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    cases = build_office(office, clock, tmp_path)
    erasable = {cases[label].complaint_id for label in ("email", "letter", "determined")}
    clock.set(TODAY)
    monkeypatch.setattr("mailroom.clock.SystemClock.now", lambda self: clock.now())
    config = config_file(office, tmp_path)
    held_by_cli = typer.Typer()
    held_by_cli.command("hold")(cases_hold)
    held_by_cli.command("release-hold")(cases_release_hold)
    held = cases["held"].complaint_id
    result = runner.invoke(
        held_by_cli, ["hold", held, "--reason", "Disrepair claim, county court", "-c", str(config)]
    )
    assert result.exit_code == 0, result.output

    # The plan: exactly the three, each by its rule; the held case shown with its hold.
    plan = plan_retention(office)
    assert plan.today == date(2033, 6, 1)
    assert {item.complaint_id: item.rule for item in plan.items} == {
        cases["email"].complaint_id: "closed",
        cases["letter"].complaint_id: "closed",
        cases["determined"].complaint_id: "after_determination",
    }
    by_id = {item.complaint_id: item for item in plan.items}
    assert by_id[cases["email"].complaint_id].eligible_on == date(2032, 12, 1)
    assert by_id[cases["determined"].complaint_id].eligible_on == date(2033, 3, 1)
    assert by_id[cases["email"].complaint_id].files >= 5 and by_id[cases["letter"].complaint_id].files == 1
    [on_hold] = plan.held
    assert (on_hold.complaint_id, on_hold.hold) == (held, "Disrepair claim, county court")
    assert on_hold.held_by.startswith("cli:") and not plan.blocked and not plan.unfinished
    shown = runner.invoke(retention_app, ["plan", "--json", "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == json.loads(json.dumps(plan.to_json()))

    # Nothing is erased without the plan confirmed: not from a script, not on "n".
    refused = runner.invoke(retention_app, ["apply", "-c", str(config)])
    assert refused.exit_code == 1 and isinstance(refused.exception, RetentionRefused)
    assert "\n" not in str(refused.exception) and "--yes" in str(refused.exception)
    capsys.readouterr()
    answer_at_terminal(retention_app, ["apply", "-c", str(config)], "n\n", monkeypatch)
    declined = capsys.readouterr().out
    assert cases["email"].complaint_id in declined and "nothing erased" in declined
    assert erased_cases(office) == set()

    figures, facts = annual_figures(office), kept_facts(office)
    root = office.storage.root
    assert all((root / case.complaint_id / "manifest.json").is_file() for case in cases.values())
    previews = sorted((root / ".previews").iterdir())
    duplicates = duplicate_folders(office)
    assert len(previews) == 1 and len(duplicates) == 1 and duplicates[0].parts[-3] == "_duplicates"
    assert all(p.is_dir() for p in [*previews, *duplicates])
    sqlite = office.store.engine.dialect.name == "sqlite"
    for case in cases.values():
        assert traces_in_database(office, case.resident.name), case
        assert not sqlite or sqlite_files_hold(office, case.resident.email), case

    applied = runner.invoke(retention_app, ["apply", "--yes", "-c", str(config)])
    assert applied.exit_code == 0, applied.output
    assert "3 case(s) erased" in applied.output

    # Exactly the three are erased; the figures and the facts they count are unchanged.
    assert erased_cases(office) == erasable
    assert annual_figures(office) == figures
    assert kept_facts(office) == facts
    for label, case in cases.items():
        for trace in case.resident.traces:
            hits = traces_in_database(office, trace)
            if case.complaint_id in erasable:
                assert hits == [], (label, trace, hits)
                assert not sqlite or not sqlite_files_hold(office, trace), (label, trace)
            elif trace == case.resident.name:
                assert hits, (label, trace)
        found = search_cases(office, case.resident.name.split()[-1], officer=None).results
        assert bool(found) is (case.complaint_id not in erasable), (label, found)
    for label, case in cases.items():
        assert (root / case.complaint_id).exists() is (case.complaint_id not in erasable), label
    assert not any(p.exists() for p in [*previews, *duplicates])
    for label in ("held", "recent", "determined_later", "open"):
        with office.store.transaction() as repo:
            complaint = repo.get_complaint(cases[label].complaint_id)
            assert complaint is not None and complaint.complainant_name == cases[label].resident.name

    # Each erasure is recorded, signed and finished; the marker stands in the rows.
    records = erasures(office)
    assert {r.complaint_id for r in records} == erasable and len(records) == 3
    assert all(verify_erasure(office, r) and r.files_removed_at == clock.now() for r in records)
    assert not verify_erasure(office, replace_reason(records[0]))
    with office.store.transaction() as repo:
        erased = repo.get_complaint(cases["email"].complaint_id)
        assert erased is not None and erased.complainant_name == "[erased 2033-06-01]"
        assert erased.complainant_email == "" and erased.erased_at == clock.now()
        audit = repo.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.erase")).all()
        assert {a.complaint_id for a in audit} == erasable
    counts = json.loads(next(r for r in records if r.complaint_id == cases["email"].complaint_id).counts_json)
    assert (
        counts["mails"] == 3
        and counts["letters"] == 1
        and counts["outbox"] == 1
        and counts["case_parties"] == 2
    )
    chain = verify_chain(office)
    assert chain.ok, chain.summary()

    # A second run finds nothing to do.
    again = plan_retention(office)
    assert again.empty and [h.complaint_id for h in again.held] == [held]
    assert apply_retention(office, again, Actor("cli:test")).erased == ()

    # Released, the held case is erased by the next run; an erased case takes no hold.
    released = runner.invoke(held_by_cli, ["release-hold", held, "-c", str(config)])
    assert released.exit_code == 0 and "Disrepair claim" in released.output
    report = apply_retention(office, plan_retention(office), Actor("cli:test"))
    assert [e.complaint_id for e in report.erased] == [held] and not report.failed
    with pytest.raises(HoldError, match="was erased on 2033-06-01"):
        set_hold(office, held, "too late", Actor(ANN))


def replace_reason(record: Any) -> Any:
    """A copy of an erasure record with its reason changed (a forgery)."""
    forged = type(record)(**{c.name: getattr(record, c.name) for c in record.__table__.columns})
    forged.reason = record.reason + " (edited)"
    return forged


def erased_cases(office: Services) -> set[str]:
    with office.store.transaction() as repo:
        return set(repo.session.scalars(select(Complaint.id).where(Complaint.erased_at.is_not(None))))


def answer_at_terminal(
    app: typer.Typer, args: list[str], answer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ``app`` with a real terminal (a pseudo-terminal) as its standard input,
    ``answer`` already typed."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, answer.encode())
        with os.fdopen(terminal, "r", closefd=False) as stdin:
            monkeypatch.setattr(sys, "stdin", stdin)
            app(args, standalone_mode=False)
    finally:
        os.close(terminal)
        os.close(controller)


def test_each_case_is_checked_again_and_a_half_done_erasure_is_finished(
    office: Services, clock: FixedClock, tmp_path: Path
) -> None:
    """A hold set after the plan was shown keeps its case. A case folder that became a
    symlink is not followed: its erasure commits, the folder is refused (the target
    untouched), the next plan lists it unfinished and the next apply finishes it."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned")
    closing = [(CLOSED, date(2026, 3, 2))]
    first = phone_case(
        office, clock, Resident("Hester Vane", "h.vane@example.org"), date(2026, 2, 2), closing
    )
    second = phone_case(
        office, clock, Resident("Ignatius Rook", "i.rook@example.org"), date(2026, 2, 3), closing, scan=scan
    )
    clock.set(TODAY)
    plan = plan_retention(office)
    assert [item.complaint_id for item in plan.items] == [first.complaint_id, second.complaint_id]
    set_hold(office, first.complaint_id, "Subject access request outstanding", Actor(ANN))
    root = office.storage.root
    elsewhere = tmp_path / "elsewhere"
    shutil.move(root / second.complaint_id, elsewhere)
    (root / second.complaint_id).symlink_to(elsewhere)

    report = apply_retention(office, plan, Actor("cli:test"))
    assert [(s.complaint_id, s.reason) for s in report.skipped] == [
        (first.complaint_id, "no longer due: Subject access request outstanding")
    ]
    assert [e.complaint_id for e in report.erased] == [second.complaint_id] and not report.removed
    [failed] = report.failed
    assert failed.complaint_id == second.complaint_id and "symlink" in failed.reason
    assert sorted(p.name for p in elsewhere.rglob("*") if p.is_file()) == [
        "01-scan.pdf",
        "manifest.json",  # the scans' folder's
        "manifest.json",  # the case's
    ]
    assert erased_cases(office) == {second.complaint_id}
    [unfinished] = plan_retention(office).unfinished
    assert unfinished.complaint_id == second.complaint_id and unfinished.folders == (second.complaint_id,)

    (root / second.complaint_id).unlink()
    shutil.move(elsewhere, root / second.complaint_id)
    again = apply_retention(office, plan_retention(office), Actor("cli:test"))
    assert again.erased == () and [(r.complaint_id, r.files) for r in again.removed] == [
        (second.complaint_id, 3)
    ]
    assert not (root / second.complaint_id).exists() and plan_retention(office).unfinished == ()
    (record,) = erasures(office, second.complaint_id)
    assert record.files_removed_at == clock.now() and verify_erasure(office, record)


@pytest.mark.parametrize(
    "folder",
    ["..", "../elsewhere", "/etc", "", ".", "CMP-2026-000009", ".locks/x", ".previews/not-a-hash",
     ".staging/a/b", "CMP-2026-000001/../..", "_automatic", "_automatic/2026-11", ".staging/../_automatic",
     "_triage/mail-20261102T091730Z-abc/..", ".previews/../CMP-2026-000009"],
)  # fmt: skip
def test_an_erasure_removes_only_folders_of_the_shapes_it_writes(tmp_path: Path, folder: str) -> None:
    from mailroom.filing import Storage, StorageError
    from mailroom.records.retention_files import remove_folders

    storage = Storage(tmp_path / "storage")
    for name in ("CMP-2026-000009", "_automatic", ".locks/x"):
        (storage.root / name).mkdir(parents=True)
    with pytest.raises(StorageError, match="refusing to remove"):
        remove_folders(storage, [folder], "CMP-2026-000001")
    assert all((storage.root / name).is_dir() for name in ("CMP-2026-000009", "_automatic", ".locks/x"))


def test_nothing_more_is_recorded_drafted_or_filed_on_an_erased_case(
    office: Services, clock: FixedClock, tmp_path: Path
) -> None:
    closing = [(CLOSED, date(2026, 3, 2))]
    case = phone_case(
        office, clock, Resident("Jude Fawley", "j.fawley@example.org"), date(2026, 2, 2), closing
    )
    clock.set(TODAY)
    apply_retention(office, plan_retention(office), Actor("cli:test"))
    assert erased_cases(office) == {case.complaint_id}
    refusal = f"{case.complaint_id} was erased on 2033-06-01 (retention)"
    with pytest.raises(CaseEventError, match=re.escape(refusal)):
        record_event(office, case.complaint_id, ClockEvent.ESCALATION_REQUESTED, clock.now())
    with pytest.raises(LetterError, match=re.escape(refusal)):
        context = sample_context(LetterType.STAGE1_ACKNOWLEDGEMENT)
        fields = {name: context[name] for name in field_names(LetterType.STAGE1_ACKNOWLEDGEMENT)}
        draft(office, case.complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    call = CallNote(clock.now(), CallDirection.INCOMING, "Jude Fawley", "Asked about the old case.")
    with pytest.raises(CaseFileError, match=re.escape(refusal)):
        record_call(office, case.complaint_id, call)


def test_an_erased_case_keeps_what_its_outcome_and_compensation_are_read_from(
    office: Services, clock: FixedClock
) -> None:
    """The reports count an erased case the same: its verdicts, its refusal's exclusion
    and its remedies' amounts stay (reports/outcomes.figures_facts), its words go."""
    clock.set(datetime(2026, 11, 23, 10, tzinfo=LONDON))
    answered = stage1_case(office, acknowledged=True)
    made = draft(
        office, answered, LetterType.STAGE1_RESPONSE, sample_fields(office, LetterType.STAGE1_RESPONSE)
    )
    approve(office, made.draft_id, by=ANN)
    with office.store.transaction() as repo:
        promises = [(i.kind, i.event_id) for i in repo.record_of_case(answered) if i.event_id is not None]
    for kind, event_id in promises:
        done = ClockEvent.REMEDY_COMPLETED if kind == "remedy" else ClockEvent.ACTION_COMPLETED
        record_event(office, answered, done, clock.now(), details=EventDetails(ref=event_id))
    record_event(office, answered, CLOSED, clock.now())
    refused = stage1_case(office, acknowledged=False)
    refusal = draft(office, refused, LetterType.REFUSAL, sample_fields(office, LetterType.REFUSAL))
    approve(office, refusal.draft_id, by=ANN)
    assert send_due(office.store, office.settings.smtp, clock).sent == 2

    def figures() -> list[object]:
        found: list[object] = []
        with office.store.transaction() as repo:
            for case in (answered, refused):
                record, events = repo.record_of_case(case), repo.events_of_case(case)
                found += [stage_outcomes(record, events), remedy_count(record), compensation_pence(record)]
        return found

    before = figures()
    assert before[2] == 15000 and before[3] == {1: Outcome(OutcomeKind.REFUSED, "over-12-months")}
    clock.set(TODAY)
    report = apply_retention(office, plan_retention(office), Actor("cli:test"))
    assert {erased.complaint_id for erased in report.erased} == {answered, refused}
    assert figures() == before
    with office.store.transaction() as repo:
        kept = " ".join(item.data_json + item.text for item in repo.record_of_case(answered))
    assert "Okafor" not in kept and "ceiling" not in kept.lower()
