"""Reading a time a person typed: UK wall-clock time, for the command line and the desk alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from mailroom.clock import LONDON
from mailroom.errors import IntakeError


def parse_uk_time(text: str, what: str, now: Callable[[], datetime]) -> datetime:
    """A UK wall-clock time (or one with an explicit offset) as an aware datetime, or
    ``now``. In the autumn's repeated hour the first (BST) occurrence is taken; a time
    in the spring's skipped hour is refused."""
    if text.strip().lower() == "now":
        return now()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise IntakeError(f"{what}: not a date or date-time: {text!r} (use 2026-11-20T14:05)") from None
    if value.tzinfo is not None:
        return value
    local = value.replace(tzinfo=LONDON)
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != value:
        raise IntakeError(f"{what}: {text} did not happen in the UK (the clocks went forward)")
    return local
