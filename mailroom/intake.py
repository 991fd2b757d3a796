"""Take one fetched mail into the records: hash, parse, classify, stage, ledger.

Runs inside the caller's transaction and savepoint; writes files only under
storage staging, so a rollback leaves nothing that recovery cannot clear.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailroom.clock import LONDON
from mailroom.domain.classify import MailFacts, classify
from mailroom.domain.models import Decision, FetchedMail, Outcome, ParsedMail
from mailroom.filing import FiledFile, folder_name, sha256_hex
from mailroom.ingest.parse import parse_mail
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, Document, Mail

CASE_OUTCOMES = (Outcome.COMPLAINT, Outcome.MP_ENQUIRY)


@dataclass(frozen=True)
class IngestedMail:
    mail_id: int
    outcome: Outcome
    reason: str
    complaint_id: str | None
    sender: str
    subject: str
    received_at: datetime


def ingest_mail(services: Services, repo: Repository, fetched: FetchedMail) -> IngestedMail | None:
    """Record one mail. None when it is a mail already recorded under an older
    UIDVALIDITY of the same folder (the ledger gains the new key only)."""
    now = services.clock.now()
    sha256 = sha256_hex(fetched.raw)
    earlier = repo.resighted_mail(fetched.key, sha256)
    if earlier is not None:
        repo.add_ledger(fetched.key, sha256, earlier, now)
        repo.add_event(now, "resighted", f"seen again as {fetched.key}", mail_id=earlier)
        return None
    limit = services.settings.storage.max_message_bytes
    if len(fetched.raw) > limit:
        return quarantine_mail(
            services, repo, fetched, f"over the size limit: {len(fetched.raw)} > {limit} bytes"
        )
    parsed = parse_mail(fetched.raw)
    decision = classify(MailFacts(parsed, sha256, services.policy), repo)
    complaint_id = decision.complaint_id
    if decision.outcome in CASE_OUTCOMES:
        complaint_id = open_complaint_for(services, repo, parsed, fetched.received_at, decision)
    return _record(services, repo, fetched, sha256, parsed, decision, complaint_id)


def quarantine_mail(services: Services, repo: Repository, fetched: FetchedMail, error: str) -> IngestedMail:
    """Keep the raw bytes and the reason; a person lists and retries these."""
    decision = Decision(Outcome.QUARANTINED, "quarantine", error)
    return _record(services, repo, fetched, sha256_hex(fetched.raw), None, decision, None)


def open_complaint_for(
    services: Services, repo: Repository, parsed: ParsedMail, received_at: datetime, decision: Decision
) -> str:
    """Log a stage 1 complaint from a mail; the year in its ID is the UK year of receipt."""
    now = services.clock.now()
    ids = services.settings.ids
    year = received_at.astimezone(LONDON).year
    complaint_id = repo.allocate_complaint_id(ids.prefix, year, ids.digits)
    repo.add_complaint(
        Complaint(
            id=complaint_id,
            status="open",
            stage=1,
            channel="email",
            received_at=received_at,
            complainant_name=parsed.sender.name[:300],
            complainant_email=parsed.sender.email[:320],
            subject=parsed.subject[:1000],
            description=parsed.body_text,
            flags=",".join(decision.flags),
            created_at=now,
        )
    )
    role = decision.flags[0].removesuffix("_enquiry") if decision.flags else "complainant"
    repo.add_party(complaint_id, parsed.sender.email, parsed.sender.name[:300], role)
    detail = f"stage 1 complaint logged from email received {received_at.isoformat()}"
    repo.add_event(
        now,
        "logged",
        detail + (f"; flagged {', '.join(decision.flags)}" if decision.flags else ""),
        complaint_id=complaint_id,
    )
    return complaint_id


def target_folder(outcome: Outcome, complaint_id: str | None, received_at: datetime, token: str) -> str:
    name = folder_name(received_at, token)
    month = received_at.strftime("%Y-%m")
    if complaint_id is not None:
        return f"{complaint_id}/mail/{name}"
    return {
        Outcome.AUTOMATIC: f"_automatic/{month}/{name}",
        Outcome.DUPLICATE: f"_duplicates/{month}/{name}",
        Outcome.QUARANTINED: f"_quarantine/{name}",
    }.get(outcome, f"_triage/{name}")


def _record(
    services: Services,
    repo: Repository,
    fetched: FetchedMail,
    sha256: str,
    parsed: ParsedMail | None,
    decision: Decision,
    complaint_id: str | None,
) -> IngestedMail:
    now = services.clock.now()
    token = uuid.uuid4().hex[:16]
    folder = target_folder(decision.outcome, complaint_id, fetched.received_at, token)
    # Duplicates and quarantined mail keep their raw bytes only: no attachment extraction.
    attachments = parsed.attachments if parsed is not None and decision.outcome != Outcome.DUPLICATE else ()
    error = decision.reason if decision.outcome == Outcome.QUARANTINED else None
    files = services.storage.stage_mail(
        token, fetched.raw, attachments, _manifest_meta(fetched, decision), error
    )
    mail_id = repo.add_mail(_mail_row(fetched, sha256, parsed, decision, complaint_id, token, folder, now))
    repo.add_ledger(fetched.key, sha256, mail_id, now)
    repo.add_documents(document_rows(folder, files, mail_id, complaint_id))
    repo.add_event(
        now,
        f"mail_{decision.outcome.value}",
        f"{decision.rule}: {decision.reason}",
        complaint_id=complaint_id,
        mail_id=mail_id,
    )
    sender = parsed.sender.email if parsed is not None else ""
    subject = parsed.subject if parsed is not None else ""
    return IngestedMail(
        mail_id, decision.outcome, decision.reason, complaint_id, sender, subject, fetched.received_at
    )


def _mail_row(
    fetched: FetchedMail,
    sha256: str,
    parsed: ParsedMail | None,
    decision: Decision,
    complaint_id: str | None,
    token: str,
    folder: str,
    now: datetime,
) -> Mail:
    fields = mail_fields(parsed) if parsed is not None else {}
    return Mail(
        token=token,
        sha256=sha256,
        size=len(fetched.raw),
        received_at=fetched.received_at,
        ingested_at=now,
        outcome=decision.outcome.value,
        rule=decision.rule,
        reason=decision.reason,
        complaint_id=complaint_id,
        duplicate_of=decision.duplicate_of,
        storage_path=folder,
        filed=False,
        triage_open=decision.outcome == Outcome.TRIAGE,
        attempts=1,
        **fields,
    )


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


def _manifest_meta(fetched: FetchedMail, decision: Decision) -> dict[str, Any]:
    key = fetched.key
    return {
        "source": {
            "account": key.account,
            "folder": key.folder,
            "uidvalidity": key.uidvalidity,
            "uid": key.uid,
        },
        "received_at": fetched.received_at.isoformat(),
        # The decision when ingested; later triage or retry is in the database's events.
        "ingest_decision": {
            "outcome": decision.outcome.value,
            "rule": decision.rule,
            "reason": decision.reason,
        },
    }
