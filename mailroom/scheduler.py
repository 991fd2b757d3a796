"""`mailroom run`: the worker's jobs on a schedule (APScheduler 3.x), one scheduler per deployment.

Jobs (``[scheduler.jobs.<name>]``; each runs once at start, then on its schedule):

- ``mailbox``    a pass of ``run_once`` over the sources (every imap.poll_interval_seconds),
                 each source's poll recorded and alerted on (mailroom/health/);
- ``drafts``     draft acknowledgements for complaints logged without one, a few at a
                 time (every 60 s);
- ``reminders``  the reminder sweep, then a wake-up of ``outbox`` (every 300 s);
- ``outbox``     send what the outbox holds (every 30 s);
- ``calendar``   rebuild the working-day calendar and bring open clocks onto it (03:15 UK time).

The database is the source of truth for what is due, so the jobs live in the
in-memory job store and are added afresh at every start: a restart, a late
run or a double run loses nothing and does nothing twice (library notes §6).
All jobs run one at a time on ONE worker thread: they share the SQLite
connection pool, and the worker's batches are not meant to run concurrently.
``coalesce`` and ``max_instances=1`` fold a backlog into one run, and
``misfire_grace_time=None`` runs a late job however late (a long pass delays
the others; it never makes them skip).

Only the process holding the deployment lock (mailroom/locks.py) runs jobs;
another ``mailroom run`` on the same database stands by, trying again every
``scheduler.standby_retry_seconds``. The per-mailbox lock inside ``run_once``
stays as the backstop.

The main thread watches the first source: ``wait_for_new_mail`` (IMAP IDLE;
a plain sleep for a Maildir) until the next pass is due, then wakes the
``mailbox`` job at once. IDLE and a pass must never use the IMAP connection at
the same time, so the two take turns under ``_source_lock``. SIGTERM/SIGINT
end a wait at once and let a running job finish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError

from mailroom import reminders
from mailroom.bounces import link_bounces
from mailroom.clock import LONDON, SystemClock
from mailroom.config import Settings
from mailroom.deadline_store import refresh_stale
from mailroom.health import poll as health_poll
from mailroom.health.poll import poll_sources
from mailroom.ingest.source import MailSource, SourceError
from mailroom.letters import drafts
from mailroom.locks import deployment_lock
from mailroom.services import Services
from mailroom.worker import RunReport, run_once

log = logging.getLogger(__name__)

Say = Callable[[str], None]  # prints one status or error line

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
# The watcher stops waiting this long before a pass is due, so that the
# scheduled pass finds the source free.
HANDOVER_SECONDS = 0.5
SLICE_SECONDS = 0.5  # how often a wait looks at a stop set from another thread


def job_triggers(settings: Settings) -> dict[str, Any]:
    """The enabled jobs and their APScheduler triggers, by name."""
    triggers: dict[str, Any] = {}
    for name, job in settings.scheduler.jobs.items():
        if not job.enabled:
            continue
        if job.cron:
            triggers[name] = CronTrigger.from_crontab(job.cron, timezone=LONDON)
        else:
            seconds = job.seconds or settings.imap.poll_interval_seconds
            triggers[name] = IntervalTrigger(seconds=seconds, timezone=LONDON)
    return triggers


def describe(trigger: Any) -> str:
    """E.g. 'every 60 s' or 'cron 15 3 * * *'."""
    if isinstance(trigger, IntervalTrigger):
        return f"every {trigger.interval.total_seconds():g} s"
    fields = {field.name: str(field) for field in trigger.fields}
    return "cron " + " ".join(fields[name] for name in ("minute", "hour", "day", "month", "day_of_week"))


class Stopped(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT, only while it waits. Like
    KeyboardInterrupt, no ``except Exception`` in a source's code swallows it."""


