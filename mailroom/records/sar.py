"""``mailroom sar EMAIL|NAME``: a subject access request (UK GDPR article 15). Finds
every case a person is on (as complainant, representative or other party) and every
mail they sent that is on no case, and exports them in the evidence pack's format
(docs/records.md): per case the bundle PDF and the zip of originals, the loose
mails' originals in one zip, and ``sar.json`` listing everything with the other
people's personal data found in it, flagged for a person to review for redaction
before anything is released (article 15(4): the rights of others)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailroom.accounts.audit import Actor, record
from mailroom.letters.pdf import PdfConverter
from mailroom.records.pack import build_pack
from mailroom.records.pack_archive import canonical_json, write_zip
from mailroom.records.pack_sections import ZipEntry
from mailroom.records.pack_sources import FiledItem, filed_item
from mailroom.safe_names import safe_filename
from mailroom.services import Services
from mailroom.store.schema import CaseParty, Complaint, Document, Mail

SAR_ACTION = "records.sar"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,24}")
_SCAN_CHARS = 200_000  # of each mail's text, for other people's addresses: bounded


@dataclass(frozen=True)
class Person:
    """Who the request is about: an email address, or a name matched as typed."""

    text: str

    @property
    def is_email(self) -> bool:
        return "@" in self.text

    def matches(self, email: str, name: str) -> bool:
        if self.is_email:
            return email.strip().lower() == self.text.strip().lower()
        return bool(name) and " ".join(name.lower().split()) == " ".join(self.text.lower().split())


@dataclass
class SarResult:
    folder: Path
    cases: list[str] = field(default_factory=list)
    loose_mails: int = 0
    flagged: int = 0  # other people's data to review before release


class NothingFound(LookupError):
    pass


def find_cases(services: Services, person: Person) -> list[str]:
    """The cases ``person`` is on: as complainant or as a recorded party."""
    with services.store.transaction() as repo:
        if person.is_email:
            address = person.text.strip().lower()
            own = select(Complaint.id).where(func.lower(Complaint.complainant_email) == address)
            party = select(CaseParty.complaint_id).where(func.lower(CaseParty.email) == address)
        else:
            name = " ".join(person.text.split()).lower()
            own = select(Complaint.id).where(func.lower(Complaint.complainant_name) == name)
            party = select(CaseParty.complaint_id).where(func.lower(CaseParty.name) == name)
        found = set(repo.session.scalars(own)) | set(repo.session.scalars(party))
    return sorted(found)


def _loose_mails(services: Services, person: Person) -> list[tuple[Mail, list[FiledItem]]]:
    """Mails from ``person`` on no case (triage, not a complaint, quarantine)."""
    with services.store.transaction() as repo:
        if person.is_email:
            who = func.lower(Mail.from_email) == person.text.strip().lower()
        else:
            who = func.lower(Mail.from_name) == " ".join(person.text.split()).lower()
        mails = list(
            repo.session.scalars(select(Mail).where(Mail.complaint_id.is_(None), who).order_by(Mail.id))
        )
        found = []
        for mail in mails:
            documents = repo.session.scalars(select(Document).where(Document.mail_id == mail.id)).all()
            found.append((mail, [filed_item(d) for d in documents]))
    return found


class _Flags:
    """Other people's data found in one case, each (address or name, place) once."""

    def __init__(self, person: Person, complaint_id: str, into: list[dict[str, Any]]) -> None:
        self._person, self._complaint_id, self._into = person, complaint_id, into
        self._seen: set[tuple[str, str, str]] = set()

    def flag(self, what: str, email: str, name: str, where: str) -> None:
        key = (email.lower(), name.lower(), where)
        if self._person.matches(email, name) or key in self._seen or not (email or name):
            return
        self._seen.add(key)
        self._into.append(
            {"complaint_id": self._complaint_id, "where": where, "what": what, "email": email, "name": name}
        )


