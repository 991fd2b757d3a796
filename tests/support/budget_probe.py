"""Functions the staging helper runs in tests of the parse budget (mailroom/stager.py).

They live in an importable module because the helper is a spawned process:
it finds a function by its module and name. ``stage_or_misbehave`` stands in
for the real staging function and misbehaves on mails that ask it to, so the
budget's three limits can be shown on demand and deterministically.
"""

from __future__ import annotations

import time
from pathlib import Path

from mailroom.domain.models import FetchedMail
from mailroom.ingest.parse import ParseLimits, parse_mail, report_stage
from mailroom.stager import stage_in_helper
from mailroom.staging import StagedMail


def sleep_forever() -> None:
    while True:
        time.sleep(60)


def spin() -> None:
    while True:
        pass


def balloon() -> bytes:
    return b"x" * (4 * 2**30)  # 4 GiB: far over any test's address-space limit


def hang_in(stage: str) -> None:
    report_stage(stage)
    sleep_forever()


def answer(value: int) -> int:
    return value


def parse_timed(raws: list[bytes]) -> list[float]:
    """Parse each mail with the default limits; the seconds each took."""
    took = []
    for raw in raws:
        started = time.perf_counter()
        parse_mail(raw)
        took.append(time.perf_counter() - started)
    return took


def stage_or_misbehave(root: Path, fetched: FetchedMail, max_bytes: int, limits: ParseLimits) -> StagedMail:
    """The real staging, except for mails with an ``X-Probe:`` header."""
    if b"X-Probe: hang" in fetched.raw:
        hang_in("attachments")
    if b"X-Probe: spin" in fetched.raw:
        report_stage("body text")
        spin()
    if b"X-Probe: balloon" in fetched.raw:
        balloon()
    return stage_in_helper(root, fetched, max_bytes, limits)
