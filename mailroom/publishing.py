"""Move committed mail folders from staging to their final place and keep the
case manifests in step. Idempotent: recovery calls it after a crash."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mailroom.filing import StorageError
from mailroom.services import Services
from mailroom.store.repository import DocumentRow, Repository
from mailroom.store.schema import Document

log = logging.getLogger(__name__)


def publish_unfiled(services: Services) -> int:
    """Publish every committed mail still staged; returns how many were filed.

    A mail whose place is refused (a symlink in the storage tree) is logged in
    one line and stays staged and unfiled, to be published by a later run once
    the link is gone; the others are filed meanwhile, so one planted link never
    stops the worker."""
    with services.store.transaction() as repo:
        mails = repo.unfiled_mails()
        if not mails:
            return 0
        filed = []
        for mail in mails:
            try:
                services.storage.publish(mail.token, mail.storage_path)
            except StorageError as exc:
                log.error("mail %s not filed: %s", mail.id, exc)
                continue
            filed.append(mail)
        cases = sorted({mail.complaint_id for mail in filed if mail.complaint_id})
        for complaint_id, documents in repo.documents_of_cases(cases).items():
            try:
                services.storage.write_case_manifest(complaint_id, _manifest_entries(complaint_id, documents))
            except StorageError as exc:
                log.error("case manifest of %s not written: %s", complaint_id, exc)
        services.storage.sync()  # folders and manifests durable before the mails count as filed
        repo.mark_filed([mail.id for mail in filed])
    return len(filed)


def write_case_manifest(services: Services, repo: Repository, complaint_id: str) -> None:
    """``<complaint-id>/manifest.json``: every file of the case with its SHA-256,
    paths relative to the case folder (what an evidence pack is built from)."""
    documents = repo.documents_of_case(complaint_id)
    services.storage.write_case_manifest(complaint_id, _manifest_entries(complaint_id, documents))


def _manifest_entries(complaint_id: str, documents: Sequence[Document | DocumentRow]) -> list[dict[str, Any]]:
    prefix = f"{complaint_id}/"
    return [
        {
            "path": document.path.removeprefix(prefix),
            "sha256": document.sha256,
            "size": document.size,
            "kind": document.kind,
            "original_name": document.original_name,
            "mail_id": document.mail_id,
        }
        for document in documents
    ]