def others_in_cases(services: Services, person: Person, complaint_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Other people's personal data in the exported cases, for redaction review: the
    other parties, other senders, and addresses written in mail text."""
    flagged: list[dict[str, Any]] = []
    with services.store.transaction() as repo:
        for complaint_id in complaint_ids:
            complaint = repo.get_complaint(complaint_id)
            if complaint is None:
                continue
            flags = _Flags(person, complaint_id, flagged)
            flags.flag("complainant", complaint.complainant_email, complaint.complainant_name, "case record")
            for party in repo.parties(complaint_id):
                flags.flag(f"party ({party.role})", party.email, party.name, "case record")
            text = func.substr(Mail.body_text, 1, _SCAN_CHARS)
            query = select(Mail.id, Mail.from_email, Mail.from_name, text).where(
                Mail.complaint_id == complaint_id
            )
            for mail_id, from_email, from_name, body in repo.session.execute(query).all():
                flags.flag("sender", from_email, from_name, f"mail {mail_id}")
                for address in sorted(set(_EMAIL.findall(body or ""))):
                    flags.flag("address in the text", address, "", f"mail {mail_id}")
    return flagged


def subject_access_export(
    services: Services,
    who: str,
    out_dir: Path,
    prepared_by: str,
    *,
    converter: PdfConverter | None = None,
    source: str = "",
) -> SarResult:
    """Export everything held about ``who`` (an email address or a full name) into a
    new folder under ``out_dir``; NothingFound when nothing is held."""
    person = Person(who.strip())
    if not person.text:
        raise NothingFound("give an email address or a name")
    cases = find_cases(services, person)
    loose = _loose_mails(services, person)
    if not cases and not loose:
        raise NothingFound(person.text)
    stamp = services.clock.now()
    slug = safe_filename(person.text.replace("@", "-at-"), fallback="person", max_bytes=60)
    folder = out_dir / f"SAR-{slug}-{stamp.strftime('%Y%m%d')}"
    folder.mkdir(parents=True, exist_ok=True)
    result = SarResult(folder=folder, cases=cases, loose_mails=len(loose))
    packs = []
    for complaint_id in cases:
        built = build_pack(services, complaint_id, folder, prepared_by, converter=converter, source=source)
        packs.append(
            {
                "complaint_id": complaint_id,
                "bundle": built.pdf.name,
                "bundle_sha256": built.pdf_sha256,
                "zip": built.zip.name,
                "audit_chain_intact": built.chain_intact,
            }
        )
    entries = [
        ZipEntry(
            name=f"mails/{mail.id}/{_file_name(item)}",
            ref=f"M{mail.id}",
            title=mail.subject,
            sha256=item.sha256,
            item=item,
        )
        for mail, items in loose
        for item in items
    ]
    flagged = others_in_cases(services, person, cases)
    result.flagged = len(flagged)
    summary = {
        "request": {"about": person.text, "prepared_by": prepared_by, "prepared_at": stamp.isoformat()},
        "cases": packs,
        "loose_mails": [
            {"mail_id": mail.id, "received_at": mail.received_at.isoformat(), "subject": mail.subject}
            for mail, _ in loose
        ],
        "redaction_review": flagged,
        "note": (
            "Other people's personal data is listed under redaction_review: review and redact it "
            "before release (UK GDPR article 15(4)). The packs are complete copies of each case."
        ),
    }
    if entries:
        write_zip(services, folder / "loose-mails.zip", entries, lambda files: [], stamp)
    (folder / "sar.json").write_bytes(canonical_json(summary))
    digest = hashlib.sha256(canonical_json(summary)).hexdigest()
    with services.store.transaction() as repo:
        targets: list[str | None] = list(cases) or [None]
        for target in targets:
            record(
                repo.session,
                stamp,
                Actor(prepared_by, source),
                SAR_ACTION,
                complaint_id=target,
                target=folder.name,
                detail=f"subject access export, sar.json {digest[:16]}…",
            )
    return result


def _file_name(item: FiledItem) -> str:
    return safe_filename(item.original_name or item.path.rpartition("/")[2], fallback="file")
