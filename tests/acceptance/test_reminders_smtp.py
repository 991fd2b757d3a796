"""Reminders end to end over real SMTP (aiosmtpd on loopback, STARTTLS on a
test certificate), with a frozen clock advanced hour by hour.

The expected reminders are worked out here from the calendar alone (which
working day each step of the default ladder falls on, and whether the clock
was still running at that hour), not by calling the ladder code under test.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time as wall
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mailroom.case_events import ClockEvent, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.config import load_settings
from mailroom.domain.calendar import WorkingCalendar
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.reminders import send_outbox, sweep
from mailroom.services import build_services
from mailroom.staff import assign, save_member
from tests.conftest import make_settings
from tests.support.databases import throwaway_postgres
from tests.support.harness import mailroom_command
from tests.support.smtp import Collector, ServerFactory

HOUR = timedelta(hours=1)
OFFICERS = {f"officer{i}@landlord.example": f"manager{i % 2}@landlord.example" for i in range(5)}


@dataclass(frozen=True)
class Scenario:
    start: datetime  # midnight on a Monday
    complaints: int
    receipt_days: int  # they arrive at any hour of this many calendar days from the start
    working_days: int  # the run lasts this many working days
    outage_day: int  # the day-long SMTP outage starts at 08:00 on this working day


# Both cross Christmas and New Year. make test runs the short one; make soak the long one.
SHORT = Scenario(datetime(2026, 12, 7, tzinfo=LONDON), 64, 10, 25, 6)
LONG = Scenario(datetime(2026, 11, 2, tzinfo=LONDON), 200, 21, 60, 12)


@dataclass
class Case:
    received: datetime
    officer: str
    # (moment, event) steps taken on the case, on the hour
    steps: list[tuple[datetime, ClockEvent]] = field(default_factory=list)
    complaint_id: str = ""


def _on_hour(calendar: WorkingCalendar, day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def _plan(calendar: WorkingCalendar, rng: random.Random, scenario: Scenario) -> list[Case]:
    """Complaints received at any hour (nights and weekends too) over the first
    days; some acknowledged in time, some late, some answered, some closed."""
    cases = []
    for n in range(scenario.complaints):
        received = scenario.start + HOUR * rng.randrange(0, scenario.receipt_days * 24)
        officer = list(OFFICERS)[n % len(OFFICERS)]
        case = Case(received, officer)
        day0 = calendar.add_working_days(received.astimezone(LONDON).date(), 0)
        kind = n % 8
        if kind in (0, 1, 2):  # acknowledged in time; answered in time, late or never
            ack = _on_hour(calendar, calendar.add_working_days(day0, 2), 10)
            case.steps.append((ack, ClockEvent.STAGE1_ACKNOWLEDGED))
            if kind == 0:
                case.steps.append(
                    (
                        _on_hour(calendar, calendar.add_working_days(ack.date(), 6), 15),
                        ClockEvent.STAGE1_RESPONDED,
                    )
                )
            elif kind == 1:
                case.steps.append(
                    (
                        _on_hour(calendar, calendar.add_working_days(ack.date(), 13), 11),
                        ClockEvent.STAGE1_RESPONDED,
                    )
                )
        elif kind in (3, 4):  # acknowledged late: the overdue steps go to the manager too
            case.steps.append(
                (_on_hour(calendar, calendar.add_working_days(day0, 8), 14), ClockEvent.STAGE1_ACKNOWLEDGED)
            )
        elif kind == 5:  # closed (withdrawn) before the acknowledgement was due
            case.steps.append((_on_hour(calendar, calendar.add_working_days(day0, 2), 12), ClockEvent.CLOSED))
        cases.append(case)  # kinds 6, 7: nobody acts, overdue every working day to the end
    return cases


def _expected(cases: list[Case], calendar: WorkingCalendar, end: datetime) -> set[tuple[str, str, str]]:
    """(complaint, clock, step) the default ladder owes: T-2 at the first
    in-hours sweep from two working days before the due day, T-0 on the due
    day, overdue-N on each working day after, while the clock runs."""
    found = set()
    for case in cases:
        closed = next((at for at, event in case.steps if event == ClockEvent.CLOSED), None)
        clocks = [("stage1_acknowledgement", case.received, 5, ClockEvent.STAGE1_ACKNOWLEDGED)]
        ack = next((at for at, event in case.steps if event == ClockEvent.STAGE1_ACKNOWLEDGED), None)
        if ack is not None:
            clocks.append(("stage1_response", ack, 10, ClockEvent.STAGE1_RESPONDED))
        for name, started, days, stopping in clocks:
            due = calendar.add_working_days(calendar.day_zero(started, None), days)
            stop = next((at for at, event in case.steps if event == stopping), None)
            stops = [moment for moment in (stop, closed, end) if moment is not None]
            until = min(stops)

            def running(moment: datetime, started: datetime = started, until: datetime = until) -> bool:
                return started <= moment < until

            first_t2 = calendar.sub_working_days(due, 2)
            moments_t2 = [
                _on_hour(calendar, day, hour)
                for day in _working_days(calendar, first_t2, calendar.sub_working_days(due, 1))
                for hour in range(9, 17)
            ]
            if any(running(m) for m in moments_t2):
                found.add((case.complaint_id, name, "T-2"))
            if any(running(_on_hour(calendar, due, hour)) for hour in range(9, 17)):
                found.add((case.complaint_id, name, "T-0"))
            day, k = calendar.add_working_days(due, 1), 1
            while _on_hour(calendar, day, 9) < until:
                if any(running(_on_hour(calendar, day, hour)) for hour in range(9, 17)):
                    found.add((case.complaint_id, name, f"overdue-{k}"))
                day, k = calendar.add_working_days(day, 1), k + 1
    return found


def _working_days(calendar: WorkingCalendar, first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day = calendar.add_working_days(day, 1)
    return days


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(SHORT, id="25-working-days"),
        pytest.param(LONG, id="60-working-days", marks=pytest.mark.soak),
    ],
)
def test_working_days_hour_by_hour_every_step_once_in_hours_through_an_smtp_outage(
    tmp_path: Path, smtp_server: ServerFactory, ca_file: Path, scenario: Scenario
) -> None:
    collector, port = smtp_server()
    start = scenario.start
    clock = FixedClock(start.astimezone(UTC))
    services = build_services(
        make_settings(
            tmp_path / "storage",
            f"sqlite:///{tmp_path / 'mailroom.db'}",
            smtp={
                "host": "127.0.0.1",
                "port": port,
                "security": "starttls",
                "ca_file": str(ca_file),
                "sender": "complaints@landlord.example",
                "timeout": 5.0,
                "max_attempts": 30,
                "retry_base_seconds": 60.0,
            },
            reminders={"manager_addresses": ["head@landlord.example"]},
        ),
        clock,
    )
    calendar = services.calendar
    for officer, manager in OFFICERS.items():
        save_member(services, officer, manager=manager)
    cases = _plan(calendar, random.Random(20261123), scenario)
    end_day = calendar.add_working_days(start.date(), scenario.working_days)  # over Christmas and New Year
    assert date(start.year, 12, 28) < end_day and date(start.year + 1, 1, 1) < end_day
    end = _on_hour(calendar, end_day, 0)
    outage_day = calendar.add_working_days(start.date(), scenario.outage_day)
    outage = (_on_hour(calendar, outage_day, 8), _on_hour(calendar, outage_day, 8) + timedelta(days=1))
    delivered_at: list[datetime] = []
    queued_in_outage = 0
    moment = start
    while moment < end:
        clock.set(moment)
        for case in cases:
            if case.received == moment:
                case.complaint_id = log_complaint(
                    services,
                    OtherChannelComplaint(Channel.PHONE, moment, "Resident", "", "Damp and mould", "mould"),
                )
                assign(services, case.complaint_id, case.officer)
            for at, event in case.steps:
                if at == moment:
                    record_event(services, case.complaint_id, event, moment)
        if moment == outage[0]:
            smtp_server.stop(port)  # a simulated day without the mail server
        if moment == outage[1]:
            smtp_server.restart(port)
        before = len(collector.messages)
        report = sweep(services)
        if outage[0] <= moment < outage[1]:
            queued_in_outage += report.mails
        send_outbox(services)
        delivered_at += [moment] * (len(collector.messages) - before)
        moment += HOUR

    with services.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT dedupe_key, status, message_id FROM outbox")).all()
    keys = {(*key.split(":")[1:3], key.rsplit(":", 1)[1]) for key, _, _ in rows}
    assert keys == _expected(cases, calendar, end)
    steps = {step for _, _, step in keys}
    assert {"T-2", "T-0", "overdue-1", "overdue-10"} <= steps, steps  # the whole ladder, not a corner
    assert {status for _, status, _ in rows} == {"sent"}  # the outage's mail went once it was over
    assert queued_in_outage > 0
    message_ids = Counter(str(message["Message-ID"]) for message in collector.messages)
    assert max(message_ids.values()) == 1  # nothing delivered twice
    assert set(message_ids) == {message_id for _, _, message_id in rows}
    for at in delivered_at:  # only inside the working-hours window of a working day
        assert calendar.is_working_day(at.date()) and 9 <= at.hour < 17, at
    _managers_only_on_overdue(collector)
    closed = {case.complaint_id for case in cases if any(e == ClockEvent.CLOSED for _, e in case.steps)}
    late_for_closed = [key for key, _, _ in rows if key.split(":")[1] in closed and "overdue" in key]
    assert late_for_closed == []
    services.store.engine.dispose()


def _managers_only_on_overdue(collector: Collector) -> None:
    for message in collector.messages:
        to = str(message["To"])
        if "OVERDUE" in str(message["Subject"]):
            officer = next(address for address in OFFICERS if address in to)
            assert OFFICERS[officer] in to  # their manager is told too
        else:
            assert "manager" not in to


@pytest.mark.slow
def test_two_mailroom_runs_and_two_sweeps_on_one_postgresql_database_send_each_reminder_once(
    tmp_path: Path, smtp_server: ServerFactory, ca_file: Path
) -> None:
    collector, port = smtp_server()
    today = datetime.now(LONDON).date()  # real time: these are real processes
    received = today - timedelta(days=14)
    inbox = tmp_path / "inbox"
    (inbox / "new").mkdir(parents=True)
    (inbox / "cur").mkdir()
    (inbox / "tmp").mkdir()
    with throwaway_postgres() as url:
        config = tmp_path / "mailroom.toml"
        config.write_text(
            "\n".join(
                [
                    "[storage]",
                    f'root = "{tmp_path / "storage"}"',
                    "[database]",
                    f'url = "{url}"',
                    "[maildir]",
                    f'path = "{inbox}"',
                    "[worker]",
                    "progress = false",
                    "[calendar]",
                    # Today is a working day whatever the real date is, and its
                    # window is the whole day, so the overdue step is due now.
                    f'extra_working_days = ["{today.isoformat()}"]',
                    "[reminders]",
                    'officer_addresses = ["team@landlord.example"]',
                    'window_start = "00:00"',
                    'window_end = "23:59:59"',
                    "[smtp]",
                    'host = "127.0.0.1"',
                    f"port = {port}",
                    'security = "starttls"',
                    f'ca_file = "{ca_file}"',
                    'sender = "complaints@landlord.example"',
                    "",
                ]
            )
        )
        staff = build_services(load_settings(config))  # as `cases new` does, without 30 start-ups
        for n in range(30):
            log_complaint(
                staff,
                OtherChannelComplaint(
                    Channel.PHONE,
                    datetime.combine(received, time(10), tzinfo=LONDON),
                    f"Resident {n}",
                    "",
                    "Repairs",
                    "",
                ),
            )
        staff.store.engine.dispose()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        runs = [
            subprocess.Popen(
                mailroom_command(config, "run"),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        sweeps = [
            subprocess.Popen(
                mailroom_command(config, "reminders", "send"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for process in sweeps:
                assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
            deadline = wall.monotonic() + 90
            while len(collector.messages) < 30 and wall.monotonic() < deadline:
                wall.sleep(0.5)
            wall.sleep(3)  # time for a duplicate to show up, if there were one
        finally:
            for process in runs:
                process.send_signal(signal.SIGTERM)
            for process in runs:
                process.wait(timeout=60)
        engine = create_engine(url)
        with engine.connect() as connection:
            logged = connection.execute(text("SELECT count(*) FROM reminder_log")).scalar_one()
            outbox = connection.execute(text("SELECT count(*), count(DISTINCT dedupe_key) FROM outbox")).one()
        engine.dispose()
    assert logged == 30
    assert tuple(outbox) == (30, 30)
    assert len(collector.messages) == 30
    subjects = Counter(str(message["Subject"]) for message in collector.messages)
    assert all("OVERDUE" in subject for subject in subjects)
    assert len({str(m["Message-ID"]) for m in collector.messages}) == 30
