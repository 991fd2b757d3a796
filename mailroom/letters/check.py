"""Check a drafted letter's text for the elements the Code requires.

Pure: input is the letter's text (``DocxText``, from ``docx_text.read_docx_text``),
the element specs of the letter type (from the rule pack) and, optionally, facts
about the case; output is a ``CheckResult``.

Enforcement follows the confidence tag of each element
(shared/reference/code-requirements.md, Conventions): a tag containing V or S
(verified or seed-quoted Code wording) is enforced and a failure blocks the letter;
M (unconfirmed wording) only warns; GP (good practice) is information.

An element passes on its wording (``patterns``) and, where it names ``binds``, on
the case's own content too (``binding.py``): the resident's points, the decisions
and their reasons, every date against its field or clock, the Ombudsman's details
against the pack. Failures say in plain English what the resident would miss and
how to fix it; the patterns themselves are never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from mailroom.letters.binding import BINDINGS, LetterView, bind
from mailroom.letters.dates import find_dates
from mailroom.letters.docx_text import DocxText, normalise_text
from mailroom.letters.facts import CaseFacts

__all__ = [
    "CASE_CHECKS",
    "AppliesWhen",
    "CaseFacts",
    "CheckResult",
    "ElementResult",
    "ElementSpec",
    "check_letter",
    "find_dates",
    "find_placeholders",
    "parse_element_specs",
]

CASE_CHECKS = ("response_date", "extension_within_cap", "stage")
Status = Literal["pass", "fail", "warn", "skip"]
Severity = Literal["block", "warning", "info"]


@dataclass(frozen=True)
class AppliesWhen:
    """The element applies only when draft field ``field`` equals ``equals`` or, with
    ``equals`` None, is non-empty (rule pack: ``{ field = ..., equals = ... }`` or
    ``{ field = ..., present = true }``)."""

    field: str
    equals: str | None = None

    def holds(self, draft_fields: Mapping[str, Any]) -> bool:
        value = draft_fields.get(self.field)
        return bool(value) if self.equals is None else bool(value == self.equals)

    def describe(self) -> str:
        return f"{self.field} is {self.equals!r}" if self.equals is not None else f"{self.field} is filled in"


@dataclass(frozen=True)
class ElementSpec:
    """One required element of a letter type, as the rule pack states it."""

    id: str
    description: str
    paragraph: str
    tag: str
    patterns: tuple[str, ...] = ()  # all must match (case-insensitive)
    forbidden_patterns: tuple[str, ...] = ()  # none may match
    case_check: str | None = None
    fields: tuple[str, ...] = ()  # draft fields that must be non-empty (checked if draft fields are given)
    applies_when: AppliesWhen | None = None
    binds: tuple[str, ...] = ()  # content bindings (binding.BINDINGS): the case's own content
    fix: str = ""  # how to put a missing element right, in plain English
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)
    _forbidden: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.case_check is not None and self.case_check not in CASE_CHECKS:
            raise ValueError(
                f"element {self.id!r}: unknown case_check {self.case_check!r} "
                f"(one of {', '.join(CASE_CHECKS)})"
            )
        unknown = [name for name in self.binds if name not in BINDINGS]
        if unknown:
            raise ValueError(
                f"element {self.id!r}: unknown binding {unknown[0]!r} (one of {', '.join(BINDINGS)})"
            )
        if not self.patterns and self.case_check is None and not self.binds:
            raise ValueError(f"element {self.id!r}: needs patterns, a case_check or binds")
        object.__setattr__(self, "_compiled", self._compile(self.patterns))
        object.__setattr__(self, "_forbidden", self._compile(self.forbidden_patterns))

    def _compile(self, patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"element {self.id!r}: bad regex {pattern!r}: {exc}") from None
        return tuple(compiled)

    @property
    def severity(self) -> Severity:
        tag = self.tag.upper()
        if "V" in tag or "S" in tag:
            return "block"
        return "warning" if "M" in tag else "info"

    @property
    def enforced(self) -> bool:
        return self.severity == "block"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], default_id: str | None = None) -> ElementSpec:
        """From a rule-pack table. Single strings are accepted where lists are expected."""

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key, ())
            return (value,) if isinstance(value, str) else tuple(str(v) for v in value)

        element_id = str(data.get("id", default_id or ""))
        if not element_id:
            raise ValueError("element without an id")
        case_check = data.get("case_check")
        condition = data.get("applies_when")
        applies_when = None
        if isinstance(condition, Mapping):
            equals = condition.get("equals")
            applies_when = AppliesWhen(
                str(condition.get("field", "")), None if equals is None else str(equals)
            )
        elif condition is not None:
            raise ValueError(f"element {element_id!r}: applies_when must be a table")
        return cls(
            id=element_id,
            description=str(data.get("description", data.get("title", ""))),
            paragraph=str(data.get("paragraph", "")),
            tag=str(data.get("tag", "")),
            patterns=strings("patterns"),
            forbidden_patterns=strings("forbidden_patterns"),
            case_check=None if case_check in (None, "") else str(case_check),
            fields=strings("fields"),
            applies_when=applies_when,
            binds=strings("binds"),
            fix=str(data.get("fix", "")),
        )


def parse_element_specs(
    items: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
) -> list[ElementSpec]:
    """Specs from a list of tables (``[[...elements]]``) or a table of tables keyed by id."""
    if isinstance(items, Mapping):
        return [ElementSpec.from_mapping(value, default_id=key) for key, value in items.items()]
    return [ElementSpec.from_mapping(value) for value in items]


@dataclass(frozen=True)
class ElementResult:
    id: str
    paragraph: str
    description: str
    status: Status
    enforced: bool
    reason: str
    severity: Severity = "block"


@dataclass(frozen=True)
class CheckResult:
    passed: bool  # True iff no enforced element failed
    elements: list[ElementResult]

    def failures(self) -> list[ElementResult]:
        return [e for e in self.elements if e.status == "fail" and e.enforced]

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for element in self.elements:
            counts[element.status] = counts.get(element.status, 0) + 1
        return {"passed": self.passed, "counts": counts, "elements": [asdict(e) for e in self.elements]}


# --- placeholders -----------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"\{\{|\}\}|\{%|%\}|«|»|<<|>>|\[\s*insert\b|\[\s*enter\b|\[\s*date\s*\]|\bX{3,}\b|\bTBC\b",
    re.IGNORECASE,
)


def find_placeholders(text: str) -> list[str]:
    """Leftover template or mail-merge markers in ``text``."""
    return [m.group(0) for m in _PLACEHOLDER.finditer(text)]


def _mask(text: str, values: Sequence[str]) -> str:
    """``text`` with every occurrence of the given values blanked (same length), so that
    markers inside supplied data (a complainant typing ``<<``) are not taken for
    placeholders left in the template."""
    for value in values:
        if value and value in text:
            text = text.replace(value, " " * len(value))
    return text


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- case checks ------------------------------------------------------------------

_RESPONSE_WORDS = re.compile(r"\b(?:respon(?:d|ds|ded|ding|se|ses)|repl(?:y|ies|ied))\b", re.IGNORECASE)
_EXTENSION_WORDS = re.compile(
    r"\b(?:respon(?:d|ds|ded|ding|se|ses)|repl(?:y|ies|ied)|exten(?:d|ds|ded|ding|sion)"
    r"|new date|revised date)\b",
    re.IGNORECASE,
)
_STAGE_WORDS = {"1": 1, "2": 2, "one": 1, "two": 2, "i": 1, "ii": 2}
_STAGE = re.compile(r"\bstage[\s-]*(1|2|one|two|ii|i)\b", re.IGNORECASE)
# "your complaint is now at stage 2", "has been logged at stage one", "is being dealt
# with under stage 1": the letter says which stage the complaint is at.
_CURRENT_STAGE = re.compile(
    r"\b(?:is|are|now|currently|been|being)\b[^.\n]{0,40}?\b(?:at|under)\s+stage[\s-]*(1|2|one|two|ii|i)\b",
    re.IGNORECASE,
)

_CaseOutcome = tuple[Status, str]


class _Letter:
    """The text being checked, with what several elements need worked out once."""

    def __init__(self, doc: DocxText, masked: str) -> None:
        self.doc = doc
        # Leftover markers per paragraph, outside supplied data.
        self.markers = [
            find_placeholders(masked[s : s + len(p)]) for s, p in zip(doc.starts, doc.paragraphs, strict=True)
        ]
        self.any_markers = any(self.markers)
        self._dates: dict[int, list[date]] = {}

    def dates_in(self, index: int) -> list[date]:
        found = self._dates.get(index)
        if found is None:
            found = self._dates[index] = [d for d, _, _ in find_dates(self.doc.paragraphs[index])]
        return found

    def all_dates(self) -> list[date]:
        return [d for index in range(len(self.doc.paragraphs)) for d in self.dates_in(index)]

    def dates_near(self, words: re.Pattern[str]) -> list[date]:
        """Dates in the paragraphs that mention ``words``."""
        return [d for i, p in enumerate(self.doc.paragraphs) if words.search(p) for d in self.dates_in(i)]


def _check_response_date(letter: _Letter, facts: CaseFacts) -> _CaseOutcome:
    due = facts.response_due
    if due is None:
        return "skip", "response date not checked: the case has no response due date"
    if due not in letter.all_dates():
        return "fail", f"the response due date {_long(due)} is not stated"
    later = sorted({d for d in letter.dates_near(_RESPONSE_WORDS) if d > due})
    if later:
        return "fail", f"states a response date {_long(later[-1])} later than the due date {_long(due)}"
    return "pass", f"states the response due date {_long(due)}"


def _check_extension(letter: _Letter, facts: CaseFacts) -> _CaseOutcome:
    cap = facts.extension_cap_date
    if cap is None:
        return "skip", "extension not checked: the case has no extension cap date"
    stated = letter.dates_near(_EXTENSION_WORDS)
    if not stated:
        return "fail", "no new response date is stated"
    new_date = max(stated)
    if new_date <= cap:
        return "pass", f"new date {_long(new_date)} is within the extension cap {_long(cap)}"
    if facts.good_reason_recorded:
        return (
            "warn",
            f"new date {_long(new_date)} is after the extension cap {_long(cap)}; a good reason is recorded",
        )
    return "fail", (
        f"new date {_long(new_date)} is after the extension cap {_long(cap)} and no good reason is recorded"
    )


def _check_stage(letter: _Letter, facts: CaseFacts) -> _CaseOutcome:
    text = letter.doc.text
    mentioned = {_STAGE_WORDS[m.group(1).lower()] for m in _STAGE.finditer(text)}
    if facts.stage not in mentioned:
        return "fail", f"does not say the complaint is at stage {facts.stage}"
    claimed = {_STAGE_WORDS[m.group(1).lower()] for m in _CURRENT_STAGE.finditer(text)}
    wrong = sorted(claimed - {facts.stage})
    if wrong:
        return "fail", f"says the complaint is at stage {wrong[0]}, but the case is at stage {facts.stage}"
    return "pass", f"mentions stage {facts.stage}"


_CASE_CHECKERS = {
    "response_date": _check_response_date,
    "extension_within_cap": _check_extension,
    "stage": _check_stage,
}


# --- elements ---------------------------------------------------------------------


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _check_text(spec: ElementSpec, letter: _Letter) -> tuple[Status, str] | None:
    """A failure of the element's wording, or None if the wording is all there."""
    doc = letter.doc
    if any(not p.search(doc.text) for p in spec._compiled):
        return "fail", _missing(spec)
    if letter.any_markers:
        for pattern in spec._compiled:
            for m in pattern.finditer(doc.text):
                first, last = doc.paragraph_at(m.start()), doc.paragraph_at(max(m.end() - 1, m.start()))
                for index in range(first, last + 1):
                    if letter.markers[index]:
                        marker = letter.markers[index][0]
                        return (
                            "fail",
                            f"left as a placeholder ({marker!r}): {_excerpt(doc.paragraphs[index])}",
                        )
    for pattern in spec._forbidden:
        hit = pattern.search(doc.text)
        if hit:
            return "fail", (
                f"the letter says {_excerpt(hit.group(0))}, which the Code does not allow here "
                f"({_lower_first(spec.description)}). Fix: remove or reword it"
            )
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _missing(spec: ElementSpec) -> str:
    """What the resident would miss when an element's wording is not in the letter."""
    fix = spec.fix or (
        "put that wording back (the template's, or your own words with the same meaning) or draft the "
        "letter again"
    )
    what = _lower_first(spec.description)
    return f"the letter does not say this, so the resident would miss it: {what}. Fix: {fix}"


