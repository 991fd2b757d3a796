"""`mailroom run`'s scheduler: jobs from config, one scheduler per deployment, standby and takeover."""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError

from mailroom.clock import SystemClock
from mailroom.config import ConfigError, load_settings
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.ingest.source import SourceError
from mailroom.locks import deployment_lock
from mailroom.scheduler import MailroomScheduler
from mailroom.services import Services, build_services
from mailroom.store.database import make_engine
from tests.conftest import make_settings
from tests.support import mailgen
from tests.support.harness import mailroom_command, query

HOLDS = "this process holds the scheduler lock"
STANDS_BY = "another mailroom run holds the scheduler lock; standing by"


@pytest.fixture
def built(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., Services]]:
    made: list[Services] = []

    def build(**sections: dict[str, object]) -> Services:
        services = build_services(make_settings(tmp_path / "storage", sqlite_url, **sections), SystemClock())
        made.append(services)
        return services

    yield build
    for services in made:
        services.store.engine.dispose()


# -- jobs from config ------------------------------------------------------------------------------


def test_jobs_are_built_from_config(built: Callable[..., Services]) -> None:
    services = built(
        imap={"poll_interval_seconds": 45.0},
        scheduler={
            "jobs": {
                "reminders": {"seconds": 120},
                "outbox": {"enabled": False},
                "calendar": {"cron": "0 4 * * mon-fri"},
            }
        },
    )
    scheduler = MailroomScheduler(services, [], say=print).build()
    scheduler.start(paused=True)  # jobs get their defaults when the scheduler starts; none runs
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        executor = scheduler._lookup_executor("default")
    finally:
        scheduler.shutdown()
    assert sorted(jobs) == ["calendar", "drafts", "mailbox", "reminders"]  # outbox disabled: absent
    assert jobs["drafts"].trigger.interval == timedelta(seconds=60)
    assert isinstance(jobs["mailbox"].trigger, IntervalTrigger)
    assert jobs["mailbox"].trigger.interval == timedelta(seconds=45)  # imap.poll_interval_seconds
    assert jobs["reminders"].trigger.interval == timedelta(seconds=120)
    calendar = jobs["calendar"].trigger
    assert isinstance(calendar, CronTrigger)
    assert str(calendar.timezone) == "Europe/London"
    fields = {field.name: str(field) for field in calendar.fields}
    assert (fields["minute"], fields["hour"], fields["day_of_week"]) == ("0", "4", "mon-fri")
    for job in jobs.values():
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)
        assert job.next_run_time is not None  # each runs once at start
    assert executor._pool._max_workers == 1  # one worker thread for every job


