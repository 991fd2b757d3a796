"""Dates as letters write them, found in text."""

from __future__ import annotations

import re
from datetime import date

__all__ = ["find_dates", "long_date", "months_before", "short_date"]

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>[0-3]?\d)([/.\-])(?P<month>[01]?\d)\2(?P<year>\d{4}|\d{2})\b"),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
)


def find_dates(text: str) -> list[tuple[date, int, int]]:
    """Dates written in the usual UK ways ("4 December 2026", "4th Dec 2026", "Friday
    4 December 2026", "04/12/2026", "4.12.26", "2026-12-04"), as (date, start, end)."""
    found: dict[int, tuple[date, int, int]] = {}
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(start <= m.start() < end for _, start, end in found.values()):
                continue
            month_text = m.group("month")
            month = int(month_text) if month_text.isdigit() else _MONTHS[month_text[:3].lower()]
            year = int(m.group("year"))
            year += 2000 if year < 100 else 0
            try:
                found[m.start()] = (date(year, month, int(m.group("day"))), m.start(), m.end())
            except ValueError:
                continue
    return [found[start] for start in sorted(found)]


def short_date(day: date) -> str:
    """ "4 December 2026"."""
    return f"{day.day} {day:%B %Y}"


def long_date(day: date) -> str:
    """How letters write a date: "Monday 23 November 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
