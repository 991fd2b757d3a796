"""Extensions, dated promises, closed cases, officers, managers, digests and
calendar changes, through the stored clocks and the reminder sweep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from mailroom.case_events import CaseEventError, ClockEvent, EventDetails, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.clocks import open_deadlines
from mailroom.deadline_store import refresh_stale
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.reminders import sweep
from mailroom.services import Services, build_services
from mailroom.staff import StaffError, assign, save_member
from tests.conftest import make_settings

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=LONDON)  # receipt: acknowledgement due Mon 9 Nov (6.2)


def _build(tmp_path: Path, url: str, clock: FixedClock, **sections: dict[str, object]) -> Services:
    reminders = {
        "officer_addresses": ["team@landlord.example"],
        "manager_addresses": ["head@landlord.example"],
        **sections.pop("reminders", {}),
    }
    settings = make_settings(tmp_path / "storage", url, reminders=reminders, **sections)
    return build_services(settings, clock)


@pytest.fixture
def team(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    clock.set(MONDAY)
    built = _build(tmp_path, db_url, clock)
    yield built
    built.store.engine.dispose()


def _log(services: Services, n: int = 1, at: datetime = MONDAY, email: str = "") -> list[str]:
    return [
        log_complaint(
            services,
            OtherChannelComplaint(
                Channel.PHONE, at, f"Resident {i}", email or f"resident{i}@example.org", f"Damp {i}", "mould"
            ),
        )
        for i in range(n)
    ]


def _outbox(services: Services) -> list[dict[str, str]]:
    with services.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT dedupe_key, recipients, subject, raw FROM outbox ORDER BY id"))
        return [
            {"key": key, "to": to, "subject": subject, "raw": bytes(raw).decode()}
            for key, to, subject, raw in rows
        ]


def _deadline(services: Services, complaint_id: str, clock_name: str) -> dict[str, object]:
    with services.store.transaction() as repo:
        rows = {row.clock: row for row in repo.deadlines_of_case(complaint_id)}
        row = rows[clock_name]
        return {"due": row.due, "next": row.next_reminder_at, "stopped": row.stopped_at}


def _hourly(services: Services, clock: FixedClock, until: datetime) -> None:
    moment = clock.now()
    while moment <= until:
        clock.set(moment)
        sweep(services)
        moment += timedelta(hours=1)


def test_an_extension_within_the_cap_moves_the_due_date_and_is_logged(
    team: Services, clock: FixedClock
) -> None:
    (case,) = _log(team)
    clock.set(datetime(2026, 11, 3, 11, 0, tzinfo=LONDON))
    record_event(team, case, ClockEvent.STAGE1_ACKNOWLEDGED, datetime(2026, 11, 3, 10, 0, tzinfo=LONDON))
    assert _deadline(team, case, "stage1_response")["due"] == date(2026, 11, 17)  # 10 WD (6.3)
    # The cap (6.4): 10 more working days, Tue 1 December.
    with pytest.raises(CaseEventError, match=r"beyond 2026-12-01.*\(6\.3\).*good-reason"):
        record_event(
            team, case, ClockEvent.STAGE1_EXTENDED, clock.now(), details=EventDetails(until=date(2026, 12, 2))
        )
    with pytest.raises(CaseEventError, match="not a working day"):
        record_event(
            team,
            case,
            ClockEvent.STAGE1_EXTENDED,
            clock.now(),
            details=EventDetails(until=date(2026, 11, 28)),
        )
    record_event(
        team, case, ClockEvent.STAGE1_EXTENDED, clock.now(), details=EventDetails(until=date(2026, 12, 1))
    )
    assert _deadline(team, case, "stage1_response")["due"] == date(2026, 12, 1)
    with team.store.transaction() as repo:
        moved = [e.detail for e in repo.events_of_case(case) if e.kind == "deadline_moved"]
    assert moved == ["stage1_response (6.3) due 2026-11-17 -> 2026-12-01: recorded on the case"]
    # Beyond the cap only with a recorded good reason, which is kept on the case.
    record_event(
        team,
        case,
        ClockEvent.STAGE1_EXTENDED,
        clock.now(),
        details=EventDetails(until=date(2026, 12, 10), good_reason="independent surveyor's report"),
    )
    with team.store.transaction() as repo:
        (running,) = [d for c, d in open_deadlines(team, repo) if d.clock == "stage1_response"]
        extension = [e for e in repo.events_of_case(case) if e.kind == "stage1_extended"][-1]
    assert running.due == date(2026, 12, 10) and running.original_due == date(2026, 11, 17)
    assert json.loads(extension.payload)["good_reason"] == "independent surveyor's report"


def test_an_extension_needs_a_running_response_clock(team: Services, clock: FixedClock) -> None:
    (case,) = _log(team)
    with pytest.raises(CaseEventError, match="stage1_extended does not fit: the case is received"):
        record_event(
            team, case, ClockEvent.STAGE1_EXTENDED, clock.now(), details=EventDetails(until=date(2026, 12, 1))
        )


def test_remedies_run_their_own_clocks_until_each_is_completed(team: Services, clock: FixedClock) -> None:
    (case,) = _log(team)
    clock.set(datetime(2026, 11, 4, 12, 0, tzinfo=LONDON))
    record_event(team, case, ClockEvent.STAGE1_ACKNOWLEDGED, datetime(2026, 11, 3, 10, 0, tzinfo=LONDON))
    boiler = record_event(
        team,
        case,
        ClockEvent.REMEDY_PROMISED,
        clock.now(),
        details=EventDetails(until=date(2026, 11, 20), what="replace the boiler"),
    )
    record_event(
        team,
        case,
        ClockEvent.REMEDY_PROMISED,
        clock.now(),
        details=EventDetails(until=date(2026, 12, 4), what="pay £150 for the inconvenience"),
    )
    with pytest.raises(CaseEventError, match="--until DATE and --what"):
        record_event(team, case, ClockEvent.ACTION_PROMISED, clock.now(), details=EventDetails(what="x"))
    assert _deadline(team, case, f"remedy#{boiler}")["due"] == date(2026, 11, 20)
    with pytest.raises(CaseEventError, match="--ref must name an open remedy_promised"):
        record_event(team, case, ClockEvent.REMEDY_COMPLETED, clock.now())  # two are open: which?
    record_event(team, case, ClockEvent.REMEDY_COMPLETED, clock.now(), details=EventDetails(ref=boiler))
    assert _deadline(team, case, f"remedy#{boiler}")["stopped"] is not None
    record_event(team, case, ClockEvent.REMEDY_COMPLETED, clock.now())  # the one left open
    with team.store.transaction() as repo:
        running = {d.clock for c, d in open_deadlines(team, repo)}
    assert not any(name.startswith("remedy#") for name in running)


def test_a_closed_or_refused_case_gets_no_reminders(team: Services, clock: FixedClock) -> None:
    closed, refused, running = _log(team, 3)
    clock.set(MONDAY + timedelta(hours=1))
    record_event(team, closed, ClockEvent.CLOSED, clock.now(), note="withdrawn by the resident")
    record_event(team, refused, ClockEvent.REFUSED, clock.now(), note="legal proceedings (2.2)")
    assert _deadline(team, closed, "stage1_acknowledgement")["next"] is None
    _hourly(team, clock, datetime(2026, 11, 12, 17, 0, tzinfo=LONDON))
    keys = [row["key"] for row in _outbox(team)]
    assert keys and all(running in key for key in keys)
    with team.store.transaction() as repo:
        assert {c.status for c in repo.list_complaints()} == {"open", "closed", "refused"}


def test_reminders_follow_the_assigned_officer_and_overdue_ones_their_manager(
    team: Services, clock: FixedClock
) -> None:
    assigned, unassigned = _log(team, 2)
    save_member(team, "ava@landlord.example", "Ava", manager="max@landlord.example")
    with pytest.raises(StaffError, match="not on the staff list"):
        assign(team, assigned, "stranger@landlord.example")
    assign(team, assigned, "Ava@landlord.example")
    _hourly(team, clock, datetime(2026, 11, 10, 17, 0, tzinfo=LONDON))  # T-2, T-0, overdue-1
    sent = {(row["key"].split(":")[1], row["key"].rsplit(":", 1)[1]): row["to"] for row in _outbox(team)}
    assert sent == {
        (assigned, "T-2"): "ava@landlord.example",
        (assigned, "T-0"): "ava@landlord.example",
        (assigned, "overdue-1"): "ava@landlord.example,max@landlord.example",
        (unassigned, "T-2"): "team@landlord.example",
        (unassigned, "T-0"): "team@landlord.example",
        (unassigned, "overdue-1"): "team@landlord.example,head@landlord.example",
    }


def test_a_reminder_never_goes_to_the_resident(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    clock.set(MONDAY)
    services = _build(tmp_path, sqlite_url, clock, reminders={"officer_addresses": ["me@example.org"]})
    _log(services, email="me@example.org")  # staff logged a complaint from their own address
    _hourly(services, clock, datetime(2026, 11, 10, 17, 0, tzinfo=LONDON))
    assert [row["to"] for row in _outbox(services)] == ["head@landlord.example"]  # overdue-1, the manager


def test_forty_items_due_on_one_day_come_as_one_digest(team: Services, clock: FixedClock) -> None:
    cases = _log(team, 40)
    save_member(team, "ava@landlord.example", "Ava", manager="max@landlord.example", digest=True)
    for case in cases:
        assign(team, case, "ava@landlord.example")
    clock.set(datetime(2026, 11, 5, 8, 0, tzinfo=LONDON))  # T-2 of every acknowledgement
    _hourly(team, clock, datetime(2026, 11, 5, 17, 0, tzinfo=LONDON))
    (digest,) = _outbox(team)
    assert digest["to"] == "ava@landlord.example"
    assert digest["subject"] == "Complaint deadlines: 40 need action"
    assert all(f"[{case}-" in digest["raw"] for case in cases)
    with team.store.transaction() as repo:
        logged = repo.reminders_logged()
    assert len(logged) == 40 and all(entry.digest for entry in logged)


def test_a_new_closure_day_moves_open_deadlines_and_says_so_on_the_case(
    tmp_path: Path, db_url: str, clock: FixedClock
) -> None:
    clock.set(MONDAY)
    services = _build(tmp_path, db_url, clock)
    (case,) = _log(services)
    assert _deadline(services, case, "stage1_acknowledgement")["due"] == date(2026, 11, 9)
    old_version = services.calendar.version
    services.store.engine.dispose()
    # The landlord closes on Friday 6 November (a system migration): one working day less.
    moved = _build(tmp_path, db_url, clock, calendar={"closure_days": ["2026-11-06"]})
    assert refresh_stale(moved) == 1
    assert refresh_stale(moved) == 0  # nothing left on the old calendar
    assert _deadline(moved, case, "stage1_acknowledgement")["due"] == date(2026, 11, 10)
    with moved.store.transaction() as repo:
        (event,) = [e for e in repo.events_of_case(case) if e.kind == "deadline_moved"]
    assert event.detail == (
        "stage1_acknowledgement (6.2) due 2026-11-09 -> 2026-11-10: "
        f"calendar {old_version} -> {moved.calendar.version}"
    )
    moved.store.engine.dispose()


def test_clocks_of_complaints_logged_before_the_deadlines_table_are_computed(
    team: Services, clock: FixedClock
) -> None:
    (case,) = _log(team)
    with team.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM deadlines"))
    assert refresh_stale(team) == 1
    assert _deadline(team, case, "stage1_acknowledgement")["due"] == date(2026, 11, 9)


def test_the_window_is_respected_when_the_sweep_runs_late(team: Services, clock: FixedClock) -> None:
    """Down all of T-2 day: T-2 is superseded, never sent after hours."""
    _log(team)
    clock.set(datetime(2026, 11, 5, 17, 30, tzinfo=LONDON))
    sweep(team)
    assert _outbox(team) == []
    clock.set(datetime(2026, 11, 9, 9, 0, tzinfo=LONDON))
    sweep(team)
    (row,) = _outbox(team)
    assert row["key"].endswith(":T-0")
    sent_at = datetime.combine(date(2026, 11, 9), time(9, 0), tzinfo=LONDON)
    assert clock.now() == sent_at


def test_an_mp_enquiry_starts_its_answer_clock_when_logged(
    team: Services, clock: FixedClock, tmp_path: Path
) -> None:
    from mailroom.ingest.maildir_source import MaildirSource
    from mailroom.worker import run_once
    from tests.support import mailgen

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mp.eml").write_bytes(mailgen.mp_enquiry())
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=LONDON))
    run_once(team, [MaildirSource([inbox])])
    with team.store.transaction() as repo:
        (case,) = repo.list_complaints()
        clocks = {row.clock.split("#")[0]: row for row in repo.deadlines_of_case(case.id)}
    assert case.flags == "mp_enquiry"
    day_zero = team.calendar.day_zero(case.received_at, None)
    assert clocks["mp_enquiry_response"].due == team.calendar.add_working_days(day_zero, 10)
    assert clocks["stage1_acknowledgement"].due == team.calendar.add_working_days(day_zero, 5)
