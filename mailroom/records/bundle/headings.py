"""The line above a generated document's first page and the section titles, shared
by the text, image and divider pages and the index."""

from __future__ import annotations

from reportlab.platypus import Paragraph

from mailroom.records.bundle.clean import safe_markup
from mailroom.records.bundle.dates import london_date
from mailroom.records.bundle.model import BundleDocument, BundleSection
from mailroom.records.bundle.styles import styles

TITLE_LIMIT = 400  # characters of a title drawn in a heading, the index or a bookmark


def section_title(section: BundleSection) -> str:
    """ "Section A — Complaint and Code letters" (plain text, not markup)."""
    return f"Section {section.letter} — {section.title}"


def document_heading(document: BundleDocument) -> Paragraph:
    """ "A3 · 4 Mar 2026 · Stage 1 response" in bold, above a generated document."""
    parts = [document.ref, london_date(document.date), document.title]
    return Paragraph(
        safe_markup(" · ".join(part for part in parts if part), TITLE_LIMIT), styles().subheading
    )
