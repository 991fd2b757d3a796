"""The tamper-evident audit chain (docs/records.md, "Audit chain") on SQLite and
PostgreSQL: an office's ordinary work (mail ingested, triaged and retried from
quarantine, cases logged by phone with a scan, steps recorded and corrected, an
officer assigned, a letter drafted, approved and issued, a desk action) leaves a
chain that verifies; then each kind of direct tampering is named in one line: a
row of each chained table edited, rows deleted or slipped in, a chain entry edited
or recomputed, the chain's end cut off, a filed file changed or removed. Two
writers committing at once keep the chain consecutive. A store upgraded from
0010 is chained by the migration. `mailroom audit verify` exits 0, 1 or 2."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, insert, select, text, update
from typer.testing import CliRunner

from mailroom.accounts import audit
from mailroom.audit_cli import audit_app
from mailroom.case_events import ClockEvent, correct_event, record_event
from mailroom.clock import FixedClock
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.filing import Storage
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import approve, draft
from mailroom.letters.types import LetterType
from mailroom.other_channels import OtherChannelComplaint, log_complaint, set_contact
from mailroom.quarantine import retry
from mailroom.records.audit_append import CHAIN, rows_by_id
from mailroom.records.audit_canonical import ChainLink, row_sha256
from mailroom.records.audit_capture import UnrecordedChainWrite
from mailroom.records.audit_chain import ChainReport, chain_entries_of_case, verify_chain
from mailroom.records.audit_signing import KEY_NAME, sign, verify_signature
from mailroom.services import Services, build_services
from mailroom.staff import assign, save_member
from mailroom.store.database import MIGRATIONS, make_engine, migrate
from mailroom.store.repository import Store
from mailroom.store.schema import Base, Complaint, Event, Mail
from mailroom.triage import Resolution, resolve
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, sample_fields, uk
from tests.support import mailgen

runner = CliRunner()
mailroom = typer.Typer()  # as the lead registers it: `mailroom audit verify`
mailroom.add_typer(audit_app, name="audit")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def office(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    built = build_services(
        make_settings(tmp_path / "storage", db_url, policy={"landlord_file": LANDLORD_FILE}), clock
    )
    yield built
    built.store.engine.dispose()


def ingest(services: Services, folder: Path, mails: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (folder / f"{name}.eml").write_bytes(raw)
    run_once(services, [MaildirSource([folder])])


def sql(services: Services, statement: str, **params: object) -> list[tuple[object, ...]]:
    """A direct edit of the database, as someone with access to it would make."""
    with services.store.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def scalar(services: Services, statement: str, **params: object) -> object:
    return sql(services, statement, **params)[0][0]


@dataclass(frozen=True)
class Work:
    mail_case: str  # logged from a mail, with a reply triaged onto it
    phone_case: str  # logged by phone, with a scan; a letter issued on it


def everyday_work(services: Services, tmp_path: Path, *, letter: bool = False) -> Work:
    """What an office does in a day, through the use cases (every write path they use)."""
    ingest(
        services,
        tmp_path / "in1",
        {
            "a": mailgen.complaint(1),
            "b": mailgen.out_of_office(),
            "c": mailgen.with_attachment("p.jpg", b"jpg"),
        },
    )
    with services.store.transaction() as repo:
        mail_case = min(c.id for c in repo.list_complaints())
    stranger = mailgen.complaint(4, subject=f"Re: {case_reference(mail_case)}")
    ingest(services, tmp_path / "in2", {"d": stranger})
    with services.store.transaction() as repo:
        (item,) = repo.list_mails(open_triage_only=True)
    resolve(services, item.id, Resolution.ATTACH, mail_case, note="her son", add_party=True)
    quarantined_then_retried(services, tmp_path / "in3")

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 a scanned letter")
    received = uk(date(2026, 11, 20), 9)
    request = OtherChannelComplaint(
        Channel.PHONE, received, "Ms Aisha Patel", "aisha.patel@example.org", "Leak", "Water", (scan,)
    )
    phone_case = log_complaint(services, request)
    step = record_event(services, mail_case, ClockEvent.STAGE1_ACKNOWLEDGED, T0 - timedelta(hours=1))
    correct_event(services, mail_case, step, "recorded on the wrong case", by="jo")
    save_member(services, "officer@landlord.example", "An Officer")
    assign(services, phone_case, "officer@landlord.example")
    set_contact(services, phone_case, "email", None, by="jo")
    with services.store.transaction() as repo:
        audit.record(
            repo.session,
            T0,
            audit.Actor("jo@landlord.example", "10.0.0.1"),
            "case.view",
            complaint_id=phone_case,
        )
    if letter:
        fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
        drafted = draft(services, phone_case, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
        approve(services, drafted.draft_id, by="jo")
    return Work(mail_case, phone_case)


def quarantined_then_retried(services: Services, folder: Path) -> None:
    """A mail over a smaller size limit is quarantined, then retried: its documents
    are deleted and filed again (a DELETE ... WHERE through the store)."""
    storage = services.settings.storage.model_copy(update={"max_message_bytes": 100_000})
    limited = Services(services.settings.model_copy(update={"storage": storage}), *_rest(services))
    ingest(limited, folder, {"big": mailgen.big_attachment_mail(200_000)})
    with services.store.transaction() as repo:
        (mail,) = repo.list_mails(outcome="quarantined")
    assert retry(services, [mail.id]) == {mail.id: "complaint"}


def _rest(services: Services) -> tuple[FixedClock, Store, Storage]:
    assert isinstance(services.clock, FixedClock)
    return services.clock, services.store, services.storage


def broken(report: ChainReport) -> str:
    assert not report.ok, report.summary()
    line = report.first_broken
    assert line is not None and "\n" not in line
    return line


# -- an office's work verifies; each direct edit is named ------------------------------------------------

EDITS = {  # a column of each chained table, and a new value for it
    "complaints": ("subject", "'Nothing to see'"),
    "mails": ("filed", "NOT filed"),
    "documents": ("size", "size + 1"),
    "events": ("detail", "'edited'"),
    "letters": ("approved_by", "'someone else'"),
    "case_record": ("text", "'we never said that'"),
    "audit_log": ("actor", "'nobody'"),
}


def test_an_office_s_work_verifies_and_every_edited_row_is_named(
    office: Services, tmp_path: Path, clock: FixedClock
) -> None:
    work = everyday_work(office, tmp_path, letter=True)
    report = verify_chain(office)
    assert report.ok, report.summary()
    counts = {name: int(str(scalar(office, f"SELECT count(*) FROM {name}"))) for name in EDITS}
    assert all(counts.values()), counts  # every chained table has rows to check
    assert report.rows == sum(counts.values())
    assert report.files == counts["documents"]
    assert report.entries == scalar(office, "SELECT count(*) FROM audit_chain") == report.head_seq
    # A legitimate later write (the letter sent: a new version of its row) still verifies.
    clock.advance(timedelta(hours=1))
    with office.store.transaction() as repo:
        (letter,) = repo.letters_of_case(work.phone_case)
        letter.message_id = "<sent@landlord.example>"
    assert verify_chain(office).ok

    for table, (column, new_value) in EDITS.items():
        where = (
            f"id = '{work.phone_case}'" if table == "complaints" else f"id = (SELECT max(id) FROM {table})"
        )
        row_id = scalar(office, f"SELECT id FROM {table} WHERE {where}")
        (before,) = sql(office, f"SELECT {column} FROM {table} WHERE id = :id", id=row_id)
        sql(office, f"UPDATE {table} SET {column} = {new_value} WHERE id = :id", id=row_id)
        line = broken(verify_chain(office))
        assert f": {table} row {row_id} " in line and "differs from what was recorded on 2026-11-2" in line, (
            line
        )
        assert line.startswith("audit chain broken at entry ")
        sql(office, f"UPDATE {table} SET {column} = :value WHERE id = :id", value=before[0], id=row_id)
        assert verify_chain(office).ok, table


def test_deleted_and_slipped_in_rows_and_edited_entries_are_named(office: Services, tmp_path: Path) -> None:
    work = everyday_work(office, tmp_path)
    assert verify_chain(office).ok
    audit_id = scalar(office, "SELECT max(id) FROM audit_log")
    sql(office, "DELETE FROM audit_log WHERE id = :id", id=audit_id)
    line = broken(verify_chain(office))
    assert f"audit_log row {audit_id} ({work.phone_case}) was deleted outside the application" in line

    sql(
        office,
        "INSERT INTO events (complaint_id, at, kind, detail, payload)"
        " VALUES (:c, :at, 'logged', 'forged', '')",
        c=work.mail_case,
        at=T0,
    )
    forged = scalar(office, "SELECT max(id) FROM events")
    report = verify_chain(office)
    # Both are counted; the deletion is found at an entry, so it is the first broken link.
    assert report.problems == 2 and f"audit_log row {audit_id} " in broken(report)
    assert broken(verify_chain(office, work.mail_case)) == (
        f"audit chain broken: events row {forged} ({work.mail_case}) is not in the chain "
        "(written outside the application, or the chain's last entries were cut off)"
    )
    sql(office, "DELETE FROM events WHERE id = :id", id=forged)
    only_case = verify_chain(office, work.mail_case)
    assert only_case.ok, only_case.summary()  # the deletion was on the other case

    seq = int(str(scalar(office, "SELECT max(seq) FROM audit_chain"))) // 2
    (row,) = sql(office, "SELECT row_sha256 FROM audit_chain WHERE seq = :s", s=seq)
    sql(office, "UPDATE audit_chain SET row_sha256 = :h WHERE seq = :s", h="0" * 64, s=seq)
    assert broken(verify_chain(office, work.mail_case)).startswith(
        f"audit chain broken at entry {seq}: the entry was edited"
    )
    sql(office, "UPDATE audit_chain SET row_sha256 = :h WHERE seq = :s", h=row[0], s=seq)
    sql(office, "UPDATE audit_chain SET entry_sha256 = :h WHERE seq = :s", h="f" * 64, s=seq)
    assert broken(verify_chain(office)).startswith(f"audit chain broken at entry {seq}: the entry was edited")


def test_an_entry_rewritten_with_its_hash_recomputed_breaks_the_next_link(
    office: Services, tmp_path: Path
) -> None:
    everyday_work(office, tmp_path)
    seq = 5
    with office.store.engine.connect() as connection:
        entry = connection.execute(select(CHAIN).where(CHAIN.c.seq == seq)).one()
    # Someone who knows the format makes entry 5 vouch for an edited row.
    forged = ChainLink(
        seq,
        entry.at,
        entry.change,
        entry.table_name,
        entry.row_id,
        entry.complaint_id,
        "1" * 64,
        entry.prev_sha256,
    )
    sql(
        office,
        "UPDATE audit_chain SET row_sha256 = :r, entry_sha256 = :e WHERE seq = :s",
        r="1" * 64,
        e=forged.sha256(),
        s=seq,
    )
    line = broken(verify_chain(office))
    assert line == f"audit chain broken at entry {seq}: it is not the entry that entry {seq + 1} follows"


def test_a_cut_off_chain_end_and_missing_entries_are_detected(office: Services, tmp_path: Path) -> None:
    work = everyday_work(office, tmp_path)
    with office.store.transaction() as repo:
        repo.add_event(T0, "note", "the last thing done", complaint_id=work.mail_case)
        event_id = repo.session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    head = scalar(office, "SELECT max(seq) FROM audit_chain")
    sql(office, "DELETE FROM audit_chain WHERE seq = :s", s=head)
    line = broken(verify_chain(office))
    # The cut is seen through the rows its entries covered: the event is now unaccounted for.
    assert line == (
        f"audit chain broken: events row {event_id} ({work.mail_case}) is not in the chain "
        "(written outside the application, or the chain's last entries were cut off)"
    )
    sql(office, "DELETE FROM audit_chain WHERE seq = 3")
    assert broken(verify_chain(office)) == "audit chain broken at entry 3: entry 3 is missing"
    sql(office, "DELETE FROM audit_chain WHERE seq IN (7, 8, 9)")
    assert verify_chain(office).problems >= 3  # the gap, and the rows whose only entry went with it


def test_a_changed_or_missing_file_is_named_by_its_document(office: Services, tmp_path: Path) -> None:
    work = everyday_work(office, tmp_path)
    with office.store.transaction() as repo:
        (scan,) = [d for d in repo.documents_of_case(work.phone_case) if d.kind == "scan"]
        raw = next(d for d in repo.documents_of_case(work.mail_case) if d.kind == "raw_mail")
    path = office.storage.root / scan.path
    original = path.read_bytes()
    path.chmod(0o600)
    path.write_bytes(original + b" and a forged line")
    line = broken(verify_chain(office))
    what = f"documents row {scan.id} ({work.phone_case})"
    assert line.endswith(f": {what}: file {scan.path} differs from the SHA-256 recorded for it")
    assert verify_chain(office, check_files=False).ok  # rows and links alone are intact
    assert verify_chain(office, work.mail_case).ok  # another case's files are not its business
    path.write_bytes(original)
    (office.storage.root / raw.path).unlink()
    assert broken(verify_chain(office)).endswith(f"file {raw.path} is missing")


# -- what goes into the chain ---------------------------------------------------------------------------


def test_the_entries_of_a_case_follow_its_rows_versions(office: Services, tmp_path: Path) -> None:
    work = everyday_work(office, tmp_path)
    entries = list(chain_entries_of_case(office, work.phone_case))
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert {e["table"] for e in entries} >= {"complaints", "documents", "events", "audit_log"}
    complaint_versions = [e["change"] for e in entries if e["table"] == "complaints"]
    assert complaint_versions[0] == "insert" and "update" in complaint_versions  # assigned an officer
    with office.store.transaction() as repo:
        assert list(chain_entries_of_case(repo.session, work.phone_case)) == entries
        complaint = rows_by_id(
            repo.session.connection(), Base.metadata.tables["complaints"], [work.phone_case]
        )
    latest = [e for e in entries if e["table"] == "complaints"][-1]
    assert latest["row_sha256"] == row_sha256(complaint[work.phone_case])
    assert all(e["complaint_id"] == work.phone_case for e in entries)
    assert json.loads(json.dumps(entries)) == entries  # one JSON line each in a pack


def test_a_rolled_back_savepoint_leaves_nothing_to_report(office: Services) -> None:
    request = OtherChannelComplaint(Channel.LETTER, T0, "A Resident", "a@example.org", "Damp", "mould")
    case = log_complaint(office, request)
    with office.store.transaction() as repo:
        repo.add_event(T0, "note", "kept", complaint_id=case)
        with pytest.raises(RuntimeError), repo.savepoint():
            repo.add_event(T0, "note", "rolled back", complaint_id=case)
            repo.session.add(Event(at=T0, kind="note", detail="rolled back too", complaint_id=case))
            repo.session.flush()
            raise RuntimeError("one mail failed")
        repo.add_event(T0, "note", "kept after", complaint_id=case)
    report = verify_chain(office)
    assert report.ok, report.summary()
    kept = [e for e in chain_entries_of_case(office, case) if e["table"] == "events"]
    assert len(kept) == 3  # logged, kept, kept after


def test_a_bulk_write_that_would_escape_the_chain_is_refused(office: Services) -> None:
    with pytest.raises(UnrecordedChainWrite, match="events"), office.store.transaction() as repo:
        repo.session.execute(update(Event).values(detail="rewritten"))
    with pytest.raises(UnrecordedChainWrite, match="complaints"), office.store.transaction() as repo:
        repo.session.execute(insert(Complaint), [{"id": "X"}])


def test_two_writers_at_once_keep_the_chain_consecutive(office: Services) -> None:
    case = log_complaint(
        office, OtherChannelComplaint(Channel.PHONE, T0, "A Resident", "a@example.org", "Damp", "mould")
    )
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                with office.store.transaction() as repo:
                    repo.add_events(
                        [
                            {"at": T0, "kind": "note", "detail": f"{n}.{i}.{k}", "complaint_id": case}
                            for k in range(3)
                        ]
                    )
                    audit.record(repo.session, T0, audit.Actor(f"w{n}@x"), "note", complaint_id=case)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain(office)
    assert report.ok, report.summary()
    seqs = [row[0] for row in sql(office, "SELECT seq FROM audit_chain ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len([e for e in chain_entries_of_case(office, case) if e["table"] == "events"]) == 1 + 3 * 40 * 3


def test_the_same_values_hash_alike_on_either_database(office: Services) -> None:
    """What the store reads back hashes exactly as the values written: so SQLite and
    PostgreSQL agree (booleans, instants, dates and nulls included)."""
    case = "CMP-2026-999999"
    values = {
        "id": case,
        "status": "open",
        "stage": 1,
        "channel": "email",
        "received_at": datetime(2026, 3, 4, 10, 12, 5, 123456, tzinfo=UTC),
        "complainant_name": "Zoë \u202e O'Brien",
        "complainant_email": "z@example.org",
        "subject": 'Damp "again"\n',
        "description": "x" * 10,
        "flags": "",
        "created_at": datetime(2026, 3, 4, 10, 12, tzinfo=UTC),
        "officer": "",
        "contact_preference": "email",
        "postal_address": "",
    }
    with office.store.transaction() as repo:
        repo.add_complaint(Complaint(**values))
        mail = Mail(
            token="t1",
            sha256="a" * 64,
            size=1,
            received_at=T0,
            ingested_at=T0,
            outcome="complaint",
            rule="r",
            reason="r",
            complaint_id=case,
            storage_path="x",
            filed=True,
            triage_open=False,
            attempts=1,
        )
        repo.add_mail(mail)
    with office.store.transaction() as repo:
        connection = repo.session.connection()
        stored = rows_by_id(connection, Base.metadata.tables["complaints"], [case])[case]
        stored_mail = rows_by_id(connection, Base.metadata.tables["mails"], [mail.id])[mail.id]
    # Columns not given here (defaults) are compared with themselves.
    assert row_sha256(stored) == row_sha256({**dict(stored), **values})
    booleans = {"filed", "triage_open"}
    assert row_sha256(stored_mail, booleans) == row_sha256(
        {**dict(stored_mail), "filed": True, "triage_open": False}, booleans
    )
    assert [e["row_sha256"] for e in chain_entries_of_case(office, case)] == [
        row_sha256({**dict(stored), **values}),
        row_sha256(stored_mail, booleans),
    ]


# -- a store upgraded from 0010 -------------------------------------------------------------------------


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_the_migration_chains_the_rows_of_an_existing_store(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    _upgrade(engine, "0010")
    # Rows written before the chain existed (plain SQL: the columns of 0010 only).
    with engine.begin() as connection:
        for n in range(3):
            values = {"id": f"CMP-2026-00000{n}", "at": T0}
            connection.execute(
                text(
                    "INSERT INTO complaints (id, status, stage, channel, received_at, complainant_name,"
                    " complainant_email, subject, description, flags, created_at, officer,"
                    " contact_preference, postal_address) VALUES (:id, 'open', 1, 'phone', :at, 'A',"
                    " 'a@example.org', 's', 'd', '', :at, '', 'email', '')"
                ),
                values,
            )
            connection.execute(
                text(
                    "INSERT INTO events (complaint_id, at, kind, detail, payload)"
                    " VALUES (:id, :at, 'logged', 'd', '')"
                ),
                values,
            )
    migrate(engine)
    engine.dispose()
    services = build_services(make_settings(tmp_path / "storage", db_url), FixedClock(T0))
    try:
        report = verify_chain(services)
        assert report.ok and report.rows == 6, report.summary()
        # One entry a row, and one more a complaint for each later migration that changed its columns.
        assert report.entries >= 6
        assert {e["change"] for e in chain_entries_of_case(services, "CMP-2026-000001")} == {"genesis"}
        sql(services, "UPDATE events SET detail = 'edited' WHERE complaint_id = 'CMP-2026-000001'")
        assert "events row 2 (CMP-2026-000001) differs" in broken(verify_chain(services))
    finally:
        services.store.engine.dispose()


# -- the command ------------------------------------------------------------------------------------------


def test_audit_verify_exits_0_intact_1_broken_2_on_usage(office: Services, tmp_path: Path) -> None:
    request = OtherChannelComplaint(Channel.PHONE, T0, "A Resident", "a@example.org", "Damp", "mould")
    case = log_complaint(office, request)
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f"[storage]\nroot = {json.dumps(str(office.storage.root))}\n"
        f"[database]\nurl = {json.dumps(office.settings.database_url)}\n"
        '[maildir]\npath = ""\n',
        encoding="utf-8",
    )
    intact = runner.invoke(mailroom, ["audit", "verify", "-c", str(config)])
    assert intact.exit_code == 0, intact.output
    assert intact.output.startswith("audit chain intact: ") and intact.output.count("\n") == 1
    as_json = runner.invoke(mailroom, ["audit", "verify", case_reference(case), "--json", "-c", str(config)])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) | {"head_sha256": ""} == {
        "ok": True,
        "complaint_id": case,
        "entries": 2,
        "rows": 2,
        "files": 0,
        "head_seq": 2,
        "head_sha256": "",
        "problems": 0,
        "first_broken": None,
        "first_broken_seq": None,
    }

    # A row slipped in whose text would drive the terminal: shown, never obeyed.
    hostile = "CMP\x1b]8;;http://evil\x07\u202e"
    sql(
        office,
        "INSERT INTO audit_log (at, actor, action, complaint_id, target, detail, source) "
        "VALUES (:at, 'x', 'y', :c, '', '', '')",
        at=T0,
        c=hostile,
    )
    audit_id = scalar(office, "SELECT max(id) FROM audit_log")
    result = runner.invoke(mailroom, ["audit", "verify", "--no-files", "-c", str(config)])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(
        f"audit chain broken: audit_log row {audit_id} (CMP\u241b]8;;http://evil\u2407<U+202E>)"
    )
    assert "\x1b" not in result.output and "\u202e" not in result.output

    wrong_check = case_reference(case)[:-1] + ("A" if case_reference(case)[-1] != "A" else "B")
    assert runner.invoke(mailroom, ["audit", "verify", wrong_check, "-c", str(config)]).exit_code == 2
    assert runner.invoke(mailroom, ["audit", "verify", "CMP-2026-424242", "-c", str(config)]).exit_code == 2
    assert runner.invoke(mailroom, ["audit", "verify", "--bogus", "-c", str(config)]).exit_code == 2


# -- signing records ------------------------------------------------------------------------------------


def test_records_are_signed_with_a_private_key_made_on_first_use(services: Services) -> None:
    signature = sign(services, b"erased mail 7: retention")
    key = services.storage.root / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert verify_signature(services, b"erased mail 7: retention", signature)
    assert not verify_signature(services, b"erased mail 8: retention", signature)
    assert sign(services, b"erased mail 7: retention") == signature  # the same key next time
    os.chmod(key, 0o600)
    key.write_bytes(b"short")
    with pytest.raises(RuntimeError, match="not a records key"):
        sign(services, b"x")


def test_a_case_s_links_alone_catch_a_rewritten_entry_of_the_case_or_just_before_it(
    office: Services, tmp_path: Path
) -> None:
    """What an evidence pack checks: the case's entries and the ones they follow, in
    time that grows with the case, not with the whole chain."""
    work = everyday_work(office, tmp_path)
    intact = verify_chain(office, work.phone_case, case_links_only=True)
    assert intact.ok
    with office.store.engine.connect() as connection:
        seqs = list(connection.scalars(select(CHAIN.c.seq).where(CHAIN.c.complaint_id == work.phone_case)))
        everything = connection.scalar(select(func.count()).select_from(CHAIN))
    assert intact.entries == len(seqs) < everything
    last = max(seqs)
    # The entry just before one of the case's, rewritten with its hash recomputed.
    earlier = min(seqs) - 1
    with office.store.engine.connect() as connection:
        entry = connection.execute(select(CHAIN).where(CHAIN.c.seq == earlier)).one()
    forged = ChainLink(
        earlier,
        entry.at,
        entry.change,
        entry.table_name,
        entry.row_id,
        entry.complaint_id,
        "2" * 64,
        entry.prev_sha256,
    )
    sql(
        office,
        "UPDATE audit_chain SET row_sha256 = :r, entry_sha256 = :e WHERE seq = :s",
        r="2" * 64,
        e=forged.sha256(),
        s=earlier,
    )
    line = broken(verify_chain(office, work.phone_case, case_links_only=True))
    assert (
        line == f"audit chain broken at entry {earlier}: it is not the entry that entry {earlier + 1} follows"
    )
    sql(office, "UPDATE audit_chain SET entry_sha256 = :e WHERE seq = :s", e="3" * 64, s=last)
    assert verify_chain(office, work.phone_case, case_links_only=True).problems >= 2
