"""Where the working calendar's data comes from: the holidays package, config, gov.uk.

``build_calendar`` turns settings into a ``WorkingCalendar``: the region's bank
holidays from the ``holidays`` package (always with a subdivision; ``years=``
fixed so the object never grows behind our back) plus the configured closure
and extra working days. ``load_govuk`` and ``govuk_differences`` cross-check the
package against a downloaded gov.uk ``bank-holidays.json``, because the package
learns of new one-off holidays only in new releases.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from mailroom.domain.calendar import WorkingCalendar
from mailroom.domain.regions import Region
from mailroom.errors import UserError

# Wales has the same bank holidays as England; "ENG" is the subdivision the
# gov.uk "england-and-wales" division corresponds to.
_SUBDIVISIONS: dict[Region, str] = {
    Region.ENGLAND_AND_WALES: "ENG",
    Region.SCOTLAND: "SCT",
    Region.NORTHERN_IRELAND: "NIR",
}
GOVUK_DIVISIONS: tuple[str, ...] = tuple(region.value for region in Region)
_SATURDAY = 5


class CalendarChoice(Protocol):
    """What a calendar is built from: ``config.CalendarSettings``, or the quick read
    of the same keys (``config_sources.QuickSettings``)."""

    @property
    def region(self) -> Region: ...
    @property
    def closure_days(self) -> Sequence[date]: ...
    @property
    def extra_working_days(self) -> Sequence[date]: ...


class CalendarSourceError(UserError):
    """Calendar data could not be read or is inconsistent. ``str()`` is one line."""


def bank_holidays(region: Region, years: range) -> frozenset[date]:
    """The region's bank holidays (substitute days included) for ``years``, per the holidays package.

    A quarter of a second to import: commands take these from mailroom/calendar_cache.py."""
    import holidays

    table = holidays.country_holidays("GB", subdiv=_SUBDIVISIONS[region], years=years, observed=True)
    return frozenset(table)


CALENDAR_YEARS = range(2020, 2041)


def build_calendar(
    settings: CalendarChoice, years: range = CALENDAR_YEARS, bank: frozenset[date] | None = None
) -> WorkingCalendar:
    """The working calendar for ``settings.region`` over whole ``years`` (a non-empty step-1 range).
    ``bank``: the region's bank holidays over ``years`` when the caller has them (the cache)."""
    if len(years) == 0 or years.step != 1:
        raise CalendarSourceError(f"calendar years must be a non-empty run of years, got {years!r}")
    closures = frozenset(settings.closure_days)
    extras = frozenset(settings.extra_working_days)
    clash = sorted(closures & extras)
    if clash:
        # Silently letting one list win would hide a config mistake on a day that moves deadlines.
        raise CalendarSourceError(
            f"calendar: {clash[0].isoformat()} is both a closure day and an extra working day"
        )
    return WorkingCalendar(
        region=settings.region.value,
        non_working=(bank_holidays(settings.region, years) if bank is None else bank) | closures,
        extra_working=extras,
        first=date(years[0], 1, 1),
        last=date(years[-1], 12, 31),
    )


def load_govuk(path: Path) -> dict[str, frozenset[date]]:
    """Bank holiday dates per gov.uk division ("england-and-wales", "scotland", "northern-ireland")."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarSourceError(f"{path}: cannot read gov.uk bank holidays: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CalendarSourceError(f"{path}: gov.uk bank holidays file is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise CalendarSourceError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise CalendarSourceError(f"{path}: expected a JSON object of divisions")
    return {division: _division_dates(path, document, division) for division in GOVUK_DIVISIONS}


def _division_dates(path: Path, document: dict[str, object], division: str) -> frozenset[date]:
    body = document.get(division)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not events:
        raise CalendarSourceError(f"{path}: division {division!r} has no 'events' list")
    return frozenset(_event_date(path, division, event) for event in events)


def _event_date(path: Path, division: str, event: object) -> date:
    raw = event.get("date") if isinstance(event, dict) else None
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise CalendarSourceError(
        f"{path}: division {division!r} has an event without a YYYY-MM-DD date: {raw!r}"
    )


def govuk_differences(
    calendar_holidays: frozenset[date], govuk: frozenset[date], first: date, last: date
) -> list[str]:
    """One line per date that is a bank holiday in one source and not the other, oldest first.

    Compared only over whole years gov.uk covers that also lie in ``first``..``last``
    (the gov.uk file spans a few years; the calendar many). Saturdays and Sundays
    are skipped: the package lists e.g. a Sunday Christmas Day as well as its
    substitute, gov.uk only the substitute, and neither moves a deadline.
    """
    if not govuk:
        return []
    start = max(first, date(min(govuk).year, 1, 1))
    end = min(last, date(max(govuk).year, 12, 31))

    def weekdays(days: frozenset[date]) -> set[date]:
        return {d for d in days if start <= d <= end and d.weekday() < _SATURDAY}

    ours, theirs = weekdays(calendar_holidays), weekdays(govuk)
    lines = [f"{d.isoformat()} ({d:%a}): bank holiday on gov.uk, not in the calendar" for d in theirs - ours]
    lines += [f"{d.isoformat()} ({d:%a}): bank holiday in the calendar, not on gov.uk" for d in ours - theirs]
    return sorted(lines)
