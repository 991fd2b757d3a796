"""The full record (5.12): what an issued letter told the resident, kept on the case.

When a letter is issued its structured content is stored item by item
(``case_record``): the complaint definition's points, the decision on each, who
handled each stage (6.13 compares them), the exclusion relied on, remedies,
outstanding actions, adjustments (5.10) and extension reasons. Remedies and
outstanding actions in an issued response start their dated clocks there and then
(``remedy_promised`` / ``action_promised``, 6.6 and 7.3), so nobody types them
again. All of it in the approval's transaction: nothing is kept if issuing fails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from mailroom.case_events import ClockEvent, EventDetails, record_event_in
from mailroom.letters.dates import find_dates
from mailroom.letters.types import LetterType
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import CaseRecordItem, Letter

__all__ = ["PROMISING", "stage1_handlers", "store_issued"]

# Responses promise what they list: each remedy and outstanding action starts a clock.
PROMISING = frozenset({LetterType.STAGE1_RESPONSE, LetterType.STAGE2_RESPONSE})
_PROMISES = (
    ("remedies", "remedy", ClockEvent.REMEDY_PROMISED),
    ("outstanding_actions", "action", ClockEvent.ACTION_PROMISED),
)


def _day(text: str | None) -> date | None:
    """A date as staff gave it: ISO ("2026-12-18") or written ("Friday 18 December 2026")."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        found = find_dates(text)
        return found[0][0] if found else None


def stage1_handlers(repo: Repository, complaint_id: str) -> tuple[str, ...]:
    """Who handled stage 1, as the case's issued letters recorded it."""
    items = repo.record_of_case(complaint_id, "handler")
    return tuple(dict.fromkeys(item.text for item in items if item.stage == 1))


def store_issued(
    services: Services,
    repo: Repository,
    letter: Letter,
    stage: int,
    fields: Mapping[str, Any],
    now: datetime,
) -> list[CaseRecordItem]:
    """Record what ``letter`` (being issued at ``now``) told the resident; start the
    clocks of what a response promises. ``fields``: the draft's fields (dates ISO)."""
    kind = LetterType(letter.letter_type)
    items: list[CaseRecordItem] = []

    def add(
        what: str,
        text: str,
        data: Any,
        *,
        at_stage: int = stage,
        due: str | None = None,
        event_id: int | None = None,
    ) -> None:
        items.append(
            CaseRecordItem(
                complaint_id=letter.complaint_id,
                letter_id=letter.id,
                stage=at_stage,
                kind=what,
                position=1 + sum(1 for item in items if item.kind == what),
                text=text,
                data_json=json.dumps(data, ensure_ascii=False, sort_keys=True),
                due=_day(due),
                event_id=event_id,
                recorded_at=now,
            )
        )

    for point in fields.get("points") or []:
        add("point", point["summary"], point)
    for decision in fields.get("decisions") or []:
        add("decision", f"{decision['point']}: {decision['decision']}", decision)
    if fields.get("handler_name"):
        add("handler", fields["handler_name"], {"field": "handler_name"})
    if fields.get("stage1_handler_name"):
        add("handler", fields["stage1_handler_name"], {"field": "stage1_handler_name"}, at_stage=1)
    if fields.get("exclusion"):
        keys = ("exclusion", "refusal_reason", "issue_date", "discretion_considered")
        add("exclusion", fields["exclusion"], {key: fields[key] for key in keys if key in fields})
    if fields.get("extension_reason"):
        keys = ("extension_reason", "new_date", "good_reason", "update_interval")
        add(
            "extension",
            fields["extension_reason"],
            {key: fields[key] for key in keys if key in fields},
            due=fields.get("new_date"),
        )
    if fields.get("adjustments"):
        add("adjustment", fields["adjustments"], {"adjustments": fields["adjustments"]})
    for name, what, event in _PROMISES:
        for item in fields.get(name) or []:
            event_id = None
            if kind in PROMISING:
                details = EventDetails(
                    note=f"letter {letter.id}", until=_day(item["by_when"]), what=item["what"]
                )
                event_id = record_event_in(services, repo, letter.complaint_id, event, now, details=details)
            # An update letter restates promises already made: recorded, not promised again.
            add(
                what if kind in PROMISING else f"{what}_update",
                item["what"],
                item,
                due=item["by_when"],
                event_id=event_id,
            )
    repo.add_record_items(items)
    return items
