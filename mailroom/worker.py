"""The worker's main loop: read this module top to bottom to know the whole flow.

For each source (IMAP mailbox, Maildir), under a per-mailbox lock:

1. recover      finish what a crash left half done (staged folders, unfiled
                mails, mailbox actions not yet confirmed);
2. scan         list the mails the source holds that the ledger has not seen;
3. per batch:
   fetch        raw bytes, never marking them read;
   stage        hash, parse and write the files under storage/.staging (no
                database; for long runs in a helper process, one batch ahead);
   ingest       in ONE transaction: classify, open complaints, write mail rows
                and ledger entries, make the staged files durable, commit;
   publish      move each staged folder to its final place under the complaint
                ID, rewrite the case manifests, mark the mails filed;
   acknowledge  only now change the mailbox (move or flag), then ledger that.

A mail that cannot be parsed or is over the size limit is quarantined with its
raw bytes and the reason, so one bad mail never blocks the others and nothing
is dropped. A database failure aborts the whole batch: nothing is
acknowledged, and the next run fetches the batch again. docs/ingestion.md says
what a crash at each step leaves behind and how recovery finishes it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.source import MailSource
from mailroom.intake import BatchRows, IngestedMail, StagedMail, decide, record_mail, record_resighting
from mailroom.publishing import publish_unfiled
from mailroom.services import Services
from mailroom.stager import StagedBatch, stager_for
from mailroom.store.repository import Repository

log = logging.getLogger(__name__)

# A staged folder nobody committed for this long belongs to a process that died;
# younger ones may belong to a process still working (staff logging a call).
ABANDONED_STAGING_SECONDS = 3600
# Runs of at least three batches of this size stage in a helper process.
BATCH_HINT = 50


@dataclass
class RunReport:
    seen: int = 0  # mails fetched from the sources this run
    resighted: int = 0  # same mail under a new UIDVALIDITY: ledgered, not logged again
    outcomes: Counter[str] = field(default_factory=Counter)
    logged: list[IngestedMail] = field(default_factory=list)


Progress = Callable[[int], None]  # called with the number of mails just handled


def run_once(
    services: Services, sources: Sequence[MailSource], progress: Progress | None = None
) -> RunReport:
    """One pass over every source. Safe to kill at any moment and run again."""
    report = RunReport()
    max_bytes = services.settings.storage.max_message_bytes
    for source in sources:
        with services.lock(source.account):
            recover(services, source)
            keys = new_keys(services, source)
            with stager_for(services.storage.root, max_bytes, len(keys), BATCH_HINT) as stager:
                previous: tuple[Sequence[FetchedMail], StagedBatch] | None = None
                for batch in source.fetch(keys):
                    staged = stager.submit(batch)  # parse + stage, beside the commit of the previous batch
                    if previous is not None:
                        commit_batch(services, source, *previous, report, progress)
                    previous = (batch, staged)
                if previous is not None:
                    commit_batch(services, source, *previous, report, progress)
    return report


def commit_batch(
    services: Services,
    source: MailSource,
    batch: Sequence[FetchedMail],
    staged: StagedBatch,
    report: RunReport,
    progress: Progress | None,
) -> None:
    ingest_batch(services, batch, staged(), report)
    publish_unfiled(services)
    acknowledge(services, source)
    if progress is not None:
        progress(len(batch))


def recover(services: Services, source: MailSource) -> None:
    """Delete staged folders of mails never committed, publish the committed ones,
    and repeat mailbox actions that a crash interrupted."""
    with services.store.transaction() as repo:
        for token, age in services.storage.staged_tokens():
            if repo.mail_by_token(token) is not None:
                continue  # committed: publish_unfiled below moves it into place
            documents_folder = repo.staged_documents_folder(token)
            if documents_folder is not None:
                services.storage.publish(token, documents_folder)
            elif age > ABANDONED_STAGING_SECONDS:
                services.storage.discard_staged(token)  # never committed: the source still has it
    publish_unfiled(services)
    acknowledge(services, source)


def new_keys(services: Services, source: MailSource) -> list[SourceKey]:
    with services.store.transaction() as repo:
        keys = source.scan(repo.checkpoints(source.account))
        known = repo.known_keys(keys)
    return [key for key in keys if key not in known]


def ingest_batch(
    services: Services, batch: Sequence[FetchedMail], staged: Sequence[StagedMail], report: RunReport
) -> None:
    """Classify and record a staged batch in one transaction, then commit."""
    rows = BatchRows()
    with services.store.transaction() as repo:
        for fetched, mail in zip(batch, staged, strict=True):
            report.seen += 1
            if record_resighting(services, repo, fetched, mail.sha256):
                services.storage.discard_staged(mail.token)
                report.resighted += 1
                continue
            result = record_mail(services, repo, decide(services, repo, fetched, mail), rows)
            report.outcomes[result.outcome.value] += 1
            report.logged.append(result)
        repo.add_events(rows.events)
        repo.add_documents(rows.documents)
        _advance_checkpoints(repo, batch)
        services.storage.sync()  # staged files are durable before the commit that names them


def acknowledge(services: Services, source: MailSource) -> None:
    with services.store.transaction() as repo:
        pending = repo.unacknowledged(source.account)
    if not pending:
        return
    source.acknowledge([key for _, key in pending])
    with services.store.transaction() as repo:
        repo.mark_acknowledged([ledger_id for ledger_id, _ in pending])


def _advance_checkpoints(repo: Repository, batch: Sequence[FetchedMail]) -> None:
    """Remember the highest IMAP UID committed per folder (IMAP keys have a
    non-zero UIDVALIDITY; file sources have none and rely on the ledger)."""
    highest: dict[tuple[str, str, int], int] = {}
    for fetched in batch:
        key = fetched.key
        if key.uidvalidity and key.uid.isdigit():
            slot = (key.account, key.folder, key.uidvalidity)
            highest[slot] = max(highest.get(slot, 0), int(key.uid))
    for (account, folder, uidvalidity), last_uid in highest.items():
        repo.advance_checkpoint(account, folder, uidvalidity, last_uid)
