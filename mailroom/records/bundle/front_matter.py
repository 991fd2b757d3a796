"""The front of the bundle: cover, index and chronology, drawn for a given
numbering (the index and chronology show bundle pages, and their own length moves
every page after them: ``settle_front`` finds the numbering they agree with).

Every row of the index and chronology that points at pages is a ``LinkedRow``: the
assembler turns the rectangle it was drawn in into a link to that page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reportlab.lib.colors import white
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from mailroom.records.bundle.clean import markup, safe_markup
from mailroom.records.bundle.dates import london_date, london_time
from mailroom.records.bundle.flowables import FreshPage, LinkedRow, Mark, Rendered, render
from mailroom.records.bundle.headings import TITLE_LIMIT
from mailroom.records.bundle.model import Bundle
from mailroom.records.bundle.numbering import FRONT_KEYS, Numbering
from mailroom.records.bundle.styles import FRAME_WIDTH, GRID, SHADE, styles

FrontCounts = tuple[int, int, int]  # pages of the cover, the index, the chronology

MAX_FACTS = 40
FACT_LIMIT = 600
EVENT_LIMIT = 1_000
SETTLE_ROUNDS = 8

INDEX_COLUMNS = (34.0, 64.0, FRAME_WIDTH - 34.0 - 64.0 - 62.0, 62.0)
CHRONOLOGY_COLUMNS = (92.0, FRAME_WIDTH - 92.0 - 40.0 - 50.0, 40.0, 50.0)


@dataclass(frozen=True)
class IndexEntry:
    key: str  # the part it names (numbering.py)
    kind: Literal["front", "section", "document"]
    ref: str
    date: datetime | None
    title: str
    zip_note: str = ""  # a document without pages: "in zip only: <reason>, SHA-256 …, <name>"


@dataclass(frozen=True)
class FrontMatter:
    """What the front matter lists, independent of page numbers."""

    entries: tuple[IndexEntry, ...]
    document_keys: dict[str, str]  # a document's ref -> its part key, for the chronology


@dataclass(frozen=True)
class SettledFront:
    rendered: Rendered
    counts: FrontCounts  # pages each part took
    slots: FrontCounts  # pages the numbering gave each part (counts padded with blank pages)
    numbering: Numbering


def settle_front(
    number: Callable[[FrontCounts], Numbering], draw: Callable[[Numbering], tuple[Rendered, FrontCounts]]
) -> SettledFront:
    """Draw the front matter until the page counts it was numbered for are the ones
    it takes. Should a count shrink back (a page number got shorter), the part keeps
    its larger slot and is padded with blank pages, so this always ends."""
    slots: FrontCounts = (1, 1, 1)
    for _ in range(SETTLE_ROUNDS):
        numbering = number(slots)
        rendered, counts = draw(numbering)
        if all(count <= slot for count, slot in zip(counts, slots, strict=True)):
            return SettledFront(rendered, counts, slots, numbering)
        slots = (max(counts[0], slots[0]), max(counts[1], slots[1]), max(counts[2], slots[2]))
    raise RuntimeError(f"the bundle's front matter did not settle in {SETTLE_ROUNDS} rounds")


def draw_front(bundle: Bundle, front: FrontMatter, numbering: Numbering) -> tuple[Rendered, FrontCounts]:
    story: list[Flowable] = [Mark(FRONT_KEYS[0]), *cover_story(bundle, numbering)]
    story += [FreshPage(), Mark(FRONT_KEYS[1]), *index_story(front.entries, numbering)]
    story += [FreshPage(), Mark(FRONT_KEYS[2]), *chronology_story(bundle, front, numbering)]
    rendered = render(story, "bundle front matter")
    starts = [rendered.starts[key] for key in FRONT_KEYS]
    counts = (starts[1] - starts[0], starts[2] - starts[1], rendered.pages + 1 - starts[2])
    return rendered, counts


def cover_story(bundle: Bundle, numbering: Numbering) -> list[Flowable]:
    cover = bundle.cover
    style = styles()
    rows = [
        ("Landlord", cover.landlord),
        ("Complaint reference", cover.complaint_id),
        ("Resident", cover.resident),
        ("Subject", cover.subject),
        ("Received", london_time(cover.received)),
        ("Status", cover.status),
        *cover.facts[:MAX_FACTS],
        ("Bundle pages", f"1–{numbering.total}"),
    ]
    table = Table(
        [
            [
                Paragraph(safe_markup(label, 80), style.small_bold),
                Paragraph(safe_markup(value, FACT_LIMIT), style.body),
            ]
            for label, value in rows
        ],
        colWidths=[130.0, FRAME_WIDTH - 130.0],
        hAlign="LEFT",
        splitInRow=1,
    )
    table.setStyle(_grid_style(shade_first_column=True))
    prepared = f"Prepared by {cover.prepared_by} on {london_date(cover.prepared_at)}"
    return [
        Paragraph("Evidence bundle", style.title),
        Paragraph(
            markup("Housing Ombudsman complaint: ") + safe_markup(cover.complaint_id, 120), style.heading
        ),
        Spacer(1, 10),
        table,
        Spacer(1, 14),
        Paragraph(safe_markup(prepared, 300), style.body),
    ]


def index_story(entries: Sequence[IndexEntry], numbering: Numbering) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = [
        Paragraph("Index", style.heading),
        Paragraph(
            markup("Bundle page numbers run 1 to ")
            + str(numbering.total)
            + markup(
                ". A document listed as in the zip only is not in these pages: its original is in the "
                "evidence pack's zip, under the name and SHA-256 shown."
            ),
            style.small,
        ),
        Spacer(1, 8),
        _row(("Ref", "Date", "Document", "Pages"), INDEX_COLUMNS, header=True),
    ]
    for entry in entries:
        story.append(
            LinkedRow(_index_row(entry, numbering), entry.key if numbering.first(entry.key) else None)
        )
    return story


def _index_row(entry: IndexEntry, numbering: Numbering) -> Table:
    style = styles()
    title_style = style.small_bold if entry.kind != "document" else style.small
    title: list[Flowable] = [Paragraph(safe_markup(entry.title, TITLE_LIMIT), title_style)]
    if entry.zip_note:
        title.append(Paragraph(safe_markup(entry.zip_note, TITLE_LIMIT), style.note))
    cells = [
        Paragraph(safe_markup(entry.ref, 12), title_style),
        Paragraph(markup(london_date(entry.date)), style.small),
        title,
        Paragraph(markup(numbering.span(entry.key) or "—"), title_style),
    ]
    table = Table([cells], colWidths=list(INDEX_COLUMNS))
    table.setStyle(_grid_style(shade_all=entry.kind == "section"))
    return table


def chronology_story(bundle: Bundle, front: FrontMatter, numbering: Numbering) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = [Paragraph("Chronology", style.heading), Spacer(1, 4)]
    if not bundle.chronology:
        return [*story, Paragraph("No events recorded.", style.body)]
    story.append(_row(("When (UK time)", "Event", "Doc", "Page"), CHRONOLOGY_COLUMNS, header=True))
    for row in bundle.chronology:
        key = front.document_keys.get(row.document_ref)
        first = numbering.first(key) if key else None
        cells = [
            Paragraph(markup(london_time(row.at)), style.small),
            Paragraph(safe_markup(row.event, EVENT_LIMIT), style.small),
            Paragraph(safe_markup(row.document_ref, 12), style.small),
            Paragraph(str(first) if first else "", style.small),
        ]
        table = Table([cells], colWidths=list(CHRONOLOGY_COLUMNS))
        table.setStyle(_grid_style())
        story.append(LinkedRow(table, key if first else None))
    return story


def _row(labels: tuple[str, ...], widths: tuple[float, ...], header: bool = False) -> Table:
    style = styles()
    table = Table([[Paragraph(markup(label), style.small_bold) for label in labels]], colWidths=list(widths))
    table.setStyle(_grid_style(shade_all=header))
    return table


def _grid_style(shade_all: bool = False, shade_first_column: bool = False) -> TableStyle:
    commands: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, -1), SHADE if shade_all else white),
    ]
    if shade_first_column:
        commands.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
    return TableStyle(commands)
