"""Undelivered letters and reminders (issue 8, item 7).

A delivery failure report (a DSN, or a mail server's own bounce) that names the
Message-ID of one of our outbound mails is linked to it: the outbox item is
marked ``bounced`` with the server's reason, the case gets a ``mail_bounced``
event pointing at the report, and the case's officer (or the team) is told by
mail. Every report is looked at once: a ``bounce_linked`` or ``bounce_checked``
event on the report's mail row records that it was.

Reports are hostile input like any mail: only the first ``SCAN_BYTES`` of the
stored raw bytes are read, and at most ``MAX_IDS`` Message-IDs taken from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailroom.filing import RAW_NAME, StorageError
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Mail, OutboxMessage

SCAN_BYTES = 1024 * 1024
HEADER_BYTES = 64 * 1024
# A bounce is classified by the first rule that fits: often Auto-Submitted, which
# out-of-office replies share. Those quote our Message-ID too, so each candidate is
# checked for the marks of a delivery failure (``is_delivery_failure``).
CANDIDATE_RULES = ("delivery_report", "auto_submitted")
MAX_IDS = 200
BATCH = 100
LINKED, CHECKED = "bounce_linked", "bounce_checked"

_MESSAGE_ID = re.compile(rb"<[^<>\s@]{1,250}@[^<>\s@]{1,250}>")
_HEADER_MARKS = re.compile(
    rb"^(?:content-type:[^\r\n]*report-type=\"?delivery-status|x-failed-recipients:"
    rb"|from:[^\r\n]*\b(?:mailer-daemon|postmaster)@)",
    re.IGNORECASE | re.MULTILINE,
)
_ACTION = re.compile(rb"^Action:[ \t]*([a-z]+)", re.IGNORECASE | re.MULTILINE)
_REASON = re.compile(
    rb"^(?:Diagnostic-Code|Status|Action):[ \t]*([^\r\n]{1,300})", re.IGNORECASE | re.MULTILINE
)


@dataclass
class BounceReport:
    linked: int = 0
    unmatched: int = 0


def message_ids_in(raw: bytes) -> list[str]:
    """The Message-IDs a report quotes, in order, without duplicates."""
    found: dict[str, None] = {}
    for match in _MESSAGE_ID.finditer(raw[:SCAN_BYTES]):
        found.setdefault(match.group().decode("ascii", "replace"), None)
        if len(found) >= MAX_IDS:
            break
    return list(found)


def is_delivery_failure(raw: bytes) -> bool:
    """A report of failure: a delivery-status report, X-Failed-Recipients or a mail
    daemon's own mail, and not only delays ("Action: delayed" is not a bounce)."""
    header_end = raw.find(b"\r\n\r\n", 0, HEADER_BYTES)
    if header_end < 0:
        header_end = raw.find(b"\n\n", 0, HEADER_BYTES)
    headers = raw[: header_end if header_end >= 0 else HEADER_BYTES]
    if not _HEADER_MARKS.search(headers.replace(b"\r\n\t", b" ").replace(b"\r\n ", b" ")):
        return False
    actions = {m.group(1).lower() for m in _ACTION.finditer(raw[:SCAN_BYTES])}
    return not actions or b"failed" in actions


def reason_in(raw: bytes) -> str:
    """The server's own words, one line: Diagnostic-Code, else Status, else a default."""
    lines = {m.group(0).split(b":", 1)[0].lower(): m.group(1) for m in _REASON.finditer(raw[:SCAN_BYTES])}
    for key in (b"diagnostic-code", b"status", b"action"):
        if key in lines:
            text = lines[key].decode("utf-8", "replace")
            return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:300]
    return "delivery failed (no reason given)"


def link_bounces(services: Services) -> BounceReport:
    report = BounceReport()
    while True:
        with services.store.transaction() as repo:
            mails = repo.unchecked_automatic_mails(CANDIDATE_RULES, (LINKED, CHECKED), BATCH)
            for mail in mails:
                if _link_one(services, repo, mail):
                    report.linked += 1
                else:
                    report.unmatched += 1
        if len(mails) < BATCH:
            return report


def _link_one(services: Services, repo: Repository, mail: Mail) -> bool:
    now = services.clock.now()
    try:
        with services.storage.resolve(f"{mail.storage_path}/{RAW_NAME}").open("rb") as stream:
            raw = stream.read(SCAN_BYTES)  # a report can be as large as any mail
    except (OSError, StorageError) as exc:
        repo.add_event(now, CHECKED, f"report unreadable: {exc}", mail_id=mail.id)
        return False
    if not is_delivery_failure(raw):
        repo.add_event(now, CHECKED, "not a delivery failure report", mail_id=mail.id)
        return False
    item = repo.outbox_by_message_ids(message_ids_in(raw))
    if item is None:
        repo.add_event(now, CHECKED, "names none of our outbound mails", mail_id=mail.id)
        return False
    reason = reason_in(raw)
    first_time = item.status != "bounced"
    item.status = "bounced"
    item.last_error = reason
    detail = f"mail to {item.recipients} ({item.subject!r}, outbox {item.id}) bounced: {reason}"
    repo.add_event(now, LINKED, detail, complaint_id=item.complaint_id, mail_id=mail.id)
    if first_time and item.complaint_id:
        _tell_officer(services, repo, item, reason)
    return True


def _tell_officer(services: Services, repo: Repository, item: OutboxMessage, reason: str) -> None:
    from mailroom.outbound import enqueue

    complaint = repo.get_complaint(item.complaint_id or "")
    recipients = (
        [complaint.officer]
        if complaint and complaint.officer
        else services.settings.reminders.officer_addresses
    )
    sender = services.settings.smtp.sender
    if not recipients or not sender:
        return  # the case event stands; `mailroom outbox list` shows it bounced
    enqueue(
        repo,
        dedupe_key=f"bounce:{item.id}",
        sender=sender,
        recipients=list(recipients),
        subject=f"Undelivered: {item.subject}"[:200],
        body_text=(
            f"Our mail to {item.recipients} on case {item.complaint_id} was not delivered.\n"
            f"The receiving server said: {reason}\n\n"
            "Check the address with the resident (mailroom cases edit) and send the letter again,\n"
            "or by post if they prefer (mailroom cases contact --prefers post).\n"
        ),
        now=services.clock.now(),
        complaint_id=item.complaint_id,
    )
