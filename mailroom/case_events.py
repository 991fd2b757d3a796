"""Staff record the steps that start, move and stop the Code's clocks
(acknowledgement sent, extension, response, escalation, remedies promised and
delivered, the case closed...) until letters (issue 4) record them.

Each step is checked against the case before it is written, and the case's
stored clocks are recomputed in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from mailroom.clock import LONDON
from mailroom.deadline_store import compute, refresh_case
from mailroom.domain.case_steps import ClockEvent as ClockEvent
from mailroom.errors import UserError
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint


class CaseEventError(UserError):
    pass


# Each names its own clock: these may happen many times on one case.
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
# The case is finished with: no clock on it reminds anyone.
ENDING = {ClockEvent.REFUSED: "refused", ClockEvent.CLOSED: "closed"}


@dataclass(frozen=True)
class EventDetails:
    note: str = ""
    by: str = ""
    until: date | None = None  # extensions, remedies, actions: the date promised
    good_reason: str = ""  # an extension beyond the Code's cap (6.4, 6.15)
    ref: int | None = None  # completions: the event id of the promise
    what: str = ""  # remedies and actions: what will be done


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
    if at < complaint.received_at:
        raise CaseEventError(f"{event.value} at {at.isoformat()} is before the complaint was received")
    kinds = [existing.kind for existing in repo.events_of_case(complaint_id)]
    if event not in REPEATABLE and event.value in kinds:
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
    _apply_status(complaint, event)
    refresh_case(services, repo, complaint_id)
    return event_id


def _apply_status(complaint: Complaint, event: ClockEvent) -> None:
    if event in ENDING:
        complaint.status = ENDING[event]
    elif event == ClockEvent.ESCALATION_REQUESTED:
        complaint.status, complaint.stage = "open", 2  # a closed stage 1 case reopens at stage 2


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
    return payload


def _promise(repo: Repository, complaint: Complaint, event: ClockEvent, ref: int | None) -> int:
    starts = {
        ClockEvent.REMEDY_COMPLETED: ClockEvent.REMEDY_PROMISED,
        ClockEvent.ACTION_COMPLETED: ClockEvent.ACTION_PROMISED,
        ClockEvent.MP_ENQUIRY_ANSWERED: ClockEvent.MP_ENQUIRY_RECEIVED,
    }[event]
    events = repo.events_of_case(complaint.id)
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
    if "ref" in payload:
        parts.append(f"completes event {payload['ref']}")
    return "; ".join(parts)
