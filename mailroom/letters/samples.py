"""Realistic sample contexts for the nine letter types: what `mailroom templates
check` renders every template with, so that a name a template uses and a draft
would not give fails there, not on a resident's letter; the tests use them too.

``sample_context(letter_type)`` is what the renderer would hand docxtpl for a
draft: the automatic context (``mailroom.letters.types.AUTOMATIC_CONTEXT``) plus
every field of the type (``FIELDS``). Values are plain: dates pre-formatted,
multi-line text as ``str`` (the renderer wraps it in ``Listing``), lists of str or
dicts. ``optional=False`` empties every optional field (``None`` or ``[]``), as the
renderer passes a field nobody filled in.
"""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from typing import Any

from mailroom.letters.types import AUTOMATIC_CONTEXT, FIELDS, LetterType
from mailroom.rule_pack_source import BUNDLED_RULE_PACK

PACK_PATH = BUNDLED_RULE_PACK
TEMPLATES = BUNDLED_RULE_PACK.parents[1] / "letter_templates"


@cache
def pack() -> dict[str, Any]:
    with PACK_PATH.open("rb") as f:
        return tomllib.load(f)


LANDLORD = {
    "name": "Riverside & Vale Homes",
    "address": "Quay House, 1 Quay Street, Exeter EX1 1AA",
    "phone": "01392 496 000",
    "email": "complaints@riversidevale.example",
    "website": "www.riversidevale.example",
}

# Stage 1: received Monday 16 November 2026, acknowledged Friday 20 November; the
# response is due 10 working days later, on Friday 4 December.
STAGE1 = {
    "stage": 1,
    "received_date": "Monday 16 November 2026",
    "acknowledged_date": "Friday 20 November 2026",
    "response_due": "Friday 4 December 2026",
    "original_due": "Friday 4 December 2026",
    "extension_cap_date": "Friday 18 December 2026",
}
# Stage 2: asked for on Monday 7 December 2026, acknowledged Friday 11 December; 20
# working days (England, Christmas closures) to Wednesday 13 January 2027.
STAGE2 = {
    "stage": 2,
    "received_date": "Monday 16 November 2026",
    "acknowledged_date": "Friday 11 December 2026",
    "response_due": "Wednesday 13 January 2027",
    "original_due": "Wednesday 13 January 2027",
    "extension_cap_date": "Wednesday 10 February 2027",
}

POINTS = [
    {
        "summary": "The leak from the bathroom of the flat above has damaged your kitchen ceiling "
        "since August, and our repairs team missed two appointments to fix it.",
        "outcome_sought": "The leak fixed and the ceiling repaired and redecorated.",
    },
    {
        "summary": "You were not told why the appointments on 2 and 9 October were cancelled.",
        "outcome_sought": "An explanation and an apology.",
    },
]
STAGE2_POINTS = [
    {
        "summary": "The ceiling has still not been redecorated, although the leak is fixed.",
        "outcome_sought": "The redecoration done and compensation for the time the kitchen was unusable.",
    },
]
DECISIONS = [
    {
        "point": "The leak and the damage to your kitchen ceiling",
        "decision": "upheld",
        "reasons": "Our records show the leak was first reported on 14 August 2026. Our repairs "
        "policy says a leak like this should be fixed within 20 working days. It took 58.",
        "policy_cited": "our Repairs Policy (section 4) and section 11 of the Landlord and Tenant Act 1985",
    },
    {
        "point": "The cancelled appointments",
        "decision": "partly upheld",
        "reasons": "The 2 October appointment was cancelled because the operative was ill, and we "
        "did text you. We did not tell you why the 9 October appointment was cancelled.",
        "policy_cited": "",
    },
]
REMEDIES = [
    {"what": "Repair and redecorate your kitchen ceiling", "by_when": "Friday 18 December 2026"},
    {
        "what": "Pay you £150 compensation for the distress and inconvenience",
        "by_when": "Friday 11 December 2026",
    },
]
OUTSTANDING = [
    {
        "what": "Redecorate the kitchen ceiling once the plaster has dried",
        "by_when": "Friday 15 January 2027",
    },
]


