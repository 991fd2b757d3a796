"""Code deadlines as pure functions of a case's events, the rule pack, a working
calendar and ``now``.

A clock (``rules/housing-ombudsman-2024.toml``) starts at one event on the case and stops at
another; its due date is N working days from the start (docs/working-days.md);
it lapses at the end of that day, UK time. Nothing here reads a clock, a file or
a database: callers pass all of it in.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol

from mailroom.clock import LONDON
from mailroom.errors import UserError


class RulePackError(UserError):
    """The rule pack or a policy override is invalid. One line naming the key."""

    exit_code = 2


@dataclass(frozen=True)
class ClockRule:
    name: str
    paragraph: str
    title: str
    starts: str  # the event kind that starts it ("received", "stage1_acknowledged", ...)
    stops: str  # the event kind that meets it
    working_days: int  # 0 when the start event carries the date (``due_from``)
    extension_cap: int | None = None
    extended_by: str | None = None  # the event kind that moves the due date (6.4, 6.15)
    due_from: str | None = None  # "until": the due date is given by the start event (7.3, 6.6)
    repeatable: bool = False  # each start event runs its own clock ("remedy#42")


@dataclass(frozen=True)
class RulePack:
    code: str
    clocks: tuple[ClockRule, ...]


def load_rule_pack(text: str, policy: Mapping[str, int] | None = None) -> RulePack:
    """Parse a rule pack; ``policy`` maps clock names to a landlord's own (stricter) limits."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"rule pack is not valid TOML: {exc}") from None
    clocks = [_clock(name, body) for name, body in dict(data.get("clocks", {})).items()]
    if not clocks:
        raise RulePackError("rule pack defines no [clocks.*]")
    by_name = {clock.name: clock for clock in clocks}
    for name, days in (policy or {}).items():
        clock = by_name.get(name)
        if clock is None:
            raise RulePackError(f"policy.clocks.{name}: no such clock (known: {', '.join(by_name)})")
        if not isinstance(days, int) or days < 1:
            raise RulePackError(f"policy.clocks.{name}: must be a positive number of working days")
        if clock.due_from is not None:
            raise RulePackError(f"policy.clocks.{name}: its date is set on the case, not counted")
        if days > clock.working_days:
            raise RulePackError(
                f"policy.clocks.{name}: {days} working days is laxer than the Code's "
                f"{clock.working_days} ({clock.paragraph}); a policy may only be stricter"
            )
        by_name[name] = ClockRule(**{**clock.__dict__, "working_days": days})
    return RulePack(str(data.get("code", "")), tuple(by_name.values()))


def _clock(name: str, body: Any) -> ClockRule:
    if not isinstance(body, dict):
        raise RulePackError(f"clocks.{name}: must be a table")
    try:
        rule = ClockRule(
            name=name,
            paragraph=str(body["paragraph"]),
            title=str(body["title"]),
            starts=str(body["starts"]),
            stops=str(body["stops"]),
            working_days=int(body.get("working_days", 0) if "due_from" in body else body["working_days"]),
            extension_cap=int(body["extension_cap"]) if "extension_cap" in body else None,
            extended_by=str(body["extended_by"]) if "extended_by" in body else None,
            due_from=str(body["due_from"]) if "due_from" in body else None,
            repeatable=bool(body.get("repeatable", False)),
        )
    except KeyError as exc:
        raise RulePackError(f"clocks.{name}: missing {exc.args[0]}") from None
    except (TypeError, ValueError):
        raise RulePackError(f"clocks.{name}: working_days and extension_cap must be whole numbers") from None
    if rule.due_from not in (None, "until"):
        raise RulePackError(f'clocks.{name}.due_from: must be "until" (the date the start event gives)')
    if rule.working_days < 1 and rule.due_from is None:
        raise RulePackError(f"clocks.{name}.working_days: must be at least 1")
    return rule


class Calendar(Protocol):
    """What the deadline rules need of a working calendar (mailroom/domain/calendar.py)."""

    @property
    def version(self) -> str: ...

    def due_date(self, event_at: datetime, working_days: int, cutoff: time | None) -> date: ...

    def add_working_days(self, start: date, n: int) -> date: ...

    def deadline_instant(self, d: date) -> datetime: ...

    def working_days_between(self, a: date, b: date) -> int: ...


