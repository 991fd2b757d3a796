"""Retention's reads and writes: the facts the retention rules decide on
(``retention_policy``), and the erasure of one case's personal data in the caller's
transaction. No decisions and no files (``retention``, ``retention_files``).

What erasure keeps and what it takes (docs/records.md, "Retention"):

- kept, so that every report of the past years still counts the same: the
  complaint's row (id, status, stage, channel, dates, flags, officer), its stored
  clocks (``deadlines``), the kinds and dates of its events and the clock facts of
  their payloads (``until``, ``ref``), its letters' types, statuses and dates, its
  record items' kinds, stages and due dates, the outbox rows' statuses and dates,
  and the audit trail's who/what/when;
- erased: every text a person wrote or that names someone. Text shown as a title
  or a line (names, subjects, descriptions, addresses, mail bodies, event details,
  record items, audit details) becomes the marker ``[erased 2032-04-01]``; e-mail
  addresses, Message-IDs and filed files' names and paths become "" (nothing may
  ever be sent to a marker or matched on one, and a path "" names no file to look
  for); JSON keeps only its structure; the outbox's raw mails are emptied; the
  case's parties are deleted.

Rows go through the ORM, so that the audit chain (``audit_capture``) notes every
update as it does any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailroom.domain.case_steps import CORRECTED
from mailroom.records.retention_policy import OPEN_STATUS, POLICY_EVENT_KINDS, CaseFacts, PolicyEvent
from mailroom.reports.outcomes import figures_facts
from mailroom.store.schema import (
    AuditEntry,
    CaseParty,
    CaseRecordItem,
    Complaint,
    Document,
    Erasure,
    Event,
    Letter,
    Mail,
    OutboxMessage,
    StoredDeadline,
)

CHUNK = 500  # ids per IN (...) list
# Event payload keys the clocks are computed from (``domain/deadlines.py``) or that
# name a row (a letter, the drafting inputs): kept. Every other key is free text.
# The clock facts, and what the reports count (an exclusion, an Ombudsman finding,
# compensation, the order a compliance refers to): nothing that names anyone.
KEPT_PAYLOAD_KEYS = frozenset(
    {"until", "ref", "letter_id", "drafting_inputs", "exclusion", "finding", "compensation_pence", "order"}
)
UNSENT = ("pending", "sending")  # outbox statuses of a mail still to go
LETTER_DOCX = "letter_docx"  # documents.kind of a letter's DOCX (its preview is keyed by its hash)
# SQLite only: the full-text tables of migration 0009 (external content or not, an
# FTS5 index keeps deleted terms until its segments are merged).
SQLITE_SEARCH_TABLES = ("search_complaints_fts", "search_case_parties_fts", "search_mails_fts")

Row = TypeVar("Row")


def erased_marker(day: date) -> str:
    return f"[erased {day.isoformat()}]"


@dataclass(frozen=True)
class FinishedCase:
    """A complaint that is not open and not yet erased, with its hold."""

    complaint_id: str
    status: str
    legal_hold: str
    legal_hold_by: str
    legal_hold_at: datetime | None


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def finished_cases(session: Session) -> list[FinishedCase]:
    query = (
        select(
            Complaint.id,
            Complaint.status,
            Complaint.legal_hold,
            Complaint.legal_hold_by,
            Complaint.legal_hold_at,
        )
        .where(Complaint.status != OPEN_STATUS, Complaint.erased_at.is_(None))
        .order_by(Complaint.id)
    )
    return [FinishedCase(*row) for row in session.execute(query)]


def finished_case(complaint: Complaint) -> FinishedCase:
    return FinishedCase(
        complaint.id, complaint.status, complaint.legal_hold, complaint.legal_hold_by, complaint.legal_hold_at
    )


def policy_facts(session: Session, cases: Sequence[FinishedCase]) -> list[CaseFacts]:
    """What the retention rules read of each case: its closing, determination and
    correction events, its running clocks and its unsent mail."""
    events: dict[str, list[PolicyEvent]] = {}
    running: dict[str, list[str]] = {}
    unsent: dict[str, int] = {}
    for chunk in _chunks([case.complaint_id for case in cases]):
        rows = session.execute(
            select(Event.complaint_id, Event.id, Event.kind, Event.at, Event.payload).where(
                Event.complaint_id.in_(chunk), Event.kind.in_(POLICY_EVENT_KINDS)
            )
        )
        for complaint_id, event_id, kind, at, payload in rows:
            events.setdefault(str(complaint_id), []).append(
                PolicyEvent(event_id, kind, at, _ref(kind, payload))
            )
        clocks = session.execute(
            select(StoredDeadline.complaint_id, StoredDeadline.clock)
            .where(StoredDeadline.complaint_id.in_(chunk), StoredDeadline.stopped_at.is_(None))
            .order_by(StoredDeadline.clock)
        )
        for complaint_id, clock in clocks:
            running.setdefault(complaint_id, []).append(clock)
        pending = session.execute(
            select(OutboxMessage.complaint_id, func.count())
            .where(OutboxMessage.complaint_id.in_(chunk), OutboxMessage.status.in_(UNSENT))
            .group_by(OutboxMessage.complaint_id)
        )
        unsent.update({str(complaint_id): int(count) for complaint_id, count in pending})
    return [
        CaseFacts(
            case.complaint_id,
            case.status,
            case.legal_hold,
            tuple(events.get(case.complaint_id, ())),
            tuple(running.get(case.complaint_id, ())),
            unsent.get(case.complaint_id, 0),
        )
        for case in cases
    ]


def _ref(kind: str, payload: str) -> int | None:
    """The step a correction names (``case_events.correct_event`` writes it)."""
    if kind != CORRECTED or not payload:
        return None
    try:
        return int(json.loads(payload)["ref"])
    except (ValueError, KeyError, TypeError):
        return None


def file_totals(session: Session, complaint_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(files, bytes) filed on each case, as ``documents`` records them."""
    totals: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(complaint_ids):
        rows = session.execute(
            select(Document.complaint_id, func.count(), func.coalesce(func.sum(Document.size), 0))
            .where(Document.complaint_id.in_(chunk))
            .group_by(Document.complaint_id)
        )
        totals.update({str(complaint_id): (int(count), int(size)) for complaint_id, count, size in rows})
    return totals


