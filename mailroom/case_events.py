"""Staff record the steps that start, move and stop the Code's clocks
(acknowledgement sent, extension, response, escalation, remedies promised and
delivered, the case withdrawn or closed...), and issued letters record theirs.

Each step is checked against the procedure (``[procedure]`` of the rule pack,
``mailroom/domain/procedure.py``) at its place on the case's timeline and against
the case's clocks before it is written; the case's status, stage and stored
clocks are recomputed in the same transaction. A wrong step is corrected, never
deleted: ``correct_event`` adds a correction naming it, and both stay on the
audit trail while the corrected step stops counting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from mailroom.clock import LONDON
from mailroom.deadline_store import compute, corrected_ref, live_events, refresh_case
from mailroom.domain.case_steps import CORRECTED
from mailroom.domain.case_steps import ClockEvent as ClockEvent
from mailroom.domain.procedure import Position, Procedure
from mailroom.errors import UserError
from mailroom.records.erased import erased_refusal
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, Event


class CaseEventError(UserError):
    pass


# Each names its own clock: these may happen many times on one case (the duplicate
# check for packs without a [procedure]; with one, the procedure decides).
REPEATABLE = {
    ClockEvent.STAGE1_EXTENDED,
    ClockEvent.STAGE2_EXTENDED,
    ClockEvent.REMEDY_PROMISED,
    ClockEvent.REMEDY_COMPLETED,
    ClockEvent.ACTION_PROMISED,
    ClockEvent.ACTION_COMPLETED,
    ClockEvent.MP_ENQUIRY_RECEIVED,
    ClockEvent.MP_ENQUIRY_ANSWERED,
}
# Without a [procedure]: the case is finished with, no clock on it reminds anyone.
ENDING = {ClockEvent.REFUSED: "refused", ClockEvent.WITHDRAWN: "withdrawn", ClockEvent.CLOSED: "closed"}


@dataclass(frozen=True)
class EventDetails:
    note: str = ""
    by: str = ""
    until: date | None = None  # extensions, remedies, actions: the date promised
    good_reason: str = ""  # an extension beyond the Code's cap (6.4, 6.15)
    ref: int | None = None  # completions: the event id of the promise
    what: str = ""  # remedies and actions: what will be done
    late_reason: str = ""  # an extension recorded after the clock lapsed (kept; the breach stays)


def record_event(
    services: Services,
    complaint_id: str,
    event: ClockEvent,
    at: datetime,
    note: str = "",
    by: str = "",
    details: EventDetails | None = None,
) -> int:
    """Write one step on the case and recompute its clocks; returns the event id."""
    with services.store.transaction() as repo:
        return record_event_in(services, repo, complaint_id, event, at, note, by, details)


def record_event_in(
    services: Services,
    repo: Repository,
    complaint_id: str,
    event: ClockEvent,
    at: datetime,
    note: str = "",
    by: str = "",
    details: EventDetails | None = None,
) -> int:
    """``record_event`` in the caller's transaction (an approved letter records its
    event with the rest of its issue, or nothing at all)."""
    details = replace(details or EventDetails(), note=note or (details.note if details else ""))
    details = replace(details, by=by or details.by)
    now = services.clock.now()
    if at.tzinfo is None:
        raise CaseEventError("the time needs a time zone")
    if at > now:
        raise CaseEventError(f"{event.value} at {at.isoformat()} is in the future")
    complaint = repo.get_complaint(complaint_id)
    if complaint is None:
        raise CaseEventError(f"no complaint {complaint_id}")
    erased = erased_refusal(complaint)
    if erased is not None:
        raise CaseEventError(f"{erased}: nothing more can be recorded on it")
    if at < complaint.received_at:
        raise CaseEventError(f"{event.value} at {at.isoformat()} is before the complaint was received")
    check_step_fits(services, repo, complaint_id, event.value, at)
    kinds = [existing.kind for existing in live_events(repo, complaint_id)]
    if services.rule_pack.procedure is None and event not in REPEATABLE and event.value in kinds:
        raise CaseEventError(f"{complaint_id} already has {event.value}")
    payload = _payload(services, repo, complaint, event, at, details)
    detail = " ".join(
        part
        for part in (f"recorded by {details.by}" if details.by else "", _describe(payload), details.note)
        if part
    )
    event_id = repo.add_event_returning_id(
        at, event.value, detail, complaint_id, json.dumps(payload) if payload else ""
    )
    _apply_status(services, repo, complaint, event)
    refresh_case(services, repo, complaint_id)
    return event_id


# -- the procedure ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseState:
    """Where a case is in the procedure, and the steps that may be recorded next."""

    state: str
    stage: int
    allowed: tuple[str, ...]


def case_state(services: Services, complaint_id: str) -> CaseState | None:
    """The case's position in the procedure; None when the pack has no [procedure]."""
    with services.store.transaction() as repo:
        if repo.get_complaint(complaint_id) is None:
            raise CaseEventError(f"no complaint {complaint_id}")
        procedure = services.rule_pack.procedure
        if procedure is None:
            return None
        position, _ = procedure.replay(_timeline(live_events(repo, complaint_id)))
        return CaseState(position.state, position.stage, procedure.allowed(position))