class DeadlineState(enum.StrEnum):
    DUE = "due"
    DUE_SOON = "due_soon"  # at most ``soon`` working days left
    OVERDUE = "overdue"  # lapsed and not met
    MET = "met"  # the stopping event came in time
    MISSED = "missed"  # the stopping event came, late


@dataclass(frozen=True)
class CaseEvent:
    kind: str
    at: datetime  # aware
    ref: int | None = None  # the event's id, for events that refer to it ("remedy_completed")
    data: Mapping[str, str] = field(default_factory=dict)  # "until", "ref", "good_reason"...


@dataclass(frozen=True)
class Deadline:
    clock: str
    paragraph: str
    title: str
    started_at: datetime
    due: date  # the last working day, UK
    lapses_at: datetime  # end of ``due`` in Europe/London, as a UTC instant
    state: DeadlineState
    calendar_version: str
    stopped_at: datetime | None = None
    original_due: date | None = None  # before an extension; None = not extended
    extension_cap_date: date | None = None  # the latest date an extension may give without good reason
    what: str = ""  # a remedy's or action's description

    @property
    def running(self) -> bool:
        return self.stopped_at is None


def case_deadlines(
    events: Sequence[CaseEvent],
    pack: RulePack,
    calendar: Calendar,
    now: datetime,
    cutoff: time | None = None,
    soon: int = 2,
) -> list[Deadline]:
    """Every clock of the pack that has started on this case, with its state at ``now``."""
    ordered = sorted(events, key=lambda event: event.at)
    found = []
    for clock in pack.clocks:
        starts = [event for event in ordered if event.kind == clock.starts]
        for start in starts if clock.repeatable else starts[:1]:
            if clock.repeatable:
                name = f"{clock.name}#{start.ref}"
                stop = next(
                    (e for e in ordered if e.kind == clock.stops and e.data.get("ref") == str(start.ref)),
                    None,
                )
            else:
                name = clock.name
                stop = next((e for e in ordered if e.kind == clock.stops and e.at >= start.at), None)
            found.append(_deadline(name, clock, start, stop, ordered, calendar, now, cutoff, soon))
    return found


def _deadline(
    name: str,
    clock: ClockRule,
    start: CaseEvent,
    stop: CaseEvent | None,
    ordered: Sequence[CaseEvent],
    calendar: Calendar,
    now: datetime,
    cutoff: time | None,
    soon: int,
) -> Deadline:
    if clock.due_from == "until":
        due = date.fromisoformat(start.data["until"])
    else:
        due = calendar.due_date(start.at, clock.working_days, cutoff)
    original_due, cap_date = None, None
    if clock.extension_cap is not None:
        cap_date = calendar.add_working_days(due, clock.extension_cap)
    if clock.extended_by is not None:
        # The latest extension recorded while the clock ran moves the due date.
        extensions = [
            e
            for e in ordered
            if e.kind == clock.extended_by and e.at >= start.at and (stop is None or e.at <= stop.at)
        ]
        if extensions and "until" in extensions[-1].data:
            original_due, due = due, date.fromisoformat(extensions[-1].data["until"])
    lapses_at = calendar.deadline_instant(due)
    return Deadline(
        name,
        clock.paragraph,
        clock.title,
        start.at,
        due,
        lapses_at,
        deadline_state(stop.at if stop else None, lapses_at, due, calendar, now, soon),
        calendar.version,
        stop.at if stop else None,
        original_due,
        cap_date,
        start.data.get("what", ""),
    )


def deadline_state(
    stopped_at: datetime | None, lapses_at: datetime, due: date, calendar: Calendar, now: datetime, soon: int
) -> DeadlineState:
    """A clock's state at ``now`` (also for a stored deadline row)."""
    if stopped_at is not None:
        return DeadlineState.MET if stopped_at < lapses_at else DeadlineState.MISSED
    if now >= lapses_at:
        return DeadlineState.OVERDUE
    today = now.astimezone(LONDON).date()
    if today >= due or calendar.working_days_between(today, due) <= soon:
        return DeadlineState.DUE_SOON
    return DeadlineState.DUE
