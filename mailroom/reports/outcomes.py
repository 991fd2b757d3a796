"""The outcome of each stage of a complaint, and its remedies, from what the issued
letters told the resident (``case_record``, ``letters/record.py``) and the case's steps
(docs/reports.md, "Outcomes" and "Remedies and compensation").

Outcome of a stage, first rule that applies:

1. the decisions of the stage's response (the latest letter at that stage recording
   decisions): every decision "upheld" -> upheld; every one "not upheld" -> not
   upheld; any "partly upheld", or a mix -> partly upheld;
2. the case was refused at that stage (a live ``refused`` step: stage 1;
   ``escalation_refused``: stage 2) -> refused, with the exclusion the refusal letter
   relied on ("" when the refusal was recorded without a letter);
3. the case was withdrawn at that stage (a live ``withdrawn`` step: stage 2 once a
   live ``escalation_requested`` came before it, else stage 1) -> withdrawn.

A stage with none of these (not yet answered, closed without a response, or a
response whose record was erased by retention) has no outcome. Corrected steps and
their corrections do not count.

Compensation: every amount in pounds written in a remedy's "what" ("Pay you £150
compensation", "£1,250.50"), added up, in pence. An amount is "£" (and at most one
space) then whole pounds, plain ("1250") or with commas between groups of three
("1,250"), optionally "." and exactly two digits of pence, and then not a letter, digit
or further "."/"," digit. Anything else is not read as an amount and adds nothing:
"£-5", "£1e9", "£ 12,34", "£12.5", "£150k", "150 pounds", amounts of more than seven
digits of pounds. A remedy written "£250, made up of £150 and £100" counts £500: write
each payment once.

Pure: rows in (``case_record`` items, events, or anything with their attributes),
figures out.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# The decisions a response records on each point (letters/types.py DECISION_VALUES).
UPHELD, PARTLY_UPHELD, NOT_UPHELD = "upheld", "partly upheld", "not upheld"
_DECISIONS = {
    UPHELD: UPHELD,
    NOT_UPHELD: NOT_UPHELD,
    PARTLY_UPHELD: PARTLY_UPHELD,
    "partially upheld": PARTLY_UPHELD,
}
REFUSED_AT = {"refused": 1, "escalation_refused": 2}  # the step -> the stage refused
WITHDRAWN, ESCALATION_REQUESTED, CORRECTED = "withdrawn", "escalation_requested", "event_corrected"
MAX_AMOUNT_TEXT = 10_000  # characters of a remedy read for amounts: bounded time
MAX_POUND_DIGITS = 7  # £9,999,999.99 at most: anything longer is not an amount anyone offered


class OutcomeKind(enum.StrEnum):
    UPHELD = UPHELD
    PARTLY_UPHELD = PARTLY_UPHELD
    NOT_UPHELD = NOT_UPHELD
    WITHDRAWN = WITHDRAWN
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    exclusion: str = ""  # refused: the exclusion id relied on ("" when no letter recorded one)

    @property
    def label(self) -> str:
        """ "upheld", or "refused (over-12-months)"."""
        return f"{self.kind.value} ({self.exclusion})" if self.exclusion else self.kind.value


class RecordItem(Protocol):
    """What ``stage_outcomes`` reads of a ``case_record`` row."""

    @property
    def id(self) -> int: ...
    @property
    def letter_id(self) -> int: ...
    @property
    def stage(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def data_json(self) -> str: ...


class CaseEvent(Protocol):
    """What ``stage_outcomes`` reads of an ``events`` row."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> str: ...


# -- outcomes ------------------------------------------------------------------------------------


def stage_outcomes(record_items: Iterable[RecordItem], events: Iterable[CaseEvent]) -> dict[int, Outcome]:
    """The outcome of each stage of one case that has one, by stage (see the module)."""
    items = sorted(record_items, key=lambda item: item.id)
    steps = _live(events)
    found: dict[int, Outcome] = {}
    for stage, decisions in _decisions_by_stage(items).items():
        found[stage] = Outcome(_verdict(decisions))
    for event in steps:
        refused_at = REFUSED_AT.get(event.kind)
        if refused_at is not None and refused_at not in found:
            found[refused_at] = Outcome(OutcomeKind.REFUSED, _exclusion(items, refused_at))
    escalated = False
    for event in steps:
        if event.kind == ESCALATION_REQUESTED:
            escalated = True
        elif event.kind == WITHDRAWN:
            found.setdefault(2 if escalated else 1, Outcome(OutcomeKind.WITHDRAWN))
    return dict(sorted(found.items()))


def _verdict(decisions: list[str]) -> OutcomeKind:
    if all(decision == UPHELD for decision in decisions):
        return OutcomeKind.UPHELD
    if all(decision == NOT_UPHELD for decision in decisions):
        return OutcomeKind.NOT_UPHELD
    return OutcomeKind.PARTLY_UPHELD


def _decisions_by_stage(items: list[RecordItem]) -> dict[int, list[str]]:
    """Each stage's decisions, from the latest letter at that stage that recorded any
    (an earlier response whose step was corrected, then issued again, does not count)."""
    letters: dict[int, int] = {}
    for item in items:
        if item.kind == "decision":
            letters[item.stage] = max(letters.get(item.stage, item.letter_id), item.letter_id)
    found: dict[int, list[str]] = {}
    for item in items:
        if item.kind == "decision" and letters.get(item.stage) == item.letter_id:
            decision = _decision(item)
            if decision:
                found.setdefault(item.stage, []).append(decision)
    return found


