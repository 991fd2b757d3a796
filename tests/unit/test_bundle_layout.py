"""The pieces of the evidence bundle layout (mailroom/records/bundle/), each on real
inputs: text hygiene and escaping, London dates, page numbering and the front
matter's settling, text pages and their bounds, image preparation and its refusals,
PDF import and its defences, the page stamp."""

from __future__ import annotations

import re
import struct
import subprocess
import time
import zlib
from contextlib import ExitStack
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pikepdf import Array, Dictionary, Name, String
from PIL import Image
from reportlab.platypus import Paragraph
from reportlab.platypus.flowables import Flowable

from mailroom.records.bundle.clean import clean, markup, one_line
from mailroom.records.bundle.dates import london_date, london_time, pdf_date
from mailroom.records.bundle.flowables import Rendered, render
from mailroom.records.bundle.fonts import REPLACEMENT, drawable
from mailroom.records.bundle.front_matter import settle_front
from mailroom.records.bundle.images import MAX_SIDE, PreparedImage, prepare_image
from mailroom.records.bundle.imported_pdf import MAX_PAGES as MAX_PDF_PAGES
from mailroom.records.bundle.imported_pdf import open_pdf, sweep_actions
from mailroom.records.bundle.model import BundleDocument, TextPages
from mailroom.records.bundle.numbering import Numbering, number_parts
from mailroom.records.bundle.stamp import stamp_pages, stamp_text
from mailroom.records.bundle.styles import FRAME_HEIGHT, styles
from mailroom.records.bundle.text_pages import (
    LINE_PIECE,
    MAX_PAGES,
    body_flowables,
    headers_table,
    text_story,
)
from mailroom.records.bundle.unplaceable import Unplaceable

MARKUP = "<b>&amp; <font color=red> <br/> <para> &lt; &#x41;"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()


def document(title: str = "Mail", **how: object) -> BundleDocument:
    return BundleDocument(
        ref="B1",
        title=title,
        date=datetime(2026, 3, 4, tzinfo=UTC),
        sha256="0" * 64,
        zip_name="b1.eml",
        **how,  # type: ignore[arg-type]
    )


# Text hygiene and escaping


def test_clean_keeps_text_and_line_ends_and_drops_what_cannot_be_drawn() -> None:
    assert clean("a\r\nb\rc\u2028d") == "a\nb\nc\nd"
    assert clean("tab\there\x00\x07\x1b[31m\x7f\x9b") == "tab\there[31m"
    assert clean("bidi \u202eevil\u2066 \u200fmark") == "bidi evil mark"
    assert clean("lone \ud800 surrogate \ufeff") == "lone  surrogate "
    assert clean("Zażółć ŵ ŷ مرحبا") == "Zażółć ŵ ŷ مرحبا"


def test_characters_dejavu_cannot_draw_become_a_replacement_mark() -> None:
    assert drawable("smile 😀 中文 ✓ €") == f"smile {REPLACEMENT} {REPLACEMENT}{REPLACEMENT} ✓ €"
    assert drawable("plain ASCII") == "plain ASCII"


def test_one_line_flattens_and_cuts() -> None:
    assert one_line("  a\n\n b\tc  ", 20) == "a b c"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_markup_looking_text_is_drawn_literally(tmp_path: Path) -> None:
    story: list[Flowable] = [Paragraph(markup(clean(MARKUP)), styles().body)]
    text = pdf_text(render(story).pdf, tmp_path)
    assert MARKUP in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_makes_a_paragraph(text: str) -> None:
    paragraph = Paragraph(markup(clean(text)), styles().body)
    _width, height = paragraph.wrap(400, 10_000)
    assert height >= 0


# Dates


def test_dates_are_london_dates_whatever_the_season() -> None:
    assert london_date(datetime(2026, 3, 4, 23, 30, tzinfo=UTC)) == "4 Mar 2026"  # GMT
    assert london_date(datetime(2026, 7, 4, 23, 30, tzinfo=UTC)) == "5 Jul 2026"  # BST: 00:30 next day
    assert london_time(datetime(2026, 7, 4, 13, 5, tzinfo=UTC)) == "4 Jul 2026, 14:05"
    assert london_time(datetime(2026, 7, 4, 13, 5)) == "4 Jul 2026, 14:05"  # naive is UTC
    assert london_date(None) == ""
    assert pdf_date(datetime(2026, 7, 4, 13, 5, tzinfo=UTC)) == "D:20260704130500Z"


