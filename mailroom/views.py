"""Rows → the JSON objects the CLI prints (the contract in docs/cli.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from mailroom.clock import LONDON

if TYPE_CHECKING:
    from mailroom.domain.deadlines import Deadline
    from mailroom.store.repository import Repository
    from mailroom.store.schema import Complaint


class MailLike(Protocol):
    """A mail row: ``schema.Mail`` or the listing reader's ``MailRow``."""

    @property
    def id(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def complaint_id(self) -> str | None: ...
    @property
    def message_id(self) -> str: ...
    @property
    def from_email(self) -> str: ...
    @property
    def from_name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def storage_path(self) -> str: ...
    @property
    def duplicate_of(self) -> int | None: ...
    @property
    def triage_open(self) -> bool: ...
    @property
    def attempts(self) -> int: ...


class ComplaintLike(Protocol):
    """A complaint row: ``schema.Complaint`` or the listing reader's ``ComplaintRow``."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def stage(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def complainant_name(self) -> str: ...
    @property
    def complainant_email(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def flags(self) -> str: ...
    @property
    def officer(self) -> str: ...


def iso(instant: datetime) -> str:
    """ISO 8601 with the UK offset of the day (GMT +00:00 or BST +01:00), exactly as
    ``instant.astimezone(LONDON).isoformat()`` writes it.

    A listing writes thousands of these: the UK date, hour and offset are worked out
    once per UTC hour (the clocks change on the hour, 01:00 UTC) and the minutes and
    seconds written by hand, a fifth of the cost."""
    if instant.tzinfo is None:  # never from the store; kept to the stdlib's meaning
        return instant.astimezone(LONDON).isoformat()
    utc = instant.astimezone(UTC) if instant.utcoffset() else instant
    key = (utc.year, utc.month, utc.day, utc.hour)
    hour = _LONDON_HOURS.get(key)
    if hour is None:
        local = datetime(*key, tzinfo=UTC).astimezone(LONDON).isoformat()  # "YYYY-MM-DDTHH:00:00+01:00"
        hour = _LONDON_HOURS.setdefault(key, (local[:13], local[19:]))
    micro = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return f"{hour[0]}:{utc.minute:02d}:{utc.second:02d}{micro}{hour[1]}"


_LONDON_HOURS: dict[tuple[int, int, int, int], tuple[str, str]] = {}


def mail_view(mail: MailLike) -> dict[str, Any]:
    return {
        "id": mail.id,
        "outcome": mail.outcome,
        "rule": mail.rule,
        "reason": mail.reason,
        "complaint_id": mail.complaint_id,
        "message_id": mail.message_id or None,
        "from": mail.from_email or None,
        "from_name": mail.from_name or None,
        "subject": mail.subject,
        "received_at": iso(mail.received_at),
        "sha256": mail.sha256,
        "size": mail.size,
        "path": mail.storage_path,
        "duplicate_of": mail.duplicate_of,
        "triage_open": mail.triage_open,
        "attempts": mail.attempts,
    }


def complaint_summary(complaint: ComplaintLike) -> dict[str, Any]:
    return {
        "id": complaint.id,
        "status": complaint.status,
        "stage": complaint.stage,
        "channel": complaint.channel,
        "received_at": iso(complaint.received_at),
        "complainant": {"name": complaint.complainant_name, "email": complaint.complainant_email or None},
        "subject": complaint.subject,
        "flags": [flag for flag in complaint.flags.split(",") if flag],
        "officer": complaint.officer or None,
    }


def deadline_view(deadline: Deadline) -> dict[str, Any]:
    return {
        "clock": deadline.clock,
        "paragraph": deadline.paragraph,
        "title": deadline.title,
        "started_at": iso(deadline.started_at),
        "due": deadline.due.isoformat(),
        "lapses_at": iso(deadline.lapses_at),
        "state": deadline.state.value,
        "met_at": iso(deadline.stopped_at) if deadline.stopped_at else None,
        "calendar_version": deadline.calendar_version,
        "extended_from": deadline.original_due.isoformat() if deadline.original_due else None,
        "extension_limit": deadline.extension_cap_date.isoformat() if deadline.extension_cap_date else None,
        "what": deadline.what or None,
        "missed_at": iso(deadline.missed_at) if deadline.missed_at else None,
        "ended_by": deadline.ended_by or None,
    }


def clocks_error(complaint: ComplaintLike, deadlines: list[Deadline]) -> str | None:
    """Why a complaint has no Code clocks, or None. Every complaint has them
    from receipt; none means no reminder will ever fire for it, so this is an
    error a person must see (a receipt time outside the working-day calendar)."""
    if deadlines:
        return None
    received = complaint.received_at.astimezone(LONDON).date().isoformat()
    return (
        f"no Code clocks: received {received}, outside the working-day calendar; "
        "no deadline or reminder will run for this case"
    )


def complaint_detail(repo: Repository, complaint: Complaint, deadlines: list[Deadline]) -> dict[str, Any]:
    return {
        **complaint_summary(complaint),
        "error": clocks_error(complaint, deadlines),
        "deadlines": [deadline_view(deadline) for deadline in deadlines],
        "description": complaint.description,
        "contact": {
            "prefers": complaint.contact_preference,
            "postal_address": complaint.postal_address or None,
            # Reasonable adjustments (3.1, 5.10; mailroom/adjustments.py).
            "letter_format": complaint.letter_format or "standard",
            "language_note": complaint.language_note or None,
        },
        # For the reports (docs/reports.md): set or confirmed by staff (``by``), or only
        # suggested by the keyword rules, which the figures never count.
        "category": {
            "value": complaint.category or None,
            "suggested": complaint.category_suggested or None,
            "by": complaint.category_by or None,
        },
        "parties": [
            {"email": party.email, "name": party.name, "role": party.role}
            for party in repo.parties(complaint.id)
        ],
        "documents": [
            {
                "kind": document.kind,
                "path": document.path,
                "sha256": document.sha256,
                "size": document.size,
                "original_name": document.original_name or None,
                "mail_id": document.mail_id,
            }
            for document in repo.documents_of_case(complaint.id)
        ],
        "events": [
            {
                "id": event.id,
                "at": iso(event.at),
                "kind": event.kind,
                "detail": event.detail,
                "data": json.loads(event.payload) if event.payload else None,
            }
            for event in repo.events_of_case(complaint.id)
        ],
    }
