"""Parse and stage mail in a helper process, under a budget per mail.

The mailbox is open to the internet, and a few crafted bytes can make a parser
loop for hours or take gigabytes. So no mail is parsed in the worker itself:
a helper process parses and stages each mail with a wall-clock and a CPU
budget (``[ingest] parse_seconds``, ``parse_cpu_seconds``) and an address-space
limit (RLIMIT_AS, ``parse_memory_mb``). A mail that runs over is quarantined
with its raw bytes, the reason ("parse exceeded 20 s") and the stage it
reached; the helper is killed and a fresh one takes the next mail, so the rest
of the batch goes on and the worker's other jobs still run.

Staging only writes under ``storage/.staging`` and needs no database, so the
helper also works one batch ahead while the worker commits the previous one
(on two cores this nearly doubles throughput; see bench/).

This module and ``mailroom.staging`` import no database code: the helper
starts in about a quarter of a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailroom.domain.models import FetchedMail
from mailroom.filing import Storage, sha256_hex
from mailroom.ingest.parse import DEFAULT_LIMITS, STAGES, ParseLimits, set_stage_hook
from mailroom.staging import StagedMail, stage_mail, stage_quarantine

if TYPE_CHECKING:
    from mailroom.config import IngestSettings

log = logging.getLogger(__name__)

StagedBatch = Callable[[], list[StagedMail]]  # call to wait for the batch's results

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_STOP_SECONDS = 5.0  # for a helper asked to stop to exit before it is killed
_WINDOW = 16  # calls sent ahead to the helper...
_WINDOW_BYTES = 4 * 2**20  # ...as long as their mails add up to no more than this
_START_SECONDS = 60.0  # for a new helper to import the parser (about 0.3 s; more on a loaded machine)


@dataclass(frozen=True)
class Budget:
    """What one mail may cost in the helper (the ``[ingest]`` settings)."""

    seconds: float = 20.0
    cpu_seconds: int = 20
    memory_mb: int = 2048


def budget_from(ingest: IngestSettings) -> Budget:
    return Budget(ingest.parse_seconds, ingest.parse_cpu_seconds, ingest.parse_memory_mb)


def limits_from(ingest: IngestSettings) -> ParseLimits:
    return ParseLimits(
        max_mime_parts=ingest.max_mime_parts,
        max_nesting_depth=ingest.max_nesting_depth,
        max_header_bytes=ingest.max_header_bytes,
        max_encoded_words=ingest.max_encoded_words,
        max_content_type_params=ingest.max_content_type_params,
        max_attachments=ingest.max_attachments,
    )


@dataclass(frozen=True)
class _Raised:
    exception: BaseException


class Overrun(Exception):
    """A call ran out of budget or killed its helper."""

    def __init__(self, reason: str, stage: str) -> None:
        super().__init__(f"{reason} (stage reached: {stage})")
        self.reason, self.stage = reason, stage


def stage_batch(
    root: Path, max_bytes: int, batch: Sequence[FetchedMail], limits: ParseLimits = DEFAULT_LIMITS
) -> list[StagedMail]:
    """Stage a batch here, in this process, without a budget (tests, tools)."""
    storage = Storage(root)
    return [stage_mail(storage, fetched, max_bytes, limits) for fetched in batch]


# --------------------------------------------------------------------------- the helper process


class Helper:
    """One helper process running one call at a time under a ``Budget``.

    Started lazily and again after every overrun. Must be used from one thread:
    the kernel kills the helper when the thread that started it ends."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget
        self._context = multiprocessing.get_context("spawn")  # the parent holds DB connections, threads
        self._process: Any = None
        self._conn: Connection | None = None
        self._stage: Any = None  # shared int: 1 + index in STAGES of the stage reached
        self._aborted = False

    def start(self) -> None:
        if self._aborted:
            raise RuntimeError("the staging helper was stopped")
        if self._process is not None:
            return
        parent, child = self._context.Pipe()
        self._stage = self._context.RawValue("i", 0)
        self._process = self._context.Process(
            target=_serve,
            args=(child, os.getpid(), self._budget.memory_mb * 2**20, self._stage),
            name="mailroom-stager",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent
        # Wait until it is ready, so a mail's budget never pays for the start-up.
        try:
            ready = parent.poll(_START_SECONDS) and parent.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._kill()
            raise RuntimeError("the staging helper process did not start")

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the helper; raises ``Overrun`` if it runs out
        of budget or the helper dies, and re-raises what the function raised."""
        (result,) = self.call_many(function, [args], [0])
        if isinstance(result, Overrun):
            raise result
        return result

    def call_many(
        self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]], sizes: Sequence[int]
    ) -> list[Any]:
        """``function(*args)`` for each of ``calls``, in order, each under the
        budget; the result for each, or the ``Overrun`` that stopped it (the
        helper is then restarted for the rest). Re-raises what a call raised.

        Up to ``_WINDOW`` calls (``_WINDOW_BYTES`` of ``sizes``) are sent ahead,
        so the helper never waits for this process between mails: a round trip
        per mail, waiting for both processes to be scheduled, cost more than
        the parse on a busy two-core machine. A call's clock starts when the
        helper takes it up: when the call before it was answered."""
        results: list[Any] = []
        sent = 0  # calls[results-so-far : sent] are in flight
        started = time.monotonic()  # when the helper took up the first call in flight
        while len(results) < len(calls):
            head = len(results)
            if sent == head:
                self.start()
                started = time.monotonic()
            sent = self._send_ahead(function, calls, sizes, head, sent)
            outcome = self._next_reply(started)
            if isinstance(outcome, Overrun):
                sent = head + 1  # the helper died with the calls in flight: send them again
            results.append(outcome)
            started = time.monotonic()
        errors = [r for r in results if isinstance(r, _Raised)]
        if errors:
            raise errors[0].exception
        return results

    def _send_ahead(
        self,
        function: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        sizes: Sequence[int],
        head: int,
        sent: int,
    ) -> int:
        assert self._conn is not None
        in_flight = sum(sizes[head:sent])
        while sent < len(calls) and (
            sent == head or (sent - head < _WINDOW and in_flight + sizes[sent] <= _WINDOW_BYTES)
        ):
            try:
                self._conn.send((function, calls[sent], self._budget.cpu_seconds))
            except OSError:
                break  # it died: the reply read finds out why
            in_flight += sizes[sent]
            sent += 1
        return sent

    def _next_reply(self, started: float) -> Any:
        assert self._conn is not None
        try:
            remaining = max(0.0, started + self._budget.seconds - time.monotonic())
            reply = self._conn.recv() if self._conn.poll(remaining) else None
        except (EOFError, OSError):
            return self._overrun(self._died())
        if reply is None:
            return self._overrun(f"parse exceeded {self._budget.seconds:g} s")
        kind, value = reply
        if kind == "memory":
            return self._overrun(f"parse exceeded the memory limit of {self._budget.memory_mb} MiB")
        if kind == "error":
            return _Raised(value)
        return value

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            assert self._conn is not None
            self._conn.send(None)
            self._process.join(_STOP_SECONDS)
        except OSError:
            pass
        self._kill()

    def abort(self) -> None:
        """Kill the helper now, from any thread (the worker is stopping: Ctrl-C
        must not wait for a runaway mail's budget)."""
        self._aborted = True  # no new helper for the rest of the batch
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def _died(self) -> str:
        self._process.join(_STOP_SECONDS)
        code = self._process.exitcode
        if code == -signal.SIGXCPU:
            return f"parse exceeded {self._budget.cpu_seconds} s of CPU"
        return f"the parsing process died (exit code {code}; memory limit {self._budget.memory_mb} MiB)"

    def _overrun(self, reason: str) -> Overrun:
        index = self._stage.value if self._stage is not None else 0
        stage = STAGES[index - 1] if 0 < index <= len(STAGES) else "reading the mail"
        self._kill()
        return Overrun(reason, stage)

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(_STOP_SECONDS)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None


def _serve(conn: Connection, parent_pid: int, memory_bytes: int, stage: Any) -> None:
    """The helper's main loop: run each call sent, reply with its result."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would dump core
    _limit(resource.RLIMIT_AS, memory_bytes)
    set_stage_hook(lambda name: setattr(stage, "value", STAGES.index(name) + 1))
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        function, args, cpu_seconds = message
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # RLIMIT_CPU counts the process's whole life: allow this call cpu_seconds more.
        _limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + cpu_seconds + 1)
        stage.value = 0
        try:
            reply: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            reply = ("memory", None)
        except Exception as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))


def _limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def die_with_parent(parent_pid: int) -> None:
    """Runs first in the helper process. If the worker is killed (SIGKILL gives
    it no chance to stop the helper), the helper would wait forever for work:
    ask the kernel to kill it with its parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


# --------------------------------------------------------------------------- staging batches


_storages: dict[Path, Storage] = {}


def stage_in_helper(root: Path, fetched: FetchedMail, max_bytes: int, limits: ParseLimits) -> StagedMail:
    """Runs in the helper: stage one mail (one ``Storage`` per root)."""
    storage = _storages.get(root)
    if storage is None:
        storage = _storages[root] = Storage(root)
    return stage_mail(storage, fetched, max_bytes, limits)


class Stager:
    """Stages batches one ahead of the worker, each mail in the helper under its budget.

    A thread drives the helper, so the worker commits one batch while the next
    is parsed, and the helper is started as soon as the stager is made."""

    def __init__(self, root: Path, max_bytes: int, limits: ParseLimits, budget: Budget) -> None:
        self._root, self._max_bytes, self._limits = root, max_bytes, limits
        self._helper = Helper(budget)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mailroom-stager")
        self._thread.submit(self._helper.start)

    def submit(self, batch: Sequence[FetchedMail]) -> StagedBatch:
        return self._thread.submit(self._stage_batch, list(batch)).result

    def close(self) -> None:
        try:
            self._thread.submit(self._helper.stop).result()
        finally:
            self._thread.shutdown()

    def abort(self) -> None:
        """Stop at once, dropping whatever is being staged (the worker is stopping)."""
        self._helper.abort()
        self.close()

    def _stage_batch(self, batch: list[FetchedMail]) -> list[StagedMail]:
        calls = [(self._root, fetched, self._max_bytes, self._limits) for fetched in batch]
        results = self._helper.call_many(stage_in_helper, calls, [len(f.raw) for f in batch])
        return [self._staged(fetched, result) for fetched, result in zip(batch, results, strict=True)]

    def _staged(self, fetched: FetchedMail, result: StagedMail | Overrun) -> StagedMail:
        if not isinstance(result, Overrun):
            return result
        log.warning("quarantining %s: %s", fetched.key, result)
        storage = Storage(self._root)
        return stage_quarantine(
            storage, fetched, sha256_hex(fetched.raw), str(result), {"stage_reached": result.stage}
        )


@contextmanager
def stager_for(
    root: Path, max_bytes: int, limits: ParseLimits = DEFAULT_LIMITS, budget: Budget | None = None
) -> Iterator[Stager]:
    stager = Stager(root, max_bytes, limits, budget or Budget())
    try:
        yield stager
    except BaseException:
        stager.abort()  # staged but uncommitted folders are cleaned up by the next run's recovery
        raise
    stager.close()
