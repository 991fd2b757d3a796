"""Letters residents can read (issue 15): every letter type, in standard and
large print, rendered from the shipped templates and converted by the real
LibreOffice (all 18 in one request), then read back with pikepdf and poppler's
pdftotext: tagged with a structure tree and en-GB, "Page X of Y", the signature
never alone on the last page, no web address broken across lines, the postal
address one line per line inside a DL window. Also: a late letter must apologise.
Page 1 of a standard and a large print letter are written to docs/images/ for the
README."""

from __future__ import annotations

import html
import io
import itertools
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pikepdf
import pytest

from mailroom.letters.check import CaseFacts, check_letter, parse_element_specs
from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.large_print import LARGE_PRINT, MIN_HALF_POINTS, apply_letter_format, large_print
from mailroom.letters.pdf import PdfConverter
from mailroom.letters.render import LetterRenderer
from mailroom.letters.types import LetterType
from tests.support.letter_samples import LANDLORD, TEMPLATES, pack, sample_context

ADDRESS = ("Flat 3", "12 Exe View", "Exeter", "EX2 4PQ")
FORMATS = ("standard", LARGE_PRINT)
CASES = [(t, f) for t in LetterType for f in FORMATS]  # 18 letters
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MM = 72 / 25.4  # PDF points per millimetre
# Where a DL window envelope shows an A4 letter folded in three (see build_templates.py).
WINDOW_X, WINDOW_Y = (20 * MM, 110 * MM), (50 * MM, 95 * MM)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (poppler-utils / LibreOffice): run `make system-deps`")
    return found


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[LetterType, str], Path]:
    folder = tmp_path_factory.mktemp("accessible")
    renderer = LetterRenderer()
    sources, keys = [], []
    for letter_type, fmt in CASES:
        context = sample_context(letter_type, complainant_address="\n".join(ADDRESS))
        docx = apply_letter_format(renderer.render(TEMPLATES / f"{letter_type.value}.docx", context), fmt)
        path = folder / f"{letter_type.value}-{fmt}.docx"
        path.write_bytes(docx)
        sources.append(path)
        keys.append((letter_type, fmt))
    _tool("soffice")
    with PdfConverter() as converter:
        converted = converter.convert_many(sources, folder)
    return dict(zip(keys, converted, strict=True))


def pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def test_every_letter_pdf_is_accessible_and_print_ready(pdfs: dict[tuple[LetterType, str], Path]) -> None:
    """One test over all 18 PDFs: they come from one LibreOffice request (a module
    fixture per test would convert them again on every xdist worker)."""
    for (letter_type, fmt), pdf in pdfs.items():
        try:
            check_pdf(letter_type, pdf)
        except AssertionError as exc:
            raise AssertionError(f"{letter_type.value} ({fmt}): {exc}") from None
    write_readme_images(pdfs)


def check_pdf(letter_type: LetterType, pdf: Path) -> None:
    with pikepdf.open(pdf) as document:
        root = document.Root
        assert bool(root.MarkInfo.Marked)  # tagged: /MarkInfo /Marked true
        assert "/StructTreeRoot" in root
        assert str(root.Lang) == "en-GB"
        assert str(document.docinfo.Title)  # the letter's title, not the file name
        assert "/Outlines" in root  # bookmarks from the headings
        count = len(document.pages)
    text = pages(pdf)
    assert len(text) == count
    for number, page in enumerate(text, 1):
        assert f"Page {number} of {count}" in page
    assert_last_page_has_body_and_signature(text[-1])
    assert_no_address_broken(text)
    assert_address_in_window(pdf)


def assert_last_page_has_body_and_signature(last: str) -> None:
    lines = [line.strip() for line in last.splitlines() if line.strip()]
    assert "Yours sincerely" in lines and "Jo Bennett" in lines
    # Body text on the page besides the closing block and the continuation header.
    closing = lines.index("Yours sincerely")
    header = {LANDLORD["name"], "Our reference: RVH-2026-0042", "Date: Monday 23 November 2026"}
    body = [line for line in lines[:closing] if line not in header]
    assert any("If you have any questions" in line for line in body), last
    assert len(body) >= 2, last


def assert_no_address_broken(text: list[str]) -> None:
    ombudsman = pack()["ombudsman"]
    addresses = [ombudsman["webform"], ombudsman["website"], LANDLORD["email"], LANDLORD["website"]]
    lines = [line.strip() for page in text for line in page.splitlines() if line.strip()]
    for address in addresses:
        assert any(address in line for line in lines), f"{address} is not on one line"
        for first, second in itertools.pairwise(lines):
            for cut in range(1, len(address)):
                if first.endswith(address[:cut]) and second.startswith(address[cut:]):
                    raise AssertionError(f"{address} is broken across lines: {first!r} / {second!r}")


_LINE = re.compile(
    r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', re.S
)
_WORD = re.compile(r"<word[^>]*>(.*?)</word>")


