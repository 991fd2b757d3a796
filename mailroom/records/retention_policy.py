"""When a finished case's personal data may be erased (UK GDPR, storage limitation):
the retention rules of ``[retention]`` applied to one case's facts.

A case is kept while it is open. Once closed (or withdrawn), it is kept
``closed_years`` after the date of its closing step; a refused one (not accepted as
a complaint) ``refused_years`` after the refusal; and a case the Housing Ombudsman
determined, ``after_determination_years`` after the determination too, whichever
comes later. Years are counted on the UK calendar: the closing step's date in
Europe/London plus N years, 29 February giving 28 February.

A due case is still not erased while a legal hold is on it (it is listed as held),
while one of its clocks runs (a remedy promised and not yet delivered: the record
is what shows it was) or while a mail of the case waits in the outbox.

Pure: facts in, a decision out; no database, no clock (``today`` is given).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from mailroom.clock import LONDON
from mailroom.domain.case_steps import CORRECTED, ClockEvent

# The event kind recording the Housing Ombudsman's determination of the case (the
# `cases ombudsman` command records it); its ``at`` is the determination's date.
OMBUDSMAN_DETERMINATION = "ombudsman_determination"
# The steps that finish a case; the latest live one dates its closure.
CLOSING_STEPS = (ClockEvent.CLOSED.value, ClockEvent.WITHDRAWN.value, ClockEvent.REFUSED.value)
# Every event kind the decision reads (corrections: a corrected step does not count).
POLICY_EVENT_KINDS = (*CLOSING_STEPS, OMBUDSMAN_DETERMINATION, CORRECTED)
OPEN_STATUS = "open"


class Rule(enum.StrEnum):
    """The retention rule that set a case's erasure date."""

    CLOSED = "closed"  # closed or withdrawn: retention.closed_years after the step
    REFUSED = "refused"  # not accepted as a complaint: retention.refused_years
    AFTER_DETERMINATION = "after_determination"  # retention.after_determination_years


class Verdict(enum.StrEnum):
    ERASE = "erase"  # due, and nothing stops it
    HELD = "held"  # due, but a legal hold is on it
    BLOCKED = "blocked"  # due, but a running clock or an unsent mail keeps it for now
    KEEP = "keep"  # finished, its retention period not over
    OPEN = "open"  # not finished: never erased


@dataclass(frozen=True)
class RetentionPeriods:
    closed_years: int
    refused_years: int
    after_determination_years: int


@dataclass(frozen=True)
class PolicyEvent:
    """An event of the kinds in ``POLICY_EVENT_KINDS``; ``ref``: the step a
    correction names (None for the rest)."""

    id: int
    kind: str
    at: datetime
    ref: int | None = None


@dataclass(frozen=True)
class CaseFacts:
    complaint_id: str
    status: str
    legal_hold: str  # the reason; "" = none
    events: tuple[PolicyEvent, ...]
    running_clocks: tuple[str, ...] = ()  # clocks not yet stopped
    unsent_mails: int = 0  # outbox rows of the case pending or being sent


@dataclass(frozen=True)
class Decision:
    complaint_id: str
    verdict: Verdict
    rule: Rule | None = None
    closed_on: date | None = None  # the closing step's UK date
    eligible_on: date | None = None  # the first day it may be erased
    reason: str = ""  # the rule's dates in words
    stopped_by: str = ""  # held or blocked: the hold's reason, or what blocks it


def add_years(day: date, years: int) -> date:
    """``day`` plus ``years`` calendar years; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def uk_date(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def live(events: Iterable[PolicyEvent]) -> list[PolicyEvent]:
    """The events that count: without corrections and the steps they correct."""
    events = list(events)
    corrected = {event.ref for event in events if event.kind == CORRECTED}
    return [event for event in events if event.kind != CORRECTED and event.id not in corrected]


def decide(facts: CaseFacts, periods: RetentionPeriods, today: date) -> Decision:
    """Whether ``facts``' case may be erased on ``today``, by which rule and why."""
    if facts.status == OPEN_STATUS:
        return Decision(facts.complaint_id, Verdict.OPEN, reason="open")
    events = sorted(live(facts.events), key=lambda event: (event.at, event.id))
    closing = [event for event in events if event.kind in CLOSING_STEPS]
    if not closing:
        why = f"{facts.status}, but no closing step recorded"
        return Decision(facts.complaint_id, Verdict.BLOCKED, reason=why, stopped_by=why)
    closed = closing[-1]
    closed_on = uk_date(closed.at)
    rule, eligible_on, reason = _closing_rule(closed.kind, closed_on, periods)
    determinations = [event for event in events if event.kind == OMBUDSMAN_DETERMINATION]
    if determinations:
        determined_on = uk_date(determinations[-1].at)
        after = add_years(determined_on, periods.after_determination_years)
        if after > eligible_on:
            rule, eligible_on = Rule.AFTER_DETERMINATION, after
            reason = (
                f"Ombudsman determination {determined_on.isoformat()}, kept "
                f"{_years(periods.after_determination_years)} after it"
            )
    reason += f": erasable from {eligible_on.isoformat()}"
    decision = Decision(facts.complaint_id, Verdict.KEEP, rule, closed_on, eligible_on, reason)
    if today < eligible_on:
        return decision
    return _unless_stopped(facts, decision)


def _closing_rule(kind: str, closed_on: date, periods: RetentionPeriods) -> tuple[Rule, date, str]:
    if kind == ClockEvent.REFUSED.value:
        years = periods.refused_years
        return (
            Rule.REFUSED,
            add_years(closed_on, years),
            f"refused {closed_on.isoformat()}, kept {_years(years)}",
        )
    years = periods.closed_years
    word = "withdrawn" if kind == ClockEvent.WITHDRAWN.value else "closed"
    return Rule.CLOSED, add_years(closed_on, years), f"{word} {closed_on.isoformat()}, kept {_years(years)}"


def _unless_stopped(facts: CaseFacts, due: Decision) -> Decision:
    """A due case: erased, unless held or blocked (``stopped_by`` says why)."""
    if facts.legal_hold:
        return replace(due, verdict=Verdict.HELD, stopped_by=facts.legal_hold)
    if facts.running_clocks:
        why = f"clock still running: {', '.join(facts.running_clocks)}"
        return replace(due, verdict=Verdict.BLOCKED, stopped_by=why)
    if facts.unsent_mails:
        why = f"{facts.unsent_mails} mail(s) of the case not yet sent"
        return replace(due, verdict=Verdict.BLOCKED, stopped_by=why)
    return replace(due, verdict=Verdict.ERASE)


def _years(years: int) -> str:
    return f"{years} year{'s' if years != 1 else ''}"
