"""The outbox's transport over SMTP (aiosmtplib): a password login, none, or AUTH
XOAUTH2 with a token from a command or the [m365] app (Microsoft 365, Google
Workspace). One connection per message; STARTTLS required, not opportunistic.
Errors are sorted by ``outbound.classify_error``."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Callable, Sequence

import aiosmtplib

from mailroom.config import ConfigError, SmtpAuth, SmtpSecurity, SmtpSettings
from mailroom.outbound import Transport, TransportError


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
