"""Outbound mail through a transactional outbox.

``enqueue`` writes the finished message (its exact RFC 5322 bytes) into the
``outbox`` table inside the caller's transaction, so a reminder is queued if and
only if the change that caused it commits. ``send_due`` later claims due rows
one at a time and hands them to SMTP.

Guarantee: **at least once**, not exactly once. SMTP has no de-duplication: a
connection lost or a timeout after DATA may leave a message delivered that we
record as not sent, and a worker killed mid-send leaves its row in ``sending``
until the lease below runs out and it is sent again. What we do guarantee is
that two workers never send the same row at the same time (claim-by-update),
that one reason for a mail (its ``dedupe_key``) is queued once, and that every
copy carries the same Message-ID, so a recipient's client can fold duplicates.

Mail never leaves in cleartext unless ``smtp.security = "none"`` on a loopback
host: STARTTLS is required, not opportunistic, and certificates are verified.

The transport is SMTP (password, XOAUTH2 or no AUTH: ``mailroom/smtp_send.py``) or
Microsoft Graph's sendMail (``mailroom/m365/graph_send.py``), chosen by
``[outbound] transport`` (``mailroom/transports.py``). Every transport sorts its
failures into retry or not the same way (``classify_error``), so the outbox
behaves the same over either.
"""

from __future__ import annotations

import asyncio
import email.charset
import email.encoders
import email.header
import email.policy
import email.utils
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import aiosmtplib
from sqlalchemy import and_, bindparam, case, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailroom.bidi import strip_bidi
from mailroom.clock import LONDON, Clock
from mailroom.config import (
    SmtpSettings,
)
from mailroom.ingest.source import SourceError
from mailroom.redaction import redact
from mailroom.store.repository import Repository, Store
from mailroom.store.schema import Base

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
OUTBOUND_MARKER = "X-Mailroom-Outbound"
# A row claimed longer ago than this is taken to belong to a worker that died
# mid-send. Far above any SMTP timeout, so a live sender is never overtaken.
SENDING_LEASE = timedelta(minutes=15)
MAX_RETRY_DELAY = timedelta(hours=6)
_BATCH = 200  # rows claimed per send_due call; the rest wait for the next call
_ERROR_CHARS = 500
# Headers enqueue sets itself: letting a caller replace them would break the
# recorded Message-ID or the marker the ingest classifier relies on.
_OWN_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        OUTBOUND_MARKER,
    )
)

# Sends raw bytes from sender to recipients; returns the refused recipients
# (address -> reply) when some but not all were refused; raises otherwise.
Transport = Callable[[str, Sequence[str], bytes], Awaitable[dict[str, str]]]


class TransportError(Exception):
    """A failure its transport has already sorted: ``retry`` or not, and with
    ``retry_after`` not before then (a server asking to be left alone: Graph's
    429 Retry-After). The message is one line and holds no secret."""

    def __init__(self, message: str, *, retry: bool, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


# -- enqueue -----------------------------------------------------------------------------------------

_OUTBOX = Base.metadata.tables["outbox"]
# ON CONFLICT DO NOTHING: two workers queueing the same reminder insert one row
# and neither sees an error (a plain INSERT would abort the loser's transaction).
_INSERTS: dict[str, Any] = {
    "sqlite": sqlite.insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_OUTBOX.c.id),
    "postgresql": postgresql.insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_OUTBOX.c.id),
}


