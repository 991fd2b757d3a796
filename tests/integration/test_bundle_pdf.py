"""The evidence bundle PDF end to end (mailroom/records/bundle/assemble.py), read back
with poppler (pdftotext), pypdf and pikepdf: searchable text, page labels, bookmarks,
index and chronology links, stamps, byte-identical rebuilds, hostile inputs made
inert or listed only.

The inputs are real files made here: mails with hostile text, PDFs drawn with
reportlab (several pages; A5 landscape turned by /Rotate; encrypted; carrying
JavaScript, an open action, launch and URI links and a form), a PNG and a JPEG
from Pillow, a PNG whose header claims 10 gigapixels, and a spreadsheet listed only.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import Destination
from reportlab.lib.pagesizes import A5, landscape
from reportlab.pdfgen.canvas import Canvas

from mailroom.records.bundle.assemble import build_bundle
from mailroom.records.bundle.model import (
    Bundle,
    BundleDocument,
    BundleLayout,
    BundleSection,
    ChronologyRow,
    Cover,
    TextPages,
)

REPO = Path(__file__).resolve().parents[2]
PREPARED = datetime(2026, 4, 2, 16, 45, tzinfo=UTC)
MARKUP = "<b>&amp; <font>"
HTMLISH = "<html><body><p>Hello</p><script>alert(1)</script></body></html>"
POLISH = "Zażółć gęślą jaźń"
WELSH = "Mae'r ŵyn yn y tŷ"
ARABIC = "مرحبا"
LONG_LINE = "0123456789" * 10_000  # 100 KB without a space
SUBJECT_1 = f"Wilgoć w łazience {MARKUP}"
SUBJECT_2 = "Re: repair visit on Tuesday"
SHA = "0123456789abcdef" * 4


def write_inputs(folder: Path) -> None:
    """The attachment files (deterministic: the same bytes on every call)."""
    canvas = Canvas(str(folder / "letter.pdf"), invariant=1)
    for page in range(1, 4):
        canvas.drawString(72, 700, f"Stage one response page {page}")
        canvas.showPage()
    canvas.save()

    canvas = Canvas(str(folder / "a5.pdf"), pagesize=landscape(A5), invariant=1)
    canvas.drawString(40, 200, "Repair receipt on A5")
    canvas.showPage()
    canvas.save()
    with pikepdf.open(folder / "a5.pdf", allow_overwriting_input=True) as pdf:
        pdf.pages[0].Rotate = 90
        pdf.save(folder / "a5.pdf", deterministic_id=True)

    canvas = Canvas(str(folder / "secret.pdf"), invariant=1)
    canvas.drawString(72, 700, "Behind a password")
    canvas.showPage()
    canvas.save()
    with pikepdf.open(folder / "secret.pdf", allow_overwriting_input=True) as pdf:
        pdf.save(folder / "secret.pdf", encryption=pikepdf.Encryption(user="resident", owner="owner"))

    canvas = Canvas(str(folder / "scripted.pdf"), invariant=1)
    canvas.drawString(72, 700, "Page with a script")
    canvas.linkURL("https://tracker.invalid/open", (72, 690, 300, 712))
    canvas.showPage()
    canvas.save()
    with pikepdf.open(folder / "scripted.pdf", allow_overwriting_input=True) as pdf:
        script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.launchURL('x')")))
        pdf.Root.OpenAction = script
        pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("go"), script])))
        pdf.Root.AcroForm = Dictionary(Fields=Array())
        first = pdf.pages[0].obj
        first.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("app.alert(1)")))
        launch = Dictionary(S=Name.Launch, F=String("cmd.exe"))
        first.Annots.append(
            pdf.make_indirect(
                Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 50, 50]), A=launch)
            )
        )
        first.Stray = pdf.Root  # a page pointing at its catalog would drag it along
        pdf.save(folder / "scripted.pdf", deterministic_id=True)

    Image.new("RGBA", (320, 200), (20, 90, 200, 160)).save(folder / "diagram.png")
    Image.linear_gradient("L").resize((900, 600)).convert("RGB").save(folder / "photo.jpg", quality=90)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
    (folder / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bomb)


def sample_bundle(folder: Path) -> Bundle:
    """The bundle of the inputs in ``folder`` (pure: the same Bundle on every call)."""
    at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

    def doc(ref: str, title: str, days: int, **how: object) -> BundleDocument:
        return BundleDocument(
            ref=ref,
            title=title,
            date=at + timedelta(days=days),
            sha256=SHA,
            zip_name=f"{ref}-original.bin",
            **how,  # type: ignore[arg-type]
        )

    body_1 = (
        f"Dzień dobry,\n\n{POLISH}. {WELSH}. {ARABIC}. 😀 中文\n{HTMLISH}\n{MARKUP}\n"
        f"bell\x07 escape\x1b[31m bidi\u202eoverride\n    > quoted and indented\n{LONG_LINE}\nKoniec."
    )
    mail_1 = TextPages(
        (
            ("From", "Zofia Wójcik <zofia@example.org>"),
            ("To", "complaints@acme.example"),
            ("Date", "Wed, 4 Mar 2026 10:00:00 +0000"),
            ("Subject", SUBJECT_1),
        ),
        body_1,
    )
    mail_2 = TextPages((("From", "officer@acme.example"), ("Subject", SUBJECT_2)), "Short reply.\n")
    return Bundle(
        cover=Cover(
            landlord="Acme Homes",
            complaint_id="CMP-2026-00012",
            resident="Zofia Wójcik",
            subject="Damp and mould",
            received=at,
            status="Stage 1 open",
            prepared_by="Jane Officer",
            prepared_at=PREPARED,
            facts=(("Stage", "1"), ("Officer", "Jane Officer")),
        ),
        sections=(
            BundleSection(
                "A",
                "Complaint and Code letters",
                (
                    doc("A1", "Stage 1 response (CMP-2026-00012-L4)", 0, pdf=folder / "letter.pdf"),
                    doc("A2", "Repair receipt (A5)", 1, pdf=folder / "a5.pdf"),
                ),
            ),
            BundleSection(
                "B",
                "Correspondence",
                (doc("B1", "Mail from the resident", 2, text=mail_1), doc("B2", "Reply", 3, text=mail_2)),
            ),
            BundleSection(
                "C",
                "Attachments",
                (
                    doc("C1", "Protected statement", 4, pdf=folder / "secret.pdf"),
                    doc("C2", "Form with a script", 5, pdf=folder / "scripted.pdf"),
                    doc("C3", "Diagram of the bathroom", 6, image=folder / "diagram.png"),
                    doc("C4", "Photo of the ceiling", 7, image=folder / "photo.jpg"),
                    doc("C5", "Giant picture", 8, image=folder / "bomb.png"),
                    doc("C6", "Repair costs spreadsheet", 9, listed_reason="spreadsheet (XLSX)"),
                ),
            ),
            BundleSection("D", "Ombudsman correspondence", (), empty_note="Nothing from the Ombudsman yet."),
        ),
        chronology=(
            ChronologyRow(at, "Stage 1 response sent", "A1"),
            ChronologyRow(at + timedelta(days=2), "Resident replied", "B1"),
            ChronologyRow(at + timedelta(days=7), "Photo received", "C4"),
            ChronologyRow(at + timedelta(days=4), "Statement received (encrypted)", "C1"),
            ChronologyRow(at + timedelta(days=10), "Stage 1 closed"),
        ),
        verification=("Audit chain: 42 entries, all verified", "Head hash: " + SHA),
    )


WITH_PAGES = ("A1", "A2", "B1", "B2", "C2", "C3", "C4")
LISTED = {"C1": "encrypted PDF", "C6": "spreadsheet (XLSX)"}


@dataclass(frozen=True)
class Built:
    folder: Path
    layout: BundleLayout
    path: Path
    pages: list[str]  # pdftotext of each page


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("bundle-inputs")
    write_inputs(folder)
    layout = build_bundle(sample_bundle(folder))
    path = folder / "bundle.pdf"
    path.write_bytes(layout.pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout
    pages = text.decode().split("\f")[: layout.pages]
    return Built(folder, layout, path, pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def page_numbers(reader: PdfReader) -> dict[int, int]:
    """Page object number -> 0-based page index."""
    return {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}  # type: ignore[union-attr]


def test_documents_land_where_the_layout_says(built: Built) -> None:
    layout = built.layout
    assert layout.pages == len(built.pages) == len(PdfReader(built.path).pages)
    assert layout.parts["cover"] == 1
    assert layout.parts["verification"] == layout.pages
    firsts = [layout.documents[ref].first for ref in WITH_PAGES]
    assert firsts == sorted(firsts) and all(first > layout.parts["chronology"] for first in firsts)
    assert layout.documents["A1"].last - layout.documents["A1"].first == 2  # the letter's 3 pages
    for page in range(3):
        assert f"Stage one response page {page + 1}" in built.pages[layout.documents["A1"].first - 1 + page]
    assert "Repair receipt on A5" in built.pages[layout.documents["A2"].first - 1]
    assert "Page with a script" in built.pages[layout.documents["C2"].first - 1]
    assert "Behind a password" not in "".join(built.pages)
    for ref in LISTED:
        assert (layout.documents[ref].first, layout.documents[ref].last) == (0, 0)
    assert layout.sections["A"] == layout.parts["chronology"] + 1
    assert layout.sections["B"] == layout.documents["A2"].last + 1
    assert layout.sections["C"] == layout.documents["B2"].last + 1
    assert layout.sections["D"] == layout.documents["C4"].last + 1 == layout.pages - 1
    for section in sample_bundle(built.folder).sections:
        assert (
            f"Section {section.letter} — {section.title}" in built.pages[layout.sections[section.letter] - 1]
        )
    assert "Nothing from the Ombudsman yet." in built.pages[layout.sections["D"] - 1]


def test_index_lists_every_entry_with_pages_or_its_place_in_the_zip(built: Built) -> None:
    layout = built.layout
    index = flat(" ".join(built.pages[layout.parts["index"] - 1 : layout.parts["chronology"] - 1]))
    bundle = sample_bundle(built.folder)
    for section in bundle.sections:
        assert f"Section {section.letter} — {section.title} {layout.sections[section.letter]}" in index
        for document in section.documents:
            assert document.title in index
            pages = layout.documents[document.ref]
            if pages.first:
                span = str(pages.first) if pages.first == pages.last else f"{pages.first}–{pages.last}"
                assert re.search(rf"{document.ref} \d+ \w+ 2026 {re.escape(document.title)} {span}\b", index)
    for ref, reason in LISTED.items():
        assert f"in zip only: {reason}, SHA-256 {SHA[:16]}…, {ref}-original.bin" in index
    assert "in zip only: image too large to draw" in index  # C5, the bomb
    for front in ("Cover 1", "Index", "Chronology", f"Verification {layout.pages}"):
        assert front in index
    assert "4 Mar 2026" in index and "13 Mar 2026" in index  # London dates of A1 and C6


def test_mail_text_is_searchable_and_drawn_literally(built: Built) -> None:
    layout = built.layout
    mail = flat(" ".join(built.pages[layout.documents["B1"].first - 1 : layout.documents["B1"].last]))
    for value in (
        "Zofia Wójcik <zofia@example.org>",
        "complaints@acme.example",
        SUBJECT_1,
        "Wed, 4 Mar 2026",
    ):
        assert value in mail
    for text in (POLISH, WELSH, HTMLISH, MARKUP, "bidioverride", "> quoted and indented", "Koniec."):
        assert text in mail
    assert all(letter in mail for letter in ARABIC)  # shaping and order are the viewer's
    assert "\x07" not in mail and "\x1b" not in mail and "\u202e" not in mail
    assert "\ufffd" in mail  # the emoji and the CJK DejaVu cannot draw
    unstamped = re.sub(r"CMP-2026-00012 · Page \d+ of \d+", "", mail)
    assert LONG_LINE in unstamped.replace(" ", "")  # wrapped across lines and pages, nothing lost
    reply = flat(built.pages[layout.documents["B2"].first - 1])
    assert SUBJECT_2 in reply and "officer@acme.example" in reply and "Short reply." in reply
    cover = flat(built.pages[0])
    for value in ("Acme Homes", "CMP-2026-00012", "Zofia Wójcik", "Damp and mould", "Stage 1 open"):
        assert value in cover
    assert "Prepared by Jane Officer on 2 Apr 2026" in cover
    assert "Officer Jane Officer" in cover
    verification = flat(built.pages[-1])
    assert "Audit chain: 42 entries, all verified" in verification and SHA in verification


def test_every_page_is_stamped_with_its_bundle_page(built: Built) -> None:
    total = built.layout.pages
    for number, text in enumerate(built.pages, start=1):
        assert f"CMP-2026-00012 · Page {number} of {total}" in text, number


def test_page_labels_run_from_1_to_the_last_page(built: Built) -> None:
    reader = PdfReader(built.path)
    assert reader.page_labels == [str(n) for n in range(1, built.layout.pages + 1)]
    with pikepdf.open(built.path) as pdf:
        assert pdf.Root.PageLabels.Nums == Array([0, Dictionary(S=Name.D, St=1)])


def test_bookmarks_per_section_and_document_open_their_first_page(built: Built) -> None:
    layout = built.layout
    reader = PdfReader(built.path)

    def page_of(item: Destination) -> int:
        number = reader.get_destination_page_number(item)
        assert number is not None
        return number + 1

    top = [item for item in reader.outline if isinstance(item, Destination)]
    children = [item for item in reader.outline if isinstance(item, list)]
    names = [str(item.title) for item in top]
    assert names == [
        "Cover",
        "Index",
        "Chronology",
        "Section A — Complaint and Code letters",
        "Section B — Correspondence",
        "Section C — Attachments",
        "Section D — Ombudsman correspondence",
        "Verification",
    ]
    pages = {str(item.title): page_of(item) for item in top}
    assert pages["Cover"] == 1 and pages["Index"] == layout.parts["index"]
    assert pages["Chronology"] == layout.parts["chronology"] and pages["Verification"] == layout.pages
    for letter, name in zip("ABCD", names[3:7], strict=True):
        assert pages[name] == layout.sections[letter]
    documents = {
        str(child.title).split(" ")[0]: (str(child.title), page_of(child))
        for group in children
        for child in group
        if isinstance(child, Destination)
    }
    bundle = sample_bundle(built.folder)
    expected = [document for section in bundle.sections for document in section.documents]
    assert sorted(documents) == sorted(document.ref for document in expected)
    for document in expected:
        title, page = documents[document.ref]
        assert title.startswith(f"{document.ref} {document.title}")
        if document.ref in WITH_PAGES:
            assert page == layout.documents[document.ref].first
        else:  # listed only: the divider that lists it
            assert page == layout.sections[document.ref[0]]


def _words(path: Path, page: int) -> tuple[float, float, list[tuple[str, float, float, float, float]]]:
    """pdftotext's words on ``page`` (1-based): the page's width and height (as stored,
    before /Rotate) and (word, x0, y0, x1, y1) as shown, y from the top."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    assert size is not None
    words = [
        (word, float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
        )
    ]
    return float(size.group(1)), float(size.group(2)), words