def locked_complaint(session: Session, complaint_id: str) -> Complaint | None:
    """The complaint, its row locked to the end of the transaction (PostgreSQL; a
    SQLite write transaction holds the whole database already): a hold set meanwhile
    waits for the erasure, or the erasure sees it."""
    return session.scalars(select(Complaint).where(Complaint.id == complaint_id).with_for_update()).first()


def unfinished_erasures(session: Session) -> list[Erasure]:
    """Erasures committed whose folders are not yet all removed (a crash, a failure)."""
    return list(
        session.scalars(select(Erasure).where(Erasure.files_removed_at.is_(None)).order_by(Erasure.id))
    )


# -- erasure -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasedRows:
    counts: dict[str, int]  # rows erased (or deleted, for parties), by table
    folders: list[str]  # to remove once committed, relative to the storage root


def erase_case_rows(session: Session, complaint: Complaint, marker: str, now: datetime) -> ErasedRows:
    """Erase the personal data of ``complaint`` and of everything filed on it, in
    the caller's transaction; returns what was erased and the folders to remove."""
    complaint_id = complaint.id
    mails = case_mails(session, complaint_id)
    mail_ids = [mail.id for mail in mails]
    for mail in mails:
        _erase_mail(mail, marker)
    documents = _union(
        _rows(session, Document, Document.complaint_id, [complaint_id]),
        _rows(session, Document, Document.mail_id, mail_ids),
    )
    for document in documents:
        document.original_name = ""
        # A file's name may be a person's; the file itself goes with its folder. "" (not
        # the marker): no path, no file for the audit chain's check to look for.
        document.path = ""
    events = _union(
        _rows(session, Event, Event.complaint_id, [complaint_id]),
        _rows(session, Event, Event.mail_id, mail_ids),
    )
    for event in events:
        event.detail = marker if event.detail else ""
        event.payload = kept_payload(event.payload)
    letters = _rows(session, Letter, Letter.complaint_id, [complaint_id])
    for letter in letters:
        letter.fields_json = letter.context_json = "{}"
        letter.check_json = _check_summary(letter.check_json)
    items = _rows(session, CaseRecordItem, CaseRecordItem.complaint_id, [complaint_id])
    for item in items:
        item.data_json = json.dumps(figures_facts(item))
        item.text = marker
    outbox = _rows(session, OutboxMessage, OutboxMessage.complaint_id, [complaint_id])
    for message in outbox:
        message.recipients, message.subject, message.raw = "", marker, b""
        message.last_error = marker if message.last_error else ""
    audit = _rows(session, AuditEntry, AuditEntry.complaint_id, [complaint_id])
    for entry in audit:
        entry.detail = marker if entry.detail else ""
    parties = _rows(session, CaseParty, CaseParty.complaint_id, [complaint_id])
    for party in parties:
        session.delete(party)
    complaint.complainant_name, complaint.complainant_email = marker, ""
    complaint.subject, complaint.description, complaint.postal_address = marker, marker, marker
    complaint.erased_at = now
    counts = {
        "mails": len(mails),
        "documents": len(documents),
        "events": len(events),
        "letters": len(letters),
        "case_record": len(items),
        "outbox": len(outbox),
        "audit_log": len(audit),
        "case_parties": len(parties),
    }
    previews = {document.sha256 for document in documents if document.kind == LETTER_DOCX}
    previews |= {letter.docx_sha256 for letter in letters if letter.docx_sha256}
    return ErasedRows(counts, _folders(complaint_id, mails, previews))


