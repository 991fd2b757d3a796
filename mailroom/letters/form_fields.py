"""The review desk's letter form: a letter type's fields as form inputs, and a
posted form back as the fields ``drafts.revise`` takes.

Pure functions over ``types.FIELDS``; no Flask (the desk renders ``LetterForm`` in
its own templates and hands ``request.form`` to ``parse_form``). Input names are
flat, so a plain HTML form without JavaScript can post them:

- a single field: its name (``handler_name``, ``new_date``);
- a list of text: ``<name>-<row>`` (``responsible_for-0``, ``responsible_for-1``);
- a list of items: ``<name>-<row>-<key>`` (``points-0-summary``,
  ``points-1-outcome_sought``).

``describe_form`` adds ``spare_rows`` blank rows to every list so that staff can add
one by filling it in; ``parse_form`` drops rows left blank, renumbers the rest in
the order posted, and ignores any name that is not an input of the type (the CSRF
token, a row key the type does not have), so nothing but the type's fields reaches
validation. Validation itself stays in ``drafts.validate_fields``: its
``FieldErrors.errors`` paths (``points[0].outcome_sought``) are placed back on the
inputs by ``describe_form(..., errors=...)``, against the parsed fields (so the row
numbers match once blank rows are gone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from mailroom.letters.types import DECISION_VALUES, FIELDS, FieldSpec, LetterType

__all__ = [
    "FormData",
    "FormField",
    "FormInput",
    "FormRow",
    "LetterForm",
    "describe_form",
    "form_pairs",
    "input_name",
    "label_for",
    "parse_form",
]

InputKind = Literal["text", "textarea", "date", "checkbox", "select"]
FieldKind = Literal["text", "textarea", "date", "checkbox", "select", "list", "table"]


class FormData(Protocol):
    """What ``parse_form`` reads: werkzeug's ``MultiDict`` (``request.form``) or any
    mapping that iterates over the posted names and gives each one's values with
    ``getlist``."""

    def getlist(self, key: str, /) -> list[Any]: ...

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True)
class FormInput:
    name: str  # the HTML input name (``points-0-summary``)
    label: str
    kind: InputKind
    value: str  # as the input shows it; a checkbox: "true" when ticked, else ""
    hint: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()  # a select's options
    error: str = ""  # the validation problem to show next to it


@dataclass(frozen=True)
class FormRow:
    """One row of a list field: one input for a list of text, one per key for items."""

    index: int
    inputs: tuple[FormInput, ...]
    spare: bool = False  # a blank row for adding one; left out again if still blank
    error: str = ""  # a problem with the row as a whole


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    hint: str  # the field's description (types.FIELDS), with its Code paragraphs
    kind: FieldKind  # one input (text ... select), or rows: "list" of text, "table" of items
    required: bool
    value: Any  # the current value as the fields hold it (None when empty)
    input: FormInput | None = None  # the input of a single field
    rows: tuple[FormRow, ...] = ()  # the rows of a list, spare rows last
    columns: tuple[tuple[str, str], ...] = ()  # a table's (key, label) per column
    error: str = ""  # a problem with the field as a whole ("required")


@dataclass(frozen=True)
class LetterForm:
    letter_type: LetterType
    fields: tuple[FormField, ...]
    # Problems no input shows (a field the type does not have): shown above the form.
    other_errors: dict[str, str]

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)

    @property
    def has_errors(self) -> bool:
        return bool(self.other_errors) or any(_field_has_error(f) for f in self.fields)


def _field_has_error(field: FormField) -> bool:
    if field.error or (field.input is not None and field.input.error):
        return True
    return any(row.error or any(i.error for i in row.inputs) for row in field.rows)


# Labels people read on the form; a name not here is shown with its underscores as spaces.
_LABELS = {
    "points": "Complaint definition",
    "responsible_for": "What we are responsible for",
    "not_responsible_for": "What we are not responsible for",
    "handler_name": "Complaint handler",
    "adjustments": "Adjustments and support",
    "decisions": "Decisions",
    "what_went_wrong": "What went wrong",
    "remedies": "Putting things right",
    "impact": "Impact on the resident",
    "outstanding_actions": "Outstanding actions",
    "learning": "What we have learned",
    "new_issues": "New issues",
    "extension_reason": "Why we need more time",
    "new_date": "New response date",
    "good_reason": "Good reason for going past the extension limit",
    "update_interval": "How often we will give updates",
    "refusal_reason": "Why the complaint is not accepted",
    "exclusion": "Exclusion relied on",
    "issue_date": "When the issue happened",
    "discretion_considered": "How discretion was considered",
    "alternative_route": "Another route that may help",
    "escalation_date": "Date stage 2 was asked for",
    "stage1_handler_name": "Stage 1 complaint handler",
    "staff_involved": "Staff involved",
    "completed": "Completed since the last letter",
    "next_update": "Date of the next update",
    "cannot_deliver": "What can no longer be done as planned",
}
_ITEM_LABELS = {
    "summary": "Point",
    "outcome_sought": "Outcome sought",
    "point": "Point",
    "decision": "Decision",
    "reasons": "Reasons",
    "policy_cited": "Policy, law or good practice relied on",
    "what": "What",
    "by_when": "By when",
}
# Item keys that hold sentences rather than a word or a date.
_LONG_ITEM_KEYS = frozenset({"summary", "outcome_sought", "reasons", "what"})
_ITEM_HINTS = {"by_when": "A date, e.g. 2026-12-18"}
_SINGLE_KINDS: dict[str, InputKind] = {
    "text": "text",
    "multiline": "textarea",
    "date": "date",
    "bool": "checkbox",
}
_TRUE = frozenset({"true", "on", "1", "yes"})


def label_for(name: str) -> str:
    """What a field or item key is called on the form."""
    return _LABELS.get(name) or _ITEM_LABELS.get(name) or name.replace("_", " ").capitalize()


def input_name(path: str) -> str:
    """The input a validation error path belongs to: ``points[0].outcome_sought`` ->
    ``points-0-outcome_sought``, ``responsible_for[1]`` -> ``responsible_for-1``."""
    return re.sub(r"\[(\d+)\]\.?", r"-\1-", path).rstrip("-")


# -- fields -> form ---------------------------------------------------------------------


def describe_form(
    letter_type: LetterType,
    fields: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    exclusions: Sequence[str] = (),
    spare_rows: int = 1,
) -> LetterForm:
    """The form for a letter of ``letter_type`` filled with ``fields`` (the draft's
    ``fields_json``, or what ``parse_form`` made of a post that failed validation),
    with ``errors`` (``FieldErrors.errors``) on their inputs. ``exclusions`` (the ids
    a refusal may rely on, ``drafts.exclusion_ids``) make ``exclusion`` a select."""
    problems = dict(errors or {})
    described = tuple(
        _describe(spec, fields.get(spec.name), problems, exclusions, spare_rows)
        for spec in FIELDS[letter_type]
    )
    placed = {path for path in problems if _placed(path, described)}
    return LetterForm(letter_type, described, {p: m for p, m in problems.items() if p not in placed})


def _placed(path: str, fields: Sequence[FormField]) -> bool:
    name = input_name(path)
    for field in fields:
        if path == field.name:
            return True
        for row in field.rows:
            if row.error and name == f"{field.name}-{row.index}":
                return True
            if any(i.error and i.name == name for i in row.inputs):
                return True
    return False


def _describe(
    spec: FieldSpec,
    value: Any,
    errors: Mapping[str, str],
    exclusions: Sequence[str],
    spare_rows: int,
) -> FormField:
    label, hint = label_for(spec.name), spec.description
    if spec.type != "list":
        choices = tuple(exclusions) if spec.name == "exclusion" else ()
        kind: InputKind = "select" if choices else _SINGLE_KINDS[spec.type]
        shown = ("true" if value is True else "") if kind == "checkbox" else _text(value)
        field_input = FormInput(
            spec.name, label, kind, shown, hint, spec.required, choices, errors.get(spec.name, "")
        )
        return FormField(
            spec.name, label, hint, kind, spec.required, value, input=field_input, error=field_input.error
        )
    items = value if isinstance(value, list) else []
    rows = [_row(spec, index, item, errors) for index, item in enumerate(items)]
    rows += [_row(spec, len(items) + n, None, errors, spare=True) for n in range(max(spare_rows, 0))]
    columns = tuple((key, label_for(key)) for key in spec.item_keys)
    # A list that is not a list at all ("points": "leak") shows its problem on the field.
    return FormField(
        spec.name,
        label,
        hint,
        "table" if spec.item_keys else "list",
        spec.required,
        value,
        rows=tuple(rows),
        columns=columns,
        error=errors.get(spec.name, ""),
    )


def _row(spec: FieldSpec, index: int, item: Any, errors: Mapping[str, str], spare: bool = False) -> FormRow:
    where = f"{spec.name}[{index}]"
    row_error = errors.get(where, "")
    if not spec.item_keys:
        name = f"{spec.name}-{index}"
        single = FormInput(name, label_for(spec.name), "text", _text(item), error=row_error)
        return FormRow(index, (single,), spare, row_error)
    values = item if isinstance(item, Mapping) else {}
    inputs = []
    for key in spec.item_keys:
        choices = DECISION_VALUES if key == "decision" else ()
        kind: InputKind = "select" if choices else "textarea" if key in _LONG_ITEM_KEYS else "text"
        inputs.append(
            FormInput(
                f"{spec.name}-{index}-{key}",
                label_for(key),
                kind,
                _text(values.get(key)),
                _ITEM_HINTS.get(key, ""),
                choices=choices,
                error=errors.get(f"{where}.{key}", ""),
            )
        )
    return FormRow(index, tuple(inputs), spare, row_error)


def _text(value: Any) -> str:
    """A value as an input shows it: text as is, anything else (a wrong type kept
    from a failed post) as its text, nothing as ""."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def form_pairs(form: LetterForm) -> list[tuple[str, str]]:
    """What a browser posts for ``form`` left as it is: (name, value) in page order
    (an unticked checkbox posts nothing)."""
    pairs: list[tuple[str, str]] = []
    for field in form.fields:
        inputs = [field.input] if field.input is not None else [i for row in field.rows for i in row.inputs]
        pairs += [(i.name, i.value) for i in inputs if i.kind != "checkbox" or i.value]
    return pairs