def _links(reader: PdfReader, page: int) -> list[tuple[list[float], int]]:
    """The link annotations on 0-based ``page``: their rectangle and target page."""
    numbers = page_numbers(reader)
    found = []
    for annotation in reader.pages[page].get("/Annots", []):
        link = annotation.get_object()
        assert link["/Subtype"] == "/Link" and "/A" not in link and "/URI" not in str(link)
        found.append(([float(v) for v in link["/Rect"]], numbers[link["/Dest"][0].idnum]))
    return found


def _link_targets(built: Built, first_page: int, last_page: int, column_right: float) -> dict[str, int]:
    """For each ref word in the left column of pages first..last (1-based), the page
    (1-based) its row's link opens."""
    reader = PdfReader(built.path)
    targets: dict[str, int] = {}
    for page in range(first_page, last_page + 1):
        _width, height, words = _words(built.path, page)
        links = _links(reader, page - 1)
        for word, x0, y0, x1, y1 in words:
            if not re.fullmatch(r"[A-D]\d?", word) or x1 > column_right:
                continue
            x, y = (x0 + x1) / 2, height - (y0 + y1) / 2
            hits = [target for rect, target in links if rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]]
            if hits:
                assert len(hits) == 1
                targets[word] = hits[0] + 1
    return targets


