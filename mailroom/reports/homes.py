"""The number of homes per financial year (docs/reports.md, "Homes"): the denominator of
TSM CH01, complaints received per 1,000 homes. Staff record the figure the landlord
reports to the Regulator for the year (``mailroom report homes``); recording a year
again replaces its figure, and each recording is on the audit trail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from mailroom.errors import UserError

if TYPE_CHECKING:
    from mailroom.accounts.audit import Actor
    from mailroom.services import Services

MAX_HOMES = 10_000_000  # more than any landlord owns: a typing slip
AUDIT_ACTION = "report.homes"
_YEAR = re.compile(r"(20[0-9]{2})-([0-9]{2})")


class HomesError(UserError):
    """A year or a number of homes that cannot be recorded; the message is one line."""


@dataclass(frozen=True)
class HomesRecord:
    year: str  # "2026-27"
    homes: int
    recorded_at: datetime
    recorded_by: str


def financial_year(text: str) -> str:
    """A financial year as written in the reports, "2026-27" (April 2026 to March 2027)."""
    given = text.strip()
    match = _YEAR.fullmatch(given)
    if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        shown = given[:20]
        raise HomesError(f"--year: {shown!r} is not a financial year like 2026-27")
    return given


def set_homes(services: Services, year: str, homes: int, by: Actor) -> int | None:
    """Record ``homes`` for ``year``; returns the figure it replaces (None: the first)."""
    from mailroom.accounts.audit import record
    from mailroom.store.schema import HomesCount

    year = financial_year(year)
    if not 1 <= homes <= MAX_HOMES:
        raise HomesError(f"--homes: {homes} is not a number of homes (1 to {MAX_HOMES:,})")
    now = services.clock.now()
    with services.store.transaction() as repo:
        stored = repo.session.get(HomesCount, year, with_for_update=True)
        previous = stored.homes if stored is not None else None
        if stored is None:
            repo.session.add(HomesCount(year=year, homes=homes, recorded_at=now, recorded_by=by.email[:320]))
        else:
            stored.homes, stored.recorded_at, stored.recorded_by = homes, now, by.email[:320]
        was = f" (was {previous:,})" if previous is not None else ""
        record(
            repo.session,
            now,
            by,
            AUDIT_ACTION,
            target=f"homes {year}",
            detail=f"{year}: {homes:,} homes{was}",
        )
    return previous


def homes_for(services: Services, year: str) -> int | None:
    """The number of homes recorded for ``year`` ("2026-27"); None when none is."""
    from mailroom.store.schema import HomesCount

    year = financial_year(year)
    with services.store.transaction() as repo:
        stored = repo.session.get(HomesCount, year)
        return stored.homes if stored is not None else None


def recorded_homes(services: Services) -> list[HomesRecord]:
    """Every year's figure, oldest year first."""
    from sqlalchemy import select

    from mailroom.store.schema import HomesCount

    with services.store.transaction() as repo:
        rows = repo.session.scalars(select(HomesCount).order_by(HomesCount.year))
        return [HomesRecord(row.year, row.homes, row.recorded_at, row.recorded_by) for row in rows]