def _fields(letter_type: LetterType) -> dict[str, Any]:
    if letter_type is LetterType.STAGE1_ACKNOWLEDGEMENT:
        return {
            "points": POINTS,
            "responsible_for": [
                "The repair of the leak and the ceiling",
                "How our repairs team kept you informed",
            ],
            "not_responsible_for": [
                "The damage to your own belongings, which is a matter for your home contents insurance"
            ],
            "handler_name": "Sam Okafor",
            "adjustments": "Letters in large print.",
        }
    if letter_type in (LetterType.STAGE1_EXTENSION, LetterType.STAGE2_EXTENSION):
        return {
            "extension_reason": "We need a structural engineer to inspect the ceiling before we can "
            "decide what caused the damage.\nThe earliest appointment is on 10 December.",
            # Past the extension cap (18 December / 10 February), hence the good reason.
            "new_date": "Wednesday 23 December 2026"
            if letter_type is LetterType.STAGE1_EXTENSION
            else "Friday 12 February 2027",
            "good_reason": "The engineer's report will take five working days after the visit.",
            "update_interval": "every Friday by phone",
            "handler_name": "Sam Okafor",
        }
    if letter_type is LetterType.REFUSAL:
        return {
            "refusal_reason": "Your complaint is about the condition of the fence in 2024. The fence "
            "was replaced in March 2024 and you did not contact us about it until this month.",
            "exclusion": "over-12-months",
            "issue_date": "Tuesday 5 March 2024",
            "discretion_considered": "We looked at whether anything stopped you raising this sooner, "
            "such as illness. We did not find a reason to accept the complaint late.",
            "alternative_route": "If the fence is damaged now, you can report a repair on 01392 496 000.",
        }
    if letter_type is LetterType.STAGE1_RESPONSE:
        return {
            "points": POINTS,
            "decisions": DECISIONS,
            "what_went_wrong": "We took too long to fix the leak, and we did not tell you why an "
            "appointment was cancelled.",
            "remedies": REMEDIES,
            "impact": "You could not use part of your kitchen for several weeks.",
            "outstanding_actions": OUTSTANDING,
            "learning": "We have changed how we tell residents about cancelled appointments.",
            "new_issues": "You also told us about a broken light in the stairwell. That is not "
            "related to this complaint, so we have logged it as a new complaint and will write to you "
            "about it separately.",
            "handler_name": "Sam Okafor",
        }
    if letter_type is LetterType.STAGE2_ACKNOWLEDGEMENT:
        return {
            "escalation_date": "Monday 7 December 2026",
            "points": STAGE2_POINTS,
            "responsible_for": ["The redecoration of the ceiling", "Our stage 1 remedy"],
            "not_responsible_for": [],
            "handler_name": "Priya Shah",
            "stage1_handler_name": "Sam Okafor",
            "adjustments": None,
        }
    if letter_type is LetterType.STAGE2_RESPONSE:
        return {
            "points": STAGE2_POINTS,
            "decisions": [
                {
                    "point": "The redecoration of the ceiling",
                    "decision": "upheld",
                    "reasons": "We promised it by 18 December 2026 and did not do it.",
                    "policy_cited": "our Repairs Policy (section 4)",
                }
            ],
            "what_went_wrong": "We did not redecorate the ceiling by the date we promised.",
            "remedies": [
                {"what": "Pay you a further £100 compensation", "by_when": "Friday 22 January 2027"}
            ],
            "impact": "You could not use your kitchen properly over Christmas.",
            "outstanding_actions": OUTSTANDING,
            "learning": "Repairs promised in a complaint response are now tracked weekly by a manager.",
            "handler_name": "Priya Shah",
            "staff_involved": "our repairs manager and our head of housing services",
        }
    if letter_type is LetterType.ESCALATION_REFUSAL:
        return {
            "escalation_date": "Monday 7 December 2026",
            "refusal_reason": "You have issued a claim about the leak in the county court, and the "
            "claim form was filed on 1 December 2026.",
            "exclusion": "legal-proceedings",
            "alternative_route": "Your solicitor can raise this with our legal team while the claim "
            "is ongoing.",
        }
    return {
        "outstanding_actions": OUTSTANDING,
        "completed": ["Repaired the kitchen ceiling (done on 16 December 2026)"],
        "next_update": "Friday 8 January 2027",
        "cannot_deliver": "We cannot match the original paint colour, which is no longer made. We "
        "will use the closest match, or a colour you choose.",
    }


def sample_context(
    letter_type: LetterType | str, *, optional: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A realistic context for ``letter_type``: the automatic context plus every field."""
    letter_type = LetterType(letter_type)
    stage = STAGE2 if pack()["letters"][letter_type.value]["stage"] == 2 else STAGE1
    context: dict[str, Any] = {
        "reference": "RVH-2026-0042",
        "complaint_id": "c-2026-11-16-0042",
        "letter_date": "Monday 23 November 2026",
        "complainant_name": "Ms Aisha Patel",
        "complainant_address": "Flat 3, 12 Exe View, Exeter EX2 4PQ",
        "landlord": dict(LANDLORD),
        "signatory": {"name": "Jo Bennett", "role": "Complaints Manager"},
        "ombudsman": dict(pack()["ombudsman"]),
        "delay_apology": "",  # issued on time
        **stage,
        **copy.deepcopy(_fields(letter_type)),
    }
    if letter_type is LetterType.OUTSTANDING_ACTIONS:
        context["stage"] = 1
    if not optional:
        for spec in FIELDS[letter_type]:
            if not spec.required:
                context[spec.name] = [] if spec.type == "list" else None
    context.update(overrides)
    assert context.keys() >= AUTOMATIC_CONTEXT
    return context
