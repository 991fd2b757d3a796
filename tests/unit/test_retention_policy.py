"""The retention rules (mailroom/records/retention_policy.py): which finished case may
be erased on which day, by which rule, and what stops it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mailroom.clock import LONDON
from mailroom.records.retention_policy import (
    OMBUDSMAN_DETERMINATION,
    CaseFacts,
    PolicyEvent,
    RetentionPeriods,
    Rule,
    Verdict,
    add_years,
    decide,
)

SIX = RetentionPeriods(closed_years=6, refused_years=6, after_determination_years=6)
CID = "CMP-2026-000001"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def case(
    *events: PolicyEvent,
    status: str = "closed",
    hold: str = "",
    running_clocks: tuple[str, ...] = (),
    unsent_mails: int = 0,
) -> CaseFacts:
    return CaseFacts(CID, status, hold, events, running_clocks, unsent_mails)


def closed(day: date, event_id: int = 1, kind: str = "closed", hour: int = 10) -> PolicyEvent:
    return PolicyEvent(event_id, kind, at(day, hour))


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2026, 3, 1), 6, date(2032, 3, 1)),
        (date(2024, 2, 29), 6, date(2030, 2, 28)),  # no 29 February in 2030
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2026, 12, 31), 1, date(2027, 12, 31)),
    ],
)
def test_years_are_calendar_years(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


def test_a_closed_case_is_erasable_from_the_anniversary_of_its_closure_not_before() -> None:
    facts = case(closed(date(2026, 3, 1)))
    before = decide(facts, SIX, date(2032, 2, 29))
    assert (before.verdict, before.eligible_on, before.rule) == (Verdict.KEEP, date(2032, 3, 1), Rule.CLOSED)
    on = decide(facts, SIX, date(2032, 3, 1))
    assert (on.verdict, on.closed_on, on.rule) == (Verdict.ERASE, date(2026, 3, 1), Rule.CLOSED)
    assert "closed 2026-03-01" in on.reason and "2032-03-01" in on.reason


def test_the_closing_date_is_the_uk_date() -> None:
    """00:30 on 1 July in London is 23:30 on 30 June in UTC: the UK date counts."""
    late = PolicyEvent(1, "closed", datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert decide(case(late), SIX, date(2040, 1, 1)).closed_on == date(2026, 7, 1)


def test_an_open_case_is_never_erased() -> None:
    decision = decide(case(status="open"), SIX, date(2100, 1, 1))
    assert decision.verdict is Verdict.OPEN


def test_a_refusal_has_its_own_period_and_a_withdrawal_counts_as_closed() -> None:
    rules = RetentionPeriods(closed_years=6, refused_years=2, after_determination_years=6)
    refused = decide(
        case(closed(date(2026, 3, 1), kind="refused"), status="refused"), rules, date(2028, 3, 1)
    )
    assert (refused.verdict, refused.rule) == (Verdict.ERASE, Rule.REFUSED)
    withdrawn = decide(
        case(closed(date(2026, 3, 1), kind="withdrawn"), status="withdrawn"), rules, date(2028, 3, 1)
    )
    assert (withdrawn.verdict, withdrawn.rule, withdrawn.eligible_on) == (
        Verdict.KEEP,
        Rule.CLOSED,
        date(2032, 3, 1),
    )


def test_the_latest_closing_step_counts() -> None:
    """Refused, then closed a year later: the case is kept from its closure."""
    facts = case(closed(date(2026, 3, 1), 1, "refused"), closed(date(2027, 3, 1), 2))
    decision = decide(facts, SIX, date(2032, 6, 1))
    assert (decision.verdict, decision.rule, decision.eligible_on) == (
        Verdict.KEEP,
        Rule.CLOSED,
        date(2033, 3, 1),
    )


def test_a_corrected_closing_step_does_not_count() -> None:
    facts = case(
        closed(date(2020, 3, 1), 1),
        PolicyEvent(2, "event_corrected", at(date(2020, 3, 2)), ref=1),
        closed(date(2026, 3, 1), 3),
    )
    assert decide(facts, SIX, date(2030, 1, 1)).closed_on == date(2026, 3, 1)
    only_corrected = case(
        closed(date(2020, 3, 1), 1), PolicyEvent(2, "event_corrected", at(date(2020, 3, 2)), ref=1)
    )
    decision = decide(only_corrected, SIX, date(2030, 1, 1))
    assert decision.verdict is Verdict.BLOCKED and "no closing step" in decision.stopped_by


def test_an_ombudsman_determination_keeps_the_case_six_years_after_it() -> None:
    facts = case(closed(date(2026, 3, 1)), PolicyEvent(2, OMBUDSMAN_DETERMINATION, at(date(2028, 5, 10))))
    kept = decide(facts, SIX, date(2033, 1, 1))  # past the closure's six years, not the determination's
    assert (kept.verdict, kept.rule, kept.eligible_on) == (
        Verdict.KEEP,
        Rule.AFTER_DETERMINATION,
        date(2034, 5, 10),
    )
    due = decide(facts, SIX, date(2034, 5, 10))
    assert (due.verdict, due.rule) == (Verdict.ERASE, Rule.AFTER_DETERMINATION)
    assert "Ombudsman determination 2028-05-10" in due.reason


def test_a_determination_before_the_closure_leaves_the_closure_rule() -> None:
    facts = case(PolicyEvent(1, OMBUDSMAN_DETERMINATION, at(date(2026, 1, 10))), closed(date(2026, 3, 1), 2))
    decision = decide(facts, SIX, date(2032, 3, 1))
    assert (decision.verdict, decision.rule) == (Verdict.ERASE, Rule.CLOSED)


def test_a_hold_keeps_a_due_case_and_says_why() -> None:
    decision = decide(
        case(closed(date(2020, 3, 1)), hold="Claim 2031/44 in the county court"), SIX, date(2030, 1, 1)
    )
    assert decision.verdict is Verdict.HELD and decision.stopped_by == "Claim 2031/44 in the county court"
    assert decision.eligible_on == date(2026, 3, 1)
    # A hold on a case not yet due changes nothing to show.
    assert decide(case(closed(date(2029, 3, 1)), hold="claim"), SIX, date(2030, 1, 1)).verdict is Verdict.KEEP


def test_a_running_clock_or_an_unsent_mail_blocks_a_due_case() -> None:
    running = decide(case(closed(date(2020, 3, 1)), running_clocks=("remedy#42",)), SIX, date(2030, 1, 1))
    assert running.verdict is Verdict.BLOCKED and "remedy#42" in running.stopped_by
    unsent = decide(case(closed(date(2020, 3, 1)), unsent_mails=1), SIX, date(2030, 1, 1))
    assert unsent.verdict is Verdict.BLOCKED and "not yet sent" in unsent.stopped_by


def test_a_finished_case_without_a_closing_step_is_blocked_not_erased() -> None:
    decision = decide(case(status="closed"), SIX, date(2100, 1, 1))
    assert decision.verdict is Verdict.BLOCKED and decision.eligible_on is None
