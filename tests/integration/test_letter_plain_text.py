"""Letter emails carry the whole letter as text (issue 15, item 3, acceptance "Letter
emails have a text/plain part equal to the PDF's text, modulo layout"): a letter is
issued by email with LibreOffice's real PDF, and the text/plain part of the outbox's
raw message, below the covering note, is compared with `pdftotext` of the attached
PDF. Layout is what may differ: line breaks, spacing, a word hyphenated at a line
end, list bullets, the letterhead repeated on every page and the "Page X of Y" footer.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import docx as docx_reader
import pytest

from mailroom.adjustments import Adjustment, record_adjustment
from mailroom.clock import FixedClock
from mailroom.letters.drafts import approve, draft
from mailroom.letters.plain_text import SEPARATOR
from mailroom.letters.types import LetterType
from mailroom.services import Services, build_services
from mailroom.store.schema import OutboxMessage
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, log, sample_fields, uk

_PAGE_NUMBER = re.compile(r"^\s*page\s*\d*\s*(of\s*\d*)?\s*$", re.IGNORECASE)
# Glyphs a PDF draws that are not text: list bullets (Symbol/Wingdings code points and
# the Unicode ones) and anything in the private use area.
_BULLETS = {"\u2022", "\u25cf", "\u25aa", "\u25a0", "\u2023", "\u2043", "\u00b7", "\u2013"}
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2010": "-", "\u2011": "-", "\u00ad": None}
)


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    settings = make_settings(
        tmp_path / "storage",
        f"sqlite:///{tmp_path / 'mailroom.db'}",
        policy={"landlord_file": str(LANDLORD_FILE)},
    )
    built = build_services(settings, clock)
    yield built
    built.store.engine.dispose()


def _key(text: str) -> str:
    """The text with layout gone: NFKC, straight quotes, no bullets or private-use
    glyphs, no whitespace and no hyphens (a hyphen a line break added cannot be told
    from one in a word or web address by the PDF's text alone)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    kept = "".join("" if c in _BULLETS or unicodedata.category(c) in ("Co", "Cc", "Cf") else c for c in text)
    return "".join(kept.replace("-", "").split())


def _pdf_pages(pdf: bytes, work: Path) -> list[list[str]]:
    """`pdftotext` of the PDF: each page's non-empty lines, page numbers left out."""
    path = work / "letter.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    pages = [
        [line for line in page.splitlines() if line.strip() and not _PAGE_NUMBER.match(line)]
        for page in done.stdout.decode("utf-8").split("\f")
    ]
    return [page for page in pages if page]


def _issue_by_email(services: Services, complaint_id: str) -> tuple[str, bytes, bytes]:
    """Acknowledge the case by email: the text/plain part's letter text, the PDF and the DOCX."""
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    drafted = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    issued = approve(services, drafted.draft_id, by="jo")
    assert issued.status == "sent"
    with services.store.transaction() as repo:
        raw = repo.session.get(OutboxMessage, issued.outbox_id).raw  # type: ignore[union-attr]
        docx = services.storage.read(repo.get_letter(drafted.draft_id).docx_path)  # type: ignore[union-attr]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content_type() == "text/plain"
    text = plain.get_content().replace("\r\n", "\n")
    covering, rule, letter = text.partition(f"\n{SEPARATOR}\n")
    assert rule and "Please find attached our letter" in covering
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    return letter.lstrip("\n"), attachment.get_content(), docx


@pytest.mark.parametrize("letter_format", ["standard", "large-print"])
def test_the_text_plain_part_is_the_pdf_s_text_modulo_layout(
    services: Services, tmp_path: Path, letter_format: str
) -> None:
    """Every paragraph of the email is in the PDF, and nothing else is in the PDF but
    the header repeated on later pages. Where a block sits on the page (the address
    beside the reference) is layout, so paragraphs are found wherever they are."""
    complaint_id = log(services, uk(date(2026, 11, 20), 9))
    record_adjustment(services, complaint_id, Adjustment(letter_format), by="jo")
    letter, pdf, docx = _issue_by_email(services, complaint_id)
    paragraphs = [p for p in letter.split("\n\n") if p.strip()]
    assert all("\n" not in p.strip() for p in paragraphs)  # a paragraph a line, blank lines between
    # Later pages repeat a header (the default one; the first page has its own): page
    # furniture, not the letter. Each of its lines is taken off each later page once.
    repeated = [_key(p.text) for p in docx_reader.Document(io.BytesIO(docx)).sections[0].header.paragraphs]
    pages = _pdf_pages(pdf, tmp_path)
    lines = list(pages[0])
    for page in pages[1:]:
        keys = [_key(line) for line in page]
        for key in filter(None, repeated):
            if key in keys:
                del page[keys.index(key)], keys[keys.index(key)]
        lines += page
    rest = "".join(_key(line) for line in lines)
    missing = []
    for paragraph in sorted(paragraphs, key=lambda p: -len(_key(p))):  # longest first
        key = _key(paragraph)
        if key in rest:
            rest = rest.replace(key, "", 1)
        else:
            missing.append(paragraph)
    assert missing == [], "in the email, not in the PDF"
    assert rest == "", "in the PDF, not in the email"
    # Not vacuous: the whole letter is there, from the letterhead to the signature.
    assert len(paragraphs) > 20 and len(pages) >= 2
    assert "Ombudsman" in letter and "Yours sincerely" in letter and "Page 1 of" not in letter
    assert paragraphs[0] == "Ongo Homes" and "Dear Ms Aisha Patel" in paragraphs
