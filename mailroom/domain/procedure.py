"""The complaint procedure as data: the states a case passes through and, for each
step staff record, the states it may come from, where it leads and the clocks it ends.

Read from a rule pack's ``[procedure]`` (``rules/housing-ombudsman-2024.toml``). A
case's position is never stored on its own: it is replayed from the case's steps,
so a corrected step (``mailroom/case_events.py``) simply drops out of the replay.
Pure: no clock, file or database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mailroom.errors import UserError


class ProcedureError(UserError):
    """The pack's ``[procedure]`` is invalid. One line naming the key."""

    exit_code = 2


ANY = "*"  # ``from = ["*"]``: the step fits in every state (an MP enquiry, a completed remedy)
KEEP = 0  # a state's ``stage = 0``: the case keeps the stage it was at (closed, withdrawn)


@dataclass(frozen=True)
class StateRule:
    name: str
    stage: int  # the stage a case in this state is at; KEEP: the stage it came from
    status: str  # the complaint's status column in this state ("open", "closed"...)


@dataclass(frozen=True)
class StepRule:
    event: str
    sources: frozenset[str]  # states it may come from; contains ANY for every state
    target: str | None  # the state it leads to; None: the case stays where it is
    at_stage: int | None  # the case must be at this stage (a closed case escalates from stage 1 only)
    after: str | None  # a state the case must have passed through (a stage 1 response)
    ends: tuple[str, ...]  # clocks it stops without meeting them (refused, withdrawn...)

    def fits(self, position: Position) -> bool:
        from_ok = ANY in self.sources or position.state in self.sources
        stage_ok = self.at_stage is None or position.stage == self.at_stage
        return from_ok and stage_ok and (self.after is None or self.after in position.visited)


@dataclass(frozen=True)
class Position:
    state: str
    stage: int
    visited: frozenset[str] = frozenset()  # every state the case has been in, this one too


@dataclass(frozen=True)
class Procedure:
    initial: str
    states: Mapping[str, StateRule]  # in pack order
    steps: Mapping[str, StepRule]  # in pack order

    def start(self) -> Position:
        return Position(self.initial, self.states[self.initial].stage or 1, frozenset({self.initial}))

    def allowed(self, position: Position) -> tuple[str, ...]:
        """The steps that fit next, in pack order."""
        return tuple(name for name, step in self.steps.items() if step.fits(position))

    def fits(self, position: Position, event: str) -> bool:
        """Whether ``event`` may be recorded now; a kind the procedure does not name
        (a mail filed, a letter sent) is not a procedure step and always fits."""
        step = self.steps.get(event)
        return step is None or step.fits(position)

    def advance(self, position: Position, event: str) -> Position:
        """Where ``event`` leads, whether or not it fits: replaying an old case whose
        steps were recorded before the procedure was enforced must still give a position."""
        step = self.steps.get(event)
        if step is None or step.target is None:
            return position
        stage = self.states[step.target].stage
        return Position(
            step.target, position.stage if stage == KEEP else stage, position.visited | {step.target}
        )

    def replay(self, events: Iterable[tuple[int | None, str]]) -> tuple[Position, tuple[int | None, ...]]:
        """The position after ``(id, kind)`` events in order, and the ids of those that did not fit."""
        position, misfits = self.start(), []
        for event_id, kind in events:
            if not self.fits(position, kind):
                misfits.append(event_id)
            position = self.advance(position, kind)
        return position, tuple(misfits)

    def refusal(self, position: Position, event: str) -> str:
        """The one line that refuses ``event`` in ``position``."""
        allowed = ", ".join(self.allowed(position)) or "none"
        where = position.state.replace("_", " ")
        stage = f" (stage {position.stage})" if self.states[position.state].stage == KEEP else ""
        return f"{event} does not fit: the case is {where}{stage}; allowed next: {allowed}"

    def ending(self, clock: str) -> frozenset[str]:
        """The steps that stop ``clock`` without meeting it."""
        return frozenset(name for name, step in self.steps.items() if clock in step.ends)


def load_procedure(data: Mapping[str, Any], clocks: Sequence[str]) -> Procedure | None:
    """``[procedure]`` of a parsed rule pack, checked against its clock names; None when absent."""
    body = data.get("procedure")
    if body is None:
        return None
    if not isinstance(body, dict):
        raise ProcedureError("procedure: must be a table ([procedure])")
    states = _states(body.get("states"))
    initial = body.get("initial")
    if initial not in states:
        raise ProcedureError(f"procedure.initial: must name a state (known: {', '.join(states)})")
    steps = _steps(body.get("events"), states, clocks)
    return Procedure(str(initial), MappingProxyType(states), MappingProxyType(steps))


def _states(body: Any) -> dict[str, StateRule]:
    if not isinstance(body, dict) or not body:
        raise ProcedureError("procedure.states: must be a table of states")
    found = {}
    for name, rule in body.items():
        where = f"procedure.states.{name}"
        if not isinstance(rule, dict):
            raise ProcedureError(f"{where}: must be a table (stage, status)")
        stage, status = rule.get("stage", KEEP), rule.get("status")
        if not isinstance(stage, int) or isinstance(stage, bool) or stage < KEEP:
            raise ProcedureError(f"{where}.stage: must be a stage number (0: keeps the stage it came from)")
        if not isinstance(status, str) or not status:
            raise ProcedureError(f"{where}.status: must be the complaint status in this state")
        found[name] = StateRule(name, stage, status)
    return found


def _steps(body: Any, states: Mapping[str, StateRule], clocks: Sequence[str]) -> dict[str, StepRule]:
    if not isinstance(body, dict) or not body:
        raise ProcedureError("procedure.events: must be a table of steps")
    found = {}
    for event, rule in body.items():
        where = f"procedure.events.{event}"
        if not isinstance(rule, dict):
            raise ProcedureError(f"{where}: must be a table (from, to, ends)")
        sources = rule.get("from")
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
            raise ProcedureError(f'{where}.from: must list the states it may come from (or ["*"])')
        unknown = [s for s in sources if s != ANY and s not in states]
        target = rule.get("to")
        if target is not None and target not in states:
            unknown.append(str(target))
        if unknown:
            raise ProcedureError(f"{where}: unknown state {unknown[0]} (known: {', '.join(states)})")
        ends = rule.get("ends", [])
        if not isinstance(ends, list) or any(name not in clocks for name in ends):
            raise ProcedureError(f"{where}.ends: must list clocks of the pack (known: {', '.join(clocks)})")
        at_stage = rule.get("stage")
        if at_stage is not None and (not isinstance(at_stage, int) or isinstance(at_stage, bool)):
            raise ProcedureError(f"{where}.stage: must be a stage number")
        after = rule.get("after")
        if after is not None and after not in states:
            raise ProcedureError(f"{where}.after: must name a state (known: {', '.join(states)})")
        found[event] = StepRule(event, frozenset(sources), target, at_stage, after, tuple(ends))
    return found
