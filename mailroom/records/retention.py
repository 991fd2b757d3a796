"""Retention (UK GDPR storage limitation): ``retention plan`` lists the finished cases
whose retention period is over and why; ``retention apply`` erases exactly those,
each checked again when it is erased (a hold set, a step recorded or corrected since
the plan was shown keeps the case).

Erasing a case takes its personal data out of the database (``retention_store``
says what is kept and what goes) and removes its folders from the storage tree,
and keeps the complaint's anonymised row, its clocks and the kinds and dates of
its steps, so that every annual figure counts the same afterwards. Each erasure
leaves a signed record (``erasures``: the rule, the dates, what was erased by
table, never the data) and an audit entry.

Crash-safe order, per case: the database erasure, the erasure record (listing the
folders to remove) and the audit entry commit together; then the folders are
removed; then the record is marked ``files_removed_at``. A crash in between leaves
a record without that mark, which the next plan lists and the next apply finishes.
On SQLite the search indexes are then merged and the write-ahead log truncated
(``retention_store.scrub_sqlite``), so that no erased value lingers in the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from mailroom.accounts.audit import Actor, record
from mailroom.filing import StorageError
from mailroom.records.audit_signing import sign, verify_signature
from mailroom.records.retention_files import remove_folders
from mailroom.records.retention_policy import (
    Decision,
    RetentionPeriods,
    Verdict,
    decide,
    uk_date,
)
from mailroom.records.retention_store import (
    erase_case_rows,
    erased_marker,
    file_totals,
    finished_case,
    finished_cases,
    locked_complaint,
    policy_facts,
    scrub_sqlite,
    unfinished_erasures,
    use_secure_delete,
)
from mailroom.services import Services
from mailroom.store.schema import Erasure

ERASE_ACTION = "retention.erase"  # audit_log action of an erasure


def periods(services: Services) -> RetentionPeriods:
    settings = services.settings.retention
    return RetentionPeriods(settings.closed_years, settings.refused_years, settings.after_determination_years)


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """A case ``apply`` would erase."""

    complaint_id: str
    rule: str
    closed_on: date
    eligible_on: date
    reason: str
    files: int  # filed on the case, as ``documents`` records them
    bytes: int


@dataclass(frozen=True)
class HeldItem:
    """A case past its retention period, kept by a legal hold."""

    complaint_id: str
    closed_on: date | None
    eligible_on: date | None
    reason: str
    hold: str
    held_by: str
    held_at: datetime | None


@dataclass(frozen=True)
class BlockedItem:
    """A finished case past its period (or with no closing step) that cannot be erased yet."""

    complaint_id: str
    reason: str


@dataclass(frozen=True)
class UnfinishedErasure:
    """An erasure committed whose folders are still to be removed."""

    erasure_id: int
    complaint_id: str
    folders: tuple[str, ...]


@dataclass(frozen=True)
class RetentionPlan:
    today: date
    periods: RetentionPeriods
    items: tuple[PlanItem, ...]
    held: tuple[HeldItem, ...]
    blocked: tuple[BlockedItem, ...]
    unfinished: tuple[UnfinishedErasure, ...]

    @property
    def empty(self) -> bool:
        """Nothing for ``apply`` to do."""
        return not self.items and not self.unfinished

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "periods": {
                "closed_years": self.periods.closed_years,
                "refused_years": self.periods.refused_years,
                "after_determination_years": self.periods.after_determination_years,
            },
            "erase": [
                {
                    "complaint_id": item.complaint_id,
                    "rule": item.rule,
                    "closed_on": item.closed_on.isoformat(),
                    "eligible_on": item.eligible_on.isoformat(),
                    "reason": item.reason,
                    "files": item.files,
                    "bytes": item.bytes,
                }
                for item in self.items
            ],
            "held": [
                {
                    "complaint_id": item.complaint_id,
                    "closed_on": _iso(item.closed_on),
                    "eligible_on": _iso(item.eligible_on),
                    "reason": item.reason,
                    "hold": item.hold,
                    "held_by": item.held_by,
                    "held_at": _iso(item.held_at),
                }
                for item in self.held
            ],
            "blocked": [{"complaint_id": item.complaint_id, "reason": item.reason} for item in self.blocked],
            "unfinished": [
                {
                    "erasure_id": item.erasure_id,
                    "complaint_id": item.complaint_id,
                    "folders": list(item.folders),
                }
                for item in self.unfinished
            ],
        }


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def plan_retention(services: Services, today: date | None = None) -> RetentionPlan:
    """What ``apply`` would do on ``today`` (default: today in the UK)."""
    today = today or uk_date(services.clock.now())
    rules = periods(services)
    with services.store.transaction() as repo:
        cases = finished_cases(repo.session)
        decisions = [decide(facts, rules, today) for facts in policy_facts(repo.session, cases)]
        due = [decision for decision in decisions if decision.verdict is Verdict.ERASE]
        totals = file_totals(repo.session, [decision.complaint_id for decision in due])
        unfinished = [
            UnfinishedErasure(erasure.id, erasure.complaint_id, tuple(json.loads(erasure.folders_json)))
            for erasure in unfinished_erasures(repo.session)
        ]
    holds = {case.complaint_id: case for case in cases}
    items = [_item(decision, totals.get(decision.complaint_id, (0, 0))) for decision in due]
    held = [
        HeldItem(
            decision.complaint_id,
            decision.closed_on,
            decision.eligible_on,
            decision.reason,
            decision.stopped_by,
            holds[decision.complaint_id].legal_hold_by,
            holds[decision.complaint_id].legal_hold_at,
        )
        for decision in decisions
        if decision.verdict is Verdict.HELD
    ]
    blocked = [BlockedItem(d.complaint_id, d.stopped_by) for d in decisions if d.verdict is Verdict.BLOCKED]
    return RetentionPlan(today, rules, tuple(items), tuple(held), tuple(blocked), tuple(unfinished))


def _item(decision: Decision, totals: tuple[int, int]) -> PlanItem:
    # A due decision always has its rule and dates.
    assert decision.rule is not None and decision.closed_on and decision.eligible_on
    return PlanItem(
        decision.complaint_id,
        decision.rule.value,
        decision.closed_on,
        decision.eligible_on,
        decision.reason,
        *totals,
    )


# -- applying it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasedCase:
    complaint_id: str
    erasure_id: int
    rule: str
    counts: dict[str, int]


@dataclass(frozen=True)
class FilesRemoved:
    erasure_id: int
    complaint_id: str
    files: int
    bytes: int


@dataclass(frozen=True)
class ErasureReport:
    erased: tuple[ErasedCase, ...]
    skipped: tuple[BlockedItem, ...]  # in the plan, but no longer to be erased
    removed: tuple[FilesRemoved, ...]  # folders removed, this run's erasures and earlier ones
    failed: tuple[BlockedItem, ...]  # folders that could not be removed (the next apply retries)

    def to_json(self) -> dict[str, Any]:
        return {
            "erased": [
                {
                    "complaint_id": e.complaint_id,
                    "erasure_id": e.erasure_id,
                    "rule": e.rule,
                    "counts": e.counts,
                }
                for e in self.erased
            ],
            "skipped": [{"complaint_id": s.complaint_id, "reason": s.reason} for s in self.skipped],
            "removed": [
                {
                    "erasure_id": r.erasure_id,
                    "complaint_id": r.complaint_id,
                    "files": r.files,
                    "bytes": r.bytes,
                }
                for r in self.removed
            ],
            "failed": [{"complaint_id": f.complaint_id, "reason": f.reason} for f in self.failed],
        }


def apply_retention(services: Services, plan: RetentionPlan, by: Actor) -> ErasureReport:
    """Erase the cases of ``plan`` that are still due, then remove their folders and
    those of the plan's unfinished erasures."""
    erased: list[ErasedCase] = []
    skipped: list[BlockedItem] = []
    removed: list[FilesRemoved] = []
    failed: list[BlockedItem] = []
    pending = [(item.erasure_id, item.complaint_id) for item in plan.unfinished]
    for item in plan.items:
        outcome = _erase(services, item.complaint_id, by)
        if isinstance(outcome, BlockedItem):
            skipped.append(outcome)
            continue
        erased.append(outcome)
        pending.append((outcome.erasure_id, outcome.complaint_id))
    for erasure_id, complaint_id in pending:
        try:
            done = finish_erasure(services, erasure_id)
        except (StorageError, OSError) as exc:
            failed.append(BlockedItem(complaint_id, str(exc)))
            continue
        if done is not None:
            removed.append(done)
    if erased:
        scrub_sqlite(services.store.engine)
    return ErasureReport(tuple(erased), tuple(skipped), tuple(removed), tuple(failed))


