"""Complaints made by phone, letter, in person or on social media (Code 1.2:
"however made"): staff log them with the real date received and any scans."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailroom.clock import LONDON
from mailroom.deadline_store import start_new_cases
from mailroom.domain.models import Channel
from mailroom.filing import folder_name
from mailroom.intake import document_rows
from mailroom.publishing import write_case_manifest
from mailroom.services import Services
from mailroom.store.schema import Complaint


class IntakeError(Exception):
    pass


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


def log_complaint(services: Services, request: OtherChannelComplaint) -> str:
    now = services.clock.now()
    if request.channel is Channel.EMAIL:
        raise IntakeError("email complaints are logged by the worker from the mailbox")
    if request.received_at.tzinfo is None:
        raise IntakeError("received date needs a time zone")
    if request.received_at > now:
        raise IntakeError(f"received date {request.received_at.isoformat()} is in the future")
    if not request.name.strip():
        raise IntakeError("complainant name is required")
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


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntakeError(f"cannot read document {path}: {exc.strerror}") from None