def enqueue(
    target: Repository | Session,
    *,
    dedupe_key: str,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body_text: str,
    now: datetime,
    complaint_id: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bool:
    """Queue one plain-text mail (with ``attachments``: (filename, MIME type, bytes))
    in the caller's transaction. False (and no change) if a mail with this
    ``dedupe_key`` was ever queued before."""
    addresses = _check_addresses(recipients)
    message = build_message(
        sender=sender,
        recipients=addresses,
        subject=subject,
        body_text=body_text,
        now=now,
        extra_headers=extra_headers,
        attachments=attachments,
    )
    session = target.session if isinstance(target, Repository) else target
    statement = _INSERTS[session.get_bind().dialect.name]
    # Session.execute (not the raw connection) so ORM objects pending in the
    # same transaction, e.g. the complaint this mail is about, are flushed first.
    result = session.execute(
        statement, _row(dedupe_key, sender, addresses, subject, message, now, complaint_id)
    )
    # RETURNING, not rowcount: through the Session psycopg reports rowcount -1 here.
    return result.first() is not None


@dataclass(frozen=True)
class OutboundMail:
    """One plain-text mail for ``enqueue_many``."""

    dedupe_key: str
    recipients: tuple[str, ...]
    subject: str
    body_text: str
    complaint_id: str | None = None


def enqueue_many(
    target: Repository | Session, sender: str, mails: Sequence[OutboundMail], now: datetime
) -> int:
    """Queue many plain-text mails in one statement in the caller's transaction
    (the reminder sweep); returns how many were new (the rest were queued before)."""
    if not mails:
        return 0
    rows = []
    for mail in mails:
        addresses = _check_addresses(mail.recipients)
        message = build_message(
            sender=sender, recipients=addresses, subject=mail.subject, body_text=mail.body_text, now=now
        )
        rows.append(_row(mail.dedupe_key, sender, addresses, mail.subject, message, now, mail.complaint_id))
    session = target.session if isinstance(target, Repository) else target
    statement = _INSERTS[session.get_bind().dialect.name]
    return len(session.execute(statement, rows).all())


def _row(
    dedupe_key: str,
    sender: str,
    addresses: Sequence[str],
    subject: str,
    message: Message,
    now: datetime,
    complaint_id: str | None,
) -> dict[str, Any]:
    """An outbox row, pending from ``now``, holding the bytes to send."""
    return {
        "dedupe_key": dedupe_key,
        "message_id": message["Message-ID"],
        "sender": sender,
        "recipients": ",".join(addresses),
        "subject": subject,
        "raw": message.as_bytes(policy=_WIRE),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
        "sent_at": None,
        "complaint_id": complaint_id,
    }


# The compat32 MIME classes, not EmailMessage: the modern header registry
# parses every header it is given, which made building a mail ~1.5 ms and the
# reminder sweep's cost (bench/reminder_sweep.py). Our headers are either bare
# validated addresses or encoded below, so nothing needs parsing. CRLF: the wire form.
_WIRE = email.policy.compat32.clone(linesep="\r\n")
_UTF8_QP = email.charset.Charset("utf-8")
_UTF8_QP.body_encoding = email.charset.QP


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body_text: str,
    now: datetime,
    extra_headers: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> Message:
    # No bidi controls: a name or subject from a mail could otherwise make the
    # body display in another order than it says (mailroom/bidi.py).
    text = MIMEText(strip_bidi(body_text), "plain", _UTF8_QP)  # type: ignore[arg-type]  # typeshed: str only; a Charset works
    message: Message = text
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(text)
        for filename, content_type, data in attachments:
            maintype, _, subtype = content_type.partition("/")
            if not maintype or not subtype:
                raise ValueError(f"attachment {filename!r}: not a MIME type: {content_type!r}")
            part = MIMEBase(maintype, subtype)
            part.set_payload(data)
            email.encoders.encode_base64(part)
            name: str | tuple[str, str, str] = filename if filename.isascii() else ("utf-8", "", filename)
            part.add_header("Content-Disposition", "attachment", filename=name)
            message.attach(part)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = _header(subject)
    message["Date"] = email.utils.format_datetime(now.astimezone(LONDON))
    # aiosmtplib adds no Message-ID; ours is recorded so replies thread and
    # resends of the same row carry the same ID.
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2])
    # RFC 3834, and Exchange's equivalent: no out-of-office replies to a robot.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # Ingest files mail carrying this as our own, never as a new complaint.
    message[OUTBOUND_MARKER] = "1"
    for header, value in (extra_headers or {}).items():
        if header.lower() in _OWN_HEADERS:
            raise ValueError(f"header {header} is set by enqueue itself")
        message[header] = _header(value)
    return message


def _header(value: str) -> Any:
    """Header text, RFC 2047-encoded when it is not ASCII; never a line break."""
    value = " ".join(strip_bidi(value).splitlines())
    return value if value.isascii() else email.header.Header(value, "utf-8")


def _check_addresses(recipients: Sequence[str]) -> list[str]:
    """Bare addresses only: they are stored comma-separated and used as the envelope."""
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of addresses, not one string")
    addresses = [address.strip() for address in recipients]
    if not addresses:
        raise ValueError("no recipients")
    for address in addresses:
        if "@" not in address or any(ch in address for ch in ",<>\r\n\t "):
            raise ValueError(f"not a bare address: {address!r}")
    return addresses


# -- send_due ----------------------------------------------------------------------------------------

