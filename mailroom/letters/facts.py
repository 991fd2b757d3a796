"""What the case record says, for the checks that compare a letter with it.

Kept apart from the checker so that the content bindings (``binding.py``) and the
checker (``check.py``) share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["CaseFacts"]


@dataclass(frozen=True)
class CaseFacts:
    """The case as of the moment a letter is checked (drafting, revising, approval)."""

    stage: int
    response_due: date | None = None
    extension_cap_date: date | None = None
    good_reason_recorded: bool = False
    # The day the letter is checked as issued: its date, and the day promised dates
    # must come after (6.6, 7.3). None: not checked.
    today: date | None = None
    received: date | None = None  # the complaint (stage 1) was received
    acknowledged: date | None = None  # the current stage was acknowledged
    original_due: date | None = None  # the response date the resident was last given
    # Who handled stage 1, as stored on the case when its letters were issued (6.13).
    stage1_handlers: tuple[str, ...] = ()
    # The stored due date of the clock this letter answers (letters/timeliness.py);
    # a letter checked as issued after it (``today``) must apologise for the delay.
    letter_due: date | None = None
    # The landlord's apology as the template prints it ([timeliness] delay_apology).
    delay_apology: str = ""
