"""Content binding: the letter says what *this* case says, not just stock wording.

The rule pack's elements name bindings (``binds = ["points"]``); each compares the
letter's text with the draft's fields, the case facts and the pack's Ombudsman
details, and says in plain English what the resident would miss and how to fix it.
Stock wording alone never satisfies a binding: a complaint definition heading
without the resident's points fails ``points``, "The reasons for our decision:"
with nothing after it fails ``decisions``.

Field values are compared by their words (case, punctuation and spacing do not
matter), dates by the date they name (however written), phone numbers by their
digits. Dates near a cue ("acknowledged on ...") must be the case's date; a date
promised to the resident must still be to come on the day the letter is issued.

Without the draft's fields (``letters check`` without ``--fields``) or the case
(without ``--case``), a binding that needs them is "not checked" (skip).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from mailroom.letters.contacts import (
    known_phones,
    phone_key,
    phone_numbers,
    post_given,
    web_addresses,
    web_key,
)
from mailroom.letters.dates import find_dates, months_before, short_date
from mailroom.letters.docx_text import DocxText
from mailroom.letters.escalation_wording import conditional_escalation, sentences
from mailroom.letters.facts import CaseFacts
from mailroom.letters.handlers import same_as_any

__all__ = ["BINDINGS", "Bound", "LetterView", "bind"]

Outcome = Literal["pass", "fail", "skip"]
REDRAFT = "draft the letter again from its fields, or put the text back as drafted"


@dataclass(frozen=True)
class Bound:
    status: Outcome
    reason: str


def _pass(reason: str) -> Bound:
    return Bound("pass", reason)


def _fail(reason: str) -> Bound:
    return Bound("fail", reason)


def _skip(reason: str) -> Bound:
    return Bound("skip", reason)


def _key(text: str) -> str:
    """Words only: case, punctuation and spacing do not matter."""
    return " ".join(re.sub(r"[^0-9a-z£$%]+", " ", str(text).casefold()).split())


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return f"'{text if len(text) <= limit else text[: limit - 1] + '…'}'"


@dataclass
class LetterView:
    """What every binding reads: the letter and what it is compared with."""

    doc: DocxText
    masked: str  # doc.text with the case's own text blanked, same offsets
    fields: Mapping[str, Any] | None  # the draft's fields as the template got them
    facts: CaseFacts | None
    ombudsman: Mapping[str, str]
    landlord: Mapping[str, str]
    data: Sequence[str]
    _key_text: str = field(default="", init=False)

    @property
    def key_text(self) -> str:
        if not self._key_text:
            self._key_text = _key(self.doc.text)
        return self._key_text

    def printed(self, value: Any) -> bool:
        """Every line of ``value`` is in the letter (by its words)."""
        lines = [_key(line) for line in str(value or "").splitlines()]
        lines = [line for line in lines if line]
        return bool(lines) and all(line in self.key_text for line in lines)

    def masked_paragraphs(self) -> list[str]:
        return [
            self.masked[s : s + len(p)] for s, p in zip(self.doc.starts, self.doc.paragraphs, strict=True)
        ]

    def items(self, name: str) -> list[Mapping[str, Any]] | None:
        if self.fields is None:
            return None
        value = self.fields.get(name) or []
        return [item for item in value if isinstance(item, Mapping)]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    found = find_dates(str(value or ""))
    return found[0][0] if found else None


_NO_FIELDS = "not checked: no draft fields (give --fields)"
_NO_CASE = "not checked: no case (give --case)"


# -- the case's own words ----------------------------------------------------------------


def _points(view: LetterView) -> Bound:
    points = view.items("points")
    if points is None:
        return _skip(_NO_FIELDS)
    for number, point in enumerate(points, 1):
        summary, outcome = point.get("summary", ""), point.get("outcome_sought", "")
        if not view.printed(summary):
            return _fail(
                f"point {number} of the complaint definition, {_quote(summary)}, is not in the letter: the "
                f"resident would not see what we understood their complaint to be. Fix: {REDRAFT}"
            )
        if not view.printed(outcome):
            return _fail(
                f"the outcome sought for point {number}, {_quote(outcome)}, is not in the letter: the "
                f"resident would not see what we understood they want. Fix: {REDRAFT}"
            )
    return _pass(f"all {len(points)} point(s) and outcomes sought are in the letter")


_EMPTY_LABEL = re.compile(
    r"^(?:the )?(?:reasons? for (?:our|this|the) decision|our decision|why we (?:have )?decided)\s*:?\s*$",
    re.IGNORECASE,
)
_DECISION_WORDS = {
    "upheld": re.compile(r"(?<!not )(?<!partly )(?<!partially )\bupheld\b"),
    "not upheld": re.compile(r"\bnot upheld\b"),
    "partly upheld": re.compile(r"\b(?:partly|partially) upheld\b"),
}


def _decisions(view: LetterView) -> Bound:
    empty = next((p for p in view.doc.paragraphs if _EMPTY_LABEL.match(p)), None)
    if empty is not None:
        return _fail(
            f"{_quote(empty)} has nothing after it: the resident would not be told why we decided as "
            f"we did. Fix: {REDRAFT}"
        )
    decisions = view.items("decisions")
    if decisions is None:
        return _skip(_NO_FIELDS + "; no empty reasons found")
    points = [_key(d.get("point", "")) for d in decisions]
    for number, decision in enumerate(decisions, 1):
        problem = _decision_problem(view, number, decision, points)
        if problem:
            return _fail(problem)
    return _pass(f"all {len(decisions)} decision(s) are in the letter with their reasons")


def _decision_problem(view: LetterView, number: int, decision: Mapping[str, Any], points: list[str]) -> str:
    point, reasons = str(decision.get("point", "")), str(decision.get("reasons", ""))
    which = f"the decision on point {number} ({_quote(point)})"
    if not _key(reasons):
        return f"{which} has no reasons: the resident would not know why. Fix: draft again with its reasons"
    text, wanted = view.key_text, _key(point)
    starts = [m.start() for m in re.finditer(re.escape(wanted), text)] if wanted else []
    if not starts:
        return f"{which} is not in the letter: the resident would get no answer on it. Fix: {REDRAFT}"
    value = str(decision.get("decision", "")).casefold()
    word = _DECISION_WORDS.get(value, re.compile(re.escape(_key(value))))
    lines = [_key(line) for line in reasons.splitlines() if _key(line)]
    problem = ""
    for start in starts:
        later = [text.find(p, start + len(wanted)) for p in points if p and p != wanted]
        end = min([at for at in later if at > start] or [len(text)])
        span = text[start:end]
        if not word.search(span):
            problem = (
                f"{which} does not say it is {value}: the resident would not know our decision. "
                f"Fix: {REDRAFT}"
            )
        elif not all(line in span for line in lines):
            problem = (
                f"the reasons for {which} are not in the letter: the resident would not know why we "
                f"decided as we did. Fix: {REDRAFT}"
            )
        else:
            return ""
    return problem


def _text_field(name: str, what: str, miss: str) -> Callable[[LetterView], Bound]:
    def check(view: LetterView) -> Bound:
        if view.fields is None:
            return _skip(_NO_FIELDS)
        value = view.fields.get(name)
        if not value:
            return _fail(f"the draft has no {what}: {miss}. Fix: draft again with --field {name}=...")
        if not view.printed(value):
            return _fail(f"the {what} is not in the letter: {miss}. Fix: {REDRAFT}")
        return _pass(f"the {what} is in the letter")

    return check


# -- dates -------------------------------------------------------------------------------------

_CUES = {
    "received_date": r"\b(?:received|reached us|contact(?:ed|ing) us|complained to us)\b",
    "acknowledged_date": r"\backnowledged\b",
    "original_due": r"\b(?:said|told you|promised|were due|was due|due to)\b",
    "new_date": r"\b(?:now|instead|new date|revised date)\b",
    "issue_date": r"\b(?:happened|occurred|started|became aware|aware of it)\b",
    "escalation_date": r"\b(?:ask(?:ed|ing)|request\w*|contacted)\b",
    "next_update": r"\bnext update\b",
}
_WHAT = {
    "received_date": "when we received the complaint",
    "acknowledged_date": "when we acknowledged the complaint",
    "original_due": "the date we had promised to respond by",
    "new_date": "the new date we will respond by",
    "issue_date": "when the issue happened or the resident became aware of it",
    "escalation_date": "when the resident asked for stage 2",
    "next_update": "when the next update will come",
}
_FUTURE = frozenset({"new_date", "next_update"})  # promises: still to come when issued


def _expected(view: LetterView, name: str) -> tuple[date | None, str]:
    """The date ``name`` must be, and why it is not known ("" when it is)."""
    facts = view.facts
    from_case = {
        "received_date": "received",
        "acknowledged_date": "acknowledged",
        "original_due": "original_due",
    }
    if name in from_case:
        if facts is None:
            return None, _NO_CASE
        day = getattr(facts, from_case[name])
        return day, "" if day else "not checked: the case has no such date yet"
    if view.fields is None:
        return None, _NO_FIELDS
    day = _as_date(view.fields.get(name))
    return day, "" if day else f"does not apply: no {name} in the draft"


def _cued_dates(view: LetterView, cue: re.Pattern[str]) -> list[date]:
    """The date just after each cue, in the same sentence, outside the case's own text."""
    found = []
    for sentence in sentences(view.masked_paragraphs()):
        dates = find_dates(sentence)
        for m in cue.finditer(sentence):
            after = [d for d, start, _ in dates if m.end() <= start <= m.end() + 120]
            if after:
                found.append(after[0])
    return found