# Numbering and the front matter


def test_parts_are_numbered_consecutively_after_the_front_matter() -> None:
    numbering = number_parts(
        (1, 2, 1), [("section:0", 1), ("doc:0.0", 3), ("doc:0.1", 0), ("part:verification", 1)]
    )
    assert numbering.total == 9
    assert numbering.ranges["part:index"] == (2, 3)
    assert numbering.span("doc:0.0") == "6–8"
    assert numbering.span("part:verification") == "9"
    assert numbering.first("doc:0.1") is None and numbering.span("doc:0.1") == ""


def test_front_matter_settles_on_the_counts_it_was_numbered_for() -> None:
    # The index takes 2 pages once the total passes 100; the body is 98 pages.
    def draw(numbering: Numbering) -> tuple[Rendered, tuple[int, int, int]]:
        counts = (1, 2 if numbering.total > 100 else 1, 1)
        return Rendered(b"", sum(counts)), counts

    settled = settle_front(lambda counts: number_parts(counts, [("doc", 98)]), draw)
    assert settled.counts == settled.slots == (1, 2, 1)
    assert settled.numbering.total == 102


def test_front_matter_that_shrinks_back_is_padded_rather_than_looping() -> None:
    # 1 index page numbers the bundle so that it needs 2; 2 pages make it need 1.
    def draw(numbering: Numbering) -> tuple[Rendered, tuple[int, int, int]]:
        counts = (1, 2 if numbering.total == 10 else 1, 1)
        return Rendered(b"", sum(counts)), counts

    settled = settle_front(lambda counts: number_parts(counts, [("doc", 7)]), draw)
    assert settled.slots == (1, 2, 1) and settled.counts == (1, 1, 1)
    assert settled.numbering.ranges["part:chronology"] == (4, 4)


def test_front_matter_that_never_settles_is_an_error() -> None:
    def draw(numbering: Numbering) -> tuple[Rendered, tuple[int, int, int]]:
        counts = (1, numbering.total, 1)  # always longer than it was numbered for
        return Rendered(b"", sum(counts)), counts

    with pytest.raises(RuntimeError, match="did not settle"):
        settle_front(lambda counts: number_parts(counts, [("doc", 1)]), draw)


# Text pages


def test_a_100_kb_line_without_spaces_wraps_quickly(tmp_path: Path) -> None:
    line = "".join(chr(ord("a") + n % 26) for n in range(100_000))
    started = time.perf_counter()
    story = text_story(document(), TextPages((("Subject", "Long"),), line))
    rendered = render(story.flowables)
    assert time.perf_counter() - started < 10
    assert story.omitted_chars == 0
    assert rendered.pages >= 10
    assert line in pdf_text(rendered.pdf, tmp_path).replace("\n", "").replace("\f", "")


def test_lines_are_cut_into_pieces_a_paragraph_can_wrap() -> None:
    flowables, omitted = body_flowables("x" * (LINE_PIECE * 3 + 5), budget=1e9)
    assert omitted == 0 and len(flowables) == 4


def test_a_body_over_budget_is_cut_at_a_line_and_says_how_much_is_left(tmp_path: Path) -> None:
    body = "".join(f"line {n:07d}\n" for n in range(5_000))  # measured: over 2,500 lines
    flowables, omitted = body_flowables(body, budget=3 * (FRAME_HEIGHT - 40))
    rendered = render(flowables)
    assert rendered.pages <= 3
    shown = re.findall(r"line (\d{7})", pdf_text(rendered.pdf, tmp_path))
    last = int(shown[-1])
    assert shown == [f"{n:07d}" for n in range(last + 1)]
    assert body[len(body) - omitted :].startswith(f"line {last + 1:07d}\n")


@pytest.mark.slow
def test_a_huge_mail_stops_at_the_page_limit_with_a_note(tmp_path: Path) -> None:
    body = "short line\n" * 3_000_000  # 33 MB
    started = time.perf_counter()
    story = text_story(document(), TextPages((), body))
    rendered = render(story.flowables)
    assert time.perf_counter() - started < 60
    assert rendered.pages <= MAX_PAGES
    assert story.omitted_chars > len(body) - 200 * 60 * len("short line\n")
    text = pdf_text(rendered.pdf, tmp_path)
    assert (
        f"[truncated: {story.omitted_chars:,} more characters in the original, see the zip: b1.eml]" in text
    )


