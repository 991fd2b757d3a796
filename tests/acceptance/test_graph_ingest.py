"""Acceptance: the real `mailroom run --once` against the Graph-compatible test
server (issue 14; tests/support/graph_server.py, which cites the Microsoft pages
each behaviour follows).

GIVEN mails in a mailbox folder the test server holds, WHEN `mailroom run --once`
reads it through paged delta queries (killed or not, with the delta state
expiring, under a 429 storm), THEN every mail is in the ledger exactly once,
filed byte-identical to what was delivered, logged once, the round's deltaLink
is stored, and the mailbox is changed (moved to Processed) only after the commit.
The worker-level Graph tests are in tests/integration/test_graph_ingest.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailroom.filing import sha256_hex
from tests.support import mailgen
from tests.support.graph_server import GraphServer, RecordedRequest
from tests.support.harness import query, run_mailroom, write_source_config
from tests.support.killed_runs import PHASES, LoggedWorker, tagged_processes

MAILBOX = "complaints@landlord.example"


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    with GraphServer(mailboxes=(MAILBOX,)) as server:
        yield server


def _write_config(workdir: Path, graph: GraphServer, **options: Any) -> Path:
    """A mailroom.toml reading ``graph``'s mailbox: token from the server's token
    command (client credentials grant, as a production helper would), SQLite, no
    demo Maildir."""
    values: dict[str, Any] = {
        "mailbox": MAILBOX,
        "auth": "command",
        "token_command": graph.token_command(),
        "graph_url": graph.root,
        "folder": "inbox",
        "action": "move",
        "processed_folder": "Processed",
        "batch_size": 50,
        "page_size": 50,
        **options,
    }
    return write_source_config(workdir, "graph", values)


def _deliver(graph: GraphServer, mails: list[bytes]) -> None:
    for raw in mails:
        graph.add_message(raw)


def _assert_filed_exactly_once(folder: Path, expected: list[bytes]) -> None:
    """Every expected mail: one ledger entry (unique key), one mail row, one
    complaint; its .eml byte-identical and its manifest's hashes right."""
    storage = folder / "storage"
    db = folder / "mailroom.db"
    assert query(db, "SELECT count(*), count(DISTINCT uid) FROM ledger") == [(len(expected), len(expected))]
    assert query(db, "SELECT count(*) FROM ledger WHERE acknowledged = 0") == [(0,)]
    assert query(db, "SELECT count(*) FROM complaints") == [(len(expected),)]  # nothing logged twice
    rows = query(db, "SELECT sha256, storage_path, filed FROM mails")
    assert sorted(sha for sha, _, _ in rows) == sorted(sha256_hex(raw) for raw in expected)
    by_sha = {sha256_hex(raw): raw for raw in expected}
    for sha, path, filed in rows:
        assert filed
        assert (storage / path / "message.eml").read_bytes() == by_sha[sha]
        manifest = json.loads((storage / path / "manifest.json").read_text())
        for entry in manifest["files"]:
            assert sha256_hex((storage / path / entry["path"]).read_bytes()) == entry["sha256"]


def _stored_delta_link(folder: Path) -> str:
    ((link,),) = query(folder / "mailroom.db", "SELECT delta_link FROM folder_checkpoints")
    assert isinstance(link, str)
    return link


def _delta_calls(graph: GraphServer, since: int = 0) -> list[RecordedRequest]:
    return [r for r in graph.graph_requests()[since:] if r.path.endswith("/messages/delta")]


