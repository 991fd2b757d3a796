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

The transport is SMTP (password, XOAUTH2 or no AUTH) or Microsoft Graph's
sendMail (``mailroom/m365/graph_send.py``), chosen by ``[outbound] transport``
(``transport_for``). Every transport sorts its failures into retry or not the
same way (``classify_error``), so the outbox behaves the same over either.
"""

from __future__ import annotations

import asyncio
import base64
import email.charset
import email.encoders
import email.header
import email.policy
import email.utils
import json
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
    ConfigError,
    OutboundSettings,
    OutboundTransport,
    Settings,
    SmtpAuth,
    SmtpSecurity,
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


# -- SMTP --------------------------------------------------------------------------------------------


def smtp_transport(settings: SmtpSettings, token_provider: Callable[[], str] | None = None) -> Transport:
    """A Transport over aiosmtplib; one connection per message. With ``auth =
    "xoauth2"`` the token comes from ``token_provider``, else from
    ``smtp.oauth2_token_command`` (``transport_for`` passes the [m365] app's)."""
    tls_context: ssl.SSLContext | None = None
    if settings.security is not SmtpSecurity.NONE:
        cafile = str(settings.ca_file) if settings.ca_file is not None else None
        tls_context = ssl.create_default_context(cafile=cafile)
    if settings.auth is SmtpAuth.XOAUTH2:
        if token_provider is None:
            if not settings.oauth2_token_command:
                raise ConfigError(
                    "smtp.auth 'xoauth2' needs smtp.oauth2_token_command or the [m365] app registration"
                )
            from mailroom.ingest.oauth import command_token_provider

            token_provider = command_token_provider(settings.oauth2_token_command, timeout=settings.timeout)
        return XOAuth2Transport(settings, tls_context, token_provider)
    username = (settings.username or None) if settings.auth is SmtpAuth.PASSWORD else None
    password = (settings.resolved_password() or None) if username else None

    async def send(sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, str]:
        errors, _reply = await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=list(recipients),
            hostname=settings.host,
            port=settings.port,
            # start_tls=True, never None: None falls back to cleartext when
            # the server (or someone in the path) does not offer STARTTLS.
            start_tls=settings.security is SmtpSecurity.STARTTLS,
            use_tls=settings.security is SmtpSecurity.TLS,
            tls_context=tls_context,
            username=username,
            password=password,
            timeout=settings.timeout,
        )
        return {address: f"{reply.code} {reply.message}" for address, reply in errors.items()}

    return send


class XOAuth2Transport:
    """SMTP with AUTH XOAUTH2 (Microsoft 365, Google Workspace): a fresh token from
    the provider for each connection, sent as the SASL XOAUTH2 initial response.

    Done here over ``execute_command`` rather than aiosmtplib's own XOAUTH2
    (5.1+; the dependency allows 3.x): a refused token comes with a 334
    challenge holding a JSON status, which names the failure better than the
    final 535 alone, and a refusal must make the provider forget its token."""

    def __init__(
        self, settings: SmtpSettings, tls_context: ssl.SSLContext | None, token_provider: Callable[[], str]
    ) -> None:
        self._settings = settings
        self._tls_context = tls_context
        self._provider = token_provider
        self._tokens: list[str] = []  # issued to this transport: hidden from every error line

    def secrets(self) -> tuple[str, ...]:
        return tuple(self._tokens[-2:])

    async def __call__(self, sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, str]:
        settings = self._settings
        # Before connecting: a token command may take seconds, and a failing
        # one should not hold a connection open. In a thread: it blocks.
        token = await self._token()
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.security is SmtpSecurity.TLS,
            start_tls=settings.security is SmtpSecurity.STARTTLS,
            tls_context=self._tls_context,
            timeout=settings.timeout,
        )
        async with client:
            await client.ehlo()
            if "xoauth2" not in client.server_auth_methods:
                # Exchange Online offers XOAUTH2 only where SMTP AUTH is enabled for the mailbox.
                raise TransportError(
                    f"the SMTP server {settings.host} does not offer AUTH XOAUTH2", retry=False
                )
            refusal = await self._authenticate(client, token)
            if refusal is not None and self._refreshable():
                # The token may have been revoked, or issued before a permission
                # was granted: one fresh token, as for Graph's 401.
                _forget(self._provider)
                refusal = await self._authenticate(client, await self._token())
            if refusal is not None:
                _forget(self._provider)  # the next attempt asks for a new one
                raise TransportError(refusal, retry=True)
            errors, _reply = await client.sendmail(sender, list(recipients), raw)
        return {address: f"{reply.code} {reply.message}" for address, reply in errors.items()}

    async def _token(self) -> str:
        token = await asyncio.to_thread(self._provider)
        self._tokens[:] = [*self._tokens[-1:], token]
        return token

    def _refreshable(self) -> bool:
        return callable(getattr(self._provider, "invalidate", None))

    async def _authenticate(self, client: aiosmtplib.SMTP, token: str) -> str | None:
        """None when the server took the token, else the line saying why not.

        Google's and Microsoft's XOAUTH2: a refused token is answered with 334
        and a base64 JSON status ({"status":"401",...}); the client sends an
        empty line and the server then ends the exchange with 5xx.
        https://developers.google.com/workspace/gmail/imap/xoauth2-protocol"""
        initial = base64.b64encode(
            b"user="
            + self._settings.username.encode("utf-8")
            + b"\x01auth=Bearer "
            + token.encode("utf-8")
            + b"\x01\x01"
        )
        response = await client.execute_command(b"AUTH", b"XOAUTH2", initial)
        status = ""
        if response.code == 334:
            status = _xoauth2_status(response.message)
            response = await client.execute_command(b"")
        if response.code == 235:
            return None
        detail = f" (token status {status})" if status else ""
        return f"SMTP XOAUTH2 token refused: {response.code} {response.message}{detail}"


