"""The nine letter types mailroom drafts and the fields a draft of each type takes.

The required *content* of each letter (elements, Code paragraphs, regex checks)
is data in ``rules/housing-ombudsman-2024.toml`` (``[letters.<type>]``); the
templates are ``letter_templates/<type>.docx``. This module only says which
inputs a member of staff supplies for each type, on top of the case facts
mailroom fills in itself (``AUTOMATIC_CONTEXT``).

Rendering contract (for the renderer):

- every name in ``AUTOMATIC_CONTEXT`` and every field of the type is passed to
  the template; an optional field that was left empty is passed as ``None``
  (text, multiline, date) or ``[]`` (list), never left out, because templates
  are rendered with ``StrictUndefined`` and test optional fields with
  ``{% if name %}``;
- ``multiline`` fields are passed as docxtpl ``Listing`` objects when they have
  text (a ``Listing`` is always true, so pass ``None`` when empty);
- ``date`` fields, like the automatic dates, are passed pre-formatted, e.g.
  ``"Friday 4 December 2026"``;
- ``list`` fields are lists of str, or of dicts with exactly ``item_keys``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "multiline", "date", "list", "bool"]


class LetterType(enum.StrEnum):
    STAGE1_ACKNOWLEDGEMENT = "stage1-acknowledgement"
    STAGE1_EXTENSION = "stage1-extension"
    REFUSAL = "refusal"
    STAGE1_RESPONSE = "stage1-response"
    STAGE2_ACKNOWLEDGEMENT = "stage2-acknowledgement"
    STAGE2_EXTENSION = "stage2-extension"
    STAGE2_RESPONSE = "stage2-response"
    ESCALATION_REFUSAL = "escalation-refusal"
    OUTSTANDING_ACTIONS = "outstanding-actions"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool
    description: str
    # For a list of dicts: the keys of each item (empty for a list of str).
    item_keys: tuple[str, ...] = ()


# Filled by mailroom from the case, the landlord settings and the rule pack;
# never asked of staff. Dates are pre-formatted ("Friday 4 December 2026").
AUTOMATIC_CONTEXT: frozenset[str] = frozenset(
    {
        "reference",  # the case reference printed on every letter
        "complaint_id",
        "letter_date",
        "complainant_name",
        "complainant_address",  # may be empty
        "landlord",  # dict: name, address, phone, email, website
        "signatory",  # dict: name, role
        "ombudsman",  # dict: the pack's [ombudsman] table
        "stage",  # 1 or 2
        "received_date",  # the complaint (stage 1) was received
        "acknowledged_date",  # the current stage was acknowledged
        "response_due",  # the computed due date of the current stage's response
        "original_due",  # the due date before any extension
        "extension_cap_date",  # the latest date an extension may reach without good reason
        # The landlord's apology for the delay ([timeliness] delay_apology) when the
        # letter is issued after its clock's deadline, else "" (letters/timeliness.py).
        "delay_apology",
    }
)

# Values a decision on a point may take (6.9c / 6.19c).
DECISION_VALUES: tuple[str, ...] = ("upheld", "not upheld", "partly upheld")

# Shared field definitions ------------------------------------------------------

_POINTS = FieldSpec(
    "points",
    "list",
    True,
    "The complaint definition (5.6): each point the resident is unhappy about and the outcome they want.",
    ("summary", "outcome_sought"),
)
_RESPONSIBLE_FOR = FieldSpec(
    "responsible_for", "list", True, "The parts of the complaint the landlord is responsible for (5.7)."
)
_NOT_RESPONSIBLE_FOR = FieldSpec(
    "not_responsible_for",
    "list",
    False,
    "The parts the landlord is not responsible for, saying who is where known (5.7).",
)
_HANDLER = FieldSpec("handler_name", "text", False, "The member of staff handling the complaint.")
_ADJUSTMENTS = FieldSpec(
    "adjustments", "multiline", False, "Reasonable adjustments or support already agreed (3.1, 5.10)."
)
_DECISIONS = FieldSpec(
    "decisions",
    "list",
    True,
    "One decision per point of the complaint definition, in the same order (6.7/6.18): the point, "
    "the decision ('upheld', 'not upheld' or 'partly upheld'), the reasons, and the policy, law or good "
    "practice relied on (may be empty).",
    ("point", "decision", "reasons", "policy_cited"),
)
_WHAT_WENT_WRONG = FieldSpec(
    "what_went_wrong",
    "multiline",
    False,
    "What went wrong, acknowledged plainly (7.1). Leave empty when nothing was found to be wrong.",
)
_REMEDIES = FieldSpec(
    "remedies",
    "list",
    False,
    "What the landlord will do to put things right, each with the date it will be done by (7.1, 7.3).",
    ("what", "by_when"),
)
_IMPACT = FieldSpec(
    "impact",
    "multiline",
    False,
    "The impact on the resident the remedy reflects (7.2); needed with remedies.",
)
_OUTSTANDING = FieldSpec(
    "outstanding_actions",
    "list",
    False,
    "Actions still to be completed after the response, each with a date (6.6/6.17, 7.3).",
    ("what", "by_when"),
)
_LEARNING = FieldSpec("learning", "multiline", False, "What the landlord has learned from the complaint.")
_NEW_ISSUES = FieldSpec(
    "new_issues",
    "multiline",
    False,
    "Issues raised after the complaint was made: how related ones were included and which were logged "
    "as a new complaint (6.8).",
)
_EXTENSION_REASON = FieldSpec(
    "extension_reason",
    "multiline",
    True,
    "Why more time is needed, clearly explained, in full sentences (6.4/6.15).",
)
_NEW_DATE = FieldSpec("new_date", "date", True, "The new date the response will be sent by (6.4/6.15).")
_GOOD_REASON = FieldSpec(
    "good_reason",
    "multiline",
    False,
    "The good reason for going past the extension cap (6.4/6.15); only when new_date is after "
    "extension_cap_date.",
)
_UPDATE_INTERVAL = FieldSpec(
    "update_interval", "text", False, "How often updates were agreed (5.9), e.g. 'every Friday by phone'."
)
_REFUSAL_REASON = FieldSpec(
    "refusal_reason",
    "multiline",
    True,
    "Why this complaint falls within the exclusion, specific to this case and evidenced (2.1, 2.4; 5.11).",
)
_EXCLUSION = FieldSpec(
    "exclusion",
    "text",
    True,
    "The id of the exclusion relied on, from the pack's [exclusions] (2.2), e.g. 'over-12-months'.",
)
_ALTERNATIVE_ROUTE = FieldSpec(
    "alternative_route", "multiline", False, "Another route that may help the resident, if any."
)
_ESCALATION_DATE = FieldSpec(
    "escalation_date", "date", True, "The date the resident asked for stage 2 (6.11)."
)

FIELDS: dict[LetterType, tuple[FieldSpec, ...]] = {
    LetterType.STAGE1_ACKNOWLEDGEMENT: (
        _POINTS,
        _RESPONSIBLE_FOR,
        _NOT_RESPONSIBLE_FOR,
        _HANDLER,
        _ADJUSTMENTS,
    ),
    LetterType.STAGE1_EXTENSION: (
        _EXTENSION_REASON,
        _NEW_DATE,
        _GOOD_REASON,
        _UPDATE_INTERVAL,
        _HANDLER,
    ),
    LetterType.REFUSAL: (
        _REFUSAL_REASON,
        _EXCLUSION,
        FieldSpec(
            "issue_date",
            "date",
            False,
            "When the issue occurred or the resident became aware of it (2.3); needed when the "
            "exclusion is 'over-12-months'.",
        ),
        FieldSpec(
            "discretion_considered",
            "multiline",
            False,
            "How discretion to accept an older complaint was considered and why it was not used (2.3); "
            "needed when the exclusion is 'over-12-months'.",
        ),
        _ALTERNATIVE_ROUTE,
    ),
    LetterType.STAGE1_RESPONSE: (
        _POINTS,
        _DECISIONS,
        _WHAT_WENT_WRONG,
        _REMEDIES,
        _IMPACT,
        _OUTSTANDING,
        _LEARNING,
        _NEW_ISSUES,
        _HANDLER,
    ),
    LetterType.STAGE2_ACKNOWLEDGEMENT: (
        _ESCALATION_DATE,
        FieldSpec(
            "points",
            "list",
            True,
            "The stage 2 complaint definition (6.11, 5.6): what is still unresolved and the outcome wanted.",
            ("summary", "outcome_sought"),
        ),
        _RESPONSIBLE_FOR,
        _NOT_RESPONSIBLE_FOR,
        FieldSpec(
            "handler_name",
            "text",
            True,
            "The stage 2 reviewer, who must not be the stage 1 handler (6.13).",
        ),
        FieldSpec(
            "stage1_handler_name",
            "text",
            True,
            "Who handled stage 1; not printed, compared with handler_name (6.13).",
        ),
        _ADJUSTMENTS,
    ),
    LetterType.STAGE2_EXTENSION: (
        _EXTENSION_REASON,
        _NEW_DATE,
        _GOOD_REASON,
        _UPDATE_INTERVAL,
        _HANDLER,
    ),
    LetterType.STAGE2_RESPONSE: (
        _POINTS,
        _DECISIONS,
        _WHAT_WENT_WRONG,
        _REMEDIES,
        _IMPACT,
        _OUTSTANDING,
        _LEARNING,
        FieldSpec("handler_name", "text", True, "The stage 2 reviewer."),
        FieldSpec(
            "staff_involved",
            "text",
            True,
            "The staff involved in reaching the final response (6.20), e.g. 'our repairs manager'.",
        ),
    ),
    LetterType.ESCALATION_REFUSAL: (
        _ESCALATION_DATE,
        _REFUSAL_REASON,
        _EXCLUSION,
        _ALTERNATIVE_ROUTE,
    ),
    LetterType.OUTSTANDING_ACTIONS: (
        FieldSpec(
            "outstanding_actions",
            "list",
            True,
            "The actions still outstanding, each with the date it will be done by (6.6/6.17, 7.3).",
            ("what", "by_when"),
        ),
        FieldSpec("completed", "list", False, "Actions completed since the last letter."),
        FieldSpec("next_update", "date", False, "When the next update will be sent (5.9)."),
        FieldSpec(
            "cannot_deliver",
            "multiline",
            False,
            "Anything agreed that can no longer be done as planned: why, and what will happen instead.",
        ),
    ),
}


def field_names(letter_type: LetterType) -> frozenset[str]:
    """The names of the fields a draft of ``letter_type`` takes."""
    return frozenset(spec.name for spec in FIELDS[letter_type])


def template_variables(letter_type: LetterType) -> frozenset[str]:
    """Every name a template of ``letter_type`` may use."""
    return AUTOMATIC_CONTEXT | field_names(letter_type)
