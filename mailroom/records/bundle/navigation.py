"""How a reader finds their way round the merged bundle: index and chronology rows
that link to pages, bookmarks per section and document, page labels 1..M, and the
document information (title, author, fixed dates) in both the Info dictionary and
XMP, the same on every build."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, String

from mailroom.records.bundle.clean import one_line

BOOKMARK_LIMIT = 200


@dataclass(frozen=True)
class Link:
    page: int  # 0-based index of the page the link is on
    rect: tuple[float, float, float, float]
    target: int  # 0-based index of the page it opens


@dataclass(frozen=True)
class Bookmark:
    title: str
    page: int  # 0-based
    children: tuple[Bookmark, ...] = ()


def add_links(pdf: pikepdf.Pdf, links: Sequence[Link]) -> None:
    """Invisible link annotations with explicit destinations (never a URI)."""
    for link in links:
        target = pdf.pages[link.target].obj
        annotation = pdf.make_indirect(
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=Array(list(link.rect)),
                Border=Array([0, 0, 0]),
                F=4,  # print
                Dest=Array([target, Name.Fit]),
            )
        )
        page = pdf.pages[link.page].obj
        if Name.Annots not in page:
            page.Annots = Array()
        page.Annots.append(annotation)


def set_outline(pdf: pikepdf.Pdf, bookmarks: Sequence[Bookmark]) -> None:
    with pdf.open_outline() as outline:
        outline.root.extend(_item(bookmark) for bookmark in bookmarks)
    pdf.Root.PageMode = Name.UseOutlines


def _item(bookmark: Bookmark) -> OutlineItem:
    item = OutlineItem(one_line(bookmark.title, BOOKMARK_LIMIT), bookmark.page)
    item.children.extend(_item(child) for child in bookmark.children)
    return item


def set_page_labels(pdf: pikepdf.Pdf) -> None:
    """Viewers show bundle page numbers 1..M, decimal, consecutive."""
    pdf.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.D, St=1)]))


def set_metadata(pdf: pikepdf.Pdf, title: str, subject: str, created: str) -> None:
    """Info dictionary and XMP with fixed values (``created`` a PDF date string), so
    the bundle's bytes depend on its content only."""
    info = pdf.make_indirect(
        Dictionary(
            Title=String(one_line(title, 300)),
            Subject=String(one_line(subject, 300)),
            Author=String("mailroom"),
            Creator=String("mailroom evidence pack"),
            Producer=String("mailroom (pikepdf, reportlab)"),
            CreationDate=String(created),
            ModDate=String(created),
        )
    )
    pdf.trailer.Info = info
    # From the Info dictionary, without pikepdf's own mark (which is a timestamp).
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        xmp.load_from_docinfo(pdf.docinfo)
