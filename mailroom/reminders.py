"""Turn running Code clocks into reminder mails in the outbox: the reminder sweep.

The sweep reads only the stored clocks whose ``next_reminder_at`` has come (an
index range scan, however many cases there are), asks the pure ladder
(``domain/reminders.py``) which step is due, ledgers the step in
``reminder_log`` (unique key: complaint, clock, deadline version, step), and
queues the mail in the same transaction. Restarts, double runs and two
workers therefore queue each step once. Reminders go to staff only: the
case's officer (or the team's shared addresses while none is assigned), and
on overdue steps the officer's manager. Staff who take a digest get one mail
per sweep listing everything due instead of one mail per item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailroom.clock import LONDON
from mailroom.config import ReminderSettings
from mailroom.domain.deadlines import Deadline, deadline_state
from mailroom.domain.ids import case_reference
from mailroom.domain.reminders import ReminderDue, next_reminder_at, reminder_due
from mailroom.outbound import (
    OutboundMail,
    SendReport,
    Transport,
    enqueue,
    enqueue_many,
    send_due,
)
from mailroom.services import Services
from mailroom.store.repository import ReminderCandidate, Repository
from mailroom.store.schema import StaffMember
from mailroom.transports import transport_for

# Clocks handled per transaction; the sweep loops until none is left.
SWEEP_BATCH = 2000


@dataclass(frozen=True)
class PlannedReminder:
    due: ReminderDue
    complaint_id: str
    subject: str
    who: str  # the complainant, as staff know the case
    deadline: Deadline
    recipients: tuple[str, ...]  # each gets this reminder as its own mail
    digest_recipients: tuple[str, ...]  # each gets it in their digest


@dataclass
class SweepReport:
    steps: int = 0  # ladder steps ledgered
    mails: int = 0  # single reminder mails queued
    digests: int = 0  # digest mails queued


def enabled(services: Services) -> bool:
    """Reminders need somewhere to go: team addresses, or staff assigned to cases."""
    if services.settings.reminders.officer_addresses:
        return True
    with services.store.transaction() as repo:
        return bool(repo.staff())


def sweep(services: Services) -> SweepReport:
    """Ledger and queue every reminder step due now."""
    report = SweepReport()
    while True:
        with services.store.transaction() as repo:
            now = services.clock.now()
            candidates = repo.reminder_candidates(now, SWEEP_BATCH)
            _sweep_batch(services, repo, candidates, now, report)
        if len(candidates) < SWEEP_BATCH:
            return report


def alert_cases_without_clocks(services: Services) -> int:
    """An open case with no Code clock at all is an error no reminder would ever
    show: one mail per case, once (its outbox key), to whom an overdue reminder
    would go (the officer or the team, and their managers). A pass over every open
    case, so it runs with the daily calendar job and `run --once`, not each sweep."""
    with services.store.transaction() as repo:
        return _alert_cases_without_clocks(services, repo, services.clock.now())


def _alert_cases_without_clocks(services: Services, repo: Repository, now: datetime) -> int:
    cases = repo.open_cases_without_clocks(SWEEP_BATCH)
    if not cases:
        return 0
    staff = repo.staff()
    mails = []
    for complaint in cases:
        single, digest = route(
            complaint.officer, True, staff, services.settings.reminders, complaint.complainant_email
        )
        recipients = (*single, *digest)
        if not recipients:
            continue
        received = complaint.received_at.astimezone(LONDON).date().isoformat()
        text = (
            f"Complaint {complaint.id} ({complaint.subject[:200]}) has no Code clocks: received {received},\n"
            "outside the working-day calendar. No deadline or reminder will run for it.\n\n"
            f"Check the receipt date and the calendar: mailroom cases show {complaint.id}\n"
        )
        subject = f"[{case_reference(complaint.id)}] ERROR: no Code clocks on this complaint"
        mails.append(OutboundMail(f"no-clocks:{complaint.id}", recipients, subject, text, complaint.id))
    return enqueue_many(repo, _sender(services), mails, now)


# Outbox rows the sweep queues: the two prefixes of their dedupe keys.
REMINDER_KEYS = ("reminder:", "digest:")


def held_outside_window(services: Services) -> tuple[str, ...]:
    """The outbox rows to hold back now: reminders, outside working hours (a
    retry after an SMTP outage waits for the window instead of going at night)."""
    local = services.clock.now().astimezone(LONDON)
    ladder = services.ladder
    working = services.calendar.is_working_day(local.date())
    return () if working and ladder.window_start <= local.time() < ladder.window_end else REMINDER_KEYS


def send_outbox(
    services: Services,
    *,
    transport: Transport | None = None,
    hold: Sequence[str] = (),
    only: Sequence[str] = (),
) -> SendReport:
    """Send what the outbox holds, reminders only inside working hours, through
    the transport ``[outbound] transport`` names (SMTP or Microsoft Graph), or
    ``transport``. ``hold`` and ``only``: dedupe-key prefixes to leave, or to send
    alone (mailroom/health/poll.py sends the alerts another way while the
    configured transport fails)."""
    transport = transport or transport_for(services.settings)
    if transport is None:
        return SendReport()  # sending is off: mail waits in the outbox (and no calendar is needed)
    return send_due(
        services.store,
        services.settings.smtp,
        services.clock,
        transport=transport,
        hold=(*held_outside_window(services), *hold),
        only=only,
    )


def queue_due(services: Services) -> int:
    """Queue every reminder due now; returns how many steps were new."""
    return sweep(services).steps


def _sweep_batch(
    services: Services,
    repo: Repository,
    candidates: Sequence[ReminderCandidate],
    now: datetime,
    report: SweepReport,
) -> None:
    staff = repo.staff() if candidates else {}
    planned = [item for c in candidates if (item := _plan(services, c, staff, now)) is not None]
    # One statement ledgers the whole batch; only the steps new to the ledger are mailed.
    new = repo.log_reminders([_ledger_row(item, now) for item in planned])
    digests: dict[str, list[PlannedReminder]] = {}
    singles = []
    for item in planned:
        if item.due.key not in new:
            continue
        report.steps += 1
        if item.recipients:
            singles.append(
                OutboundMail(item.due.key, item.recipients, subject(item), body(item), item.complaint_id)
            )
        for address in item.digest_recipients:
            digests.setdefault(address, []).append(item)
    report.mails += enqueue_many(repo, _sender(services), singles, now)
    ladder, calendar = services.ladder, services.calendar
    repo.set_next_reminders(
        [(c.deadline_id, next_reminder_at(c.due, ladder, calendar, now)) for c in candidates]
    )
    for address, items in digests.items():
        report.digests += _queue_digest(services, repo, address, items, now)


def preview(services: Services, at: datetime) -> list[PlannedReminder]:
    """The reminders the ladder calls for at ``at`` on every running clock,
    whether or not already sent (``mailroom reminders preview``)."""
    planned = []
    with services.store.transaction() as repo:
        staff = repo.staff()
        for row, complaint in repo.running_deadlines():
            candidate = ReminderCandidate(
                row.id,
                complaint.id,
                row.clock,
                row.paragraph,
                row.title,
                row.due,
                row.lapses_at,
                row.calendar_version,
                complaint.officer,
                complaint.subject,
                complaint.complainant_name,
                complaint.complainant_email,
            )
            item = _plan(services, candidate, staff, at)
            if item is not None:
                planned.append(item)
    return planned


def _plan(
    services: Services, candidate: ReminderCandidate, staff: Mapping[str, StaffMember], now: datetime
) -> PlannedReminder | None:
    state = deadline_state(
        None,
        candidate.lapses_at,
        candidate.due,
        services.calendar,
        now,
        services.settings.policy.due_soon_working_days,
    )
    deadline = Deadline(
        candidate.clock,
        candidate.paragraph,
        candidate.title,
        candidate.lapses_at,  # not used by the ladder
        candidate.due,
        candidate.lapses_at,
        state,
        candidate.calendar_version,
    )
    due = reminder_due(candidate.complaint_id, deadline, services.ladder, services.calendar, now)
    if due is None:
        return None
    single, digest = route(
        candidate.officer, due.escalate, staff, services.settings.reminders, candidate.complainant_email
    )
    who = candidate.complainant_name or candidate.complainant_email or "no name"
    return PlannedReminder(due, candidate.complaint_id, candidate.subject, who, deadline, single, digest)


def route(
    officer: str,
    escalate: bool,
    staff: Mapping[str, StaffMember],
    settings: ReminderSettings,
    complainant_email: str = "",
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(addresses mailed singly, addresses that take a digest) for one reminder.

    The assigned officer, else the team's shared addresses; when overdue, also
    each officer's manager from the staff list, else the configured managers.
    Never the complainant, whatever the configuration says."""
    officers = [officer] if officer else list(settings.officer_addresses)
    everyone = list(officers)
    if escalate:
        for address in officers:
            member = staff.get(address.lower())
            everyone += (
                [member.manager_email] if member and member.manager_email else settings.manager_addresses
            )
    resident = complainant_email.lower()
    addresses = [a for a in dict.fromkeys(a.lower() for a in everyone) if a and a != resident]
    digest = tuple(a for a in addresses if _takes_digest(a, staff, settings))
    return tuple(a for a in addresses if a not in digest), digest