class StopEvent:
    """Set by ``handle_signal`` (SIGTERM/SIGINT) or ``set`` (another thread).

    The signal handler only sets a flag, and raises Stopped if the main thread
    is inside ``interruptible()``: that ends an IDLE at once without
    the handler touching any lock."""

    def __init__(self) -> None:
        self._set = False
        self._interruptible = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True

    def handle_signal(self, _signal: int, _frame: FrameType | None) -> None:
        self._set = True
        if self._interruptible:
            self._interruptible = False  # one exception per wait, never during the cleanup
            raise Stopped

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        main = threading.current_thread() is threading.main_thread()
        self._interruptible = main
        try:
            if self._set:
                raise Stopped
            yield
        finally:
            if main:
                self._interruptible = False

    # ``sleep`` and ``wait_for`` poll the flag every SLICE_SECONDS and are never
    # interrupted by the handler: an exception raised by a signal inside
    # ``Event.wait`` can land after its condition's lock was taken and before the
    # ``try`` that releases it, and the job thread's ``set()`` then blocks forever
    # (a run that never stopped under load). Only a source's blocking wait
    # (IMAP IDLE) is ``interruptible()``.

    def sleep(self, seconds: float) -> None:
        """Sleep, raising Stopped within SLICE_SECONDS of the stop being set."""
        deadline = time.monotonic() + seconds
        if self._set:
            raise Stopped
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, SLICE_SECONDS))
            if self._set:
                raise Stopped

    def wait_for(self, event: threading.Event) -> None:
        """Wait for ``event``, raising Stopped within SLICE_SECONDS of the stop being set."""
        if self._set:
            raise Stopped
        while not event.wait(SLICE_SECONDS):
            if self._set:
                raise Stopped


