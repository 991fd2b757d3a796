"""A letter's check as the review desk shows it: one row per element the Code asks
of the letter, in plain English, with its Code paragraph, what became of it and why;
what stops the letter going out first.

Pure: input is a ``CheckResult`` or what ``letters.check_json`` stores of one
(``CheckResult.to_json()``), so the desk can show the check of any revision without
checking it again. The wording comes from the rule pack (each element's
``description``) and the checker (its ``reason``); this module only orders and
relabels it, and takes out what is written for the command line or for the rule
pack's authors rather than for the person reviewing the letter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mailroom.letters.check import CheckResult
from mailroom.letters.form_fields import label_for

__all__ = ["MISSING", "NOT_APPLICABLE", "PASSED", "WARNING", "ChecklistRow", "checklist", "code_label"]

RowStatus = Literal["missing", "warning", "passed", "not applicable"]
MISSING: RowStatus = "missing"
WARNING: RowStatus = "warning"
PASSED: RowStatus = "passed"
NOT_APPLICABLE: RowStatus = "not applicable"

# The checker's statuses as the desk says them. An enforced failure blocks approval
# ("missing": the resident would not be told something the Code requires); a failure
# of an unconfirmed or good-practice element already arrives as "warn".
_STATUS: dict[str, RowStatus] = {"fail": MISSING, "warn": WARNING, "pass": PASSED, "skip": NOT_APPLICABLE}
# What to look at first: what blocks approval, then what deserves a look.
_ORDER = {MISSING: 0, WARNING: 1, PASSED: 2, NOT_APPLICABLE: 3}

# Paragraph values of the rule pack that are not Code paragraph numbers.
_SOURCES = {
    "HOS contacts": "Ombudsman's contact details",
    "HOS guidance": "Ombudsman's guidance",
    "policy": "Landlord's policy",
}
_PARAGRAPHS = re.compile(r"\d+\.\d+(?:\s*[/,-]\s*\d+\.\d+)*")


@dataclass(frozen=True)
class ChecklistRow:
    element_id: str
    description: str  # what the letter must do, in plain English
    paragraph: str  # the Code paragraph(s) as the rule pack gives them: "5.6", "6.3/6.4", ""
    code_label: str  # how to show that: "Code 5.6", "Code 6.3, 6.4", "Good practice"
    status: RowStatus
    reason: str  # why, as the checker found it, without its "Fix:"
    fix: str  # how to put it right ("" when nothing to fix)
    blocks_approval: bool  # a missing element: the letter cannot be approved while it is


def code_label(paragraph: str, severity: str = "block") -> str:
    """``"5.6"`` -> ``"Code 5.6"``, ``"6.3/6.4"`` -> ``"Code 6.3, 6.4"``; a source that is
    not a paragraph in words; no paragraph: "Good practice" for a good-practice element,
    else "Letter quality" (mailroom's own checks, such as leftover placeholders)."""
    text = paragraph.strip()
    if not text:
        return "Good practice" if severity == "info" else "Letter quality"
    if text in _SOURCES:
        return _SOURCES[text]
    if _PARAGRAPHS.fullmatch(text):
        parts = re.split(r"\s*([/,-])\s*", text)
        # "2.1-2.5" stays a range; "6.3/6.4" and "6.3, 6.4" are two paragraphs.
        return "Code " + "".join(", " if part in "/," else "-" if part == "-" else part for part in parts)
    return f"Code {text}"


def checklist(check: CheckResult | Mapping[str, Any] | str) -> list[ChecklistRow]:
    """The rows of a check (a ``CheckResult``, its ``to_json()``, or that as stored
    text): missing elements first, then warnings, passed and not applicable, each
    group in the rule pack's order."""
    elements = _elements(check)
    rows = [_row(element) for element in elements]
    return sorted(rows, key=lambda row: _ORDER[row.status])  # stable: the pack's order within


def _elements(check: CheckResult | Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    if isinstance(check, CheckResult):
        return list(check.to_json()["elements"])
    data = json.loads(check) if isinstance(check, str) else check
    return [e for e in data.get("elements", []) if isinstance(e, Mapping)]


def _row(element: Mapping[str, Any]) -> ChecklistRow:
    raw = str(element.get("status", ""))
    status = _STATUS.get(raw, WARNING)  # an unknown status is shown, never hidden as passed
    enforced = bool(element.get("enforced", True))
    reason, _, fix = _plain_reason(str(element.get("reason", ""))).partition(". Fix: ")
    if not fix and _PLACEHOLDER.match(reason):
        fix = _PLACEHOLDER_FIX
    paragraph = str(element.get("paragraph", ""))
    return ChecklistRow(
        element_id=str(element.get("id", "")),
        description=_plain_description(str(element.get("description", ""))),
        paragraph=paragraph,
        code_label=code_label(paragraph, str(element.get("severity", "block"))),
        status=status,
        reason=reason.strip(),
        fix=fix.strip() if status in (MISSING, WARNING) else "",
        blocks_approval=status == MISSING and enforced,
    )


# Asides in the rule pack's descriptions meant for its authors: which clock times an
# element or which fields are compared ("the stage1_acknowledgement clock times it",
# "compare decisions with points"), and how sure the wording is ("HOS contact
# details, verified").
_ASIDE = re.compile(r"\s*\(([^()]*)\)")
_AUTHORS_ASIDE = re.compile(r"\w_\w|^compare\b|\bverified\b", re.IGNORECASE)


def _plain_description(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        return "" if _AUTHORS_ASIDE.search(match.group(1)) else match.group(0)

    return " ".join(_ASIDE.sub(keep, text).split())


# The checker gives no fix for a placeholder: it is always the same one.
_PLACEHOLDER = re.compile(r"(?:left as a placeholder|leftover placeholder)\b")
_PLACEHOLDER_FIX = "replace it with the real text: fill in the field on the form, or edit the letter"

# The checker writes its fixes for the command line ("draft again with --field
# outcome_sought=..."); on the desk the same fix is filling in the field on the form.
_CLI_FIELD_FIX = re.compile(r"draft again with --field (\w+)=\.\.\.")
_CLI_CASE_HINT = re.compile(r"\s*\(no case: give --case\)")


def _plain_reason(text: str) -> str:
    text = _CLI_FIELD_FIX.sub(lambda m: f"fill in {label_for(m.group(1))!r} on the form", text)
    text = text.replace("draft the letter again from its fields", "revise the letter from its fields")
    return _CLI_CASE_HINT.sub("", text)
