"""Sending for Microsoft 365 and Google Workspace (issue 14, part 1): the outbox
over SMTP with AUTH XOAUTH2 (aiosmtpd on loopback, STARTTLS on a trustme
certificate, an XOAUTH2 authenticator answering as Google and Microsoft
document), and over Microsoft Graph sendMail (tests/support/graph_server.py over
HTTPS, its Entra ID stand-in issuing the tokens through MSAL).

The outbox keeps its semantics over both: the exact bytes it built arrive, a
refused token or a throttled request is retried (not before Retry-After), a
refused message fails for a person to see, and no token or secret reaches a log
record, stderr or ``outbox.last_error``."""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from sqlalchemy import select

from mailroom.clock import FixedClock
from mailroom.config import Settings, SmtpSettings
from mailroom.m365.tokens import OUTLOOK_SCOPE
from mailroom.outbound import SendReport, enqueue, send_due
from mailroom.reminders import send_outbox
from mailroom.services import Services, build_services
from mailroom.store.database import make_engine, migrate
from mailroom.store.repository import Store
from mailroom.store.schema import OutboxMessage
from mailroom.transports import transport_for
from tests.conftest import make_settings
from tests.support.graph_server import GraphServer
from tests.support.smtp import Collector, free_port

MAILBOX = "complaints@landlord.example"
RESIDENT = "resident@example.org"
# A letter's PDF, as the letters module attaches it: its bytes must arrive unchanged.
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


# -- an SMTP server with AUTH XOAUTH2 -----------------------------------------------------------


class XOAuth2Collector(Collector):
    """Keeps what it is sent, after AUTH XOAUTH2 with a token in ``valid``.

    A refused token is answered as Google and Microsoft document XOAUTH2
    (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol,
    https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth):
    a 334 challenge holding a base64 JSON status, then, after the client's
    empty line, 535."""

    def __init__(self, user: str, valid: set[str]) -> None:
        super().__init__()
        self.user = user
        self.valid = valid
        self.offered: list[str] = []  # tokens presented, in order

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # aiosmtpd's hook name
        blob = base64.b64decode(args[1]) if len(args) > 1 else b""
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        self.offered.append(token)
        if fields.get("user") == self.user and token in self.valid:
            return AuthResult(success=True, auth_data=self.user)
        status = json.dumps({"status": "401", "schemes": "bearer", "scope": OUTLOOK_SCOPE})
        await server.challenge_auth(status)  # the client answers with an empty line
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")


@pytest.fixture
def xoauth2_server(ca: trustme.CA) -> Iterator[Any]:
    """Starts aiosmtpd requiring STARTTLS and then AUTH (XOAUTH2 only) before MAIL."""
    controllers: list[Controller] = []

    def start(collector: Collector) -> int:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        for attempt in range(5):  # under xdist another worker may take the port first
            port = free_port()
            controller = Controller(
                collector,
                hostname="127.0.0.1",
                port=port,
                tls_context=context,
                require_starttls=True,
                auth_required=True,
                auth_exclude_mechanism=["LOGIN", "PLAIN"],
            )
            try:
                controller.start()
            except OSError:
                if attempt == 4:
                    raise
                continue
            controllers.append(controller)
            return port
        raise AssertionError("unreachable")

    yield start
    for controller in controllers:
        controller.stop()


def _smtp(port: int, ca_file: Path, **values: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "ca_file": str(ca_file),
        "username": MAILBOX,
        "auth": "xoauth2",
        "sender": MAILBOX,
        "timeout": 10.0,
        "max_attempts": 3,
        "retry_base_seconds": 60.0,
        **values,
    }


# -- the outbox ------------------------------------------------------------------------------------


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    engine = make_engine(sqlite_url)
    migrate(engine)
    yield Store(engine)
    engine.dispose()


def _enqueue(store: Store, clock: FixedClock, key: str = "letter:CMP-2026-000001:stage1") -> None:
    with store.transaction() as repo:
        assert enqueue(
            repo,
            dedupe_key=key,
            sender=MAILBOX,
            recipients=[RESIDENT],
            subject="Your complaint CMP-2026-000001: our stage 1 response",
            body_text="Our response is attached.\n",
            now=clock.now(),
            attachments=[("stage-1-response.pdf", "application/pdf", PDF)],
        )


