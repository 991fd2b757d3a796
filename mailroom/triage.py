"""Mail the rules could not place, decided by a person.

Resolving moves the mail's folder to where the decision puts it, repoints its
documents and records who decided what, and why, on the audit trail.
"""

from __future__ import annotations

import enum

from mailroom.domain.models import Decision, Outcome, ParsedMail
from mailroom.errors import UserError
from mailroom.filing import RAW_NAME, StorageError
from mailroom.ingest.parse import parse_mail
from mailroom.intake import open_complaint_for, target_folder
from mailroom.publishing import write_case_manifest
from mailroom.services import Services


class TriageError(UserError):
    pass


class Resolution(enum.StrEnum):
    ATTACH = "attach"  # a reply on an existing complaint
    NEW = "new"  # a new complaint
    NOT_A_COMPLAINT = "not-a-complaint"  # filed with automatic mail, never answered


def resolve(
    services: Services,
    mail_id: int,
    resolution: Resolution,
    complaint_id: str | None = None,
    note: str = "",
    add_party: bool = False,
) -> str | None:
    """Resolve one open triage item; returns the complaint it now belongs to."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        mail = repo.get_mail(mail_id)
        if mail is None or not mail.triage_open:
            raise TriageError(f"mail {mail_id} is not an open triage item")
        if resolution is Resolution.ATTACH:
            if complaint_id is None or not repo.complaint_exists(complaint_id):
                raise TriageError(f"no complaint {complaint_id!r} to attach mail {mail_id} to")
            outcome = Outcome.REPLY
            if add_party:
                repo.add_party(complaint_id, mail.from_email, mail.from_name, "representative")
        elif resolution is Resolution.NEW:
            parsed = _parsed(services, mail.storage_path)
            decision = Decision(Outcome.COMPLAINT, "triage", "a person decided: new complaint")
            complaint_id = open_complaint_for(services, repo, parsed, mail.received_at, decision)
            outcome = Outcome.COMPLAINT
        else:
            complaint_id, outcome = None, Outcome.AUTOMATIC
        old_folder = mail.storage_path
        new_folder = target_folder(outcome, complaint_id, mail.received_at, mail.token)
        services.storage.move(old_folder, new_folder)
        repo.repoint_documents(mail.id, old_folder, new_folder, complaint_id)
        mail.storage_path, mail.complaint_id, mail.triage_open = new_folder, complaint_id, False
        mail.outcome, mail.rule = outcome.value, "triage"
        mail.reason = f"resolved by a person: {resolution.value}" + (f" ({note})" if note else "")
        repo.add_event(now, "triage_resolved", mail.reason, complaint_id=complaint_id, mail_id=mail.id)
        if complaint_id is not None:
            repo.session.flush()
            write_case_manifest(services, repo, complaint_id)
    return complaint_id


def _parsed(services: Services, folder: str) -> ParsedMail:
    try:
        return parse_mail(services.storage.read(f"{folder}/{RAW_NAME}"))
    except (OSError, StorageError) as exc:
        raise TriageError(f"cannot read the raw mail in {folder}: {exc}") from None
