"""Working days and Code deadlines: gov.uk bank holidays, day 0, end-of-day lapses, BST, properties.

The bank holiday table below is DATA typed in by hand from gov.uk/bank-holidays
(weekday dates only, substitute days included), not read from the holidays
package: it is the check that an upgrade of the package has not moved a date.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailroom.calendar_source import (
    CalendarSourceError,
    bank_holidays,
    build_calendar,
    govuk_differences,
    load_govuk,
)
from mailroom.clock import LONDON
from mailroom.config import CalendarSettings, Region
from mailroom.domain.calendar import CalendarRangeError, WorkingCalendar

ENG, SCT, NIR = Region.ENGLAND_AND_WALES, Region.SCOTLAND, Region.NORTHERN_IRELAND
D = date.fromisoformat


def _days(text: str) -> frozenset[date]:
    return frozenset(D(word) for word in text.split())


# -- gov.uk bank holidays 2022-2027, by hand ------------------------------------------------------
# Easter Sundays: 2022-04-17, 2023-04-09, 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28.
# A holiday falling on a Saturday or Sunday is listed only as its weekday substitute,
# as gov.uk does.

GOVUK_ENGLAND_AND_WALES = _days(
    """
    2022-01-03 2022-04-15 2022-04-18 2022-05-02 2022-06-02 2022-06-03 2022-08-29 2022-09-19
    2022-12-26 2022-12-27
    2023-01-02 2023-04-07 2023-04-10 2023-05-01 2023-05-08 2023-05-29 2023-08-28 2023-12-25
    2023-12-26
    2024-01-01 2024-03-29 2024-04-01 2024-05-06 2024-05-27 2024-08-26 2024-12-25 2024-12-26
    2025-01-01 2025-04-18 2025-04-21 2025-05-05 2025-05-26 2025-08-25 2025-12-25 2025-12-26
    2026-01-01 2026-04-03 2026-04-06 2026-05-04 2026-05-25 2026-08-31 2026-12-25 2026-12-28
    2027-01-01 2027-03-26 2027-03-29 2027-05-03 2027-05-31 2027-08-30 2027-12-27 2027-12-28
    """
)
# Scotland: no Easter Monday; 2 January; first Monday of August; St Andrew's Day
# (30 Nov, or the next Monday: 2024-12-02, 2025-12-01). 2022: 1 and 2 Jan were a
# Saturday and Sunday, so 3 and 4 Jan; 2023: 1 Jan a Sunday, so 2 and 3 Jan;
# 2027: 2 Jan a Saturday, so 4 Jan. 2026-06-15: one-off bank holiday for
# Scotland's World Cup finals (Royal Proclamation of 3 February 2026; on gov.uk
# as "World Cup bank holiday", Scotland only).
GOVUK_SCOTLAND = _days(
    """
    2022-01-03 2022-01-04 2022-04-15 2022-05-02 2022-06-02 2022-06-03 2022-08-01 2022-09-19
    2022-11-30 2022-12-26 2022-12-27
    2023-01-02 2023-01-03 2023-04-07 2023-05-01 2023-05-08 2023-05-29 2023-08-07 2023-11-30
    2023-12-25 2023-12-26
    2024-01-01 2024-01-02 2024-03-29 2024-05-06 2024-05-27 2024-08-05 2024-12-02 2024-12-25
    2024-12-26
    2025-01-01 2025-01-02 2025-04-18 2025-05-05 2025-05-26 2025-08-04 2025-12-01 2025-12-25
    2025-12-26
    2026-01-01 2026-01-02 2026-04-03 2026-05-04 2026-05-25 2026-06-15 2026-08-03 2026-11-30
    2026-12-25 2026-12-28
    2027-01-01 2027-01-04 2027-03-26 2027-05-03 2027-05-31 2027-08-02 2027-11-30 2027-12-27
    2027-12-28
    """
)
# Northern Ireland: England's days plus St Patrick's Day (17 Mar; 2024-03-18 as the
# 17th was a Sunday) and the Battle of the Boyne (12 Jul; 2025-07-14 as the 12th was
# a Saturday, 2026-07-13 as it is a Sunday).
GOVUK_NORTHERN_IRELAND = GOVUK_ENGLAND_AND_WALES | _days(
    """
    2022-03-17 2022-07-12 2023-03-17 2023-07-12 2024-03-18 2024-07-12
    2025-03-17 2025-07-14 2026-03-17 2026-07-13 2027-03-17 2027-07-12
    """
)
GOVUK = {ENG: GOVUK_ENGLAND_AND_WALES, SCT: GOVUK_SCOTLAND, NIR: GOVUK_NORTHERN_IRELAND}
TABLE_FIRST, TABLE_LAST = D("2022-01-01"), D("2027-12-31")

# (date, region, is it a bank holiday there?) — the cases most often got wrong.
NOTABLE = [
    # Good Friday: everywhere.
    *[(D("2026-04-03"), region, True) for region in Region],
    *[(D("2024-03-29"), region, True) for region in Region],
    # Easter Monday: England & Wales and Northern Ireland, not Scotland.
    (D("2026-04-06"), ENG, True),
    (D("2026-04-06"), NIR, True),
    (D("2026-04-06"), SCT, False),
    (D("2025-04-21"), SCT, False),
    # 2 January: Scotland only.
    (D("2026-01-02"), SCT, True),
    (D("2026-01-02"), ENG, False),
    (D("2026-01-02"), NIR, False),
    # New Year substitutes.
    *[(D("2022-01-03"), region, True) for region in Region],
    (D("2022-01-04"), SCT, True),
    (D("2022-01-04"), ENG, False),
    *[(D("2023-01-02"), region, True) for region in Region],
    (D("2023-01-03"), SCT, True),
    (D("2023-01-03"), NIR, False),
    (D("2027-01-04"), SCT, True),
    (D("2027-01-04"), ENG, False),
    # St Andrew's Day: Scotland only; substitute Monday when the 30th is a weekend.
    (D("2026-11-30"), SCT, True),
    (D("2026-11-30"), ENG, False),
    (D("2025-12-01"), SCT, True),
    (D("2024-12-02"), SCT, True),
    # St Patrick's Day and the Battle of the Boyne: Northern Ireland only.
    (D("2026-03-17"), NIR, True),
    (D("2026-03-17"), ENG, False),
    (D("2024-03-18"), NIR, True),
    (D("2026-07-13"), NIR, True),
    (D("2026-07-13"), SCT, False),
    (D("2025-07-14"), NIR, True),
    (D("2027-07-12"), NIR, True),
    # August: first Monday in Scotland, last Monday elsewhere.
    (D("2026-08-03"), SCT, True),
    (D("2026-08-03"), ENG, False),
    (D("2026-08-31"), ENG, True),
    (D("2026-08-31"), NIR, True),
    (D("2026-08-31"), SCT, False),
    # Christmas and Boxing Day substitutes.
    *[(D("2022-12-26"), region, True) for region in Region],
    *[(D("2022-12-27"), region, True) for region in Region],
    *[(D("2026-12-28"), region, True) for region in Region],
    *[(D("2027-12-27"), region, True) for region in Region],
    *[(D("2027-12-28"), region, True) for region in Region],
    # One-offs: Platinum Jubilee (spring holiday moved to 2 June), State Funeral, Coronation.
    *[(D("2022-06-02"), region, True) for region in Region],
    *[(D("2022-06-03"), region, True) for region in Region],
    *[(D("2022-05-30"), region, False) for region in Region],  # the usual late-May Monday, moved
    *[(D("2022-09-19"), region, True) for region in Region],
    *[(D("2023-05-08"), region, True) for region in Region],
    (D("2026-06-15"), SCT, True),
    (D("2026-06-15"), ENG, False),
]


@cache
def calendar_for(
    region: Region, closures: tuple[date, ...] = (), extras: tuple[date, ...] = ()
) -> WorkingCalendar:
    settings = CalendarSettings(region=region, closure_days=list(closures), extra_working_days=list(extras))
    return build_calendar(settings)


def _ids(case: tuple[date, Region, bool]) -> str:
    return f"{case[0].isoformat()}-{case[1].value}"


@pytest.mark.parametrize("case", NOTABLE, ids=[_ids(case) for case in NOTABLE])
def test_notable_bank_holidays(case: tuple[date, Region, bool]) -> None:
    day, region, holiday = case
    assert day.weekday() < 5, "the table lists weekdays only"
    assert (day in GOVUK[region]) is holiday, "NOTABLE disagrees with the gov.uk table"
    assert calendar_for(region).is_working_day(day) is not holiday


@pytest.mark.parametrize("region", list(Region))
def test_every_govuk_bank_holiday_is_non_working(region: Region) -> None:
    calendar = calendar_for(region)
    wrong = sorted(d for d in GOVUK[region] if calendar.is_working_day(d))
    assert wrong == []


@pytest.mark.parametrize("region", list(Region))
def test_every_other_weekday_2022_to_2027_is_working(region: Region) -> None:
    calendar = calendar_for(region)
    day, wrong = TABLE_FIRST, []
    while day <= TABLE_LAST:
        if day.weekday() < 5 and day not in GOVUK[region] and not calendar.is_working_day(day):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == [], "non-working days the gov.uk table does not list"


@pytest.mark.parametrize("region", list(Region))
def test_days_either_side_of_each_bank_holiday_are_working(region: Region) -> None:
    calendar = calendar_for(region)
    for holiday in GOVUK[region]:
        for neighbour in (holiday - timedelta(days=1), holiday + timedelta(days=1)):
            if neighbour.weekday() < 5 and neighbour not in GOVUK[region]:
                assert calendar.is_working_day(neighbour), neighbour


@pytest.mark.parametrize("day", ["2026-11-28", "2026-11-29", "2027-12-25", "2027-12-26"])
def test_weekends_are_not_working_days(day: str) -> None:
    assert not calendar_for(ENG).is_working_day(D(day))


def test_wales_has_englands_bank_holidays() -> None:
    # Why england-and-wales maps to the package's "ENG" subdivision.
    import holidays

    years = range(2022, 2028)
    wales = frozenset(holidays.country_holidays("GB", subdiv="WLS", years=years))
    assert wales == bank_holidays(ENG, years)


# -- add_working_days and friends -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "start", "n", "expected"),
    [
        (ENG, "2022-09-12", 5, "2022-09-20"),  # skips the State Funeral (library notes, checked)
        (ENG, "2023-05-05", 1, "2023-05-09"),  # skips the Coronation
        (SCT, "2026-12-31", 1, "2027-01-05"),  # 1 Jan, weekend, 2 Jan substitute on the 4th
        (ENG, "2026-12-31", 1, "2027-01-04"),
        (ENG, "2026-04-02", 1, "2026-04-07"),  # Maundy Thursday → Tuesday after Easter
        (SCT, "2026-04-02", 1, "2026-04-06"),  # Scotland works Easter Monday
        (ENG, "2026-11-27", 1, "2026-11-30"),
        (SCT, "2026-11-27", 1, "2026-12-01"),  # St Andrew's Day, Monday
        (ENG, "2026-11-24", 0, "2026-11-24"),  # n = 0 on a working day: that day
        (ENG, "2026-11-28", 0, "2026-11-30"),  # n = 0 on a Saturday: the Monday
        (ENG, "2026-11-28", 1, "2026-11-30"),  # a non-working start is not day 1
        (ENG, "2026-12-24", 1, "2026-12-29"),
    ],
)
def test_add_working_days_known_answers(region: Region, start: str, n: int, expected: str) -> None:
    assert calendar_for(region).add_working_days(D(start), n) == D(expected)


def test_next_working_day_and_between() -> None:
    calendar = calendar_for(ENG)
    assert calendar.next_working_day(D("2026-04-02")) == D("2026-04-07")
    assert calendar.next_working_day(D("2026-04-03")) == D("2026-04-07")
    assert calendar.working_days_between(D("2026-04-02"), D("2026-04-07")) == 1
    assert calendar.working_days_between(D("2026-04-07"), D("2026-04-07")) == 0
    assert calendar.working_days_between(D("2026-04-07"), D("2026-04-02")) == -1
    assert calendar.working_days_between(D("2026-11-28"), D("2026-11-30")) == 1


def test_negative_n_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        calendar_for(ENG).add_working_days(D("2026-11-24"), -1)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda c: c.is_working_day(D("2019-12-31")), "2019-12-31"),
        (lambda c: c.add_working_days(D("2041-01-01"), 0), "2041-01-01"),
        (lambda c: c.add_working_days(D("2040-12-20"), 30), "2040-12-20"),
        (lambda c: c.working_days_between(D("2026-01-01"), D("2045-06-01")), "2045-06-01"),
        (lambda c: c.day_zero(datetime(2019, 6, 1, 12, tzinfo=UTC), None), "2019-06-01"),
    ],
)
def test_outside_the_span_is_a_one_line_range_error(
    call: Callable[[WorkingCalendar], object], named: str
) -> None:
    calendar = calendar_for(ENG)
    with pytest.raises(CalendarRangeError) as caught:
        call(calendar)
    message = str(caught.value)
    assert named in message and "2020-01-01..2040-12-31" in message and "\n" not in message


# -- day 0, due dates and when they lapse ----------------------------------------------------------

FIVE_PM = time(17, 0)


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("region", "received", "cutoff", "day0"),
    [
        # 23:59 on a working day: that day, unless a 17:00 cut-off moves it on.
        (ENG, london("2026-11-24T23:59"), None, "2026-11-24"),
        (ENG, london("2026-11-24T23:59"), FIVE_PM, "2026-11-25"),
        (ENG, london("2026-11-24T16:59:59"), FIVE_PM, "2026-11-24"),
        (ENG, london("2026-11-24T17:00"), FIVE_PM, "2026-11-25"),  # at the cut-off counts as after
        # Friday evening: with a cut-off, the next working day is Monday.
        (ENG, london("2026-11-27T18:30"), None, "2026-11-27"),
        (ENG, london("2026-11-27T18:30"), FIVE_PM, "2026-11-30"),
        # Saturday: the Saturday itself, so working day 1 is the Monday (Tuesday in
        # Scotland, where Monday 30 November is St Andrew's Day). A cut-off (opt-in)
        # treats a non-working day like an evening: counted from the next working day.
        (ENG, london("2026-11-28T10:00"), None, "2026-11-28"),
        (SCT, london("2026-11-28T10:00"), None, "2026-11-28"),
        (ENG, london("2026-11-28T10:00"), FIVE_PM, "2026-11-30"),
        (SCT, london("2026-11-28T10:00"), FIVE_PM, "2026-12-01"),
        # Good Friday: the day itself; with a cut-off, Tuesday in England, Monday in Scotland.
        (ENG, london("2026-04-03T09:00"), None, "2026-04-03"),
        (SCT, london("2026-04-03T09:00"), None, "2026-04-03"),
        (ENG, london("2026-04-03T09:00"), FIVE_PM, "2026-04-07"),
        (SCT, london("2026-04-03T09:00"), FIVE_PM, "2026-04-06"),
        # 00:30 BST is 23:30 UTC the day before: the London date counts.
        (ENG, datetime(2026, 6, 10, 23, 30, tzinfo=UTC), None, "2026-06-11"),
        (ENG, datetime(2026, 6, 10, 23, 30, tzinfo=UTC), FIVE_PM, "2026-06-11"),
        # Friday 23:30 UTC is Saturday 00:30 BST: the Saturday, not the Friday.
        (ENG, datetime(2026, 6, 12, 23, 30, tzinfo=UTC), None, "2026-06-13"),
        (SCT, datetime(2026, 6, 12, 23, 30, tzinfo=UTC), None, "2026-06-13"),
        (SCT, datetime(2026, 6, 12, 23, 30, tzinfo=UTC), FIVE_PM, "2026-06-16"),
        # In winter London is UTC: 23:30 UTC stays on the same date.
        (ENG, datetime(2026, 11, 24, 23, 30, tzinfo=UTC), None, "2026-11-24"),
    ],
)
def test_day_zero(region: Region, received: datetime, cutoff: time | None, day0: str) -> None:
    assert calendar_for(region).day_zero(received, cutoff) == D(day0)


@pytest.mark.parametrize(
    ("received", "working_days", "due", "lapses_utc"),
    [
        # Stage 1 acknowledgement (5 WD) of a Friday-evening complaint: day 0 Friday.
        (london("2026-11-27T18:30"), 5, "2026-12-04", "2026-12-05T00:00"),
        # BST starts Sunday 2026-03-29: a due date after it lapses at 23:00 UTC.
        (london("2026-03-20T10:00"), 5, "2026-03-27", "2026-03-28T00:00"),
        (london("2026-03-23T10:00"), 5, "2026-03-30", "2026-03-30T23:00"),
        # BST ends Sunday 2026-10-25: before it 23:00 UTC, after it midnight UTC.
        (london("2026-10-16T10:00"), 5, "2026-10-23", "2026-10-23T23:00"),
        (london("2026-10-19T10:00"), 5, "2026-10-26", "2026-10-27T00:00"),
        # Stage 1 response: 10 WD from an acknowledgement on 2026-12-18 spans Christmas.
        (london("2026-12-18T11:00"), 10, "2027-01-06", "2027-01-07T00:00"),
    ],
)
def test_due_date_and_lapse(received: datetime, working_days: int, due: str, lapses_utc: str) -> None:
    calendar = calendar_for(ENG)
    due_date = calendar.due_date(received, working_days, None)
    assert due_date == D(due)
    assert calendar.deadline_instant(due_date) == datetime.fromisoformat(lapses_utc).replace(tzinfo=UTC)


# -- strict counting: weekend and bank-holiday receipt in each nation --------------------------------
# Working day 1 is the first working day after the day of receipt, whatever day that
# is (docs/working-days.md, rule 3). Each row is counted by hand in its comment.

RECEIPTS = [
    # England & Wales
    (ENG, "2026-11-28T10:00", "2026-12-04"),  # Sat: Mon 30 (1) .. Fri 4 Dec (5), not Mon 7
    (ENG, "2026-11-29T16:00", "2026-12-04"),  # Sun: the same Friday
    (ENG, "2026-04-03T09:00", "2026-04-13"),  # Good Friday: Easter Monday off, Tue 7 (1) .. Mon 13 (5)
    (ENG, "2026-04-06T09:00", "2026-04-13"),  # Easter Monday itself
    (ENG, "2026-12-25T12:00", "2027-01-05"),  # Christmas: 28 Dec substitute, 1 Jan: Tue 29 (1) .. Tue 5 (5)
    (ENG, "2026-06-13T00:30", "2026-06-19"),  # Sat 00:30 BST: Mon 15 (1) .. Fri 19 (5)
    (ENG, "2026-07-11T10:00", "2026-07-17"),  # Sat before the Boyne substitute: a working Monday here
    # Scotland
    (SCT, "2026-11-28T10:00", "2026-12-07"),  # Sat: St Andrew's Day Mon 30 off, Tue 1 (1) .. Mon 7 (5)
    (SCT, "2026-04-03T09:00", "2026-04-10"),  # Good Friday: Easter Monday works, Mon 6 (1) .. Fri 10 (5)
    (SCT, "2026-12-25T12:00", "2027-01-06"),  # Christmas: 28 Dec, 1 Jan, 4 Jan off: Tue 29 (1) .. Wed 6 (5)
    (SCT, "2026-06-13T00:30", "2026-06-22"),  # Sat; Mon 15 June 2026 a one-off holiday: Tue 16 .. Mon 22
    # Northern Ireland
    (NIR, "2026-11-28T10:00", "2026-12-04"),  # Sat: no St Andrew's Day here
    (NIR, "2026-03-15T10:00", "2026-03-23"),  # Sun; St Patrick's Tue 17 off: Mon 16 (1) .. Mon 23 (5)
    (NIR, "2026-03-17T10:00", "2026-03-24"),  # St Patrick's Day itself: Wed 18 (1) .. Tue 24 (5)
    (NIR, "2026-07-11T10:00", "2026-07-20"),  # Sat; Boyne (Sun 12) on Mon 13: Tue 14 (1) .. Mon 20 (5)
    (NIR, "2026-04-03T09:00", "2026-04-13"),  # Good Friday: Easter Monday off, as in England
]


@pytest.mark.parametrize(
    ("region", "received", "due"), RECEIPTS, ids=[f"{r.value}-{t}" for r, t, _ in RECEIPTS]
)
def test_weekend_and_holiday_receipt_counts_from_the_next_working_day(
    region: Region, received: str, due: str
) -> None:
    calendar = calendar_for(region)
    instant = london(received)
    assert calendar.due_date(instant, 5, None) == D(due)
    # The case clock and `calendar add-working-days DATE 5` are one rule.
    assert calendar.add_working_days(instant.date(), 5) == D(due)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([ENG, SCT, NIR]),
    st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 10, 31)),
    st.integers(1, 25),
)
def test_a_non_working_day_receipt_gets_no_more_time_than_the_working_day_before(
    region: Region, day: date, n: int
) -> None:
    calendar = calendar_for(region)
    assume(not calendar.is_working_day(day))
    before = calendar.sub_working_days(day, 1)
    received = datetime.combine(day, time(10), tzinfo=LONDON)
    on_the_working_day = datetime.combine(before, time(10), tzinfo=LONDON)
    assert calendar.due_date(received, n, None) == calendar.due_date(on_the_working_day, n, None)


@pytest.mark.parametrize(
    ("due", "lapses_utc"),
    [
        ("2026-03-28", "2026-03-29T00:00"),  # the last GMT midnight
        ("2026-03-29", "2026-03-29T23:00"),  # the day the clocks go forward
        ("2026-10-24", "2026-10-24T23:00"),
        ("2026-10-25", "2026-10-26T00:00"),  # the day the clocks go back (25 hours long)
        ("2026-06-15", "2026-06-15T23:00"),
        ("2026-12-31", "2027-01-01T00:00"),
    ],
)
def test_deadline_instant_is_the_end_of_the_day_in_london(due: str, lapses_utc: str) -> None:
    instant = calendar_for(ENG).deadline_instant(D(due))
    assert instant.tzinfo is UTC
    assert instant == datetime.fromisoformat(lapses_utc).replace(tzinfo=UTC)
    assert instant.astimezone(LONDON).date() == D(due) + timedelta(days=1)
    assert instant.astimezone(LONDON).time() == time(0)


def test_naive_instants_and_zoned_cutoffs_are_refused() -> None:
    calendar = calendar_for(ENG)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.day_zero(datetime(2026, 11, 24, 9), None)
    with pytest.raises(ValueError, match="cutoff"):
        calendar.day_zero(london("2026-11-24T09:00"), time(17, tzinfo=UTC))


# -- closures, extra working days, version ---------------------------------------------------------


def test_closures_and_extra_working_days() -> None:
    closures = (D("2026-12-29"), D("2026-12-30"), D("2026-12-31"))
    extras = (D("2026-12-26"), D("2026-04-06"))  # a Saturday opening; working Easter Monday
    calendar = calendar_for(ENG, closures, extras)
    assert not any(calendar.is_working_day(d) for d in closures)
    assert all(calendar.is_working_day(d) for d in extras)
    assert calendar.add_working_days(D("2026-12-24"), 1) == D("2026-12-26")
    assert calendar.add_working_days(D("2026-12-26"), 1) == D("2027-01-04")
    assert calendar.add_working_days(D("2026-04-02"), 1) == D("2026-04-06")


def test_a_day_both_closed_and_extra_is_a_config_error() -> None:
    with pytest.raises(CalendarSourceError, match="2026-12-29"):
        calendar_for(ENG, (D("2026-12-29"),), (D("2026-12-29"),))


def test_version_is_stable_and_tracks_inputs() -> None:
    base = build_calendar(CalendarSettings(region=ENG))
    assert build_calendar(CalendarSettings(region=ENG)).version == base.version
    assert len(base.version) == 16 and int(base.version, 16) >= 0
    closed = build_calendar(CalendarSettings(region=ENG, closure_days=[D("2026-12-29")]))
    extra = build_calendar(CalendarSettings(region=ENG, extra_working_days=[D("2026-12-26")]))
    scotland = build_calendar(CalendarSettings(region=SCT))
    assert len({base.version, closed.version, extra.version, scotland.version}) == 4
    shorter = build_calendar(CalendarSettings(region=ENG), years=range(2020, 2031))
    assert shorter.version != base.version


def test_version_ignores_the_order_the_days_came_in() -> None:
    days = [D("2026-12-29"), D("2026-12-30"), D("2026-12-31")]
    one = build_calendar(CalendarSettings(region=ENG, closure_days=days))
    other = build_calendar(CalendarSettings(region=ENG, closure_days=days[::-1] + days[:1]))
    assert one.version == other.version


# -- properties -----------------------------------------------------------------------------------

P_FIRST, P_LAST = D("2024-01-01"), D("2027-12-31")
P_HOLIDAYS = bank_holidays(ENG, range(2024, 2028))
p_days = st.dates(min_value=P_FIRST, max_value=P_LAST - timedelta(days=120))
p_n = st.integers(min_value=0, max_value=40)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    closures = draw(st.frozensets(st.dates(min_value=P_FIRST, max_value=P_LAST), max_size=60))
    extras = draw(st.frozensets(st.dates(min_value=P_FIRST, max_value=P_LAST), max_size=20))
    return WorkingCalendar("england-and-wales", P_HOLIDAYS | closures, extras - closures, P_FIRST, P_LAST)


def naive_add(calendar: WorkingCalendar, start: date, n: int) -> date:
    day = start
    if n == 0:
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return day
    while n:
        day += timedelta(days=1)
        n -= calendar.is_working_day(day)
    return day


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(calendars(), p_days, p_n)
def test_add_lands_on_a_working_day_after_start(calendar: WorkingCalendar, start: date, n: int) -> None:
    result = calendar.add_working_days(start, n)
    assert calendar.is_working_day(result)
    assert result > start if n >= 1 else result >= start
    assert result == naive_add(calendar, start, n)


@PROPERTY
@given(calendars(), p_days, p_days, p_n, p_n)
def test_add_is_monotonic(calendar: WorkingCalendar, a: date, b: date, n: int, m: int) -> None:
    a, b = min(a, b), max(a, b)
    n, m = min(n, m), max(n, m)
    assert calendar.add_working_days(a, n) <= calendar.add_working_days(b, n)
    assert calendar.add_working_days(a, n) <= calendar.add_working_days(a, m)
    # Strictly, except that n = 0 and n = 1 agree when ``a`` is not a working day.
    if n < m and (n >= 1 or calendar.is_working_day(a)):
        assert calendar.add_working_days(a, n) < calendar.add_working_days(a, m)


@PROPERTY
@given(calendars(), p_days, p_n, p_n)
def test_add_composes(calendar: WorkingCalendar, start: date, n: int, m: int) -> None:
    assume(n >= 1)
    assert calendar.add_working_days(calendar.add_working_days(start, n), m) == calendar.add_working_days(
        start, n + m
    )


@PROPERTY
@given(calendars(), p_days, p_n)
def test_between_inverts_add(calendar: WorkingCalendar, start: date, n: int) -> None:
    assume(n >= 1 or calendar.is_working_day(start))
    assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


@PROPERTY
@given(
    st.frozensets(st.dates(min_value=P_FIRST, max_value=P_LAST), max_size=60),
    st.frozensets(st.dates(min_value=P_FIRST, max_value=P_LAST), max_size=20),
    st.dates(min_value=P_FIRST, max_value=P_LAST),
)
def test_closures_and_extras_are_respected(
    closures: frozenset[date], extras: frozenset[date], day: date
) -> None:
    extras -= closures
    calendar = WorkingCalendar("england-and-wales", P_HOLIDAYS | closures, extras, P_FIRST, P_LAST)
    expected = day in extras or (day.weekday() < 5 and day not in P_HOLIDAYS and day not in closures)
    assert calendar.is_working_day(day) is expected
    for closed in closures:
        assert not calendar.is_working_day(closed)
    for opened in extras:
        assert calendar.is_working_day(opened)


@PROPERTY
@given(calendars(), st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 6, 30)), p_n)
def test_due_date_is_a_working_day_at_or_after_local_receipt(
    calendar: WorkingCalendar, instant: datetime, n: int
) -> None:
    received = instant.replace(tzinfo=UTC)
    due = calendar.due_date(received, n, FIVE_PM)
    local_date = received.astimezone(LONDON).date()
    assert calendar.is_working_day(due) and due >= local_date
    assert calendar.deadline_instant(due) > received


# -- gov.uk cross-check ---------------------------------------------------------------------------


def govuk_json(events: dict[str, list[str]]) -> str:
    return json.dumps(
        {
            division: {"division": division, "events": [{"title": "x", "date": d} for d in dates]}
            for division, dates in events.items()
        }
    )


@pytest.fixture
def govuk_file(tmp_path: Path) -> Path:
    england = sorted(d.isoformat() for d in GOVUK_ENGLAND_AND_WALES if d.year in (2025, 2026))
    england.remove("2026-08-31")  # missing from "gov.uk"
    england.append("2026-07-01")  # an extra "gov.uk" day
    path = tmp_path / "bank-holidays.json"
    path.write_text(
        govuk_json(
            {
                "england-and-wales": england,
                "scotland": [d.isoformat() for d in sorted(GOVUK_SCOTLAND)],
                "northern-ireland": [d.isoformat() for d in sorted(GOVUK_NORTHERN_IRELAND)],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_govuk_differences(govuk_file: Path) -> None:
    govuk = load_govuk(govuk_file)
    assert set(govuk) == {"england-and-wales", "scotland", "northern-ireland"}
    package = bank_holidays(ENG, range(2020, 2041))  # many more years than the file covers
    lines = govuk_differences(package, govuk["england-and-wales"], D("2020-01-01"), D("2040-12-31"))
    assert lines == [
        "2026-07-01 (Wed): bank holiday on gov.uk, not in the calendar",
        "2026-08-31 (Mon): bank holiday in the calendar, not on gov.uk",
    ]


@pytest.mark.parametrize("region", list(Region))
def test_package_agrees_with_the_hand_table_through_govuk_differences(region: Region) -> None:
    package = bank_holidays(region, range(2020, 2041))
    assert govuk_differences(package, GOVUK[region], D("2020-01-01"), D("2040-12-31")) == []


def test_govuk_differences_only_over_the_overlap() -> None:
    ours = _days("2021-12-27 2026-08-31 2027-08-30")
    theirs = _days("2026-08-31 2030-01-01")
    assert govuk_differences(ours, theirs, D("2022-01-01"), D("2027-12-31")) == [
        "2027-08-30 (Mon): bank holiday in the calendar, not on gov.uk"
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        (json.dumps({"england-and-wales": {"events": []}}), "england-and-wales"),
        (govuk_json({"england-and-wales": ["2026-01-01"], "scotland": ["2026-01-01"]}), "northern-ireland"),
        (
            govuk_json({"england-and-wales": ["2026-13-01"], "scotland": ["x"], "northern-ireland": ["x"]}),
            "2026-13-01",
        ),
    ],
)
def test_invalid_govuk_file(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "bank-holidays.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarSourceError, match=says) as caught:
        load_govuk(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_unreadable_govuk_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarSourceError, match="cannot read"):
        load_govuk(tmp_path / "missing.json")