def _date_binding(name: str) -> Callable[[LetterView], Bound]:
    cue = re.compile(_CUES[name], re.IGNORECASE)
    what = _WHAT[name]

    def check(view: LetterView) -> Bound:
        expected, why = _expected(view, name)
        if expected is None:
            return _skip(why)
        stated = _cued_dates(view, cue)
        wrong = [d for d in stated if d != expected]
        if wrong:
            return _fail(
                f"the letter gives {short_date(wrong[0])} as {what}, but it is {short_date(expected)}: the "
                f"resident would be given the wrong date. Fix: {REDRAFT}"
            )
        if expected not in stated:
            return _fail(
                f"the letter does not say {what} ({short_date(expected)}): the resident would not know it. "
                f"Fix: {REDRAFT}"
            )
        today = view.facts.today if view.facts else None
        if name in _FUTURE and today is not None and expected <= today:
            return _fail(
                f"{what}, {short_date(expected)}, is not after today ({short_date(today)}): a promise must "
                "be for a date still to come. Fix: draft again with a later date"
            )
        return _pass(f"states {what}: {short_date(expected)}")

    return check


_DATE_LABEL = re.compile(
    r"^(?:date[d]?\s*:?\s*)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?P<rest>.*)$", re.IGNORECASE
)


def _letter_date(view: LetterView) -> Bound:
    today = view.facts.today if view.facts else None
    if today is None:
        return _skip(_NO_CASE)
    dated = []
    for paragraph in view.doc.paragraphs:
        match = _DATE_LABEL.match(paragraph)
        rest = match.group("rest").strip(" .,") if match else ""
        found = find_dates(rest) if rest else []
        if len(found) == 1 and found[0][1] == 0 and found[0][2] >= len(rest) - 1:
            dated.append(found[0][0])
    wrong = [d for d in dated if d != today]
    if wrong:
        return _fail(
            f"the letter is dated {short_date(wrong[0])} but is issued on {short_date(today)}: the date "
            "shows the resident (and the Ombudsman) when it was sent. Fix: date it the day it is issued "
            "(an unedited draft is re-dated on approval; an edited one needs the date changed and replacing)"
        )
    if not dated:
        return _fail(
            f"the letter has no date line: the resident could not tell when it was sent. Fix: put the date "
            f"({short_date(today)}) on a line of its own, as the template does"
        )
    return _pass(f"dated {short_date(today)}")


