"""What staff add to a case's record besides mail and letters (Code 5.12: the full
record): notes of calls, and documents filed under a category that says which
section of the evidence pack they belong in (docs/records.md).

A call is a case event (kind ``call_noted``) so it sits on the audit trail with the
steps; a filed document is stored like a scanned complaint (``other_channels``):
staged, then published under the case's folder, its hash in ``documents``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailroom.errors import UserError
from mailroom.filing import folder_name
from mailroom.intake import document_rows
from mailroom.publishing import write_case_manifest
from mailroom.records.erased import erased_refusal
from mailroom.records.kinds import CallDirection, FiledCategory
from mailroom.services import Services
from mailroom.store.schema import Complaint

CALL_NOTED = "call_noted"
MAX_CALL_SUMMARY = 20_000  # characters: a long note, bounded
MAX_FILED_BYTES = 50 * 2**20  # one filed document


@dataclass(frozen=True)
class CallNote:
    at: datetime  # when the call took place (aware)
    direction: CallDirection
    party: str  # who the call was with: "Ms A Resident", "her son (representative)"
    summary: str
    by: str = ""  # who took the call


class CaseFileError(UserError):
    """A call or document that cannot be recorded; the message is one line."""


def record_call(services: Services, complaint_id: str, call: CallNote) -> int:
    """Note a call on the case; returns the event's id."""
    if call.at.tzinfo is None:
        raise CaseFileError("the call's time needs a time zone")
    if call.at > services.clock.now():
        raise CaseFileError(f"the call's time {call.at.isoformat()} is in the future")
    summary = call.summary.strip()
    if not summary:
        raise CaseFileError("a call note needs a summary of what was said")
    if len(summary) > MAX_CALL_SUMMARY:
        raise CaseFileError(f"the summary is {len(summary)} characters; at most {MAX_CALL_SUMMARY}")
    party = " ".join(call.party.split())[:300]
    with services.store.transaction() as repo:
        _check_case(repo.get_complaint(complaint_id), complaint_id)
        payload = {"direction": call.direction.value, "with": party, "summary": summary}
        if call.by:
            payload["by"] = call.by
        way = "from" if call.direction is CallDirection.INCOMING else "to"
        detail = f"{call.direction.value} call {way} {party or 'the resident'}"
        return repo.add_event_returning_id(
            call.at, CALL_NOTED, detail, complaint_id, payload=json.dumps(payload, sort_keys=True)
        )


def file_documents(
    services: Services,
    complaint_id: str,
    paths: list[Path],
    category: FiledCategory,
    by: str = "",
) -> int:
    """File documents on a case under ``category``; returns how many were filed."""
    if not paths:
        raise CaseFileError("name at least one file to file")
    files = [(path.name, _read(path)) for path in paths]
    now = services.clock.now()
    token = uuid.uuid4().hex[:16]
    name = folder_name(now, token, kind=category.value)
    folder = f"{complaint_id}/{name}"
    with services.store.transaction() as repo:
        _check_case(repo.get_complaint(complaint_id), complaint_id)
        filed = services.storage.stage_files(token, name, files, category.value)
        services.storage.sync()
        repo.add_documents(document_rows(folder, filed, None, complaint_id))
        who = f" by {by}" if by else ""
        names = ", ".join(file_name for file_name, _ in files)
        repo.add_event(now, "documents_filed", f"{category.value}{who}: {names}", complaint_id=complaint_id)
    services.storage.publish(token, folder)
    with services.store.transaction() as repo:
        write_case_manifest(services, repo, complaint_id)
    services.storage.sync()
    return len(files)


def _check_case(complaint: Complaint | None, complaint_id: str) -> None:
    if complaint is None:
        raise CaseFileError(f"no complaint {complaint_id}")
    erased = erased_refusal(complaint)
    if erased is not None:
        raise CaseFileError(erased)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILED_BYTES:
            raise CaseFileError(f"{path.name}: {size} bytes; at most {MAX_FILED_BYTES} a document")
        return path.read_bytes()
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
