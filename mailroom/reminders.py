"""Turn running Code clocks into reminder mails in the outbox.

The ladder (which step is due now) is the pure ``domain/reminders.py``; the
outbox's unique ``dedupe_key`` (complaint, clock, deadline version, step) is the
reminder ledger, so restarts, double runs and two workers queue each step once.
Reminders go to staff only, never to residents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailroom.clocks import open_deadlines
from mailroom.domain.deadlines import Deadline
from mailroom.domain.ids import case_reference
from mailroom.domain.reminders import Ladder, ReminderDue, reminder_due
from mailroom.outbound import enqueue
from mailroom.services import Services
from mailroom.store.schema import Complaint


@dataclass(frozen=True)
class PlannedReminder:
    due: ReminderDue
    complaint: Complaint
    deadline: Deadline
    recipients: tuple[str, ...]


def ladder(services: Services) -> Ladder:
    settings = services.settings.reminders
    return Ladder(tuple(settings.before), settings.overdue_daily, settings.window_start, settings.window_end)


def plan(services: Services, now: datetime) -> list[PlannedReminder]:
    """The reminders due at ``now``, whether or not already queued."""
    settings = services.settings.reminders
    planned = []
    with services.store.transaction() as repo:
        for complaint, deadline in open_deadlines(services, repo):
            due = reminder_due(complaint.id, deadline, ladder(services), services.calendar, now)
            if due is None:
                continue
            recipients = [*settings.officer_addresses, *(settings.manager_addresses if due.escalate else [])]
            if recipients:
                planned.append(PlannedReminder(due, complaint, deadline, tuple(dict.fromkeys(recipients))))
    return planned


def enabled(services: Services) -> bool:
    return bool(services.settings.reminders.officer_addresses)


def queue_due(services: Services) -> int:
    """Queue every reminder due now; returns how many were new."""
    now = services.clock.now()
    planned = plan(services, now)
    sender = services.settings.smtp.sender or "mailroom@localhost"
    queued = 0
    with services.store.transaction() as repo:
        for item in planned:
            queued += enqueue(
                repo,
                dedupe_key=item.due.key,
                sender=sender,
                recipients=item.recipients,
                subject=subject(item),
                body_text=body(item),
                now=now,
                complaint_id=item.complaint.id,
            )
    return queued


def subject(item: PlannedReminder) -> str:
    state = "OVERDUE" if item.due.escalate else f"due {item.deadline.due:%a %d %b}"
    return f"[{case_reference(item.complaint.id)}] {item.deadline.title} ({item.deadline.paragraph}): {state}"


def body(item: PlannedReminder) -> str:
    deadline, complaint = item.deadline, item.complaint
    who = complaint.complainant_name or complaint.complainant_email or "no name"
    lines = [
        f"Complaint {complaint.id} ({who}):",
        f"  {complaint.subject}",
        "",
        f"{deadline.title}, Complaint Handling Code {deadline.paragraph}.",
        f"Due by the end of {deadline.due:%A %d %B %Y} (UK time).",
    ]
    if item.due.escalate:
        lines.append("This deadline has lapsed: the Code requires it to be met now.")
    lines += ["", f"mailroom cases show {complaint.id}", f"(reminder step {item.due.step})"]
    return "\n".join(lines) + "\n"
