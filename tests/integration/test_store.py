"""The store on SQLite and PostgreSQL: schema, ledger key, IDs under concurrency, instants."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, StatementError

from mailroom.domain.models import SourceKey
from mailroom.store.database import make_engine, migrate
from mailroom.store.repository import Store
from mailroom.store.schema import Base, Complaint, Mail

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(db_url: str) -> Store:
    engine = make_engine(db_url)
    migrate(engine)
    yield Store(engine)
    engine.dispose()


def _mail(token: str, sha: str = "a" * 64, message_id: str = "", complaint_id: str | None = None) -> Mail:
    return Mail(
        token=token,
        sha256=sha,
        size=10,
        received_at=T0,
        ingested_at=T0,
        message_id=message_id,
        outcome="complaint",
        rule="new_complaint",
        reason="r",
        complaint_id=complaint_id,
        storage_path=f"x/{token}",
        filed=False,
        triage_open=False,
        attempts=1,
    )


def _complaint(complaint_id: str) -> Complaint:
    return Complaint(
        id=complaint_id,
        status="open",
        stage=1,
        channel="email",
        received_at=T0,
        complainant_name="A",
        complainant_email="a@example.org",
        subject="s",
        description="d",
        flags="",
        created_at=T0,
    )


def _not_search(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out only migration 0009's search objects (FTS5 tables and their shadow
    tables, triggers' key table, GIN expression indexes), which schema.py does not
    declare: all of them, and nothing else, are named ``search_*``."""
    return not (type_ in ("table", "index") and (name or "").startswith("search_"))


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_name": _not_search})
    return list(compare_metadata(context, Base.metadata))


def test_migrations_produce_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = _schema_diff(connection)
    assert diff == []


def test_migrate_twice_is_harmless(store: Store) -> None:
    migrate(store.engine)
    with store.transaction() as repo:
        assert repo.list_mails() == []


def test_ledger_key_is_unique(store: Store) -> None:
    key = SourceKey("acct", "INBOX", 7, "42")
    with store.transaction() as repo:
        mail_id = repo.add_mail(_mail("t1"))
        repo.add_ledger(key, "a" * 64, mail_id, T0)
    with pytest.raises(IntegrityError), store.transaction() as repo:
        other = repo.add_mail(_mail("t2"))
        repo.add_ledger(key, "a" * 64, other, T0)
        repo.session.flush()
    with store.transaction() as repo:
        assert repo.known_keys([key, SourceKey("acct", "INBOX", 7, "43")]) == {key}


def test_instants_come_back_aware_utc_and_naive_ones_are_refused(store: Store) -> None:
    bst = timezone(timedelta(hours=1))
    with store.transaction() as repo:
        repo.add_complaint(_complaint("CMP-2026-000001"))
        complaint = repo.get_complaint("CMP-2026-000001")
        assert complaint is not None
        complaint.received_at = datetime(2026, 6, 1, 9, 0, tzinfo=bst)
    with store.transaction() as repo:
        stored = repo.get_complaint("CMP-2026-000001")
        assert stored is not None
        assert stored.received_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
        assert stored.received_at.tzinfo is not None and stored.received_at.utcoffset() == timedelta(0)
    with pytest.raises(StatementError, match="naive"), store.transaction() as repo:
        complaint = repo.get_complaint("CMP-2026-000001")
        assert complaint is not None
        complaint.received_at = datetime(2026, 6, 1, 9, 0)
        repo.session.flush()


def test_complaint_ids_are_sequential_per_year(store: Store) -> None:
    with store.transaction() as repo:
        first = repo.allocate_complaint_id("CMP", 2026, 6)
        second = repo.allocate_complaint_id("CMP", 2026, 6)
        next_year = repo.allocate_complaint_id("CMP", 2027, 6)
    assert (first, second, next_year) == ("CMP-2026-000001", "CMP-2026-000002", "CMP-2027-000001")


def test_complaint_ids_are_unique_under_concurrent_workers(store: Store) -> None:
    allocated: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(15):
                with store.transaction() as repo:
                    complaint_id = repo.allocate_complaint_id("CMP", 2026, 6)
                    repo.add_complaint(_complaint(complaint_id))
                with lock:
                    allocated.append(complaint_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(allocated) == [f"CMP-2026-{n:06d}" for n in range(1, 91)]


def test_resighting_finds_same_bytes_under_an_older_uidvalidity_only(store: Store) -> None:
    old = SourceKey("acct", "INBOX", 1, "5")
    with store.transaction() as repo:
        mail_id = repo.add_mail(_mail("t1", sha="b" * 64))
        repo.add_ledger(old, "b" * 64, mail_id, T0)
    with store.transaction() as repo:
        assert repo.resighted_mail(SourceKey("acct", "INBOX", 1, "6"), "b" * 64) is None  # same UIDVALIDITY
        assert repo.resighted_mail(SourceKey("acct", "Other", 2, "1"), "b" * 64) is None  # other folder
        new_key = SourceKey("acct", "INBOX", 2, "1")
        assert repo.resighted_mail(new_key, "b" * 64) == mail_id
        repo.add_ledger(new_key, "b" * 64, mail_id, T0)
        # once matched under the new UIDVALIDITY, a second copy is a new mail (a duplicate)
        assert repo.resighted_mail(SourceKey("acct", "INBOX", 2, "2"), "b" * 64) is None


def test_message_ids_thread_to_the_nearest_case(store: Store) -> None:
    with store.transaction() as repo:
        repo.add_complaint(_complaint("CMP-2026-000001"))
        repo.add_complaint(_complaint("CMP-2026-000002"))
        repo.add_mail(_mail("t1", message_id="<one@x>", complaint_id="CMP-2026-000001"))
        repo.add_mail(_mail("t2", message_id="<two@x>", complaint_id="CMP-2026-000002"))
        assert repo.complaint_for_message_ids(["<two@x>", "<one@x>"]) == "CMP-2026-000002"
        assert repo.complaint_for_message_ids(["<nobody@x>"]) is None


def _migrate_in_a_process(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()


def test_workers_starting_together_on_a_new_database_all_migrate(db_url: str) -> None:
    """Four processes open a brand-new database at the same moment (WAL switch on
    SQLite, table creation on both): every one succeeds and the schema is right."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_migrate_in_a_process, args=(db_url,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert _schema_diff(connection) == []
    engine.dispose()