_C = _OUTBOX.c
_RECOVER_STALE = (
    update(_OUTBOX)
    .where(_C.status == SENDING, _C.next_attempt_at <= bindparam("now"))
    .values(
        status=case((_C.attempts >= bindparam("max_attempts"), FAILED), else_=PENDING),
        last_error="interrupted while sending (worker stopped?); it may already have been delivered",
    )
)
# The claim, one row at a time: the oldest due row whose UPDATE this worker wins.
# On PostgreSQL the candidate is picked ``FOR UPDATE SKIP LOCKED``, so N workers
# claiming at once each take a different row instead of queueing behind one
# another; SQLite has one writer at a time and ignores the clause. The status guard
# in the UPDATE stays as the backstop. While a row is 'sending', next_attempt_at
# holds its lease expiry.
_DUE = (_C.status == PENDING, _C.next_attempt_at <= bindparam("now"))
_CLAIMED_COLUMNS = (_C.id, _C.sender, _C.recipients, _C.raw, _C.attempts)


def _claim_next_statement(hold: tuple[str, ...], only: tuple[str, ...] = ()) -> Any:
    candidate = select(_C.id).where(*_DUE).order_by(_C.next_attempt_at, _C.id).limit(1)
    if hold:
        candidate = candidate.where(
            not_(or_(*(_C.dedupe_key.startswith(prefix, autoescape=True) for prefix in hold)))
        )
    if only:
        wanted = (_C.dedupe_key.startswith(prefix, autoescape=True) for prefix in only)
        candidate = candidate.where(or_(*wanted))
    candidate = candidate.with_for_update(skip_locked=True)
    return (
        update(_OUTBOX)
        .where(_C.id == candidate.scalar_subquery(), *_DUE)
        .values(status=SENDING, attempts=_C.attempts + 1, next_attempt_at=bindparam("lease"))
        .returning(*_CLAIMED_COLUMNS)
    )


# Guarded by status and attempts: if our lease ran out and another worker took
# the row over, our late result must not overwrite theirs.
_RECORD = (
    update(_OUTBOX)
    .where(and_(_C.id == bindparam("row_id"), _C.status == SENDING, _C.attempts == bindparam("claimed")))
    .values(
        status=bindparam("new_status"),
        next_attempt_at=bindparam("next_at"),
        last_error=bindparam("error"),
        sent_at=bindparam("sent"),
    )
)


@dataclass(frozen=True)
class _Claimed:
    row_id: int
    sender: str
    recipients: list[str]
    raw: bytes
    attempts: int


@dataclass(frozen=True)
class _Outcome:
    status: str  # SENT, PENDING (retry) or FAILED
    error: str = ""
    not_before: timedelta | None = None  # the server's Retry-After: the next attempt waits at least this


def send_due(
    store: Store,
    settings: SmtpSettings,
    clock: Clock,
    *,
    transport: Transport | None = None,
    hold: Sequence[str] = (),
    only: Sequence[str] = (),
) -> SendReport:
    """Send the outbox rows that are due; safe to run in several workers at once.

    ``hold``: dedupe-key prefixes to leave pending this time (reminders outside
    working hours wait for the window rather than go out late at night).
    ``only``: when given, send only the rows whose dedupe key starts with one of
    these (the health alerts through the other transport while this one fails)."""
    if transport is None:
        if not settings.enabled:
            return SendReport()  # sending is off: mail waits in the outbox
        from mailroom.smtp_send import smtp_transport  # smtp_send builds on this module

        transport = smtp_transport(settings)
    _recover_stale(store, settings, clock.now())
    return asyncio.run(_send_batch(store, settings, clock, transport, tuple(hold), tuple(only)))


def _recover_stale(store: Store, settings: SmtpSettings, now: datetime) -> None:
    with store.engine.begin() as connection:
        connection.execute(_RECOVER_STALE, {"now": now, "max_attempts": settings.max_attempts})


async def _send_batch(
    store: Store,
    settings: SmtpSettings,
    clock: Clock,
    transport: Transport,
    hold: tuple[str, ...],
    only: tuple[str, ...] = (),
) -> SendReport:
    report = SendReport()
    claim = _claim_next_statement(hold, only)
    for _ in range(_BATCH):  # the rest wait for the next call
        claimed = _claim_next(store, claim, clock.now())
        if claimed is None:
            break  # nothing due that another worker has not taken
        outcome = await _attempt(claimed, transport, settings)
        status = _record(store, claimed, outcome, settings, clock.now())
        if status == SENT:
            report.sent += 1
        elif status == PENDING:
            report.retried += 1
        else:
            report.failed += 1
    return report


def _claim_next(store: Store, claim: Any, now: datetime) -> _Claimed | None:
    with store.engine.begin() as connection:
        row = connection.execute(claim, {"now": now, "lease": now + SENDING_LEASE}).one_or_none()
    if row is None:
        return None
    return _Claimed(row.id, row.sender, row.recipients.split(","), bytes(row.raw), row.attempts)