def test_index_rows_link_to_the_first_page_of_what_they_name(built: Built) -> None:
    layout = built.layout
    index_pages = (layout.parts["index"], layout.parts["chronology"] - 1)
    targets = _link_targets(built, *index_pages, column_right=100)
    expected = {ref: layout.documents[ref].first for ref in WITH_PAGES}
    expected.update({letter: layout.sections[letter] for letter in "ABCD"})
    assert targets == expected  # listed-only documents have no link
    reader = PdfReader(built.path)
    all_links = [link for page in range(index_pages[0] - 1, index_pages[1]) for link in _links(reader, page)]
    assert len(all_links) == len(expected) + 4  # and cover, index, chronology, verification
    assert {target + 1 for _rect, target in all_links} >= {1, layout.parts["index"], layout.pages}


def test_chronology_rows_link_to_their_documents(built: Built) -> None:
    layout = built.layout
    first, last = layout.parts["chronology"], layout.sections["A"] - 1
    chronology = flat(" ".join(built.pages[first - 1 : last]))
    assert f"4 Mar 2026, 10:00 Stage 1 response sent A1 {layout.documents['A1'].first}" in chronology
    assert "Statement received (encrypted) C1" in chronology
    reader = PdfReader(built.path)
    targets = sorted(target + 1 for page in range(first - 1, last) for _rect, target in _links(reader, page))
    assert targets == sorted(layout.documents[ref].first for ref in ("A1", "B1", "C4"))


