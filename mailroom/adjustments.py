"""Reasonable adjustments recorded on a case (Code 3.1, 5.10): the format the
complainant's letters are issued in (standard or large print) and a note of their
interpreting or translation needs.

A landlord must make the adjustments a resident needs and keep a record of them
(5.10), so a change is never silent: it is an ``adjustment_recorded`` event on the
case's timeline naming the old and the new value and who recorded it, written in the
same transaction as the change (and so on the audit chain). ``cases contact`` and the
desk's case page both call ``record_adjustment``; ``cases show``, the case page and
the evidence pack show what is recorded now, the timeline and the pack's chronology
when it changed.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailroom.errors import UserError

if TYPE_CHECKING:
    from mailroom.services import Services

__all__ = [
    "ADJUSTMENT_EVENT",
    "FORMAT_LABELS",
    "LETTER_FORMATS",
    "Adjustment",
    "AdjustmentError",
    "adjustment_lines",
    "record_adjustment",
]

ADJUSTMENT_EVENT = "adjustment_recorded"
LETTER_FORMATS = ("standard", "large-print")
FORMAT_LABELS = {"standard": "standard print", "large-print": "large print"}
MAX_NOTE = 500  # characters: a note, not a document (file one with `cases file`)


class AdjustmentError(UserError):
    pass


@dataclass(frozen=True)
class Adjustment:
    """What to change; None leaves a value as it is."""

    letter_format: str | None = None  # "standard" or "large-print"
    language_note: str | None = None  # "" clears it


def clean_note(text: str) -> str:
    """One line: control and format characters go, whitespace runs become one space."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return " ".join(kept.split())


def _check(change: Adjustment) -> Adjustment:
    fmt = change.letter_format
    if fmt is not None:
        fmt = fmt.strip().lower().replace("_", "-").replace(" ", "-")
        if fmt not in LETTER_FORMATS:
            raise AdjustmentError(
                f"--format: {change.letter_format!r} is not one of {', '.join(LETTER_FORMATS)}"
            )
    note = change.language_note
    if note is not None:
        note = clean_note(note)
        if len(note) > MAX_NOTE:
            raise AdjustmentError(
                f"--language: at most {MAX_NOTE} characters (file a longer note as a document)"
            )
    return Adjustment(fmt, note)


def record_adjustment(services: Services, complaint_id: str, change: Adjustment, by: str = "") -> list[str]:
    """Apply ``change`` to the case and record it; returns the names of the values that
    changed ("letter_format", "language_note"): none, and nothing is recorded."""
    change = _check(change)
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise AdjustmentError(f"no complaint {complaint_id}")
        before = {
            "letter_format": complaint.letter_format or "standard",
            "language_note": complaint.language_note,
        }
        after = dict(before)
        if change.letter_format is not None:
            after["letter_format"] = change.letter_format
        if change.language_note is not None:
            after["language_note"] = change.language_note
        changed = [key for key in after if after[key] != before[key]]
        if not changed:
            return []
        complaint.letter_format, complaint.language_note = after["letter_format"], after["language_note"]
        parts = []
        if "letter_format" in changed:
            parts.append(
                f"letters in {FORMAT_LABELS[after['letter_format']]} "
                f"(was {FORMAT_LABELS.get(before['letter_format'], before['letter_format'])})"
            )
        if "language_note" in changed:
            parts.append(
                f"interpreting or translation: {after['language_note']!r}"
                if after["language_note"]
                else f"interpreting or translation note cleared (was {before['language_note']!r})"
            )
        who = f" by {by}" if by else ""
        payload = json.dumps(
            {"before": before, "after": after, "by": by, "code": ["3.1", "5.10"]}, ensure_ascii=False
        )
        detail = "reasonable adjustment (Code 3.1, 5.10): " + "; ".join(parts) + who
        repo.add_event_returning_id(now, ADJUSTMENT_EVENT, detail, complaint_id, payload)
        return changed


def adjustment_lines(contact: dict[str, object]) -> list[tuple[str, str]]:
    """(label, value) lines for what a case records now, from ``views.complaint_detail``'s
    "contact": none when letters are standard and there is no language note."""
    lines = []
    fmt = str(contact.get("letter_format") or "standard")
    if fmt != "standard":
        lines.append(("Letter format", FORMAT_LABELS.get(fmt, fmt)))
    note = str(contact.get("language_note") or "")
    if note:
        lines.append(("Interpreting or translation", note))
    return lines
