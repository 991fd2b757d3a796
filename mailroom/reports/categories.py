"""Complaint categories (docs/reports.md, "Categories"): what a complaint is about,
from the landlord policy's list (``[complaints] categories``, else the built-in one in
``domain/policy.py``), for the report's complaints by category.

Staff set a case's category; a case opened from a mail or logged by staff carries a
*suggestion* from simple keyword rules over its text (``suggest_category``), which
staff confirm or replace. A suggestion is never counted as a category by itself.

``suggest_category`` is pure; the rest are use cases.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mailroom.domain.policy import DEFAULT_CATEGORIES, DEFAULT_CATEGORY_KEYWORDS
from mailroom.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mailroom.accounts.audit import Actor
    from mailroom.services import Services
    from mailroom.store.schema import Complaint

log = logging.getLogger(__name__)

# Characters of a case's text a suggestion reads (its subject, description and first
# mail, each and together): bounded time whatever a mail holds. What a complaint is
# about is said at the start.
MAX_TEXT = 20_000
CATEGORY_SET = "category_set"  # the case event recording a category set by a person
AUDIT_ACTION = "case.category"


class CategoryError(UserError):
    """A category that cannot be set; the message is one line."""


# -- the rule (pure) ------------------------------------------------------------------------------


def suggest_category(text: str, keywords: Mapping[str, Sequence[str]]) -> str:
    """The category whose keywords occur most often in ``text``; "" when none occurs.

    A keyword matches at the start of a word, in any case ("leak" finds "Leaking",
    not "bleak"); each occurrence counts once. A tie goes to the category listed
    first in ``keywords`` (the policy's list order). Only the first ``MAX_TEXT``
    characters are read."""
    folded = " ".join(text[:MAX_TEXT].casefold().split())
    best, best_count = "", 0
    for category, words in keywords.items():
        pattern = _pattern(tuple(" ".join(word.casefold().split()) for word in words if word.strip()))
        count = len(pattern.findall(folded)) if pattern is not None else 0
        if count > best_count:
            best, best_count = category, count
    return best


def category_line(category: Mapping[str, str | None]) -> str:
    """How a case's category reads to staff, from ``views.complaint_detail``'s
    "category": set (and by whom), or only suggested, which the figures never count."""
    value, suggested, by = category.get("value"), category.get("suggested"), category.get("by")
    if value:
        return f"{value} (set by {by})" if by else str(value)
    if suggested:
        return f"none (suggested: {suggested}; confirm with `cases category --confirm`)"
    return "none"


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for a category's keywords: escaped literals, longest first, so
    matching is linear in the text."""
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})")


def case_text(*parts: str) -> str:
    """The text a suggestion reads: each distinct part, in order, cut to ``MAX_TEXT`` in all."""
    text = "\n".join(part[:MAX_TEXT] for part in dict.fromkeys(parts) if part)
    return text[:MAX_TEXT]


# -- the policy's list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryList:
    categories: tuple[str, ...]
    keywords: Mapping[str, tuple[str, ...]]  # in list order; categories without keywords left out

    def find(self, given: str) -> str | None:
        """The category ``given`` names (any case, spaces collapsed), as the list spells it."""
        wanted = " ".join(given.split()).casefold()
        return next((name for name in self.categories if name.casefold() == wanted), None)


def category_list(services: Services) -> CategoryList:
    """The landlord policy's categories (``policy.landlord_file``), else the built-in ones."""
    from mailroom.letters.pack import landlord_policy

    policy = landlord_policy(services.settings)
    if policy is None:
        return CategoryList(DEFAULT_CATEGORIES, DEFAULT_CATEGORY_KEYWORDS)
    return CategoryList(policy.categories, policy.category_keywords)


def suggestion_for(services: Services, *parts: str) -> str:
    """The suggested category of a case being opened from these texts. Never stops the
    case from opening: a policy file that no longer reads gives no suggestion (logged)."""
    try:
        keywords = category_list(services).keywords
    except UserError as exc:
        log.warning("no category suggested: %s", exc)
        return ""
    return suggest_category(case_text(*parts), keywords)


