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
from mailroom.domain.procedure import Procedure, ProcedureError, load_procedure
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
    procedure: Procedure | None = None  # None: a pack without [procedure] takes steps in any order


def load_rule_pack(
    text: str, policy: Mapping[str, int] | None = None, landlord: Mapping[str, int] | None = None
) -> RulePack:
    """Parse a rule pack; ``policy`` maps clock names to a landlord's own (stricter) limits
    (``policy.clocks``); ``landlord`` holds the timescales of the landlord's policy file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"rule pack is not valid TOML: {exc}") from None
    clocks = [_clock(name, body) for name, body in dict(data.get("clocks", {})).items()]
    if not clocks:
        raise RulePackError("rule pack defines no [clocks.*]")
    try:
        procedure = load_procedure(data, [clock.name for clock in clocks])
    except ProcedureError as exc:
        raise RulePackError(str(exc)) from None
    _check_steps(clocks, procedure)
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
    by_name = stricter_timescales(by_name, landlord or {})
    return RulePack(str(data.get("code", "")), tuple(by_name.values()), procedure)


def stricter_timescales(
    clocks: Mapping[str, ClockRule], timescales: Mapping[str, int]
) -> dict[str, ClockRule]:
    """The clocks with a landlord policy file's timescales applied where they are stricter.

    ``<clock>`` shortens a counted clock; ``<stage>_extension`` lowers the extension cap
    of ``<stage>_response``. A laxer value, or one for a clock the pack does not run,
    changes nothing here: the Code's limit keeps running and ``rules check`` reports the
    conflict (``mailroom/domain/policy.py``). Stopping mailroom over the landlord's
    document would stop mail intake, and would not make any clock more truthful.
    """
    found = dict(clocks)
    for name, days in timescales.items():
        if name.endswith("_extension"):
            response = found.get(name.removesuffix("_extension") + "_response")
            cap = None if response is None else response.extension_cap
            if response is not None and cap is not None and days < cap:
                found[response.name] = ClockRule(**{**response.__dict__, "extension_cap": days})
            continue
        clock = found.get(name)
        if clock is not None and clock.due_from is None and days < clock.working_days:
            found[name] = ClockRule(**{**clock.__dict__, "working_days": days})
    return found


def _check_steps(clocks: Sequence[ClockRule], procedure: Procedure | None) -> None:
    """Every step a clock counts from must be a step of the procedure, or it could never be recorded."""
    if procedure is None:
        return
    for clock in clocks:
        for key in ("starts", "stops", "extended_by"):
            event = getattr(clock, key)
            if event not in (None, procedure.initial) and event not in procedure.steps:
                raise RulePackError(f"clocks.{clock.name}.{key}: {event} is not a step of [procedure.events]")


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
    OVERDUE = "overdue"  # lapsed and not met (also after a late extension: the breach stands)
    MET = "met"  # the stopping event came in time
    MISSED = "missed"  # the stopping event came late, or a deadline was missed on the way
    ENDED = "ended"  # stopped in time by a step that ends it unmet (refused, withdrawn...)


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
    # When a due date of this clock first lapsed unmet (None: not missed, as of now).
    # A late extension moves ``due`` but never this: the breach stays for reporting (CH02).
    missed_at: datetime | None = None
    ended_by: str = ""  # the step that stopped it unmet ("withdrawn"); "" when met or running

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
    """Every clock of the pack that has started on this case, with its state at ``now``.

    ``events`` are the case's steps that count: corrected ones left out by the caller."""
    ordered = sorted(events, key=lambda event: event.at)
    found = []
    for clock in pack.clocks:
        enders = pack.procedure.ending(clock.name) if pack.procedure else frozenset()
        starts = [event for event in ordered if event.kind == clock.starts]
        for start in starts if clock.repeatable else starts[:1]:
            if clock.repeatable:
                name = f"{clock.name}#{start.ref}"
                meets = [e for e in ordered if e.kind == clock.stops and e.data.get("ref") == str(start.ref)]
            else:
                name = clock.name
                meets = [e for e in ordered if e.kind == clock.stops and e.at >= start.at]
            ends = [e for e in ordered if e.kind in enders and e.at >= start.at]
            stop = min([*meets[:1], *ends[:1]], key=lambda e: e.at, default=None)
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
    original_due, cap_date, missed_at = None, None, None
    if clock.extension_cap is not None:
        cap_date = calendar.add_working_days(due, clock.extension_cap)
    if clock.extended_by is not None:
        # Each extension recorded while the clock ran moves the due date; one recorded
        # after the current due date lapsed moves it too, but the lapse stays missed.
        extensions = [
            e
            for e in ordered
            if e.kind == clock.extended_by
            and "until" in e.data
            and e.at >= start.at
            and (stop is None or e.at <= stop.at)
        ]
        for extension in extensions:
            lapse = calendar.deadline_instant(due)
            if missed_at is None and extension.at >= lapse:
                missed_at = lapse
            original_due = original_due or due
            due = date.fromisoformat(extension.data["until"])
    lapses_at = calendar.deadline_instant(due)
    if missed_at is None and (stop.at if stop else now) >= lapses_at:
        missed_at = lapses_at
    ended_by = stop.kind if stop is not None and stop.kind != clock.stops else ""
    return Deadline(
        name,
        clock.paragraph,
        clock.title,
        start.at,
        due,
        lapses_at,
        deadline_state(stop.at if stop else None, lapses_at, due, calendar, now, soon, missed_at, ended_by),
        calendar.version,
        stop.at if stop else None,
        original_due,
        cap_date,
        start.data.get("what", ""),
        missed_at,
        ended_by,
    )


def deadline_state(
    stopped_at: datetime | None,
    lapses_at: datetime,
    due: date,
    calendar: Calendar,
    now: datetime,
    soon: int,
    missed_at: datetime | None = None,
    ended_by: str = "",
) -> DeadlineState:
    """A clock's state at ``now`` (also for a stored deadline row). Once missed, a clock
    is never met: a late extension leaves it overdue until it stops, then missed."""
    missed = missed_at is not None and missed_at <= now
    if stopped_at is not None:
        if missed or stopped_at >= lapses_at:
            return DeadlineState.MISSED
        return DeadlineState.ENDED if ended_by else DeadlineState.MET
    if missed or now >= lapses_at:
        return DeadlineState.OVERDUE
    today = now.astimezone(LONDON).date()
    if today >= due or calendar.working_days_between(today, due) <= soon:
        return DeadlineState.DUE_SOON
    return DeadlineState.DUE
