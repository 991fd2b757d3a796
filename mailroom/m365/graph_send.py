"""The outbox's transport through Microsoft Graph: ``POST /users/{mailbox}/sendMail``
with the outbox row's own MIME bytes, so the letter PDF, the Message-ID and every
header are those ``outbound.build_message`` made.

MIME form of sendMail (https://learn.microsoft.com/en-us/graph/api/user-sendmail,
https://learn.microsoft.com/en-us/graph/outlook-send-mime-message): the request
body is the message base64-encoded, ``Content-Type: text/plain``; Graph answers
202 Accepted and delivers later (a bounce comes back by mail, as over SMTP).
Graph takes the recipients from the message's To/Cc/Bcc headers, not from an
envelope: a row whose recipients the headers do not name is refused here rather
than sent somewhere else.

Status codes (https://learn.microsoft.com/en-us/graph/errors) are sorted as the
SMTP replies are (``outbound.classify_error``):
- 401: the token was refused (revoked, expired early, permissions changed): the
  provider forgets it and the request is made once more with a fresh one; a
  second 401 is a temporary failure, so the row waits for a working token.
- 408, 429, 500, 502, 503, 504 and any other 5xx: temporary. ``Retry-After``
  (https://learn.microsoft.com/en-us/graph/throttling) is honoured: the row's
  next attempt is not before it.
- 400 (the MIME refused), 403 (the app may not send as this mailbox: Mail.Send,
  or an Exchange RBAC scope that leaves it out), 404 (no such mailbox), 413
  (Graph takes about 4 MB a request) and the other 4xx: permanent, a person must
  look.
"""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import email.utils
import json
import math
import ssl
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import timedelta

import httpx

from mailroom.config import ConfigError, Settings
from mailroom.m365.tokens import provider_from_settings
from mailroom.outbound import TransportError

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_DETAIL_CHARS = 300


