"""Take one fetched mail into the records, in three steps:

``stage_mail``    (mailroom/staging.py) parse and write the files under
                  storage staging. Touches no database: the worker runs it in
                  a helper process under a time and memory budget. A mail that
                  cannot be parsed, is too big or runs out of budget is staged
                  for quarantine instead.
``decide``        classify against what is recorded (reads the database).
``record_mail``   the database writes: complaint (with its ID), mail row,
                  ledger entry; events and document rows are collected in
                  ``BatchRows`` and written once per batch.

Files are only ever written under storage staging here; the worker publishes
them after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailroom.clock import LONDON
from mailroom.deadline_store import refresh_case, start_new_cases
from mailroom.domain.classify import MailFacts, classify
from mailroom.domain.models import Decision, FetchedMail, Outcome, ParsedMail
from mailroom.filing import FiledFile, folder_name
from mailroom.reports.categories import suggestion_for
from mailroom.services import Services
from mailroom.staging import StagedMail, describe_error
from mailroom.store.repository import Repository
from mailroom.store.schema import Document

CASE_OUTCOMES = (Outcome.COMPLAINT, Outcome.MP_ENQUIRY)
# A case opens only for a mail whose Date: is inside [now - 2 years, now + 1 day].
# The sender writes Date:; one in 2097 or 1970 says the mail is not what it
# seems (an old export, a forgery): a person looks at it first.
PLAUSIBLE_PAST = timedelta(days=730)
PLAUSIBLE_FUTURE = timedelta(days=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedMail:
    """A staged mail with the classifier's decision, not yet in the database."""

    fetched: FetchedMail
    staged: StagedMail
    decision: Decision


@dataclass
class BatchRows:
    """Rows written once per batch with executemany (one statement each, not one per mail)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    new_cases: list[tuple[str, datetime]] = field(default_factory=list)  # (complaint id, received)
    enquiries: list[str] = field(default_factory=list)  # new cases that are MP/councillor enquiries


@dataclass(frozen=True)
class IngestedMail:
    mail_id: int
    outcome: Outcome
    reason: str
    complaint_id: str | None
    sender: str
    subject: str
    received_at: datetime


def record_resighting(services: Services, repo: Repository, fetched: FetchedMail, sha256: str) -> bool:
    """True when this is a mail already recorded under an older UIDVALIDITY of
    the same folder: the ledger gains the new key, nothing is logged again."""
    earlier = repo.resighted_mail(fetched.key, sha256)
    if earlier is None:
        return False
    now = services.clock.now()
    repo.add_ledger(fetched.key, sha256, earlier, now)
    repo.add_event(now, "resighted", f"seen again as {fetched.key}", mail_id=earlier)
    return True


def decide(services: Services, repo: Repository, fetched: FetchedMail, staged: StagedMail) -> PreparedMail:
    """Classify a staged mail. A rule that fails quarantines the mail rather
    than abort the batch, which would fetch the same poison mail forever."""
    if staged.parsed is None:
        decision = Decision(Outcome.QUARANTINED, "quarantine", staged.error or "could not be ingested")
        return PreparedMail(fetched, staged, decision)
    try:
        decision = classify(MailFacts(staged.parsed, staged.sha256, services.policy), repo)
        if decision.outcome in CASE_OUTCOMES:
            problem = implausible_date(staged.parsed.date, services.clock.now())
            if problem is not None:
                decision = Decision(Outcome.TRIAGE, "implausible_date", f"{problem}; no case opened")
    except Exception as exc:
        log.warning("quarantining %s: classification failed: %s", fetched.key, exc)
        decision = Decision(
            Outcome.QUARANTINED, "quarantine", f"classification failed: {describe_error(exc)}"
        )
    return PreparedMail(fetched, staged, decision)


def implausible_date(date: datetime | None, now: datetime) -> str | None:
    """Why the mail's Date: header is not believable, or None. (The receipt
    time that starts the clocks comes from us: IMAP INTERNALDATE, the Maildir
    delivery name, a trustworthy Received: stamp or the file's time.)"""
    if date is not None and date < now - PLAUSIBLE_PAST:
        return f"Date {date.isoformat()} is more than 2 years before now"
    if date is not None and date > now + PLAUSIBLE_FUTURE:
        return f"Date {date.isoformat()} is more than a day in the future"
    return None


