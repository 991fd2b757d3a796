"""The worker's main loop: read this module top to bottom to know the whole flow.

For each source (IMAP mailbox, Maildir), under a per-mailbox lock:

1. recover    finish what a crash left half done (staged folders, unfiled
              mails, mailbox actions not yet confirmed);
2. scan       list the mails the source holds that the ledger has not seen;
3. per batch  fetch raw bytes (never marking them read) and, in ONE database
              transaction: hash, parse, classify, open complaints, stage the
              files, then make the staged files durable and commit;
4. publish    move each staged folder to its final place under the complaint
              ID and rewrite the case manifests; mark the mails filed;
5. acknowledge only now change the mailbox (move or flag), then ledger that.

A mail that cannot be parsed, or is over the size limit, or makes any step
fail, is quarantined with its raw bytes and the reason, in its own savepoint,
so one bad mail never blocks the others and nothing is dropped.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.source import MailSource
from mailroom.intake import IngestedMail, ingest_mail, quarantine_mail
from mailroom.publishing import publish_unfiled
from mailroom.services import Services
from mailroom.store.repository import Repository

log = logging.getLogger(__name__)

# A staged folder nobody committed for this long belongs to a process that died;
# younger ones may belong to a process still working (staff logging a call).
ABANDONED_STAGING_SECONDS = 3600


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
    for source in sources:
        with services.lock(source.account):
            recover(services, source)
            for batch in source.fetch(new_keys(services, source)):
                ingest_batch(services, batch, report)
                publish_unfiled(services)
                acknowledge(services, source)
                if progress is not None:
                    progress(len(batch))
    return report


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


def ingest_batch(services: Services, batch: Sequence[FetchedMail], report: RunReport) -> None:
    with services.store.transaction() as repo:
        for fetched in batch:
            report.seen += 1
            try:
                with repo.savepoint():
                    result = ingest_mail(services, repo, fetched)
            except Exception as exc:  # any failure: keep the bytes and the reason
                log.warning("quarantining %s: %s", fetched.key, exc)
                with repo.savepoint():
                    result = quarantine_mail(services, repo, fetched, _describe(exc))
            if result is None:
                report.resighted += 1
                continue
            report.outcomes[result.outcome.value] += 1
            report.logged.append(result)
        _advance_checkpoints(repo, batch)
        services.storage.sync()  # staged files are durable before the commit that names them


def acknowledge(services: Services, source: MailSource) -> None:
    with services.store.transaction() as repo:
        keys = repo.unacknowledged(source.account)
    if not keys:
        return
    source.acknowledge(keys)
    with services.store.transaction() as repo:
        repo.mark_acknowledged(keys)


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


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{place}".replace("\n", " ")[:500]
