"""The store's writes. Makes no business decisions.

``Store.transaction()`` yields a ``Repository`` bound to one transaction; the
worker uses one per batch of mails. Each transaction's writes to the chained
tables are appended to the audit chain at commit (``records/audit_capture.py``,
which with ``records/audit_append.py`` is the one other place writing SQL).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mailroom.clock import Clock, SystemClock
from mailroom.domain.ids import format_complaint_id
from mailroom.domain.models import SourceKey
from mailroom.ingest.source import Checkpoint
from mailroom.records import audit_capture
from mailroom.records.audit_canonical import INSERT
from mailroom.store.schema import (
    Base,
    CaseParty,
    CaseRecordItem,
    Complaint,
    Document,
    Event,
    FolderCheckpoint,
    IdCounter,
    LedgerEntry,
    Letter,
    Mail,
    OutboxMessage,
    ReminderLog,
    StaffMember,
    StoredDeadline,
)

# Bound the IN (...) lists: SQLite allows 32766 parameters, PostgreSQL 65535.
_CHUNK = 500


class Store:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        # Every write of the case evidence is chained at commit (docs/records.md);
        # the clock stamps the chain's entries.
        audit_capture.install(self._sessions, clock or SystemClock())

    @contextmanager
    def transaction(self) -> Iterator[Repository]:
        with self._sessions() as session, session.begin():
            repo = Repository(session)
            yield repo
            repo.flush_counters()


class UnfiledMail(NamedTuple):
    id: int
    token: str
    storage_path: str
    complaint_id: str | None


class DocumentRow(NamedTuple):
    """The columns of a document a manifest lists."""

    complaint_id: str | None
    mail_id: int | None
    kind: str
    path: str
    sha256: str
    size: int
    original_name: str


# Hot-path statements built once: compiled-statement caching then skips the
# per-call construction that dominated the worker's time in profiles.
_TABLES = Base.metadata.tables
_MAILS = _TABLES["mails"]
_FIRST_BY_SHA = select(func.min(_MAILS.c.id)).where(_MAILS.c.sha256 == bindparam("sha256"))
_INSERT_MAIL = insert(_MAILS).returning(_MAILS.c.id)
_INSERT_LEDGER = insert(_TABLES["ledger"])
_INSERT_COMPLAINT = insert(_TABLES["complaints"])
_INSERT_PARTY = insert(_TABLES["case_parties"])


class ReminderCandidate(NamedTuple):
    """A running clock whose reminder moment has come, with what routing needs."""

    deadline_id: int
    complaint_id: str
    clock: str
    paragraph: str
    title: str
    due: Any  # date
    lapses_at: datetime
    calendar_version: str
    officer: str
    subject: str
    complainant_name: str
    complainant_email: str


_REMINDER_LOG_INSERTS = {
    "sqlite": sqlite.insert(ReminderLog)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(ReminderLog.key),
    "postgresql": postgresql.insert(ReminderLog)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(ReminderLog.key),
}
_SET_NEXT_REMINDER = (
    update(_TABLES["deadlines"])
    .where(_TABLES["deadlines"].c.id == bindparam("deadline_id"))
    .values(next_reminder_at=bindparam("next_at"))
)


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._counters: dict[tuple[str, int], int] = {}  # (prefix, year) -> last ID handed out
        self._older_uidvalidity: dict[tuple[str, str, int], bool] = {}

    def _core(self, statement: Any, params: dict[str, Any]) -> Any:
        return self.session.connection().execute(statement, params)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Roll back only this block on error (one mail), keeping the batch."""
        with self.session.begin_nested():
            yield

    # -- ledger and checkpoints ------------------------------------------------

    def known_keys(self, keys: Sequence[SourceKey]) -> set[SourceKey]:
        known: set[SourceKey] = set()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            rows = self.session.execute(
                select(
                    LedgerEntry.account, LedgerEntry.folder, LedgerEntry.uidvalidity, LedgerEntry.uid
                ).where(
                    tuple_(
                        LedgerEntry.account, LedgerEntry.folder, LedgerEntry.uidvalidity, LedgerEntry.uid
                    ).in_([(k.account, k.folder, k.uidvalidity, k.uid) for k in chunk])
                )
            )
            known.update(SourceKey(*row) for row in rows)
        return known

    def checkpoints(self, account: str) -> dict[str, Checkpoint]:
        rows = self.session.scalars(select(FolderCheckpoint).where(FolderCheckpoint.account == account))
        return {row.folder: Checkpoint(row.uidvalidity, row.last_uid, row.delta_link) for row in rows}

    def advance_checkpoint(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        row = self.session.get(FolderCheckpoint, (account, folder))
        if row is None:
            self.session.add(
                FolderCheckpoint(account=account, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid)
            )
        elif row.uidvalidity != uidvalidity:
            row.uidvalidity, row.last_uid = uidvalidity, last_uid
        elif last_uid > row.last_uid:
            row.last_uid = last_uid

    def set_delta_link(self, account: str, folder: str, uidvalidity: int, delta_link: str) -> None:
        """A Graph folder's deltaLink, in the commit of the ledger rows it covers."""
        row = self.session.get(FolderCheckpoint, (account, folder))
        if row is None:
            self.session.add(
                FolderCheckpoint(
                    account=account, folder=folder, uidvalidity=uidvalidity, last_uid=0, delta_link=delta_link
                )
            )
        else:
            row.delta_link = delta_link

    def add_ledger(self, key: SourceKey, sha256: str, mail_id: int, now: datetime) -> None:
        self._core(
            _INSERT_LEDGER,
            {
                "account": key.account,
                "folder": key.folder,
                "uidvalidity": key.uidvalidity,
                "uid": key.uid,
                "sha256": sha256,
                "mail_id": mail_id,
                "acknowledged": False,
                "recorded_at": now,
            },
        )

    def resighted_mail(self, key: SourceKey, sha256: str) -> int | None:
        """A mail with these bytes, ledgered from this folder under an OLDER
        UIDVALIDITY and not yet seen under the current one: the folder was
        recreated (or migrated) and this is the same mail, not a new one."""
        if not self._has_older_uidvalidity(key):
            return None  # the usual case, answered once per batch and folder
        current = select(LedgerEntry.mail_id).where(
            LedgerEntry.account == key.account,
            LedgerEntry.folder == key.folder,
            LedgerEntry.uidvalidity == key.uidvalidity,
        )
        return self.session.scalar(
            select(LedgerEntry.mail_id)
            .where(
                LedgerEntry.account == key.account,
                LedgerEntry.folder == key.folder,
                LedgerEntry.sha256 == sha256,
                LedgerEntry.uidvalidity != key.uidvalidity,
                LedgerEntry.mail_id.not_in(current),
            )
            .order_by(LedgerEntry.mail_id)
            .limit(1)
        )

    def _has_older_uidvalidity(self, key: SourceKey) -> bool:
        slot = (key.account, key.folder, key.uidvalidity)
        if slot not in self._older_uidvalidity:
            found = self.session.scalar(
                select(LedgerEntry.id)
                .where(
                    LedgerEntry.account == key.account,
                    LedgerEntry.folder == key.folder,
                    LedgerEntry.uidvalidity != key.uidvalidity,
                )
                .limit(1)
            )
            self._older_uidvalidity[slot] = found is not None
        return self._older_uidvalidity[slot]

    def unacknowledged(self, account: str) -> list[tuple[int, SourceKey]]:
        """(ledger id, key) of filed mails whose mailbox action is not confirmed."""
        rows = self.session.execute(
            select(
                LedgerEntry.id,
                LedgerEntry.account,
                LedgerEntry.folder,
                LedgerEntry.uidvalidity,
                LedgerEntry.uid,
            )
            .join(Mail, Mail.id == LedgerEntry.mail_id)
            .where(LedgerEntry.account == account, LedgerEntry.acknowledged.is_(False), Mail.filed.is_(True))
            .order_by(LedgerEntry.id)
        )
        return [(row[0], SourceKey(*row[1:])) for row in rows]

    def mark_acknowledged(self, ledger_ids: Sequence[int]) -> None:
        for start in range(0, len(ledger_ids), _CHUNK):
            chunk = list(ledger_ids[start : start + _CHUNK])
            self.session.execute(
                update(LedgerEntry).where(LedgerEntry.id.in_(chunk)).values(acknowledged=True)
            )

    # -- CaseLookup (for the classifier) ---------------------------------------

    def first_mail_with_sha256(self, sha256: str, excluding: int | None = None) -> int | None:
        if excluding is None:
            found: int | None = self._core(_FIRST_BY_SHA, {"sha256": sha256}).scalar()
            return found
        query = select(func.min(Mail.id)).where(Mail.sha256 == sha256, Mail.id != excluding)
        return self.session.scalar(query)

    def complaint_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        if not message_ids:
            return None
        rows = self.session.execute(
            select(Mail.message_id, Mail.complaint_id).where(
                Mail.message_id.in_(list(message_ids)[:_CHUNK]), Mail.complaint_id.is_not(None)
            )
        ).all()
        by_id = {message_id: complaint_id for message_id, complaint_id in rows}
        for message_id in message_ids:  # the caller orders them nearest first
            if message_id in by_id:
                return by_id[message_id]
        return None

    def complaint_exists(self, complaint_id: str) -> bool:
        return self.session.get(Complaint, complaint_id) is not None

    def is_party(self, complaint_id: str, email: str) -> bool:
        found = self.session.scalar(
            select(CaseParty.id).where(
                CaseParty.complaint_id == complaint_id, CaseParty.email == email.lower()
            )
        )
        return found is not None

    # -- complaints ----------------------------------------------------------------

    def allocate_complaint_id(self, prefix: str, year: int, digits: int) -> str:
        """The next ID for (prefix, year). The counter row stays locked for the
        rest of the transaction (SELECT FOR UPDATE on PostgreSQL; SQLite's write
        lock), so IDs are handed out in memory and written back once, at commit.
        The primary key on complaints.id is the backstop."""
        slot = (prefix, year)
        if slot not in self._counters:
            self._counters[slot] = self._lock_counter(prefix, year)
        self._counters[slot] += 1
        return format_complaint_id(prefix, year, self._counters[slot], digits)

    def _lock_counter(self, prefix: str, year: int) -> int:
        locked = (
            select(IdCounter.last_value)
            .where(IdCounter.prefix == prefix, IdCounter.year == year)
            .with_for_update()
        )
        value = self.session.scalar(locked)
        if value is not None:
            return int(value)
        try:  # first complaint of the year
            with self.session.begin_nested():
                self.session.execute(insert(IdCounter).values(prefix=prefix, year=year, last_value=0))
            value = self.session.scalar(locked)  # and lock it
        except IntegrityError:  # another worker created the row first
            value = self.session.scalar(locked)
        return int(value or 0)

    def flush_counters(self) -> None:
        for (prefix, year), value in self._counters.items():
            self.session.execute(
                update(IdCounter)
                .where(IdCounter.prefix == prefix, IdCounter.year == year)
                .values(last_value=value)
            )
        self._counters.clear()

    def add_complaint(self, complaint: Complaint) -> None:
        self.session.add(complaint)
        self.session.flush()

    def insert_complaint(self, values: dict[str, Any]) -> None:
        """Core insert: the worker's hot path skips the ORM unit of work."""
        self._core(_INSERT_COMPLAINT, values)
        audit_capture.note(self.session, "complaints", [values["id"]], INSERT)

    def add_party(self, complaint_id: str, email: str, name: str, role: str, new_case: bool = False) -> None:
        """Add a party unless already one (a case just opened has none to check)."""
        email = email.lower()
        if not email or (not new_case and self.is_party(complaint_id, email)):
            return
        self._core(_INSERT_PARTY, {"complaint_id": complaint_id, "email": email, "name": name, "role": role})

    def get_complaint(self, complaint_id: str) -> Complaint | None:
        return self.session.get(Complaint, complaint_id)

    def list_complaints(self) -> list[Complaint]:
        return list(self.session.scalars(select(Complaint).order_by(Complaint.received_at, Complaint.id)))

    def parties(self, complaint_id: str) -> list[CaseParty]:
        return list(self.session.scalars(select(CaseParty).where(CaseParty.complaint_id == complaint_id)))

    def remove_party(self, complaint_id: str, email: str) -> bool:
        """Remove a party; False when there was none by that address."""
        found = self.session.scalar(
            select(CaseParty).where(CaseParty.complaint_id == complaint_id, CaseParty.email == email.lower())
        )
        if found is None:
            return False
        self.session.delete(found)
        return True

    # -- mails, documents, events --------------------------------------------------

    def add_mail(self, mail: Mail) -> int:
        self.session.add(mail)
        self.session.flush()
        return mail.id

    def insert_mail(self, values: dict[str, Any]) -> int:
        mail_id = int(self._core(_INSERT_MAIL, values).scalar_one())
        audit_capture.note(self.session, "mails", [mail_id], INSERT)
        return mail_id

    def get_mail(self, mail_id: int) -> Mail | None:
        return self.session.get(Mail, mail_id)

    def list_mails(self, outcome: str | None = None, open_triage_only: bool = False) -> list[Mail]:
        query = select(Mail).order_by(Mail.received_at, Mail.id)
        if outcome is not None:
            query = query.where(Mail.outcome == outcome)
        if open_triage_only:
            query = query.where(Mail.triage_open.is_(True))
        return list(self.session.scalars(query))

    def mark_filed(self, mail_ids: Sequence[int]) -> None:
        for start in range(0, len(mail_ids), _CHUNK):
            chunk = list(mail_ids[start : start + _CHUNK])
            filed = update(Mail).where(Mail.id.in_(chunk)).values(filed=True)
            audit_capture.execute_recorded(self.session, filed)

    def unfiled_mails(self) -> list[UnfiledMail]:
        """Committed mails whose folder is still staged (columns only: this runs every batch)."""
        query = (
            select(Mail.id, Mail.token, Mail.storage_path, Mail.complaint_id)
            .where(Mail.filed.is_(False))
            .order_by(Mail.id)
        )
        return [UnfiledMail(*row) for row in self.session.execute(query)]

    def mail_by_token(self, token: str) -> Mail | None:
        return self.session.scalar(select(Mail).where(Mail.token == token))

    def add_documents(self, documents: Sequence[Document]) -> None:
        if documents:
            audit_capture.execute_recorded(self.session, insert(Document), [_columns(d) for d in documents])

    def staged_documents_folder(self, token: str) -> str | None:
        """The folder of staff-filed documents staged under ``token``, if committed."""
        path = self.session.scalar(
            select(Document.path)
            .where(Document.mail_id.is_(None), Document.path.like(f"%-{token}/%"))
            .limit(1)
        )
        return path.rsplit("/", 1)[0] if path else None

    def replace_documents(self, mail_id: int, documents: Sequence[Document]) -> None:
        audit_capture.execute_recorded(self.session, delete(Document).where(Document.mail_id == mail_id))
        self.add_documents(documents)

    def documents_of_case(self, complaint_id: str) -> list[Document]:
        return list(
            self.session.scalars(
                select(Document).where(Document.complaint_id == complaint_id).order_by(Document.id)
            )
        )

    def documents_of_cases(self, complaint_ids: Sequence[str]) -> dict[str, list[DocumentRow]]:
        found: dict[str, list[DocumentRow]] = {complaint_id: [] for complaint_id in complaint_ids}
        columns = [getattr(Document, name) for name in DocumentRow._fields]
        for start in range(0, len(complaint_ids), _CHUNK):
            chunk = list(complaint_ids[start : start + _CHUNK])
            query = select(*columns).where(Document.complaint_id.in_(chunk)).order_by(Document.id)
            for row in self.session.execute(query):
                document = DocumentRow(*row)
                found[str(document.complaint_id)].append(document)
        return found

    def documents_of_mail(self, mail_id: int) -> list[Document]:
        return list(
            self.session.scalars(select(Document).where(Document.mail_id == mail_id).order_by(Document.id))
        )

    def repoint_documents(
        self, mail_id: int, old_prefix: str, new_prefix: str, complaint_id: str | None
    ) -> None:
        for document in self.documents_of_mail(mail_id):
            if document.path.startswith(old_prefix):
                document.path = new_prefix + document.path[len(old_prefix) :]
            document.complaint_id = complaint_id

    def add_event(
        self,
        at: datetime,
        kind: str,
        detail: str,
        complaint_id: str | None = None,
        mail_id: int | None = None,
    ) -> None:
        event = {"at": at, "kind": kind, "detail": detail, "complaint_id": complaint_id, "mail_id": mail_id}
        self.add_events([event])

    def add_event_returning_id(
        self, at: datetime, kind: str, detail: str, complaint_id: str, payload: str = ""
    ) -> int:
        event = Event(at=at, kind=kind, detail=detail, complaint_id=complaint_id, payload=payload)
        self.session.add(event)
        self.session.flush()
        return event.id

    def add_events(self, events: Sequence[dict[str, Any]]) -> None:
        if events:
            audit_capture.execute_recorded(self.session, insert(Event), list(events))

    def events_of_case(self, complaint_id: str) -> list[Event]:
        """The case's events and those of its mails that name no case. Two index
        lookups, not one OR: with the OR, PostgreSQL read every case-less event of the
        whole store (about 70 ms at a million mails) for each case shown."""
        own = list(self.session.scalars(select(Event).where(Event.complaint_id == complaint_id)))
        mail_ids = select(Mail.id).where(Mail.complaint_id == complaint_id)
        of_mails = self.session.scalars(
            select(Event).where(Event.mail_id.in_(mail_ids), Event.complaint_id.is_(None))
        )
        return sorted([*own, *of_mails], key=lambda event: (event.at, event.id))

    # -- stored deadlines and the reminder ledger ----------------------------------

    def deadlines_of_case(self, complaint_id: str) -> list[StoredDeadline]:
        query = select(StoredDeadline).where(StoredDeadline.complaint_id == complaint_id)
        return list(self.session.scalars(query.order_by(StoredDeadline.lapses_at, StoredDeadline.clock)))

    def delete_deadlines(self, deadline_ids: Sequence[int]) -> None:
        if deadline_ids:
            self.session.execute(delete(StoredDeadline).where(StoredDeadline.id.in_(list(deadline_ids))))

    def insert_deadlines(self, deadlines: Sequence[StoredDeadline]) -> None:
        if deadlines:
            self.session.execute(insert(StoredDeadline), [_columns(d) for d in deadlines])

    def add_deadline(self, deadline: StoredDeadline) -> None:
        self.session.add(deadline)

    def reminder_candidates(self, now: datetime, limit: int) -> list[ReminderCandidate]:
        """Running clocks of open cases whose next reminder moment is due: an
        index range scan on ``next_reminder_at``, however many cases there are."""
        query = (
            select(
                StoredDeadline.id,
                StoredDeadline.complaint_id,
                StoredDeadline.clock,
                StoredDeadline.paragraph,
                StoredDeadline.title,
                StoredDeadline.due,
                StoredDeadline.lapses_at,
                StoredDeadline.calendar_version,
                Complaint.officer,
                Complaint.subject,
                Complaint.complainant_name,
                Complaint.complainant_email,
            )
            .join(Complaint, Complaint.id == StoredDeadline.complaint_id)
            .where(StoredDeadline.next_reminder_at <= now, Complaint.status == "open")
            .order_by(StoredDeadline.next_reminder_at, StoredDeadline.id)
            .limit(limit)
        )
        return [ReminderCandidate._make(row) for row in self.session.execute(query)]

    def set_next_reminders(self, moments: Sequence[tuple[int, datetime | None]]) -> None:
        if moments:
            self._core(_SET_NEXT_REMINDER, [{"deadline_id": i, "next_at": at} for i, at in moments])  # type: ignore[arg-type]

    def log_reminders(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Ledger many steps in one statement; returns the keys that were new."""
        if not rows:
            return set()
        statement = _REMINDER_LOG_INSERTS[self.session.get_bind().dialect.name]
        return {str(key) for key in self.session.scalars(statement, list(rows))}

    def reminders_logged(self, complaint_id: str | None = None) -> list[ReminderLog]:
        query = select(ReminderLog).order_by(ReminderLog.created_at, ReminderLog.key)
        if complaint_id is not None:
            query = query.where(ReminderLog.complaint_id == complaint_id)
        return list(self.session.scalars(query))

    def stale_deadline_cases(
        self, calendar_version: str, limit: int, received_between: tuple[datetime, datetime]
    ) -> list[str]:
        """Cases with a running clock computed on another calendar, or open cases
        received inside ``received_between`` with none computed yet."""
        stale = select(StoredDeadline.complaint_id).where(
            StoredDeadline.calendar_version != calendar_version, StoredDeadline.stopped_at.is_(None)
        )
        missing = select(Complaint.id).where(
            Complaint.status == "open",
            Complaint.received_at >= received_between[0],
            Complaint.received_at < received_between[1],
            ~select(StoredDeadline.id).where(StoredDeadline.complaint_id == Complaint.id).exists(),
        )
        found = list(self.session.scalars(stale.distinct().limit(limit)))
        if len(found) < limit:
            found += self.session.scalars(missing.limit(limit - len(found)))
        return list(dict.fromkeys(found))

    def running_deadlines(self, officer: str | None = None) -> list[tuple[StoredDeadline, Complaint]]:
        query = (
            select(StoredDeadline, Complaint)
            .join(Complaint, Complaint.id == StoredDeadline.complaint_id)
            .where(StoredDeadline.stopped_at.is_(None), Complaint.status == "open")
            .order_by(StoredDeadline.lapses_at, StoredDeadline.complaint_id, StoredDeadline.clock)
        )
        if officer is not None:
            query = query.where(Complaint.officer == officer.lower())
        return [(row[0], row[1]) for row in self.session.execute(query)]

    # -- staff -------------------------------------------------------------------------

    def staff(self) -> dict[str, StaffMember]:
        return {member.email: member for member in self.session.scalars(select(StaffMember))}

    def save_staff(self, member: StaffMember) -> None:
        self.session.merge(member)

    # -- letters ---------------------------------------------------------------------

    def add_letter(self, letter: Letter) -> int:
        self.session.add(letter)
        self.session.flush()
        return letter.id

    def get_letter(self, letter_id: int, *, for_update: bool = False) -> Letter | None:
        """A letter; ``for_update`` locks its row until the transaction ends (PostgreSQL;
        SQLite's BEGIN IMMEDIATE already serialises writers)."""
        query = select(Letter).where(Letter.id == letter_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def letters_of_case(self, complaint_id: str) -> list[Letter]:
        query = select(Letter).where(Letter.complaint_id == complaint_id).order_by(Letter.id)
        return list(self.session.scalars(query))

    def add_record_items(self, items: Sequence[CaseRecordItem]) -> None:
        self.session.add_all(items)
        self.session.flush()

    def record_of_case(self, complaint_id: str, kind: str | None = None) -> list[CaseRecordItem]:
        """What the case's issued letters told the resident, in the order recorded."""
        query = select(CaseRecordItem).where(CaseRecordItem.complaint_id == complaint_id)
        if kind is not None:
            query = query.where(CaseRecordItem.kind == kind)
        return list(self.session.scalars(query.order_by(CaseRecordItem.id)))

    def cases_without_letter(
        self,
        letter_type: str,
        stage: int,
        unless_events: Sequence[str],
        limit: int,
        unless_event_payload: tuple[str, str] | None = None,
    ) -> list[str]:
        """Open complaints at ``stage`` with no letter of ``letter_type``, none of
        ``unless_events`` and no event (kind, payload) equal to ``unless_event_payload``
        on the case, oldest first: one query, however many cases."""
        has_letter = select(Letter.id).where(
            Letter.complaint_id == Complaint.id, Letter.letter_type == letter_type
        )
        has_event = select(Event.id).where(
            Event.complaint_id == Complaint.id, Event.kind.in_(list(unless_events))
        )
        conditions = [~has_letter.exists(), ~has_event.exists()]
        if unless_event_payload is not None:
            kind, payload = unless_event_payload
            marked = select(Event.id).where(
                Event.complaint_id == Complaint.id, Event.kind == kind, Event.payload == payload
            )
            conditions.append(~marked.exists())
        query = (
            select(Complaint.id)
            .where(Complaint.status == "open", Complaint.stage == stage)
            .where(*conditions)
            .order_by(Complaint.received_at, Complaint.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def events_of_kind(self, kind: str) -> list[Event]:
        """Every case event of ``kind``, oldest first."""
        query = select(Event).where(Event.kind == kind, Event.complaint_id.is_not(None))
        return list(self.session.scalars(query.order_by(Event.id)))

    def open_cases_without_clocks(self, limit: int) -> list[Complaint]:
        """Open complaints with no stored Code clock at all, oldest first (the unique
        (complaint_id, clock) index makes this an index lookup per case)."""
        has_clock = select(StoredDeadline.id).where(StoredDeadline.complaint_id == Complaint.id)
        query = (
            select(Complaint)
            .where(Complaint.status == "open", ~has_clock.exists())
            .order_by(Complaint.received_at, Complaint.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def unchecked_automatic_mails(self, rules: Sequence[str], kinds: Sequence[str], limit: int) -> list[Mail]:
        """Filed automatic mails by these ``rules`` with no event of ``kinds`` yet, oldest first."""
        checked = select(Event.id).where(Event.mail_id == Mail.id, Event.kind.in_(list(kinds)))
        query = (
            select(Mail)
            .where(Mail.rule.in_(list(rules)), Mail.filed.is_(True), ~checked.exists())
            .order_by(Mail.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def outbox_by_message_ids(self, message_ids: Sequence[str]) -> OutboxMessage | None:
        """The first of our outbound mails with one of these Message-IDs."""
        if not message_ids:
            return None
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.message_id.in_(list(message_ids)[:_CHUNK]))
            .order_by(OutboxMessage.id)
        )
        return self.session.scalars(query).first()

    def outbox_entry(self, dedupe_key: str) -> tuple[int, str] | None:
        """(row id, Message-ID) of the outbox mail queued under ``dedupe_key``."""
        row = self.session.execute(
            select(OutboxMessage.id, OutboxMessage.message_id).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns if column.key != "id"}
