"""The bundle page stamp: "CMP-2026-00012 · Page 7 of 240" at the foot of every page,
right-aligned in the bottom margin.

Pages from other PDFs may be any size and rotated. Each page gets a stamp drawn on
a reportlab page the size it is *shown* at (width and height swapped for /Rotate 90
or 270), which pikepdf places over the page's visible box, undoing the page's
rotation (qpdf's placeFormXObject): the stamp reads upright at the bottom right of
what the reader sees. The page's own content is wrapped in q/Q so nothing it leaves
set (a clip, a transform) reaches the stamp.
"""

from __future__ import annotations

from io import BytesIO

import pikepdf
from pikepdf import Name
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from mailroom.records.bundle.clean import one_line
from mailroom.records.bundle.fonts import SANS, register_fonts
from mailroom.records.bundle.page_resources import add_xobject

FONT_SIZE = 8.0
FROM_RIGHT = 28.0
FROM_BOTTOM = 16.0
MIN_SIDE, MAX_SIDE = 3.0, 14_400.0  # what PDF allows for a page side


def stamp_text(reference: str, page: int, total: int) -> str:
    return f"{one_line(reference, 60)} · Page {page} of {total}"


def stamp_pages(pdf: pikepdf.Pdf, reference: str) -> None:
    """Stamp every page of ``pdf`` with its bundle page number, in place."""
    register_fonts()
    total = len(pdf.pages)
    boxes = [_visible(page) for page in pdf.pages]
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=1, pageCompression=1)
    for number, (_box, width, height) in enumerate(boxes, start=1):
        canvas.setPageSize((width, height))
        _draw(canvas, stamp_text(reference, number, total), width, height)
        canvas.showPage()
    canvas.save()
    with pikepdf.open(BytesIO(buffer.getvalue())) as stamps:
        for page, stamp, (box, _width, _height) in zip(pdf.pages, stamps.pages, boxes, strict=True):
            _overlay(pdf, page, stamp, box)


def _overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, stamp: pikepdf.Page, box: pikepdf.Rectangle) -> None:
    """``stamp`` as a form XObject over ``page``: ``Page.add_overlay`` without its
    random resource name (page_resources.py)."""
    form = pdf.copy_foreign(stamp.as_form_xobject())
    name = add_xobject(page, "BundleStamp", form)
    placement = page.calc_form_xobject_placement(form, name, box, allow_shrink=True, allow_expand=True)
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"\nQ\n" + placement, prepend=False)


def _visible(page: pikepdf.Page) -> tuple[pikepdf.Rectangle, float, float]:
    """The page's visible box, and its width and height as the reader sees them."""
    box = pikepdf.Rectangle(page.cropbox)
    width = min(max(abs(box.width), MIN_SIDE), MAX_SIDE)
    height = min(max(abs(box.height), MIN_SIDE), MAX_SIDE)
    rotate = page.obj.get(Name.Rotate, 0)
    quarter = (int(rotate) // 90) % 4 if isinstance(rotate, int) else 0
    if quarter % 2:
        width, height = height, width
    return box, width, height


def _draw(canvas: Canvas, text: str, width: float, height: float) -> None:
    natural = stringWidth(text, SANS, FONT_SIZE)
    room = width * 0.9
    size = FONT_SIZE if natural <= room else max(FONT_SIZE * room / natural, 2.0)
    canvas.setFont(SANS, size)
    canvas.setFillGray(0.15)
    right = width - min(FROM_RIGHT, width * 0.05)
    baseline = min(FROM_BOTTOM, height * 0.03)
    canvas.drawRightString(right, baseline, text)
