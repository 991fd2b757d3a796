"""Acceptance: the real `mailroom` command against a real Dovecot (issue 2).

GIVEN mails in a Dovecot mailbox the test started, WHEN `mailroom run --once`
runs (killed or not), THEN every mail is in the ledger exactly once, filed
byte-identical with the right hashes, and the mailbox is changed only after.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil

from mailroom.filing import sha256_hex
from tests.support import mailgen
from tests.support.dovecot import Dovecot, ImapUser
from tests.support.harness import (
    bulk_append,
    mailroom_command,
    query,
    run_mailroom,
    server_bodies,
    write_config,
)


def _assert_filed_exactly_once(folder: Path, expected: list[bytes]) -> None:
    """Every expected mail: one ledger entry, one mail row, its .eml byte-identical
    and listed in its folder's manifest with the right hash."""
    storage = folder / "storage"
    db = folder / "mailroom.db"
    assert query(db, "SELECT count(*) FROM ledger") == [(len(expected),)]
    rows = query(db, "SELECT sha256, storage_path, filed FROM mails")
    assert len(rows) == len(expected)
    assert sorted(sha for sha, _, _ in rows) == sorted(sha256_hex(raw) for raw in expected)
    for sha, path, filed in rows:
        assert filed
        raw = (storage / path / "message.eml").read_bytes()
        assert sha256_hex(raw) == sha
        manifest = json.loads((storage / path / "manifest.json").read_text())
        for entry in manifest["files"]:
            assert sha256_hex((storage / path / entry["path"]).read_bytes()) == entry["sha256"]