def _takes_digest(address: str, staff: Mapping[str, StaffMember], settings: ReminderSettings) -> bool:
    member = staff.get(address)
    return member.digest if member is not None else settings.digest


def _ledger_row(item: PlannedReminder, now: datetime) -> dict[str, Any]:
    return {
        "key": item.due.key,
        "complaint_id": item.complaint_id,
        "clock": item.due.clock,
        "step": item.due.step,
        "recipients": ",".join((*item.recipients, *item.digest_recipients)),
        "digest": bool(item.digest_recipients),
        "created_at": now,
    }


def _sender(services: Services) -> str:
    return services.settings.smtp.sender or "mailroom@localhost"


def _queue_digest(
    services: Services, repo: Repository, address: str, items: list[PlannedReminder], now: datetime
) -> int:
    keys = "\n".join(sorted(item.due.key for item in items))
    digest_id = hashlib.sha256(keys.encode()).hexdigest()[:16]
    return int(
        enqueue(
            repo,
            dedupe_key=f"digest:{address}:{digest_id}",
            sender=_sender(services),
            recipients=[address],
            subject=digest_subject(items),
            body_text=digest_body(items),
            now=now,
        )
    )


def subject(item: PlannedReminder) -> str:
    state = "OVERDUE" if item.due.escalate else f"due {item.deadline.due:%a %d %b}"
    return f"[{case_reference(item.complaint_id)}] {item.deadline.title} ({item.deadline.paragraph}): {state}"


