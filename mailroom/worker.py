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

A mail that cannot be parsed, is over the size limit or runs out of its parse
budget (time, CPU, memory: mailroom/stager.py) is quarantined with its raw
bytes and the reason, so one bad mail never blocks the others, the worker's
other jobs still run, and nothing is dropped. A database failure aborts the whole batch: nothing is
acknowledged, and the next run fetches the batch again. docs/ingestion.md says
what a crash at each step leaves behind and how recovery finishes it.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mailroom.deadline_store import refresh_cases, start_new_cases
from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.source import MailSource
from mailroom.intake import BatchRows, IngestedMail, decide, record_mail, record_resighting
from mailroom.publishing import publish_unfiled
from mailroom.services import Services
from mailroom.stager import StagedBatch, budget_from, limits_from, stager_for
from mailroom.staging import StagedMail
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
            scanned, keys = new_keys(services, source)
            outstanding = Outstanding(scanned, keys, delta_links(source))
            # Progress lines (counts only, never mail content): MAILROOM_LOG_LEVEL=INFO
            # shows them, and the crash-safety test times its kills by them.
            log.info("ingest started: %d new mail(s)", len(keys))
            if keys:
                ingest_new(services, source, keys, outstanding, report, progress)
            with services.store.transaction() as repo:
                advance_checkpoints(repo, outstanding)  # also past mails that were all known
            log.info("ingest finished: %d mail(s) seen", report.seen)
    return report


def ingest_new(
    services: Services,
    source: MailSource,
    keys: Sequence[SourceKey],
    outstanding: Outstanding,
    report: RunReport,
    progress: Progress | None,
) -> None:
    """Fetch, stage (in the helper, one batch ahead) and commit the new mails."""
    settings = services.settings
    max_bytes = settings.storage.max_message_bytes
    if hasattr(source, "max_message_bytes"):
        # Sources check the size before reading a mail, never after (RFC822.SIZE, file size).
        source.max_message_bytes = max_bytes
    limits, budget = limits_from(settings.ingest), budget_from(settings.ingest)
    with stager_for(services.storage.root, max_bytes, limits, budget) as stager:
        previous: tuple[Sequence[FetchedMail], StagedBatch] | None = None
        for batch in source.fetch(keys):
            log.info("fetched %d mail(s)", len(batch))
            staged = stager.submit(batch)  # parse + stage, beside the commit of the previous batch
            if previous is not None:
                commit_batch(services, source, *previous, outstanding, report, progress)
            previous = (batch, staged)
        if previous is not None:
            commit_batch(services, source, *previous, outstanding, report, progress)


def commit_batch(
    services: Services,
    source: MailSource,
    batch: Sequence[FetchedMail],
    staged: StagedBatch,
    outstanding: Outstanding,
    report: RunReport,
    progress: Progress | None,
) -> None:
    outstanding.done(fetched.key for fetched in batch)
    log.info("committing %d mail(s)", len(batch))
    ingest_batch(services, batch, staged(), report, outstanding)
    log.info("committed %d mail(s)", len(batch))
    publish_unfiled(services)
    acknowledge(services, source)
    log.info("acknowledged %d mail(s)", len(batch))
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


def new_keys(services: Services, source: MailSource) -> tuple[list[SourceKey], list[SourceKey]]:
    """(every key the source listed, those not yet in the ledger)."""
    with services.store.transaction() as repo:
        keys = source.scan(repo.checkpoints(source.account))
        known = repo.known_keys(keys)
    return keys, [key for key in keys if key not in known]


