"""Acceptance: the real `mailroom` command against a real Dovecot (issue 2).

GIVEN mails in a Dovecot mailbox the test started, WHEN `mailroom run --once`
runs (killed or not), THEN every mail is in the ledger exactly once, filed
byte-identical with the right hashes, and the mailbox is changed only after.
"""

from __future__ import annotations

import json
import math
import random
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import pytest

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
from tests.support.killed_runs import PHASES, LoggedWorker, tagged_processes


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


@pytest.mark.slow
@pytest.mark.parametrize("count", [200, pytest.param(500, marks=pytest.mark.soak)])
def test_many_mails_are_ledgered_once_and_filed_byte_identical(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path, count: int
) -> None:
    """200 is enough for the staging helper process (three batches of 50); 500 in make soak."""
    mails = [mailgen.complaint(n) for n in range(count)]
    bulk_append(dovecot, imap_user, mails)
    config = write_config(tmp_path, dovecot, imap_user)
    result = run_mailroom(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    on_server = server_bodies(dovecot, imap_user, "Processed")
    assert sorted(on_server) == sorted(mails)  # Dovecot kept the bytes as appended
    assert server_bodies(dovecot, imap_user, "INBOX") == []  # moved only after the commit
    _assert_filed_exactly_once(tmp_path, on_server)
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(count,)]
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == count
    assert {item["outcome"] for item in listed} == {"complaint"}
    for key in ("outcome", "reason", "complaint_id", "message_id", "from", "subject", "received_at"):
        assert all(key in item for item in listed)


KILL_MAILS = 300
KILL_BATCH = 25


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rounds", "seed"), [(5, 20261123), pytest.param(20, 20261124, marks=pytest.mark.soak)], ids=["5", "20"]
)
def test_sigkill_at_random_moments_loses_nothing_and_logs_nothing_twice(
    dovecot: Dovecot, tmp_path: Path, rounds: int, seed: int
) -> None:
    """Each round: 300 mails in batches of 25, and `mailroom run --once` SIGKILLed
    again and again until a run finishes. The kill moment is picked only once the
    worker has said the ingest started (no kills spent on interpreter start-up):
    a random number of its progress lines (fetched / committing / committed /
    acknowledged a batch), then a random pause inside the step that follows."""
    randomness = random.Random(seed)
    tag = uuid.uuid4().hex  # finds this test's helper processes, not another xdist worker's
    kills: Counter[str] = Counter()  # by the last progress line before the kill
    inside_window = with_helper = 0
    for round_number in range(rounds):
        user = dovecot.add_user()
        folder = tmp_path / f"round{round_number}"
        folder.mkdir()
        # Numbered densely: mailgen dates mail #n 7n minutes after its base date, and a
        # Date more than a day ahead of the real clock goes to triage, not to a case.
        mails = [mailgen.complaint(n + KILL_MAILS * round_number) for n in range(KILL_MAILS)]
        bulk_append(dovecot, user, mails)
        config = write_config(folder, dovecot, user, batch_size=KILL_BATCH)
        kills_this_round = 0
        for _attempt in range(60):
            worker = LoggedWorker(config, tag)
            line = worker.progress()  # the readiness line: recovery and scan are done
            assert line is not None and line.startswith("ingest started: "), worker.output
            new = int(line.split()[2])
            # Four lines a batch (fetched, committing, committed, acknowledged); fetching
            # runs one batch ahead, so "committing" the last batch is line 4B - 2. A
            # kill moment past that is no kill: the run finishes and the round ends.
            step = randomness.randint(1, 16)
            if step <= 4 * math.ceil(new / KILL_BATCH) - 2:
                for _ in range(step):
                    line = worker.progress()
                    assert line is not None and line.split()[0] in PHASES, worker.output
                time.sleep(randomness.uniform(0, 0.05))
                with_helper += any(_is_helper(child) for child in _children(worker.process.pid))
                worker.kill()
                kills[line.split()[0]] += 1
                kills_this_round += 1
                inside_window += not any("ingest finished" in text for text in worker.output)
                continue
            assert worker.finish() == 0, "\n".join(worker.output)  # nothing left: a clean pass
            break
        else:
            raise AssertionError(f"round {round_number}: no run finished in 60 attempts")
        assert kills_this_round >= 2, f"round {round_number}: {kills_this_round} kill(s)"
        final = run_mailroom(config, "run", "--once")  # one more clean run after the last kill
        assert final.returncode == 0, final.stderr
        assert server_bodies(dovecot, user, "INBOX") == []
        _assert_filed_exactly_once(folder, mails)
        assert query(folder / "mailroom.db", "SELECT count(*) FROM complaints") == [(KILL_MAILS,)]
        assert query(folder / "mailroom.db", "SELECT count(*) FROM ledger WHERE acknowledged = 0") == [(0,)]
    total = sum(kills.values())
    assert set(kills) == set(PHASES), kills  # killed after every kind of step
    assert inside_window >= 0.9 * total, f"{inside_window} of {total} kills inside the ingest window"
    assert with_helper >= rounds, f"{with_helper} kills with a staging helper running"
    assert tagged_processes(tag, wait=10) == []  # a killed worker's staging helper dies with it


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []


def _is_helper(process: psutil.Process) -> bool:
    try:
        return "multiprocessing" in " ".join(process.cmdline())
    except psutil.Error:
        return False


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


@pytest.mark.slow
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


def test_a_mail_over_the_size_limit_is_quarantined_with_its_head(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    big = mailgen.big_attachment_mail(3 * 1024 * 1024)
    bulk_append(dovecot, imap_user, [big, mailgen.complaint(1)])
    config = write_config(tmp_path, dovecot, imap_user, storage={"max_message_bytes": 1024 * 1024})
    assert run_mailroom(config, "run", "--once").returncode == 0
    (item,) = json.loads(run_mailroom(config, "quarantine", "list", "--json").stdout)
    assert "over the size limit" in item["reason"]
    (whole,) = [b for b in server_bodies(dovecot, imap_user, "Processed") if len(b) > 1024 * 1024]
    # Only its first 64 KiB are fetched (RFC822.SIZE is checked first); the whole
    # mail stays on the server, in the processed folder (docs/ingestion.md).
    assert (tmp_path / "storage" / item["path"] / "message.eml").read_bytes() == whole[: 64 * 1024]
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(1,)]


def test_idle_wakes_the_running_worker_within_seconds(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, imap_user, poll_interval_seconds=120.0)
    worker = LoggedWorker(config, uuid.uuid4().hex, "run")
    try:
        # The pass due at start-up comes first, not after the poll interval (120 s)...
        worker.until("ingest finished", timeout=60)  # ...and now the worker waits in IDLE
        bulk_append(dovecot, imap_user, [mailgen.complaint(1)])
        # The next pass comes 120 s after the first unless IDLE wakes the worker.
        assert worker.until("ingest started", timeout=30) == "ingest started: 1 new mail(s)"
        worker.until("ingest finished", timeout=60)
        assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM complaints") == [(1,)]
    finally:
        worker.process.terminate()
        returncode = worker.finish(timeout=30)
    assert returncode == 0, worker.output[-20:]


@pytest.mark.slow
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