def body(item: PlannedReminder) -> str:
    deadline = item.deadline
    lines = [
        f"Complaint {item.complaint_id} ({item.who}):",
        f"  {item.subject}",
        "",
        f"{deadline.title}, Complaint Handling Code {deadline.paragraph}.",
        f"Due by the end of {deadline.due:%A %d %B %Y} (UK time).",
    ]
    if item.due.escalate:
        lines.append("This deadline has lapsed: the Code requires it to be met now.")
    lines += ["", f"mailroom cases show {item.complaint_id}", f"(reminder step {item.due.step})"]
    return "\n".join(lines) + "\n"


def digest_subject(items: Sequence[PlannedReminder]) -> str:
    overdue = sum(1 for item in items if item.due.escalate)
    lapsed = f", {overdue} overdue" if overdue else ""
    return f"Complaint deadlines: {len(items)} need action{lapsed}"


def digest_body(items: Sequence[PlannedReminder]) -> str:
    ordered = sorted(items, key=lambda item: (item.deadline.due, item.complaint_id, item.deadline.clock))
    lines = [f"{len(items)} Complaint Handling Code deadlines need action:", ""]
    for item in ordered:
        state = "OVERDUE" if item.due.escalate else f"due {item.deadline.due:%a %d %b %Y}"
        lines.append(
            f"- [{case_reference(item.complaint_id)}] {item.deadline.title} "
            f"({item.deadline.paragraph}): {state} ({item.due.step}); {item.who}"
        )
    lines += ["", "mailroom deadlines --officer <your address> lists them all."]
    return "\n".join(lines) + "\n"
