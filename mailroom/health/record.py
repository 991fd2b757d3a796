"""The ``mailbox_health`` rows: one per mail source (``imap:<account>/<folder>``,
``graph:<mailbox>``, ``maildir:<account>``), per outbound transport
(``outbound:smtp``, ``outbound:graph``) and for the reminder sweep
(``sweep:reminders``).

Every poll of a source records a success (``last_success_at``, failures back to 0)
or a failure (``last_error``, one line, ``consecutive_failures`` + 1). An incident
opens on

- an authentication failure ("auth") or a certificate failure ("certificate"), at
  once;
- no successful poll for ``health.alert_after_minutes`` working minutes ("stale"
  for a source; "error" for a transport that keeps failing),

and its alert mail is queued in the outbox in the same transaction that sets
``alerted_at``, under the outbox key ``health:<source>:<incident_since>``: one mail
per incident, however many polls fail and however many workers record them. The
first success closes the incident and queues one recovery mail.

While no incident is open, ``incident_since`` holds the time the current run of
failures began (NULL while the last poll succeeded): a source that has never once
succeeded is stale that long after its first failure.

Rows are read and written under ``SELECT … FOR UPDATE`` (PostgreSQL; SQLite
serialises writers anyway), so two processes recording the same source take turns.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailroom.clock import LONDON
from mailroom.redaction import scrub_credentials
from mailroom.store.schema import MailboxHealth

if TYPE_CHECKING:
    from mailroom.config import HealthSettings, Settings
    from mailroom.domain.calendar import WorkingCalendar
    from mailroom.ingest.source import MailSource
    from mailroom.services import Services

log = logging.getLogger(__name__)

AUTH, CERTIFICATE, STALE, ERROR = "auth", "certificate", "stale", "error"
INCIDENT_WORDS = {
    AUTH: "authentication failure",
    CERTIFICATE: "certificate failure",
    STALE: "no successful poll",
    ERROR: "failing",
}
OUTBOUND_PREFIX = "outbound:"
SWEEP = "sweep:reminders"
_ERROR_CHARS = 500
# Past this many days without a success a source is overdue whatever the calendar
# says: the working-minute count never walks further than this.
_MAX_DAYS = 60


# -- names ------------------------------------------------------------------------------------------


def source_name(settings: Settings, source: MailSource) -> str:
    """The health name of a mail source. A source may name itself (``health_name``)."""
    own = getattr(source, "health_name", None)
    if isinstance(own, str) and own:
        return own
    kind = type(source).__name__.lower().removesuffix("source") or "source"
    if kind == "imap":
        return f"imap:{source.account}/{settings.imap.folder}"
    account = source.account
    return account if account.startswith(f"{kind}:") else f"{kind}:{account}"  # graph:<mailbox> already


def outbound_name(settings: Settings) -> str:
    return OUTBOUND_PREFIX + settings.outbound.transport.value


def is_mail_source(name: str) -> bool:
    return not name.startswith((OUTBOUND_PREFIX, "sweep:"))


# -- what kind of failure --------------------------------------------------------------------------

_CERTIFICATE_WORDS = re.compile(
    r"certificate verif|certificate_verify|certificate verify|self[- ]signed certificate|"
    r"hostname mismatch|ca_file|certificate has expired",
    re.IGNORECASE,
)
# The wording of imap_source.py, oauth.py and the outbox (SMTP AUTH), and of Entra
# ID / MSAL (AADSTS codes, OAuth error names) and Graph (401/403).
_AUTH_WORDS = re.compile(
    r"login failed|login refused|authenticat|oauth2? token|token command|token provider|"
    r"xoauth2|\bAADSTS\d+|invalid_client|invalid_grant|unauthorized_client|"
    r"\bunauthori[sz]ed\b|\bforbidden\b|access ?denied|\b(?:http|status)\s*40[13]\b|"
    r"\b535\b|password",
    re.IGNORECASE,
)


def failure_kind(error: BaseException | str) -> str:
    """AUTH, CERTIFICATE or ERROR. An exception's own ``kind`` wins (SourceError
    has one); else its causes (a certificate error, a login error) and its words."""
    if isinstance(error, BaseException):
        kind = getattr(error, "kind", "")
        if kind in (AUTH, CERTIFICATE):
            return str(kind)
        for cause in _chain(error):
            if isinstance(cause, ssl.SSLCertVerificationError):
                return CERTIFICATE
            if type(cause).__name__ in ("LoginError", "SMTPAuthenticationError"):
                return AUTH
        text = " ".join(str(cause) for cause in _chain(error))
    else:
        text = error
    if _CERTIFICATE_WORDS.search(text):
        return CERTIFICATE
    if _AUTH_WORDS.search(text):
        return AUTH
    return ERROR


def _chain(error: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def one_line(error: BaseException | str) -> str:
    """The error as one short line, credential-looking values masked (the sources
    redact their own secrets; this is the second belt). A SourceError is its
    message; another exception is its type and first line."""
    lines = str(error).strip().splitlines()
    # The first line only: SQLAlchemy puts the SQL and its parameters (personal data) after it.
    text = lines[0] if lines else (type(error).__name__ if isinstance(error, BaseException) else "")
    if isinstance(error, BaseException) and not hasattr(error, "kind"):
        text = f"{type(error).__name__}: {text}"
    return scrub_credentials(" ".join(text.split()))[:_ERROR_CHARS]


# -- the rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """One row of ``mailbox_health``, detached from the session."""

    source: str
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    consecutive_failures: int
    incident: str
    incident_since: datetime | None
    alerted_at: datetime | None

    @classmethod
    def of(cls, row: MailboxHealth | Row[Any]) -> Health:
        """From an ORM row or a Core row of the table (same attribute names)."""
        return cls(
            row.source,
            row.last_success_at,
            row.last_error,
            row.last_error_at,
            row.consecutive_failures,
            row.incident,
            row.incident_since,
            row.alerted_at,
        )

    @property
    def since_success(self) -> datetime | None:
        """What staleness counts from. A source: its last success, else its first
        failure. A transport: the start of its current run of failures (an idle
        transport sends nothing, and is not stale for that)."""
        failing_since = None if self.incident else self.incident_since
        if self.source.startswith(OUTBOUND_PREFIX):
            return failing_since if self.consecutive_failures else None
        return self.last_success_at or failing_since


def read_all(session: Session) -> dict[str, Health]:
    rows = session.scalars(select(MailboxHealth).order_by(MailboxHealth.source))
    return {row.source: Health.of(row) for row in rows}


_INSERTS: dict[str, Any] = {
    "sqlite": sqlite.insert(MailboxHealth).on_conflict_do_nothing(index_elements=["source"]),
    "postgresql": postgresql.insert(MailboxHealth).on_conflict_do_nothing(index_elements=["source"]),
}


def _locked_row(session: Session, name: str) -> MailboxHealth:
    """The row of ``name``, created if new, locked until the transaction ends."""
    query = select(MailboxHealth).where(MailboxHealth.source == name).with_for_update()
    row = session.scalars(query).first()
    if row is None:
        statement = _INSERTS[session.get_bind().dialect.name]
        session.execute(
            statement, {"source": name, "last_error": "", "consecutive_failures": 0, "incident": ""}
        )
        row = session.scalars(query.execution_options(populate_existing=True)).one()
    return row


# -- recording -------------------------------------------------------------------------------------


def record_success(services: Services, name: str) -> Health:
    """A poll (or outbox run) of ``name`` worked: an open incident closes, and if
    its alert went out, one recovery mail is queued."""
    from mailroom.health import alerts

    now = services.clock.now()
    with services.store.transaction() as repo:
        row = _locked_row(repo.session, name)
        if row.incident and row.alerted_at is not None:
            alerts.queue_recovery(services, repo.session, Health.of(row), now)
        if row.incident:
            log.warning("health: %s recovered (%s since %s)", name, row.incident, row.incident_since)
        row.last_success_at = now
        row.consecutive_failures = 0
        row.incident, row.incident_since, row.alerted_at = "", None, None
        return Health.of(row)


def record_failure(services: Services, name: str, error: BaseException | str, kind: str = "") -> Health:
    """A poll of ``name`` failed. An authentication or certificate failure opens an
    incident (and queues its alert) unless one is open already."""
    kind = kind or failure_kind(error)
    now = services.clock.now()
    with services.store.transaction() as repo:
        row = _locked_row(repo.session, name)
        row.last_error = one_line(error)
        row.last_error_at = now
        row.consecutive_failures += 1
        if not row.incident and row.incident_since is None:
            row.incident_since = now  # the run of failures began now
        if not row.incident and kind in (AUTH, CERTIFICATE):
            _open(services, repo.session, row, kind, now)
        return Health.of(row)


def check_overdue(services: Services, sources: Sequence[str]) -> list[Health]:
    """Open a "stale" incident for each of ``sources`` with no success for too
    long, and an "error" incident for a failing transport; queue an alert that
    could not be queued before (no address then). Returns the rows alerted now."""
    settings = services.settings.health
    now = services.clock.now()
    alerted: list[Health] = []
    wanted = set(sources)
    with services.store.transaction() as repo:
        query = select(MailboxHealth).order_by(MailboxHealth.source).with_for_update()
        for row in repo.session.scalars(query):
            outbound = row.source.startswith(OUTBOUND_PREFIX)
            if row.source not in wanted and not outbound:
                continue  # a source no longer configured, or the sweep
            if row.incident:
                if row.alerted_at is None and _alert(services, repo.session, row, now):
                    alerted.append(Health.of(row))
                continue
            if outbound and row.consecutive_failures == 0:
                continue  # an idle transport is no failing one
            if is_overdue(Health.of(row), now, settings, services.calendar):
                _open(services, repo.session, row, ERROR if outbound else STALE, now)
                alerted.append(Health.of(row))
    return alerted


def _open(services: Services, session: Session, row: MailboxHealth, kind: str, now: datetime) -> None:
    row.incident = kind
    row.incident_since = now
    row.alerted_at = None
    log.warning("health: %s: %s (%s)", row.source, INCIDENT_WORDS[kind], row.last_error)
    _alert(services, session, row, now)


def _alert(services: Services, session: Session, row: MailboxHealth, now: datetime) -> bool:
    """Queue the incident's alert; ``alerted_at`` is set in the same transaction."""
    from mailroom.health import alerts

    if alerts.queue_alert(services, session, Health.of(row), now):
        row.alerted_at = now
        return True
    return False