def ingest_batch(
    services: Services,
    batch: Sequence[FetchedMail],
    staged: Sequence[StagedMail],
    report: RunReport,
    outstanding: Outstanding | None = None,
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
        start_new_cases(services, repo, rows.new_cases)  # their Code clocks start now
        refresh_cases(services, repo, rows.enquiries)  # and the enquiry-answer clock, from its event
        if outstanding is not None:
            advance_checkpoints(repo, outstanding)  # in the same commit as the ledger rows
        services.storage.sync()  # staged files are durable before the commit that names them


def acknowledge(services: Services, source: MailSource) -> None:
    with services.store.transaction() as repo:
        pending = repo.unacknowledged(source.account)
    if not pending:
        return
    source.acknowledge([key for _, key in pending])
    with services.store.transaction() as repo:
        repo.mark_acknowledged([ledger_id for ledger_id, _ in pending])


@runtime_checkable
class DeltaSource(Protocol):
    """A source whose scan ends with a state to resume from (Graph's deltaLink)."""

    def delta_links(self) -> Mapping[str, str]:
        """folder -> the link that resumes after the last scan."""
        ...


def delta_links(source: MailSource) -> dict[tuple[str, str, int], str]:
    if not isinstance(source, DeltaSource):
        return {}
    from mailroom.ingest.graph_source import GRAPH_UIDVALIDITY

    return {
        (source.account, folder, GRAPH_UIDVALIDITY): link for folder, link in source.delta_links().items()
    }


class Outstanding:
    """IMAP UIDs listed this run and not yet committed, per folder.

    The checkpoint may move up to the highest UID listed, but never past one
    still outstanding: a source may skip a mail (the server sent no body,
    twice), and a checkpoint past it would leave it in the mailbox unread
    forever. Heaps with lazy deletion keep this O(log n) a mail.

    A Graph folder's deltaLink is the same idea for a delta round: it is
    stored only in the commit that leaves none of the round's new keys
    outstanding, so a crash or a skipped mail repeats the round."""

    def __init__(
        self,
        scanned: Iterable[SourceKey],
        new: Iterable[SourceKey],
        links: Mapping[tuple[str, str, int], str] | None = None,
    ) -> None:
        self.ceiling: dict[tuple[str, str, int], int] = {}
        self._heaps: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        self._done: set[tuple[tuple[str, str, int], int]] = set()
        self._links = dict(links or {})
        self._open: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for key in scanned:
            if _is_imap(key):
                self.ceiling[_slot(key)] = max(self.ceiling.get(_slot(key), 0), int(key.uid))
        for key in new:
            if _is_imap(key):
                heapq.heappush(self._heaps[_slot(key)], int(key.uid))
            elif _slot(key) in self._links:
                self._open[_slot(key)].add(key.uid)

    def done(self, keys: Iterable[SourceKey]) -> None:
        for key in keys:
            if _is_imap(key):
                self._done.add((_slot(key), int(key.uid)))
            elif _slot(key) in self._open:
                self._open[_slot(key)].discard(key.uid)

    def safe_delta_links(self) -> dict[tuple[str, str, int], str]:
        """Per Graph folder: its new deltaLink, once every key of the round is committed."""
        return {slot: link for slot, link in self._links.items() if not self._open.get(slot)}

    def stored(self, slots: Iterable[tuple[str, str, int]]) -> None:
        for slot in slots:
            self._links.pop(slot, None)

    def safe_checkpoints(self) -> dict[tuple[str, str, int], int]:
        """Per folder: the highest UID such that every listed UID up to it is committed."""
        safe = {}
        for slot, ceiling in self.ceiling.items():
            heap = self._heaps.get(slot, [])
            while heap and (slot, heap[0]) in self._done:
                heapq.heappop(heap)
            safe[slot] = min(ceiling, heap[0] - 1) if heap else ceiling
        return safe


def advance_checkpoints(repo: Repository, outstanding: Outstanding) -> None:
    """Remember how far each IMAP folder is committed. (File sources have no
    UIDs and rely on the ledger alone.)"""
    for (account, folder, uidvalidity), last_uid in outstanding.safe_checkpoints().items():
        repo.advance_checkpoint(account, folder, uidvalidity, last_uid)
    links = outstanding.safe_delta_links()
    for (account, folder, uidvalidity), link in links.items():
        repo.set_delta_link(account, folder, uidvalidity, link)
    outstanding.stored(links)


def _is_imap(key: SourceKey) -> bool:
    return bool(key.uidvalidity) and key.uid.isdigit()


def _slot(key: SourceKey) -> tuple[str, str, int]:
    return (key.account, key.folder, key.uidvalidity)