def _check_draft(spec: ElementSpec, draft_fields: Mapping[str, Any] | None) -> tuple[Status, str] | None:
    """Skip or failure decided by the draft's fields rather than the text, if any."""
    if spec.applies_when is not None:
        if draft_fields is None:
            return "skip", f"applies only when {spec.applies_when.describe()}; not checked (no draft fields)"
        if not spec.applies_when.holds(draft_fields):
            return "skip", f"does not apply: only when {spec.applies_when.describe()}"
    if draft_fields is not None:
        empty = [name for name in spec.fields if not draft_fields.get(name)]
        if empty:
            return "fail", (
                f"the draft leaves {', '.join(empty)} empty, so the resident would miss: "
                f"{_lower_first(spec.description)}. Fix: draft again with --field {empty[0]}=..."
            )
    return None


def _check_bindings(spec: ElementSpec, view: LetterView) -> tuple[Status, str] | None:
    """A failure (or, for an element that is nothing but bindings, a skip) from the
    case's own content; None when what could be checked is there."""
    if not spec.binds:
        return None
    bound = bind(spec.binds, view)
    if bound is None:
        return None
    if bound.status == "skip" and (spec.patterns or spec.case_check):
        return None  # the wording still decides; the content is "not checked"
    return bound.status, bound.reason