# -- use cases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseCategory:
    complaint_id: str
    category: str  # "" = not set
    suggested: str  # "" = no keyword matched
    by: str  # who set or confirmed it; "" = nobody
    choices: tuple[str, ...]  # the policy's list


def suggest_for_case(services: Services, complaint_id: str) -> str:
    """Suggest a category for a stored case again (after the policy's keywords changed)
    from its subject, description and first mail; returns the suggestion (maybe "")."""
    from sqlalchemy import select

    from mailroom.store.schema import Mail

    keywords = category_list(services).keywords
    with services.store.transaction() as repo:
        complaint = _open_case(repo.session, complaint_id)
        first = repo.session.execute(
            select(Mail.subject, Mail.body_text)
            .where(Mail.complaint_id == complaint_id)
            .order_by(Mail.received_at, Mail.id)
            .limit(1)
        ).first()
        mail_parts = (first[0] or "", first[1] or "") if first is not None else ()
        suggestion = suggest_category(
            case_text(complaint.subject, complaint.description, *mail_parts), keywords
        )
        if complaint.category_suggested != suggestion:
            complaint.category_suggested = suggestion
        return suggestion


def set_category(services: Services, complaint_id: str, category: str, by: Actor) -> str:
    """Set the case's category to one of the policy's list (any case); returns it as
    the list spells it. Recorded as a ``category_set`` event and on the audit trail;
    setting the category it already has, by a person, changes nothing."""
    from mailroom.accounts.audit import record

    choices = category_list(services)
    name = choices.find(category)
    if name is None:
        shown = " ".join(category.split())[:80]
        raise CategoryError(f"{shown!r} is not a category; choose one of: {', '.join(choices.categories)}")
    if not by.email.strip():
        raise CategoryError("say who sets the category (--by)")
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = _open_case(repo.session, complaint_id)
        previous = complaint.category
        if previous == name and complaint.category_by:
            return name
        complaint.category, complaint.category_by = name, by.email[:320]
        how = "confirmed the suggestion" if name == complaint.category_suggested else "set"
        detail = f"category {name}: {how} by {by.email}" + (f" (was {previous})" if previous else "")
        payload = {"category": name, "suggested": complaint.category_suggested, "was": previous}
        repo.add_event_returning_id(now, CATEGORY_SET, detail, complaint_id, json.dumps(payload))
        record(
            repo.session, now, by, AUDIT_ACTION, complaint_id=complaint_id, target=f"case {complaint_id}",
            detail=detail,
        )  # fmt: skip
    return name


def confirm_suggestion(services: Services, complaint_id: str, by: Actor) -> str:
    """Make the case's suggested category its category (``set_category``)."""
    suggested = case_category(services, complaint_id).suggested
    if not suggested:
        choices = ", ".join(category_list(services).categories)
        raise CategoryError(f"{complaint_id} has no suggested category; name one of: {choices}")
    return set_category(services, complaint_id, suggested, by)


def case_category(services: Services, complaint_id: str) -> CaseCategory:
    choices = category_list(services).categories
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise CategoryError(f"no complaint {complaint_id}")
        return CaseCategory(
            complaint_id, complaint.category, complaint.category_suggested, complaint.category_by, choices
        )


def _open_case(session: Session, complaint_id: str) -> Complaint:
    """The case, locked to the end of the transaction (an erasure running now finishes
    first); an erased case takes no more changes."""
    from mailroom.records.erased import erased_refusal
    from mailroom.records.retention_store import locked_complaint

    complaint = locked_complaint(session, complaint_id)
    if complaint is None:
        raise CategoryError(f"no complaint {complaint_id}")
    erased = erased_refusal(complaint)
    if erased is not None:
        raise CategoryError(f"{erased}: its category is kept as it was")
    return complaint
