"""Working-day arithmetic benchmark: bisect over precomputed days vs a day-by-day loop.

Builds the England & Wales calendar for 2020-2040, then times 1,000,000
``add_working_days`` calls with random starts and n in 0..40, and a naive loop
(step one day, test weekday and holiday set) over 10,000 calls. Both answer the
same question; the naive answers are checked against the fast ones.

Usage: python -m bench.calendar_add_working_days [--calls N] [--naive-calls K] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from datetime import date, timedelta

from mailroom.calendar_source import bank_holidays, build_calendar
from mailroom.config import CalendarSettings, Region
from mailroom.domain.calendar import WorkingCalendar

YEARS = range(2020, 2041)
# Starts stop short of the end of the span so start + 40 working days stays inside it.
FIRST, LAST_START = date(2020, 1, 1), date(2040, 10, 31)
MAX_N = 40


def naive_add(start: date, n: int, holidays: frozenset[date]) -> date:
    def working(day: date) -> bool:
        return day.weekday() < 5 and day not in holidays

    day = start
    if n == 0:
        while not working(day):
            day += timedelta(days=1)
        return day
    while n:
        day += timedelta(days=1)
        if working(day):
            n -= 1
    return day


def workload(calls: int, rng: random.Random) -> list[tuple[date, int]]:
    span = (LAST_START - FIRST).days
    return [(FIRST + timedelta(days=rng.randrange(span + 1)), rng.randint(0, MAX_N)) for _ in range(calls)]


def time_fast(calendar: WorkingCalendar, work: list[tuple[date, int]]) -> float:
    add = calendar.add_working_days
    started = time.perf_counter()
    for start, n in work:
        add(start, n)
    return (time.perf_counter() - started) / len(work) * 1e6


def time_naive(holidays: frozenset[date], work: list[tuple[date, int]]) -> float:
    started = time.perf_counter()
    for start, n in work:
        naive_add(start, n, holidays)
    return (time.perf_counter() - started) / len(work) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--naive-calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    calendar = build_calendar(CalendarSettings(region=Region.ENGLAND_AND_WALES), YEARS)
    build_ms = (time.perf_counter() - started) * 1e3
    holidays = bank_holidays(Region.ENGLAND_AND_WALES, YEARS)
    started = time.perf_counter()
    WorkingCalendar(calendar.region, holidays, frozenset(), calendar.first, calendar.last)
    pure_build_ms = (time.perf_counter() - started) * 1e3

    fast_work, naive_work = workload(args.calls, rng), workload(args.naive_calls, rng)
    mismatches = sum(calendar.add_working_days(s, n) != naive_add(s, n, holidays) for s, n in naive_work)
    fast_us = time_fast(calendar, fast_work)
    naive_us = time_naive(holidays, naive_work)
    print(
        json.dumps(
            {
                "calendar": f"{calendar.region} {calendar.first}..{calendar.last} v{calendar.version}",
                "build_ms_with_holidays_package": round(build_ms, 2),
                "build_ms_from_dates": round(pure_build_ms, 2),
                "calls": args.calls,
                "bisect_us_per_call": round(fast_us, 3),
                "naive_calls": args.naive_calls,
                "naive_us_per_call": round(naive_us, 3),
                "naive_over_bisect": round(naive_us / fast_us, 1),
                "mismatches": mismatches,
                "target_us_per_call": 5.0,
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
