"""The procedure through the use cases: steps that do not fit are refused in one line,
late extensions keep the breach, ending steps stop clocks and reminders, corrections
keep both entries, and a landlord policy file's stricter timescales run the clocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from mailroom.case_events import (
    CaseEventError,
    ClockEvent,
    EventDetails,
    case_state,
    complaint_of_event,
    correct_event,
    record_event,
)
from mailroom.clock import LONDON, FixedClock
from mailroom.clocks import deadlines_of
from mailroom.domain.deadlines import Deadline, DeadlineState
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.reminders import sweep
from mailroom.services import Services, build_services
from tests.conftest import make_settings

E = ClockEvent
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=LONDON)  # acknowledgement due Mon 9 Nov (6.2)
POLICIES = Path(__file__).resolve().parents[2] / "rules" / "policies"


def uk(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LONDON)


@pytest.fixture
def team(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    clock.set(MONDAY)
    settings = make_settings(
        tmp_path / "storage", db_url, reminders={"officer_addresses": ["team@landlord.example"]}
    )
    built = build_services(settings, clock)
    yield built
    built.store.engine.dispose()


def new_case(services: Services, at: datetime = MONDAY) -> str:
    request = OtherChannelComplaint(Channel.PHONE, at, "A Resident", "resident@example.org", "Damp", "mould")
    return log_complaint(services, request)


def clocks(services: Services, complaint_id: str) -> dict[str, Deadline]:
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        assert complaint is not None
        return {d.clock: d for d in deadlines_of(services, repo, complaint)}


def stored(services: Services, complaint_id: str, clock_name: str) -> dict[str, object]:
    with services.store.transaction() as repo:
        row = {r.clock: r for r in repo.deadlines_of_case(complaint_id)}[clock_name]
        return {"missed_at": row.missed_at, "ended_by": row.ended_by, "next": row.next_reminder_at}


def status(services: Services, complaint_id: str) -> tuple[str, int]:
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        assert complaint is not None
        return complaint.status, complaint.stage


def test_a_stage_2_acknowledgement_on_a_stage_1_case_is_refused_in_one_line(
    team: Services, clock: FixedClock
) -> None:
    case = new_case(team)
    clock.set(uk(4))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))
    with pytest.raises(CaseEventError) as caught:
        record_event(team, case, E.STAGE2_ACKNOWLEDGED, uk(4, 9))
    assert str(caught.value) == (
        f"{case}: stage2_acknowledged does not fit: the case is stage1 open; allowed next: "
        "stage1_extended, stage1_responded, refused, withdrawn, closed, remedy_promised, "
        "action_promised, remedy_completed, action_completed, mp_enquiry_received, mp_enquiry_answered"
    )
    state = case_state(team, case)
    assert state is not None and (state.state, state.stage) == ("stage1_open", 1)
    assert "stage1_responded" in state.allowed and "stage2_acknowledged" not in state.allowed


def test_a_backdated_step_must_fit_where_it_falls_on_the_timeline(team: Services, clock: FixedClock) -> None:
    case = new_case(team)
    clock.set(uk(12))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))
    record_event(team, case, E.STAGE1_RESPONDED, uk(10))
    # Before the response, escalation did not fit; after it, it does.
    with pytest.raises(CaseEventError, match="escalation_requested does not fit: the case is stage1 open"):
        record_event(team, case, E.ESCALATION_REQUESTED, uk(5))
    # A step that fits at its own time but breaks one recorded after it.
    with pytest.raises(
        CaseEventError, match=r"closed at .* does not fit before stage1_responded \(event \d+"
    ):
        record_event(team, case, E.CLOSED, uk(6))
    record_event(team, case, E.ESCALATION_REQUESTED, uk(11))
    assert status(team, case) == ("open", 2)


def test_a_late_extension_needs_a_reason_and_the_deadline_stays_missed(
    team: Services, clock: FixedClock
) -> None:
    case = new_case(team)
    clock.set(uk(3, 11))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))  # response due Tue 17 Nov
    clock.set(uk(18, 10))  # lapsed at midnight
    late = EventDetails(until=date(2026, 11, 24))
    with pytest.raises(CaseEventError, match=r"lapsed on 2026-11-17.*--late-reason.*stays missed"):
        record_event(team, case, E.STAGE1_EXTENDED, clock.now(), details=late)
    event_id = record_event(
        team,
        case,
        E.STAGE1_EXTENDED,
        clock.now(),
        details=EventDetails(until=date(2026, 11, 24), late_reason="letter drafted in time, not sent"),
    )
    response = clocks(team, case)["stage1_response"]
    lapse = datetime(2026, 11, 18, 0, 0, tzinfo=LONDON)
    assert response.due == date(2026, 11, 24) and response.original_due == date(2026, 11, 17)
    assert response.state is DeadlineState.OVERDUE and response.missed_at == lapse
    assert stored(team, case, "stage1_response")["missed_at"] == lapse
    with team.store.transaction() as repo:
        (event,) = [e for e in repo.events_of_case(case) if e.id == event_id]
    assert json.loads(event.payload)["late_reason"] == "letter drafted in time, not sent"
    assert "recorded after the deadline lapsed" in event.detail
    clock.set(uk(23, 12))
    record_event(team, case, E.STAGE1_RESPONDED, clock.now())  # before the new date: still missed
    response = clocks(team, case)["stage1_response"]
    assert response.state is DeadlineState.MISSED and response.missed_at == lapse


def test_escalation_refused_stops_the_stage_2_clock_and_its_reminders(
    team: Services, clock: FixedClock
) -> None:
    case = new_case(team)
    clock.set(uk(16))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))
    record_event(team, case, E.STAGE1_RESPONDED, uk(13))
    record_event(team, case, E.ESCALATION_REQUESTED, uk(16, 9))  # 6.11: due Mon 23 Nov
    assert stored(team, case, "stage2_acknowledgement")["next"] is not None
    clock.set(uk(18))
    record_event(team, case, E.ESCALATION_REFUSED, clock.now())
    ack = clocks(team, case)["stage2_acknowledgement"]
    assert ack.state is DeadlineState.ENDED and not ack.running
    assert stored(team, case, "stage2_acknowledgement") == {
        "missed_at": None,
        "ended_by": "escalation_refused",
        "next": None,
    }
    moment = uk(18, 9)
    while moment < uk(30, 17):  # past the due date: never a reminder
        clock.set(moment)
        sweep(team)
        moment += timedelta(hours=4)
    with team.store.transaction() as repo:
        assert [r.clock for r in repo.reminders_logged(case)] == []


def test_withdrawal_ends_the_running_clocks(team: Services, clock: FixedClock) -> None:
    case = new_case(team)
    clock.set(uk(4))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))
    record_event(team, case, E.WITHDRAWN, clock.now(), note="resident phoned to withdraw")
    assert clocks(team, case)["stage1_response"].state is DeadlineState.ENDED
    assert status(team, case) == ("withdrawn", 1)
    with pytest.raises(CaseEventError, match="stage1_responded does not fit: the case is withdrawn"):
        record_event(team, case, E.STAGE1_RESPONDED, clock.now())


def test_a_correction_keeps_both_entries_and_the_wrong_step_stops_counting(
    team: Services, clock: FixedClock
) -> None:
    case = new_case(team)
    clock.set(uk(6))
    wrong = record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(5), by="ava")  # should have been the 4th
    assert clocks(team, case)["stage1_response"].due == date(2026, 11, 19)
    with pytest.raises(CaseEventError, match="needs --reason"):
        correct_event(team, case, wrong, "  ")
    assert complaint_of_event(team, wrong) == case
    correction = correct_event(team, case, wrong, "acknowledged on the 4th, typed the 5th", by="ava")
    assert "stage1_response" not in clocks(team, case)  # no acknowledgement counts now
    assert clocks(team, case)["stage1_acknowledgement"].running
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(4))
    assert clocks(team, case)["stage1_response"].due == date(2026, 11, 18)
    with team.store.transaction() as repo:
        events = {e.id: e for e in repo.events_of_case(case)}
    assert events[wrong].kind == "stage1_acknowledged"  # still on the audit trail
    assert events[correction].kind == "event_corrected"
    assert json.loads(events[correction].payload) == {
        "ref": str(wrong),
        "reason": "acknowledged on the 4th, typed the 5th",
        "by": "ava",
    }
    assert events[correction].detail.startswith(f"event {wrong} (stage1_acknowledged at ")
    with pytest.raises(CaseEventError, match="already corrected"):
        correct_event(team, case, wrong, "again")
    with pytest.raises(CaseEventError, match="not a step"):
        correct_event(team, case, correction, "undo")


def test_a_correction_moves_the_case_back_and_refuses_to_orphan_later_steps(
    team: Services, clock: FixedClock
) -> None:
    case = new_case(team)
    clock.set(uk(20))
    record_event(team, case, E.STAGE1_ACKNOWLEDGED, uk(3))
    responded = record_event(team, case, E.STAGE1_RESPONDED, uk(10))
    promise = record_event(
        team, case, E.REMEDY_PROMISED, uk(10, 11), details=EventDetails(until=date(2026, 12, 4), what="£50")
    )
    done = record_event(team, case, E.REMEDY_COMPLETED, uk(19))
    closed = record_event(team, case, E.CLOSED, uk(19, 12))
    assert status(team, case) == ("closed", 1)
    with pytest.raises(CaseEventError, match=rf"event {done} \(remedy_completed\) refers to event {promise}"):
        correct_event(team, case, promise, "no remedy was offered")
    correct_event(team, case, closed, "closed by mistake")
    assert status(team, case) == ("open", 1)
    record_event(team, case, E.ESCALATION_REQUESTED, uk(20, 9))
    assert status(team, case) == ("open", 2)
    with pytest.raises(CaseEventError, match=r"without event \d+ \(stage1_responded\), escalation_requested"):
        correct_event(team, case, responded, "the response was not sent")


def test_a_landlord_policy_files_stricter_timescales_run_the_clocks(
    tmp_path: Path, sqlite_url: str, clock: FixedClock
) -> None:
    policy = tmp_path / "landlord.toml"
    policy.write_text(
        (POLICIES / "ongo-2025.toml")
        .read_text()
        .replace("stage1_acknowledgement = 5", "stage1_acknowledgement = 2")
        .replace("stage1_extension = 10", "stage1_extension = 5")
    )
    clock.set(MONDAY)
    services = build_services(
        make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": policy}), clock
    )
    try:
        case = new_case(services)
        assert clocks(services, case)["stage1_acknowledgement"].due == date(2026, 11, 4)  # 2 WD, not 5
        clock.set(uk(3, 11))
        record_event(services, case, E.STAGE1_ACKNOWLEDGED, uk(3))
        # 6.4 allows 10 more working days; this landlord promises at most 5 (Tue 24 Nov).
        with pytest.raises(CaseEventError, match=r"beyond 2026-11-24.*5 working days"):
            record_event(
                services, case, E.STAGE1_EXTENDED, clock.now(), details=EventDetails(until=date(2026, 11, 25))
            )
    finally:
        services.store.engine.dispose()
