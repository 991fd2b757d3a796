"""Read one case's full record for its evidence pack: the complaint, its mails with
their filed files, its letters, filed documents, calls, clocks, timeline and the
policies in force. Plain data out, so choosing sections and laying out pages
(``pack_sections.py``, ``bundle/``) never touches the store."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mailroom.case_detail import TimelineItem, show_case, timeline
from mailroom.filing import StorageError
from mailroom.records.case_files import CALL_NOTED
from mailroom.rule_pack_source import BUNDLED_RULE_PACK
from mailroom.services import Services
from mailroom.store.schema import AuditEntry, Document, Letter, Mail

LETTERS_FOLDER = "letters"  # letters.drafts.LETTERS_FOLDER, without loading the letters
# Letters that reached the resident: only these are evidence of what the landlord said.
ISSUED_STATUSES = frozenset({"sent", "for_post", "posted"})
MAIL_FILE_KINDS = frozenset({"raw_mail", "attachment", "attached_mail", "tnef_part"})
LETTER_FILE_KINDS = frozenset({"letter_pdf", "letter_docx"})
# Audit actions that only read a case (``records.pack``, ``records.sar``).
READING_ACTIONS = "records."


@dataclass(frozen=True)
class FiledItem:
    """One filed file as the ``documents`` table knows it."""

    document_id: int
    kind: str
    path: str  # relative to the storage root
    sha256: str
    size: int
    original_name: str
    content_type: str


@dataclass(frozen=True)
class MailRecord:
    id: int
    received_at: datetime
    outcome: str
    from_email: str
    from_name: str
    subject: str
    raw: FiledItem | None
    attachments: tuple[FiledItem, ...]


@dataclass(frozen=True)
class LetterRecord:
    id: int
    letter_type: str
    title: str
    status: str
    revision: int
    issued_at: datetime | None
    approved_by: str
    pdf: FiledItem | None  # the issued PDF (issued letters only)
    revisions: tuple[FiledItem, ...]  # every DOCX revision filed (kept, never evidence)


@dataclass(frozen=True)
class CallRecord:
    event_id: int
    at: datetime
    direction: str
    party: str
    summary: str
    by: str


@dataclass(frozen=True)
class PolicyFile:
    label: str  # "Landlord complaints policy (policy.landlord_file)"
    path: Path
    zip_name: str


@dataclass(frozen=True)
class CaseSources:
    complaint: dict[str, Any]  # ``show_case``: the complaint, parties, clocks, events
    mails: tuple[MailRecord, ...]
    letters: tuple[LetterRecord, ...]
    filed: tuple[FiledItem, ...]  # documents of the case on no mail and no letter
    calls: tuple[CallRecord, ...]
    timeline: tuple[TimelineItem, ...]
    policies: tuple[PolicyFile, ...]
    as_of: datetime  # the record's last change: the pack's fixed "prepared" instant
    # Files in the case's letters folder that no row records: left by an approval
    # interrupted between filing its PDF and committing (never evidence; marked).
    strays: tuple[str, ...] = ()


class NoSuchCase(LookupError):
    pass


def read_case_sources(services: Services, complaint_id: str) -> CaseSources:
    view = show_case(services, complaint_id)
    found = timeline(services, complaint_id)
    if view is None or found is None:
        raise NoSuchCase(complaint_id)
    with services.store.transaction() as repo:
        reading = set(
            repo.session.scalars(
                select(AuditEntry.id).where(
                    AuditEntry.complaint_id == complaint_id, AuditEntry.action.startswith(READING_ACTIONS)
                )
            )
        )
    # Making a pack or an export reads the record without changing it: left out, so the
    # next pack of an unchanged case is the same bytes.
    items = [item for item in found if item.audit_id not in reading]
    titles = _letter_titles(services)
    with services.store.transaction() as repo:
        documents = repo.session.scalars(
            select(Document).where(Document.complaint_id == complaint_id).order_by(Document.id)
        ).all()
        mails = repo.session.scalars(
            select(Mail).where(Mail.complaint_id == complaint_id).order_by(Mail.received_at, Mail.id)
        ).all()
        letters = repo.session.scalars(
            select(Letter).where(Letter.complaint_id == complaint_id).order_by(Letter.id)
        ).all()
        by_mail: dict[int, list[FiledItem]] = {}
        by_path = {document.path: filed_item(document) for document in documents}
        letter_paths: set[str] = set()
        for letter in letters:
            letter_paths.update(p for p in (letter.pdf_path, letter.docx_path) if p)
        filed: list[FiledItem] = []
        for document in documents:
            if document.mail_id is not None:
                by_mail.setdefault(document.mail_id, []).append(filed_item(document))
            elif document.kind not in LETTER_FILE_KINDS and document.path not in letter_paths:
                filed.append(filed_item(document))
        mail_records = tuple(_mail(mail, by_mail.get(mail.id, [])) for mail in mails)
        letter_records = tuple(_letter(letter, titles, by_path, documents) for letter in letters)
    calls = tuple(_call(event) for event in view["events"] if event["kind"] == CALL_NOTED)
    as_of = max([item.at for item in items] + [mail.received_at for mail in mail_records] or [datetime.min])
    return CaseSources(
        complaint=view,
        mails=mail_records,
        letters=letter_records,
        filed=tuple(filed),
        calls=calls,
        timeline=tuple(items),
        policies=_policies(services),
        strays=_strays(services, complaint_id, {d.path for d in documents}),
        as_of=as_of if as_of != datetime.min else _created(view),
    )


def _strays(services: Services, complaint_id: str, recorded: set[str]) -> tuple[str, ...]:
    folder = f"{complaint_id}/{LETTERS_FOLDER}"
    try:
        entries = list(os.scandir(services.storage.resolve(folder)))
    except (OSError, StorageError):
        return ()
    names = (f"{folder}/{entry.name}" for entry in entries if not entry.name.startswith("."))
    return tuple(sorted(name for name in names if name not in recorded))


def _created(view: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(view["received_at"]))


def filed_item(document: Document) -> FiledItem:
    return FiledItem(
        document_id=document.id,
        kind=document.kind,
        path=document.path,
        sha256=document.sha256,
        size=document.size,
        original_name=document.original_name,
        content_type=document.content_type,
    )


def _mail(mail: Mail, files: list[FiledItem]) -> MailRecord:
    raw = next((f for f in files if f.kind == "raw_mail"), None)
    return MailRecord(
        id=mail.id,
        received_at=mail.received_at,
        outcome=mail.outcome,
        from_email=mail.from_email,
        from_name=mail.from_name,
        subject=mail.subject,
        raw=raw,
        attachments=tuple(f for f in files if f.kind != "raw_mail" and f.kind in MAIL_FILE_KINDS),
    )


def _letter(
    letter: Letter, titles: dict[str, str], by_path: dict[str, FiledItem], documents: Any
) -> LetterRecord:
    issued = letter.status in ISSUED_STATUSES and bool(letter.pdf_path)
    prefix = f"{letter.complaint_id}/letters/{letter.id}-"
    revisions = tuple(
        filed_item(d) for d in documents if d.kind == "letter_docx" and d.path.startswith(prefix)
    )
    return LetterRecord(
        id=letter.id,
        letter_type=letter.letter_type,
        title=titles.get(letter.letter_type, letter.letter_type.replace("-", " ").capitalize()),
        status=letter.status,
        revision=letter.revision,
        issued_at=letter.issued_at,
        approved_by=letter.approved_by,
        pdf=by_path.get(letter.pdf_path) if issued else None,
        revisions=revisions,
    )


def _call(event: dict[str, Any]) -> CallRecord:
    data = event.get("data") or {}
    return CallRecord(
        event_id=int(event["id"]),
        at=datetime.fromisoformat(str(event["at"])),
        direction=str(data.get("direction", "")),
        party=str(data.get("with", "")),
        summary=str(data.get("summary", event.get("detail", ""))),
        by=str(data.get("by", "")),
    )


def _letter_titles(services: Services) -> dict[str, str]:
    from mailroom.errors import UserError
    from mailroom.letters.pack import letter_pack

    try:
        return {kind.value: spec.title for kind, spec in letter_pack(services.settings).letters.items()}
    except UserError:
        return {}


def _policies(services: Services) -> tuple[PolicyFile, ...]:
    """The policies relied on: the landlord's policy file and the rule pack in force."""
    policy = services.settings.policy
    found = []
    if policy.landlord_file is not None:
        landlord = "Landlord complaints policy"
        found.append(PolicyFile(landlord, policy.landlord_file, "policies/landlord-policy.toml"))
    rules = "Rule pack (Complaint Handling Code clocks and letters)"
    found.append(PolicyFile(rules, policy.rule_pack or BUNDLED_RULE_PACK, "policies/rule-pack.toml"))
    return tuple(found)


def parse_payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
