"""DOCX -> PDF with the real LibreOffice (never mocked): the tricky text of a rendered
letter survives into the PDF, and bad input gives a one-line error."""

from __future__ import annotations

import os
import random
import shutil
import signal
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from mailroom.letters.pdf import PdfConverter, PdfError, convert_to_pdf
from mailroom.letters.render import LetterRenderer

TRICKY = "Smith & Sons <Ltd> \"quoted\" 'single'"
INJECTION = "{{ 7*7 }} {% for x in y %}"


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        pytest.fail("LibreOffice (soffice) is not installed: run `make system-deps`", pytrace=False)
    return found


def long_text() -> str:
    rng = random.Random(11)
    words = [
        "repair",
        "damp",
        "mould",
        "A&E",
        "<urgent>",
        "leak",
        "it's",
        "cafe",
        "{x}",
        "50%",
        "boiler",
        "window",
    ]
    lines = []
    while sum(len(line) + 1 for line in lines) < 20_000:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 14))))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fuzz_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("letters")
    template = folder / "template.docx"
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Ref {{ ref }}"
    for line in ("Dear {{ name }},", "Data: {{ injection }}", "Complaint: {{ long }}", "Yours sincerely"):
        document.add_paragraph(line)
    document.save(str(template))
    context = {
        "name": TRICKY + "\x00\x0b\x1b\ufffe",
        "injection": INJECTION,
        "long": long_text(),
        "ref": "C-1 & <2>",
    }
    letter = folder / "fuzz letter.docx"
    letter.write_bytes(LetterRenderer().render(template, context))
    return letter


def pdf_text(path: Path) -> str:
    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def assert_tricky_text(pdf: Path) -> None:
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert TRICKY in text
    assert INJECTION in text
    assert "Ref C-1 & <2>" in text
    lines = long_text().splitlines()
    for line in (lines[0], lines[len(lines) // 2], lines[-1]):
        assert " ".join(line.split()) in text
    assert len(PdfReader(str(pdf)).pages) >= 4  # 20 kB of text does not fit one page


def test_one_shot_conversion_keeps_tricky_text(soffice: str, fuzz_docx: Path, tmp_path: Path) -> None:
    pdf = convert_to_pdf(fuzz_docx, tmp_path / "out")
    assert pdf == (tmp_path / "out" / "fuzz letter.pdf").resolve()
    assert_tricky_text(pdf)


@pytest.fixture(scope="module")
def converter(soffice: str) -> Iterator[PdfConverter]:
    with PdfConverter(timeout=60) as kept:
        yield kept


def test_kept_running_converter(converter: PdfConverter, fuzz_docx: Path, tmp_path: Path) -> None:
    pdf = converter.convert(fuzz_docx, tmp_path)
    assert_tricky_text(pdf)
    first_pid = converter.pid
    copies = []
    for number in range(3):
        copy = tmp_path / f"copy-{number}.docx"
        shutil.copy(fuzz_docx, copy)
        copies.append(copy)
    pdfs = converter.convert_many(copies, tmp_path / "many")
    assert [p.name for p in pdfs] == ["copy-0.pdf", "copy-1.pdf", "copy-2.pdf"]
    assert_tricky_text(pdfs[-1])
    assert converter.pid == first_pid  # the same LibreOffice did all of it


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04garbage"])
def test_non_docx_is_a_one_line_error(converter: PdfConverter, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(content)
    for convert in (lambda: convert_to_pdf(bad, tmp_path), lambda: converter.convert(bad, tmp_path)):
        with pytest.raises(PdfError, match=r"bad\.docx: not a DOCX file") as caught:
            convert()
        assert "\n" not in str(caught.value)
    assert not (tmp_path / "bad.pdf").exists()


def test_unreadable_docx_reports_libreoffice_error(
    converter: PdfConverter, fuzz_docx: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "garbage")
    with pytest.raises(PdfError) as caught:
        converter.convert(broken, tmp_path)
    message = str(caught.value)
    assert message.startswith("broken.docx: ") and "\n" not in message
    assert "could not be loaded" in message  # LibreOffice's own words
    # The instance is still good for the next letter.
    assert converter.convert(fuzz_docx, tmp_path / "after").is_file()


def test_converter_restarts_a_dead_instance(converter: PdfConverter, fuzz_docx: Path, tmp_path: Path) -> None:
    pid = converter.pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # the group the converter started
    before = converter.restarts
    assert converter.convert(fuzz_docx, tmp_path).is_file()
    assert converter.restarts == before + 1 and converter.pid != pid


def test_closed_converter_leaves_nothing_running(soffice: str, fuzz_docx: Path, tmp_path: Path) -> None:
    converter = PdfConverter()
    converter.convert(fuzz_docx, tmp_path)
    pid = converter.pid
    assert pid is not None
    converter.close()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    with pytest.raises(PdfError, match="closed"):
        converter.convert(fuzz_docx, tmp_path)
