"""Ingest benchmark against a real Dovecot (`make bench`).

Reports:
1. messages/s through fetch → parse → classify → store → file → acknowledge,
   batched as the worker runs (batch_size from settings), against the naive
   baseline: one fetch + parse + commit (+ sync) per message (batch_size=1);
2. p95 seconds from APPEND to the complaint being logged, with a running
   `mailroom run` woken by IMAP IDLE (poll interval 300 s, so polling can't help).

Usage: python -m bench.ingest_throughput [--mails N] [--latency-samples K]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mailroom.clock import SystemClock
from mailroom.config import Settings
from mailroom.ingest.imap_source import ImapSource
from mailroom.services import build_services
from mailroom.worker import run_once
from tests.support import mailgen
from tests.support.dovecot import Dovecot
from tests.support.harness import bulk_append, mailroom_command, query, write_config


def throughput(dovecot: Dovecot, workdir: Path, mails: list[bytes], batch_size: int) -> float:
    user = dovecot.add_user()
    bulk_append(dovecot, user, mails)
    imap = dovecot.settings(user, batch_size=batch_size)
    settings = Settings.model_validate(
        {
            "storage": {"root": workdir / "storage"},
            "database": {"url": f"sqlite:///{workdir / 'mailroom.db'}"},
            "maildir": {"path": None},
        }
    ).model_copy(update={"imap": imap})
    services = build_services(settings, SystemClock())
    source = ImapSource(imap)
    started = time.perf_counter()
    report = run_once(services, [source])
    elapsed = time.perf_counter() - started
    source.close()
    assert report.seen == len(mails), report
    return len(mails) / elapsed


def idle_latency(dovecot: Dovecot, workdir: Path, samples: int) -> list[float]:
    user = dovecot.add_user()
    config = write_config(workdir, dovecot, user, poll_interval_seconds=300.0)
    worker = subprocess.Popen(mailroom_command(config, "run"), stderr=subprocess.DEVNULL)
    latencies = []
    try:
        time.sleep(3)  # first pass done; the worker is in IDLE
        for n in range(samples):
            # Dated now: complaint #100,000's default date is in 2028, which goes to triage.
            bulk_append(dovecot, user, [mailgen.complaint(100_000 + n, date=datetime.now(UTC))])
            appended = time.monotonic()
            while query(workdir / "mailroom.db", "SELECT count(*) FROM complaints") != [(n + 1,)]:
                if time.monotonic() - appended > 60:
                    raise RuntimeError("mail not logged within 60 s")
                time.sleep(0.02)
            latencies.append(time.monotonic() - appended)
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=40)
    args = parser.parse_args()
    mails = [mailgen.complaint(n) for n in range(args.mails)]
    with tempfile.TemporaryDirectory(prefix="mr-bench-", dir="/tmp") as tmp:
        root = Path(tmp)
        dovecot = Dovecot.start(root / "dc")
        try:
            (root / "batched").mkdir()
            (root / "naive").mkdir()
            (root / "idle").mkdir()
            batched = throughput(dovecot, root / "batched", mails, batch_size=50)
            naive = throughput(dovecot, root / "naive", mails[: max(200, args.mails // 5)], batch_size=1)
            latencies = idle_latency(dovecot, root / "idle", args.latency_samples)
        finally:
            dovecot.stop()
    p95 = statistics.quantiles(latencies, n=20)[18]
    result = {
        "mails": args.mails,
        "batched_msgs_per_s": round(batched, 1),
        "naive_msgs_per_s": round(naive, 1),
        "speedup_vs_naive": round(batched / naive, 2),
        "idle_latency_p50_s": round(statistics.median(latencies), 3),
        "idle_latency_p95_s": round(p95, 3),
        "idle_latency_max_s": round(max(latencies), 3),
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