def _erase(services: Services, complaint_id: str, by: Actor) -> ErasedCase | BlockedItem:
    """One case's erasure in one transaction, if it is still due now."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        session = repo.session
        use_secure_delete(session)
        complaint = locked_complaint(session, complaint_id)
        if complaint is None:
            return BlockedItem(complaint_id, "no such complaint any more")
        if complaint.erased_at is not None:
            return BlockedItem(complaint_id, f"already erased at {complaint.erased_at.isoformat()}")
        [facts] = policy_facts(session, [finished_case(complaint)])
        decision = decide(facts, periods(services), uk_date(now))
        if decision.verdict is not Verdict.ERASE or decision.rule is None:
            return BlockedItem(complaint_id, f"no longer due: {decision.stopped_by or decision.reason}")
        rows = erase_case_rows(session, complaint, erased_marker(uk_date(now)), now)
        erasure = Erasure(
            complaint_id=complaint_id,
            at=now,
            by=by.email[:320],
            rule=decision.rule.value,
            reason=decision.reason,
            counts_json=json.dumps(rows.counts, sort_keys=True),
            folders_json=json.dumps(rows.folders),
            files_removed_at=None,
            signature="",
        )
        session.add(erasure)
        session.flush()  # its id is signed
        erasure.signature = sign(services, erasure_payload(erasure))
        record(
            session,
            now,
            by,
            ERASE_ACTION,
            complaint_id=complaint_id,
            target=f"erasure {erasure.id}",
            detail=f"{decision.rule.value}: {decision.reason}",
        )
        return ErasedCase(complaint_id, erasure.id, erasure.rule, rows.counts)


def finish_erasure(services: Services, erasure_id: int) -> FilesRemoved | None:
    """Remove an erasure's folders and mark it done; None if it was done already."""
    with services.store.transaction() as repo:
        erasure = repo.session.get(Erasure, erasure_id)
        if erasure is None or erasure.files_removed_at is not None:
            return None
        complaint_id, folders = erasure.complaint_id, list(json.loads(erasure.folders_json))
    removed = remove_folders(services.storage, folders, complaint_id)
    with services.store.transaction() as repo:
        erasure = repo.session.get(Erasure, erasure_id)
        if erasure is not None and erasure.files_removed_at is None:
            erasure.files_removed_at = services.clock.now()
    return FilesRemoved(erasure_id, complaint_id, removed.files, removed.bytes)


# -- the records -----------------------------------------------------------------------------


def erasure_payload(erasure: Erasure) -> bytes:
    """What an erasure's signature covers: every field but the signature and
    ``files_removed_at`` (set later), as sorted compact JSON."""
    body = {
        "id": erasure.id,
        "complaint_id": erasure.complaint_id,
        "at": erasure.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "by": erasure.by,
        "rule": erasure.rule,
        "reason": erasure.reason,
        "counts_json": erasure.counts_json,
        "folders_json": erasure.folders_json,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def verify_erasure(services: Services, erasure: Erasure) -> bool:
    """Whether ``erasure`` is as it was signed."""
    return verify_signature(services, erasure_payload(erasure), erasure.signature)


def erasures(services: Services, complaint_id: str | None = None) -> list[Erasure]:
    """The erasure records, oldest first (of one case if given)."""
    query = select(Erasure).order_by(Erasure.id)
    if complaint_id is not None:
        query = query.where(Erasure.complaint_id == complaint_id)
    with services.store.transaction() as repo:
        return list(repo.session.scalars(query))
