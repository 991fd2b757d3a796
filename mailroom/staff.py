"""Who reminders go to: staff members (officers, their managers) and the
officer each case is assigned to."""

from __future__ import annotations

from email.utils import parseaddr

from mailroom.deadline_store import refresh_case
from mailroom.errors import UserError
from mailroom.services import Services
from mailroom.store.schema import StaffMember


class StaffError(UserError):
    pass


def _address(text: str, what: str) -> str:
    address = parseaddr(text.strip())[1].lower()
    if "@" not in address or address != text.strip().lower():
        raise StaffError(f"{what}: not an email address: {text!r}")
    return address


def save_member(
    services: Services, email: str, name: str = "", manager: str = "", digest: bool = False
) -> None:
    """Add or update a staff member."""
    member = StaffMember(
        email=_address(email, "EMAIL"),
        name=name.strip()[:300],
        manager_email=_address(manager, "--manager") if manager else "",
        digest=digest,
        active=True,
    )
    if member.manager_email == member.email:
        raise StaffError(f"{member.email} cannot be their own manager")
    with services.store.transaction() as repo:
        repo.save_staff(member)


def members(services: Services) -> list[StaffMember]:
    with services.store.transaction() as repo:
        return sorted(repo.staff().values(), key=lambda member: member.email)


def assign(services: Services, complaint_id: str, officer: str) -> None:
    """Make ``officer`` the case's officer; reminders follow from the next sweep."""
    address = _address(officer, "OFFICER")
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise StaffError(f"no complaint {complaint_id}")
        if address not in repo.staff():
            raise StaffError(f"{address} is not on the staff list: add them with `mailroom staff add`")
        previous = complaint.officer or "the team"
        complaint.officer = address
        repo.add_event(now, "assigned", f"officer {previous} -> {address}", complaint_id=complaint_id)
        refresh_case(services, repo, complaint_id)
