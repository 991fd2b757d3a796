"""Which section of the bundle each part of a case's record goes in, in what order,
and what the chronology says: a pure function of the case's sources and of what
each file became (``pack_files``). The sections follow the Ombudsman's list of what
it asks a landlord for (docs/records.md):

A. the complaint and the Code letters issued (drafts never: they did not reach the
   resident); B. correspondence with the resident; C. calls and notes; D. reports,
   surveys and attachments; E. tenancy; F. the policies relied on; G. Ombudsman
   correspondence. Within a section documents are in date order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailroom.case_detail import LETTER, MAIL, TimelineItem
from mailroom.records.bundle.model import BundleDocument, BundleSection, ChronologyRow, TextPages
from mailroom.records.pack_files import PreparedFile
from mailroom.records.pack_sources import CallRecord, CaseSources, FiledItem, LetterRecord, MailRecord
from mailroom.safe_names import safe_filename

SECTION_TITLES = {
    "A": "Complaint and Code letters",
    "B": "Correspondence with the resident",
    "C": "Calls and notes",
    "D": "Reports, surveys and attachments",
    "E": "Tenancy",
    "F": "Policies relied on",
    "G": "Ombudsman correspondence",
}
# Where a document filed by staff goes (``case_files.FiledCategory``; "scan" is a
# complaint received on paper and scanned, ``other_channels``).
_FILED_SECTION = {
    "scan": "A",
    "correspondence": "B",
    "note": "C",
    "report": "D",
    "tenancy": "E",
    "policy": "F",
    "ombudsman": "G",
}
OMBUDSMAN_DOMAINS = ("housing-ombudsman.org.uk",)
_TITLE_CHARS = 180
_UNDATED = datetime.min.replace(tzinfo=UTC)  # undated documents (policies) first


@dataclass(frozen=True)
class ZipEntry:
    """One original file in the pack's zip: from storage (``item``) or given as bytes."""

    name: str
    ref: str
    title: str
    sha256: str
    item: FiledItem | None = None
    data: bytes | None = None
    shown: str = "pages"  # "pages" or "listed"
    listed_reason: str = ""


@dataclass
class PackContents:
    sections: tuple[BundleSection, ...]
    chronology: tuple[ChronologyRow, ...]
    zip_entries: list[ZipEntry]
    not_evidence: list[dict[str, Any]]  # drafts and revisions: kept on the case, marked
    tampered: list[str] = field(default_factory=list)  # files that differ from their hash


@dataclass(frozen=True)
class _Pending:
    """A document before its ref is known: its section, its date and how to make it."""

    section: str
    at: datetime | None
    key: str  # a stable tie-break: "mail:12", "doc:40"
    title: str  # an attachment's title gets "(attached to <its mail's ref>)" added
    file_name: str
    sha256: str
    prepared: PreparedFile
    item: FiledItem | None = None
    data: bytes | None = None
    parent: str = ""  # the key of the mail an attachment came with


