"""Lay a ``Bundle`` out as one PDF, the way an English court e-bundle is laid out:
cover, index, chronology, then sections A..G (a divider, then each document's
pages, in the order given), then the verification page; consecutive bundle page
numbers stamped on every page and shown as page labels; bookmarks per section and
document; index and chronology rows linked to their pages; searchable text.

The order of work follows what depends on what: documents are planned (PDFs
opened and defanged, images prepared) and the generated pages drawn first, which
fixes every document's page count; the front matter is then drawn until its own
length agrees with the page numbers it prints; finally everything is merged,
linked, stamped, bookmarked and saved. Pure: files are read, and written only to a
temporary folder that is removed; the same ``Bundle`` gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from tempfile import TemporaryDirectory

import pikepdf

from mailroom.records.bundle.body import VERIFICATION_KEY, draw_body
from mailroom.records.bundle.dates import pdf_date
from mailroom.records.bundle.flowables import Rendered
from mailroom.records.bundle.fonts import register_fonts
from mailroom.records.bundle.front_matter import (
    FrontMatter,
    IndexEntry,
    SettledFront,
    draw_front,
    settle_front,
)
from mailroom.records.bundle.headings import section_title
from mailroom.records.bundle.images import place_image
from mailroom.records.bundle.imported_pdf import sweep_actions
from mailroom.records.bundle.model import Bundle, BundleLayout, DocumentPages
from mailroom.records.bundle.navigation import (
    Bookmark,
    Link,
    add_links,
    set_metadata,
    set_outline,
    set_page_labels,
)
from mailroom.records.bundle.numbering import FRONT_KEYS, Numbering, number_parts
from mailroom.records.bundle.plan import PlannedSection, plan_bundle
from mailroom.records.bundle.stamp import stamp_pages
from mailroom.records.bundle.styles import PAGE_HEIGHT, PAGE_WIDTH

FRONT_NAMES = ("Cover", "Index", "Chronology")


@dataclass(frozen=True)
class Part:
    """Pages after the front matter: ``count`` pages of ``source`` (the generated
    pages when None) from 0-based ``first``."""

    key: str
    source: pikepdf.Pdf | None
    first: int
    count: int


def build_bundle(bundle: Bundle) -> BundleLayout:
    """The bundle as one PDF, and where each part landed. Documents whose PDF or
    image cannot be used are listed in the index only (``BundleLayout.fallbacks``);
    never raises for bad input files."""
    register_fonts()
    with TemporaryDirectory(prefix="mailroom-bundle-") as workdir, ExitStack() as opened:
        sections = plan_bundle(bundle, Path(workdir), opened)
        body, truncated = draw_body(sections, bundle.verification)
        parts = after_front(sections, body)
        front = FrontMatter(index_entries(sections), document_keys(sections))
        settled = settle_front(
            lambda counts: number_parts(counts, [(part.key, part.count) for part in parts]),
            lambda numbering: draw_front(bundle, front, numbering),
        )
        pdf = merge(bundle, sections, settled, body, parts)
    return layout(pdf, sections, settled.numbering, truncated)


def after_front(sections: Sequence[PlannedSection], body: Rendered) -> list[Part]:
    """The parts after the front matter, in bundle order, with their page counts."""
    generated = sorted(body.starts, key=body.starts.__getitem__)
    ends = [body.starts[key] for key in generated[1:]] + [body.pages + 1]
    counts = {key: end - body.starts[key] for key, end in zip(generated, ends, strict=True)}

    def drawn(key: str) -> Part:
        return Part(key, None, body.starts[key] - 1, counts[key])

    parts = []
    for section in sections:
        parts.append(drawn(section.key))
        for planned in section.documents:
            if planned.pdf is not None:
                parts.append(Part(planned.key, planned.pdf, 0, len(planned.pdf.pages)))
            elif not planned.listed:
                parts.append(drawn(planned.key))
    parts.append(drawn(VERIFICATION_KEY))
    return parts


def index_entries(sections: Sequence[PlannedSection]) -> tuple[IndexEntry, ...]:
    entries = [
        IndexEntry(key, "front", "", None, name) for key, name in zip(FRONT_KEYS, FRONT_NAMES, strict=True)
    ]
    for section in sections:
        entries.append(
            IndexEntry(section.key, "section", section.section.letter, None, section_title(section.section))
        )
        for planned in section.documents:
            document = planned.document
            note = ""
            if planned.listed:
                note = f"in zip only: {planned.listed}, SHA-256 {document.sha256[:16]}…, {document.zip_name}"
            entries.append(
                IndexEntry(planned.key, "document", document.ref, document.date, document.title, note)
            )
    entries.append(IndexEntry(VERIFICATION_KEY, "front", "", None, "Verification"))
    return tuple(entries)


def document_keys(sections: Sequence[PlannedSection]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for section in sections:
        for planned in section.documents:
            keys.setdefault(planned.document.ref, planned.key)  # a repeated ref: the first
    return keys


def merge(
    bundle: Bundle,
    sections: Sequence[PlannedSection],
    settled: SettledFront,
    body: Rendered,
    parts: Sequence[Part],
) -> bytes:
    """The bundle's bytes: front matter, then every part's pages, then the images,
    links, stamps, labels, bookmarks and metadata on top."""
    numbering = settled.numbering
    with (
        pikepdf.new() as final,
        pikepdf.open(BytesIO(settled.rendered.pdf)) as front_pdf,
        pikepdf.open(BytesIO(body.pdf)) as body_pdf,
    ):
        front_pages = place_front(final, front_pdf, settled)
        body_pages: dict[int, int] = {}  # generated page (1-based) -> bundle page index
        for part in parts:
            if part.source is None:
                body_pages.update((part.first + 1 + n, len(final.pages) + n) for n in range(part.count))
            source = body_pdf if part.source is None else part.source
            final.pages.extend(source.pages[part.first : part.first + part.count])
        if len(final.pages) != numbering.total:
            raise RuntimeError(f"bundle has {len(final.pages)} pages, numbered for {numbering.total}")
        sweep_actions(final)
        images = {planned.key: planned.image for section in sections for planned in section.documents}
        for place in body.image_spots:
            image = images[place.target]
            assert image is not None
            place_image(final, final.pages[body_pages[place.page]], image, place)
        links = [
            Link(front_pages[spot.page], spot.rect, first - 1)
            for spot in settled.rendered.link_spots
            if (first := numbering.first(spot.target))
        ]
        add_links(final, links)
        stamp_pages(final, bundle.cover.complaint_id)
        set_page_labels(final)
        set_outline(final, bookmarks(sections, numbering))
        cover = bundle.cover
        set_metadata(
            final,
            title=bundle.title or f"{cover.complaint_id} evidence bundle",
            subject=f"Housing Ombudsman evidence bundle: complaint {cover.complaint_id}",
            created=pdf_date(cover.prepared_at),
        )
        buffer = BytesIO()
        # deterministic_id: the /ID is a hash of the content, not of the time.
        final.save(
            buffer,
            deterministic_id=True,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
    return buffer.getvalue()


def place_front(final: pikepdf.Pdf, front_pdf: pikepdf.Pdf, settled: SettledFront) -> dict[int, int]:
    """Append the cover, index and chronology, each padded with blank pages to the
    slot the numbering gave it; return front page (1-based) -> bundle page index."""
    where: dict[int, int] = {}
    first = 1
    for count, slot in zip(settled.counts, settled.slots, strict=True):
        for page in range(first, first + count):
            where[page] = len(final.pages)
            final.pages.append(front_pdf.pages[page - 1])
        for _ in range(slot - count):
            final.add_blank_page(page_size=(PAGE_WIDTH, PAGE_HEIGHT))
        first += count
    return where


def bookmarks(sections: Sequence[PlannedSection], numbering: Numbering) -> list[Bookmark]:
    def page(key: str) -> int:
        first = numbering.first(key)
        assert first is not None, key
        return first - 1

    marks = [Bookmark(name, page(key)) for key, name in zip(FRONT_KEYS, FRONT_NAMES, strict=True)]
    for section in sections:
        children = []
        for planned in section.documents:
            document = planned.document
            title = f"{document.ref} {document.title}"
            if planned.listed:
                # No pages: the bookmark opens the divider, which lists it with its reason.
                children.append(Bookmark(f"{title} (in the zip only)", page(section.key)))
            else:
                children.append(Bookmark(title, page(planned.key)))
        marks.append(Bookmark(section_title(section.section), page(section.key), tuple(children)))
    marks.append(Bookmark("Verification", page(VERIFICATION_KEY)))
    return marks


def layout(
    pdf: bytes, sections: Sequence[PlannedSection], numbering: Numbering, truncated: dict[str, int]
) -> BundleLayout:
    result = BundleLayout(pdf=pdf, pages=numbering.total)
    for name, key in zip(
        ("cover", "index", "chronology", "verification"), (*FRONT_KEYS, VERIFICATION_KEY), strict=True
    ):
        result.parts[name] = numbering.ranges[key][0]
    for section in sections:
        result.sections.setdefault(section.section.letter, numbering.ranges[section.key][0])
        for planned in section.documents:
            ref = planned.document.ref
            first, last = numbering.ranges.get(planned.key, (0, 0))
            result.documents.setdefault(ref, DocumentPages(ref, first, last))
            if planned.fell_back:
                result.fallbacks.setdefault(ref, planned.listed)
            if planned.key in truncated:
                result.truncated.setdefault(ref, truncated[planned.key])
    return result
