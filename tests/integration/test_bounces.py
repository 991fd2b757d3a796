"""Undelivered letters (issue 8, item 7): a delivery report naming one of our
outbound mails marks it bounced, notes it on the case and tells the officer,
once; a report naming nothing of ours changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mailroom.bounces import link_bounces, message_ids_in, reason_in
from mailroom.clock import FixedClock
from mailroom.domain.models import Channel
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.outbound import enqueue
from mailroom.services import Services, build_services
from mailroom.staff import assign, save_member
from mailroom.store.schema import Event, OutboxMessage
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen


@pytest.fixture
def letter_sent(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[tuple[Services, str, str]]:
    settings = make_settings(tmp_path / "storage", db_url, smtp={"sender": "complaints@landlord.example"})
    services = build_services(settings, clock)
    complaint_id = log_complaint(
        services,
        OtherChannelComplaint(
            Channel.LETTER, datetime(2026, 11, 20, 10, tzinfo=UTC), "T Nowak", "t.nowak@example.net",
            "Boiler", "No heating.",
        ),
    )  # fmt: skip
    save_member(services, "officer@landlord.example", "Olu", "", False)
    assign(services, complaint_id, "officer@landlord.example")
    with services.store.transaction() as repo:
        letter = {
            "subject": "We have received your complaint",
            "body_text": "...",
            "complaint_id": complaint_id,
        }
        enqueue(
            repo, dedupe_key="letter:1", sender="complaints@landlord.example",
            recipients=["t.nowak@example.net"], now=clock.now(), **letter,
        )  # fmt: skip
        message_id = repo.outbox_entry("letter:1")[1]  # type: ignore[index]
    yield services, complaint_id, message_id
    services.store.engine.dispose()


def _ingest(services: Services, folder: Path, mails: dict[str, bytes]) -> None:
    folder.mkdir(exist_ok=True)
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    run_once(services, [MaildirSource([folder])])


def test_a_report_naming_our_letter_marks_it_notes_the_case_and_tells_the_officer_once(
    letter_sent: tuple[Services, str, str], tmp_path: Path
) -> None:
    services, complaint_id, message_id = letter_sent
    _ingest(
        services, tmp_path / "in", {"bounce.eml": mailgen.delivery_report(original_message_id=message_id)}
    )
    assert link_bounces(services).linked == 1
    with services.store.transaction() as repo:
        letter = repo.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == "letter:1")
        ).one()
        assert letter.status == "bounced"
        assert "550 5.1.1" in letter.last_error
        (event,) = [e for e in repo.events_of_case(complaint_id) if e.kind == "bounce_linked"]
        assert "t.nowak@example.net" in event.detail and event.mail_id is not None
        notice = repo.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"bounce:{letter.id}")
        ).one()
        assert notice.recipients == "officer@landlord.example"
        assert complaint_id in notice.raw.decode()
    assert link_bounces(services).linked == 0  # each report is looked at once


def test_a_report_naming_nothing_of_ours_changes_nothing(
    letter_sent: tuple[Services, str, str], tmp_path: Path
) -> None:
    services, _, _ = letter_sent
    _ingest(services, tmp_path / "in", {"other.eml": mailgen.delivery_report()})
    result = link_bounces(services)
    assert (result.linked, result.unmatched) == (0, 1)
    with services.store.transaction() as repo:
        statuses = set(repo.session.scalars(select(OutboxMessage.status)))
        assert statuses == {"pending"}
        assert repo.session.scalars(select(Event).where(Event.kind == "bounce_checked")).one()
    assert link_bounces(services).unmatched == 0


def test_an_out_of_office_or_a_delay_quoting_our_letter_is_not_a_bounce(
    letter_sent: tuple[Services, str, str], tmp_path: Path
) -> None:
    services, _, message_id = letter_sent
    away = mailgen.out_of_office(in_reply_to=message_id)
    delayed = mailgen.delivery_report(original_message_id=message_id).replace(
        b"Action: failed", b"Action: delayed"
    )
    _ingest(services, tmp_path / "in", {"away.eml": away, "delayed.eml": delayed})
    result = link_bounces(services)
    assert (result.linked, result.unmatched) == (0, 2)
    with services.store.transaction() as repo:
        assert set(repo.session.scalars(select(OutboxMessage.status))) == {"pending"}


def test_scanning_is_bounded_and_reasons_are_one_clean_line() -> None:
    flood = b"".join(b"<id%d@x.example>" % n for n in range(10_000))
    assert len(message_ids_in(flood)) == 200
    assert reason_in(b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 \x1b[2J no\r\n") == "smtp; 550 [2J no"
    assert reason_in(b"nothing here") == "delivery failed (no reason given)"


def test_outbox_list_shows_the_bounce(letter_sent: tuple[Services, str, str], tmp_path: Path) -> None:
    services, _, message_id = letter_sent
    _ingest(
        services, tmp_path / "in", {"bounce.eml": mailgen.delivery_report(original_message_id=message_id)}
    )
    link_bounces(services)
    if services.settings.database_url.startswith("postgresql"):
        return  # the command's own database handling is covered on SQLite; the reader on both in test_reader
    config = tmp_path / "mailroom.toml"
    settings = services.settings
    config.write_text(
        f'[storage]\nroot = "{settings.storage.root}"\n[database]\nurl = "{settings.database_url}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env["MAILROOM_CACHE_DIR"] = str(tmp_path / "cache")
    listed = subprocess.run(
        [sys.executable, "-m", "mailroom", "outbox", "list", "--json", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    statuses = {row["subject"]: row["status"] for row in json.loads(listed.stdout)}
    assert statuses["We have received your complaint"] == "bounced"
    assert any(subject.startswith("Undelivered:") for subject in statuses)