# -- working minutes -------------------------------------------------------------------------------


def is_overdue(row: Health, now: datetime, settings: HealthSettings, calendar: WorkingCalendar) -> bool:
    since = row.since_success
    if since is None:
        return False
    return counted_minutes(since, now, settings, calendar) >= settings.alert_after_minutes


def counted_minutes(
    start: datetime, end: datetime, settings: HealthSettings, calendar: WorkingCalendar
) -> float:
    """Minutes from ``start`` to ``end`` that count towards staleness: all of them, or
    (``working_hours_only``) those inside working hours of working days, UK time.
    Stops counting once past ``alert_after_minutes``: bounded work whatever the gap."""
    if end <= start:
        return 0.0
    if not settings.working_hours_only:
        return (end - start).total_seconds() / 60
    cap = float(settings.alert_after_minutes)
    if end - start > timedelta(days=_MAX_DAYS):
        return cap
    total = 0.0
    day = start.astimezone(LONDON).date()
    last = end.astimezone(LONDON).date()
    while day <= last:
        if _working(calendar, day):
            opens = _instant(day, settings.working_hours_start)
            closes = _instant(day, settings.working_hours_end)
            low, high = max(opens, start), min(closes, end)
            if high > low:
                total += (high - low).total_seconds() / 60
                if total >= cap:
                    return total
        day += timedelta(days=1)
    return total


def _working(calendar: WorkingCalendar, day: date) -> bool:
    if calendar.first <= day <= calendar.last:
        return calendar.is_working_day(day)
    return day.weekday() < 5  # outside the calendar's years: weekdays


def _instant(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)
