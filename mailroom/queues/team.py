"""The team view for managers: per officer, their open cases and how many of their
running Code clocks are overdue, due today and due soon (``buckets.py``).

Clock counts count clocks, as the deadlines queue lists them, so a number here is
the number of rows its link shows; a case with two lapsed clocks counts twice in
"overdue" and once in "open cases". Staff members with no open case are listed too
(with zeros): a manager assigning work needs to see who has room.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, distinct, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from mailroom.queues.buckets import Bucket, due_window
from mailroom.queues.tables import COMPLAINTS, DEADLINES, OPEN, STAFF, reading
from mailroom.services import Services


@dataclass(frozen=True)
class TeamRow:
    officer: str | None  # None: cases no officer is assigned to (the team's)
    name: str  # from the staff list; "" when not on it
    open_cases: int
    overdue: int
    due_today: int
    due_soon: int


def team_view(services: Services) -> list[TeamRow]:
    """Every officer with open cases or on the staff list, by address; the team's unassigned
    cases last. One grouped query over open cases and their running clocks."""
    window = due_window(services)
    c, d = COMPLAINTS.c, DEADLINES.c

    def clocks_in(bucket: Bucket) -> ColumnElement[int]:
        return func.count(case((window.clause(bucket), d.id)))

    query = (
        select(
            c.officer,
            func.count(distinct(c.id)),
            clocks_in(Bucket.OVERDUE),
            clocks_in(Bucket.TODAY),
            clocks_in(Bucket.SOON),
        )
        .select_from(COMPLAINTS.outerjoin(DEADLINES, and_(d.complaint_id == c.id, d.stopped_at.is_(None))))
        .where(c.status == OPEN)
        .group_by(c.officer)
    )
    staff = select(STAFF.c.email, STAFF.c.name).where(STAFF.c.active == true())
    with reading(services) as connection:
        counted = {str(row[0]): tuple(int(n) for n in row[1:]) for row in connection.execute(query)}
        names = {str(email): str(name) for email, name in connection.execute(staff)}
    officers = sorted(set(counted) | set(names), key=lambda address: (address == "", address))
    rows = []
    for officer in officers:
        open_cases, overdue, today, soon = counted.get(officer, (0, 0, 0, 0))
        rows.append(TeamRow(officer or None, names.get(officer, ""), open_cases, overdue, today, soon))
    return rows
