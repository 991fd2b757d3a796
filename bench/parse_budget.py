"""Parse budget benchmark (issue 9; `make bench`).

Reports:
1. parse seconds per mail, p50 / p99 / max, over the shared corpus plus the fuzz
   set (one mail of every hostile class at the scale the review measured, and
   random structural mutations of the corpus mails), parsed in the staging
   helper as the worker does;
2. throughput on normal mail (generated complaints), as ratios:
   - parse only: this parser against the one before the limits (the parse.py
     of ``--before``, default the commit before issue 9's work), same process;
   - staging: each mail through the budgeted helper (one call per mail, so an
     overrun is pinned on its mail) against staging in-process without a
     budget, as small runs did before.

Usage: python -m bench.parse_budget [--mutants N] [--mails N] [--before COMMIT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.parse import parse_mail
from mailroom.stager import Budget, Helper, stage_batch, stager_for
from tests.support import budget_probe, hostile, mailgen

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "mikel-mail"
BEFORE = "cedabc8"  # main before the parse budget and limits


def corpus() -> list[bytes]:
    return [
        p.read_bytes()
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file() and p.name not in {"LICENSE", ".gitattributes"}
    ]


def timed_in_helper(mails: Sequence[bytes], batch: int = 50) -> list[float]:
    helper = Helper(Budget(seconds=600, cpu_seconds=600))
    try:
        took: list[float] = []
        for start in range(0, len(mails), batch):
            took.extend(helper.call(budget_probe.parse_timed, list(mails[start : start + batch])))
        return took
    finally:
        helper.stop()


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def old_parser(commit: str) -> ModuleType | None:
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:mailroom/ingest/parse.py"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp(prefix="mr-old-parse-")) / "old_parse.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("old_parse", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_parse"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def best_of(runs: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def fetched(mails: Sequence[bytes]) -> list[FetchedMail]:
    received = mailgen.BASE_DATE
    return [
        FetchedMail(SourceKey("bench", "in", 0, str(n)), raw, received, len(raw))
        for n, raw in enumerate(mails)
    ]


def staging_ratio(mails: Sequence[bytes]) -> tuple[float, float]:
    """(mails/s staged through the budgeted helper, mails/s staged in-process)."""
    batch = fetched(mails)
    with tempfile.TemporaryDirectory(prefix="mr-bench-") as tmp:
        root = Path(tmp)
        inline = best_of(2, lambda: stage_batch(root / "inline", 10**8, batch))
        with stager_for(root / "helper", 10**8) as stager:
            stager.submit(batch[:10])()  # started and warm, as after the first batch
            helper = best_of(2, lambda: stager.submit(batch)())
    return len(batch) / helper, len(batch) / inline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()

    real = corpus()
    fuzz = list(hostile.hostile_classes().values()) + list(hostile.mutations(real, args.mutants, seed=9))
    took = timed_in_helper(real + fuzz)
    normal = [mailgen.complaint(n) for n in range(args.mails)]

    result: dict[str, Any] = {
        "mails_parsed": len(took),
        "corpus": len(real),
        "fuzz": len(fuzz),
        "parse_p50_ms": round(statistics.median(took) * 1000, 2),
        "parse_p99_ms": round(quantile(took, 0.99) * 1000, 2),
        "parse_max_ms": round(max(took) * 1000, 2),
        "budget_s": Budget().seconds,
    }
    old = old_parser(args.before)
    if old is not None:
        new_s = best_of(3, lambda: [parse_mail(raw) for raw in normal])
        old_s = best_of(3, lambda: [old.parse_mail(raw) for raw in normal])
        result["parse_normal_mails_per_s"] = round(len(normal) / new_s, 1)
        result[f"parse_normal_vs_{args.before}"] = round(old_s / new_s, 3)
    helper_rate, inline_rate = staging_ratio(normal)
    result["stage_helper_mails_per_s"] = round(helper_rate, 1)
    result["stage_inline_mails_per_s"] = round(inline_rate, 1)
    result["stage_helper_vs_inline"] = round(helper_rate / inline_rate, 3)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
