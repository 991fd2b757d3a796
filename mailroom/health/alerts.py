"""The alert and recovery mails of a health incident (mailroom/health/record.py).

Both go through the outbox (mailroom/outbound.py), queued in the transaction that
records the incident, under keys that name the incident: ``health:<source>:<since>``
and ``health:<source>:<since>:recovered``. The outbox sends ``health:`` mail at any
hour (only reminders wait for the working-hours window), with its retries, and
through the configured transport ([outbound] transport). When that transport is
itself what fails (an ``outbound:`` incident), its alert waits in the outbox with
the rest: ``mailroom status`` and the desk's /readyz are the channels that still
show it (docs/deployment.md, "Health").

A mail names the source, the kind of failure, since when, the last error line and
what to do; never a secret (the error lines are redacted where they are made).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mailroom.clock import LONDON
from mailroom.health.record import AUTH, CERTIFICATE, ERROR, INCIDENT_WORDS, STALE, Health
from mailroom.outbound import enqueue

if TYPE_CHECKING:
    from mailroom.services import Services

log = logging.getLogger(__name__)

_KEY_CHARS = 300  # outbox.dedupe_key

_WHAT_TO_DO = {
    AUTH: (
        "The login, token or client secret was refused. Renew it: the token command\n"
        "(imap.oauth2_token_command / smtp.oauth2_token_command), the [m365] client secret\n"
        "or certificate, or the mailbox password; then check the app's permissions.\n"
    ),
    CERTIFICATE: (
        "The server's TLS certificate could not be verified. Check the server's\n"
        "certificate (expired? renamed host?) or the ca_file mailroom is told to trust.\n"
    ),
    STALE: (
        "No poll of this source has succeeded for too long. Check that a `mailroom run`\n"
        "is running (`mailroom status` names the scheduler leader) and can reach the server.\n"
    ),
    ERROR: (
        "Mail has not left for too long. Check the transport's server and settings;\n"
        "what waits in the outbox goes out when it works again.\n"
    ),
}


def recipients(services: Services) -> list[str]:
    """health.admin_addresses, else the reminders' manager addresses."""
    settings = services.settings
    return list(settings.health.admin_addresses or settings.reminders.manager_addresses)


def sender(services: Services) -> str:
    settings = services.settings
    return settings.smtp.sender or settings.m365.mailbox or "mailroom@localhost"


def alert_key(row: Health) -> str:
    since = row.incident_since.isoformat() if row.incident_since else ""
    return _key(f"health:{row.source}:{since}")


def queue_alert(services: Services, session: Session, row: Health, now: datetime) -> bool:
    """Queue the alert of ``row``'s open incident; False if there is no one to tell.
    (An alert queued before under the same key is not queued again; that counts as sent.)"""
    to = recipients(services)
    if not to:
        log.warning("health: %s: %s, and no health.admin_addresses to tell", row.source, row.incident)
        return False
    words = INCIDENT_WORDS.get(row.incident, row.incident)
    body = (
        f"mailroom health alert: {words} on {row.source}\n\n"
        f"Since:                {_uk(row.incident_since)}\n"
        f"Last successful poll: {_uk(row.last_success_at)}\n"
        f"Consecutive failures: {row.consecutive_failures}\n"
        f"Last error:           {row.last_error or '(none)'}\n"
        f"Last error at:        {_uk(row.last_error_at)}\n\n"
        f"{_WHAT_TO_DO.get(row.incident, '')}\n"
        "You get one mail for this incident, and one more when it recovers.\n"
        "On the worker: mailroom status\n"
    )
    enqueue(
        session,
        dedupe_key=alert_key(row),
        sender=sender(services),
        recipients=to,
        subject=f"mailroom alert: {words} on {row.source}",
        body_text=body,
        now=now,
    )
    return True


def queue_recovery(services: Services, session: Session, row: Health, now: datetime) -> bool:
    """Queue the recovery mail of ``row``'s incident (whose alert went out)."""
    to = recipients(services)
    if not to:
        return False
    words = INCIDENT_WORDS.get(row.incident, row.incident)
    body = (
        f"mailroom health: {row.source} works again.\n\n"
        f"Working again at: {_uk(now)}\n"
        f"The incident:     {words}, since {_uk(row.incident_since)}\n"
        f"Its last error:   {row.last_error or '(none)'}\n"
    )
    enqueue(
        session,
        dedupe_key=_key(alert_key(row) + ":recovered"),
        sender=sender(services),
        recipients=to,
        subject=f"mailroom recovered: {row.source}",
        body_text=body,
        now=now,
    )
    return True


def _key(key: str) -> str:
    """The outbox key, hashed when a long source name would overflow the column."""
    if len(key) <= _KEY_CHARS:
        return key
    return f"health:{hashlib.sha256(key.encode()).hexdigest()}"


def _uk(value: datetime | None) -> str:
    return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S %Z") if value else "never"