def arrange(
    sources: CaseSources,
    prepared: Mapping[int, PreparedFile],
    policies: Mapping[str, tuple[bytes, TextPages]],
    ombudsman_domains: tuple[str, ...] = OMBUDSMAN_DOMAINS,
) -> PackContents:
    """``prepared``: each filed item by document id; ``policies``: each policy file's
    zip name -> (its bytes, its text pages)."""
    pending = _pending(sources, prepared, policies, ombudsman_domains)
    refs: dict[str, str] = {}
    by_section: dict[str, list[_Pending]] = {letter: [] for letter in SECTION_TITLES}
    for entry in pending:
        by_section[entry.section].append(entry)
    # Mails first (attachments' titles name their mail's ref), then the rest.
    for letter in SECTION_TITLES:
        by_section[letter].sort(key=lambda p: (p.at or _UNDATED, p.key))
    ordered = sorted(
        SECTION_TITLES, key=lambda s: (s not in ("A", "B", "G"), s)
    )  # sections holding mails first
    for letter in ordered:
        for position, entry in enumerate(by_section[letter], start=1):
            refs[entry.key] = f"{letter}{position}"
    sections = []
    zip_entries: list[ZipEntry] = []
    for letter, title in SECTION_TITLES.items():
        documents = []
        for entry in by_section[letter]:
            ref = refs[entry.key]
            document = _document(entry, ref, refs)
            documents.append(document)
            zip_entries.append(
                ZipEntry(
                    name=document.zip_name,
                    ref=ref,
                    title=document.title,
                    sha256=entry.sha256,
                    item=entry.item,
                    data=entry.data,
                    shown="listed" if document.listed_reason else "pages",
                    listed_reason=document.listed_reason,
                )
            )
        sections.append(BundleSection(letter=letter, title=title, documents=tuple(documents)))
    return PackContents(
        sections=tuple(sections),
        chronology=_chronology(sources, refs),
        zip_entries=zip_entries,
        not_evidence=_not_evidence(sources.letters)
        + [
            {
                "path": path,
                "reason": "in the letters folder but recorded nowhere: left by an interrupted approval",
            }
            for path in sources.strays
        ],
        tampered=[
            f"{item.path}: {p.listed_reason}"
            for item, p in _filed_with_prepared(sources, prepared)
            if not p.intact
        ],
    )


def _filed_with_prepared(
    sources: CaseSources, prepared: Mapping[int, PreparedFile]
) -> list[tuple[FiledItem, PreparedFile]]:
    items: list[FiledItem] = [*sources.filed]
    for mail in sources.mails:
        items += [f for f in (mail.raw, *mail.attachments) if f is not None]
    items += [letter.pdf for letter in sources.letters if letter.pdf is not None]
    return [(item, prepared[item.document_id]) for item in items if item.document_id in prepared]


def _pending(
    sources: CaseSources,
    prepared: Mapping[int, PreparedFile],
    policies: Mapping[str, tuple[bytes, TextPages]],
    ombudsman_domains: tuple[str, ...],
) -> list[_Pending]:
    found: list[_Pending] = []
    complaint_mail = _complaint_mail(sources.mails)
    if complaint_mail is None:
        found.append(_logged_complaint(sources.complaint))
    for mail in sources.mails:
        section = "A" if mail is complaint_mail else "B"
        if _from_ombudsman(mail, ombudsman_domains):
            section = "G"
        found.extend(_mail_entries(mail, section, prepared))
    for letter in sources.letters:
        if letter.pdf is not None:
            found.append(_letter_entry(letter, prepared))
    for call in sources.calls:
        found.append(_call_entry(call))
    for item in sources.filed:
        found.append(_filed_entry(item, prepared))
    for zip_name, (data, pages) in policies.items():
        label = dict(pages.headers).get("Policy", zip_name)
        found.append(
            _Pending(
                section="F",
                at=None,
                key=f"policy:{zip_name}",
                title=label,
                file_name=zip_name,
                sha256=_sha256(data),
                prepared=PreparedFile(text=pages),
                data=data,
            )
        )
    return found


def _complaint_mail(mails: tuple[MailRecord, ...]) -> MailRecord | None:
    return next((mail for mail in mails if mail.outcome == "complaint"), None)


def _from_ombudsman(mail: MailRecord, domains: tuple[str, ...]) -> bool:
    domain = mail.from_email.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _logged_complaint(complaint: Mapping[str, Any]) -> _Pending:
    """A complaint made by phone, letter or in person: what was logged is its record."""
    channel = str(complaint.get("channel", ""))
    received = _parse_iso(complaint.get("received_at"))
    body = str(complaint.get("description") or "")
    headers = (
        ("Complaint", str(complaint.get("id", ""))),
        ("Received", str(complaint.get("received_at", ""))),
        ("Channel", channel),
        ("Resident", resident_of(complaint)),
        ("Subject", str(complaint.get("subject") or "")),
    )
    data = ("\n".join(f"{k}: {v}" for k, v in headers) + "\n\n" + body).encode("utf-8")
    return _Pending(
        section="A",
        at=received,
        key="complaint",
        title=f"Complaint as logged ({channel or 'not by email'})",
        file_name="complaint-as-logged.txt",
        sha256=_sha256(data),
        prepared=PreparedFile(text=TextPages(headers=headers, body=body)),
        data=data,
    )