def test_500_mails_are_ledgered_once_and_filed_byte_identical(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    mails = [mailgen.complaint(n) for n in range(500)]
    bulk_append(dovecot, imap_user, mails)
    config = write_config(tmp_path, dovecot, imap_user)
    result = run_mailroom(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    on_server = server_bodies(dovecot, imap_user, "Processed")
    assert sorted(on_server) == sorted(mails)  # Dovecot kept the bytes as appended
    assert server_bodies(dovecot, imap_user, "INBOX") == []  # moved only after the commit
    _assert_filed_exactly_once(tmp_path, on_server)
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(500,)]
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == 500
    assert {item["outcome"] for item in listed} == {"complaint"}
    for key in ("outcome", "reason", "complaint_id", "message_id", "from", "subject", "received_at"):
        assert all(key in item for item in listed)


def test_sigkill_at_random_moments_loses_nothing_and_logs_nothing_twice(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    randomness = random.Random(20261123)
    kills = 0
    started = time.time()
    for round_number in range(20):
        user = dovecot.add_user()
        folder = tmp_path / f"round{round_number}"
        folder.mkdir()
        mails = [mailgen.complaint(n + 1000 * round_number) for n in range(300)]
        bulk_append(dovecot, user, mails)
        config = write_config(folder, dovecot, user, batch_size=25)
        for _attempt in range(60):
            process = subprocess.Popen(
                mailroom_command(config, "run", "--once"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            try:
                process.wait(timeout=randomness.uniform(0.3, 2.5))
            except subprocess.TimeoutExpired:
                process.kill()  # SIGKILL: no cleanup, no finally blocks
                process.wait()
                kills += 1
                continue
            assert process.returncode == 0, process.stderr.read() if process.stderr else ""
            break
        process.stderr.close() if process.stderr else None
        final = run_mailroom(config, "run", "--once")  # a clean run after the last kill
        assert final.returncode == 0, final.stderr
        assert server_bodies(dovecot, user, "INBOX") == []
        _assert_filed_exactly_once(folder, mails)
        assert query(folder / "mailroom.db", "SELECT count(*) FROM complaints") == [(300,)]
        assert query(folder / "mailroom.db", "SELECT count(*) FROM ledger WHERE acknowledged = 0") == [(0,)]
    assert kills >= 20  # the test really did kill workers mid-flight
    assert _helpers_started_since(started, wait=10) == []  # a killed worker's staging helper dies with it


def _helpers_started_since(started: float, wait: float) -> list[int]:
    deadline = time.monotonic() + wait
    while True:
        found = [
            p.pid
            for p in psutil.process_iter(["cmdline", "create_time"])
            if p.info["create_time"] >= started and "multiprocessing" in " ".join(p.info["cmdline"] or [])
        ]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_folder_recreated_with_a_new_uidvalidity_brings_no_duplicates(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    mails = [mailgen.complaint(n) for n in range(20)]
    bulk_append(dovecot, imap_user, mails, folder="Complaints")
    config = write_config(tmp_path, dovecot, imap_user, folder="Complaints", action="flag")
    assert run_mailroom(config, "run", "--once").returncode == 0
    before = dovecot.uidvalidity(imap_user, "Complaints")
    after = dovecot.recreate_folder(imap_user, "Complaints")
    assert after != before
    second = run_mailroom(config, "run", "--once")
    assert second.returncode == 0, second.stderr
    assert "20 mail(s) already recorded under an older UIDVALIDITY" in second.stdout
    db = tmp_path / "mailroom.db"
    assert query(db, "SELECT count(*) FROM mails") == [(20,)]
    assert query(db, "SELECT count(*) FROM complaints") == [(20,)]
    assert query(db, "SELECT count(DISTINCT uidvalidity) FROM ledger") == [(2,)]
    # and a mail added after the recreation is still logged
    bulk_append(dovecot, imap_user, [mailgen.complaint(99)], folder="Complaints")
    assert run_mailroom(config, "run", "--once").returncode == 0
    assert query(db, "SELECT count(*) FROM complaints") == [(21,)]


def test_a_mail_already_read_in_outlook_is_still_ingested(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    bulk_append(dovecot, imap_user, [mailgen.complaint(1)], flags=(b"\\Seen",))
    bulk_append(dovecot, imap_user, [mailgen.complaint(2)])
    config = write_config(tmp_path, dovecot, imap_user, action="flag")
    assert run_mailroom(config, "run", "--once").returncode == 0
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(2,)]
    flags = dovecot.flags(imap_user)
    assert all(b"$MailroomFiled" in f for f in flags.values())
    unread_uid = max(flags)
    assert b"\\Seen" not in flags[unread_uid]  # BODY.PEEK[]: we never mark mail read


def test_threading_over_imap_reply_joins_case_and_stranger_goes_to_triage(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    from mailroom.domain.ids import case_reference

    name, address = mailgen.resident(7)
    bulk_append(dovecot, imap_user, [mailgen.complaint(7)])
    config = write_config(tmp_path, dovecot, imap_user)
    assert run_mailroom(config, "run", "--once").returncode == 0
    (case,) = json.loads(run_mailroom(config, "cases", "list", "--json").stdout)
    reference = case_reference(case["id"])
    own = mailgen.complaint(8, sender=f"{name} <{address}>", subject=f"Re: Your complaint {reference}")
    stranger = mailgen.complaint(9, subject=f"Re: Your complaint {reference}")
    bulk_append(dovecot, imap_user, [own, stranger])
    assert run_mailroom(config, "run", "--once").returncode == 0
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    by_sender = {item["from"]: item for item in listed if item["subject"].startswith("Re:")}
    assert (by_sender[address]["outcome"], by_sender[address]["complaint_id"]) == ("reply", case["id"])
    stranger_item = next(item for sender, item in by_sender.items() if sender != address)
    assert (stranger_item["outcome"], stranger_item["complaint_id"]) == ("triage", None)
    triage = json.loads(run_mailroom(config, "triage", "list", "--json").stdout)
    assert [item["id"] for item in triage] == [stranger_item["id"]]


def test_hostile_mail_over_imap_is_filed_inside_its_folder(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    hostile = mailgen.hostile_mails()
    bulk_append(dovecot, imap_user, hostile.values())
    config = write_config(tmp_path, dovecot, imap_user)
    result = run_mailroom(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    storage = (tmp_path / "storage").resolve()
    outside = [
        p
        for p in tmp_path.rglob("*")
        if storage not in p.resolve().parents
        and p.resolve() != storage
        and not p.name.startswith("mailroom.")
    ]
    assert outside == []
    on_server = server_bodies(dovecot, imap_user, "Processed")
    _assert_filed_exactly_once(tmp_path, on_server)
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == len(hostile)
    assert all(item["reason"] for item in listed)


def _peak_rss_of(command: list[str]) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Run ``command`` under a fresh Python whose only child it is, so
    RUSAGE_CHILDREN's ru_maxrss is exactly the command's peak (KiB on Linux)."""
    probe = (
        "import json, resource, subprocess, sys\n"
        "r = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([peak, r.returncode, r.stderr]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(command)], capture_output=True, text=True, timeout=600
    )
    peak_kib, code, stderr = json.loads(done.stdout)
    return peak_kib * 1024, subprocess.CompletedProcess(command, code, "", stderr)


def test_a_50_mb_attachment_ingests_under_400_mb_rss_byte_identical(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    size = 50 * 1024 * 1024
    bulk_append(dovecot, imap_user, [mailgen.big_attachment_mail(size)])
    config = write_config(tmp_path, dovecot, imap_user)
    peak, result = _peak_rss_of(mailroom_command(config, "run", "--once"))
    assert result.returncode == 0, result.stderr
    assert peak < 400 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"
    (path,) = query(tmp_path / "mailroom.db", "SELECT path FROM documents WHERE kind = 'attachment'")[0]
    filed = tmp_path / "storage" / path
    assert filed.stat().st_size == size
    assert sha256_hex(filed.read_bytes()) == mailgen.big_attachment_sha256(size)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_a_mail_over_the_size_limit_is_quarantined_with_its_bytes(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    big = mailgen.big_attachment_mail(3 * 1024 * 1024)
    bulk_append(dovecot, imap_user, [big, mailgen.complaint(1)])
    config = write_config(tmp_path, dovecot, imap_user, storage={"max_message_bytes": 1024 * 1024})
    assert run_mailroom(config, "run", "--once").returncode == 0
    (item,) = json.loads(run_mailroom(config, "quarantine", "list", "--json").stdout)
    assert "over the size limit" in item["reason"]
    (stored,) = [b for b in server_bodies(dovecot, imap_user, "Processed") if len(b) > 1024 * 1024]
    assert (tmp_path / "storage" / item["path"] / "message.eml").read_bytes() == stored
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(1,)]


def test_idle_wakes_the_running_worker_within_seconds(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, imap_user, poll_interval_seconds=120.0)
    process = subprocess.Popen(
        mailroom_command(config, "run"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(3)  # started, first pass done, now in IDLE
        bulk_append(dovecot, imap_user, [mailgen.complaint(1)])
        appended = time.monotonic()
        while time.monotonic() - appended < 30:
            if query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(1,)]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the running worker did not log the mail within 30 s (poll is 120 s)")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_two_workers_on_one_mailbox_log_each_mail_once(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path, db_url: str
) -> None:
    """Two `mailroom run --once` at the same time, on SQLite (file lock) and on
    PostgreSQL (advisory lock): each mail is logged once."""
    mails = [mailgen.complaint(n) for n in range(200)]
    bulk_append(dovecot, imap_user, mails)
    config = write_config(tmp_path, dovecot, imap_user, database_url=db_url, batch_size=20)
    workers = [
        subprocess.Popen(
            mailroom_command(config, "run", "--once"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
    db: Path | str = tmp_path / "mailroom.db" if db_url.startswith("sqlite") else db_url
    assert query(db, "SELECT count(*) FROM ledger") == [(200,)]
    assert query(db, "SELECT count(*) FROM complaints") == [(200,)]
    assert query(db, "SELECT count(DISTINCT sha256) FROM mails") == [(200,)]
    assert server_bodies(dovecot, imap_user, "INBOX") == []