class MailroomScheduler:
    """Stands by for the deployment lock, then runs the jobs until stopped."""

    def __init__(self, services: Services, sources: Sequence[MailSource], say: Say) -> None:
        self.services = services
        self.sources = list(sources)
        self.say = say
        self.stop = StopEvent()
        self.scheduler: Any = None  # the running BackgroundScheduler
        self._clock = SystemClock()  # APScheduler runs on real time, whatever services.clock is
        self._source_lock = threading.Lock()  # IDLE and passes take turns on the first source
        self._pass_done = threading.Event()
        self._last_pass_failed = False

    # -- running -------------------------------------------------------------------

    def run(self) -> None:
        """Until stopped: stand by until this process holds the deployment lock, then run the jobs."""
        standing_by = False
        try:
            while not self.stop.is_set():
                with ExitStack() as held:
                    if self._acquire(held):
                        self._run_jobs()
                        return
                if not standing_by:
                    self.say("another mailroom run holds the scheduler lock; standing by")
                    standing_by = True
                self.stop.sleep(self.services.settings.scheduler.standby_retry_seconds)
        except Stopped:
            return

    def _acquire(self, stack: ExitStack) -> bool:
        lock = deployment_lock(self.services.store.engine, self.services.storage.root / ".locks")
        try:
            return stack.enter_context(lock)
        except DBAPIError as exc:  # the database is down: a standby tries again later
            self.say(f"cannot take the scheduler lock: {_one_line(exc)}")
            return False

    def _run_jobs(self) -> None:
        self.scheduler = self.build()
        _quiet_skips()
        self.scheduler.start()
        jobs = ", ".join(f"{job.id} ({describe(job.trigger)})" for job in self.scheduler.get_jobs())
        self.say(f"this process holds the scheduler lock; jobs: {jobs or 'none'}")
        try:
            if self.scheduler.get_job("mailbox") is not None and self.sources:
                self._watch_first_source()
            while True:
                self.stop.sleep(3600)
        except Stopped:
            pass
        finally:
            self.stop.set()  # jobs still queued return at once
            self.scheduler.shutdown(wait=True)  # the running job finishes

    def build(self) -> Any:
        """A BackgroundScheduler (not started) with the enabled jobs, each due now."""
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults=JOB_DEFAULTS,
            timezone=LONDON,
        )
        jobs = {
            "mailbox": self._mailbox,
            "reminders": self._reminders,
            "outbox": self._outbox,
            "calendar": self._calendar,
            "drafts": self._drafts,
        }
        now = self._clock.now()
        for name, trigger in job_triggers(self.services.settings).items():
            scheduler.add_job(
                self._guarded, trigger, args=(name, jobs[name]), id=name, name=name, next_run_time=now
            )
        return scheduler

    def wake(self, name: str) -> None:
        """Run job ``name`` as soon as the worker thread is free (if it is enabled)."""
        if self.scheduler.get_job(name) is not None:
            self.scheduler.modify_job(name, next_run_time=self._clock.now())

    def _watch_first_source(self) -> None:
        """Wait for news from the first source until the next pass is due, wake it; repeat."""
        source = self.sources[0]
        # The pass due at start-up first: IDLE reports only mail that arrives later, and
        # an IDLE begun before that pass would hold it back until the next one is due.
        self.stop.wait_for(self._pass_done)
        while True:
            while not self._source_lock.acquire(timeout=SLICE_SECONDS):  # a pass is running
                if self.stop.is_set():
                    raise Stopped
            waited = False
            try:
                self._pass_done.clear()
                wait = self._seconds_to_next_pass() - HANDOVER_SECONDS
                if wait > 0 and self._last_pass_failed:
                    self.stop.sleep(wait)  # the source is failing: do not hammer it with IDLE too
                    waited = True
                elif wait > 0:
                    with self.stop.interruptible():
                        source.wait_for_new_mail(wait)  # returns on news or at the timeout
                    waited = True
            except SourceError as exc:  # its retries are spent: the next pass says more
                self.say(str(exc))
                self._last_pass_failed = True
            finally:
                self._source_lock.release()
            if waited:
                self.wake("mailbox")  # the contract returns nothing: news or not, pass now
            self.stop.wait_for(self._pass_done)

    def _seconds_to_next_pass(self) -> float:
        job = self.scheduler.get_job("mailbox")
        if job is None or job.next_run_time is None:
            return 0.0
        return float((job.next_run_time - self._clock.now()).total_seconds())

    # -- jobs ----------------------------------------------------------------------

    def _guarded(self, name: str, job: Callable[[], None]) -> None:
        """Run one job; whatever it raises is one line, and the scheduler goes on."""
        if self.stop.is_set():
            return
        try:
            job()
        except SourceError as exc:  # the source's own retries are spent: try again next time
            self.say(str(exc))
        except Exception as exc:
            log.error("job %s failed: %s", name, _one_line(exc))

    def _mailbox(self) -> None:
        while not self._source_lock.acquire(timeout=SLICE_SECONDS):  # the watcher is in IDLE
            if self.stop.is_set():
                return
        try:
            if self.stop.is_set():
                return
            self._last_pass_failed = True  # until the pass is through
            # Each source on its own, each poll recorded in mailbox_health (mailroom/health/):
            # a failing source is said and alerted on, and the others are still read.
            report, failed = poll_sources(self.services, self.sources, self._run_once)
            for _source, error in failed:
                self.say(str(error))
            self._last_pass_failed = any(source is self.sources[0] for source, _ in failed)
            if report.seen:
                self.say(f"ingested {report.seen}: {dict(report.outcomes)}")
                if link_bounces(self.services).linked:
                    self.wake("outbox")  # the officers' notices of undelivered mail
        finally:
            self._source_lock.release()
            self._pass_done.set()

    def _run_once(self, sources: Sequence[MailSource]) -> RunReport:
        return run_once(self.services, sources)

    def _reminders(self) -> None:
        health_poll.sweep(self.services)  # reminders.sweep when enabled, recorded as the last sweep
        self.wake("outbox")  # send what the sweep queued now, not in up to 30 s

    def _outbox(self) -> None:
        # As `mailroom reminders send` does, recorded as outbound:<transport> (mailroom/health/).
        health_poll.send_outbox(self.services)

    def _drafts(self) -> None:
        # A draft acknowledgement waits for staff on every complaint logged; a
        # bounded number a run, so the one worker thread is never held for long.
        drafts.draft_pending_acknowledgements(self.services, limit=drafts.DRAFTS_PER_RUN)

    def _calendar(self) -> None:
        """Rebuild the calendar (a failed rebuild keeps the old one), then refresh stale clocks."""
        old = self.services.__dict__.pop("calendar", None)  # Services.calendar is a cached_property
        try:
            self.services.calendar  # noqa: B018 - build it now
        except Exception:
            if old is not None:
                self.services.__dict__["calendar"] = old
            raise
        refresh_stale(self.services)
        if reminders.alert_cases_without_clocks(self.services):
            self.wake("outbox")


def build_scheduler(services: Services, sources: Sequence[MailSource], say: Say) -> MailroomScheduler:
    """What ``mailroom run`` runs until SIGTERM/SIGINT: ``run()``, stopped by ``stop``."""
    return MailroomScheduler(services, sources, say)


def _one_line(exc: BaseException) -> str:
    """The exception's type and first line: SQLAlchemy puts SQL and parameters
    (personal data) on the lines after."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return " ".join(text.split())[:300]


class _NoSkipWarnings(logging.Filter):
    """With one worker thread a job due while another runs waits, and APScheduler
    warns that it skipped the extra run: expected, and coalesced anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


def _quiet_skips() -> None:
    logger = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _NoSkipWarnings) for f in logger.filters):
        logger.addFilter(_NoSkipWarnings())