def test_stamp_on_a_rotated_page_reads_upright_at_the_foot_of_what_is_shown(built: Built) -> None:
    page = built.layout.documents["A2"].first
    with pikepdf.open(built.path) as pdf:
        assert pdf.pages[page - 1].obj.Rotate == 90
        box = pikepdf.Rectangle(pdf.pages[page - 1].mediabox)
    # Landscape A5 turned a quarter: shown portrait. (pdftotext gives the unturned
    # size in its <page> element, but the words' places as shown.)
    assert box.width > box.height
    width, height = box.height, box.width
    _size_unturned, _, words = _words(built.path, page)
    stamp = [word for word in words if word[0] in ("CMP-2026-00012", "Page", "of")]
    assert len(stamp) == 3
    for _word, x0, y0, _x1, _y1 in stamp:
        assert y0 > height * 0.9 and x0 > width * 0.3  # the bottom right of what is shown
    _word, x0, y0, x1, y1 = stamp[0]
    assert x1 - x0 > 5 * (y1 - y0)  # "CMP-2026-00012" runs across the page, not up its side


def test_nothing_that_runs_survives(built: Built) -> None:
    buffer = BytesIO()
    with pikepdf.open(built.path) as pdf:
        assert set(pdf.Root.keys()) <= {
            "/Type",
            "/Pages",
            "/Outlines",
            "/PageLabels",
            "/PageMode",
            "/Metadata",
        }
        pdf.save(
            buffer,
            qdf=True,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
            compress_streams=False,
        )
    plain = buffer.getvalue()
    active = re.findall(
        rb"/(JavaScript|JS|OpenAction|AA|Launch|URI|AcroForm|SubmitForm|EmbeddedFiles)\b", plain
    )
    assert active == []
    assert b"tracker.invalid" not in plain and b"cmd.exe" not in plain and b"app.alert" not in plain


