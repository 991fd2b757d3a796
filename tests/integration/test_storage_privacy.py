"""Personal data is private by default, and filing never writes through a
symlink in the storage tree; recovery goes on around one."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.clock import FixedClock
from mailroom.filing import Storage, StorageError, records_group_modes
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.services import Services, build_services
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """What a library user or a test runner may have: 022, not mailroom's 077."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _tree(root: Path) -> list[Path]:
    # .locks holds empty lock files (mailroom/locks.py), no personal data.
    return [path for path in root.rglob("*") if ".locks" not in path.parts]


def _ingest(services: Services, folder: Path, mails: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (folder / f"{name}.eml").write_bytes(raw)
    run_once(services, [MaildirSource([folder])])


def test_filing_and_the_database_are_private_whatever_the_umask(
    loose_umask: None, tmp_path: Path, clock: FixedClock
) -> None:
    storage = tmp_path / "storage"
    db = storage / "mailroom.db"
    services = build_services(make_settings(storage, f"sqlite:///{db}"), clock)
    try:
        _ingest(services, tmp_path / "in", {"a": mailgen.complaint(1), "b": mailgen.out_of_office()})
        filed = _tree(storage)
        assert any(path.name == "message.eml" for path in filed)
        assert {_mode(path) for path in filed if path.is_dir()} == {0o700}
        assert {_mode(path) for path in filed if path.is_file()} == {0o600}
        assert _mode(storage) == 0o700
        assert {_mode(path) for path in storage.glob("mailroom.db*")} == {0o600}
        assert (storage / "mailroom.db-wal").exists()  # WAL mode: its mode is checked above
    finally:
        services.store.engine.dispose()


def test_start_up_warns_once_per_loose_item_and_makes_old_data_private(
    tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    storage = tmp_path / "storage"
    case = storage / "CMP-2026-000001" / "mail-x"
    case.mkdir(parents=True)
    (case / "message.eml").write_bytes(b"Subject: private\r\n\r\nmy address is...\r\n")
    db = storage / "mailroom.db"
    for path in (db, storage / "mailroom.db-wal"):
        path.write_bytes(b"")
    for path in (db, storage / "mailroom.db-wal", case / "message.eml"):
        path.chmod(0o644)
    for folder in (case, case.parent, storage):
        folder.chmod(0o755)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (storage / "_triage").symlink_to(outside)

    with caplog.at_level(logging.WARNING):
        services = build_services(make_settings(storage, f"sqlite:///{db}"), clock)
    services.store.engine.dispose()

    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("storage:")]
    assert lines == [
        f"storage: database file {db} was mode 0644, readable beyond mailroom; now 0600",
        f"storage: database file {db}-wal was mode 0644, readable beyond mailroom; now 0600",
        f"storage: folder {storage} was mode 0755, readable beyond mailroom; now 0700",
        f"storage: {storage / '_triage'} is a symlink: mailroom will not file through it; remove it",
        f"storage: 2 folders and 1 files under {storage} were readable beyond mailroom; now private",
    ]
    assert [_mode(p) for p in (storage, case.parent, case, case / "message.eml", db)] == [
        0o700,
        0o700,
        0o700,
        0o600,
        0o600,
    ]

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build_services(make_settings(storage, f"sqlite:///{db}"), clock).store.engine.dispose()
    assert not [r for r in caplog.records if r.getMessage().startswith("storage:")]  # fixed once


def test_a_symlink_in_the_tree_is_refused_in_one_line_and_nothing_is_written_through_it(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN _triage/ is a symlink to a folder outside storage THEN a mail for
    triage is not written there: one error line names the link, the other
    mails are filed, and once the link is gone the next run files it."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = services.storage.root
    (root / "_triage").symlink_to(outside)
    stranger = mailgen.complaint(2).replace(b"Subject: ", b"Subject: Re: CMP-2026-000999-X ", 1)

    with caplog.at_level(logging.ERROR):
        _ingest(services, tmp_path / "in", {"a": mailgen.complaint(1), "b": stranger})

    assert list(outside.iterdir()) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0]
    assert f"refusing to write through symlink {root / '_triage'}" in errors[0]
    with services.store.transaction() as repo:
        mails = {mail.outcome: mail for mail in repo.list_mails()}
        assert mails["complaint"].filed and (root / mails["complaint"].storage_path).is_dir()
        assert not mails["triage"].filed

    (root / "_triage").unlink()
    caplog.clear()
    run_once(services, [MaildirSource([tmp_path / "in"])])
    with services.store.transaction() as repo:
        triaged = next(mail for mail in repo.list_mails() if mail.outcome == "triage")
    assert triaged.filed and (root / triaged.storage_path / "message.eml").is_file()


def test_staging_through_a_symlink_is_refused_and_recovery_removes_planted_links(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (storage.root / ".staging").mkdir()
    (storage.root / ".staging" / "planted").symlink_to(outside)
    assert storage.staged_tokens() == []  # not jammed: the link is gone, its target untouched
    assert not (storage.root / ".staging" / "planted").exists() and outside.is_dir()

    (storage.root / ".staging").rmdir()
    (storage.root / ".staging").symlink_to(outside)
    with pytest.raises(StorageError) as caught:
        storage.stage_mail("tok1", "mail-1", b"Subject: x\r\n\r\nbody")
    assert str(caught.value) == (
        f"storage: refusing to write through symlink {storage.root / '.staging'} "
        f"(mailroom files only into real folders under {storage.root}: remove the link)"
    )
    assert list(outside.iterdir()) == []
    with pytest.raises(StorageError, match="symlink"):
        storage.write_atomic(".staging/x.json", b"{}")


def test_a_symlinked_file_is_never_overwritten(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    (storage.root / "CMP-2026-000001").mkdir()
    (storage.root / "CMP-2026-000001" / "manifest.json").symlink_to(target)
    with pytest.raises(StorageError, match="symlink"):
        storage.write_case_manifest("CMP-2026-000001", [])
    assert target.read_bytes() == b"keep me"


def test_a_records_group_gets_group_read_and_setgid_folders(loose_umask: None, tmp_path: Path) -> None:
    gid = os.getgid()  # a group the test user is in: chown to it needs no privilege
    storage = Storage(tmp_path / "storage", records_group_modes(gid))
    storage.stage_mail("tok1", "mail-1", b"Subject: x\r\n\r\nbody")
    storage.publish("tok1", "_triage/mail-1")
    filed = _tree(storage.root)
    assert {_mode(path) for path in filed if path.is_dir()} == {0o2750}
    assert {_mode(path) for path in filed if path.is_file()} == {0o640}
    assert {path.stat().st_gid for path in filed} == {gid}
