"""The listings' read path (mailroom/store/reader.py) gives exactly what the
repository gives, on SQLite and PostgreSQL, and stands aside for a database it
must not read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from mailroom.clock import FixedClock
from mailroom.domain.models import Channel
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import Services, build_services
from mailroom.staff import save_member
from mailroom.store.reader import open_reader
from mailroom.store.schema_version import HEAD
from mailroom.views import complaint_summary, mail_view
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen


@pytest.fixture
def filled(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    services = build_services(make_settings(tmp_path / "storage", db_url), clock)
    summer = datetime(2026, 7, 1, 12, 30, 15, 250000, tzinfo=UTC)  # BST, with microseconds
    winter = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    for n, when in enumerate((summer, winter)):
        log_complaint(
            services,
            OtherChannelComplaint(Channel.PHONE, when, f"Ms Ünïcode {n}", "", f"Leak {n}", "Water.", ()),
        )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        (inbox / f"{n}.eml").write_bytes(mailgen.complaint(n))
    (inbox / "away.eml").write_bytes(mailgen.out_of_office())
    (inbox / "news.eml").write_bytes(mailgen.newsletter())
    run_once(services, [MaildirSource([inbox])])
    save_member(services, "Officer@Example.org", "Olu Officer", "boss@example.org", True)
    yield services
    services.store.engine.dispose()


def test_listings_read_the_same_rows_as_the_repository(filled: Services) -> None:
    with filled.store.transaction() as repo:
        complaints = [complaint_summary(c) for c in repo.list_complaints()]
        mails = [mail_view(m) for m in repo.list_mails()]
        triage = [mail_view(m) for m in repo.list_mails(open_triage_only=True)]
        complaint_mails = [mail_view(m) for m in repo.list_mails(outcome="complaint")]
        staff = [(m.email, m.name, m.manager_email, m.digest) for m in repo.staff().values()]
    with open_reader(filled.settings.database_url) as reader:
        assert reader is not None
        assert [complaint_summary(c) for c in reader.list_complaints()] == complaints
        assert [mail_view(m) for m in reader.list_mails()] == mails
        assert [mail_view(m) for m in reader.list_mails(open_triage_only=True)] == triage
        assert [mail_view(m) for m in reader.list_mails(outcome="complaint")] == complaint_mails
        assert [tuple(row) for row in reader.staff()] == sorted(staff)
    assert len(complaints) >= 5 and len(complaint_mails) >= 3
    assert {c["received_at"][-6:] for c in complaints} >= {"+01:00", "+00:00"}


def test_the_schema_head_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mailroom.store.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_database_behind_the_code_is_left_to_the_migrating_path(filled: Services) -> None:
    with filled.store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    with open_reader(filled.settings.database_url) as reader:
        assert reader is None


def test_a_missing_database_is_not_created_by_the_reader(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'mailroom.db'}"
    with open_reader(url) as reader:
        assert reader is None
    assert not (tmp_path / "nowhere").exists()


def test_the_reader_cannot_write(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    services = build_services(make_settings(tmp_path / "storage", sqlite_url), clock)
    services.store.engine.dispose()
    with open_reader(sqlite_url) as reader:
        assert reader is not None
        with pytest.raises(Exception, match=r"readonly|read-only|read only"):
            reader._rows("DELETE FROM complaints")
