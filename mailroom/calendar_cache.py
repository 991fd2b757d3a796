"""The working calendar without importing the holidays package on every command.

The region's bank holidays are computed once per (holidays package version,
region, years) and kept in a small JSON file with a SHA-256 of its dates; a file
that is missing, unreadable, for another version or whose hash does not match is
rebuilt. Closure days and extra working days come from the settings on every
call, so editing them never needs the cache cleared.

Where: ``mailroom/cache_dir.py``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from datetime import date
from pathlib import Path

from mailroom.cache_dir import cache_dir, write_atomically
from mailroom.calendar_source import CALENDAR_YEARS, CalendarChoice, bank_holidays, build_calendar
from mailroom.domain.calendar import WorkingCalendar

_FORMAT = 1


def cached_calendar(
    settings: CalendarChoice, years: range = CALENDAR_YEARS, folder: Path | None = None
) -> WorkingCalendar:
    return build_calendar(settings, years, bank=cached_bank_holidays(settings, years, folder))


def cached_bank_holidays(
    settings: CalendarChoice, years: range = CALENDAR_YEARS, folder_given: Path | None = None
) -> frozenset[date]:
    folder = folder_given or cache_dir()
    key = {
        "format": _FORMAT,
        "holidays": holidays_version(),
        "region": settings.region.value,
        "years": [years.start, years.stop],
    }
    file = folder / f"bank-holidays-{settings.region.value}-{years.start}-{years.stop - 1}.json"
    found = _read(file, key)
    if found is not None:
        return found
    days = bank_holidays(settings.region, years)
    _write(file, key, days)
    return days


def holidays_version() -> str:
    """The installed holidays package's version, read from its version.py
    (importlib.metadata costs more than the lookup it saves)."""
    spec = importlib.util.find_spec("holidays")
    if spec is not None and spec.origin:
        try:
            text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
        except OSError:
            text = ""
        found = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
        if found:
            return found.group(1)
    from importlib.metadata import version

    return version("holidays")


def _digest(days: list[str]) -> str:
    return hashlib.sha256("\n".join(days).encode()).hexdigest()


def _read(file: Path, key: dict[str, object]) -> frozenset[date] | None:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
        days = document["days"]
        if document["key"] != key or document["sha256"] != _digest(days):
            return None
        return frozenset(date.fromisoformat(day) for day in days)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # rebuilt below: a cache is never a reason to fail


def _write(file: Path, key: dict[str, object], days: frozenset[date]) -> None:
    listed = sorted(day.isoformat() for day in days)
    write_atomically(file, json.dumps({"key": key, "days": listed, "sha256": _digest(listed)}))