def _mail_entries(mail: MailRecord, section: str, prepared: Mapping[int, PreparedFile]) -> list[_Pending]:
    key = f"mail:{mail.id}"
    who = mail.from_name or mail.from_email or "an unknown sender"
    subject = mail.subject or "(no subject)"
    entries = []
    if mail.raw is not None:
        entries.append(
            _Pending(
                section=section,
                at=mail.received_at,
                key=key,
                title=_short(f"Email from {who}: {subject}"),
                file_name=f"mail-{mail.id}.eml",
                sha256=mail.raw.sha256,
                prepared=prepared.get(mail.raw.document_id, PreparedFile(listed_reason="not prepared")),
                item=mail.raw,
            )
        )
    attachment_section = "G" if section == "G" else "D"
    for item in mail.attachments:
        name = item.original_name or item.path.rpartition("/")[2]
        entries.append(
            _Pending(
                section=attachment_section,
                at=mail.received_at,
                key=f"doc:{item.document_id:09d}",
                title=_short(name),
                file_name=name,
                sha256=item.sha256,
                prepared=prepared.get(item.document_id, PreparedFile(listed_reason="not prepared")),
                item=item,
                parent=key,
            )
        )
    return entries


def _letter_entry(letter: LetterRecord, prepared: Mapping[int, PreparedFile]) -> _Pending:
    assert letter.pdf is not None
    how = "by email" if letter.status == "sent" else "for post"
    return _Pending(
        section="A",
        at=letter.issued_at,
        key=f"letter:{letter.id:09d}",
        title=_short(f"{letter.title} (letter {letter.id}, revision {letter.revision}), issued {how}"),
        file_name=f"letter-{letter.id}-{letter.letter_type}-r{letter.revision}.pdf",
        sha256=letter.pdf.sha256,
        prepared=prepared.get(letter.pdf.document_id, PreparedFile(listed_reason="not prepared")),
        item=letter.pdf,
    )


def _call_entry(call: CallRecord) -> _Pending:
    way = "from" if call.direction == "incoming" else "to"
    headers = (
        ("Call", f"{call.direction or 'call'} {way} {call.party or 'the resident'}"),
        ("When", call.at.isoformat()),
        ("Noted by", call.by or "(not recorded)"),
    )
    data = ("\n".join(f"{k}: {v}" for k, v in headers) + "\n\n" + call.summary).encode("utf-8")
    return _Pending(
        section="C",
        at=call.at,
        key=f"call:{call.event_id:09d}",
        title=_short(f"Note of {call.direction or 'a'} call {way} {call.party or 'the resident'}"),
        file_name=f"call-{call.event_id}.txt",
        sha256=_sha256(data),
        prepared=PreparedFile(text=TextPages(headers=headers, body=call.summary)),
        data=data,
    )


def _filed_entry(item: FiledItem, prepared: Mapping[int, PreparedFile]) -> _Pending:
    name = item.original_name or item.path.rpartition("/")[2]
    section = _FILED_SECTION.get(item.kind, "D")
    what = "Scanned complaint" if item.kind == "scan" else item.kind.replace("_", " ").capitalize()
    return _Pending(
        section=section,
        at=None if section == "F" else _filed_at(item),
        key=f"doc:{item.document_id:09d}",
        title=_short(f"{what}: {name}"),
        file_name=name,
        sha256=item.sha256,
        prepared=prepared.get(item.document_id, PreparedFile(listed_reason="not prepared")),
        item=item,
    )


