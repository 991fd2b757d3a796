"""One case, as the command line's ``cases show`` and the desk's case page show it.

``show_case`` is the assembly ``cases show --json`` prints: the complaint, its
parties, documents, Code clocks (computed from its events, always current), audit
trail and its place in the procedure. ``timeline`` merges everything that happened
on the case into one list in time order, for a person reading the case's story.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mailroom.case_events import case_state
from mailroom.clocks import deadlines_of
from mailroom.domain.models import Outcome
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import AuditEntry, Event, Letter, ReminderLog
from mailroom.store.schema import Mail as M
from mailroom.views import complaint_detail


def show_case(services: Services, complaint_id: str) -> dict[str, Any] | None:
    """The case as ``mailroom cases show ID --json`` prints it; None when there is no
    such complaint. ``complaint_id`` is the ID itself (``cli_common.case_id`` turns a
    typed reference into one)."""
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            return None
        view = complaint_detail(repo, complaint, deadlines_of(services, repo, complaint))
    state = case_state(services, view["id"])
    view["procedure"] = {"state": state.state, "allowed_next": list(state.allowed)} if state else None
    return view


# -- the timeline ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    at: datetime  # aware UTC
    kind: str  # mail, letter, step, reminder or audit
    title: str  # one line
    actor: str | None = None  # who did it, when known (a mail: its sender)
    detail: str = ""  # the rest, when there is more to say
    complaint_id: str = ""
    event_id: int | None = None
    mail_id: int | None = None
    letter_id: int | None = None
    audit_id: int | None = None
    reminder_key: str | None = None


MAIL, LETTER, STEP, REMINDER, AUDIT = "mail", "letter", "step", "reminder", "audit"
# Items at the same instant: what arrived, then what was done, then what it caused.
_ORDER = {MAIL: 0, STEP: 1, LETTER: 2, REMINDER: 3, AUDIT: 4}
# Events that only echo a row shown on its own: the letter's drafting and issue (its
# letter items) and a mail's filing (its mail item, which has the rule and reason too).
_LETTER_ECHOES = {"letter_drafted", "letter_approved", "letter_sent", "letter_for_post"}
_MAIL_ECHOES = {f"mail_{outcome.value}" for outcome in Outcome}  # intake.py: "mail_reply"...
_LETTER_IN_DETAIL = re.compile(r"\bletter (\d+)\b")
_TITLE_LENGTH = 200
_CHUNK = 500  # mail ids per IN (...): bounded like the repository's
_MAIL_TITLES = {
    "complaint": "Complaint by email",
    "reply": "Reply",
    "mp_enquiry": "MP or councillor enquiry",
}


def timeline(services: Services, complaint_id: str) -> list[TimelineItem] | None:
    """The case's events, mails, letters, reminders and audit entries, oldest first;
    None when there is no such complaint."""
    with services.store.transaction() as repo:
        if repo.get_complaint(complaint_id) is None:
            return None
        # The columns a line needs, not the mails' text: a case may hold long mails.
        columns = (M.id, M.received_at, M.from_email, M.from_name, M.subject, M.outcome, M.rule, M.reason)
        mails = repo.session.execute(select(*columns).where(M.complaint_id == complaint_id)).all()
        items = [_mail_item(complaint_id, mail) for mail in mails]
        items += _step_items(repo, complaint_id, {mail.id for mail in mails})
        items += _letter_items(services, repo, complaint_id)
        reminders = select(ReminderLog).where(ReminderLog.complaint_id == complaint_id)
        items += [_reminder_item(row) for row in repo.session.scalars(reminders)]
        audit = select(AuditEntry).where(AuditEntry.complaint_id == complaint_id)
        items += [_audit_item(entry) for entry in repo.session.scalars(audit)]
    return sorted(items, key=_when)


def _when(item: TimelineItem) -> tuple[datetime, int, int, str]:
    number = item.event_id or item.mail_id or item.letter_id or item.audit_id or 0
    return item.at, _ORDER[item.kind], number, item.reminder_key or ""


def _line(text: str) -> str:
    """One line of at most ``_TITLE_LENGTH`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _TITLE_LENGTH else flat[: _TITLE_LENGTH - 1] + "…"


def _mail_item(complaint_id: str, mail: Any) -> TimelineItem:
    who = mail.from_email or mail.from_name or "an unknown sender"
    what = _MAIL_TITLES.get(mail.outcome, f"Mail ({mail.outcome.replace('_', ' ')})")
    return TimelineItem(
        at=mail.received_at,
        kind=MAIL,
        title=_line(f"{what} from {who}: {mail.subject or '(no subject)'}"),
        actor=mail.from_email or None,
        detail=f"{mail.rule}: {mail.reason}",
        complaint_id=complaint_id,
        mail_id=mail.id,
    )


def _case_events(repo: Repository, complaint_id: str, mail_ids: set[int]) -> list[Event]:
    """The events ``repo.events_of_case`` gives (the case's own, and those on its mails
    recorded outside any case), each part read on its own index: as one OR with a
    subquery, PostgreSQL reads every event recorded outside a case (one per automatic
    mail: hundreds of thousands) to find the few on this case's mails."""
    found = list(repo.session.scalars(select(Event).where(Event.complaint_id == complaint_id)))
    ordered = sorted(mail_ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = select(Event).where(Event.complaint_id.is_(None), Event.mail_id.in_(chunk))
        found += repo.session.scalars(query)
    return sorted(found, key=lambda event: (event.at, event.id))


def _step_items(repo: Repository, complaint_id: str, mail_ids: set[int]) -> list[TimelineItem]:
    items = []
    for event in _case_events(repo, complaint_id, mail_ids):
        if event.kind in _LETTER_ECHOES or (event.kind in _MAIL_ECHOES and event.mail_id in mail_ids):
            continue
        letter = _LETTER_IN_DETAIL.search(event.detail) if event.kind.startswith("letter_") else None
        payload = json.loads(event.payload) if event.payload else {}
        label = event.kind.replace("_", " ").capitalize()
        items.append(
            TimelineItem(
                at=event.at,
                kind=LETTER if letter else STEP,
                title=_line(f"{label}: {event.detail}" if event.detail else label),
                actor=str(payload["by"]) if isinstance(payload, dict) and payload.get("by") else None,
                detail=event.detail,
                complaint_id=complaint_id,
                event_id=event.id,
                mail_id=event.mail_id,
                letter_id=int(letter.group(1)) if letter else None,
            )
        )
    return items


def _letter_items(services: Services, repo: Repository, complaint_id: str) -> list[TimelineItem]:
    titles = _letter_titles(services)
    items = []
    for letter in repo.letters_of_case(complaint_id):
        title = titles.get(letter.letter_type, letter.letter_type.replace("-", " ").capitalize())
        items.append(
            TimelineItem(
                at=letter.created_at,
                kind=LETTER,
                title=_line(f"{title} drafted (letter {letter.id})"),
                detail=_letter_now(letter),
                complaint_id=complaint_id,
                letter_id=letter.id,
            )
        )
        if letter.issued_at is not None:
            how = "for post" if letter.status == "for_post" else "by email"
            items.append(
                TimelineItem(
                    at=letter.issued_at,
                    kind=LETTER,
                    title=_line(f"{title} issued {how} (letter {letter.id}, revision {letter.revision})"),
                    actor=letter.approved_by or None,
                    complaint_id=complaint_id,
                    letter_id=letter.id,
                )
            )
    return items


def _letter_now(letter: Letter) -> str:
    passed = bool(json.loads(letter.check_json or "{}").get("passed"))
    check = "passes its check" if passed else "fails its check"
    return f"now {letter.status.replace('_', ' ')}, revision {letter.revision}, {check}"


def _letter_titles(services: Services) -> dict[str, str]:
    """Letter type -> its title in the rule pack; the type's own name if the pack cannot be read."""
    from mailroom.errors import UserError
    from mailroom.letters.pack import letter_pack

    try:
        return {kind.value: spec.title for kind, spec in letter_pack(services.settings).letters.items()}
    except UserError:
        return {}


def _reminder_item(row: ReminderLog) -> TimelineItem:
    where = " in their digest" if row.digest else ""
    # No recipients: no officer or team address was configured, so it went nowhere.
    to = f" to {row.recipients}" if row.recipients else ", to no one (no officer or team address set)"
    return TimelineItem(
        at=row.created_at,
        kind=REMINDER,
        title=_line(f"Reminder ({row.step.replace('_', ' ')}) on {row.clock}{to}{where}"),
        complaint_id=row.complaint_id,
        reminder_key=row.key,
    )


def _audit_item(entry: AuditEntry) -> TimelineItem:
    action = entry.action.replace(".", " ").replace("_", " ")
    title = " ".join(part for part in (action, entry.target) if part)
    return TimelineItem(
        at=entry.at,
        kind=AUDIT,
        title=_line(f"{title}: {entry.detail}" if entry.detail else title),
        actor=entry.actor or None,
        detail=entry.detail,
        complaint_id=entry.complaint_id or "",
        audit_id=entry.id,
    )