def record_mail(
    services: Services, repo: Repository, prepared: PreparedMail, rows: BatchRows
) -> IngestedMail:
    now = services.clock.now()
    fetched, staged, decision = prepared.fetched, prepared.staged, prepared.decision
    parsed = staged.parsed
    complaint_id = decision.complaint_id
    if parsed is not None and decision.outcome in CASE_OUTCOMES:
        complaint_id = open_complaint_for(services, repo, parsed, fetched.received_at, decision, rows, now)
    folder = target_folder(decision.outcome, complaint_id, fetched.received_at, staged.token)
    mail_id = repo.insert_mail(
        {
            **(mail_fields(parsed) if parsed is not None else {}),
            "token": staged.token,
            "sha256": staged.sha256,
            "size": max(fetched.size, len(fetched.raw)),  # a mail over the limit is not read whole
            "received_at": fetched.received_at,
            "ingested_at": now,
            "outcome": decision.outcome.value,
            "rule": decision.rule,
            "reason": decision.reason,
            "complaint_id": complaint_id,
            "duplicate_of": decision.duplicate_of,
            "storage_path": folder,
            "filed": False,
            "triage_open": decision.outcome == Outcome.TRIAGE,
            "attempts": 1,
        }
    )
    repo.add_ledger(fetched.key, staged.sha256, mail_id, now)
    rows.documents.extend(document_rows(folder, staged.files, mail_id, complaint_id))
    rows.events.append(
        _event(
            now,
            f"mail_{decision.outcome.value}",
            f"{decision.rule}: {decision.reason}",
            complaint_id,
            mail_id,
        )
    )
    sender = parsed.sender.email if parsed is not None else ""
    subject = parsed.subject if parsed is not None else ""
    return IngestedMail(
        mail_id, decision.outcome, decision.reason, complaint_id, sender, subject, fetched.received_at
    )


def open_complaint_for(
    services: Services,
    repo: Repository,
    parsed: ParsedMail,
    received_at: datetime,
    decision: Decision,
    rows: BatchRows | None = None,
    now: datetime | None = None,
) -> str:
    """Log a stage 1 complaint from a mail; the year in its ID is the UK year of receipt."""
    now = now or services.clock.now()
    ids = services.settings.ids
    complaint_id = repo.allocate_complaint_id(ids.prefix, received_at.astimezone(LONDON).year, ids.digits)
    repo.insert_complaint(
        {
            "id": complaint_id,
            "status": "open",
            "stage": 1,
            "channel": "email",
            "received_at": received_at,
            "complainant_name": parsed.sender.name[:300],
            "complainant_email": parsed.sender.email[:320],
            "subject": parsed.subject[:1000],
            "description": parsed.body_text,
            "flags": ",".join(decision.flags),
            "created_at": now,
            # What the mail is about, for staff to confirm (reports/categories.py).
            "category_suggested": suggestion_for(services, parsed.subject, parsed.body_text),
        }
    )
    role = decision.flags[0].removesuffix("_enquiry") if decision.flags else "complainant"
    repo.add_party(complaint_id, parsed.sender.email, parsed.sender.name[:300], role, new_case=True)
    detail = f"stage 1 complaint logged from email received {received_at.isoformat()}"
    if decision.flags:
        detail += f"; flagged {', '.join(decision.flags)}"
    events = [_event(now, "logged", detail, complaint_id, None)]
    if decision.flags:  # an MP's or councillor's enquiry: the landlord's answer clock starts too
        events.append(_event(received_at, "mp_enquiry_received", "from the classifier", complaint_id, None))
    if rows is not None:
        rows.events.extend(events)
        rows.new_cases.append((complaint_id, received_at))
        if decision.flags:
            rows.enquiries.append(complaint_id)
    else:
        repo.add_events(events)
        start_new_cases(services, repo, [(complaint_id, received_at)])
        if decision.flags:
            refresh_case(services, repo, complaint_id)
    return complaint_id


def target_folder(outcome: Outcome, complaint_id: str | None, received_at: datetime, token: str) -> str:
    name = folder_name(received_at, token)
    month = received_at.strftime("%Y-%m")
    if complaint_id is not None:
        return f"{complaint_id}/{name}"  # flat: every extra directory level costs a create
    return {
        Outcome.AUTOMATIC: f"_automatic/{month}/{name}",
        Outcome.DUPLICATE: f"_duplicates/{month}/{name}",
        Outcome.QUARANTINED: f"_quarantine/{name}",
    }.get(outcome, f"_triage/{name}")


def mail_fields(parsed: ParsedMail) -> dict[str, Any]:
    """The columns of a mail row that come from its parsed headers and text."""
    return {
        "message_id": parsed.message_id[:1000],
        "in_reply_to": " ".join(parsed.in_reply_to),
        "from_name": parsed.sender.name[:300],
        "from_email": parsed.sender.email[:320],
        "subject": parsed.subject[:1000],
        "body_text": parsed.body_text,
    }


def document_rows(
    folder: str, files: list[FiledFile], mail_id: int | None, complaint_id: str | None
) -> list[Document]:
    return [
        Document(
            complaint_id=complaint_id,
            mail_id=mail_id,
            kind=filed.kind,
            path=f"{folder}/{filed.path}",
            sha256=filed.sha256,
            size=filed.size,
            original_name=filed.original_name[:1000],
            content_type=filed.content_type[:200],
        )
        for filed in files
    ]


def _event(
    at: datetime, kind: str, detail: str, complaint_id: str | None, mail_id: int | None
) -> dict[str, Any]:
    return {"at": at, "kind": kind, "detail": detail, "complaint_id": complaint_id, "mail_id": mail_id}