def _decision(item: RecordItem) -> str:
    """The decision an item records: its ``decision`` field, else the text after the
    last ": " (the item's text is "point: decision"); "" when neither is one."""
    value = _data(item).get("decision")
    if not isinstance(value, str):
        value = item.text.rpartition(": ")[2]
    return _DECISIONS.get(" ".join(value.split()).casefold(), "")


def _exclusion(items: list[RecordItem], stage: int) -> str:
    """The exclusion id of the latest refusal letter at ``stage``; "" when none."""
    for item in reversed(items):
        if item.kind == "exclusion" and item.stage == stage:
            value = _data(item).get("exclusion")
            return value if isinstance(value, str) else item.text
    return ""


def _live(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """The events that count, in order: no corrections, nor the steps they correct."""
    events = sorted(events, key=lambda event: (event.at, event.id))
    corrected = {_ref(event) for event in events if event.kind == CORRECTED}
    return [event for event in events if event.kind != CORRECTED and event.id not in corrected]


def _ref(event: CaseEvent) -> int | None:
    try:
        return int(json.loads(event.payload or "{}")["ref"])
    except (ValueError, KeyError, TypeError):
        return None


def _data(item: RecordItem) -> Mapping[str, Any]:
    try:
        data = json.loads(item.data_json or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- remedies and compensation ---------------------------------------------------------------------

# A candidate: "£", at most one space, digits and commas, maybe "." and digits. What
# follows is checked in ``amounts_in`` (a regex look-ahead could not say why).
_CANDIDATE = re.compile(r"£ ?([0-9][0-9,]*)(?:\.([0-9]+))?")
_GROUPED = re.compile(rf"[0-9]{{1,{MAX_POUND_DIGITS}}}|[0-9]{{1,3}}(?:,[0-9]{{3}}){{1,2}}")


def amounts_in(text: str) -> list[int]:
    """The amounts in pounds written in ``text``, in pence, in order (rule in the module)."""
    text = text[:MAX_AMOUNT_TEXT]
    found: list[int] = []
    for match in _CANDIDATE.finditer(text):
        pounds, pence = match.group(1), match.group(2)
        end = match.end()
        if pounds.endswith(","):  # "£150, £200": the comma is the sentence's
            trimmed = pounds.rstrip(",")
            end -= len(pounds) - len(trimmed)
            pounds = trimmed
            if pence is not None:  # "£150,.50" is no amount
                continue
        if not _GROUPED.fullmatch(pounds) or (pence is not None and len(pence) != 2):
            continue
        after = text[end : end + 2]
        if after[:1].isalnum() or after[:1] == "_" or (after[:1] in ".," and after[1:2].isdigit()):
            continue  # "£1e9", "£150k", "£1.5.0": not an amount
        found.append(int(pounds.replace(",", "")) * 100 + int(pence or 0))
    return found


def parse_pounds(text: str) -> int:
    """A sum of money a person typed ("250", "250.00", "£1,250.50") in pence; ValueError
    for anything else (negative, exponent, more than two decimals, text)."""
    given = text.strip()
    amounts = amounts_in(given if given.startswith("£") else f"£{given}")
    written = given.removeprefix("£").strip()
    if len(amounts) != 1 or not re.fullmatch(r"[0-9,]+(?:\.[0-9]{2})?", written):
        raise ValueError(f"not a sum of money: {text[:40]!r} (use 250 or 250.00)")
    return amounts[0]


def remedy_items(record_items: Iterable[RecordItem]) -> list[RecordItem]:
    """The remedies the case's responses offered (an update letter's restatements,
    ``remedy_update``, are not offered again)."""
    return [item for item in record_items if item.kind == "remedy"]


def remedy_count(record_items: Iterable[RecordItem]) -> int:
    return len(remedy_items(record_items))


def compensation_pence(record_items: Iterable[RecordItem]) -> int:
    """The money the case's remedies offered, in pence: every amount in each remedy's
    "what" (its text when the field is gone), added up."""
    return sum(_remedy_pence(item) for item in remedy_items(record_items))


def _remedy_pence(item: RecordItem) -> int:
    data = _data(item)
    kept = data.get(AMOUNT_KEPT)
    if isinstance(kept, int) and not isinstance(kept, bool):
        return kept  # erased by retention: only the amount was kept
    what = data.get("what")
    return sum(amounts_in(what if isinstance(what, str) else item.text))


# What retention keeps of an erased remedy (docs/records.md, "What erasure keeps").
AMOUNT_KEPT = "amount_pence"


def figures_facts(item: RecordItem) -> dict[str, Any]:
    """What the reports read from one case record item, and nothing that names anyone:
    a decision's verdict, a refusal's exclusion id, a remedy's amount. Retention keeps
    exactly this when it erases the item, so the figures stay the same."""
    if item.kind == "decision":
        decision = _decision(item)
        return {"decision": decision} if decision else {}
    if item.kind == "exclusion":
        value = _data(item).get("exclusion")
        return {"exclusion": value if isinstance(value, str) else item.text}
    if item.kind == "remedy":
        return {AMOUNT_KEPT: _remedy_pence(item)}
    return {}
