"""Code clocks from the rule pack, on a real England & Wales calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from mailroom.calendar_source import build_calendar
from mailroom.config import CalendarSettings
from mailroom.domain.deadlines import (
    CaseEvent,
    Deadline,
    DeadlineState,
    RulePackError,
    case_deadlines,
    load_rule_pack,
)

RULES = (Path(__file__).resolve().parents[2] / "rules" / "housing-ombudsman-2024.toml").read_text()
CALENDAR = build_calendar(CalendarSettings())
PACK = load_rule_pack(RULES)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def by_clock(events: list[CaseEvent], now: datetime, cutoff: time | None = None) -> dict[str, Deadline]:
    return {d.clock: d for d in case_deadlines(events, PACK, CALENDAR, now, cutoff)}


def test_the_rule_pack_carries_the_code_clocks() -> None:
    clocks = {clock.name: (clock.paragraph, clock.working_days, clock.extension_cap) for clock in PACK.clocks}
    assert clocks == {
        "stage1_acknowledgement": ("6.2", 5, None),
        "stage1_response": ("6.3", 10, 10),
        "stage2_acknowledgement": ("6.11", 5, None),
        "stage2_response": ("6.14", 20, 20),
        "remedy": ("7.3", 0, None),  # dated by the promise itself
        "outstanding_action": ("6.6", 0, None),
        "mp_enquiry_response": ("policy", 10, None),  # landlord policy (seed 000), not the Code
    }


def test_acknowledgement_is_due_five_working_days_after_receipt_over_christmas() -> None:
    """Received Wed 23 Dec 2026: 24 (1), [25, 26 Sat, 27 Sun, 28 substitute Boxing Day], 29 (2),
    30 (3), 31 (4), [1 Jan], 4 Jan (5)."""
    received = utc(2026, 12, 23, 10, 0)
    (deadline,) = case_deadlines([CaseEvent("received", received)], PACK, CALENDAR, received)
    assert deadline.clock == "stage1_acknowledgement"
    assert deadline.due == date(2027, 1, 4)
    assert deadline.lapses_at == utc(2027, 1, 5, 0, 0)  # end of the day, GMT
    assert deadline.state is DeadlineState.DUE
    assert deadline.calendar_version == CALENDAR.version


def test_states_move_from_due_to_due_soon_to_overdue_and_met() -> None:
    received = utc(2026, 11, 2, 9, 0)  # Monday; due Monday 9 November
    events = [CaseEvent("received", received)]
    assert by_clock(events, utc(2026, 11, 3, 9))["stage1_acknowledgement"].state is DeadlineState.DUE
    assert by_clock(events, utc(2026, 11, 5, 9))["stage1_acknowledgement"].state is DeadlineState.DUE_SOON
    assert (
        by_clock(events, utc(2026, 11, 9, 23, 59))["stage1_acknowledgement"].state is DeadlineState.DUE_SOON
    )
    assert by_clock(events, utc(2026, 11, 10, 0, 0))["stage1_acknowledgement"].state is DeadlineState.OVERDUE
    acknowledged = [*events, CaseEvent("stage1_acknowledged", utc(2026, 11, 6, 15))]
    deadlines = by_clock(acknowledged, utc(2026, 11, 20))
    assert deadlines["stage1_acknowledgement"].state is DeadlineState.MET
    # the response clock starts at the acknowledgement: 10 working days from Fri 6 Nov = Fri 20 Nov
    assert deadlines["stage1_response"].due == date(2026, 11, 20)
    late = [*events, CaseEvent("stage1_acknowledged", utc(2026, 11, 10, 9))]
    assert by_clock(late, utc(2026, 11, 20))["stage1_acknowledgement"].state is DeadlineState.MISSED


def test_a_saturday_complaint_counts_from_the_saturday_and_the_cutoff_moves_an_evening_one() -> None:
    """Strict counting: Sat 7 Nov 2026 + 5 WD is Fri 13 Nov (Mon 9 is working day 1), as
    ``calendar add-working-days 2026-11-07 5`` says; the opt-in cut-off counts it from Monday."""
    saturday = [CaseEvent("received", utc(2026, 11, 7, 12))]
    assert by_clock(saturday, utc(2026, 11, 7, 13))["stage1_acknowledgement"].due == date(2026, 11, 13)
    assert CALENDAR.add_working_days(date(2026, 11, 7), 5) == date(2026, 11, 13)
    with_cutoff = by_clock(saturday, utc(2026, 11, 7, 13), cutoff=time(17, 0))
    assert with_cutoff["stage1_acknowledgement"].due == date(2026, 11, 16)
    evening = [CaseEvent("received", utc(2026, 11, 9, 17, 30))]  # Monday 17:30 GMT
    assert by_clock(evening, utc(2026, 11, 9, 18))["stage1_acknowledgement"].due == date(2026, 11, 16)
    with_cutoff = by_clock(evening, utc(2026, 11, 9, 18), cutoff=time(17, 0))
    assert with_cutoff["stage1_acknowledgement"].due == date(2026, 11, 17)


def test_a_policy_may_be_stricter_but_never_laxer() -> None:
    stricter = load_rule_pack(RULES, {"stage1_response": 8})
    assert {c.name: c.working_days for c in stricter.clocks}["stage1_response"] == 8
    with pytest.raises(RulePackError, match=r"policy.clocks.stage1_response: 15 .* laxer .* 10 \(6.3\)"):
        load_rule_pack(RULES, {"stage1_response": 15})
    with pytest.raises(RulePackError, match="no such clock"):
        load_rule_pack(RULES, {"stage3_response": 5})


def test_a_broken_rule_pack_is_refused_with_the_key_named() -> None:
    with pytest.raises(RulePackError, match=r"clocks\.x: missing working_days"):
        load_rule_pack('[clocks.x]\nparagraph = "1"\ntitle = "t"\nstarts = "a"\nstops = "b"\n')
    with pytest.raises(RulePackError, match="not valid TOML"):
        load_rule_pack("[clocks")


# -- missed stays missed; steps that end clocks ------------------------------------------------
# Acknowledged Mon 2 Nov 2026 10:00 UTC: the stage 1 response is due Mon 16 Nov and
# lapses at 2026-11-17 00:00 UTC (GMT); the extension cap (6.4) is Mon 30 Nov.
ACK = utc(2026, 11, 2, 10)
LAPSE = utc(2026, 11, 17, 0, 0)
RECEIVED = CaseEvent("received", utc(2026, 11, 2, 9))
ACKNOWLEDGED = CaseEvent("stage1_acknowledged", ACK)


def extended(at: datetime, until: str) -> CaseEvent:
    return CaseEvent("stage1_extended", at, data={"until": until})


def response(events: list[CaseEvent], now: datetime) -> Deadline:
    return by_clock([RECEIVED, ACKNOWLEDGED, *events], now)["stage1_response"]


def test_an_extension_before_the_lapse_moves_the_deadline_and_can_be_met() -> None:
    events = [extended(utc(2026, 11, 16, 15), "2026-11-27")]
    running = response(events, utc(2026, 11, 18, 9))
    assert (running.due, running.original_due, running.missed_at) == (
        date(2026, 11, 27),
        date(2026, 11, 16),
        None,
    )
    assert running.state is DeadlineState.DUE
    met = response([*events, CaseEvent("stage1_responded", utc(2026, 11, 26, 12))], utc(2026, 11, 30, 9))
    assert met.state is DeadlineState.MET and met.missed_at is None


@pytest.mark.parametrize(
    "extended_at",
    [LAPSE, utc(2026, 11, 17, 9), utc(2026, 11, 20, 16, 59)],
    ids=["at-the-lapse", "next-morning", "days-later"],
)
@pytest.mark.parametrize(
    "responded_at",
    [utc(2026, 11, 23, 9), utc(2026, 11, 26, 12), utc(2026, 11, 27, 23, 59)],
    ids=["well-before-the-new-date", "before-the-new-date", "last-minute"],
)
def test_a_late_extension_never_turns_a_missed_deadline_into_a_met_one(
    extended_at: datetime, responded_at: datetime
) -> None:
    events = [extended(extended_at, "2026-11-27")]
    running = response(events, max(extended_at, utc(2026, 11, 21, 9)))
    # The new date is what the officer works to, but the breach is not hidden (TSM CH02).
    assert running.due == date(2026, 11, 27) and running.original_due == date(2026, 11, 16)
    assert running.missed_at == LAPSE
    assert running.state is DeadlineState.OVERDUE  # never due / due_soon again
    answered = response([*events, CaseEvent("stage1_responded", responded_at)], utc(2026, 12, 1, 9))
    assert answered.state is DeadlineState.MISSED
    assert answered.missed_at == LAPSE


def test_a_second_extension_after_the_first_new_date_lapsed_is_a_miss_of_that_date() -> None:
    events = [
        extended(utc(2026, 11, 13, 10), "2026-11-20"),  # in time
        extended(utc(2026, 11, 23, 10), "2026-11-27"),  # after Fri 20 Nov lapsed
        CaseEvent("stage1_responded", utc(2026, 11, 25, 10)),
    ]
    answered = response(events, utc(2026, 11, 30, 9))
    assert answered.state is DeadlineState.MISSED
    assert answered.missed_at == utc(2026, 11, 21, 0, 0)


@pytest.mark.parametrize(
    ("step", "at", "expected"),
    [
        ("withdrawn", utc(2026, 11, 10, 12), DeadlineState.ENDED),
        ("refused", utc(2026, 11, 10, 12), DeadlineState.ENDED),
        ("closed", utc(2026, 11, 10, 12), DeadlineState.ENDED),
        ("withdrawn", utc(2026, 11, 18, 12), DeadlineState.MISSED),  # ended after it lapsed: still missed
    ],
)
def test_steps_that_end_a_clock_stop_it_unmet(step: str, at: datetime, expected: DeadlineState) -> None:
    ended = response([CaseEvent(step, at)], utc(2026, 12, 10, 9))
    assert ended.stopped_at == at and ended.ended_by == step and not ended.running
    assert ended.state is expected


def test_escalation_refused_stops_the_stage_2_acknowledgement_clock() -> None:
    asked = CaseEvent("escalation_requested", utc(2026, 11, 20, 10))  # 6.11: due Fri 27 Nov
    refused = CaseEvent("escalation_refused", utc(2026, 11, 24, 10))
    clocks = by_clock([RECEIVED, ACKNOWLEDGED, asked, refused], utc(2026, 12, 15, 9))
    assert clocks["stage2_acknowledgement"].state is DeadlineState.ENDED
    assert clocks["stage2_acknowledgement"].ended_by == "escalation_refused"
    assert "stage2_response" not in clocks


# -- a landlord policy file's timescales (issue 8.5) ---------------------------------------------


def test_a_landlord_files_stricter_timescales_drive_the_clocks() -> None:
    pack = load_rule_pack(
        RULES, landlord={"stage1_acknowledgement": 2, "stage1_extension": 5, "mp_enquiry_acknowledgement": 5}
    )
    clocks = {c.name: c for c in pack.clocks}
    assert clocks["stage1_acknowledgement"].working_days == 2
    assert clocks["stage1_response"].extension_cap == 5
    received = [CaseEvent("received", utc(2026, 11, 2, 9))]  # Monday
    (ack, *_) = case_deadlines(received, pack, CALENDAR, utc(2026, 11, 2, 10))
    assert ack.due == date(2026, 11, 4)  # 2 WD, not 5
    acknowledged = [*received, CaseEvent("stage1_acknowledged", utc(2026, 11, 3, 9))]
    answer = {d.clock: d for d in case_deadlines(acknowledged, pack, CALENDAR, utc(2026, 11, 3, 10))}
    assert answer["stage1_response"].extension_cap_date == CALENDAR.add_working_days(date(2026, 11, 17), 5)


def test_a_landlord_files_laxer_timescales_never_lengthen_a_clock() -> None:
    """Laxer values are a conflict for `rules check`; the Code's limits keep running."""
    pack = load_rule_pack(
        RULES, landlord={"stage1_response": 15, "stage2_extension": 30, "mp_enquiry_response": 20}
    )
    clocks = {c.name: c for c in pack.clocks}
    assert clocks["stage1_response"].working_days == 10
    assert clocks["stage2_response"].extension_cap == 20
    assert clocks["mp_enquiry_response"].working_days == 10