def assert_address_in_window(pdf: Path) -> None:
    layout = subprocess.run(
        [_tool("pdftotext"), "-f", "1", "-l", "1", "-bbox-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    lines: dict[str, tuple[float, float, float, float]] = {}
    for x0, y0, x1, y1, words in _LINE.findall(layout):
        text = " ".join(html.unescape(w) for w in _WORD.findall(words))
        lines.setdefault(text, (float(x0), float(y0), float(x1), float(y1)))
    for wanted in (*ADDRESS, "Ms Aisha Patel"):
        assert wanted in lines, f"{wanted!r} is not a line of its own on page 1"
        x0, y0, x1, y1 = lines[wanted]
        assert WINDOW_X[0] <= x0 and x1 <= WINDOW_X[1], (wanted, x0 / MM, x1 / MM)
        assert WINDOW_Y[0] <= y0 and y1 <= WINDOW_Y[1], (wanted, y0 / MM, y1 / MM)
    tops = [lines[line][1] for line in ADDRESS]
    assert tops == sorted(tops) and len(set(tops)) == 4  # four lines, in order


def write_readme_images(pdfs: dict[tuple[LetterType, str], Path]) -> None:
    """Page 1 of a stage 1 response, standard and large print, for the README."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    for fmt, name in (("standard", "letter-standard"), (LARGE_PRINT, "letter-large-print")):
        pdf = pdfs[(LetterType.STAGE1_RESPONSE, fmt)]
        stem = pdf.with_name(name)
        subprocess.run(
            [_tool("pdftoppm"), "-f", "1", "-l", "1", "-r", "60", "-png", "-singlefile", str(pdf), str(stem)],
            check=True,
        )
        image = stem.with_suffix(".png").read_bytes()
        assert image.startswith(b"\x89PNG") and len(image) < 200_000
        (IMAGES / f"{name}.png").write_bytes(image)
    readme = (IMAGES.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "docs/images/letter-standard.png" in readme and "docs/images/letter-large-print.png" in readme


# -- large print by style ----------------------------------------------------------------


def test_large_print_sets_every_style_and_run_to_16_pt_or_more() -> None:
    renderer = LetterRenderer()
    context = sample_context(LetterType.STAGE1_RESPONSE)
    standard = renderer.render(TEMPLATES / "stage1-response.docx", context)
    large = large_print(standard)
    with zipfile.ZipFile(io.BytesIO(large)) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"word/(styles|document|header\d*|footer\d*)\.xml", name):
                sizes = [int(v) for v in re.findall(rb'<w:sz w:val="(\d+)"', archive.read(name))]
                assert all(size >= MIN_HALF_POINTS for size in sizes), name
        styles = archive.read("word/styles.xml")
    assert re.search(rb"<w:rPrDefault><w:rPr>.*?<w:sz w:val=\"(\d+)\"", styles, re.S)
    assert read_docx_text(large).text == read_docx_text(standard).text  # the same words
    assert apply_letter_format(standard, "standard") == standard
    assert apply_letter_format(standard, None) == standard


# -- a late letter says sorry ---------------------------------------------------------------


@pytest.fixture(scope="module")
def acknowledgement() -> Iterator[tuple[LetterRenderer, list[object]]]:
    specs = parse_element_specs(pack()["letters"][LetterType.STAGE1_ACKNOWLEDGEMENT.value]["elements"])
    yield LetterRenderer(), list(specs)


def _check(apology: str, facts: CaseFacts, renderer: LetterRenderer, specs: list[object]) -> dict[str, str]:
    context = sample_context(LetterType.STAGE1_ACKNOWLEDGEMENT, delay_apology=apology)
    docx = renderer.render(TEMPLATES / "stage1-acknowledgement.docx", context)
    result = check_letter(read_docx_text(docx), specs, facts)  # type: ignore[arg-type]
    return {e.id: e.status for e in result.elements} | {"passed": str(result.passed)}


WORDS = "We are sorry that this letter is late. We should have sent it to you by Monday 23 November 2026."


def test_a_letter_issued_after_its_deadline_must_apologise(
    acknowledgement: tuple[LetterRenderer, list[object]],
) -> None:
    renderer, specs = acknowledgement
    late = CaseFacts(stage=1, today=date(2026, 11, 23), letter_due=date(2026, 11, 20), delay_apology=WORDS)
    without = _check("", late, renderer, specs)
    assert without["delay_apology"] == "fail"
    with_it = _check(WORDS, late, renderer, specs)
    assert with_it["delay_apology"] == "pass"
    # Other words saying sorry for the delay do too.
    other = _check("We apologise for the delay in writing to you.", late, renderer, specs)
    assert other["delay_apology"] == "pass"
    on_time = CaseFacts(stage=1, today=date(2026, 11, 20), letter_due=date(2026, 11, 20))
    assert "delay_apology" not in _check("", on_time, renderer, specs)
