"""Servers and helpers that echo a secret back, escaped, quoted or base64-encoded:
the error line mailroom prints never holds it in any form."""

from __future__ import annotations

import base64
import io
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import pytest

from mailroom.clock import FixedClock
from mailroom.config import ImapAuth, ImapSecurity, ImapSettings, SmtpSettings
from mailroom.ingest.imap_source import ImapSource
from mailroom.ingest.oauth import command_token_provider
from mailroom.ingest.source import SourceError
from mailroom.outbound import enqueue, send_due
from mailroom.store.database import make_engine, migrate
from mailroom.store.repository import Store

USER = "complaints@northgatehomes.org.uk"
TOKEN = "EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAQ=="
PASSWORD = 'Pa55 "w0rd" \\ with-quotes'


def _xoauth2(token: str) -> str:
    return base64.b64encode(f"user={USER}\x01auth=Bearer {token}\x01\x01".encode()).decode()


class EchoingImapServer:
    """Just enough IMAP to refuse a login by quoting what the client sent,
    as a careless or hostile server (or a proxy in the path) might."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection, connection.makefile("rwb") as stream:
                self._session(stream)

    @staticmethod
    def _session(stream: io.BufferedRWPair) -> None:
        def send(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] echo server ready")
        for raw in iter(stream.readline, b""):
            tag, _, command = raw.decode().rstrip("\r\n").partition(" ")
            verb = command.split(" ", 1)[0].upper()
            if verb == "CAPABILITY":
                send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2")
                send(f"{tag} OK done")
            elif verb == "AUTHENTICATE":
                send("+ ")
                answer = stream.readline().decode().strip()
                send(f"{tag} NO [AUTHENTICATIONFAILED] rejected {answer}")
            elif verb == "LOGIN":
                send(f"{tag} NO [AUTHENTICATIONFAILED] rejected {command}")
            else:
                send("* BYE")
                send(f"{tag} OK bye")
                return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def echo_server() -> Iterator[EchoingImapServer]:
    server = EchoingImapServer()
    yield server
    server.close()


def _imap_settings(port: int, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": ImapSecurity.NONE,
        "username": USER,
        "connect_timeout": 5.0,
        "read_timeout": 5.0,
    }
    return ImapSettings.model_validate({**values, **overrides})


def test_an_imap_server_echoing_the_xoauth2_exchange_never_shows_the_token(
    echo_server: EchoingImapServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _imap_settings(echo_server.port, auth=ImapAuth.XOAUTH2, oauth2_token_command=["unused"])
    source = ImapSource(settings, token_provider=lambda: TOKEN, sleep=lambda _: None)
    with caplog.at_level(logging.INFO), pytest.raises(SourceError) as caught:
        source.scan({})
    message = str(caught.value)
    assert message == f"imap login failed for {USER}@127.0.0.1: [AUTHENTICATIONFAILED] rejected ***"
    for form in (TOKEN, _xoauth2(TOKEN), _xoauth2(TOKEN)[20:60]):
        assert form not in message and form not in caplog.text


def test_an_imap_server_echoing_the_quoted_password_never_shows_it(echo_server: EchoingImapServer) -> None:
    source = ImapSource(_imap_settings(echo_server.port, password=PASSWORD), sleep=lambda _: None)
    with pytest.raises(SourceError) as caught:
        source.scan({})
    message = str(caught.value)
    assert message.startswith(f"imap login failed for {USER}@127.0.0.1: [AUTHENTICATIONFAILED] rejected")
    assert "***" in message and "Pa55" not in message and "w0rd" not in message


def test_a_failing_token_command_never_shows_a_token_or_secret_from_its_stderr() -> None:
    """The helper is not ours: on failure it may print the refresh token, the
    token it issued before, or its client secret. The reason stays readable."""
    script = (
        "import sys, pathlib\n"
        "marker = pathlib.Path(sys.argv[1])\n"
        "if not marker.exists():\n"
        "    marker.write_text('x'); print('first-token-' + 'a1' * 20); sys.exit(0)\n"
        "print('AADSTS70008: expired; refresh_token=0.AXEAr3fr35h-t0k3n; last first-token-' + 'a1' * 20"
        " + ' secret ' + sys.argv[2], file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    marker = Path(f"/tmp/mailroom-token-{threading.get_ident()}-{id(script)}")
    marker.unlink(missing_ok=True)
    client_secret = "Qx8Q~short~but~secret"
    provide = command_token_provider([sys.executable, "-c", script, str(marker), f"--secret={client_secret}"])
    try:
        assert provide() == "first-token-" + "a1" * 20
        with pytest.raises(SourceError) as caught:
            provide()
    finally:
        marker.unlink(missing_ok=True)
    message = str(caught.value)
    assert "failed with exit status 2: AADSTS70008: expired; refresh_token=***" in message
    for secret in ("r3fr35h", "first-token-a1", client_secret, "Qx8Q"):
        assert secret not in message
    assert "\n" not in message


def test_an_smtp_reply_echoing_auth_plain_never_reaches_the_outbox_row(
    sqlite_url: str, clock: FixedClock
) -> None:
    """A relay quoting the AUTH PLAIN exchange in its refusal: the row's
    last_error, shown by `outbox list`, keeps the reply but not the password."""
    engine = make_engine(sqlite_url)
    migrate(engine)
    store = Store(engine)
    with store.transaction() as repo:
        enqueue(
            repo,
            dedupe_key="k1",
            sender=USER,
            recipients=["resident@example.org"],
            subject="s",
            body_text="b",
            now=clock.now(),
        )
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()

    async def echoing_relay(sender: str, recipients: object, raw: bytes) -> dict[str, str]:
        raise aiosmtplib.SMTPAuthenticationError(535, f"5.7.8 AUTH PLAIN {plain} rejected ({PASSWORD!r})")

    settings = SmtpSettings.model_validate(
        {"host": "127.0.0.1", "port": 25, "sender": USER, "username": USER, "password": PASSWORD}
    )
    send_due(store, settings, clock, transport=echoing_relay)
    with engine.connect() as connection:
        (error,) = connection.exec_driver_sql("SELECT last_error FROM outbox").one()
    engine.dispose()
    assert error == "SMTP login refused: 535 5.7.8 AUTH PLAIN *** rejected ('***')"
