"""Staff record the steps that start and stop the Code's clocks (acknowledgement
sent, response sent, escalation requested...) until letters record them."""

from __future__ import annotations

import enum
from datetime import datetime

from mailroom.services import Services


class CaseEventError(Exception):
    pass


class ClockEvent(enum.StrEnum):
    STAGE1_ACKNOWLEDGED = "stage1_acknowledged"
    STAGE1_RESPONDED = "stage1_responded"
    ESCALATION_REQUESTED = "escalation_requested"
    STAGE2_ACKNOWLEDGED = "stage2_acknowledged"
    STAGE2_RESPONDED = "stage2_responded"


def record_event(
    services: Services, complaint_id: str, event: ClockEvent, at: datetime, note: str = "", by: str = ""
) -> None:
    now = services.clock.now()
    if at.tzinfo is None:
        raise CaseEventError("the time needs a time zone")
    if at > now:
        raise CaseEventError(f"{event.value} at {at.isoformat()} is in the future")
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise CaseEventError(f"no complaint {complaint_id}")
        if at < complaint.received_at:
            raise CaseEventError(f"{event.value} at {at.isoformat()} is before the complaint was received")
        if any(existing.kind == event.value for existing in repo.events_of_case(complaint_id)):
            raise CaseEventError(f"{complaint_id} already has {event.value}")
        detail = " ".join(part for part in (f"recorded by {by}" if by else "", note) if part)
        repo.add_event(at, event.value, detail, complaint_id=complaint_id)
