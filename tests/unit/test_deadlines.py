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


def test_a_saturday_complaint_counts_from_monday_and_the_cutoff_moves_an_evening_one() -> None:
    saturday = [CaseEvent("received", utc(2026, 11, 7, 12))]
    assert by_clock(saturday, utc(2026, 11, 7, 13))["stage1_acknowledgement"].due == date(2026, 11, 16)
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