def _check_element(
    spec: ElementSpec, letter: _Letter, view: LetterView, draft_fields: Mapping[str, Any] | None
) -> ElementResult:
    status: Status
    facts = view.facts
    failed = _check_draft(spec, draft_fields) or _check_text(spec, letter) or _check_bindings(spec, view)
    if failed is not None:
        status, reason = failed
    elif spec.case_check is None:
        status, reason = "pass", "in the letter"
    elif facts is None:
        status, reason = "skip", f"{spec.case_check.replace('_', ' ')} not checked (no case: give --case)"
    else:
        status, reason = _CASE_CHECKERS[spec.case_check](letter, facts)
    if status == "fail" and not spec.enforced:
        status = "warn"
        reason = ("unconfirmed Code wording: " if spec.severity == "warning" else "good practice: ") + reason
    return ElementResult(
        id=spec.id,
        paragraph=spec.paragraph,
        description=spec.description,
        status=status,
        enforced=spec.enforced,
        reason=reason,
        severity=spec.severity,
    )


# "We are sorry that this letter is late", "we apologise for the delay in replying".
_SORRY = r"\b(?:sorry|apologi[sz]e[sd]?|apolog(?:y|ies))\b"
_DELAY = r"\b(?:late|later than|delay(?:s|ed)?|overdue|took longer|taken longer)\b"
_APOLOGY = re.compile(rf"{_SORRY}[^.!?\n]{{0,160}}{_DELAY}|{_DELAY}[^.!?\n]{{0,160}}{_SORRY}", re.IGNORECASE)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _delay_apology(doc: DocxText, facts: CaseFacts | None) -> ElementResult | None:
    """Only for a letter checked as issued after the deadline of the clock it answers:
    it must say sorry for the delay (the landlord's words, or any sentence apologising
    for the delay). None when the letter is on time or the case is not known."""
    if facts is None or facts.letter_due is None or facts.today is None or facts.today <= facts.letter_due:
        return None
    due = _long(facts.letter_due)
    wanted = _words(facts.delay_apology)
    if (wanted and wanted in _words(doc.text)) or any(_APOLOGY.search(p) for p in doc.paragraphs):
        status: Status = "pass"
        reason = f"issued after its deadline ({due}) and apologises for the delay"
    else:
        status = "fail"
        reason = (
            f"the letter is issued after its deadline ({due}) but does not apologise for the delay: the "
            "resident would be kept waiting without a word of it. Fix: draft the letter again (the "
            "template adds the apology set in [timeliness] delay_apology), or add a sentence saying sorry "
            "for the delay"
        )
    return ElementResult(
        id="delay_apology",
        paragraph="",
        description="An apology for the delay, when the letter is issued after its deadline",
        status=status,
        enforced=True,
        reason=reason,
    )


