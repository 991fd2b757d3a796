"""Reporting periods from what staff type (mailroom/reports/periods.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mailroom.reports.periods import PeriodError, financial_year, instants, months, parse_period


@pytest.mark.parametrize(
    ("label", "name", "first", "last"),
    [
        ("2026-27", "2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        (" 2026/27 ", "2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        ("2026-27 Q1", "2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-27 Q2", "2026-27 Q2", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-27 q3", "2026-27 Q3", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-27Q4", "2026-27 Q4", date(2027, 1, 1), date(2027, 3, 31)),
        ("2027-28 Q4", "2027-28 Q4", date(2028, 1, 1), date(2028, 3, 31)),  # leap year: to 31 March
        ("2099-00", "2099-00", date(2099, 4, 1), date(2100, 3, 31)),
    ],
)
def test_years_and_quarters(label: str, name: str, first: date, last: date) -> None:
    period = parse_period(label)
    assert (period.label, period.first_day, period.last_day) == (name, first, last)
    assert financial_year(period) == name.split()[0]


@pytest.mark.parametrize(
    ("label", "says"),
    [
        ("2026-28", "2026-27"),
        ("2026", "not a reporting period"),
        ("2026-27 Q5", "not a reporting period"),
        ("FY2026", "not a reporting period"),
        ("2026-27 Q1; DROP TABLE complaints", "not a reporting period"),
        ("", "not a reporting period"),
    ],
)
def test_what_does_not_parse_is_one_line_naming_it(label: str, says: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(label)
    message = str(caught.value)
    assert says in message and "\n" not in message


def test_a_very_long_label_is_not_echoed_whole() -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period("2026-27" + "x" * 10_000)
    assert len(str(caught.value)) < 200


def test_the_months_of_a_year_and_a_quarter() -> None:
    year = months(parse_period("2026-27"))
    assert len(year) == 12 and year[0] == date(2026, 4, 1) and year[-1] == date(2027, 3, 1)
    assert months(parse_period("2026-27 Q4")) == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def test_a_period_runs_from_midnight_to_midnight_uk_time() -> None:
    """1 April 2026 and 1 April 2027 are both in British Summer Time: the year starts
    at 23:00 UTC on 31 March and ends there a year later."""
    start, end = instants(parse_period("2026-27"))
    assert start == datetime(2026, 3, 31, 23, tzinfo=UTC)
    assert end == datetime(2027, 3, 31, 23, tzinfo=UTC)
    winter_start, winter_end = instants(parse_period("2026-27 Q3"))  # October-December: GMT at the end
    assert winter_start == datetime(2026, 9, 30, 23, tzinfo=UTC)
    assert winter_end == datetime(2027, 1, 1, 0, tzinfo=UTC)
