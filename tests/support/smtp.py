"""An SMTP server for tests: aiosmtpd on loopback with STARTTLS on a trustme
certificate (registered as a pytest plugin in tests/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Collector:
    """Keeps what it is sent. ``rcpt_replies`` are answered to RCPT TO first,
    in order (e.g. ["451 try later"]); ``refuse`` addresses always get 550."""

    def __init__(self, rcpt_replies: list[str] | None = None, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpt_replies = list(rcpt_replies or [])
        self.refuse = refuse
        self._lock = threading.Lock()

    async def handle_RCPT(  # aiosmtpd hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


class SmtpServers:
    """Starts servers on loopback (STARTTLS required unless starttls=False);
    ``stop(port)`` and ``restart(port)`` simulate an outage of one of them."""

    def __init__(self, ca: trustme.CA) -> None:
        self.ca = ca
        self.running: dict[int, tuple[Controller, Collector, bool]] = {}

    def __call__(self, collector: Collector | None = None, *, starttls: bool = True) -> tuple[Collector, int]:
        collector = collector or Collector()
        for attempt in range(5):  # under xdist, another worker may bind the port we just saw free
            port = free_port()
            try:
                self._start(collector, port, starttls)
            except OSError:
                if attempt == 4:
                    raise
                continue
            return collector, port
        raise AssertionError("unreachable")

    def _start(self, collector: Collector, port: int, starttls: bool) -> None:
        kwargs: dict[str, Any] = {}
        if starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            kwargs = {"tls_context": context, "require_starttls": True}
        controller = Controller(collector, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        self.running[port] = (controller, collector, starttls)

    def stop(self, port: int) -> None:
        controller, collector, starttls = self.running[port]
        controller.stop()
        self.running[port] = (controller, collector, starttls)
        self._stopped = getattr(self, "_stopped", set()) | {port}

    def restart(self, port: int) -> None:
        _, collector, starttls = self.running[port]
        self._start(collector, port, starttls)
        self._stopped.discard(port)

    def close(self) -> None:
        for port, (controller, _, _) in self.running.items():
            if port not in getattr(self, "_stopped", set()):
                controller.stop()


ServerFactory = SmtpServers


@pytest.fixture
def smtp_server(ca: trustme.CA) -> Iterator[SmtpServers]:
    servers = SmtpServers(ca)
    yield servers
    servers.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