def check_letter(
    doc: DocxText | str,
    specs: Sequence[ElementSpec],
    facts: CaseFacts | None = None,
    *,
    data_values: Iterable[str] = (),
    draft_fields: Mapping[str, Any] | None = None,
    ombudsman: Mapping[str, str] | None = None,
    landlord: Mapping[str, str] | None = None,
) -> CheckResult:
    """Check ``doc`` against ``specs``.

    ``data_values`` are field values that came from case data (complainant text and
    the like); markers inside them are not taken for leftover placeholders. Without
    ``facts``, case checks are reported as skipped ("not checked"). With
    ``draft_fields`` (the draft's field values), an element whose ``fields`` are empty
    fails and one whose ``applies_when`` does not hold is skipped; without them,
    elements with ``applies_when`` are skipped as not checked. ``ombudsman`` (the
    pack's ``[ombudsman]``) and ``landlord`` (the letterhead) are what the contact
    details printed in the letter are compared with."""
    if isinstance(doc, str):
        doc = DocxText.from_text(doc)
    values = sorted({normalise_text(v) for v in data_values if isinstance(v, str)}, key=len, reverse=True)
    masked = _mask(doc.text, values)
    letter = _Letter(doc, masked)
    view = LetterView(doc, masked, draft_fields, facts, ombudsman or {}, landlord or {}, values)
    results = [_check_element(spec, letter, view, draft_fields) for spec in specs]
    leftovers = [(i, found) for i, found in enumerate(letter.markers) if found]
    if leftovers:
        index, markers = leftovers[0]
        more = f" (and {len(leftovers) - 1} more paragraphs)" if len(leftovers) > 1 else ""
        reason = f"leftover placeholder {markers[0]!r} in {_excerpt(doc.paragraphs[index])}{more}"
    late = _delay_apology(doc, facts)
    if late is not None:
        results.append(late)
    results.append(
        ElementResult(
            id="placeholders",
            paragraph="",
            description="No leftover template or mail-merge placeholders",
            status="fail" if leftovers else "pass",
            enforced=True,
            reason=reason if leftovers else "none found",
        )
    )
    passed = not any(r.status == "fail" and r.enforced for r in results)
    return CheckResult(passed=passed, elements=results)
