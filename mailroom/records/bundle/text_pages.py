"""A mail (or a note of a call) as pages of text: its headers as a small table, then
its body as wrapped paragraphs, one per line of the original.

Bounded whatever the mail holds: a line is cut into pieces of at most
``LINE_PIECE`` characters before reportlab wraps it (a 100 KB line without a space
would otherwise cost reportlab seconds), and the body is cut off after about
``MAX_PAGES`` pages with a note saying how much more the original holds. The
flowables are made one at a time and measured as they are made, so a body of a
million empty lines never becomes a million objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from reportlab.lib.colors import white
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from mailroom.records.bundle.clean import clean, markup, safe_markup
from mailroom.records.bundle.headings import document_heading
from mailroom.records.bundle.model import BundleDocument, TextPages
from mailroom.records.bundle.styles import FRAME_HEIGHT, FRAME_WIDTH, GRID, SHADE, styles

MAX_PAGES = 200  # pages of one document's body
MAX_BODY_CHARS = 1_500_000  # more than 200 pages can show: read no further
LINE_PIECE = 2_000
BLANK_RUN = 40  # blank lines drawn as one space (a space cannot split across pages)
MAX_HEADERS = 60
HEADER_LABEL_LIMIT = 60
HEADER_VALUE_LIMIT = 4_000
LABEL_WIDTH = 95.0
# Below both, the body cannot reach MAX_PAGES (even 2,500 lines plus 40,000 glyphs
# three ems wide come to under 100 pages), so it is laid out without being measured.
UNMEASURED_CHARS = 40_000
UNMEASURED_LINES = 2_500

_LEADING_SPACES = re.compile(r"^ +")


@dataclass(frozen=True)
class TextStory:
    flowables: list[Flowable]
    omitted_chars: int  # of the body, not shown: 0 unless truncated


def text_story(document: BundleDocument, text: TextPages) -> TextStory:
    """The flowables of ``document``'s pages: heading, headers table, body."""
    story: list[Flowable] = [document_heading(document)]
    headers = headers_table(text.headers)
    if headers is not None:
        story.extend([headers, Spacer(1, 8)])
    used = sum(flowable.wrap(FRAME_WIDTH, FRAME_HEIGHT)[1] for flowable in story)
    body, omitted = body_flowables(text.body, budget=_body_budget() - used)
    story.extend(body)
    if omitted:
        story.append(Spacer(1, 6))
        story.append(
            Paragraph(
                markup(f"[truncated: {omitted:,} more characters in the original, see the zip: ")
                + safe_markup(document.zip_name, 200)
                + "]",
                styles().small_bold,
            )
        )
    return TextStory(story, omitted)


def _body_budget() -> float:
    # Each page may lose a line or two where a paragraph is split (orphan control).
    leading = float(styles().body.leading)
    return MAX_PAGES * (FRAME_HEIGHT - 3 * leading) - 3 * leading


def headers_table(headers: tuple[tuple[str, str], ...]) -> Table | None:
    if not headers:
        return None
    style = styles()
    rows = [
        [
            Paragraph(safe_markup(label, HEADER_LABEL_LIMIT), style.small_bold),
            Paragraph(safe_markup(value, HEADER_VALUE_LIMIT), style.small),
        ]
        for label, value in headers[:MAX_HEADERS]
    ]
    if len(headers) > MAX_HEADERS:
        rows.append(
            [
                Paragraph("…", style.small_bold),
                Paragraph(markup(f"{len(headers) - MAX_HEADERS} more headers, see the zip"), style.small),
            ]
        )
    # splitInRow: a header value too tall for a page continues on the next one.
    table = Table(rows, colWidths=[LABEL_WIDTH, FRAME_WIDTH - LABEL_WIDTH], hAlign="LEFT", splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("BACKGROUND", (1, 0), (1, -1), white),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def body_flowables(body: str, budget: float) -> tuple[list[Flowable], int]:
    """The body's paragraphs within ``budget`` points of frame height, and how many
    characters of the body did not fit (0 if all did)."""
    read = body[:MAX_BODY_CHARS]
    text = clean(read)
    unread = len(body) - len(read)
    measured = len(text) > UNMEASURED_CHARS or text.count("\n") > UNMEASURED_LINES
    flowables: list[Flowable] = []
    height = 0.0
    for flowable, start in _pieces(text):
        if measured:
            height += flowable.wrap(FRAME_WIDTH, FRAME_HEIGHT)[1]
            if height > budget:
                return flowables, len(text) - start + unread
        flowables.append(flowable)
    return flowables, unread


def _pieces(text: str) -> Iterator[tuple[Flowable, int]]:
    """The body's flowables, each with the offset in ``text`` where what it shows
    starts: a paragraph per line (reportlab's fast path: one plain run of text per
    paragraph; joining lines with <br/> is slower), one space per run of blank lines."""
    style = styles().body
    offset = 0
    start = 0  # of the run of blank lines being gathered
    blank = 0
    for line in text.split("\n"):
        if not line.strip():
            if not blank:
                start = offset
            blank += 1
            offset += len(line) + 1
            if blank >= BLANK_RUN:
                yield Spacer(1, blank * style.leading), start
                blank = 0
            continue
        if blank:
            yield Spacer(1, blank * style.leading), start
            blank = 0
        for piece in _split_line(line):
            yield Paragraph(_paragraph_markup(piece), style), offset
            offset += len(piece)
        offset += 1
    if blank:
        yield Spacer(1, blank * style.leading), start


def _split_line(line: str) -> Iterator[str]:
    """``line`` in pieces of at most LINE_PIECE characters, cut at a space near the
    limit when there is one."""
    while len(line) > LINE_PIECE:
        cut = line.rfind(" ", LINE_PIECE - 300, LINE_PIECE)
        cut = cut + 1 if cut > 0 else LINE_PIECE
        yield line[:cut]
        line = line[cut:]
    yield line


def _paragraph_markup(piece: str) -> str:
    # A paragraph collapses spaces; keep a quoted or indented line's indent visible.
    expanded = piece.expandtabs(4)
    indent = _LEADING_SPACES.match(expanded)
    width = len(indent.group()) if indent else 0
    return "&nbsp;" * min(width, 40) + markup(expanded[width:])