@pytest.mark.slow
def test_500_mails_through_paged_delta_are_ledgered_once_filed_byte_identical_and_moved(
    graph: GraphServer, tmp_path: Path
) -> None:
    mails = [mailgen.complaint(n) for n in range(500)]
    _deliver(graph, mails)
    config = _write_config(tmp_path, graph)
    result = run_mailroom(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    _assert_filed_exactly_once(tmp_path, mails)
    # Moved to Processed (after the commit), byte for byte as delivered.
    assert graph.messages_in("inbox") == {}
    assert sorted(graph.messages_in("Processed").values()) == sorted(mails)
    # Ten pages of 50 (Prefer: odata.maxpagesize=50), one nextLink after another.
    delta = _delta_calls(graph)
    assert len(delta) == 10
    assert all("odata.maxpagesize=50" in r.headers["prefer"] for r in delta)
    assert ["$skiptoken" in r.query for r in delta] == [False] + [True] * 9
    # The ledger is keyed on the immutable id (which the mail keeps in Processed).
    uids = {uid for (uid,) in query(tmp_path / "mailroom.db", "SELECT uid FROM ledger")}
    assert {uid.split(" ")[0] for uid in uids} == set(graph.messages_in("Processed"))
    # The round's deltaLink was stored, and the next run resumes from it: one page, nothing new.
    link = _stored_delta_link(tmp_path)
    assert "$deltatoken=" in link
    before = len(graph.graph_requests())
    again = run_mailroom(config, "run", "--once")
    assert again.returncode == 0, again.stderr
    resumed = _delta_calls(graph, before)
    assert "$deltatoken" in resumed[0].query  # the stored round continues, not a fresh one
    assert all("$skiptoken" in r.query and r.status == 200 for r in resumed[1:])
    assert query(tmp_path / "mailroom.db", "SELECT count(*) FROM ledger") == [(500,)]


PHASE_MAILS = 80
KILL_BATCH = 20
KILL_PAGE = 20


class _KillPlan:
    """Where one `mailroom run --once` is SIGKILLed:

    - "paging": when the worker asks for the k-th page of the delta round (k >= 2:
      after a nextLink, before the deltaLink): the middle of the round itself;
    - "progress": after a random number of the worker's progress lines (fetched /
      committing / committed / acknowledged), then a random pause: the round is
      listed, part of it committed, its deltaLink not yet stored;
    - "moving": when the worker asks for the k-th "move to Processed": after a
      commit, before the mailbox knows."""

    def __init__(
        self, graph: GraphServer, worker: LoggedWorker, mode: str, randomness: random.Random
    ) -> None:
        self.mode = mode
        self.fired = threading.Event()
        self._worker = worker
        self._seen = 0
        self._count_lock = threading.Lock()  # the moves come four at a time, on server threads
        self._at = randomness.randint(2, 3) if mode == "paging" else randomness.randint(1, KILL_BATCH)
        self._randomness = randomness
        if mode in ("paging", "moving"):
            graph.on_request = self._on_request

    def _on_request(self, request: RecordedRequest) -> None:
        wanted = "/messages/delta" if self.mode == "paging" else "/move"
        if not request.path.endswith(wanted):
            return
        with self._count_lock:
            self._seen += 1
            if self._seen != self._at:
                return
            self.fired.set()  # before the kill: the worker's last request is served or not, either way
            os.kill(self._worker.process.pid, signal.SIGKILL)

    def run(self) -> bool:
        """Run the worker to its kill (True) or to its end, when the kill moment
        never came: nothing was left to do (False, and it must have exited 0)."""
        worker = self._worker
        if self.mode == "progress":
            line = worker.progress()
            if line is not None:
                assert line.startswith("ingest started: "), worker.output
                new = int(line.split()[2])
                # Four lines a batch, fetching one batch ahead: "committing" the last
                # batch is line 4B - 2, the last step that is still inside the round.
                if new:
                    step = self._randomness.randint(1, max(4 * -(-new // KILL_BATCH) - 2, 1))
                    for _ in range(step):
                        line = worker.progress()
                        assert line is not None and line.split()[0] in PHASES, worker.output
                    time.sleep(self._randomness.uniform(0, 0.05))
                    self.fired.set()
                    worker.kill()
                    return True
        returncode = worker.finish()
        if self.fired.is_set():
            assert returncode == -signal.SIGKILL, worker.output[-20:]
            return True
        assert returncode == 0, "\n".join(worker.output[-20:])
        return False


def _run_with_kills(
    graph: GraphServer, config: Path, tag: str, modes: list[str], randomness: random.Random
) -> Counter[str]:
    """`mailroom run --once`, SIGKILLed once for each of ``modes``, then run until
    a run ends by itself. What was killed, by mode."""
    kills: Counter[str] = Counter()
    for mode in [*modes, "none"]:
        worker = LoggedWorker(config, tag)
        plan = _KillPlan(graph, worker, mode, randomness)
        try:
            killed = mode != "none" and plan.run()
        finally:
            graph.on_request = None
        if mode == "none":
            assert worker.finish() == 0, "\n".join(worker.output[-20:])
        if killed:
            kills[mode] += 1
    return kills


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rounds", "seed"), [(1, 20261203), pytest.param(5, 20261204, marks=pytest.mark.soak)], ids=["1", "5"]
)
def test_sigkill_in_the_middle_of_a_delta_round_loses_nothing_and_logs_nothing_twice(
    tmp_path: Path, rounds: int, seed: int
) -> None:
    """Each round, two phases of 80 mails: the first read by a fresh delta round,
    the second by the round that continues from the stored deltaLink. In each
    phase `mailroom run --once` is SIGKILLed while it pages through the round and
    once more later in it (while committing, or while moving mail to Processed),
    then runs to the end. Nothing is lost, nothing is ledgered or logged twice."""
    randomness = random.Random(seed)
    tag = uuid.uuid4().hex
    kills: Counter[str] = Counter()
    for round_number in range(rounds):
        folder = tmp_path / f"round{round_number}"
        folder.mkdir()
        with GraphServer(mailboxes=(MAILBOX,)) as graph:
            config = _write_config(folder, graph, batch_size=KILL_BATCH, page_size=KILL_PAGE)
            delivered: list[bytes] = []
            for phase, later in enumerate(("progress", "moving")):
                first = 2 * PHASE_MAILS * round_number + PHASE_MAILS * phase
                mails = [mailgen.complaint(first + n) for n in range(PHASE_MAILS)]
                _deliver(graph, mails)
                delivered += mails
                modes = ["paging", later]
                if rounds > 1:  # the soak: every kind of kill in each phase, the later two in either order
                    modes = ["paging", *randomness.sample(["progress", "moving"], 2)]
                before = len(graph.graph_requests())
                done = _run_with_kills(graph, config, tag, modes, randomness)
                assert sum(done.values()) >= 2, f"round {round_number} phase {phase}: {done}"
                kills += done
                if phase == 1:  # every run of this phase started from the stored deltaLink
                    starts = [r for r in _delta_calls(graph, before) if "$skiptoken" not in r.query]
                    assert starts and all("$deltatoken" in r.query for r in starts)
                assert "$deltatoken=" in _stored_delta_link(folder)
            assert graph.messages_in("inbox") == {}
            assert sorted(graph.messages_in("Processed").values()) == sorted(delivered)
            _assert_filed_exactly_once(folder, delivered)
    assert set(kills) == {"paging", "progress", "moving"}, kills
    assert tagged_processes(tag, wait=10) == []  # a killed worker's staging helper dies with it


def _run_logged(config: Path) -> list[str]:
    """`mailroom run --once` at MAILROOM_LOG_LEVEL=INFO to its end: its output lines."""
    worker = LoggedWorker(config, uuid.uuid4().hex)
    returncode = worker.finish()
    assert returncode == 0, "\n".join(worker.output[-20:])
    return worker.output


def test_a_410_in_the_middle_of_a_run_resyncs_without_duplicates(graph: GraphServer, tmp_path: Path) -> None:
    """The mails stay in the folder (action "flag": a category is added), so a full
    resynchronisation lists every one of them again: the ledger drops those it holds."""
    first = [mailgen.complaint(n) for n in range(60)]
    _deliver(graph, first)
    config = _write_config(tmp_path, graph, action="flag", page_size=20, batch_size=20)
    _run_logged(config)
    more = [mailgen.complaint(n) for n in range(60, 120)]
    _deliver(graph, more)
    # The stored deltaLink's state token has expired, and in the resync that
    # follows the state goes again on the third page (two nextLinks in).
    expired = _stored_delta_link(tmp_path)
    graph.expire_delta_tokens()
    skips: list[RecordedRequest] = []

    def gone_mid_round(request: RecordedRequest) -> None:
        if "$skiptoken" in request.query:
            skips.append(request)
            if len(skips) == 2:
                graph.inject_delta_gone(1)

    graph.on_request = gone_mid_round
    before = len(graph.graph_requests())
    output = _run_logged(config)
    graph.on_request = None
    gone = [r for r in graph.graph_requests()[before:] if r.status == 410]
    assert len(gone) == 2 and "$deltatoken" in gone[0].query and "$skiptoken" in gone[1].query
    assert sum("full resync" in line for line in output) == 2
    assert "INFO mailroom.worker: ingest started: 60 new mail(s)" in output  # not 120
    assert sorted(graph.messages_in("inbox").values()) == sorted(first + more)
    _assert_filed_exactly_once(tmp_path, first + more)
    # The resync's own deltaLink replaced the expired one (the 500-mail test shows a
    # stored deltaLink taking the next run on).
    renewed = _stored_delta_link(tmp_path)
    assert "$deltatoken=" in renewed and renewed != expired


def test_a_429_storm_during_a_run_is_waited_out_within_four_concurrent_requests(
    graph: GraphServer, tmp_path: Path
) -> None:
    mails = [mailgen.complaint(n) for n in range(120)]
    _deliver(graph, mails)
    graph.latency = 0.02  # requests overlap: the client's own limit is what keeps them at 4
    config = _write_config(tmp_path, graph, page_size=40, batch_size=30)
    fetches: list[RecordedRequest] = []
    storm = 12

    def storm_mid_run(request: RecordedRequest) -> None:
        if request.path.endswith("/$value"):
            fetches.append(request)
            if len(fetches) == 40:  # the second batch is being fetched
                graph.inject_throttle(storm, retry_after=0.5)

    graph.on_request = storm_mid_run
    output = _run_logged(config)
    graph.on_request = None
    requests = graph.graph_requests()
    # Exactly the storm: no request beyond the fourth at once drew a MailboxConcurrency 429.
    assert [r.status for r in requests].count(429) == storm
    assert graph.peak_concurrency() <= 4
    assert graph.peak_concurrency() >= 2  # fetching and moving really ran in parallel
    # Each 429 was waited out for as long as its Retry-After said, then retried.
    waits = [line for line in output if "throttled (HTTP 429)" in line]
    assert len(waits) == storm and all(line.endswith("retrying in 0.5s") for line in waits)
    assert graph.messages_in("inbox") == {}
    _assert_filed_exactly_once(tmp_path, mails)