def _promised(field_name: str, label: str) -> Callable[[LetterView], Bound]:
    def check(view: LetterView) -> Bound:
        items = view.items(field_name)
        if items is None:
            return _skip(_NO_FIELDS)
        today = view.facts.today if view.facts else None
        for item in items:
            what, due = str(item.get("what", "")), _as_date(item.get("by_when"))
            paragraph = next((p for p in view.doc.paragraphs if _key(what) and _key(what) in _key(p)), None)
            if paragraph is None:
                return _fail(
                    f"the {label} {_quote(what)} is not in the letter: the resident would not know it was "
                    f"promised. Fix: {REDRAFT}"
                )
            if due is None:
                return _fail(f"the {label} {_quote(what)} has no date: say by when (7.3). Fix: draft again")
            if due not in [d for d, _, _ in find_dates(paragraph)]:
                return _fail(
                    f"the letter does not say the {label} {_quote(what)} will be done by {short_date(due)}: "
                    f"the resident would not know by when. Fix: {REDRAFT}"
                )
            if today is not None and due <= today:
                return _fail(
                    f"the {label} {_quote(what)} is promised by {short_date(due)}, which is not after today "
                    f"({short_date(today)}): a promise must be for a date still to come. Fix: draft again "
                    "with a later date"
                )
        return _pass(f"every {label} is in the letter with its date" if items else f"no {label}s promised")

    return check


