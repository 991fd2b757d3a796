"""`mailroom run --once` as a process the tests read line by line and kill at
chosen moments (the SIGKILL acceptance tests of the IMAP and Graph sources)."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import psutil

from tests.support.harness import mailroom_command

HELPER_TAG = "MAILROOM_TEST_KILL_TAG"
# The worker's progress lines a kill is timed by (MAILROOM_LOG_LEVEL=INFO).
PHASES = ("fetched", "committing", "committed", "acknowledged")


class LoggedWorker:
    """`mailroom run --once` (or ``args``) at MAILROOM_LOG_LEVEL=INFO, its output read
    line by line as it comes, tagged through its environment (which its helper
    processes inherit). The worker's progress lines are what the tests wait on."""

    PREFIX = "INFO mailroom.worker: "

    def __init__(self, config: Path, tag: str, *args: str) -> None:
        environment = {**os.environ, "MAILROOM_LOG_LEVEL": "INFO", HELPER_TAG: tag}
        self.process = subprocess.Popen(
            mailroom_command(config, *(args or ("run", "--once"))),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream: the log lines and what `run` says
            text=True,
            env=environment,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def progress(self, timeout: float = 120) -> str | None:
        """The worker's next progress line ("fetched 25 mail(s)"), or None once it has exited."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"no progress line within {timeout:g} s: {self.output[-20:]}") from None
            if line is None:
                return None
            self.output.append(line)
            if line.startswith(self.PREFIX):
                return line.removeprefix(self.PREFIX)

    def until(self, start: str, timeout: float) -> str:
        """Skip progress lines until one that starts with ``start``; fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while (line := self.progress(timeout=max(deadline - time.monotonic(), 0.01))) is not None:
            if line.startswith(start):
                return line
        raise AssertionError(f"the worker exited before {start!r}: {self.output[-20:]}")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no cleanup, no finally blocks
        self.finish()

    def finish(self, timeout: float = 300) -> int:
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=30)
        while not self._lines.empty():  # what it wrote before it died
            line = self._lines.get()
            if line is not None:
                self.output.append(line)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode


def tagged_processes(tag: str, wait: float) -> list[int]:
    """Live processes whose environment carries ``tag``: after every worker was
    reaped, any left is an orphaned helper (spawned child or resource tracker)."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for process in psutil.process_iter():
            try:
                if process.status() != psutil.STATUS_ZOMBIE and process.environ().get(HELPER_TAG) == tag:
                    found.append(process.pid)
            except psutil.Error:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