def _filed_at(item: FiledItem) -> datetime | None:
    """When a filed document was filed: its folder name carries the instant
    (``filing.folder_name``: ``<kind>-YYYYMMDDTHHMMSSZ-<token>``)."""
    parts = item.path.split("/")
    if len(parts) < 2:
        return None
    pieces = parts[1].split("-")
    for piece in pieces:
        try:
            return datetime.strptime(piece, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _document(entry: _Pending, ref: str, refs: Mapping[str, str]) -> BundleDocument:
    prepared = entry.prepared
    zip_name = f"files/{ref}-{safe_filename(entry.file_name, fallback='document', max_bytes=120)}"
    reason = prepared.listed_reason
    if not (prepared.pdf or prepared.image or prepared.text) and not reason:
        reason = "not shown as pages"
    return BundleDocument(
        ref=ref,
        title=f"{entry.title} (attached to {refs.get(entry.parent, 'a mail')})"
        if entry.parent
        else entry.title,
        date=entry.at,
        sha256=entry.sha256,
        zip_name=zip_name,
        pdf=prepared.pdf,
        image=prepared.image,
        text=prepared.text,
        listed_reason=reason,
    )


def _chronology(sources: CaseSources, refs: Mapping[str, str]) -> tuple[ChronologyRow, ...]:
    rows = [_timeline_row(item, refs, sources) for item in sources.timeline]
    rows += _clock_rows(sources.complaint.get("deadlines") or [])
    return tuple(sorted(rows, key=lambda row: (row.at, row.event)))


def _timeline_row(item: TimelineItem, refs: Mapping[str, str], sources: CaseSources) -> ChronologyRow:
    ref = ""
    if item.kind == MAIL and item.mail_id is not None:
        ref = refs.get(f"mail:{item.mail_id}", "")
    elif item.kind == LETTER and item.letter_id is not None and "issued" in item.title:
        ref = refs.get(f"letter:{item.letter_id:09d}", "")
    elif item.event_id is not None:
        ref = refs.get(f"call:{item.event_id:09d}", "")
    return ChronologyRow(at=item.at, event=item.title, document_ref=ref)


def _clock_rows(deadlines: list[dict[str, Any]]) -> list[ChronologyRow]:
    rows = []
    for clock in deadlines:
        title = f"{clock['title']} (Code {clock['paragraph']})" if clock.get("paragraph") else clock["title"]
        due = clock["due"]
        met = _parse_iso(clock.get("met_at"))
        missed = clock.get("missed_at")
        if clock.get("ended_by"):
            verdict = f"ended without being met: {str(clock['ended_by']).replace('_', ' ')}"
        elif met is not None:
            verdict = "met late" if missed else "met"
            verdict += f" on {met.date().isoformat()}"
        elif missed:
            verdict = "missed: not met by its due date"
        else:
            verdict = "running"
        extended = f", extended from {clock['extended_from']}" if clock.get("extended_from") else ""
        at = _parse_iso(clock.get("lapses_at")) or _parse_iso(clock.get("started_at"))
        if at is not None:
            rows.append(ChronologyRow(at=at, event=f"Due {due}{extended}: {title}, {verdict}"))
    return rows


def _not_evidence(letters: tuple[LetterRecord, ...]) -> list[dict[str, Any]]:
    """Drafts, refused approvals and superseded revisions: kept on the case, never in
    section A. Listed in the manifest so a reader knows they exist and why they are out."""
    found = []
    for letter in letters:
        for item in letter.revisions:
            issued = letter.pdf is not None and item.path.endswith(f"-r{letter.revision}.docx")
            if issued:
                reason = "the DOCX of the issued revision (the PDF is the evidence)"
            elif letter.pdf is not None:
                reason = "superseded revision of an issued letter"
            else:
                reason = f"{letter.status.replace('_', ' ')} letter: never issued"
            found.append(
                {
                    "letter": letter.id,
                    "type": letter.letter_type,
                    "status": letter.status,
                    "path": item.path,
                    "sha256": item.sha256,
                    "reason": reason,
                }
            )
    return found


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _TITLE_CHARS else flat[: _TITLE_CHARS - 1] + "…"


def _parse_iso(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resident_of(complaint: Mapping[str, Any]) -> str:
    """The complainant as ``show_case`` gives them: name, and address when known."""
    person = complaint.get("complainant") or {}
    name, email = str(person.get("name") or ""), str(person.get("email") or "")
    return f"{name} <{email}>" if name and email else name or email
