"""The audit trail of one case as the pack carries it: ``audit.jsonl`` (the case's
events, staff actions and audit chain entries, one JSON object a line) and the
chain's verification, printed on the bundle's last page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from mailroom.records.pack_sources import READING_ACTIONS
from mailroom.services import Services
from mailroom.store.schema import AuditEntry


@dataclass
class CaseTrail:
    rows: list[dict[str, Any]]
    intact: bool
    line: str  # the verification in one line
    details: dict[str, Any] = field(default_factory=dict)  # entries checked, head...

    def verification_lines(self) -> tuple[str, ...]:
        lines = [
            "Audit chain verification (mailroom audit verify)",
            f"Result: {'intact' if self.intact else 'BROKEN'}",
            self.line,
        ]
        lines += [f"{key.replace('_', ' ').capitalize()}: {value}" for key, value in self.details.items()]
        lines.append(
            "Each entry of the chain holds the SHA-256 of the previous entry; audit.jsonl in the "
            "pack's zip lists this case's entries, and the head above lets a reader check them."
        )
        return tuple(lines)

    def summary(self) -> dict[str, Any]:
        return {"intact": self.intact, "line": self.line, **self.details}


def case_trail(services: Services, complaint_id: str) -> CaseTrail:
    """The case's trail and its verification. Only facts of this case are printed (its
    entries and its last one), never the whole chain's head or counts: those move with
    every other case, and the same record must give the same pack."""
    from mailroom.records.audit_chain import chain_entries_of_case, verify_chain

    report = verify_chain(services, complaint_id, case_links_only=True)
    rows: list[dict[str, Any]] = []
    with services.store.transaction() as repo:
        for event in repo.events_of_case(complaint_id):
            rows.append(
                {
                    "type": "event",
                    "id": event.id,
                    "at": event.at.isoformat(),
                    "kind": event.kind,
                    "detail": event.detail,
                    "payload": event.payload,
                }
            )
        reading: set[str] = set()
        audit = select(AuditEntry).where(AuditEntry.complaint_id == complaint_id).order_by(AuditEntry.id)
        for entry in repo.session.scalars(audit):
            if entry.action.startswith(READING_ACTIONS):
                reading.add(str(entry.id))
                continue
            rows.append(
                {
                    "type": "staff_action",
                    "id": entry.id,
                    "at": entry.at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "target": entry.target,
                    "detail": entry.detail,
                }
            )
    chain = [
        entry
        for entry in chain_entries_of_case(services, complaint_id)
        if not (entry["table"] == "audit_log" and str(entry["row_id"]) in reading)
    ]
    rows += [{"type": "chain", **entry} for entry in chain]
    details: dict[str, Any] = {"entries_of_this_case": len(chain)}
    if chain:
        details["last_entry_of_this_case"] = f"{chain[-1]['seq']} {chain[-1]['entry_sha256']}"
    if report.ok:
        line = (
            "intact: every link of the chain holds, and this case's records and files match "
            "what the chain recorded"
        )
    else:
        line = report.first_broken or "broken"
    return CaseTrail(rows=rows, intact=report.ok, line=line, details=details)
