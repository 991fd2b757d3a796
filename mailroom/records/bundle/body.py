"""The pages the bundle draws itself after its front matter, as one reportlab
document in bundle order: each section's divider, the mails and notes (text pages)
and images of its documents, and the verification page. PDF documents go in
between these pages when the bundle is merged (assemble.py), so they are not here.

One document for all of them means one embedded copy of each font, however many
mails the bundle holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from mailroom.records.bundle.clean import markup, safe_markup
from mailroom.records.bundle.dates import london_date
from mailroom.records.bundle.flowables import FreshPage, Mark, Rendered, render
from mailroom.records.bundle.headings import TITLE_LIMIT, section_title
from mailroom.records.bundle.images import image_story
from mailroom.records.bundle.plan import PlannedSection
from mailroom.records.bundle.styles import FRAME_WIDTH, styles
from mailroom.records.bundle.text_pages import text_story

VERIFICATION_KEY = "part:verification"
MAX_VERIFICATION_LINES = 500
VERIFICATION_LINE_LIMIT = 2_000
DIVIDER_COLUMNS = (34.0, 64.0, FRAME_WIDTH - 98.0)


def draw_body(
    sections: Sequence[PlannedSection], verification: Sequence[str]
) -> tuple[Rendered, dict[str, int]]:
    """The generated pages, and the characters each truncated text document left
    out (by part key)."""
    story: list[Flowable] = []
    truncated: dict[str, int] = {}
    for section in sections:
        story += [FreshPage(), Mark(section.key), *divider_story(section)]
        for planned in section.documents:
            if planned.text is not None:
                text = text_story(planned.document, planned.text)
                story += [FreshPage(), Mark(planned.key), *text.flowables]
                if text.omitted_chars:
                    truncated[planned.key] = text.omitted_chars
            elif planned.image is not None:
                story += [
                    FreshPage(),
                    Mark(planned.key),
                    *image_story(planned.key, planned.document, planned.image),
                ]
    story += [FreshPage(), Mark(VERIFICATION_KEY), *verification_story(verification)]
    return render(story, "bundle pages"), truncated


def divider_story(section: PlannedSection) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = [
        Spacer(1, 120),
        Paragraph(safe_markup(section_title(section.section), 300), style.title),
    ]
    if not section.documents:
        return [*story, Spacer(1, 10), Paragraph(safe_markup(section.section.empty_note, 600), style.body)]
    rows = []
    for planned in section.documents:
        document = planned.document
        title: list[Flowable] = [Paragraph(safe_markup(document.title, TITLE_LIMIT), style.small)]
        if planned.listed:
            title.append(
                Paragraph(markup("in the zip only: ") + safe_markup(planned.listed, 300), style.note)
            )
        rows.append(
            [
                Paragraph(safe_markup(document.ref, 12), style.small_bold),
                Paragraph(markup(london_date(document.date)), style.small),
                title,
            ]
        )
    table = Table(rows, colWidths=list(DIVIDER_COLUMNS), hAlign="LEFT", splitInRow=1)
    table.setStyle(
        [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, (0.75, 0.75, 0.75))]
    )
    return [*story, Spacer(1, 10), table]


def verification_story(lines: Sequence[str]) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = [Paragraph("Verification", style.heading)]
    if not lines:
        return [*story, Paragraph("No verification was recorded for this bundle.", style.body)]
    for line in lines[:MAX_VERIFICATION_LINES]:
        story.append(Paragraph(safe_markup(line, VERIFICATION_LINE_LIMIT) or "&nbsp;", style.mono))
    if len(lines) > MAX_VERIFICATION_LINES:
        story.append(
            Paragraph(markup(f"[{len(lines) - MAX_VERIFICATION_LINES} more lines not shown]"), style.note)
        )
    return story
