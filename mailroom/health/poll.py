"""The worker's passes with their health recorded: what the scheduler's jobs and
`mailroom run --once` call instead of the bare use cases.

- ``poll_sources``  one pass over the sources, one source at a time, so a source
                    that fails is recorded and the others are still read;
- ``send_outbox``   the outbox run, recorded as ``outbound:<transport>``;
- ``sweep``         the reminder sweep, recorded as ``sweep:reminders`` (the last
                    sweep ``mailroom status`` shows).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from mailroom.config import ConfigError
from mailroom.health.record import (
    OUTBOUND_PREFIX,
    SWEEP,
    check_overdue,
    outbound_name,
    record_failure,
    record_success,
    source_name,
)
from mailroom.ingest.source import MailSource, SourceError
from mailroom.store.schema import MailboxHealth

# The dedupe keys of the health alerts and recoveries (mailroom/health/alerts.py).
ALERT_PREFIXES = ("health:",)

if TYPE_CHECKING:
    from mailroom.outbound import SendReport, Transport
    from mailroom.services import Services
    from mailroom.worker import RunReport


def poll_sources(
    services: Services,
    sources: Sequence[MailSource],
    run: Callable[[Sequence[MailSource]], RunReport],
) -> tuple[RunReport, list[tuple[MailSource, SourceError]]]:
    """``run`` (worker.run_once) over each source on its own, each recorded; then
    the overdue check (stale sources, failing transports). Returns the merged
    report and the sources that failed with their errors. A database error is no
    source's fault: it propagates, unrecorded."""
    from mailroom.worker import RunReport

    merged = RunReport()
    failed: list[tuple[MailSource, SourceError]] = []
    for source in sources:
        name = source_name(services.settings, source)
        try:
            report = run([source])
        except SourceError as exc:
            record_failure(services, name, exc)
            failed.append((source, exc))
            continue
        record_success(services, name)
        merged.seen += report.seen
        merged.resighted += report.resighted
        merged.outcomes.update(report.outcomes)
        merged.logged.extend(report.logged)
    check_overdue(services, [source_name(services.settings, source) for source in sources])
    return merged, failed


def send_outbox(services: Services) -> SendReport:
    """Send the outbox (reminders.send_outbox) and record how the transport did: a
    run that sent something is a success; one where mail was due and none left is
    a failure, with the error of the latest row that failed; a run with nothing
    due records nothing."""
    from mailroom import reminders
    from mailroom.outbound import SendReport

    name = outbound_name(services.settings)
    if not _sending_on(services):
        return reminders.send_outbox(services)  # sending is off: nothing to record
    # While the configured transport fails, the health alerts (the mail saying so)
    # go through the other one when both are set up; everything else waits for it.
    detour = _alerts_detour(services, name)
    if detour is not None:
        _send_alerts_by(services, *detour)
    try:
        report = reminders.send_outbox(services, hold=ALERT_PREFIXES if detour else ())
    except SourceError as exc:  # a transport's token provider that failed outright
        record_failure(services, name, exc)
        check_overdue(services, [])
        return SendReport()
    if report.sent:
        record_success(services, name)
    elif report.retried or report.failed:
        record_failure(services, name, _latest_send_error(services))
        check_overdue(services, [])  # failing for long enough: an "error" incident of its own
    # Nothing was due: no news of the transport either way.
    return report


def _alerts_detour(services: Services, name: str) -> tuple[str, Transport] | None:
    """The other transport, when the configured one (``name``) is failing and both are set up."""
    from mailroom.transports import fallback_transport_for

    with services.store.transaction() as repo:
        row = repo.session.get(MailboxHealth, name)
        failing = row is not None and row.consecutive_failures > 0
    if not failing:
        return None
    try:
        return fallback_transport_for(services.settings)
    except ConfigError:
        return None  # the other one is not usable: the alerts wait with the rest


def _send_alerts_by(services: Services, name: str, transport: Transport) -> None:
    """Send the pending health alerts through ``transport``, recorded as ``outbound:<name>``."""
    from mailroom import reminders

    other = OUTBOUND_PREFIX + name
    try:
        report = reminders.send_outbox(services, transport=transport, only=ALERT_PREFIXES)
    except SourceError as exc:
        record_failure(services, other, exc)
        return
    if report.sent:
        record_success(services, other)
    elif report.retried or report.failed:
        record_failure(services, other, _latest_send_error(services))


def sweep(services: Services) -> None:
    """The reminder sweep (when reminders have somewhere to go), recorded."""
    from mailroom import reminders

    if not reminders.enabled(services):
        return
    try:
        reminders.sweep(services)
    except Exception as exc:
        with contextlib.suppress(Exception):  # the database may be what failed: say the first error
            record_failure(services, SWEEP, exc, kind="error")
        raise
    record_success(services, SWEEP)


def _sending_on(services: Services) -> bool:
    settings = services.settings
    if settings.outbound.transport.value == "graph":
        return settings.m365.enabled
    return settings.smtp.enabled


def _latest_send_error(services: Services) -> str:
    from mailroom.outbound import FAILED, PENDING
    from mailroom.store.schema import OutboxMessage

    query = (
        select(OutboxMessage.last_error)
        .where(
            OutboxMessage.status.in_((PENDING, FAILED)),
            OutboxMessage.attempts > 0,
            OutboxMessage.last_error != "",
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    with services.store.transaction() as repo:
        return repo.session.scalar(query) or "sending failed"
