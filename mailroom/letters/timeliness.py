"""Is a letter late, and what does it say about it?

A letter answers one of the case's Code clocks: the clock its case event stops
(an acknowledgement stops the acknowledgement clock, a response the response
clock), moves (an extension moves the response clock) or ends (a refusal ends the
clock still running). The letter is late when it is issued after that clock's
stored due date (the ``deadlines`` table, kept by ``deadline_store``): it then
starts with the landlord's apology for the delay (``[timeliness] delay_apology``),
and the checker (``check.py``) refuses it without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mailroom.clock import LONDON
from mailroom.config import Settings
from mailroom.letters.dates import long_date
from mailroom.letters.pack import LetterSpec
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint

__all__ = ["Lateness", "answered_clocks", "apology_text", "lateness"]


@dataclass(frozen=True)
class Lateness:
    due: date | None  # the due date of the clock the letter answers; None: no such clock running
    today: date  # the day the letter is issued (drafted: the day it would be)
    apology: str  # the landlord's apology with the date filled in; "" when not late

    @property
    def late(self) -> bool:
        return self.due is not None and self.today > self.due


def answered_clocks(services: Services, spec: LetterSpec) -> frozenset[str]:
    """The clocks a letter of ``spec`` answers, from the rule pack: those its event
    stops, moves or ends. Empty for a letter that records no event."""
    if spec.records_event is None:
        return frozenset()
    event = spec.records_event.value
    pack = services.rule_pack
    names = {c.name for c in pack.clocks if event in (c.stops, c.extended_by)}
    step = pack.procedure.steps.get(event) if pack.procedure is not None else None
    if step is not None:
        names |= set(step.ends)
    return frozenset(names)


def apology_text(settings: Settings, due: date) -> str:
    """The configured apology with ``{due}`` replaced by the missed date (a plain
    replacement: the text is the landlord's, never a format string)."""
    return settings.timeliness.delay_apology.replace("{due}", long_date(due)).strip()


def lateness(
    services: Services, repo: Repository, complaint: Complaint, spec: LetterSpec, now: datetime
) -> Lateness:
    """Whether a letter of ``spec`` issued at ``now`` is late, by the stored deadline
    of the clock it answers (the earliest still running, if several)."""
    today = now.astimezone(LONDON).date()
    clocks = answered_clocks(services, spec)
    running = [
        row.due
        for row in repo.deadlines_of_case(complaint.id)
        if row.clock in clocks and row.stopped_at is None
    ]
    due = min(running) if running else None
    apology = apology_text(services.settings, due) if due is not None and today > due else ""
    return Lateness(due, today, apology)
