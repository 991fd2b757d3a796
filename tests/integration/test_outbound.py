"""The outbox against a real SMTP server (aiosmtpd on loopback, STARTTLS with a
trustme certificate): queued once, sent once, retried on 4xx, never in cleartext."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from mailroom.clock import FixedClock
from mailroom.config import SmtpSettings
from mailroom.outbound import SENDING_LEASE, SendReport, build_message, enqueue, send_due
from mailroom.store.database import make_engine, migrate
from mailroom.store.repository import Store
from mailroom.store.schema import OutboxMessage
from tests.support.smtp import Collector, ServerFactory, free_port

SENDER = "complaints@landlord.example"
RESIDENT = "resident@example.org"


def _settings(port: int, ca_file: Path | None, **overrides: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "ca_file": ca_file,
        "sender": SENDER,
        "timeout": 5.0,
        "max_attempts": 3,
        "retry_base_seconds": 60.0,
    }
    return SmtpSettings.model_validate({**values, **overrides})


def _store(url: str) -> Store:
    engine = make_engine(url)
    migrate(engine)
    return Store(engine)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    built = _store(db_url)
    yield built
    built.engine.dispose()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    built = _store(sqlite_url)
    yield built
    built.engine.dispose()


def _enqueue(
    store: Store, clock: FixedClock, key: str = "reminder:CMP-2026-000001:s1:v1:T-2", **kw: Any
) -> bool:
    with store.transaction() as repo:
        return enqueue(
            repo,
            dedupe_key=key,
            sender=SENDER,
            recipients=kw.pop("recipients", [RESIDENT]),
            subject="Your complaint CMP-2026-000001",
            body_text="We will reply by 7 December 2026.\n",
            now=clock.now(),
            **kw,
        )


def _rows(store: Store) -> list[OutboxMessage]:
    with store.transaction() as repo:
        return list(repo.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# -- queue once, send once ---------------------------------------------------------------------------


def test_same_dedupe_key_is_queued_once_and_sent_once(
    store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    assert _enqueue(store, clock) is True
    assert _enqueue(store, clock) is False  # no error: the second worker's enqueue is a no-op
    (row,) = _rows(store)
    assert row.status == "pending" and row.attempts == 0 and row.message_id.endswith("@landlord.example>")

    collector, port = smtp_server()
    settings = _settings(port, ca_file)
    assert send_due(store, settings, clock) == SendReport(sent=1)
    assert send_due(store, settings, clock) == SendReport()  # nothing left to send

    (message,) = collector.messages
    assert message["Message-ID"] == row.message_id
    assert message["From"] == SENDER and message["To"] == RESIDENT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["X-Mailroom-Outbound"] == "1"
    assert message["Date"] is not None
    assert "7 December 2026" in message.get_content()
    (sent,) = _rows(store)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, clock.now(), "")


def test_concurrent_senders_deliver_each_message_exactly_once(
    db_url: str, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    stores = [_store(db_url), _store(db_url)]  # two workers: two engines, two pools
    for n in range(12):
        _enqueue(stores[0], clock, key=f"reminder:{n}")
    collector, port = smtp_server()
    settings = _settings(port, ca_file)
    barrier = threading.Barrier(2)
    reports: list[SendReport] = []

    def worker(store: Store) -> None:
        barrier.wait()
        reports.append(send_due(store, settings, clock))

    threads = [threading.Thread(target=worker, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        ids = sorted(message["Message-ID"] for message in collector.messages)
        assert len(ids) == 12 and len(set(ids)) == 12
        assert sum(report.sent for report in reports) == 12
        assert {row.status for row in _rows(stores[0])} == {"sent"}
    finally:
        for store in stores:
            store.engine.dispose()


# -- retry and failure -------------------------------------------------------------------------------


def test_a_4xx_is_retried_after_the_backoff_and_delivered_once(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server(Collector(rcpt_replies=["451 try later"]))
    settings = _settings(port, ca_file)

    assert send_due(sqlite_store, settings, clock) == SendReport(retried=1)
    (row,) = _rows(sqlite_store)
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=59))
    assert send_due(sqlite_store, settings, clock) == SendReport()  # not due yet
    clock.advance(timedelta(seconds=1))
    assert send_due(sqlite_store, settings, clock) == SendReport(sent=1)
    assert len(collector.messages) == 1
    assert _rows(sqlite_store)[0].attempts == 2


def test_retries_stop_at_max_attempts(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server(Collector(rcpt_replies=["451 try later"] * 5))
    settings = _settings(port, ca_file, max_attempts=3)
    reports = []
    for _ in range(4):
        reports.append(send_due(sqlite_store, settings, clock))
        clock.advance(timedelta(hours=6))
    assert reports == [SendReport(retried=1), SendReport(retried=1), SendReport(failed=1), SendReport()]
    (row,) = _rows(sqlite_store)
    assert row.status == "failed" and row.attempts == 3 and collector.messages == []


def test_a_5xx_fails_at_once_with_the_reply(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server(Collector(refuse=(RESIDENT,)))
    assert send_due(sqlite_store, _settings(port, ca_file), clock) == SendReport(failed=1)
    (row,) = _rows(sqlite_store)
    assert row.status == "failed" and "550" in row.last_error and "\n" not in row.last_error
    assert collector.messages == []


def test_a_partial_refusal_is_sent_and_names_the_refused(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock, recipients=[RESIDENT, "gone@example.org"])
    collector, port = smtp_server(Collector(refuse=("gone@example.org",)))
    assert send_due(sqlite_store, _settings(port, ca_file), clock) == SendReport(sent=1)
    (row,) = _rows(sqlite_store)
    assert row.status == "sent" and "gone@example.org" in row.last_error and "550" in row.last_error
    assert len(collector.messages) == 1


# -- TLS ---------------------------------------------------------------------------------------------


def test_no_starttls_offered_means_nothing_sent_in_cleartext(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server(starttls=False)
    assert send_due(sqlite_store, _settings(port, ca_file), clock) == SendReport(failed=1)
    (row,) = _rows(sqlite_store)
    assert row.status == "failed" and "STARTTLS" in row.last_error
    assert collector.messages == []


def test_an_untrusted_certificate_is_refused_and_not_retried(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server()
    password = "s3cret-not-for-logs"
    settings = _settings(port, None, username="complaints", password=password)  # system CAs only
    assert send_due(sqlite_store, settings, clock) == SendReport(failed=1)
    (row,) = _rows(sqlite_store)
    assert row.status == "failed" and "certificate" in row.last_error
    assert password not in row.last_error
    assert collector.messages == []


@pytest.fixture
def implicit_tls_server(ca: trustme.CA) -> Iterator[tuple[Collector, int]]:
    """aiosmtpd speaking TLS from the first byte (port 465 style, smtp.security = "tls")."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    yield collector, controller.port
    controller.stop()


