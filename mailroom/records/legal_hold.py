"""Legal holds: a case that must be kept whatever its retention period (a claim, a
disclosure request, the Ombudsman asking again). A held case is listed by
``retention plan`` with the hold's reason and never erased; releasing the hold lets
the retention rules apply again. Setting and releasing are on the audit trail.
"""

from __future__ import annotations

from mailroom.accounts.audit import Actor, record
from mailroom.errors import UserError
from mailroom.records.retention_store import locked_complaint
from mailroom.services import Services

MAX_REASON = 2000  # characters: a sentence or two, bounded
HOLD, RELEASE = "case.hold", "case.release_hold"  # audit_log actions


class HoldError(UserError):
    """A hold that cannot be set or released; the message is one line."""


def set_hold(services: Services, complaint_id: str, reason: str, by: Actor) -> None:
    """Put ``complaint_id`` on hold for ``reason`` (one line, required)."""
    reason = " ".join(reason.split())
    if not reason:
        raise HoldError("a legal hold needs --reason: why the case must be kept")
    if len(reason) > MAX_REASON:
        raise HoldError(f"the reason is {len(reason)} characters; at most {MAX_REASON}")
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = locked_complaint(repo.session, complaint_id)  # an erasure running now finishes first
        if complaint is None:
            raise HoldError(f"no complaint {complaint_id}")
        if complaint.erased_at is not None:
            raise HoldError(f"{complaint_id} was erased on {complaint.erased_at.date().isoformat()}")
        if complaint.legal_hold:
            since = complaint.legal_hold_at.isoformat() if complaint.legal_hold_at else "?"
            raise HoldError(
                f"{complaint_id} is already on hold (since {since}, by {complaint.legal_hold_by or '?'}: "
                f"{complaint.legal_hold}); release it first to change the reason"
            )
        complaint.legal_hold, complaint.legal_hold_by, complaint.legal_hold_at = reason, by.email[:320], now
        record(
            repo.session,
            now,
            by,
            HOLD,
            complaint_id=complaint_id,
            target=f"case {complaint_id}",
            detail=reason,
        )


def release_hold(services: Services, complaint_id: str, by: Actor) -> str:
    """Release the hold on ``complaint_id``; returns the reason it had."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = locked_complaint(repo.session, complaint_id)
        if complaint is None:
            raise HoldError(f"no complaint {complaint_id}")
        if not complaint.legal_hold:
            raise HoldError(f"{complaint_id} is not on hold")
        reason = complaint.legal_hold
        complaint.legal_hold, complaint.legal_hold_by, complaint.legal_hold_at = "", "", None
        record(
            repo.session,
            now,
            by,
            RELEASE,
            complaint_id=complaint_id,
            target=f"case {complaint_id}",
            detail=reason,
        )
        return reason