def _rows(store: Store) -> list[OutboxMessage]:
    with store.transaction() as repo:
        return list(repo.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _no_secret_anywhere(
    secrets: list[str], rows: list[OutboxMessage], caplog: pytest.LogCaptureFixture, capfd: Any
) -> None:
    """Not in the rows' errors, not in any log record of ours or of the libraries
    (MSAL, requests, urllib3, httpx, aiosmtplib), not on stdout or stderr. The
    test SMTP server's own logger ("mail.log") is left out: it is the far end."""
    out, err = capfd.readouterr()
    texts = [row.last_error for row in rows] + [out, err]
    texts += [record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")]
    for secret in filter(None, secrets):
        encoded = base64.b64encode(secret.encode()).decode()
        for text in texts:
            assert secret not in text and encoded[4:-4] not in text


# -- SMTP XOAUTH2 ----------------------------------------------------------------------------------


def test_xoauth2_token_command_delivers_and_a_refused_token_waits_for_a_good_one(
    store: Store,
    clock: FixedClock,
    xoauth2_server: Any,
    ca_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    good, stale = "ya29.a0-good-token-" + "x" * 40, "ya29.a0-stale-token-" + "y" * 40
    token_file = tmp_path / "token"
    token_file.write_text(stale + "\n", encoding="utf-8")
    collector = XOAuth2Collector(MAILBOX, {good})
    port = xoauth2_server(collector)
    settings = Settings.model_validate(
        {"smtp": _smtp(port, ca_file, oauth2_token_command=["cat", str(token_file)])}
    )
    _enqueue(store, clock)

    # An expired token: retried, not failed (the next attempt runs the command again).
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(retried=1)
    (row,) = _rows(store)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=60)
    assert row.last_error == (
        "SMTP XOAUTH2 token refused: 535 5.7.3 Authentication unsuccessful (token status 401)"
    )
    assert collector.offered == [stale] and not collector.messages

    token_file.write_text(good + "\n", encoding="utf-8")  # the helper has refreshed
    clock.advance(timedelta(seconds=60))
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)
    (row,) = _rows(store)
    assert row.status == "sent" and collector.offered[-1] == good
    (delivered,) = collector.messages
    assert delivered["Message-ID"] == row.message_id
    (attachment,) = list(delivered.iter_attachments())
    assert attachment.get_content() == PDF
    _no_secret_anywhere([good, stale], _rows(store), caplog, capfd)


def test_xoauth2_with_the_m365_app_refreshes_a_revoked_token_once(
    store: Store,
    clock: FixedClock,
    xoauth2_server: Any,
    ca_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    """No token command: the [m365] app's token for Exchange Online's scope. A token
    the server stops taking (revoked) is forgotten and a fresh one is tried on the
    same connection, so the mail still goes in this attempt."""
    caplog.set_level(logging.DEBUG)
    with GraphServer(tls=True) as entra:
        secret_file = tmp_path / "client_secret"
        secret_file.write_text(entra.client_secret, encoding="utf-8")
        valid: set[str] = set()
        collector = XOAuth2Collector(MAILBOX, valid)
        port = xoauth2_server(collector)
        settings = Settings.model_validate(
            {
                "smtp": _smtp(port, ca_file),
                "m365": {
                    "tenant_id": entra.tenant,
                    "client_id": entra.client_id,
                    "client_secret_file": str(secret_file),
                    "authority_host": entra.root,
                    "ca_file": str(entra.ca_file(tmp_path)),
                },
            }
        )
        first_token = _issued_token(entra, settings)
        valid.add(first_token)
        _enqueue(store, clock, "letter:1")
        assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)
        assert collector.offered == [first_token]  # MSAL's cached token, not a second request

        valid.clear()  # revoked: the server no longer takes it
        before = len(entra.token_requests)
        _enqueue(store, clock, "letter:2")
        # Wrapped so the test can let the fresh token in the moment Entra ID issues it.
        transport = transport_for(settings)
        assert transport is not None
        original = entra.issue_token

        def issue(scope: str = OUTLOOK_SCOPE) -> str:
            token = original(scope)
            valid.add(token)
            return token

        entra.issue_token = issue  # type: ignore[method-assign]
        assert send_due(store, settings.smtp, clock, transport=transport) == SendReport(sent=1)
        assert len(entra.token_requests) == before + 1
        assert entra.token_requests[-1]["scope"] == OUTLOOK_SCOPE
        assert collector.offered[-2] == first_token and collector.offered[-1] in valid
        assert len(collector.messages) == 2
        _no_secret_anywhere([entra.client_secret, *collector.offered], _rows(store), caplog, capfd)


def _issued_token(entra: GraphServer, settings: Settings) -> str:
    from mailroom.m365.tokens import provider_from_settings

    return provider_from_settings(settings, "outlook")()


def test_xoauth2_where_the_server_does_not_offer_it_fails_and_a_failing_command_waits(
    store: Store, clock: FixedClock, smtp_server: Any, xoauth2_server: Any, ca_file: Path, tmp_path: Path
) -> None:
    """Exchange Online offers XOAUTH2 only where SMTP AUTH is allowed for the
    mailbox: a person must switch it on, so the mail fails rather than loops. A
    token command that fails is a passing fault: the mail waits, with its reason."""
    _collector, port = smtp_server()  # STARTTLS, no AUTH at all
    token_file = tmp_path / "token"
    token_file.write_text("token-" + "z" * 40, encoding="utf-8")
    settings = SmtpSettings.model_validate(
        _smtp(port, ca_file, oauth2_token_command=["cat", str(token_file)])
    )
    _enqueue(store, clock, "letter:1")
    assert send_due(store, settings, clock) == SendReport(failed=1)
    assert _rows(store)[0].last_error == "the SMTP server 127.0.0.1 does not offer AUTH XOAUTH2"

    port = xoauth2_server(XOAuth2Collector(MAILBOX, set()))
    command = ["sh", "-c", "echo 'refresh token expired (AADSTS700082)' >&2; exit 3"]
    settings = SmtpSettings.model_validate(_smtp(port, ca_file, oauth2_token_command=command))
    _enqueue(store, clock, "letter:2")
    assert send_due(store, settings, clock) == SendReport(retried=1)
    row = _rows(store)[1]
    assert row.status == "pending"
    assert row.last_error == (
        "no OAuth2 token: oauth2 token command sh failed with exit status 3: "
        "refresh token expired (AADSTS700082)"
    )


# -- Microsoft Graph sendMail ------------------------------------------------------------------------


@pytest.fixture
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphServer, Path]]:
    with GraphServer(tls=True, mailboxes=(MAILBOX,)) as server:
        yield server, server.ca_file(tmp_path_factory.mktemp("graph"))


