"""The fuzz corpus (issue 9): each class of hostile mail, and random structural
mutations of the real corpus mails, go through the parser within the budget.

The mutants are parsed in the staging helper (mailroom/stager.py), a batch per
call with a per-mail budget: a mutant that made the parser loop would fail the
test in seconds instead of hanging it. `make test` runs 400 mutants; the soak
run 2,000 more.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailroom.ingest.parse import parse_mail, parts_not_split_out
from mailroom.stager import Budget, Helper
from tests.support import budget_probe, hostile

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "mikel-mail"
PER_MAIL_SECONDS = 5.0  # far below the 20 s default budget; the worst seen is under 1 s
BATCH = 50


def corpus_mails() -> list[bytes]:
    not_mail = {"LICENSE", ".gitattributes"}
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in not_mail)
    if len(files) < 100:
        pytest.fail(f"the shared corpus is missing: {CORPUS}", pytrace=False)
    return [p.read_bytes() for p in files]


@pytest.mark.parametrize("name", sorted(hostile.hostile_classes()))
def test_each_hostile_class_parses_quickly_in_process(name: str) -> None:
    raw = hostile.hostile_classes()[name]
    started = time.perf_counter()
    mail = parse_mail(raw)
    assert time.perf_counter() - started < PER_MAIL_SECONDS
    assert mail.sender.email == "bob.finch@example.com"


def test_the_part_and_depth_classes_say_what_they_left_in_the_raw_mail() -> None:
    assert parts_not_split_out(parse_mail(hostile.mime_parts())) == 300_000 - 999
    assert parts_not_split_out(parse_mail(hostile.deep_nesting())) > 4_000


def _mutants_within_budget(count: int, seed: int) -> None:
    mutants = list(hostile.mutations(corpus_mails(), count, seed))
    helper = Helper(Budget(seconds=PER_MAIL_SECONDS * BATCH, cpu_seconds=int(PER_MAIL_SECONDS * BATCH)))
    try:
        for start in range(0, len(mutants), BATCH):
            took = helper.call(budget_probe.parse_timed, mutants[start : start + BATCH])
            slowest = max(range(len(took)), key=took.__getitem__)
            where = f"mutant {start + slowest} of seed {seed}"
            assert took[slowest] < PER_MAIL_SECONDS, f"{where} took {took[slowest]:.1f} s"
    finally:
        helper.stop()


def test_mutations_of_real_mail_parse_within_the_budget() -> None:
    _mutants_within_budget(400, seed=20261203)


@pytest.mark.soak
def test_two_thousand_mutations_of_real_mail_parse_within_the_budget() -> None:
    _mutants_within_budget(2000, seed=20261204)