async def _attempt(claimed: _Claimed, transport: Transport, settings: SmtpSettings) -> _Outcome:
    try:
        refused = await transport(claimed.sender, claimed.recipients, claimed.raw)
    except Exception as exc:  # sorted into retry or fail; classify_error re-raises unknown ones
        retry, error = classify_error(exc, settings.resolved_password(), *_transport_secrets(transport))
        not_before = exc.retry_after if isinstance(exc, TransportError) else None
        return _Outcome(PENDING if retry else FAILED, error, not_before)
    if refused:
        # Accepted for some recipients: resending would duplicate it for them.
        detail = "; ".join(f"{address}: {reply}" for address, reply in sorted(refused.items()))
        return _Outcome(SENT, _one_line(f"refused recipients: {detail}", ""))
    return _Outcome(SENT)


def _record(store: Store, claimed: _Claimed, outcome: _Outcome, settings: SmtpSettings, now: datetime) -> str:
    """Store the outcome of one attempt; returns the row's new status."""
    status, next_at = outcome.status, now
    if status == PENDING:
        if claimed.attempts >= settings.max_attempts:
            status = FAILED
        else:
            delay = retry_delay(settings, claimed.attempts)
            if outcome.not_before is not None:
                delay = max(delay, min(outcome.not_before, MAX_RETRY_DELAY))
            next_at = now + delay
    params = {
        "row_id": claimed.row_id,
        "claimed": claimed.attempts,
        "new_status": status,
        "next_at": next_at,
        "error": outcome.error,
        "sent": now if status == SENT else None,
    }
    with store.engine.begin() as connection:
        connection.execute(_RECORD, params)
    return status


def retry_delay(settings: SmtpSettings, attempts: int) -> timedelta:
    """retry_base * 2^(attempts-1), capped at six hours."""
    seconds = settings.retry_base_seconds * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), MAX_RETRY_DELAY)


def _transport_secrets(transport: Transport) -> tuple[str, ...]:
    """The tokens a transport used, to hide from its error lines."""
    secrets = getattr(transport, "secrets", None)
    return tuple(secrets()) if callable(secrets) else ()


def classify_error(exc: Exception, password: str = "", *secrets: str) -> tuple[bool, str]:
    """(retry?, one-line error) for an exception from sending. Retried: 4xx,
    connection and timeout errors, and a token that could not be had or was
    refused (tokens expire and are reissued; the mail waits for a good one).
    Not: 5xx, password login, TLS and certificate errors, which need a person.
    A TransportError carries its transport's own verdict. Anything else is a
    bug and is re-raised. ``password`` and ``secrets`` never reach the line."""
    hidden = (password, *secrets)
    name = type(exc).__name__
    # Before OSError: ssl.SSLError is one, and a bad certificate is no passing
    # fault. With implicit TLS the handshake happens while connecting, and
    # aiosmtplib wraps its error in SMTPConnectError (a ConnectionError, which
    # would be retried): look down the chain of causes too.
    tls = _tls_failure(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return False, _one_line(f"TLS certificate verification failed: {tls.verify_message}", *hidden)
    if tls is not None:
        return False, _one_line(f"TLS error: {tls}", *hidden)
    if isinstance(exc, TransportError):
        return exc.retry, _one_line(str(exc), *hidden)
    if isinstance(exc, SourceError):
        # No token: the command failed or Entra ID refused (the line names AADSTS...).
        return True, _one_line(f"no OAuth2 token: {exc}", *hidden)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False, _one_line(f"SMTP login refused: {exc.code} {exc.message}", *hidden)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        return any(400 <= code < 500 for code in codes), _one_line(
            f"all recipients refused: {detail}", *hidden
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500, _one_line(f"{name}: {exc.code} {exc.message}", *hidden)
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, TimeoutError, OSError)):
        return True, _one_line(f"{name}: {exc}", *hidden)
    if isinstance(exc, aiosmtplib.SMTPException):
        # e.g. "STARTTLS extension not supported": never fall back to cleartext.
        return False, _one_line(f"{name}: {exc}", *hidden)
    raise exc


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error that ``exc`` is or was caused by, if any. An EOF in the
    handshake is a dropped connection (retried), not a TLS failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(
            current, ssl.SSLEOFError | ssl.SSLZeroReturnError
        ):
            return current
        current = current.__cause__ or current.__context__
    return None


def _one_line(text: str, *secrets: str) -> str:
    """Redacted before it is cut short: a cut could leave half a secret behind.
    AUTH PLAIN, LOGIN and XOAUTH2 send the secret base64-encoded; a server
    echoing the exchange echoes that form (``mailroom/redaction.py``)."""
    return " ".join(redact(text, *secrets).split())[:_ERROR_CHARS]