def check_step_fits(
    services: Services, repo: Repository, complaint_id: str, event: str, at: datetime
) -> None:
    """Refuse, in one line naming the state and the steps allowed next, a step that
    does not fit the case at ``at``, or would put a step recorded after it out of order.
    ``letters approve`` calls it too, before it converts anything."""
    procedure = services.rule_pack.procedure
    if procedure is None:
        return
    events = live_events(repo, complaint_id)
    earlier = [e for e in events if e.at <= at]
    position, _ = procedure.replay(_timeline(earlier))
    if not procedure.fits(position, event):
        # The usual slip is recording a step twice: say so first.
        done = next((e for e in events if e.kind == event), None)
        already = f"{complaint_id} already has {event} (event {done.id}); " if done else f"{complaint_id}: "
        raise CaseEventError(already + procedure.refusal(position, event))
    later = [e for e in events if e.at > at]
    broken = _new_misfits(procedure, events, [*_timeline(earlier), (None, event), *_timeline(later)])
    if broken:
        raise CaseEventError(
            f"{complaint_id}: {event} at {at.isoformat()} does not fit before "
            f"{broken.kind} (event {broken.id}, {broken.at.isoformat()}), recorded after it; "
            f"correct that step first"
        )


def _timeline(events: list[Event]) -> list[tuple[int | None, str]]:
    return [(e.id, e.kind) for e in events]


def _new_misfits(
    procedure: Procedure, events: list[Event], changed: list[tuple[int | None, str]]
) -> Event | None:
    """The first event that fits the case's timeline now but would not in ``changed``."""
    _, before = procedure.replay(_timeline(events))
    _, after = procedure.replay(changed)
    fresh = set(after) - set(before)
    return next((e for e in events if e.id in fresh), None)


def _position(services: Services, repo: Repository, complaint_id: str) -> Position | None:
    procedure = services.rule_pack.procedure
    if procedure is None:
        return None
    return procedure.replay(_timeline(live_events(repo, complaint_id)))[0]


def _apply_status(
    services: Services, repo: Repository, complaint: Complaint, event: ClockEvent | None
) -> None:
    """The complaint's status and stage, replayed from its steps (a correction can move them back)."""
    procedure = services.rule_pack.procedure
    position = _position(services, repo, complaint.id)
    if procedure is not None and position is not None:
        complaint.status = procedure.states[position.state].status
        complaint.stage = position.stage
    elif event in ENDING:
        complaint.status = ENDING[event]
    elif event == ClockEvent.ESCALATION_REQUESTED:
        complaint.status, complaint.stage = "open", 2  # a closed stage 1 case reopens at stage 2


# -- corrections -----------------------------------------------------------------------------


def correct_event(services: Services, complaint_id: str, event_id: int, reason: str, by: str = "") -> int:
    """Correct a wrong step: a correction event naming it is added (both stay on the
    audit trail; nothing is deleted) and the step stops counting for the case's clocks,
    status and stage. Returns the correction's event id."""
    if not reason.strip():
        raise CaseEventError("a correction needs --reason: why the step was wrong")
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise CaseEventError(f"no complaint {complaint_id}")
        events = repo.events_of_case(complaint_id)
        target = next((e for e in events if e.id == event_id), None)
        if target is None:
            raise CaseEventError(f"{complaint_id} has no event {event_id}")
        if target.kind not in {step.value for step in ClockEvent}:
            raise CaseEventError(f"event {event_id} is {target.kind}, not a step; only steps are corrected")
        if any(e.kind == CORRECTED and corrected_ref(e) == event_id for e in events):
            raise CaseEventError(f"event {event_id} ({target.kind}) is already corrected")
        live = live_events(repo, complaint_id)
        _refuse_if_depended_on(live, target)
        procedure = services.rule_pack.procedure
        if procedure is not None:
            broken = _new_misfits(procedure, live, _timeline([e for e in live if e.id != event_id]))
            if broken:
                raise CaseEventError(
                    f"{complaint_id}: without event {event_id} ({target.kind}), {broken.kind} "
                    f"(event {broken.id}) would not fit; correct that step first"
                )
        now = services.clock.now()
        who = f" by {by}" if by else ""
        correction_id = repo.add_event_returning_id(
            now,
            CORRECTED,
            f"event {event_id} ({target.kind} at {target.at.isoformat()}) corrected{who}: {reason.strip()}",
            complaint_id,
            json.dumps({"ref": str(event_id), "reason": reason.strip(), "by": by}),
        )
        _apply_status(services, repo, complaint, None)
        refresh_case(services, repo, complaint_id)
        return correction_id


def complaint_of_event(services: Services, event_id: int) -> str | None:
    """The complaint an event belongs to (for ``cases correct EVENT_ID``), or None."""
    with services.store.transaction() as repo:
        event = repo.session.get(Event, event_id)
        return None if event is None else event.complaint_id


