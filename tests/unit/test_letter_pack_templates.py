"""The letter rule pack (rules/housing-ombudsman-2024.toml [letters.*]), the nine DOCX
templates (letter_templates/) and the field catalogue (mailroom/letters/types.py)
agree with each other.

Rendered with plain docxtpl in the environment the renderer uses (sandboxed,
autoescape, StrictUndefined), read back with python-docx (header, footer and body
paragraphs), then checked against each element's regexes as the letter checker
will: case-insensitive search over the whole text, whitespace collapsed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from docxtpl import DocxTemplate, Listing
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from mailroom.letters.binding import BINDINGS
from mailroom.letters.types import (
    AUTOMATIC_CONTEXT,
    DECISION_VALUES,
    FIELDS,
    LetterType,
    field_names,
    template_variables,
)
from tests.support.letter_samples import TEMPLATES, letter_paragraphs, pack, sample_context

LETTERS: dict[str, dict[str, Any]] = pack()["letters"]
TYPES = list(LetterType)
TAGS = {"V", "S", "M", "S/V", "V/M", "GP"}
CASE_CHECKS = {"response_date", "extension_within_cap", "stage"}
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def normalise(text: str) -> str:
    return " ".join(text.split())


def enforced(element: dict[str, Any]) -> bool:
    """Tags with V or S are enforced; M only warns; GP informs."""
    tag = str(element["tag"])
    return tag != "GP" and ("V" in tag or "S" in tag)


def elements(letter_type: LetterType) -> list[dict[str, Any]]:
    return list(LETTERS[letter_type.value]["elements"])


def applies(element: dict[str, Any], context: dict[str, Any]) -> bool:
    condition = element.get("applies_when")
    if condition is None:
        return True
    value = context.get(condition["field"])
    if "equals" in condition:
        return bool(value == condition["equals"])
    return bool(value)


def filled(element: dict[str, Any], context: dict[str, Any]) -> bool:
    """The element's fields are non-empty. When they are not, the letter check reports
    the element missing on that ground, so its patterns need not match."""
    return all(context.get(name) for name in element.get("fields", []))


def matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def failing(element: dict[str, Any], text: str) -> list[str]:
    return [pattern for pattern in element.get("patterns", []) if not matches(pattern, text)]


def forbidden(element: dict[str, Any], text: str) -> list[str]:
    return [pattern for pattern in element.get("forbidden_patterns", []) if matches(pattern, text)]


def for_docxtpl(letter_type: LetterType, context: dict[str, Any]) -> dict[str, Any]:
    """What the renderer passes: multi-line fields with text as ``Listing``."""
    multiline = {spec.name for spec in FIELDS[letter_type] if spec.type == "multiline"}
    return {key: Listing(value) if key in multiline and value else value for key, value in context.items()}


def render(letter_type: LetterType, context: dict[str, Any]) -> list[tuple[str, str]]:
    template = DocxTemplate(TEMPLATES / LETTERS[letter_type.value]["template"])
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    template.render(for_docxtpl(letter_type, context), jinja_env=env)
    out = io.BytesIO()
    template.save(out)
    return [(part, normalise(text)) for part, text in letter_paragraphs(out.getvalue())]


def whole(paragraphs: Iterable[tuple[str, str]]) -> str:
    return normalise("\n".join(text for _, text in paragraphs))


VARIANTS: dict[str, Callable[[LetterType], dict[str, Any]]] = {
    "full": lambda t: sample_context(t),
    "no-optional": lambda t: sample_context(t, optional=False),
}


# -- the pack -------------------------------------------------------------------------


def test_pack_letters_are_the_letter_types() -> None:
    assert set(LETTERS) == {t.value for t in LetterType}
    for letter_type in LetterType:
        letter = LETTERS[letter_type.value]
        assert letter["template"] == f"{letter_type.value}.docx"
        assert (TEMPLATES / letter["template"]).is_file()
        assert letter["stage"] in (0, 1, 2)
        assert isinstance(letter["title"], str) and letter["title"]
    assert {t: LETTERS[t]["records_event"] for t in LETTERS} == {
        "stage1-acknowledgement": "stage1_acknowledged",
        "stage1-extension": "stage1_extended",
        "refusal": "refused",
        "stage1-response": "stage1_responded",
        "stage2-acknowledgement": "stage2_acknowledged",
        "stage2-extension": "stage2_extended",
        "stage2-response": "stage2_responded",
        "escalation-refusal": "escalation_refused",
        "outstanding-actions": "",
    }


def test_pack_header_limits_exclusions_and_ombudsman() -> None:
    data = pack()
    assert data["code"] == "Housing Ombudsman Complaint Handling Code 2024"
    assert data["id"] == "housing-ombudsman-2024"
    assert data["limits"] == {
        "max_stages": 2,
        "complaint_window_months": 12,
        "escalation_reasons_required": False,
    }
    assert set(data["exclusions"]) == {"over-12-months", "legal-proceedings", "previously-considered"}
    assert all(e["paragraph"] == "2.2" and e["description"] for e in data["exclusions"].values())
    ombudsman = data["ombudsman"]
    assert ombudsman["webform"] == "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/"
    assert ombudsman["phone"] == "0300 111 3000"
    assert ombudsman["post"] == "Housing Ombudsman Service, PO Box 1484, Unit D, Preston, PR2 0ET"
    assert "13 January 2026" in ombudsman["email_note"]
    assert {"name", "website", "email"} <= ombudsman.keys()


@pytest.mark.parametrize("letter_type", TYPES, ids=str)
def test_elements_are_well_formed(letter_type: LetterType) -> None:
    ids = [e["id"] for e in elements(letter_type)]
    assert len(ids) == len(set(ids)), ids
    names = field_names(letter_type)
    for element in elements(letter_type):
        where = f"{letter_type}.{element['id']}"
        assert KEBAB.fullmatch(element["id"]), where
        assert element["description"] and isinstance(element["paragraph"], str), where
        assert element["tag"] in TAGS, where
        assert element.get("patterns", []) or element.get("case_check") or element.get("binds"), (
            f"{where}: no patterns, case_check or binds"
        )
        assert set(element.get("binds", [])) <= set(BINDINGS), where
        assert element.get("case_check", "stage") in CASE_CHECKS, where
        for pattern in [*element.get("patterns", []), *element.get("forbidden_patterns", [])]:
            re.compile(pattern, re.IGNORECASE)
        assert set(element.get("fields", [])) <= names, where
        condition = element.get("applies_when")
        if condition is not None:
            assert condition["field"] in names, where
            assert set(condition) in ({"field", "equals"}, {"field", "present"}), where
    exclusion_ids = set(pack()["exclusions"])
    for element in elements(letter_type):
        condition = element.get("applies_when", {})
        if condition.get("field") == "exclusion":
            assert condition["equals"] in exclusion_ids


def test_every_letter_names_the_reference() -> None:
    for letter_type in LetterType:
        assert "reference" in {e["id"] for e in elements(letter_type)}, letter_type


# -- the field catalogue ---------------------------------------------------------------


def test_fields_are_declared_for_every_type_without_clashing() -> None:
    assert set(FIELDS) == set(LetterType)
    for letter_type, specs in FIELDS.items():
        names = [spec.name for spec in specs]
        assert len(names) == len(set(names)), letter_type
        assert not set(names) & AUTOMATIC_CONTEXT, letter_type
        for spec in specs:
            assert spec.type in {"text", "multiline", "date", "list", "bool"}
            assert spec.description
            assert not spec.item_keys or spec.type == "list"


def test_samples_give_every_field_and_valid_values() -> None:
    for letter_type in LetterType:
        context = sample_context(letter_type)
        assert template_variables(letter_type) <= context.keys()
        for spec in FIELDS[letter_type]:
            value = context[spec.name]
            if spec.item_keys:
                assert value and all(set(item) == set(spec.item_keys) for item in value), spec.name
        for decision in context.get("decisions", []):
            assert decision["decision"] in DECISION_VALUES
        if "exclusion" in context:
            assert context["exclusion"] in pack()["exclusions"]


# -- the templates ----------------------------------------------------------------------


@pytest.mark.parametrize("letter_type", TYPES, ids=str)
def test_template_uses_only_declared_variables(letter_type: LetterType) -> None:
    template = DocxTemplate(TEMPLATES / LETTERS[letter_type.value]["template"])
    used = template.get_undeclared_template_variables()
    assert used <= template_variables(letter_type), used - template_variables(letter_type)
    # Every required field is printed or checked somewhere; stage1_handler_name is only
    # compared with handler_name (6.13).
    required = {spec.name for spec in FIELDS[letter_type] if spec.required} - {"stage1_handler_name"}
    assert required <= used, required - used


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("letter_type", TYPES, ids=str)
def test_rendered_letter_has_every_element(letter_type: LetterType, variant: str) -> None:
    context = VARIANTS[variant](letter_type)
    paragraphs = render(letter_type, context)
    text = whole(paragraphs)
    problems = []
    for element in elements(letter_type):
        if applies(element, context) and filled(element, context) and (missing := failing(element, text)):
            problems.append(f"{element['id']}: no match for {missing}")
        if found := forbidden(element, text):
            problems.append(f"{element['id']}: forbidden wording matched {found}")
    assert not problems, "\n".join(problems) + "\n\n" + "\n".join(t for _, t in paragraphs)
    assert "None" not in text.split()
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("letter_type", TYPES, ids=str)
def test_patterns_fail_without_the_paragraphs_they_matched(letter_type: LetterType) -> None:
    """Deleting an enforced element's paragraphs makes at least one of its patterns fail:
    the patterns really find that element. Checked twice: dropping every matched
    paragraph, and dropping only matched body paragraphs (so the page header, which
    carries the reference and the date, cannot stand in for the element)."""
    context = sample_context(letter_type)
    paragraphs = render(letter_type, context)
    problems = []
    for element in elements(letter_type):
        if not (enforced(element) and element.get("patterns", []) and applies(element, context)):
            continue
        hit = [any(matches(p, text) for p in element.get("patterns", [])) for _, text in paragraphs]
        everywhere = [para for para, drop in zip(paragraphs, hit, strict=True) if not drop]
        body_only = [
            para for para, drop in zip(paragraphs, hit, strict=True) if not (drop and para[0] == "body")
        ]
        for label, kept in (("all", everywhere), ("body", body_only)):
            if not failing(element, whole(kept)):
                problems.append(f"{element['id']}: still present after dropping matched paragraphs ({label})")
    assert not problems, "\n".join(problems)


def test_refusal_for_other_exclusions_skips_the_time_limit() -> None:
    for exclusion, wording in (
        ("legal-proceedings", "legal proceedings"),
        ("previously-considered", "already considered"),
    ):
        context = sample_context(
            LetterType.REFUSAL, exclusion=exclusion, issue_date=None, discretion_considered=None
        )
        text = whole(render(LetterType.REFUSAL, context))
        assert wording in text
        assert "discretion" not in text and "12 months" not in text
        for element in elements(LetterType.REFUSAL):
            if applies(element, context):
                assert not failing(element, text), element["id"]
            else:
                assert element["id"] == "time-limit"


def test_ombudsman_details_lead_with_the_online_form_and_phone_never_email() -> None:
    ombudsman = pack()["ombudsman"]
    for letter_type in LetterType:
        text = whole(render(letter_type, sample_context(letter_type)))
        assert ombudsman["email"] not in text, letter_type
        assert ombudsman["webform"] in text and ombudsman["phone"] in text, letter_type
        assert text.index(ombudsman["webform"]) < text.index(ombudsman["phone"]), letter_type
        if ombudsman["post"] in text:
            assert text.index(ombudsman["phone"]) < text.index(ombudsman["post"]), letter_type


def test_reference_and_date_are_in_the_page_header() -> None:
    for letter_type in LetterType:
        context = sample_context(letter_type)
        header = whole(p for p in render(letter_type, context) if p[0] == "header")
        assert f"Our reference: {context['reference']}" in header
        assert f"Date: {context['letter_date']}" in header
        assert context["landlord"]["name"] in header  # "&" survives autoescape


def test_multiline_fields_keep_their_line_breaks() -> None:
    context = sample_context(LetterType.STAGE1_EXTENSION)
    template = DocxTemplate(TEMPLATES / "stage1-extension.docx")
    template.render(
        for_docxtpl(LetterType.STAGE1_EXTENSION, context), jinja_env=SandboxedEnvironment(autoescape=True)
    )
    out = io.BytesIO()
    template.save(out)
    raw = [text for _, text in letter_paragraphs(out.getvalue())]
    assert any("\n" in text and "structural engineer" in text for text in raw)


# -- 6.12: the forbidden wording catches demands for reasons, and only those -----------

DEMANDS_FOR_REASONS = [
    "Please give your reasons for escalating your complaint.",  # seed 002's "clear reasons"
    "You must provide clear reasons why you want a stage 2 review.",
    "You need to explain why you are unhappy before we escalate your complaint.",
    "Requests without clear reasons will not be accepted for stage 2.",
    "Reasons for escalation must be given in writing.",
    "We will only escalate to stage 2 if you can show the response was factually inaccurate.",
]
NOT_DEMANDS = [
    "You do not have to give reasons for asking for stage 2.",
    "You don't need to give reasons for asking for stage 2.",
    "You never need to give reasons for wanting stage 2, and that has played no part in our decision.",
    "You did not have to give reasons for asking for stage 2. But we want to understand why you are "
    "still unhappy.",
    "It helps us if you tell us which parts of our response you are still unhappy with.",
    "The reasons for our decision: the repair was late.",
]


def _no_reasons_element(letter_type: LetterType) -> dict[str, Any]:
    (element,) = [e for e in elements(letter_type) if e["id"] == "no-reasons-required"]
    return element


@pytest.mark.parametrize(
    "letter_type",
    [LetterType.STAGE1_RESPONSE, LetterType.STAGE2_ACKNOWLEDGEMENT, LetterType.ESCALATION_REFUSAL],
    ids=str,
)
def test_forbidden_wording_catches_demands_for_reasons(letter_type: LetterType) -> None:
    element = _no_reasons_element(letter_type)
    for sentence in DEMANDS_FOR_REASONS[:4]:
        assert forbidden(element, normalise(sentence)), sentence
    for sentence in NOT_DEMANDS:
        assert not forbidden(element, normalise(sentence)), sentence


def test_escalation_refusal_may_not_rest_on_missing_reasons() -> None:
    element = _no_reasons_element(LetterType.ESCALATION_REFUSAL)
    assert forbidden(element, "We cannot escalate because you have not given any reasons for stage 2.")


def test_stage1_response_forbids_grounds_only_escalation() -> None:
    element = _no_reasons_element(LetterType.STAGE1_RESPONSE)
    for sentence in DEMANDS_FOR_REASONS:
        assert forbidden(element, normalise(sentence)), sentence


def test_stage2_response_has_no_democratic_filter_wording() -> None:
    (element,) = [e for e in elements(LetterType.STAGE2_RESPONSE) if e["id"] == "no-democratic-filter"]
    assert forbidden(element, "You must wait eight weeks or ask a designated person to refer you.")