# -- the Ombudsman's contact details -----------------------------------------------------------


def _name(view: LetterView) -> str:
    return view.ombudsman.get("name") or "the Housing Ombudsman"


def _ombudsman_phone(view: LetterView) -> Bound:
    wanted = view.ombudsman.get("phone", "")
    if not wanted:
        return _skip("the rule pack gives no Ombudsman phone number")
    printed = phone_numbers(view.doc.text)
    known = {phone_key(wanted)} | known_phones(view.landlord) | known_phones(view.data)
    strangers = [shown for shown, key in printed if key not in known]
    if phone_key(wanted) not in {key for _, key in printed}:
        instead = f" (it gives {strangers[0]} instead)" if strangers else ""
        return _fail(
            f"{_name(view)}'s phone number {wanted} is not in the letter{instead}: the resident could not "
            f"phone the Ombudsman. Fix: print {wanted} exactly"
        )
    if strangers:
        return _fail(
            f"the letter gives the phone number {strangers[0]}, which is neither {_name(view)}'s ({wanted}) "
            "nor yours: a resident calling it would not reach the Ombudsman. Fix: correct it or remove it"
        )
    return _pass(f"gives {_name(view)}'s phone number {wanted}")


def _ombudsman_webform(view: LetterView) -> Bound:
    wanted = view.ombudsman.get("webform", "")
    if not wanted:
        return _skip("the rule pack gives no Ombudsman online form")
    site = web_key(view.ombudsman.get("website", "") or wanted).split("/")[0]
    allowed = {web_key(wanted), web_key(view.ombudsman.get("website", ""))}
    printed = web_addresses(view.doc.text)
    strangers = [shown for shown, key in printed if key.split("/")[0] == site and key not in allowed]
    if web_key(wanted) not in {key for _, key in printed}:
        instead = f" (it gives {strangers[0]} instead)" if strangers else ""
        return _fail(
            f"{_name(view)}'s online complaint form ({wanted}) is not in the letter{instead}: the resident "
            f"could not find it, and the Ombudsman no longer takes new cases by email. Fix: print {wanted} "
            "exactly"
        )
    if strangers:
        return _fail(
            f"the letter links to {strangers[0]}, which is not {_name(view)}'s online form ({wanted}) or "
            "website: the resident would not find the form there. Fix: correct it"
        )
    return _pass(f"gives {_name(view)}'s online form")


def _ombudsman_post(view: LetterView) -> Bound:
    wanted = view.ombudsman.get("post", "")
    if not wanted:
        return _skip("the rule pack gives no Ombudsman postal address")
    if not post_given(view.doc.text, wanted, view.ombudsman.get("name", "")):
        return _fail(
            f"{_name(view)}'s postal address ({wanted}) is not in the letter exactly: a resident writing to "
            f"the Ombudsman would not reach it. Fix: print the address exactly as {wanted}"
        )
    return _pass(f"gives {_name(view)}'s postal address")


