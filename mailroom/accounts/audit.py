"""The audit trail: one row per state-changing action, from the desk or the command
line, never updated or deleted (docs/desk.md, "Audit trail")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.store.schema import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where (the client address, for the desk)."""

    email: str
    source: str = ""


def record(
    session: Session,
    at: datetime,
    actor: Actor,
    action: str,
    *,
    complaint_id: str | None = None,
    target: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            at=at,
            actor=actor.email[:320],
            action=action[:60],
            complaint_id=complaint_id,
            target=target[:200],
            detail=detail,
            source=actor.source[:64],
        )
    )


def entries_of_case(session: Session, complaint_id: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.complaint_id == complaint_id).order_by(AuditEntry.id)
        )
    )


def recent(session: Session, actions: Sequence[str] | None = None, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(session.scalars(query))


def count_since(session: Session, action: str, source: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.source == source, AuditEntry.at >= since)
        )
        or 0
    )