def test_hostile_headers_stay_within_a_page(tmp_path: Path) -> None:
    # U+2031 is DejaVu's widest glyph: 4,000 of them are taller than a page.
    headers = (
        ("To", "\u2031" * 10_000),
        *((f"X-Header-{n}", "value " * 2_000) for n in range(79)),
        ("Subject", MARKUP),
    )
    table = headers_table(headers)
    assert table is not None
    rendered = render([table])
    text = pdf_text(rendered.pdf, tmp_path)
    assert "21 more headers, see the zip" in text
    assert "X-Header-58" in text and "X-Header-59" not in text
    assert "\u2031" * 20 in text


# Images


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ((100_000, 100_000), "image too large to draw (over 40 megapixels)"),
        ((8_000, 8_000), "image too large to draw: 8000×8000 pixels (limit 40 megapixels)"),
    ],
)
def test_decompression_bombs_are_refused_from_their_header(
    tmp_path: Path, size: tuple[int, int], reason: str
) -> None:
    (tmp_path / "bomb.png").write_bytes(_png_header(*size))
    assert prepare_image(tmp_path / "bomb.png", tmp_path, "out") == Unplaceable(reason)
    assert not list(tmp_path.glob("out*"))


def test_unreadable_or_foreign_images_give_a_reason(tmp_path: Path) -> None:
    Image.new("RGB", (400, 300), "red").save(tmp_path / "whole.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:200])
    (tmp_path / "eps.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    cut = prepare_image(tmp_path / "cut.jpg", tmp_path, "a")
    assert isinstance(cut, Unplaceable) and cut.reason.startswith("unreadable image: ")
    eps = prepare_image(tmp_path / "eps.jpg", tmp_path, "b")
    assert eps == Unplaceable("not an image format the bundle draws (JPEG, PNG, GIF, BMP, TIFF, WebP)")
    missing = prepare_image(tmp_path / "nowhere" / "gone.png", tmp_path, "c")
    assert missing == Unplaceable("unreadable image: No such file or directory")


def test_a_large_photo_is_reduced_and_kept_as_jpeg(tmp_path: Path) -> None:
    Image.effect_noise((400, 300), 40).resize((4000, 3000)).convert("RGB").save(tmp_path / "photo.jpg")
    prepared = prepare_image(tmp_path / "photo.jpg", tmp_path, "p")
    assert isinstance(prepared, PreparedImage)
    assert (prepared.width, prepared.height, prepared.encoding, prepared.grey) == (
        MAX_SIDE,
        1500,
        "jpeg",
        False,
    )
    with Image.open(prepared.path) as again:
        assert again.format == "JPEG" and again.size == (MAX_SIDE, 1500)


def test_exif_orientation_turns_the_photo_upright(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: turn 90° clockwise to show
    Image.new("RGB", (600, 200), "blue").save(tmp_path / "side.jpg", exif=exif)
    prepared = prepare_image(tmp_path / "side.jpg", tmp_path, "s")
    assert isinstance(prepared, PreparedImage) and (prepared.width, prepared.height) == (200, 600)


def test_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    Image.new("RGBA", (10, 4), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    prepared = prepare_image(tmp_path / "clear.png", tmp_path, "c")
    assert isinstance(prepared, PreparedImage) and prepared.encoding == "zlib"
    assert zlib.decompress(prepared.path.read_bytes()) == b"\xff" * (10 * 4 * 3)


# PDF import


def _pdf(path: Path, pages: int = 1, text: str = "Hello") -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 200))
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    for page in pdf.pages:
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    pdf.save(path)
    return path


def test_encrypted_broken_missing_and_huge_pdfs_are_refused_with_a_reason(tmp_path: Path) -> None:
    plain = _pdf(tmp_path / "plain.pdf")
    with pikepdf.open(plain) as pdf:
        pdf.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(user="secret", owner="owner"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not a PDF at all\n%%EOF\n")
    _pdf(tmp_path / "huge.pdf", pages=MAX_PDF_PAGES + 1)
    with ExitStack() as opened:
        assert open_pdf(tmp_path / "locked.pdf", tmp_path, "l", opened) == Unplaceable("encrypted PDF")
        broken = open_pdf(tmp_path / "broken.pdf", tmp_path, "b", opened)
        assert isinstance(broken, Unplaceable) and broken.reason.startswith("unreadable PDF: ")
        assert str(tmp_path) not in broken.reason
        missing = open_pdf(tmp_path / "gone.pdf", tmp_path, "m", opened)
        assert missing == Unplaceable("unreadable PDF: No such file or directory")
        huge = open_pdf(tmp_path / "huge.pdf", tmp_path, "h", opened)
        assert huge == Unplaceable(
            f"PDF of {MAX_PDF_PAGES + 1:,} pages, more than the 2,000 a bundle takes from one file"
        )


def test_a_pdf_locked_for_editing_only_opens(tmp_path: Path) -> None:
    with pikepdf.open(_pdf(tmp_path / "plain.pdf")) as pdf:
        pdf.save(tmp_path / "owner.pdf", encryption=pikepdf.Encryption(user="", owner="owner"))
    with ExitStack() as opened:
        opened_pdf = open_pdf(tmp_path / "owner.pdf", tmp_path, "o", opened)
        assert isinstance(opened_pdf, pikepdf.Pdf)
        assert len(opened_pdf.pages) == 1 and not opened_pdf.is_encrypted


def test_an_imported_pdf_keeps_its_look_and_loses_everything_active(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "active.pdf", pages=2)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert(1)"))
        pdf.Root.AcroForm = Dictionary(Fields=Array())
        pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
        page = pdf.pages[0].obj
        page.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("app.alert(2)")))
        page.Annots = Array(
            [
                pdf.make_indirect(
                    Dictionary(
                        Type=Name.Annot,
                        Subtype=Name.Link,
                        Rect=Array([0, 0, 10, 10]),
                        A=Dictionary(S=Name.Launch, F=String("cmd.exe")),
                    )
                )
            ]
        )
        page.Rotate = 45  # not a quarter turn
        page.CropBox = Array([0, 0, 0, 0])  # no area
        page.Stray = pdf.Root
        pdf.save(path)
    with ExitStack() as opened:
        imported = open_pdf(path, tmp_path, "a", opened)
        assert isinstance(imported, pikepdf.Pdf)
        assert set(imported.Root.keys()) == {"/Type", "/Pages"}
        first = imported.pages[0].obj
        assert set(first.keys()) == {"/Type", "/Parent", "/MediaBox", "/Resources", "/Contents"}
        assert b"Hello" in first.Contents.read_bytes()


def test_the_sweep_removes_actions_nested_anywhere_and_keeps_soft_masks() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    hidden = pdf.make_indirect(
        Dictionary(
            Deep=Array([Dictionary(S=Name.JavaScript, JS=String("x")), Dictionary(AA=Dictionary())]),
            Link=Dictionary(S=Name.URI, URI=String("https://tracker.invalid")),
            SMask=Dictionary(S=Name.Luminosity, G=Dictionary()),
        )
    )
    pdf.pages[0].obj.Resources = Dictionary(Properties=Dictionary(P0=hidden))
    sweep_actions(pdf)
    assert hidden.Deep[0] == Dictionary() and hidden.Deep[1] == Dictionary()
    assert hidden.Link == Dictionary()
    assert str(hidden.SMask.S) == "/Luminosity"  # not an action: kept


# The stamp


def test_the_stamp_shrinks_to_fit_a_tiny_page(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(60, 30))
    pdf.add_blank_page(page_size=(600, 300))
    pdf.pages[1].Rotate = 270
    stamp_pages(pdf, "CMP-2026-00012")
    buffer = BytesIO()
    pdf.save(buffer)
    pages = pdf_text(buffer.getvalue(), tmp_path).split("\f")
    assert stamp_text("CMP-2026-00012", 1, 2) == "CMP-2026-00012 · Page 1 of 2"
    assert "CMP-2026-00012 · Page 1 of 2" in re.sub(r"\s+", " ", pages[0])
    assert "CMP-2026-00012 · Page 2 of 2" in re.sub(r"\s+", " ", pages[1])