# -- posted form -> fields --------------------------------------------------------------


def parse_form(letter_type: LetterType, form: FormData) -> dict[str, Any]:
    """The fields of ``letter_type`` in a posted form: blank single fields and blank
    list rows left out, list rows in the order of their numbers, text as typed (line
    breaks as ``\\n``; ``validate_fields`` strips it), anything that is not an input of
    the type ignored. The result goes to ``drafts.revise`` (or ``validate_fields``)."""
    names = [name for name in form if isinstance(name, str)]
    fields: dict[str, Any] = {}
    for spec in FIELDS[letter_type]:
        if spec.type == "list":
            value: Any = _rows(spec, form, names)
            if value:
                fields[spec.name] = value
            continue
        posted = [_posted(v) for v in form.getlist(spec.name)]
        if spec.type == "bool":
            if any(v.strip().lower() in _TRUE for v in posted):
                fields[spec.name] = True
            continue
        # One value per single field: a name posted twice (a tampered form) counts once.
        if posted and posted[0].strip():
            fields[spec.name] = posted[0]
    return fields


def _posted(value: Any) -> str:
    # Browsers post a textarea's line breaks as CRLF; letters keep them as "\n".
    text = value if isinstance(value, str) else ""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Row numbers as a form writes them: no sign, no leading zeros ("points-00" is not row 0
# a second time), and short enough that nobody posts a row number as a number to parse.
_ROW = r"(0|[1-9][0-9]{0,5})"


def _rows(spec: FieldSpec, form: FormData, names: Sequence[str]) -> list[Any]:
    if not spec.item_keys:
        pattern = re.compile(rf"{re.escape(spec.name)}-{_ROW}")
        found = {int(m.group(1)): name for name in names if (m := pattern.fullmatch(name))}
        texts = [_first(form, found[index]) for index in sorted(found)]
        return [text for text in texts if text.strip()]
    keys = "|".join(re.escape(key) for key in spec.item_keys)
    pattern = re.compile(rf"{re.escape(spec.name)}-{_ROW}-({keys})")
    rows: dict[int, dict[str, str]] = {}
    for name in names:
        match = pattern.fullmatch(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = _first(form, name)
    items = [{key: rows[index].get(key, "") for key in spec.item_keys} for index in sorted(rows)]
    return [item for item in items if any(value.strip() for value in item.values())]


def _first(form: FormData, name: str) -> str:
    values = form.getlist(name)
    return _posted(values[0]) if values else ""