def test_hostile_inputs_are_listed_only_with_their_reason(built: Built) -> None:
    layout = built.layout
    assert layout.fallbacks.keys() == {"C1", "C5"}
    assert layout.fallbacks["C1"] == "encrypted PDF"
    assert layout.fallbacks["C5"].startswith("image too large to draw")
    divider = flat(built.pages[layout.sections["C"] - 1])
    assert "in the zip only: encrypted PDF" in divider
    assert "in the zip only: spreadsheet (XLSX)" in divider
    assert layout.truncated == {}


def test_metadata_is_fixed_by_the_bundle(built: Built) -> None:
    with pikepdf.open(built.path) as pdf:
        info = pdf.docinfo
        assert str(info.Title) == "CMP-2026-00012 evidence bundle"
        assert str(info.Author) == "mailroom"
        assert str(info.CreationDate) == str(info.ModDate) == "D:20260402164500Z"
        with pdf.open_metadata() as xmp:
            assert xmp["dc:title"] == "CMP-2026-00012 evidence bundle"
            assert xmp["xmp:CreateDate"].startswith("2026-04-02T16:45:00")
            assert "xmp:MetadataDate" not in xmp


def test_the_same_bundle_gives_the_same_bytes(built: Built) -> None:
    """Twice in this process, and once in a fresh one with another hash seed."""
    again = build_bundle(sample_bundle(built.folder))
    assert again.pdf == built.layout.pdf
    out = built.folder / "again.pdf"
    code = (
        "import sys; from pathlib import Path;"
        "from tests.integration.test_bundle_pdf import sample_bundle;"
        "from mailroom.records.bundle.assemble import build_bundle;"
        "Path(sys.argv[2]).write_bytes(build_bundle(sample_bundle(Path(sys.argv[1]))).pdf)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(built.folder), str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "4242"},
        check=True,
    )
    assert out.read_bytes() == built.layout.pdf
