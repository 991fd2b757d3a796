"""Reminders from real deadlines into the outbox: each ladder step queued once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from mailroom.case_events import ClockEvent, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.reminders import queue_due
from mailroom.services import Services
from mailroom.worker import run_once
from tests.support import mailgen


def _with_reminders(services: Services) -> Services:
    settings = services.settings.model_copy(
        update={
            "reminders": services.settings.reminders.model_copy(
                update={
                    "officer_addresses": ["officer@landlord.example"],
                    "manager_addresses": ["boss@landlord.example"],
                }
            )
        }
    )
    return Services(settings, services.clock, services.store, services.storage)


def _outbox(services: Services) -> list[tuple[str, str]]:
    with services.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT dedupe_key, recipients FROM outbox ORDER BY id"))
        return [(key.rsplit(":", 1)[1], recipients) for key, recipients in rows]


def test_each_step_is_queued_once_in_working_hours_and_stops_when_met(
    services: Services, tmp_path: Path, clock: FixedClock
) -> None:
    """Received Mon 2 Nov 2026 09:00: acknowledgement due Mon 9 Nov (6.2)."""
    services = _with_reminders(services)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mailgen.complaint(1))
    clock.set(datetime(2026, 11, 2, 9, 30, tzinfo=LONDON))
    run_once(services, [MaildirSource([inbox])])
    hour = timedelta(hours=1)
    moments = [datetime(2026, 11, 2, 9, 30, tzinfo=LONDON) + n * hour for n in range(0, 24 * 9 + 2)]
    for moment in moments:  # hour by hour, Monday 2 to Wednesday 11 November
        clock.set(moment)
        queue_due(services)
        queue_due(services)  # a second run in the same hour adds nothing
    steps = _outbox(services)
    assert [step for step, _ in steps] == ["T-2", "T-0", "overdue-1", "overdue-2"]
    assert all(recipients.startswith("officer@") for _, recipients in steps)
    assert all("boss@" in recipients for step, recipients in steps if step.startswith("overdue"))
    assert not any("boss@" in recipients for step, recipients in steps if step.startswith("T-"))
    with services.store.transaction() as repo:
        (case,) = repo.list_complaints()
    clock.set(datetime(2026, 11, 12, 10, 0, tzinfo=LONDON))
    record_event(
        services, case.id, ClockEvent.STAGE1_ACKNOWLEDGED, datetime(2026, 11, 12, 9, 45, tzinfo=LONDON)
    )
    clock.set(datetime(2026, 11, 13, 10, 0, tzinfo=LONDON))
    queue_due(services)
    assert len(_outbox(services)) == 4  # met: the acknowledgement ladder stops
