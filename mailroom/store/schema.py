"""Tables. Alembic migrations in ``migrations/versions`` must produce exactly this
schema (a test compares them). Instants are stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; instants must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        # The team view groups open cases by officer from this index alone (id included).
        Index("ix_complaints_status_officer", "status", "officer", "id"),
        # An officer's own cases, for the queues' counts restricted to them.
        Index("ix_complaints_officer", "officer"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    stage: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    complainant_name: Mapped[str] = mapped_column(String(300))
    complainant_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text)
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, e.g. "mp_enquiry"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The officer handling the case (a staff address); "" = the team's shared addresses.
    officer: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # How the complainant wants letters: "email" (when there is an address) or "post"
    # (a reasonable adjustment, 3.1, or no email at all); and where post goes.
    contact_preference: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    postal_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A legal hold (``mailroom cases hold``): why the case must be kept whatever its
    # retention period; "" = none. Blocks erasure (docs/records.md, "Retention").
    legal_hold: Mapped[str] = mapped_column(Text, default="", server_default="")
    legal_hold_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    legal_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When retention erased its personal data (``erasures`` holds the signed record).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The complaint's category for the reports, from the landlord policy's list
    # (``reports/categories.py``): set by staff (``category_by``: who; "" = nobody
    # confirmed it), suggested by keyword rules over the mail text. "" = none.
    category: Mapped[str] = mapped_column(String(60), default="", server_default="")
    category_suggested: Mapped[str] = mapped_column(String(60), default="", server_default="")
    category_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # Reasonable adjustments (Code 3.1, 5.10): the format letters are issued in
    # ("standard" or "large-print") and interpreting or translation needs ("" = none).
    letter_format: Mapped[str] = mapped_column(String(20), default="standard", server_default="standard")
    language_note: Mapped[str] = mapped_column(Text, default="", server_default="")


class CaseParty(Base):
    """People whose mail may be threaded onto a case by its subject reference."""

    __tablename__ = "case_parties"
    __table_args__ = (
        UniqueConstraint("complaint_id", "email", name="uq_case_parties_complaint_email"),
        Index("ix_case_parties_email", "email"),  # triage guesses: the cases a sender is party to
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(30))  # complainant, representative, mp, councillor


class Mail(Base):
    """One ingested mail and what became of it."""

    __tablename__ = "mails"
    __table_args__ = (
        Index("ix_mails_sha256", "sha256"),
        Index("ix_mails_message_id", "message_id"),
        Index("ix_mails_outcome", "outcome"),
        # The triage queue: only open items are indexed (a handful among a million mails).
        # The WHERE is each dialect's rendering of ``Mail.triage_open`` in a query.
        Index(
            "ix_mails_open_triage_received_at",
            "received_at",
            postgresql_where=text("triage_open"),
            sqlite_where=text("triage_open = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # names its storage folder
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(1000), default="")
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    from_name: Mapped[str] = mapped_column(String(300), default="")
    from_email: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(1000), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("mails.id"))
    storage_path: Mapped[str] = mapped_column(String(500))  # folder, relative to the storage root
    filed: Mapped[bool] = mapped_column(Boolean, default=False)  # False while the folder is still staged
    triage_open: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class LedgerEntry(Base):
    """The ingestion ledger: each (account, folder, UIDVALIDITY, UID) seen, once."""

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid", name="uq_ledger_source_key"),
        Index("ix_ledger_account_sha256", "account", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    mail_id: Mapped[int] = mapped_column(ForeignKey("mails.id"), index=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FolderCheckpoint(Base):
    __tablename__ = "folder_checkpoints"

    account: Mapped[str] = mapped_column(String(320), primary_key=True)
    folder: Mapped[str] = mapped_column(String(500), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    # A Graph source's @odata.deltaLink for the folder, committed with the ledger
    # rows it covers; None for IMAP folders.
    delta_link: Mapped[str | None] = mapped_column(Text, default=None)


class Document(Base):
    """A filed file: raw mail, attachment, unpacked part, scan."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mails.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    path: Mapped[str] = mapped_column(String(700))  # relative to the storage root
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str] = mapped_column(String(1000), default="")
    content_type: Mapped[str] = mapped_column(String(200), default="")


