"""The bank-holiday cache (mailroom/calendar_cache.py): the same calendar as
building it from the holidays package, rebuilt whenever the file cannot be trusted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from mailroom import calendar_cache
from mailroom.calendar_cache import cached_bank_holidays, cached_calendar
from mailroom.calendar_source import bank_holidays, build_calendar
from mailroom.config import CalendarSettings
from mailroom.domain.regions import Region

YEARS = range(2024, 2029)


def _file(folder: Path) -> Path:
    (found,) = folder.glob("bank-holidays-*.json")
    return found


@pytest.mark.parametrize("region", list(Region))
def test_cached_calendar_equals_the_built_one(tmp_path: Path, region: Region) -> None:
    settings = CalendarSettings(region=region, closure_days=[date(2026, 12, 29)])
    built = build_calendar(settings, YEARS)
    first = cached_calendar(settings, YEARS, tmp_path)  # writes the file
    second = cached_calendar(settings, YEARS, tmp_path)  # reads it
    assert first.version == second.version == built.version
    assert second.add_working_days(date(2026, 12, 23), 5) == built.add_working_days(date(2026, 12, 23), 5)


def test_closure_days_apply_without_clearing_the_cache(tmp_path: Path) -> None:
    plain = cached_calendar(CalendarSettings(), YEARS, tmp_path)
    shut = cached_calendar(CalendarSettings(closure_days=[date(2026, 12, 29)]), YEARS, tmp_path)
    assert plain.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert shut.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 30)


def test_a_tampered_file_fails_its_hash_and_is_rebuilt(tmp_path: Path) -> None:
    settings = CalendarSettings()
    cached_bank_holidays(settings, YEARS, tmp_path)
    file = _file(tmp_path)
    document = json.loads(file.read_text())
    document["days"].remove("2026-12-25")  # Christmas Day a working day: deadlines a day early
    file.write_text(json.dumps(document))
    assert date(2026, 12, 25) in cached_bank_holidays(settings, YEARS, tmp_path)
    assert "2026-12-25" in json.loads(file.read_text())["days"]  # and the file is right again


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"key": 1}', "\x00\xff"])
def test_an_unreadable_file_is_rebuilt_not_an_error(tmp_path: Path, garbage: str) -> None:
    settings = CalendarSettings()
    cached_bank_holidays(settings, YEARS, tmp_path)
    _file(tmp_path).write_text(garbage, encoding="latin-1")
    assert cached_bank_holidays(settings, YEARS, tmp_path) == bank_holidays(Region.ENGLAND_AND_WALES, YEARS)


def test_a_new_holidays_release_rebuilds_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = CalendarSettings()
    cached_bank_holidays(settings, YEARS, tmp_path)
    file = _file(tmp_path)
    document = json.loads(file.read_text())
    document["days"] = document["days"][:-1]
    document["sha256"] = calendar_cache._digest(document["days"])  # a consistent file...
    file.write_text(json.dumps(document))
    assert len(cached_bank_holidays(settings, YEARS, tmp_path)) == len(document["days"])  # ...is trusted
    monkeypatch.setattr(calendar_cache, "holidays_version", lambda: "999.0")  # until the package changes
    assert cached_bank_holidays(settings, YEARS, tmp_path) == bank_holidays(Region.ENGLAND_AND_WALES, YEARS)


def test_the_holidays_version_is_read_without_importing_the_package() -> None:
    from importlib.metadata import version

    assert calendar_cache.holidays_version() == version("holidays")


def test_an_unwritable_cache_folder_still_gives_the_calendar(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    days = cached_bank_holidays(CalendarSettings(), YEARS, blocker / "cache")
    assert days == bank_holidays(Region.ENGLAND_AND_WALES, YEARS)
