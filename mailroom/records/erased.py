"""A case retention has erased keeps only what the figures need (docs/records.md,
"Retention"): nothing more may be recorded on it, drafted for it or filed on it."""

from __future__ import annotations

from mailroom.store.schema import Complaint


def erased_refusal(complaint: Complaint) -> str | None:
    """Why nothing more can be done on ``complaint``, or None while it is not erased."""
    if complaint.erased_at is None:
        return None
    return f"{complaint.id} was erased on {complaint.erased_at.date().isoformat()} (retention)"