def _refuse_if_depended_on(live: list[Event], target: Event) -> None:
    """A completion names its promise: correcting the promise first would orphan it."""
    for event in live:
        if event.id != target.id and json.loads(event.payload or "{}").get("ref") == str(target.id):
            raise CaseEventError(
                f"event {event.id} ({event.kind}) refers to event {target.id}; correct it first"
            )


def _payload(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    event: ClockEvent,
    at: datetime,
    details: EventDetails,
) -> dict[str, str]:
    if event in (ClockEvent.STAGE1_EXTENDED, ClockEvent.STAGE2_EXTENDED):
        return _extension(services, repo, complaint, event, at, details)
    if event in (ClockEvent.REMEDY_PROMISED, ClockEvent.ACTION_PROMISED):
        if details.until is None or not details.what.strip():
            raise CaseEventError(
                f"{event.value} needs --until DATE and --what (7.3: what will happen, by when)"
            )
        if details.until < at.astimezone(LONDON).date():
            raise CaseEventError(f"{event.value}: --until {details.until.isoformat()} is before {at.date()}")
        return {"until": details.until.isoformat(), "what": details.what.strip()}
    if event in (ClockEvent.REMEDY_COMPLETED, ClockEvent.ACTION_COMPLETED, ClockEvent.MP_ENQUIRY_ANSWERED):
        return {"ref": str(_promise(repo, complaint, event, details.ref))}
    return {}


def _extension(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    event: ClockEvent,
    at: datetime,
    details: EventDetails,
) -> dict[str, str]:
    clock_name = "stage1_response" if event == ClockEvent.STAGE1_EXTENDED else "stage2_response"
    rule = next((c for c in services.rule_pack.clocks if c.extended_by == event.value), None)
    current = next((d for d in compute(services, repo, complaint, at) if d.clock == clock_name), None)
    if rule is None or current is None or not current.running:
        raise CaseEventError(f"{event.value}: the {clock_name} clock is not running on {complaint.id}")
    if details.until is None:
        raise CaseEventError(f"{event.value} needs --until DATE (6.4: the new date is told to the resident)")
    if details.until <= current.due:
        raise CaseEventError(
            f"{event.value}: --until {details.until.isoformat()} is not after the current due date "
            f"{current.due.isoformat()}"
        )
    if not services.calendar.is_working_day(details.until):
        raise CaseEventError(f"{event.value}: --until {details.until.isoformat()} is not a working day")
    late = at >= current.lapses_at
    if late and not details.late_reason.strip():
        raise CaseEventError(
            f"{event.value}: the {clock_name} clock lapsed on {current.due.isoformat()}, before "
            f"{at.isoformat()}; an extension is recorded before the deadline ({rule.paragraph}). "
            "Record --late-reason to record it anyway: the deadline stays missed"
        )
    limit = current.extension_cap_date  # None: the clock has no cap
    if limit is not None and details.until > limit and not details.good_reason.strip():
        raise CaseEventError(
            f"{event.value}: --until {details.until.isoformat()} is beyond {limit.isoformat()}, "
            f"{rule.extension_cap} working days after the original due date ({rule.paragraph}); "
            "record --good-reason to go further"
        )
    payload = {"until": details.until.isoformat()}
    if details.good_reason.strip():
        payload["good_reason"] = details.good_reason.strip()
    if late:
        payload["late_reason"] = details.late_reason.strip()
    return payload


def _promise(repo: Repository, complaint: Complaint, event: ClockEvent, ref: int | None) -> int:
    starts = {
        ClockEvent.REMEDY_COMPLETED: ClockEvent.REMEDY_PROMISED,
        ClockEvent.ACTION_COMPLETED: ClockEvent.ACTION_PROMISED,
        ClockEvent.MP_ENQUIRY_ANSWERED: ClockEvent.MP_ENQUIRY_RECEIVED,
    }[event]
    events = live_events(repo, complaint.id)  # a corrected promise is not open
    open_promises = [
        e.id
        for e in events
        if e.kind == starts.value
        and not any(
            d.kind == event.value and json.loads(d.payload or "{}").get("ref") == str(e.id) for d in events
        )
    ]
    if ref is None and len(open_promises) == 1:
        return open_promises[0]
    if ref is None or ref not in open_promises:
        listed = ", ".join(str(i) for i in open_promises) or "none"
        raise CaseEventError(f"{event.value}: --ref must name an open {starts.value} event (open: {listed})")
    return ref


def _describe(payload: dict[str, str]) -> str:
    parts = []
    if "what" in payload:
        parts.append(payload["what"])
    if "until" in payload:
        parts.append(f"by {payload['until']}")
    if "good_reason" in payload:
        parts.append(f"good reason: {payload['good_reason']}")
    if "late_reason" in payload:
        parts.append(f"recorded after the deadline lapsed: {payload['late_reason']}")
    if "ref" in payload:
        parts.append(f"completes event {payload['ref']}")
    return "; ".join(parts)
