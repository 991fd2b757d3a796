"""What every state-changing view does around its use case: the audit row naming
who did what, and one line for the person (the use case's own words on refusal)."""

from __future__ import annotations

from flask import flash

from mailroom.accounts import audit
from mailroom.desk.auth import actor, services


def audited(action: str, *, complaint_id: str | None = None, target: str = "", detail: str = "") -> None:
    with services().store.transaction() as repo:
        audit.record(
            repo.session,
            services().clock.now(),
            actor(),
            action,
            complaint_id=complaint_id,
            target=target,
            detail=detail,
        )


def refused(message: str) -> None:
    flash(message, "error")


def done(message: str) -> None:
    flash(message, "success")
