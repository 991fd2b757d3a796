"""Graph ingestion throughput (`make bench`): mails per second through the worker
with the Graph source (paged delta, MIME through ``$value``, "move to Processed"
after each commit) against tests/support/graph_server.py, compared with the floor:
the same mails, the same worker and batch size, read from a Maildir (no HTTP).

The Graph server runs in a process of its own, as Microsoft's would be elsewhere:
in the worker's process its request handling would take the worker's GIL. Each
Graph round is run with the server answering at once (loopback) and with a fixed
delay per request (``--latency``, to show what Outlook's limit of 4 concurrent
requests per mailbox means once a request takes as long as a real one).

Printed for each: mails/s, the ratio to the Maildir floor, and the share of the
worker's wall time spent waiting on its source (for Graph: HTTP; scan = delta
round, fetch = ``$value``, ack = move), with the number of Graph requests.
No assertions on time: the figures are for reading.

Usage: python -m bench.graph_ingest [--mails N] [--batch-size B] [--latency S,S...] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mailroom.clock import SystemClock
from mailroom.config import GraphSettings, Settings
from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.graph_source import GraphSource
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.ingest.source import Checkpoint
from mailroom.services import build_services
from mailroom.worker import run_once
from tests.support import mailgen

MAILBOX = "complaints@landlord.example"


# -- the Graph server, in its own process ----------------------------------------------


def serve(conn: Connection, mails: list[bytes], latency: float) -> None:
    """Child process: a Graph server holding ``mails`` in the Inbox. Sends (root URL,
    token), waits for "stop", sends what it saw (requests by kind, mails moved)."""
    from tests.support.graph_server import GraphServer

    with GraphServer(mailboxes=(MAILBOX,)) as graph:
        for raw in mails:
            graph.add_message(raw)
        graph.latency = latency
        conn.send((graph.root, graph.issue_token()))
        conn.recv()
        kinds: dict[str, int] = {}
        for request in graph.graph_requests():
            kind = _request_kind(request.method, request.path)
            kinds[kind] = kinds.get(kind, 0) + 1
        conn.send({"requests": kinds, "moved": len(graph.messages_in("Processed"))})


def _request_kind(method: str, path: str) -> str:
    if path.endswith("/messages/delta"):
        return "delta"
    if path.endswith("/$value"):
        return "$value"
    if path.endswith("/move"):
        return "move"
    if "/mailFolders" in path:
        return f"folders ({method})"  # finding, or creating, Processed
    return f"{method} other"


# -- timing the worker's calls on its source -------------------------------------------------


@dataclass
class Waits:
    """Seconds the worker's thread spent inside its source's calls."""

    scan: float = 0.0
    fetch: float = 0.0  # inside the fetch generator: waiting for the next batch
    ack: float = 0.0

    @property
    def total(self) -> float:
        return self.scan + self.fetch + self.ack


def timed(source: Any, waits: Waits) -> None:
    """Wrap ``source``'s scan, fetch and acknowledge (on the instance) to add up the
    time the worker waits in them."""
    scan: Callable[[Mapping[str, Checkpoint]], list[SourceKey]] = source.scan
    fetch: Callable[[Sequence[SourceKey]], Iterator[list[FetchedMail]]] = source.fetch
    acknowledge: Callable[[Sequence[SourceKey]], None] = source.acknowledge

    def timed_scan(checkpoints: Mapping[str, Checkpoint]) -> list[SourceKey]:
        started = time.perf_counter()
        try:
            return scan(checkpoints)
        finally:
            waits.scan += time.perf_counter() - started

    def timed_fetch(keys: Sequence[SourceKey]) -> Iterator[list[FetchedMail]]:
        batches = fetch(keys)
        while True:
            started = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                return
            finally:
                waits.fetch += time.perf_counter() - started
            yield batch

    def timed_acknowledge(keys: Sequence[SourceKey]) -> None:
        started = time.perf_counter()
        try:
            acknowledge(keys)
        finally:
            waits.ack += time.perf_counter() - started

    source.scan, source.fetch, source.acknowledge = timed_scan, timed_fetch, timed_acknowledge


# -- one run ---------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    mails: int
    seconds: float
    waits: Waits
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.mails / self.seconds


def _services(workdir: Path) -> Any:
    settings = Settings.model_validate(
        {
            "storage": {"root": workdir / "storage"},
            "database": {"url": f"sqlite:///{workdir / 'mailroom.db'}"},
            "maildir": {"path": None},
        }
    )
    return build_services(settings, SystemClock())


def _ingest(workdir: Path, source: Any, expected: int) -> tuple[float, Waits]:
    services = _services(workdir)
    waits = Waits()
    timed(source, waits)
    try:
        started = time.perf_counter()
        report = run_once(services, [source])
        elapsed = time.perf_counter() - started
    finally:
        source.close()
        services.store.engine.dispose()
    if report.seen != expected:
        raise RuntimeError(f"ingested {report.seen} of {expected} mails: {report}")
    return elapsed, waits


def maildir_run(workdir: Path, mails: list[bytes], batch_size: int) -> Run:
    folder = workdir / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    base = int(time.time()) - len(mails)
    for n, raw in enumerate(mails):
        (folder / "new" / f"{base + n}.M{n}P{os.getpid()}.bench").write_bytes(raw)
    elapsed, waits = _ingest(workdir, MaildirSource([folder], batch_size=batch_size), len(mails))
    return Run("Maildir (floor: same worker, no HTTP)", len(mails), elapsed, waits)


def graph_run(workdir: Path, mails: list[bytes], batch_size: int, page_size: int, latency: float) -> Run:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve, args=(theirs, mails, latency), name="bench-graph-server")
    server.start()
    try:
        root, token = ours.recv()
        settings = GraphSettings.model_validate(
            {
                "mailbox": MAILBOX,
                "token_command": ["unused"],
                "batch_size": batch_size,
                "page_size": page_size,
            }
        )
        source = GraphSource(settings, token_provider=lambda: token, graph_url=root)
        elapsed, waits = _ingest(workdir, source, len(mails))
        ours.send("stop")
        seen = ours.recv()
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.kill()
    if seen["moved"] != len(mails):
        raise RuntimeError(f"only {seen['moved']} of {len(mails)} mails moved to Processed")
    where = "loopback" if not latency else f"{latency * 1000:.0f} ms a request"
    return Run(f"Graph ({where}, delta + $value + move)", len(mails), elapsed, waits, seen["requests"])


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=50)  # [graph] batch_size's default
    parser.add_argument("--page-size", type=int, default=100)  # [graph] page_size's default
    parser.add_argument(
        "--latency", default="0,0.02", help="seconds each Graph request takes, comma-separated"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    latencies = [float(value) for value in args.latency.split(",") if value.strip()]
    mails = [mailgen.complaint(n) for n in range(args.mails)]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="mr-bench-graph-", dir="/tmp") as tmp:
        root = Path(tmp)
        runs.append(maildir_run(root / "maildir", mails, args.batch_size))
        for n, latency in enumerate(latencies):
            runs.append(graph_run(root / f"graph{n}", mails, args.batch_size, args.page_size, latency))
    floor = runs[0].rate
    if args.json:
        figures = [
            {
                **asdict(run),
                "mails_per_s": run.rate,
                "x_floor": run.rate / floor,
                "source_share": run.waits.total / run.seconds,
            }
            for run in runs
        ]
        print(json.dumps({"mails": args.mails, "batch_size": args.batch_size, "runs": figures}, indent=2))
        return
    print(
        f"{args.mails} mails ({sum(map(len, mails)) // len(mails):,} bytes each on average), batch "
        f"{args.batch_size}, delta page {args.page_size}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}"
    )
    print(f"{'source':<48}{'mails/s':>9}{'x floor':>9}{'in source':>11}{'scan':>7}{'fetch':>7}{'ack':>7}")
    for run in runs:
        share = [
            100 * part / run.seconds
            for part in (run.waits.total, run.waits.scan, run.waits.fetch, run.waits.ack)
        ]
        print(
            f"{run.label:<48}{run.rate:>9.1f}{run.rate / floor:>9.2f}{share[0]:>10.0f}%"
            f"{share[1]:>6.0f}%{share[2]:>6.0f}%{share[3]:>6.0f}%"
        )
    for run in runs[1:]:
        counts = ", ".join(f"{kind} {count}" for kind, count in sorted(run.requests.items()))
        print(f"{run.label}: {sum(run.requests.values())} Graph requests ({counts})")
    print("'in source': share of the worker's wall time waiting on its source's calls (Graph: HTTP).")


if __name__ == "__main__":
    main()
