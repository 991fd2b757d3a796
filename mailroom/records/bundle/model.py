"""What a bundle holds, described without any PDF library: the pack use case
(``mailroom/records/pack.py``) builds a ``Bundle`` from a case, and
``mailroom/records/bundle/assemble.py`` lays it out as one PDF.

Every text here is untrusted (mail headers, attachment names, letter fields): the
layout escapes it for reportlab's markup and draws it as text, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class TextPages:
    """A document drawn as pages of text: a mail (its headers, then its text body) or
    a note of a call. ``headers`` are (label, value) pairs shown above the body."""

    headers: tuple[tuple[str, str], ...]
    body: str


@dataclass(frozen=True)
class BundleDocument:
    """One document of a section. Exactly one of ``pdf``, ``image`` or ``text`` says
    how its pages are made; none of them means it is listed in the index only (with
    ``listed_reason``, its hash and its name in the zip) and has no pages."""

    ref: str  # "A3": section letter and position, shown in the index and chronology
    title: str  # index entry and bookmark: "Stage 1 response (CMP-2026-00012-L4)"
    date: datetime | None  # UTC; shown in London time as a date in the index
    sha256: str  # of the original bytes
    zip_name: str  # where the original is in the pack's zip
    pdf: Path | None = None  # a PDF whose pages go in as they are (letters, PDF attachments)
    image: Path | None = None  # a JPEG/PNG/GIF/... placed on a page of its own
    text: TextPages | None = None
    listed_reason: str = ""  # why a document has no pages: "spreadsheet (XLSX): in the zip"


@dataclass(frozen=True)
class BundleSection:
    letter: str  # "A".."G"
    title: str  # "Complaint and Code letters"
    documents: tuple[BundleDocument, ...]
    empty_note: str = "Nothing filed in this section."


@dataclass(frozen=True)
class ChronologyRow:
    at: datetime  # UTC
    event: str  # "Stage 1 response due: met (sent 12 March 2026, due 14 March 2026)"
    document_ref: str = ""  # a BundleDocument.ref, linked to its first bundle page


@dataclass(frozen=True)
class Cover:
    landlord: str
    complaint_id: str
    resident: str
    subject: str
    received: datetime  # UTC
    status: str  # "Closed", "Stage 2 open", ...
    prepared_by: str
    prepared_at: datetime  # UTC: part of the deterministic content, so a fixed input
    facts: tuple[tuple[str, str], ...] = ()  # further (label, value) lines: stage, officer...


@dataclass(frozen=True)
class Bundle:
    cover: Cover
    sections: tuple[BundleSection, ...]
    chronology: tuple[ChronologyRow, ...]
    # The audit chain's verification, printed on the last page (records/audit_chain.py).
    verification: tuple[str, ...] = ()
    title: str = ""  # PDF metadata title; defaults to "<complaint id> evidence bundle"


@dataclass(frozen=True)
class DocumentPages:
    """Where a document landed: 1-based bundle page numbers, inclusive (0, 0 if listed only)."""

    ref: str
    first: int
    last: int


@dataclass
class BundleLayout:
    """The result of laying a bundle out: its bytes and where everything is."""

    pdf: bytes
    pages: int
    documents: dict[str, DocumentPages] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)  # letter -> first page
    # "cover", "index", "chronology", "verification" -> first page
    parts: dict[str, int] = field(default_factory=dict)
    # Documents given a PDF or image that could not be used, so listed in the index
    # only: ref -> reason ("encrypted PDF", "unreadable image: ...").
    fallbacks: dict[str, str] = field(default_factory=dict)
    # Text documents cut short at the page limit: ref -> characters not shown.
    truncated: dict[str, int] = field(default_factory=dict)
