"""The platypus pieces the generated pages share: a document template that records
on which page each part starts and where each linked row was drawn, so the
assembler can number, bookmark and link pages it merges afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from reportlab.platypus import ActionFlowable, BaseDocTemplate, Flowable, Frame, PageTemplate

from mailroom.records.bundle.styles import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_SIDE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
)


class Mark(Flowable):  # type: ignore[misc]
    """An invisible flowable naming the part that starts here (``key``)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        return None


class FreshPage(ActionFlowable):  # type: ignore[misc]
    """Start a new page unless the current one is still empty: a part that ended
    exactly at the foot of a page must not leave a blank page behind it."""

    def __init__(self) -> None:
        super().__init__()

    def apply(self, doc: BaseDocTemplate) -> None:
        if not doc.frame._atTop:
            doc.handle_pageBreak()


@dataclass(frozen=True)
class Spot:
    """A rectangle (PDF points, page coordinates) on 1-based page ``page`` of the
    generated document, kept for ``target`` (a part key): a row to link to that
    part's first page, or the place of that part's image."""

    page: int
    rect: tuple[float, float, float, float]
    target: str


def spot(flowable: Flowable, target: str) -> Spot:
    """Where ``flowable`` is being drawn (call from its ``draw``)."""
    x, y = flowable.canv.absolutePosition(0, 0)
    return Spot(flowable.canv.getPageNumber(), (x, y, x + flowable.width, y + flowable.height), target)


class LinkedRow(Flowable):  # type: ignore[misc]
    """A flowable (an index or chronology row) whose drawn area links to ``target``."""

    def __init__(self, inner: Flowable, target: str | None) -> None:
        super().__init__()
        self.inner = inner
        self.target = target

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width, self.height = self.inner.wrap(available_width, available_height)
        return self.width, self.height

    def draw(self) -> None:
        self.inner.drawOn(self.canv, 0, 0)
        if self.target is not None:
            self.canv._doctemplate.link_spots.append(spot(self, self.target))


@dataclass
class Rendered:
    """A generated document: its bytes, its page count, the 1-based page on which
    each ``Mark`` key landed, its linked rows and the places kept for images."""

    pdf: bytes
    pages: int
    starts: dict[str, int] = field(default_factory=dict)
    link_spots: list[Spot] = field(default_factory=list)
    image_spots: list[Spot] = field(default_factory=list)


class _BundleDocTemplate(BaseDocTemplate):  # type: ignore[misc]
    def __init__(self, buffer: BytesIO, title: str) -> None:
        # invariant=1: reportlab's reproducible mode (fixed dates and document id),
        # so the same bundle gives the same bytes.
        super().__init__(
            buffer,
            pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
            leftMargin=MARGIN_SIDE,
            rightMargin=MARGIN_SIDE,
            topMargin=PAGE_HEIGHT - MARGIN_BOTTOM - FRAME_HEIGHT,
            bottomMargin=MARGIN_BOTTOM,
            invariant=1,
            pageCompression=1,
            title=title,
            author="mailroom",
            creator="mailroom",
        )
        frame = Frame(
            MARGIN_SIDE,
            MARGIN_BOTTOM,
            FRAME_WIDTH,
            FRAME_HEIGHT,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        self.starts: dict[str, int] = {}
        self.link_spots: list[Spot] = []
        self.image_spots: list[Spot] = []

    def afterFlowable(self, flowable: Any) -> None:
        if isinstance(flowable, Mark):
            self.starts.setdefault(flowable.key, self.page)


def render(story: list[Flowable], title: str = "mailroom bundle part") -> Rendered:
    """Lay ``story`` out on A4 pages."""
    buffer = BytesIO()
    doc = _BundleDocTemplate(buffer, title)
    doc.build(story)
    return Rendered(buffer.getvalue(), doc.page, doc.starts, doc.link_spots, doc.image_spots)
