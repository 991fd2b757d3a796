"""What `mailroom status` and the desk's /readyz report: each source and transport
from ``mailbox_health``, the outbox backlog, the scheduler leader and the last
reminder sweep, and the problems that need a person.

Read-only, in one snapshot that takes no write lock (``read_snapshot``): a status
check never waits behind the worker's batch, nor holds it up. A source counts as
stale here as soon as it is overdue, before the worker's next pass opens the
incident (a dead worker opens none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, text

from mailroom.health.record import (
    INCIDENT_WORDS,
    OUTBOUND_PREFIX,
    SWEEP,
    Health,
    is_overdue,
    source_name,
)
from mailroom.store.database import read_snapshot
from mailroom.store.schema import MailboxHealth, OutboxMessage

if TYPE_CHECKING:
    from mailroom.services import Services

OK, FAILING, NEVER = "ok", "failing", "never polled"
# The states that need a person (the rest mend themselves or are not yet known).
ALARMING = frozenset(INCIDENT_WORDS)


@dataclass(frozen=True)
class SourceState:
    name: str
    state: str  # OK, FAILING, NEVER, or an incident: auth, certificate, stale, error
    health: Health | None

    @property
    def needs_person(self) -> bool:
        return self.state in ALARMING

    def as_json(self) -> dict[str, Any]:
        row = self.health
        return {
            "name": self.name,
            "state": self.state,
            "needs_person": self.needs_person,
            "last_success_at": _iso(row.last_success_at if row else None),
            "last_error": row.last_error if row else "",
            "last_error_at": _iso(row.last_error_at if row else None),
            "consecutive_failures": row.consecutive_failures if row else 0,
            "incident_since": _iso(row.incident_since if row and row.incident else None),
            "alerted_at": _iso(row.alerted_at if row else None),
        }


@dataclass(frozen=True)
class Backlog:
    pending: int
    sending: int
    failed: int
    oldest_pending_at: datetime | None

    def as_json(self, now: datetime) -> dict[str, Any]:
        age = (now - self.oldest_pending_at).total_seconds() if self.oldest_pending_at else None
        return {
            "pending": self.pending,
            "sending": self.sending,
            "failed": self.failed,
            "oldest_pending_at": _iso(self.oldest_pending_at),
            "oldest_pending_seconds": None if age is None else max(0, int(age)),
        }


@dataclass(frozen=True)
class Leader:
    held: bool
    detail: str  # how it was found out, and by whom when PostgreSQL says

    def as_json(self) -> dict[str, Any]:
        return {"held": self.held, "detail": self.detail}


@dataclass(frozen=True)
class Status:
    checked_at: datetime
    sources: list[SourceState]
    transports: list[SourceState]
    outbox: Backlog
    leader: Leader
    last_sweep: Health | None
    alert_addresses: int
    problems: list[str]

    @property
    def needs_person(self) -> bool:
        return bool(self.problems)

    def as_json(self) -> dict[str, Any]:
        sweep = self.last_sweep
        return {
            "checked_at": _iso(self.checked_at),
            "needs_person": self.needs_person,
            "problems": self.problems,
            "sources": [source.as_json() for source in self.sources],
            "transports": [transport.as_json() for transport in self.transports],
            "outbox": self.outbox.as_json(self.checked_at),
            "scheduler_leader": self.leader.as_json(),
            "last_sweep": {
                "at": _iso(sweep.last_success_at if sweep else None),
                "last_error": sweep.last_error if sweep else "",
                "last_error_at": _iso(sweep.last_error_at if sweep else None),
            },
            "alert_addresses": self.alert_addresses,
        }


# -- gathering -------------------------------------------------------------------------------------


def configured_sources(services: Services) -> list[str]:
    """The health names of the configured mail sources (built, never connected)."""
    names = []
    for source in services.sources():
        try:
            names.append(source_name(services.settings, source))
        finally:
            source.close()
    return names


def gather(services: Services, sources: Sequence[str] | None = None) -> Status:
    """The whole status; ``sources``: the configured source names (default: from the settings)."""
    from mailroom.health.alerts import recipients

    names = configured_sources(services) if sources is None else list(sources)
    now = services.clock.now()
    with read_snapshot(services.store.engine) as connection:
        rows = read_rows(connection)
        backlog = _backlog(connection)
    source_states = [assess(name, rows.get(name), services, now) for name in names]
    transports = [
        assess(name, row, services, now) for name, row in rows.items() if name.startswith(OUTBOUND_PREFIX)
    ]
    leader = find_leader(services)
    problems = [_problem(state) for state in (*source_states, *transports) if state.needs_person]
    if backlog.failed:
        failed = f"outbox: {backlog.failed} mail(s) failed for good"
        problems.append(f"{failed} (mailroom outbox list --status failed)")
    if names and not leader.held:
        problems.append("scheduler: no `mailroom run` holds the scheduler lock; nothing polls or sends")
    return Status(
        checked_at=now,
        sources=source_states,
        transports=transports,
        outbox=backlog,
        leader=leader,
        last_sweep=rows.get(SWEEP),
        alert_addresses=len(recipients(services)),
        problems=problems,
    )


def assess(name: str, row: Health | None, services: Services, now: datetime) -> SourceState:
    """The state of one source or transport now."""
    if row is None:
        return SourceState(name, NEVER, None)
    if row.incident:
        return SourceState(name, row.incident, row)
    transport = name.startswith(OUTBOUND_PREFIX)
    if (not transport or row.consecutive_failures) and is_overdue(
        row, now, services.settings.health, services.calendar
    ):
        return SourceState(name, "error" if transport else "stale", row)
    return SourceState(name, FAILING if row.consecutive_failures else OK, row)


def read_rows(connection: Connection) -> dict[str, Health]:
    table = MailboxHealth.__table__
    rows = connection.execute(select(table).order_by(table.c.source))
    return {row.source: Health.of(row) for row in rows}


def _backlog(connection: Connection) -> Backlog:
    from mailroom.outbound import FAILED, PENDING, SENDING

    counts = dict(
        connection.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_((PENDING, SENDING, FAILED)))
            .group_by(OutboxMessage.status)
        ).all()
    )
    # min() keeps the column's type, so the UTC conversion applies to its result too.
    oldest = connection.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == PENDING)
    )
    return Backlog(counts.get(PENDING, 0), counts.get(SENDING, 0), counts.get(FAILED, 0), oldest)


def find_leader(services: Services) -> Leader:
    """Whether a `mailroom run` holds the deployment's scheduler lock (mailroom/locks.py).
    PostgreSQL: the advisory lock in pg_locks, with the session holding it. SQLite:
    a non-blocking try of the flock (taken and let go at once when free)."""
    from mailroom.locks import _lock_number, deployment_lock

    engine = services.store.engine
    if engine.dialect.name == "postgresql":
        key = _lock_number("mailroom-deployment:scheduler")
        query = text(
            "SELECT l.pid, host(a.client_addr) AS addr, a.application_name FROM pg_locks l"
            " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND CAST(l.classid AS bigint) = :high AND CAST(l.objid AS bigint) = :low"
        )
        with engine.connect() as connection:
            halves = {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF}  # as pg_locks shows it
            row = connection.execute(query, halves).first()
        if row is None:
            return Leader(False, "no session holds the PostgreSQL advisory lock")
        where = f" from {row.addr}" if row.addr else " (local socket)"
        return Leader(True, f"PostgreSQL advisory lock held by backend pid {row.pid}{where}")
    with deployment_lock(engine, services.storage.root / ".locks") as free:
        if free:
            return Leader(False, "the scheduler lock file is not locked")
    return Leader(True, "the scheduler lock file is locked by a process on this machine")


def _problem(state: SourceState) -> str:
    row = state.health
    assert row is not None  # only a polled source needs a person
    words = INCIDENT_WORDS.get(state.state, state.state)
    since = row.incident_since if row.incident else row.since_success
    text = f"{state.name}: {words} since {_iso(since) or 'never'}"
    return text + (f" ({row.last_error})" if row.last_error else "")


# -- /readyz ---------------------------------------------------------------------------------------


def readiness(services: Services, sources: Sequence[str]) -> tuple[bool, dict[str, Any]]:
    """(ready?, body) for /readyz: the database answers a short query, and no
    configured source or transport needs a person. The body holds states and
    counts only: no address, mailbox or error text (it is served unauthenticated)."""
    now = services.clock.now()
    try:
        with read_snapshot(services.store.engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL statement_timeout = 2000"))
            connection.execute(text("SELECT 1"))
            rows = read_rows(connection)
    except Exception:  # unreachable, timed out, locked: not ready, and no detail to a stranger
        return False, {"status": "not ready", "database": "unreachable"}
    states = [assess(name, rows.get(name), services, now) for name in sources]
    transports = [assess(n, row, services, now) for n, row in rows.items() if n.startswith(OUTBOUND_PREFIX)]
    ready = not any(state.needs_person for state in (*states, *transports))
    body = {
        "status": "ready" if ready else "not ready",
        "database": "ok",
        "sources": _counts(states),
        "transports": _counts(transports),
    }
    return ready, body


def _counts(states: Sequence[SourceState]) -> dict[str, Any]:
    by_state: dict[str, int] = {}
    for state in states:
        by_state[state.state] = by_state.get(state.state, 0) + 1
    return {
        "total": len(states),
        "needing_a_person": sum(state.needs_person for state in states),
        "states": dict(sorted(by_state.items())),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
