"""Complaints made by phone, letter, in person or on social media (Code 1.2:
"however made"): staff log them with the real date received and any scans."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailroom.calendar_source import CALENDAR_YEARS
from mailroom.clock import LONDON
from mailroom.deadline_store import start_new_cases
from mailroom.domain.models import Channel
from mailroom.errors import IntakeError as IntakeError
from mailroom.filing import folder_name
from mailroom.intake import document_rows
from mailroom.publishing import write_case_manifest
from mailroom.reports.categories import suggestion_for
from mailroom.services import Services
from mailroom.store.schema import Complaint


@dataclass(frozen=True)
class OtherChannelComplaint:
    channel: Channel
    received_at: datetime  # aware
    name: str
    email: str
    subject: str
    description: str
    documents: tuple[Path, ...] = ()
    logged_by: str = ""
    postal_address: str = ""
    contact_preference: str = "email"  # or "post"


def log_complaint(services: Services, request: OtherChannelComplaint) -> str:
    now = services.clock.now()
    if request.channel is Channel.EMAIL:
        raise IntakeError("email complaints are logged by the worker from the mailbox")
    if request.received_at.tzinfo is None:
        raise IntakeError("received date needs a time zone")
    if request.received_at > now:
        raise IntakeError(f"received date {request.received_at.isoformat()} is in the future")
    year = request.received_at.astimezone(LONDON).year
    if year not in CALENDAR_YEARS:  # a typo in the year: such a case could never have clocks
        raise IntakeError(
            f"received date {request.received_at.date().isoformat()}: the working-day calendar covers "
            f"{CALENDAR_YEARS.start}-{CALENDAR_YEARS.stop - 1}; check the year"
        )
    if not request.name.strip():
        raise IntakeError("complainant name is required")
    check_contact(request.contact_preference, request.email, request.postal_address)
    scans = [(path.name, _read(path)) for path in request.documents]
    token = uuid.uuid4().hex[:16]
    with services.store.transaction() as repo:
        ids = services.settings.ids
        complaint_id = repo.allocate_complaint_id(
            ids.prefix, request.received_at.astimezone(LONDON).year, ids.digits
        )
        repo.add_complaint(
            Complaint(
                id=complaint_id,
                status="open",
                stage=1,
                channel=request.channel.value,
                received_at=request.received_at,
                complainant_name=request.name.strip()[:300],
                complainant_email=request.email.strip().lower()[:320],
                subject=request.subject.strip()[:1000],
                description=request.description,
                flags="",
                created_at=now,
                postal_address=request.postal_address.strip(),
                contact_preference=request.contact_preference,
                category_suggested=suggestion_for(services, request.subject, request.description),
            )
        )
        repo.add_party(complaint_id, request.email.strip(), request.name.strip(), "complainant")
        start_new_cases(services, repo, [(complaint_id, request.received_at)])
        who = f" by {request.logged_by}" if request.logged_by else ""
        repo.add_event(
            now,
            "logged",
            f"stage 1 complaint logged{who} from {request.channel.value} "
            f"received {request.received_at.isoformat()}",
            complaint_id=complaint_id,
        )
        if scans:
            name = folder_name(request.received_at, token, kind="documents")
            folder = f"{complaint_id}/{name}"
            files = services.storage.stage_files(token, name, scans, "scan")
            services.storage.sync()
            repo.add_documents(document_rows(folder, files, None, complaint_id))
            repo.add_event(
                now, "documents_filed", ", ".join(name for name, _ in scans), complaint_id=complaint_id
            )
    if scans:
        services.storage.publish(token, folder)
    with services.store.transaction() as repo:
        write_case_manifest(services, repo, complaint_id)
    services.storage.sync()
    return complaint_id


CONTACT_PREFERENCES = ("email", "post")


def check_contact(preference: str, email: str, postal_address: str) -> None:
    if preference not in CONTACT_PREFERENCES:
        raise IntakeError(f"--prefers: {preference!r} is not one of {', '.join(CONTACT_PREFERENCES)}")
    if preference == "post" and not postal_address.strip():
        raise IntakeError("--prefers post needs --address (where the letters go)")


def set_contact(
    services: Services, complaint_id: str, preference: str | None, postal_address: str | None, by: str = ""
) -> None:
    """Change how the complainant wants letters (e.g. post as a reasonable adjustment, 3.1)."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        if complaint is None:
            raise IntakeError(f"no complaint {complaint_id}")
        new_preference = preference or complaint.contact_preference
        new_address = complaint.postal_address if postal_address is None else postal_address.strip()
        check_contact(new_preference, complaint.complainant_email, new_address)
        complaint.contact_preference, complaint.postal_address = new_preference, new_address
        who = f" by {by}" if by else ""
        repo.add_event(now, "contact_changed", f"letters by {new_preference}{who}", complaint_id=complaint_id)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntakeError(f"cannot read document {path}: {exc.strerror}") from None
