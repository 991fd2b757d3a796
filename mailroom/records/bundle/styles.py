"""The look of the generated pages: A4, margins leaving the bottom strip free for
the bundle page stamp (stamp.py), and DejaVu paragraph styles."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from mailroom.records.bundle.fonts import MONO, SANS, SANS_BOLD, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = float(A4[0]), float(A4[1])
MARGIN_SIDE = float(18 * mm)
MARGIN_TOP = float(18 * mm)
MARGIN_BOTTOM = float(22 * mm)  # the stamp sits at about 6 mm: content never reaches it
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_SIDE
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

GRID = Color(0.7, 0.7, 0.7)
SHADE = Color(0.92, 0.92, 0.92)


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    heading: ParagraphStyle
    subheading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    small_bold: ParagraphStyle
    note: ParagraphStyle
    mono: ParagraphStyle


@cache
def styles() -> Styles:
    register_fonts()

    def style(name: str, font: str, size: float, leading: float, **extra: object) -> ParagraphStyle:
        # splitLongWords: a word wider than the column (a URL, base64, a 100 KB line
        # without spaces) is broken across lines rather than overflowing the page.
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, splitLongWords=1, **extra)

    return Styles(
        title=style("title", SANS_BOLD, 20, 25, spaceAfter=10),
        heading=style("heading", SANS_BOLD, 14, 18, spaceAfter=8),
        subheading=style("subheading", SANS_BOLD, 11, 14, spaceBefore=4, spaceAfter=4),
        body=style("body", SANS, 9.5, 12.5),
        small=style("small", SANS, 8.5, 10.5),
        small_bold=style("small_bold", SANS_BOLD, 8.5, 10.5),
        note=style("note", SANS, 8, 10, textColor=Color(0.3, 0.3, 0.3)),
        mono=style("mono", MONO, 8.5, 11),
    )
