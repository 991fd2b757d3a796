"""List and retry quarantined mail (unparseable, over the size limit, or a step failed).

Quarantined mail is kept until a person decides: retrying re-runs parse and
classify on the stored raw bytes (after a fix, or a raised limit). The parse
runs in a helper process under the same budget as ingestion, so retrying a
mail that ran out of budget cannot hang the command.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from mailroom.domain.classify import CaseLookup, MailFacts, classify
from mailroom.domain.models import Outcome, SourceKey
from mailroom.filing import MANIFEST, RAW_NAME, sha256_hex
from mailroom.ingest.maildir_source import MaildirSource, read_mail_file
from mailroom.ingest.parse import parse_mail
from mailroom.intake import CASE_OUTCOMES, document_rows, mail_fields, open_complaint_for, target_folder
from mailroom.publishing import publish_unfiled
from mailroom.services import Services
from mailroom.stager import Helper, budget_from, limits_from
from mailroom.store.repository import Repository
from mailroom.store.schema import Mail


class _ExcludingSelf:
    """The retried mail's own row must not make it a duplicate of itself."""

    def __init__(self, repo: Repository, mail_id: int) -> None:
        self._repo, self._mail_id = repo, mail_id

    def first_mail_with_sha256(self, sha256: str) -> int | None:
        return self._repo.first_mail_with_sha256(sha256, excluding=self._mail_id)

    def complaint_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        return self._repo.complaint_for_message_ids(message_ids)

    def complaint_exists(self, complaint_id: str) -> bool:
        return self._repo.complaint_exists(complaint_id)

    def is_party(self, complaint_id: str, email: str) -> bool:
        return self._repo.is_party(complaint_id, email)


def retry(services: Services, mail_ids: Sequence[int]) -> dict[int, str]:
    """Retry each quarantined mail; returns mail id -> new outcome (or the error)."""
    results: dict[int, str] = {}
    old_folders: list[str] = []
    helper = Helper(budget_from(services.settings.ingest))
    try:
        _retry_all(services, helper, mail_ids, results, old_folders)
    finally:
        helper.stop()
    publish_unfiled(services)
    for folder in old_folders:
        services.storage.remove_tree(folder)
    return results


def _retry_all(
    services: Services,
    helper: Helper,
    mail_ids: Sequence[int],
    results: dict[int, str],
    old_folders: list[str],
) -> None:
    with services.store.transaction() as repo:
        for mail_id in mail_ids:
            mail = repo.get_mail(mail_id)
            if mail is None or mail.outcome != Outcome.QUARANTINED:
                results[mail_id] = "not in quarantine"
                continue
            try:
                with repo.savepoint():
                    old_folder = mail.storage_path
                    results[mail_id] = _retry_one(services, helper, repo, mail)
                    old_folders.append(old_folder)
            except Exception as exc:  # still failing: stays quarantined, attempt counted
                mail.attempts += 1
                results[mail_id] = f"still quarantined: {type(exc).__name__}: {exc}"


def _whole_mail_from_file(services: Services, mail: Mail, limit: int) -> bytes:
    """The whole mail, re-read from the file it came from (files stay where
    they are). An IMAP mail stays in the processed folder: move it back to the
    inbox and it is fetched again as a new mail."""
    meta = json.loads(services.storage.read(f"{mail.storage_path}/{MANIFEST}"))
    source = meta.get("source", {}) if isinstance(meta, dict) else {}
    key = SourceKey(
        str(source.get("account", "")), str(source.get("folder", "")), 0, str(source.get("uid", ""))
    )
    path = MaildirSource([]).path_of(key) if source.get("uidvalidity") == 0 and key.folder else None
    if path is not None:
        raw, size = read_mail_file(path, limit)
        if len(raw) == size == mail.size:
            return raw
    raise ValueError(
        f"only the first bytes of this {mail.size}-byte mail were kept and its file is gone or changed;"
        " move it back into the mailbox (IMAP) to fetch it again"
    )


def _retry_one(services: Services, helper: Helper, repo: Repository, mail: Mail) -> str:
    now = services.clock.now()
    limit = services.settings.storage.max_message_bytes
    if mail.size > limit:
        raise ValueError(f"still over the size limit: {mail.size} > {limit} bytes")
    raw = services.storage.read(f"{mail.storage_path}/{RAW_NAME}")
    if len(raw) < mail.size:  # over the limit when fetched: only its first bytes were kept
        raw = _whole_mail_from_file(services, mail, limit)
        mail.sha256 = sha256_hex(raw)
    parsed = helper.call(parse_mail, raw, limits_from(services.settings.ingest))
    lookup: CaseLookup = _ExcludingSelf(repo, mail.id)
    decision = classify(MailFacts(parsed, mail.sha256, services.policy), lookup)
    complaint_id = decision.complaint_id
    if decision.outcome in CASE_OUTCOMES:
        complaint_id = open_complaint_for(services, repo, parsed, mail.received_at, decision)
    token = uuid.uuid4().hex[:16]
    folder = target_folder(decision.outcome, complaint_id, mail.received_at, token)
    name = folder.rsplit("/", 1)[-1]
    files = services.storage.stage_mail(
        token, name, raw, parsed.attachments, {"retried_from": mail.storage_path}
    )
    for name, value in mail_fields(parsed).items():
        setattr(mail, name, value)
    mail.token, mail.storage_path, mail.filed = token, folder, False
    mail.outcome, mail.rule, mail.reason = decision.outcome.value, decision.rule, decision.reason
    mail.complaint_id, mail.duplicate_of = complaint_id, decision.duplicate_of
    mail.triage_open = decision.outcome == Outcome.TRIAGE
    mail.attempts += 1
    repo.replace_documents(mail.id, document_rows(folder, files, mail.id, complaint_id))
    repo.add_event(now, "quarantine_retried", f"{decision.rule}: {decision.reason}", complaint_id, mail.id)
    return decision.outcome.value