def test_the_default_jobs(built: Callable[..., Services]) -> None:
    scheduler = MailroomScheduler(built(), [], say=print).build()
    jobs = {job.id: job.trigger for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["calendar", "drafts", "mailbox", "outbox", "reminders"]
    assert jobs["mailbox"].interval == timedelta(seconds=60)
    assert jobs["drafts"].interval == timedelta(seconds=60)
    assert jobs["reminders"].interval == timedelta(seconds=300)
    assert jobs["outbox"].interval == timedelta(seconds=30)
    assert str(jobs["calendar"]) == "cron[month='*', day='*', day_of_week='*', hour='3', minute='15']"


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('[scheduler.jobs.calendar]\ncron = "15 3 * *"\n', "scheduler.jobs.calendar.cron", "crontab"),
        ('[scheduler.jobs.outbox]\ncron = "61 * * * *"\n', "scheduler.jobs.outbox.cron", "crontab"),
        ("[scheduler.jobs.outbox]\nseconds = 0\n", "scheduler.jobs.outbox.seconds", "greater than 0"),
        ('[scheduler.jobs.outbox]\nseconds = 5\ncron = "* * * * *"\n', "scheduler.jobs.outbox", "not both"),
        ("[scheduler.jobs.mailbx]\nenabled = false\n", "scheduler.jobs", "unknown job 'mailbx'"),
        ("[scheduler]\nstandby_retry_seconds = -1\n", "scheduler.standby_retry_seconds", "greater than 0"),
    ],
)
def test_a_bad_schedule_is_one_line_naming_the_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    path = tmp_path / "mailroom.toml"
    path.write_text(table, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f" {key}: " in message and words in message, message


def test_a_schedule_given_replaces_the_default_one(tmp_path: Path) -> None:
    path = tmp_path / "mailroom.toml"
    path.write_text("[scheduler.jobs.calendar]\nseconds = 3600\n", encoding="utf-8")
    calendar = load_settings(path).scheduler.jobs["calendar"]
    assert (calendar.seconds, calendar.cron) == (3600, "")


# -- the deployment lock ---------------------------------------------------------------------------


def test_one_holder_of_the_deployment_lock_at_a_time(db_url: str, tmp_path: Path) -> None:
    """SQLite: a file lock; PostgreSQL: an advisory lock on a connection of its own."""
    first, second = make_engine(db_url), make_engine(db_url)  # as two processes would
    locks = tmp_path / "storage" / ".locks"
    try:
        with deployment_lock(first, locks) as held:
            assert held
            with deployment_lock(second, locks) as also_held:
                assert not also_held
            with deployment_lock(second, locks) as also_held:  # failing to take it changed nothing
                assert not also_held
        with deployment_lock(second, locks) as held:
            assert held
            with deployment_lock(first, locks) as also_held:
                assert not also_held
        with deployment_lock(first, locks) as held:
            assert held
    finally:
        first.dispose()
        second.dispose()


# -- jobs in a running scheduler -------------------------------------------------------------------


def test_a_failing_job_is_one_line_and_the_scheduler_goes_on(
    built: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    said: list[str] = []
    scheduler = MailroomScheduler(built(), [], say=said.append)

    def broken_database() -> None:
        raise OperationalError("SELECT * FROM complaints WHERE email = ?", ("resident@example.com",), None)  # type: ignore[arg-type]

    def broken_mailbox() -> None:
        raise SourceError("imap connection to mail.example.com:993 failed after 5 attempts")

    with caplog.at_level(logging.ERROR, logger="mailroom.scheduler"):
        scheduler._guarded("reminders", broken_database)  # returns: nothing escapes to APScheduler
        scheduler._guarded("mailbox", broken_mailbox)
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("job reminders failed: OperationalError:")
    assert "\n" not in message and "resident@example.com" not in message  # no SQL parameters
    assert said == ["imap connection to mail.example.com:993 failed after 5 attempts"]


def test_the_running_scheduler_ingests_and_stops_releasing_the_lock(
    built: Callable[..., Services], tmp_path: Path
) -> None:
    maildir = _maildir(tmp_path / "Maildir")
    services = built(imap={"poll_interval_seconds": 0.5})
    said: list[str] = []
    scheduler = MailroomScheduler(services, [MaildirSource([maildir])], say=said.append)
    runner = threading.Thread(target=scheduler.run)
    runner.start()
    try:
        _deliver(maildir, mailgen.complaint(1))
        _until(lambda: _complaints(services) == 1, 10, "the mail was not ingested")
    finally:
        scheduler.stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert said[0].startswith(HOLDS)
    assert any(line.startswith("ingested 1:") for line in said), said
    with deployment_lock(services.store.engine, services.storage.root / ".locks") as held:
        assert held


# -- two `mailroom run` processes ------------------------------------------------------------------


class Worker:
    """A `mailroom run` process with its stderr collected line by line."""

    def __init__(self, config: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            mailroom_command(config, "run"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        # A graceful stop lets the job in hand finish (a sweep, a drafting pass): on a
        # machine running the whole suite on both cores that once took over 30 s. A run
        # that never stops still fails here.
        try:
            code = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # every thread's stack, to see where it waits
            time.sleep(2)
            raise AssertionError("the run did not stop:\n" + "\n".join(self.lines[-200:])) from None
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_two_runs_on_one_database_one_schedules_the_other_takes_over(db_url: str, tmp_path: Path) -> None:
    maildir = _maildir(tmp_path / "Maildir")
    config = tmp_path / "mailroom.toml"
    config.write_text(
        "\n".join(
            [
                "[storage]",
                f'root = "{tmp_path / "storage"}"',
                "[database]",
                f'url = "{db_url}"',
                "[maildir]",
                f'path = "{maildir}"',
                "[worker]",
                "progress = false",
                "[imap]",
                "poll_interval_seconds = 0.5",
                "[scheduler]",
                "standby_retry_seconds = 1.0",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    db: Path | str = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite") else db_url
    first = Worker(config)
    second: Worker | None = None
    try:
        _until(lambda: first.said(HOLDS), 30, f"the first run did not take the lock: {first.lines}")
        second = Worker(config)
        _until(lambda: second.said(STANDS_BY), 30, f"the second run did not stand by: {second.lines}")
        _deliver(maildir, mailgen.complaint(1))
        _until(lambda: first.said("ingested 1"), 10, f"the first run did not ingest: {first.lines}")
        assert not first.said(STANDS_BY)
        assert not second.said(HOLDS) and not second.said("ingested")

        assert first.stop() == 0, first.lines
        stopped = time.monotonic()
        _until(lambda: second.said(HOLDS), 10, f"the second run did not take over: {second.lines}")
        took_over = time.monotonic() - stopped
        assert took_over < 1.0 + 1.5, took_over  # standby_retry_seconds, plus slack for a loaded machine
        _deliver(maildir, mailgen.complaint(2))
        _until(lambda: query(db, "SELECT count(*) FROM complaints") == [(2,)], 10, "mail 2 not ingested")
        _until(lambda: second.said("ingested 1"), 5, f"{second.lines}")
        assert sum(STANDS_BY in line for line in second.lines) == 1  # said once, not at every retry
        assert second.stop() == 0, second.lines
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert query(db, "SELECT count(*) FROM ledger") == [(2,)]


# -- helpers ---------------------------------------------------------------------------------------


def _maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True)
    return path


def _deliver(maildir: Path, raw: bytes) -> None:
    """As an MTA delivers: write under tmp/, then rename into new/."""
    name = f"{time.time():.6f}.{uuid.uuid4().hex}.test"
    (maildir / "tmp" / name).write_bytes(raw)
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def _complaints(services: Services) -> int:
    with services.store.transaction() as repo:
        return len(repo.list_complaints())


def _until(condition: Callable[[], bool], seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.05)