def test_implicit_tls_delivers_with_the_right_ca(
    sqlite_store: Store, clock: FixedClock, implicit_tls_server: tuple[Collector, int], ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    collector, port = implicit_tls_server
    assert send_due(sqlite_store, _settings(port, ca_file, security="tls"), clock) == SendReport(sent=1)
    assert len(collector.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_failure_is_never_retried_in_either_tls_mode(
    sqlite_store: Store,
    clock: FixedClock,
    smtp_server: ServerFactory,
    implicit_tls_server: tuple[Collector, int],
    security: str,
) -> None:
    """GIVEN a server whose certificate no trusted CA signed THEN the row fails at
    its first attempt with one line naming the certificate, in both modes: with
    implicit TLS the failure arrives wrapped in a connection error."""
    _enqueue(sqlite_store, clock)
    collector, port = smtp_server() if security == "starttls" else implicit_tls_server
    settings = _settings(port, None, security=security, max_attempts=5)  # system CAs only
    assert send_due(sqlite_store, settings, clock) == SendReport(failed=1)
    (row,) = _rows(sqlite_store)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("TLS certificate verification failed: ")
    assert "\n" not in row.last_error
    clock.advance(timedelta(hours=7))
    assert send_due(sqlite_store, settings, clock) == SendReport()  # nothing left to retry
    assert collector.messages == []


# -- crash recovery ----------------------------------------------------------------------------------


def test_a_row_left_sending_by_a_dead_worker_is_sent_after_the_lease(
    sqlite_store: Store, clock: FixedClock, smtp_server: ServerFactory, ca_file: Path
) -> None:
    _enqueue(sqlite_store, clock)
    with sqlite_store.engine.begin() as connection:  # what a worker killed mid-send leaves
        connection.execute(
            update(OutboxMessage).values(
                status="sending", attempts=1, next_attempt_at=clock.now() + SENDING_LEASE
            )
        )
    collector, port = smtp_server()
    settings = _settings(port, ca_file)
    assert send_due(sqlite_store, settings, clock) == SendReport()  # the lease still runs
    clock.advance(SENDING_LEASE)
    assert send_due(sqlite_store, settings, clock) == SendReport(sent=1)
    assert len(collector.messages) == 1 and _rows(sqlite_store)[0].attempts == 2


def test_sending_is_off_without_a_host(sqlite_store: Store, clock: FixedClock) -> None:
    _enqueue(sqlite_store, clock)
    assert send_due(sqlite_store, SmtpSettings(), clock) == SendReport()
    assert _rows(sqlite_store)[0].status == "pending"


def test_a_message_with_non_ascii_text_and_an_attachment_reads_back_intact() -> None:

    message = build_message(
        sender=SENDER,
        recipients=[RESIDENT, "officer@landlord.example"],
        subject="Votre plainte: réparations\r\nBcc: injected@example.org",
        body_text="Chère Zoë,\nLigne deux — «ok».\n",
        now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        attachments=[("lettre é.pdf", "application/pdf", b"%PDF-1.7 \x00\xff")],
    )
    raw = message.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert (
        parsed["Subject"] == "Votre plainte: réparations Bcc: injected@example.org"
    )  # one line, no injection
    assert parsed["Bcc"] is None
    assert [parseaddr(a)[1] for a in str(parsed["To"]).split(",")] == [RESIDENT, "officer@landlord.example"]
    body = parsed.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Chère Zoë,\nLigne deux — «ok».\n"
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "lettre é.pdf"
    assert attachment.get_content() == b"%PDF-1.7 \x00\xff"
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_bidi_controls_never_reach_an_outgoing_body_or_subject() -> None:
    """A subject or name taken from a mail, holding U+202E, would make the body
    display reversed: the built message carries none of the controls."""
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    message = build_message(
        sender=SENDER,
        recipients=[RESIDENT],
        subject=f"Re: \u202eboiler{bidi}",
        body_text=f"Dear Mx \u202eKO{bidi}\nYour complaint about \u2066damp\u2069.\n",
        now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Dear Mx KO" in text and "about damp." in text
    assert parsed["Subject"] == "Re: boiler"
    assert not any(ch in text + parsed["Subject"] for ch in bidi)
