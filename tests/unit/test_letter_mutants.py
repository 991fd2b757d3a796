"""The mutation suite (issue 8, item 3): real drafted letters of the nine types,
each changed the way a letter goes wrong in practice, must fail the check naming
the Code paragraph they break; harmless rewordings must still pass.

Each base letter is rendered once from its template with the sample case
(tests/support/letter_samples.py) and read back as the checker reads a DOCX; the
mutants change that text in memory (delete a paragraph, change a date or a phone
number, empty the reasons, add a sentence), or the draft's fields or the case's
facts, and run the same check drafting and approval run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Any

import pytest

from mailroom.letters.check import CaseFacts, CheckResult, check_letter
from mailroom.letters.docx_text import DocxText, read_docx_text
from mailroom.letters.drafts import data_values
from mailroom.letters.pack import load_letter_pack
from mailroom.letters.render import LetterRenderer
from mailroom.letters.types import FIELDS, LetterType
from tests.support.letter_samples import LANDLORD, PACK_PATH, sample_context

T = LetterType
TODAY = date(2026, 11, 23)  # the samples' letter date
STAGE1_FACTS = CaseFacts(
    stage=1,
    response_due=date(2026, 12, 4),
    extension_cap_date=date(2026, 12, 18),
    today=TODAY,
    received=date(2026, 11, 16),
    acknowledged=date(2026, 11, 20),
    original_due=date(2026, 12, 4),
)
STAGE2_FACTS = CaseFacts(
    stage=2,
    response_due=date(2027, 1, 13),
    extension_cap_date=date(2027, 2, 10),
    today=TODAY,
    received=date(2026, 11, 16),
    acknowledged=date(2026, 12, 11),
    original_due=date(2027, 1, 13),
)
PHONE = "0300 111 3000"
WEBFORM = "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/"


@cache
def pack() -> Any:
    return load_letter_pack(PACK_PATH.read_text(encoding="utf-8"), str(PACK_PATH), PACK_PATH.parent)


@cache
def base_paragraphs(letter_type: LetterType) -> tuple[str, ...]:
    """The sample letter of ``letter_type``, rendered once and read back."""
    docx = LetterRenderer().render(pack().letter(letter_type).template, sample_context(letter_type))
    return tuple(read_docx_text(docx).paragraphs)


def _iso(value: Any) -> Any:
    """Field values as staff type them: written dates back to ISO (what drafting
    stores and treats as data)."""
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%A %d %B %Y").date().isoformat()
        except ValueError:
            return value
    if isinstance(value, list):
        return [_iso(item) for item in value]
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    return value


def fields_of(letter_type: LetterType, **changes: Any) -> dict[str, Any]:
    context = sample_context(letter_type, **changes)
    return {spec.name: context[spec.name] for spec in FIELDS[letter_type]}


def facts_of(letter_type: LetterType, **changes: Any) -> CaseFacts:
    stage2 = pack().letter(letter_type).stage == 2
    facts = STAGE2_FACTS if stage2 else STAGE1_FACTS
    good_reason = bool(sample_context(letter_type).get("good_reason"))
    return replace(facts, good_reason_recorded=good_reason, **changes)


def run_check(
    letter_type: LetterType, paragraphs: list[str], fields: dict[str, Any], facts: CaseFacts
) -> CheckResult:
    return check_letter(
        DocxText(paragraphs),
        pack().letter(letter_type).elements,
        facts,
        data_values=data_values(None, _iso(fields)),
        draft_fields=fields,
        ombudsman=pack().ombudsman,
        landlord=LANDLORD,
    )


# -- changing a letter -----------------------------------------------------------------

Edit = Callable[[list[str]], list[str]]


def delete(pattern: str) -> Edit:
    def edit(paragraphs: list[str]) -> list[str]:
        kept = [p for p in paragraphs if not re.search(pattern, p)]
        assert len(kept) < len(paragraphs), f"nothing matches {pattern!r}"
        return kept

    return edit


def change(old: str, new: str) -> Edit:
    def edit(paragraphs: list[str]) -> list[str]:
        changed = [p.replace(old, new) for p in paragraphs]
        assert changed != paragraphs, f"{old!r} is not in the letter"
        return changed

    return edit


def change_first(old: str, new: str) -> Edit:
    def edit(paragraphs: list[str]) -> list[str]:
        index = next(i for i, p in enumerate(paragraphs) if old in p)
        return [*paragraphs[:index], paragraphs[index].replace(old, new, 1), *paragraphs[index + 1 :]]

    return edit


def add_after(pattern: str, sentence: str) -> Edit:
    def edit(paragraphs: list[str]) -> list[str]:
        index = next(i for i, p in enumerate(paragraphs) if re.search(pattern, p))
        return [*paragraphs[: index + 1], sentence, *paragraphs[index + 1 :]]

    return edit


def both(*edits: Edit) -> Edit:
    def edit(paragraphs: list[str]) -> list[str]:
        for one in edits:
            paragraphs = one(paragraphs)
        return paragraphs

    return edit


def unchanged(paragraphs: list[str]) -> list[str]:
    return paragraphs


@dataclass(frozen=True)
class Mutant:
    letter_type: LetterType
    paragraph: str  # the Code paragraph it breaks, as the failing element names it
    name: str
    edit: Edit = unchanged
    fields: dict[str, Any] = field(default_factory=dict)  # changed draft fields
    facts: dict[str, Any] = field(default_factory=dict)  # changed case facts


REASONS_1 = "Our records show the leak was first reported on 14 August 2026."
EMPTY_REASONS = change_first(
    "The reasons for our decision: " + REASONS_1[:20], "The reasons for our decision: XX-REMOVED"
)


def empty_reasons(paragraphs: list[str]) -> list[str]:
    """'The reasons for our decision:' left with nothing after it."""
    index = next(i for i, p in enumerate(paragraphs) if p.startswith("The reasons for our decision: "))
    return [*paragraphs[:index], "The reasons for our decision:", *paragraphs[index + 1 :]]


STAGE1_DUE_PAST = "Friday 20 November 2026"

MUTANTS = [
    # -- stage 1 acknowledgement -----------------------------------------------------------
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT,
        "5.6",
        "a point of the complaint definition deleted",
        delete(r"^The leak from"),
    ),
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT, "5.6", "an outcome sought deleted", delete(r"An explanation and an apology")
    ),
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT,
        "6.2",
        "the received date changed",
        change("received on Monday 16 November 2026", "received on Tuesday 17 November 2026"),
    ),
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT,
        "6.3/6.4",
        "a later response date",
        change("by Friday 4 December 2026", "by Friday 11 December 2026"),
    ),
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT,
        "6.2",
        "the letter date differs from the issue date",
        change("Date: Monday 23 November 2026", "Date: Tuesday 24 November 2026"),
    ),
    Mutant(
        T.STAGE1_ACKNOWLEDGEMENT,
        "6.2",
        "'logged at stage 1' deleted",
        delete(r"logged your complaint at stage 1"),
    ),
    # -- stage 1 extension -----------------------------------------------------------------
    Mutant(
        T.STAGE1_EXTENSION,
        "6.4",
        "the extension reason deleted under its heading",
        delete(r"structural engineer"),
    ),
    Mutant(
        T.STAGE1_EXTENSION,
        "6.4",
        "a new date differing from the field",
        change(
            "now send you our stage 1 response by Wednesday 23 December",
            "now send you our stage 1 response by Thursday 24 December",
        ),
    ),
    Mutant(
        T.STAGE1_EXTENSION,
        "6.4",
        "a new date in the past",
        change("by Wednesday 23 December 2026", f"by {STAGE1_DUE_PAST}"),
        fields={"new_date": STAGE1_DUE_PAST},
    ),
    Mutant(T.STAGE1_EXTENSION, "6.5", "a wrong Ombudsman phone number", change(PHONE, "0300 111 3001")),
    Mutant(
        T.STAGE1_EXTENSION,
        "6.5",
        "a wrong Ombudsman web form",
        change(WEBFORM, WEBFORM.replace("make-a-complaint", "make-complaint")),
    ),
    Mutant(T.STAGE1_EXTENSION, "6.5", "the Ombudsman's postal address deleted", delete(r"^Post: ")),
    Mutant(
        T.STAGE1_EXTENSION,
        "6.5",
        "the Ombudsman's phone replaced by its website",
        change(f"Phone: {PHONE}", "Phone: see the website"),
    ),
    Mutant(
        T.STAGE1_EXTENSION,
        "6.4",
        "the letter date differs from the issue date",
        change("Date: Monday 23 November 2026", "Date: Monday 16 November 2026"),
    ),
    # -- refusal ---------------------------------------------------------------------------
    Mutant(
        T.REFUSAL,
        "2.3",
        "'over 12 months' for an issue two months old",
        change("Tuesday 5 March 2024", "Wednesday 16 September 2026"),
        fields={"issue_date": "Wednesday 16 September 2026"},
    ),
    Mutant(
        T.REFUSAL,
        "2.3",
        "'over 12 months' for an issue exactly 12 months old",
        change("Tuesday 5 March 2024", "Monday 16 November 2025"),
        fields={"issue_date": "Monday 16 November 2025"},
    ),
    Mutant(
        T.REFUSAL, "2.1/2.4", "the refusal reason deleted", delete(r"^Your complaint is about the condition")
    ),
    Mutant(T.REFUSAL, "2.4", "a wrong Ombudsman phone number", change(PHONE, "0300 111 3300")),
    Mutant(T.REFUSAL, "2.4", "a wrong Ombudsman postal address", change("PO Box 1484", "PO Box 1448")),
    Mutant(T.REFUSAL, "2.4", "the Ombudsman's online form deleted", delete(r"^Online form: ")),
    Mutant(
        T.REFUSAL,
        "2.3",
        "the received date changed",
        change(
            "you complained to us on Monday 16 November 2026",
            "you complained to us on Monday 9 November 2026",
        ),
    ),
    # -- stage 1 response ------------------------------------------------------------------
    Mutant(
        T.STAGE1_RESPONSE, "6.7/6.9", "reasons emptied under 'The reasons for our decision'", empty_reasons
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.7/6.9",
        "a reason replaced by other text",
        EMPTY_REASONS,
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.7/6.9",
        "a decision changed from upheld to not upheld",
        change_first("Our decision: Upheld", "Our decision: Not upheld"),
    ),
    Mutant(T.STAGE1_RESPONSE, "6.7/6.9", "a decision deleted", delete(r"^The cancelled appointments$")),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.9",
        "the complaint definition deleted",
        delete(r"^(The leak from|You were not told)"),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "7.3",
        "a remedy date changed",
        change("(by Friday 18 December 2026)", "(by Friday 8 January 2027)"),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "7.3",
        "a remedy promised for a date already past",
        change("(by Friday 11 December 2026)", f"(by {STAGE1_DUE_PAST})"),
        fields={
            "remedies": [
                {"what": "Repair and redecorate your kitchen ceiling", "by_when": "Friday 18 December 2026"},
                {
                    "what": "Pay you £150 compensation for the distress and inconvenience",
                    "by_when": STAGE1_DUE_PAST,
                },
            ]
        },
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.6/6.9",
        "an outstanding action deleted",
        delete(r"^Redecorate the kitchen ceiling"),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.6/6.9",
        "an outstanding action's date changed",
        change("(by Friday 15 January 2027)", "(by Friday 22 January 2027)"),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.12",
        "stage 2 only for a request that explains",
        add_after(
            r"^You do not have to give reasons",
            "We will only progress a stage 2 request that explains why you are still unhappy.",
        ),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.12",
        "'if you want stage 2, please tell us why'",
        add_after(
            r"^If you are not happy with our response",
            "If you want a stage 2 review, please tell us why you disagree with our decision.",
        ),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.12",
        "stage 2 provided the resident gives grounds",
        add_after(
            r"^To ask for stage 2",
            "We will escalate your complaint provided that you set out your grounds in writing.",
        ),
    ),
    Mutant(
        T.STAGE1_RESPONSE,
        "6.3/6.4",
        "the acknowledged date changed",
        change("acknowledged on Friday 20 November 2026", "acknowledged on Monday 23 November 2026"),
    ),
    # -- stage 2 acknowledgement -----------------------------------------------------------
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.13",
        "the same person as stage 1 and stage 2 handler (fields)",
        fields={"stage1_handler_name": "ms priya  SHAH"},
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.13",
        "the stage 1 handler named as the reviewer",
        change("Priya Shah, who was not involved", "Sam Okafor, who was not involved"),
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.13",
        "the reviewer handled stage 1 (as recorded on the case)",
        facts={"stage1_handlers": ("Shah, P.",)},
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.11",
        "the escalation date changed",
        change("asking us on Monday 7 December 2026", "asking us on Monday 30 November 2026"),
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.12",
        "'you must give reasons for escalating'",
        add_after(
            r"^You did not have to give reasons",
            "You must give reasons for escalating your complaint to stage 2.",
        ),
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.12",
        "review only once the resident has explained",
        add_after(
            r"^Thank you for asking",
            "We can only review your complaint at stage 2 once you have explained why you disagree.",
        ),
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "5.6",
        "the stage 2 definition deleted",
        delete(r"^The ceiling has still not been redecorated"),
    ),
    Mutant(
        T.STAGE2_ACKNOWLEDGEMENT,
        "6.11",
        "the letter date differs from the issue date",
        change("Date: Monday 23 November 2026", "Date: 23/11/2025"),
    ),
    # -- stage 2 extension -----------------------------------------------------------------
    Mutant(
        T.STAGE2_EXTENSION,
        "6.15",
        "the extension reason deleted under its heading",
        delete(r"structural engineer"),
    ),
    Mutant(T.STAGE2_EXTENSION, "6.16", "a wrong Ombudsman phone number", change(PHONE, "0300 111 0300")),
    Mutant(
        T.STAGE2_EXTENSION,
        "6.15",
        "a new date differing from the field",
        change(
            "now send you our final response by Friday 12 February 2027",
            "now send you our final response by Friday 19 February 2027",
        ),
    ),
    Mutant(T.STAGE2_EXTENSION, "6.16", "the Ombudsman's postal address deleted", delete(r"^Post: ")),
    # -- stage 2 response ------------------------------------------------------------------
    Mutant(
        T.STAGE2_RESPONSE, "6.18/6.19", "reasons emptied under 'The reasons for our decision'", empty_reasons
    ),
    Mutant(
        T.STAGE2_RESPONSE, "6.13", "the reviewer handled stage 1", facts={"stage1_handlers": ("Priya Shah",)}
    ),
    Mutant(T.STAGE2_RESPONSE, "6.19", "a wrong Ombudsman phone number", change(PHONE, "0330 111 3000")),
    Mutant(
        T.STAGE2_RESPONSE,
        "7.3",
        "a remedy date changed",
        change("(by Friday 22 January 2027)", "(by Friday 29 January 2027)"),
    ),
    Mutant(
        T.STAGE2_RESPONSE,
        "6.10/6.20",
        "'final response' deleted",
        change("final response", "response"),
    ),
    Mutant(
        T.STAGE2_RESPONSE,
        "6.14/6.15",
        "the acknowledged date changed",
        change("complaint on Friday 11 December 2026", "complaint on Friday 4 December 2026"),
    ),
    # -- refusal to escalate ---------------------------------------------------------------
    Mutant(
        T.ESCALATION_REFUSAL,
        "6.12",
        "refused because no reasons were given",
        add_after(
            r"^Thank you for asking",
            "We cannot take your complaint to stage 2 because you have not told us why you are unhappy.",
        ),
    ),
    Mutant(T.ESCALATION_REFUSAL, "2.4", "a wrong Ombudsman phone number", change(PHONE, "0800 111 3000")),
    Mutant(
        T.ESCALATION_REFUSAL,
        "2.4",
        "a wrong Ombudsman web form",
        change(WEBFORM, "https://www.housing-ombudsman.org.uk/complaints/"),
    ),
    Mutant(
        T.ESCALATION_REFUSAL,
        "6.11",
        "the escalation date changed",
        change("asking us on Monday 7 December 2026", "asking us on Tuesday 8 December 2026"),
    ),
    Mutant(T.ESCALATION_REFUSAL, "2.2", "the refusal reason deleted", delete(r"^You have issued a claim")),
    # -- outstanding actions ---------------------------------------------------------------
    Mutant(
        T.OUTSTANDING_ACTIONS,
        "7.3",
        "an action date changed",
        change("(by Friday 15 January 2027)", "(by Friday 5 February 2027)"),
    ),
    Mutant(
        T.OUTSTANDING_ACTIONS,
        "7.3",
        "an action promised for a date already past",
        change("(by Friday 15 January 2027)", f"(by {STAGE1_DUE_PAST})"),
        fields={
            "outstanding_actions": [
                {
                    "what": "Redecorate the kitchen ceiling once the plaster has dried",
                    "by_when": STAGE1_DUE_PAST,
                }
            ]
        },
    ),
    Mutant(T.OUTSTANDING_ACTIONS, "7.3", "an action deleted", delete(r"^Redecorate the kitchen ceiling")),
    Mutant(
        T.OUTSTANDING_ACTIONS,
        "7.3",
        "the next update date changed",
        change("no later than Friday 8 January 2027", "no later than Friday 15 January 2027"),
    ),
    Mutant(
        T.OUTSTANDING_ACTIONS,
        "7.3",
        "the letter date differs from the issue date",
        change("Date: Monday 23 November 2026", "Date: Friday 20 November 2026"),
    ),
]


def _id(mutant: Mutant) -> str:
    return f"{mutant.letter_type.value}:{mutant.paragraph}:{mutant.name}"


def test_the_suite_covers_the_nine_types_with_at_least_40_mutants() -> None:
    assert len(MUTANTS) >= 40
    assert {m.letter_type for m in MUTANTS} == set(LetterType)
    assert len({_id(m) for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("letter_type", list(LetterType), ids=str)
def test_each_base_letter_passes_with_nothing_failing(letter_type: LetterType) -> None:
    result = run_check(
        letter_type, list(base_paragraphs(letter_type)), fields_of(letter_type), facts_of(letter_type)
    )
    failing = [(e.id, e.reason) for e in result.elements if e.status == "fail"]
    skipped = [
        (e.id, e.reason) for e in result.elements if e.status == "skip" and "does not apply" not in e.reason
    ]
    assert result.passed and not failing, failing
    assert not skipped, skipped  # with the case and the fields, every binding is checked


@pytest.mark.parametrize("mutant", MUTANTS, ids=_id)
def test_every_mutant_fails_naming_the_code_paragraph_it_breaks(mutant: Mutant) -> None:
    base = fields_of(mutant.letter_type)
    paragraphs = mutant.edit(list(base_paragraphs(mutant.letter_type)))
    result = run_check(
        mutant.letter_type,
        paragraphs,
        {**base, **mutant.fields},
        facts_of(mutant.letter_type, **mutant.facts),
    )
    assert not result.passed, mutant.name
    failures = result.failures()
    assert mutant.paragraph in {f.paragraph for f in failures}, [
        (f.id, f.paragraph, f.reason) for f in failures
    ]
    for failure in failures:
        # Plain English with the fix, never a regular expression.
        assert "Fix:" in failure.reason or failure.id in (
            "stage",
            "response-date",
            "extension-cap",
            "placeholders",
        )
        assert not re.search(r"\\[bdsw]|\(\?|\[a-z|\.\{0,", failure.reason), failure.reason


# -- harmless rewordings ------------------------------------------------------------------

REWORDINGS = [
    (
        T.STAGE1_ACKNOWLEDGEMENT,
        "the received sentence reworded, date without weekday",
        change(
            "Thank you for your complaint, which we received on Monday 16 November 2026.",
            "Your complaint reached us on 16th November 2026 \u2013 thank you for telling us.",
        ),
    ),
    (
        T.STAGE1_ACKNOWLEDGEMENT,
        "the date line without the weekday",
        change("Date: Monday 23 November 2026", "Date: 23 November 2026"),
    ),
    (T.STAGE1_ACKNOWLEDGEMENT, "the Ombudsman's phone spaced differently", change(PHONE, "0300 1113000")),
    (
        T.STAGE1_EXTENSION,
        "the web form without https and www",
        change(WEBFORM, "housing-ombudsman.org.uk/residents/make-a-complaint"),
    ),
    (
        T.STAGE1_EXTENSION,
        "the postal address without the name and commas",
        change(
            "Housing Ombudsman Service, PO Box 1484, Unit D, Preston, PR2 0ET",
            "PO Box 1484 Unit D Preston PR2 0ET",
        ),
    ),
    (
        T.STAGE1_EXTENSION,
        "the new date abbreviated",
        change(
            "We will now send you our stage 1 response by Wednesday 23 December 2026.",
            "We will now send you our stage 1 response by 23 Dec 2026 at the latest.",
        ),
    ),
    (
        T.STAGE1_RESPONSE,
        "the escalation paragraph reworded, still no reasons needed",
        change(
            "You do not have to give reasons for asking for stage 2.",
            "You don\u2019t need to give us reasons for asking for stage 2; tell us what you\u2019re "
            "unhappy with only if you want to.",
        ),
    ),
    (
        T.STAGE1_RESPONSE,
        "reasons in different case and punctuation",
        change(REASONS_1, REASONS_1.upper().replace(".", "!")),
    ),
    (
        T.STAGE1_RESPONSE,
        "an extra sentence explaining the stage 2 review",
        add_after(
            r"^If you are not happy with our response",
            "If you ask for stage 2, we will explain our decision again and a senior manager will review it.",
        ),
    ),
    (
        T.STAGE2_ACKNOWLEDGEMENT,
        "the reviewer named with a title",
        change("Priya Shah, who", "Ms Priya Shah, who"),
    ),
    (
        T.STAGE2_ACKNOWLEDGEMENT,
        "an invitation to say why, left up to the resident",
        add_after(
            r"^You did not have to give reasons", "It is up to you whether you tell us why you want stage 2."
        ),
    ),
    (
        T.ESCALATION_REFUSAL,
        "the no-reasons sentence reworded",
        change(
            "You never need to give reasons for wanting stage 2, and that has played no part in our "
            "decision.",
            "You do not have to explain why you want stage 2. Whether you did played no part in our "
            "decision.",
        ),
    ),
    (
        T.OUTSTANDING_ACTIONS,
        "the action date abbreviated",
        change("(by Friday 15 January 2027)", "(by 15th Jan 2027)"),
    ),
    (
        T.STAGE2_RESPONSE,
        "the final-response sentence reworded",
        change(
            "This letter is our stage 2 response. It is our final response under our complaints procedure.",
            "This is our stage 2 response, and our final response under our complaints procedure.",
        ),
    ),
]


@pytest.mark.parametrize(("letter_type", "name", "edit"), REWORDINGS, ids=[r[1] for r in REWORDINGS])
def test_harmless_rewordings_still_pass(letter_type: LetterType, name: str, edit: Edit) -> None:
    paragraphs = edit(list(base_paragraphs(letter_type)))
    result = run_check(letter_type, paragraphs, fields_of(letter_type), facts_of(letter_type))
    assert result.passed, [(f.id, f.reason) for f in result.failures()]