def _xoauth2_status(challenge: str) -> str:
    """The "status" of a XOAUTH2 error challenge (e.g. "401", "invalid_token"), or ""."""
    try:
        value = json.loads(base64.b64decode(challenge.strip(), validate=True))
    except ValueError:
        return ""
    status = value.get("status") if isinstance(value, dict) else None
    return str(status)[:40] if isinstance(status, str | int) else ""


def _forget(provider: Callable[[], str]) -> None:
    forget = getattr(provider, "invalidate", None)
    if callable(forget):
        forget()


def _transport_secrets(transport: Transport) -> tuple[str, ...]:
    """The tokens a transport used, to hide from its error lines."""
    secrets = getattr(transport, "secrets", None)
    return tuple(secrets()) if callable(secrets) else ()


def sending_enabled(settings: Settings) -> bool:
    """False: mail waits in the outbox (no SMTP host, and Graph not chosen)."""
    return settings.outbound.transport is OutboundTransport.GRAPH or settings.smtp.enabled


def transport_for(settings: Settings) -> Transport | None:
    """The transport ``[outbound] transport`` names, or None when sending is off.
    SMTP XOAUTH2 without a token command takes its tokens from the [m365] app
    (Exchange Online's scope)."""
    if settings.outbound.transport is OutboundTransport.GRAPH:
        from mailroom.m365.graph_send import graph_transport

        return graph_transport(settings)
    smtp = settings.smtp
    if not smtp.enabled:
        return None
    if smtp.auth is SmtpAuth.XOAUTH2 and not smtp.oauth2_token_command:
        if not settings.m365.enabled:
            raise ConfigError(
                "smtp.auth 'xoauth2' needs smtp.oauth2_token_command or the [m365] app registration"
            )
        from mailroom.m365.tokens import provider_from_settings

        return smtp_transport(smtp, provider_from_settings(settings, "outlook"))
    return smtp_transport(smtp)


def fallback_transport_for(settings: Settings) -> tuple[str, Transport] | None:
    """(name, transport) of the configured transport that ``[outbound] transport`` does
    not name, for the health alerts while that one fails; None when only one is set
    up. Graph counts as set up with the [m365] app and mailbox; SMTP with a host."""
    if settings.outbound.transport is OutboundTransport.GRAPH:
        if not settings.smtp.enabled:
            return None
        by_smtp = OutboundSettings(transport=OutboundTransport.SMTP)
        smtp_only = settings.model_copy(update={"outbound": by_smtp})
        transport = transport_for(smtp_only)
        return None if transport is None else (OutboundTransport.SMTP.value, transport)
    if not settings.m365.enabled:
        return None
    from mailroom.m365.graph_send import graph_transport

    return OutboundTransport.GRAPH.value, graph_transport(settings)


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
