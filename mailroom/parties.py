"""Who a complaint is from and who else may write about it (issue 8, item 6).

Staff correct the complainant's name, email and postal address, and add or
remove parties with a role. Every change is an event on the audit trail naming
the old and the new value; nothing is rewritten silently. Parties are who may
reply on the case: mail from anyone else quoting its reference goes to triage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mailroom.errors import IntakeError
from mailroom.services import Services
from mailroom.store.schema import Complaint

# "complainant" is kept in step with the case by ``edit_complainant``, never added by hand.
PARTY_ROLES = ("representative", "mp", "councillor", "other")


@dataclass(frozen=True)
class ComplainantEdit:
    name: str | None = None
    email: str | None = None
    postal_address: str | None = None


def edit_complainant(services: Services, complaint_id: str, edit: ComplainantEdit, by: str = "") -> list[str]:
    """Apply ``edit``; returns the fields changed (none: nothing is recorded)."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = _case(repo.get_complaint(complaint_id), complaint_id)
        before = {
            "name": complaint.complainant_name,
            "email": complaint.complainant_email,
            "postal_address": complaint.postal_address,
        }
        after = dict(before)
        if edit.name is not None:
            if not edit.name.strip():
                raise IntakeError("--name: the complainant's name cannot be empty")
            after["name"] = " ".join(edit.name.split())
        if edit.email is not None:
            after["email"] = _address(edit.email, "--email", allow_empty=True)
        if edit.postal_address is not None:
            after["postal_address"] = edit.postal_address.strip()
        if complaint.contact_preference == "post" and not after["postal_address"]:
            raise IntakeError("letters go by post on this case: it needs a postal address")
        if complaint.contact_preference == "email" and not after["email"] and after["postal_address"]:
            complaint.contact_preference = "post"  # no address left to email: letters go by post
        changed = [key for key in after if after[key] != before[key]]
        if not changed:
            return []
        if before["email"] != after["email"]:
            roles = {party.email: party.role for party in repo.parties(complaint_id)}
            if before["email"] and roles.get(before["email"].lower()) == "complainant":
                repo.remove_party(complaint_id, before["email"])  # an MP who wrote stays a party
            if after["email"]:
                repo.remove_party(complaint_id, after["email"])  # was another role: now the complainant
                repo.add_party(complaint_id, after["email"], after["name"], "complainant")
        complaint.complainant_name = after["name"]
        complaint.complainant_email = after["email"]
        complaint.postal_address = after["postal_address"]
        detail = "; ".join(f"{key}: {before[key]!r} -> {after[key]!r}" for key in changed)
        payload = json.dumps({"before": before, "after": after, "by": by}, ensure_ascii=False)
        who = f" by {by}" if by else ""
        repo.add_event_returning_id(now, "complainant_edited", detail + who, complaint_id, payload)
        return changed


def add_party(services: Services, complaint_id: str, email: str, name: str, role: str, by: str = "") -> None:
    if role not in PARTY_ROLES:
        raise IntakeError(f"--role: {role!r} is not one of {', '.join(PARTY_ROLES)}")
    address = _address(email, "EMAIL")
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = _case(repo.get_complaint(complaint_id), complaint_id)
        if address == complaint.complainant_email.lower():
            raise IntakeError(f"{address} is the complainant on {complaint_id}")
        if repo.is_party(complaint_id, address):
            raise IntakeError(f"{address} is already a party to {complaint_id}")
        repo.add_party(complaint_id, address, " ".join(name.split()), role)
        who = f" by {by}" if by else ""
        repo.add_event(now, "party_added", f"{role} {name} <{address}>{who}", complaint_id=complaint_id)


def remove_party(services: Services, complaint_id: str, email: str, by: str = "") -> None:
    address = _address(email, "EMAIL")
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = _case(repo.get_complaint(complaint_id), complaint_id)
        if address == complaint.complainant_email.lower():
            raise IntakeError(f"{address} is the complainant: change it with `cases edit --email`")
        if not repo.remove_party(complaint_id, address):
            raise IntakeError(f"{address} is not a party to {complaint_id}")
        who = f" by {by}" if by else ""
        repo.add_event(now, "party_removed", f"<{address}>{who}", complaint_id=complaint_id)


def _case(complaint: Complaint | None, complaint_id: str) -> Complaint:
    if complaint is None:
        raise IntakeError(f"no complaint {complaint_id}")
    return complaint


def _address(text: str, option: str, allow_empty: bool = False) -> str:
    address = text.strip().lower()
    if not address and allow_empty:
        return ""
    local, at, domain = address.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() or c in "<>,;\"'" for c in address):
        raise IntakeError(f"{option}: not an email address: {text!r}")
    return address
