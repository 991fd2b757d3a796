"""Drafts awaiting review: letters still in status "draft" (``letters/drafts.py``).

Each row carries the due date of the Code clock the letter answers, so the most
urgent draft can come first: the clocks that issuing the letter meets, moves or
ends (its type's ``records_event`` in the rule pack: an acknowledgement meets the
acknowledgement clock, an extension moves the response clock, a refusal ends the
stage's clocks). A letter whose issue records nothing (an update on outstanding
actions) answers no clock and has no due date; it sorts after those that do.

Whether the draft passes its check is read from ``letters.check_json`` of the rows
on the page only: the JSON is never parsed, filtered or sorted on in SQL, so a
page costs the same however many drafts there are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, null, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from mailroom.letters.types import LetterType
from mailroom.queues.page import Key, Page, QueueError, fetch_page, ordering
from mailroom.queues.tables import COMPLAINTS, DEADLINES, LETTERS, of_officer, optional, reading
from mailroom.services import Services

DRAFT = "draft"  # letters.drafts.DRAFT, without importing the drafting machinery


@dataclass(frozen=True)
class DraftRow:
    letter_id: int
    complaint_id: str
    letter_type: str  # a LetterType value
    revision: int
    edited: bool  # staff replaced the rendered DOCX with their own
    passed: bool  # the check of the current revision passed
    failing: tuple[str, ...]  # enforced elements the check found missing
    created_at: datetime
    due: date | None  # of the clock the letter answers, while it runs
    due_clock: str | None
    due_paragraph: str | None
    complainant_name: str
    stage: int
    officer: str | None  # None: the team's


def relevant_clocks(services: Services) -> dict[str, tuple[str, ...]]:
    """Letter type -> the clocks its issue meets, moves or ends (module docstring)."""
    from mailroom.letters.pack import letter_pack

    rules = services.rule_pack
    procedure = rules.procedure
    counted = [clock for clock in rules.clocks if not clock.repeatable]
    found: dict[str, tuple[str, ...]] = {}
    for kind, spec in letter_pack(services.settings).letters.items():
        event = spec.records_event.value if spec.records_event is not None else ""
        names = [clock.name for clock in counted if event and event in (clock.stops, clock.extended_by)]
        if procedure is not None and event in procedure.steps:
            names += [name for name in procedure.steps[event].ends if name not in names]
        elif procedure is None and event in ("refused", "withdrawn", "closed"):
            names += [clock.name for clock in counted if clock.name not in names]  # case_events.ENDING
        found[kind.value] = tuple(names)
    return found


_L, _C = LETTERS.c, COMPLAINTS.c


def _due(clocks: Mapping[str, Sequence[str]]) -> ColumnElement[Any]:
    """The earliest due date of the letter's running relevant clocks (NULL: none)."""
    d = DEADLINES.alias("relevant")
    per_type = [
        and_(_L.letter_type == kind, d.c.clock.in_(list(names))) for kind, names in clocks.items() if names
    ]
    if not per_type:
        return null()
    return (
        select(func.min(d.c.due))
        .where(d.c.complaint_id == _L.complaint_id, d.c.stopped_at.is_(None), or_(*per_type))
        .correlate(LETTERS)
        .scalar_subquery()
    )


def drafts_page(
    services: Services,
    *,
    officer: str | None,
    page: int = 1,
    page_size: int = 50,
    letter_type: LetterType | str | None = None,
    sort: str = "due",
    with_total: bool = False,
) -> Page[DraftRow]:
    """Drafts awaiting review. ``sort``: due (soonest first, none last) or created
    (oldest first), or either reversed with "-"."""
    clocks = relevant_clocks(services)
    due = _due(clocks).label("due")
    sorts = {
        "due": (Key(due, nulls_last=True), Key(_L.created_at), Key(_L.id)),
        "created": (Key(_L.created_at), Key(_L.id)),
    }
    query = (
        select(
            _L.id,
            _L.complaint_id,
            _L.letter_type,
            _L.revision,
            _L.edited,
            _L.check_json,
            _L.created_at,
            due,
            _C.complainant_name,
            _C.stage,
            _C.officer,
        )
        .join(COMPLAINTS, _C.id == _L.complaint_id)
        .where(_L.status == DRAFT)
    )
    if officer is not None:
        query = query.where(of_officer(officer))
    if letter_type is not None and letter_type != "":
        query = query.where(_L.letter_type == _letter_type(letter_type))
    query = query.order_by(*ordering(sort, sorts))
    with reading(services) as connection:
        found = fetch_page(
            connection, query, lambda row: row, page=page, page_size=page_size, with_total=with_total
        )
        running = _running_clocks(connection, {row.complaint_id for row in found.rows})
    rows = tuple(_row(row, clocks.get(row.letter_type, ()), running) for row in found.rows)
    return Page(rows, found.number, found.size, found.has_more, found.total)


def _letter_type(value: LetterType | str) -> str:
    try:
        return LetterType(value).value
    except ValueError:
        names = ", ".join(kind.value for kind in LetterType)
        raise QueueError(f"no letter type {value!r}: one of {names}") from None


def _running_clocks(connection: Connection, complaint_ids: set[str]) -> dict[str, list[Any]]:
    """The running clocks of the page's cases, to name the one each draft answers."""
    if not complaint_ids:
        return {}
    d = DEADLINES.c
    query = (
        select(d.complaint_id, d.clock, d.paragraph, d.due)
        .where(d.complaint_id.in_(sorted(complaint_ids)), d.stopped_at.is_(None))
        .order_by(d.due, d.clock)
    )
    found: dict[str, list[Any]] = {}
    for row in connection.execute(query):
        found.setdefault(row.complaint_id, []).append(row)
    return found


def _row(row: Row[Any], clocks: Sequence[str], running: Mapping[str, list[Any]]) -> DraftRow:
    check = json.loads(row.check_json or "{}")
    answered = next((d for d in running.get(row.complaint_id, []) if d.clock in clocks), None)
    return DraftRow(
        letter_id=row.id,
        complaint_id=row.complaint_id,
        letter_type=row.letter_type,
        revision=row.revision,
        edited=bool(row.edited),
        passed=bool(check.get("passed")),
        failing=tuple(
            str(e.get("id"))
            for e in check.get("elements", [])
            if e.get("status") == "fail" and e.get("enforced")
        ),
        created_at=row.created_at,
        due=answered.due if answered is not None else None,
        due_clock=answered.clock if answered is not None else None,
        due_paragraph=answered.paragraph if answered is not None else None,
        complainant_name=row.complainant_name,
        stage=row.stage,
        officer=optional(row.officer),
    )
