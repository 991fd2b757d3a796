"""`views.iso` writes exactly what `astimezone(LONDON).isoformat()` writes, however
it is given the instant, on both sides of every clock change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from mailroom.clock import LONDON
from mailroom.views import iso

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
)
offsets = st.sampled_from(
    [UTC, LONDON, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)


@given(instants, offsets)
def test_iso_is_the_stdlib_answer(instant: datetime, zone: timezone) -> None:
    shown = instant.astimezone(zone)
    assert iso(shown) == shown.astimezone(LONDON).isoformat()


def test_iso_around_every_uk_clock_change_2020_to_2040() -> None:
    for year in range(2020, 2041):
        for month in (3, 10):
            start = datetime(year, month, 24, tzinfo=UTC)
            for minutes in range(0, 8 * 24 * 60, 29):
                instant = start + timedelta(minutes=minutes, seconds=minutes % 60, microseconds=minutes % 7)
                assert iso(instant) == instant.astimezone(LONDON).isoformat()
