"""Dates as the bundle prints them: UK (London) time, "4 Mar 2026", whatever the
process locale (``strftime("%b")`` would follow it)."""

from __future__ import annotations

from datetime import UTC, datetime

from mailroom.clock import LONDON

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _london(instant: datetime) -> datetime:
    # The model's instants are aware UTC; a naive one is read as UTC, not as local time.
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(LONDON)


def london_date(instant: datetime | None) -> str:
    """ "4 Mar 2026", or "" for no date."""
    if instant is None:
        return ""
    local = _london(instant)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}"


def london_time(instant: datetime) -> str:
    """ "4 Mar 2026, 14:05" (UK time)."""
    local = _london(instant)
    return f"{london_date(instant)}, {local.hour:02d}:{local.minute:02d}"


def pdf_date(instant: datetime) -> str:
    """The PDF date string of an instant, in UTC: "D:20260304140500Z"."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