def _graph_sections(graph: tuple[GraphServer, Path], tmp_path: Path) -> dict[str, Any]:
    server, ca_file = graph
    secret_file = tmp_path / "m365_secret"
    secret_file.write_text(server.client_secret + "\n", encoding="utf-8")
    return {
        "smtp": {"sender": MAILBOX, "max_attempts": 3, "retry_base_seconds": 60.0},
        "outbound": {"transport": "graph"},
        "m365": {
            "tenant_id": server.tenant,
            "client_id": server.client_id,
            "client_secret_file": str(secret_file),
            "authority_host": server.root,
            "graph_url": server.root,
            "ca_file": str(ca_file),
            "timeout": 10,
        },
    }


@pytest.fixture
def graph_services(
    graph: tuple[GraphServer, Path], tmp_path: Path, db_url: str, clock: FixedClock
) -> Iterator[Services]:
    services = build_services(
        make_settings(tmp_path / "storage", db_url, **_graph_sections(graph, tmp_path)), clock
    )
    yield services
    services.store.engine.dispose()


def test_sendmail_delivers_the_outbox_bytes_exactly(
    graph: tuple[GraphServer, Path],
    graph_services: Services,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    """Through the same call the scheduler makes (reminders.send_outbox), with no
    SMTP host at all: the MIME Graph receives is the outbox row byte for byte."""
    caplog.set_level(logging.DEBUG)
    server, _ = graph
    _enqueue(graph_services.store, clock)
    assert send_outbox(graph_services) == SendReport(sent=1)
    assert send_outbox(graph_services) == SendReport()  # sent once
    (row,) = _rows(graph_services.store)
    (sent,) = server.sent_messages(MAILBOX)
    assert row.status == "sent" and sent.mime == bytes(row.raw)
    (attachment,) = list(sent.parsed().iter_attachments())
    assert attachment.get_content() == PDF
    (request,) = [r for r in server.graph_requests(MAILBOX) if r.path.endswith("/sendMail")]
    assert request.method == "POST" and request.headers["content-type"] == "text/plain"
    assert request.path == f"/v1.0/users/{MAILBOX}/sendMail"
    token = request.headers["authorization"].removeprefix("Bearer ")
    _no_secret_anywhere([server.client_secret, token], _rows(graph_services.store), caplog, capfd)


def test_sendmail_429_waits_for_retry_after_and_400_fails(
    graph: tuple[GraphServer, Path], tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    server, _ = graph
    settings = Settings.model_validate(_graph_sections(graph, tmp_path))
    _enqueue(store, clock)

    # Throttled for longer than the backoff: the next attempt is not before Retry-After.
    server.fail_send(429, "ApplicationThrottled", "Too many requests.", retry_after=300)
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(retried=1)
    (row,) = _rows(store)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=300)
    assert row.last_error == "Graph sendMail: 429 ApplicationThrottled: Too many requests."
    clock.advance(timedelta(seconds=299))
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport()
    # Throttled for less than the backoff: the backoff stands.
    clock.advance(timedelta(seconds=1))
    server.fail_send(503, "ServiceUnavailable", retry_after=5)
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(retried=1)
    (row,) = _rows(store)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)  # 60 s * 2^(2-1)
    clock.advance(timedelta(seconds=120))
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)
    assert len(server.sent_messages(MAILBOX)) == 1

    # A message Graph will not take: failed at once, for a person to see.
    _enqueue(store, clock, "letter:CMP-2026-000002:stage1")
    server.fail_send(400, "ErrorMimeContentInvalid", "The MIME content is invalid.")
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(failed=1)
    failed = _rows(store)[1]
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.last_error == "Graph sendMail: 400 ErrorMimeContentInvalid: The MIME content is invalid."

    # The app may not send as this mailbox (no Mail.Send, or an RBAC scope without it).
    _enqueue(store, clock, "letter:CMP-2026-000003:stage1")
    server.fail_send(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(failed=1)
    assert "Mail.Send" in _rows(store)[2].last_error


def test_sendmail_401_refreshes_the_token_once_and_a_revoked_secret_waits(
    graph: tuple[GraphServer, Path], tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    server, _ = graph
    settings = Settings.model_validate(_graph_sections(graph, tmp_path))
    _enqueue(store, clock, "letter:1")
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)

    # Graph stops taking the cached token: one 401, a fresh token, sent in the same attempt.
    server.expire_tokens()
    before = len(server.token_requests)
    _enqueue(store, clock, "letter:2")
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)
    assert len(server.token_requests) == before + 1
    statuses = [r.status for r in server.requests if r.path.endswith("/sendMail")]
    assert statuses == [202, 401, 202]

    # The secret is revoked in Entra ID: no token at all. The mail waits, the
    # error names the AADSTS code and nothing of the secret.
    server.expire_tokens()
    server.revoke_secret()
    _enqueue(store, clock, "letter:3")
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(retried=1)
    row = _rows(store)[2]
    assert row.status == "pending" and "AADSTS7000215" in row.last_error
    assert row.last_error.startswith("no OAuth2 token: Microsoft 365 token for app ")
    assert server.client_secret not in row.last_error

    server.restore_secret()  # the next attempt recovers with no restart
    clock.advance(timedelta(seconds=60))
    assert send_due(store, settings.smtp, clock, transport=transport_for(settings)) == SendReport(sent=1)
    assert len(server.sent_messages(MAILBOX)) == 3
