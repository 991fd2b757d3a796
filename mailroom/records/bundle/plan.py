"""How each document of a bundle will be shown, decided before anything is laid out:
its text, its prepared image, its opened (and defanged) PDF, or the reason it is
listed in the index only. A PDF or image that cannot be used falls back to listed
only here, so layout never meets a bad input."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from mailroom.records.bundle.images import PreparedImage, prepare_image
from mailroom.records.bundle.imported_pdf import open_pdf
from mailroom.records.bundle.model import Bundle, BundleDocument, BundleSection, TextPages
from mailroom.records.bundle.unplaceable import Unplaceable

NO_REASON = "no pages to show"


@dataclass(frozen=True)
class PlannedDocument:
    key: str  # "doc:<section>.<position>" (numbering.py)
    document: BundleDocument
    text: TextPages | None = None
    image: PreparedImage | None = None
    pdf: pikepdf.Pdf | None = None
    listed: str = ""  # why it has no pages (then text, image and pdf are None)
    fell_back: bool = False  # it had a PDF or image that could not be used


@dataclass(frozen=True)
class PlannedSection:
    key: str  # "section:<position>"
    section: BundleSection
    documents: tuple[PlannedDocument, ...]


def plan_bundle(bundle: Bundle, workdir: Path, opened: ExitStack) -> list[PlannedSection]:
    """Every document's plan. PDFs are opened here and closed by ``opened``; their
    pages are copied lazily, so they must stay open until the bundle is saved."""
    sections = []
    for s, section in enumerate(bundle.sections):
        documents = tuple(
            plan_document(f"doc:{s}.{d}", document, workdir, opened)
            for d, document in enumerate(section.documents)
        )
        sections.append(PlannedSection(f"section:{s}", section, documents))
    return sections


def plan_document(key: str, document: BundleDocument, workdir: Path, opened: ExitStack) -> PlannedDocument:
    if document.pdf is not None:
        pdf = open_pdf(document.pdf, workdir, key.replace(":", "-"), opened)
        if isinstance(pdf, Unplaceable):
            return PlannedDocument(key, document, listed=pdf.reason, fell_back=True)
        return PlannedDocument(key, document, pdf=pdf)
    if document.image is not None:
        image = prepare_image(document.image, workdir, key.replace(":", "-"))
        if isinstance(image, Unplaceable):
            return PlannedDocument(key, document, listed=image.reason, fell_back=True)
        return PlannedDocument(key, document, image=image)
    if document.text is not None:
        return PlannedDocument(key, document, text=document.text)
    return PlannedDocument(key, document, listed=document.listed_reason or NO_REASON)