def case_mails(session: Session, complaint_id: str) -> list[Mail]:
    """The case's mails, and the mails outside any case that are of it alone: copies
    of its mails (duplicates) and mails its events name (a bounce of its letter)."""
    own = _rows(session, Mail, Mail.complaint_id, [complaint_id])
    own_ids = {mail.id for mail in own}
    related = set(
        session.scalars(
            select(Event.mail_id).where(Event.complaint_id == complaint_id, Event.mail_id.is_not(None))
        )
    )
    # A duplicate has the bytes, so the hash, of the mail it repeats (indexed; duplicate_of is not).
    for chunk in _chunks(sorted({mail.sha256 for mail in own})):
        copies = session.execute(
            select(Mail.id, Mail.duplicate_of).where(Mail.sha256.in_(chunk), Mail.complaint_id.is_(None))
        )
        related |= {mail_id for mail_id, original in copies if original in own_ids}
    candidates = sorted(mail_id for mail_id in related - own_ids if mail_id is not None)
    shared: set[int] = set()  # named by another case's events too: not this case's alone
    for chunk in _chunks(candidates):
        shared |= set(
            session.scalars(
                select(Event.mail_id).where(
                    Event.mail_id.in_(chunk),
                    Event.complaint_id.is_not(None),
                    Event.complaint_id != complaint_id,
                )
            )
        )
    extra = [
        mail
        for mail in _rows(session, Mail, Mail.id, [m for m in candidates if m not in shared])
        if mail.complaint_id is None
    ]
    return own + extra


def _erase_mail(mail: Mail, marker: str) -> None:
    mail.from_name = mail.from_email = mail.message_id = mail.in_reply_to = ""
    mail.subject, mail.body_text, mail.reason = marker, marker, marker


def kept_payload(payload: str) -> str:
    """An event's payload with only ``KEPT_PAYLOAD_KEYS`` (written as the events were,
    by ``json.dumps`` in the payload's own key order); "" when nothing is kept."""
    if not payload:
        return ""
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    kept = {key: value for key, value in data.items() if key in KEPT_PAYLOAD_KEYS}
    orders = data.get("orders")
    if isinstance(orders, list):  # an Ombudsman determination's orders: their due dates only
        kept["orders"] = [{"due": o.get("due")} if isinstance(o, dict) else {} for o in orders]
    return json.dumps(kept) if kept else ""


def _check_summary(check_json: str) -> str:
    """A letter's check without its elements' wording (it may quote the letter):
    whether it passed, and the counts."""
    try:
        check = json.loads(check_json or "{}")
    except ValueError:
        check = {}
    if not isinstance(check, dict):
        check = {}
    return json.dumps(
        {"passed": bool(check.get("passed")), "counts": check.get("counts", {}), "elements": []}
    )


def _folders(complaint_id: str, mails: Iterable[Mail], previews: set[str]) -> list[str]:
    """The case's folder, its mails' folders elsewhere (and still staged), its letters' previews."""
    folders = [complaint_id]
    for mail in mails:
        if mail.storage_path and not mail.storage_path.startswith(f"{complaint_id}/"):
            folders.append(mail.storage_path)
        if not mail.filed:
            folders.append(f".staging/{mail.token}")
    folders += [f".previews/{sha256}" for sha256 in sorted(previews)]
    return list(dict.fromkeys(folders))


def _rows(
    session: Session, model: type[Row], column: InstrumentedAttribute[Any], values: Sequence[Any]
) -> list[Row]:
    found: list[Row] = []
    for chunk in _chunks(list(values)):
        found += session.scalars(select(model).where(column.in_(chunk)).order_by(model.id))  # type: ignore[attr-defined]
    return found


def _union(first: list[Row], second: list[Row]) -> list[Row]:
    """Both lists of ORM rows, each row once (the session gives one object per row)."""
    return list({id(row): row for row in [*first, *second]}.values())


# -- SQLite ------------------------------------------------------------------------------------


def use_secure_delete(session: Session) -> None:
    """SQLite: overwrite what a write frees with zeros, so an erased value does not
    linger in a free page or cell of the file. For the rest of the connection's life:
    the pool may reuse it, at a small cost to its later writes."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def scrub_sqlite(engine: Engine) -> None:
    """SQLite, after erasing: merge the full-text indexes (dropping the deleted
    terms they still hold) and checkpoint the write-ahead log into the database,
    truncating it, so that no erased value remains in either file. Costs a rewrite
    of the search indexes: run once per ``retention apply``, not per case."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
        present = {
            name
            for (name,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        for table in SQLITE_SEARCH_TABLES:
            if table in present:
                connection.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    raw = engine.raw_connection()  # outside any transaction (the driver's are off: database.py)
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
