"""Reporting periods from what staff type: a financial year "2026-27" (1 April 2026
to 31 March 2027, the TSM reporting year and the Code's annual report) or one of
its quarters "2026-27 Q1" (April-June) to "2026-27 Q4" (January-March), for the
Member Responsible for Complaints (Code 9). Pure: no store, no clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from mailroom.clock import LONDON
from mailroom.errors import UserError
from mailroom.reports.model import Period

# "2026-27", "2026/27", optionally " Q1".."Q4" (a space, or none, before the Q).
_LABEL = re.compile(r"^(\d{4})[-/](\d{2})(?:\s*[Qq]([1-4]))?$")
# The first month of each quarter of a financial year that starts in April.
_QUARTER_START = {1: 4, 2: 7, 3: 10, 4: 1}


class PeriodError(UserError):
    """A period label that does not parse. One line, naming what was given."""

    exit_code = 2


def parse_period(label: str) -> Period:
    """``"2026-27"`` or ``"2026-27 Q3"`` as a Period of UK dates, both ends included."""
    given = label.strip()
    match = _LABEL.match(given)
    if match is None:
        raise PeriodError(
            f"{label[:40]!r} is not a reporting period: give a financial year like 2026-27, "
            "or a quarter like 2026-27 Q1"
        )
    first_year, second, quarter = int(match.group(1)), int(match.group(2)), match.group(3)
    if second != (first_year + 1) % 100:
        raise PeriodError(
            f"{given!r}: a financial year runs 1 April to 31 March, so it is "
            f"{first_year}-{(first_year + 1) % 100:02d}"
        )
    year_label = f"{first_year}-{second:02d}"
    if quarter is None:
        return Period(year_label, date(first_year, 4, 1), date(first_year + 1, 3, 31))
    q = int(quarter)
    month = _QUARTER_START[q]
    year = first_year if q < 4 else first_year + 1
    first_day = date(year, month, 1)
    return Period(f"{year_label} Q{q}", first_day, _month_after(first_day, 3) - timedelta(days=1))


def financial_year(period: Period) -> str:
    """The financial year a period falls in ("2026-27" for "2026-27 Q2"): the
    year the number of homes is recorded for."""
    return period.label.split()[0]


def months(period: Period) -> list[date]:
    """The first day of each calendar month the period spans, in order."""
    found, month = [], period.first_day.replace(day=1)
    while month <= period.last_day:
        found.append(month)
        month = _month_after(month, 1)
    return found


def instants(period: Period) -> tuple[datetime, datetime]:
    """The period as UTC instants [start, end): midnight London time that begins its
    first day, and the one that ends its last day. A step counts in the period when
    its UK date does (23:30 on 31 March in London is still March, whatever UTC says)."""
    start = datetime.combine(period.first_day, time(0), tzinfo=LONDON)
    end = datetime.combine(period.last_day + timedelta(days=1), time(0), tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def _month_after(first_of_month: date, count: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