class GraphSendError(TransportError):
    """sendMail did not take the message; ``status`` is the HTTP status (0: no
    reply: the connection failed or timed out)."""

    def __init__(
        self, message: str, *, status: int, retry: bool, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(message, retry=retry, retry_after=retry_after)
        self.status = status


class GraphTransport:
    """An outbox Transport (``outbound.Transport``) over Graph sendMail."""

    def __init__(
        self,
        *,
        graph_url: str,
        mailbox: str,
        token_provider: Callable[[], str],
        timeout: float,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        quoted = urllib.parse.quote(mailbox, safe="@")
        self._url = f"{graph_url.rstrip('/')}/v1.0/users/{quoted}/sendMail"
        self._provider = token_provider
        self._timeout = timeout
        self._verify = verify
        self._tokens: list[str] = []  # hidden from every error line (outbound._transport_secrets)

    def secrets(self) -> tuple[str, ...]:
        return tuple(self._tokens[-2:])

    async def __call__(self, sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, str]:
        _check_recipients(raw, recipients)
        body = base64.b64encode(raw)
        # One client per message: the transport outlives one event loop (send_due
        # runs a loop per call) and a client is bound to the loop that opened it.
        async with httpx.AsyncClient(timeout=self._timeout, verify=self._verify) as client:
            response = await self._post(client, body, await self._token())
            if response.status_code == 401:
                forget = getattr(self._provider, "invalidate", None)
                if callable(forget):
                    forget()
                response = await self._post(client, body, await self._token())
        if 200 <= response.status_code < 300:
            return {}  # Graph refuses the whole message or takes it: no per-recipient refusals
        raise _failure(response)

    async def _token(self) -> str:
        token = await asyncio.to_thread(self._provider)  # MSAL or a command: both block
        self._tokens[:] = [*self._tokens[-1:], token]
        return token

    async def _post(self, client: httpx.AsyncClient, body: bytes, token: str) -> httpx.Response:
        try:
            return await client.post(
                self._url,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            )
        except httpx.TransportError as exc:
            # Chained: outbound.classify_error looks down the causes for a TLS
            # failure (a bad certificate is not retried).
            name = type(exc).__name__
            raise GraphSendError(f"Graph sendMail: {name}: {exc}", status=0, retry=True) from exc


def _failure(response: httpx.Response) -> GraphSendError:
    status = response.status_code
    code, message = _graph_error(response)
    detail = f"{status} {code}: {message}" if code or message else str(status)
    retry_after = _retry_after(response)
    if status == 401:
        return GraphSendError(f"Graph sendMail refused the token twice: {detail}", status=status, retry=True)
    retry = status in _RETRY_STATUSES or status >= 500
    hint = ""
    if status == 403:
        hint = " (the app needs Mail.Send, and an Exchange RBAC scope that includes this mailbox)"
    elif status == 413:
        hint = " (Graph takes about 4 MB per request; send this one over SMTP)"
    return GraphSendError(
        f"Graph sendMail: {detail}{hint}", status=status, retry=retry, retry_after=retry_after
    )


def _graph_error(response: httpx.Response) -> tuple[str, str]:
    """Graph's error code and message (``{"error": {"code", "message"}}``), cut short."""
    try:
        error = json.loads(response.content[:65536]).get("error")
    except (ValueError, AttributeError):
        return "", " ".join(response.text[:_DETAIL_CHARS].split())
    if not isinstance(error, dict):
        return "", ""
    code, message = error.get("code"), error.get("message")
    return (
        str(code)[:80] if isinstance(code, str) else "",
        " ".join(str(message)[:_DETAIL_CHARS].split()) if isinstance(message, str) else "",
    )


def _retry_after(response: httpx.Response) -> timedelta | None:
    """``Retry-After`` as a delay: seconds, or an HTTP date measured against the
    reply's own Date (so no clock is read here)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value[:20])  # Graph sends whole seconds; fractions cost nothing to take
    except ValueError:
        pass  # an HTTP date
    else:
        return timedelta(seconds=min(max(seconds, 0.0), 24 * 3600.0)) if math.isfinite(seconds) else None
    try:
        until = email.utils.parsedate_to_datetime(value)
        sent = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    if until.tzinfo is None or sent.tzinfo is None:
        return None
    return max(until - sent, timedelta(0))


def _check_recipients(raw: bytes, recipients: Sequence[str]) -> None:
    """Graph delivers to the addresses in the headers; the outbox recorded the
    envelope. ``outbound.enqueue`` makes them the same (To = recipients); if
    they ever differ, refuse rather than mail someone else."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    named = {
        address.lower()
        for _name, address in email.utils.getaddresses(
            [str(value) for field in ("To", "Cc", "Bcc") for value in headers.get_all(field, [])]
        )
    }
    missing = sorted(address for address in recipients if address.lower() not in named)
    if missing:
        raise GraphSendError(
            "Graph sends to the message's To/Cc/Bcc headers, which do not name " + ", ".join(missing[:5]),
            status=0,
            retry=False,
        )


def graph_transport(settings: Settings, token_provider: Callable[[], str] | None = None) -> GraphTransport:
    """The transport for ``[outbound] transport = "graph"``: sends as
    ``m365.mailbox`` (default: ``smtp.sender``) with the [m365] app's Graph token."""
    m365 = settings.m365
    mailbox = m365.mailbox or settings.smtp.sender
    if token_provider is None:
        if not m365.enabled:
            raise ConfigError("outbound.transport 'graph' needs the [m365] app registration (m365.tenant_id)")
        token_provider = provider_from_settings(settings, "graph")
    if "@" not in mailbox:
        raise ConfigError(
            "outbound.transport 'graph' needs m365.mailbox (or smtp.sender): the mailbox to send as"
        )
    return GraphTransport(
        graph_url=m365.graph_url,
        mailbox=mailbox,
        token_provider=token_provider,
        timeout=m365.timeout,
        # A context, not a path: httpx has deprecated verify="<file>".
        verify=ssl.create_default_context(cafile=str(m365.ca_file)) if m365.ca_file is not None else True,
    )
