"""Desk sessions kept in the database, so any desk instance serves any request.

The browser holds a random token; the table holds its SHA-256. A session ends when
unused for ``web.session_idle_minutes`` or older than ``web.session_max_hours``,
and at every sign-in the token is replaced (no session fixation)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailroom.store.schema import DeskSession

# last_seen_at is written at most this often: a page view is then a read, not a write.
TOUCH_EVERY = timedelta(seconds=60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Loaded:
    token: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


def load(session: Session, token: str, now: datetime, idle: timedelta, longest: timedelta) -> Loaded | None:
    if not token or len(token) > 200:
        return None
    row = session.get(DeskSession, digest(token))
    if row is None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > longest:
        session.delete(row)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    try:
        data = json.loads(row.data_json)
    except ValueError:
        data = {}
    return Loaded(token, row.user_id, data if isinstance(data, dict) else {}, row.created_at)


def save(session: Session, loaded: Loaded, now: datetime, *, replaces: str | None = None) -> None:
    """Write the session; ``replaces`` is the token it succeeds (deleted)."""
    if replaces:
        session.execute(delete(DeskSession).where(DeskSession.token_sha256 == digest(replaces)))
    row = session.get(DeskSession, digest(loaded.token))
    text = json.dumps(loaded.data, separators=(",", ":"), sort_keys=True)
    if row is None:
        session.add(
            DeskSession(
                token_sha256=digest(loaded.token),
                user_id=loaded.user_id,
                data_json=text,
                created_at=loaded.created_at or now,
                last_seen_at=now,
            )
        )
    else:
        row.user_id, row.data_json, row.last_seen_at = loaded.user_id, text, now


def end(session: Session, token: str) -> None:
    session.execute(delete(DeskSession).where(DeskSession.token_sha256 == digest(token)))


def end_sessions_of(session: Session, user_id: int) -> None:
    session.execute(delete(DeskSession).where(DeskSession.user_id == user_id))


def purge(session: Session, now: datetime, idle: timedelta, longest: timedelta) -> int:
    """Delete sessions past either limit; returns how many."""
    result = session.execute(
        delete(DeskSession).where(
            (DeskSession.last_seen_at < now - idle) | (DeskSession.created_at < now - longest)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def exists(session: Session, token: str) -> bool:
    return (
        session.scalar(select(DeskSession.token_sha256).where(DeskSession.token_sha256 == digest(token)))
        is not None
    )