# -- rules about the case ----------------------------------------------------------------------


def _escalation_unconditional(view: LetterView) -> Bound:
    found = conditional_escalation(view.doc.paragraphs)
    if found:
        return _fail(
            f"the letter says {_quote(found[0], 100)}: that makes stage 2 depend on the resident explaining "
            "why, which the Code forbids, so a resident could give up on stage 2. Fix: remove the condition; "
            "you may invite them to say what they are still unhappy about, never require it"
        )
    return _pass("stage 2 does not depend on the resident giving reasons")


def _different_handler(view: LetterView) -> Bound:
    if view.fields is None:
        return _skip(_NO_FIELDS)
    handler = str(view.fields.get("handler_name") or "")
    if not handler.strip():
        return _skip("does not apply: no stage 2 reviewer named in the draft")
    named = str(view.fields.get("stage1_handler_name") or "")
    recorded = view.facts.stage1_handlers if view.facts else ()
    same = same_as_any(handler, [n for n in (named, *recorded) if n.strip()])
    if same is not None:
        where = "" if same == named else " (as recorded on the case)"
        return _fail(
            f"{handler} is the stage 2 reviewer, but {same} handled stage 1{where}: the resident would not "
            "get a fresh look at their complaint. Fix: give stage 2 to someone not involved at stage 1"
        )
    if not view.printed(handler):
        return _fail(
            f"the stage 2 reviewer, {handler}, is not named in the letter: the resident could not see that "
            f"someone new is looking at it. Fix: {REDRAFT}"
        )
    return _pass(f"{handler} did not handle stage 1")


OVER_12_MONTHS = "over-12-months"


def _over_12_months(view: LetterView) -> Bound:
    if view.fields is None:
        return _skip(_NO_FIELDS)
    if view.fields.get("exclusion") != OVER_12_MONTHS:
        return _skip("does not apply: the exclusion relied on is not over-12-months")
    received = view.facts.received if view.facts else None
    if received is None:
        return _skip(_NO_CASE)
    issue = _as_date(view.fields.get("issue_date"))
    if issue is None:
        return _fail(
            "no issue date is given: the over-12-months exclusion needs the date the issue happened or the "
            "resident became aware of it. Fix: draft again with --field issue_date=..."
        )
    limit = months_before(received, 12)
    if issue >= limit:
        return _fail(
            f"the issue date {short_date(issue)} is not more than 12 months before the complaint was "
            f"received ({short_date(received)}): the resident would be refused a complaint the Code says "
            "must be accepted. Fix: accept the complaint, or rely on another exclusion"
        )
    return _pass(f"the issue ({short_date(issue)}) is more than 12 months before receipt")


BINDINGS: Mapping[str, Callable[[LetterView], Bound]] = {
    "points": _points,
    "decisions": _decisions,
    "extension_reason": _text_field(
        "extension_reason", "reason for the extension", "the resident would not know why we need more time"
    ),
    "refusal_reason": _text_field(
        "refusal_reason", "reason for refusing", "the resident would not know why their complaint is refused"
    ),
    "letter_date": _letter_date,
    **{name: _date_binding(name) for name in _CUES},
    "remedy_dates": _promised("remedies", "remedy"),
    "action_dates": _promised("outstanding_actions", "action"),
    "ombudsman_phone": _ombudsman_phone,
    "ombudsman_webform": _ombudsman_webform,
    "ombudsman_post": _ombudsman_post,
    "escalation_unconditional": _escalation_unconditional,
    "different_handler": _different_handler,
    "over_12_months": _over_12_months,
}


def bind(names: Sequence[str], view: LetterView) -> Bound | None:
    """The first failing binding of ``names``; else a skip when every one was skipped;
    else None (all that could be checked passed)."""
    results = [BINDINGS[name](view) for name in names]
    failed = next((r for r in results if r.status == "fail"), None)
    if failed is not None:
        return failed
    if results and all(r.status == "skip" for r in results):
        return Bound("skip", "; ".join(dict.fromkeys(r.reason for r in results)))
    return None