class Event(Base):
    """The audit trail of a case (and of mails outside any case)."""

    __tablename__ = "events"
    __table_args__ = (
        # The reports read events by kind over a period (Ombudsman determinations,
        # adjustments), never one case at a time.
        Index("ix_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mails.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    # Structured facts of a clock event as JSON (an extension's new date, a remedy's
    # due date, the event a completion refers to); "" for most events.
    payload: Mapped[str] = mapped_column(Text, default="", server_default="")


class IdCounter(Base):
    __tablename__ = "id_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """One outbound mail, committed with the change that caused it (the
    transactional outbox) and sent later by ``mailroom.outbound.send_due``."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # A Message-ID quoted back to us: a bounce (bounces.py) or a reply (triage guesses).
        Index("ix_outbox_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Names the reason for the mail, so a second enqueue of it is a no-op.
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_id: Mapped[str] = mapped_column(String(300))
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated addresses
    subject: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the RFC 5322 bytes sent, as sent
    status: Mapped[str] = mapped_column(String(20))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # pending: not before this; sending: the claim's lease expiry (then it is retaken).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed for retention: a case's outbox rows are erased with it (0012).
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)


class StaffMember(Base):
    """An officer or manager reminders go to; a case names its officer by address."""

    __tablename__ = "staff"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    manager_email: Mapped[str] = mapped_column(String(320), default="")
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # one mail a day, not one per item
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StoredDeadline(Base):
    """A Code clock of a case as last computed (``mailroom/deadline_store.py``).

    Derived data: the events are the truth and a row is recomputed whenever a
    case's events or the calendar change. Stored so that the reminder sweep is
    an index range scan on ``next_reminder_at`` instead of a pass over every case.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("complaint_id", "clock", name="uq_deadlines_complaint_clock"),
        Index("ix_deadlines_next_reminder_at", "next_reminder_at"),
        Index("ix_deadlines_lapses_at", "lapses_at"),
        # The deadlines queue, its buckets and counts: running clocks only, by due date.
        Index(
            "ix_deadlines_running_due",
            "due",
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"))
    clock: Mapped[str] = mapped_column(String(80))  # "stage1_response", "remedy#42"
    paragraph: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due: Mapped[date] = mapped_column(Date)
    lapses_at: Mapped[datetime] = mapped_column(UTCDateTime())
    original_due: Mapped[date] = mapped_column(Date)  # before any extension
    calendar_version: Mapped[str] = mapped_column(String(20))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a due date of this clock first lapsed unmet (NULL: not missed when last
    # computed). A late extension moves ``due`` but never this: a breach stays a
    # breach for reporting (TSM CH02).
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The step that stopped the clock without meeting it ("withdrawn", "refused",
    # "escalation_refused", "closed"); "" when met or still running.
    ended_by: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # When the reminder ladder next has a step for this clock; NULL once it has
    # stopped, or while the case is closed.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderLog(Base):
    """The reminder ledger: each (complaint, clock, deadline version, step) once."""

    __tablename__ = "reminder_log"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    clock: Mapped[str] = mapped_column(String(80))
    step: Mapped[str] = mapped_column(String(30))
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # went in a digest, not its own mail
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Letter(Base):
    """A letter to the complainant (``mailroom/letters/drafts.py``): a draft, revised
    by staff, approved, then issued by email or for post. One row per letter; each
    revision's DOCX stays filed (``documents``, kind ``letter_docx``)."""

    __tablename__ = "letters"
    # Drafts and letters to post by status, the latter in order of issue; complaint_id
    # lets an officer's restriction be checked from the index.
    __table_args__ = (Index("ix_letters_status_issued_at", "status", "issued_at", "complaint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    letter_type: Mapped[str] = mapped_column(String(40))  # mailroom.letters.types.LetterType
    status: Mapped[str] = mapped_column(String(20))  # draft, approved, sent, for_post
    revision: Mapped[int] = mapped_column(Integer)
    # True once staff replaced the rendered DOCX with their own edit.
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    fields_json: Mapped[str] = mapped_column(Text)  # the draft's fields as given (dates ISO)
    context_json: Mapped[str] = mapped_column(Text)  # the exact context rendered from, cleaned
    docx_path: Mapped[str] = mapped_column(String(700))  # the current revision, relative to the root
    docx_sha256: Mapped[str] = mapped_column(String(64))
    check_json: Mapped[str] = mapped_column(Text)  # CheckResult.to_json() of the current revision
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str] = mapped_column(String(320), default="")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_path: Mapped[str] = mapped_column(String(700), default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    message_id: Mapped[str] = mapped_column(String(300), default="")  # of the mail carrying the PDF


class CaseRecordItem(Base):
    """What an issued letter told the resident, item by item, kept on the case
    (5.12: the full record of each complaint and its outcome at each stage; 5.10:
    adjustments). Written in the transaction that issues the letter, never edited.
    ``kind``: point, decision, handler, exclusion, remedy, action, adjustment,
    extension (``mailroom/letters/record.py``)."""

    __tablename__ = "case_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order within the letter, from 1
    text: Mapped[str] = mapped_column(Text)  # the item in a line: a point, a remedy, a name...
    data_json: Mapped[str] = mapped_column(Text)  # the item's fields as drafted (dates ISO)
    due: Mapped[date | None] = mapped_column(Date)  # remedies and actions: by when (7.3)
    # Remedies and actions in a response: the promise event that runs their clock.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Erasure(Base):
    """The signed record of one case's erasure under the retention rules
    (``mailroom/records/retention.py``): what rule, why, what was erased (counts, never
    the data), and the folders whose removal follows the commit. Never updated but
    for ``files_removed_at``, set once the folders are gone (a rerun finishes the rest)."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(320))  # who ran it: "cli:<user>" or a desk user
    rule: Mapped[str] = mapped_column(String(40))  # closed, refused, after_determination
    reason: Mapped[str] = mapped_column(Text)  # the rule's dates in words
    counts_json: Mapped[str] = mapped_column(Text)  # rows erased, by table
    folders_json: Mapped[str] = mapped_column(Text)  # folders to remove, relative to the root
    files_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # HMAC-SHA256 of the fields above but files_removed_at (retention.erasure_payload).
    signature: Mapped[str] = mapped_column(String(200))


class MailboxHealth(Base):
    """How one mail source or transport is doing, and its open incident ("" = none),
    so an alert is mailed once per incident and once on recovery."""

    __tablename__ = "mailbox_health"

    source: Mapped[str] = mapped_column(String(400), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    incident: Mapped[str] = mapped_column(String(40), default="", server_default="")
    incident_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HomesCount(Base):
    """The number of homes the landlord reports for a financial year, the denominator
    of TSM CH01 (``reports/homes.py``; ``mailroom report homes``)."""

    __tablename__ = "homes"

    year: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-27"
    homes: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))


class DeskUser(Base):
    """A person who signs in to the review desk (docs/desk.md). The password is an
    argon2 hash, or "" for an account that signs in only through single sign-on."""

    __tablename__ = "desk_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # mailroom.accounts.roles.Role
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # since the last success
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    oidc_subject: Mapped[str] = mapped_column(String(300), default="")  # issuer + " " + sub
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeskSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is
    stored, so a copy of the database signs nobody in."""

    __tablename__ = "desk_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("desk_users.id"), index=True)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditEntry(Base):
    """Who did what, when, from the desk or the command line: one row per
    state-changing action, never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(320))  # a desk user's email, or "cli:<user>"
    action: Mapped[str] = mapped_column(String(60))  # "letter.approve", "login.failed", ...
    complaint_id: Mapped[str | None] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")  # "letter 12", "mail 7"
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64), default="")  # the client address, for logins


class ChainEntry(Base):
    """The tamper-evident audit chain (``mailroom/records/audit_chain.py``): one entry
    per version of a row of the case's evidence (complaints, mails, documents, events,
    letters, case_record, audit_log), appended in the transaction that wrote it. Each
    entry holds the SHA-256 of the row's canonical form and of the entry before it
    (``mailroom/records/audit_canonical.py``); the head is the highest ``seq``."""

    __tablename__ = "audit_chain"
    __table_args__ = (
        # A row's latest entry, and the rows a table has entries for, in row order.
        Index("ix_audit_chain_table_name_row", "table_name", "row_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # 1, 2, 3...
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    change: Mapped[str] = mapped_column(String(10))  # genesis, insert, update, delete
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(40))
    complaint_id: Mapped[str | None] = mapped_column(String(40), index=True)
    row_sha256: Mapped[str] = mapped_column(String(64))  # "" when the row was deleted
    prev_sha256: Mapped[str] = mapped_column(String(64))
    entry_sha256: Mapped[str] = mapped_column(String(64))
