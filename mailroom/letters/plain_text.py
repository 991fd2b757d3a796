"""The full text of an issued letter as plain text, for the text/plain part of the
email that carries its PDF (issue 15, item 3): a resident whose screen reader or mail
program cannot open the attachment still reads every word of the letter.

The text is the letter's DOCX read back by ``docx_text`` (the text the letter check
reads, so what the check passed is what the email says), one paragraph a line with a
blank line between. Page furniture is given as the first page shows it: its header
(the letterhead) once at the top, its footer once at the end; the header that
repeats on later pages ("Our reference" again) is left out, as are page numbers
("Page 2 of 3"), which mean nothing without pages.
"""

from __future__ import annotations

import io
import re
import zipfile

from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.zip_limits import ReadBudget, TooLarge

__all__ = ["covering_note", "letter_plain_text"]

# A footer's page numbers, fields left as their cached result or empty: "Page 1 of 2",
# "Page  of ", "Page 3".
_PAGE_NUMBER = re.compile(r"page\s*\d*\s*(?:of\s*\d*)?", re.IGNORECASE)
SEPARATOR = "=" * 60


_SECTION = re.compile(rb"<w:sectPr\b.*?</w:sectPr>", re.DOTALL)
_REFERENCE = re.compile(rb"<w:(header|footer)Reference\b[^>]*?/>")
_TITLE_PAGE = re.compile(rb"<w:titlePg(?:\s*/>|\s[^>]*?/>)")
_TITLE_PAGE_OFF = re.compile(rb'<w:titlePg\s+w:val="(?:0|false|off)"')


def letter_plain_text(docx: bytes) -> str:
    """The letter's text: its paragraphs, each on one line, separated by blank lines."""
    paragraphs = read_docx_text(first_page_furniture(docx)).paragraphs
    kept = [p for p in paragraphs if not _PAGE_NUMBER.fullmatch(p.strip())]
    return "\n\n".join(kept) + "\n"


def first_page_furniture(docx: bytes) -> bytes:
    """The DOCX with each section's header and footer references cut to the ones its
    first page shows ("first" with a title page, else "default"), so reading it gives
    the letterhead once. Unchanged when it is not a DOCX this can read (the reader
    then says why)."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            names = archive.namelist()
            if "word/document.xml" not in names:
                return docx
            budget = ReadBudget()
            parts = [(info, budget.read(archive, info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, TooLarge, OSError, ValueError, KeyError):
        return docx
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for info, data in parts:
            if info.filename == "word/document.xml":
                data = _SECTION.sub(_first_page_only, data)
            rewritten.writestr(info, data)
    return out.getvalue()


def _first_page_only(section: re.Match[bytes]) -> bytes:
    text = section.group(0)
    title_page = bool(_TITLE_PAGE.search(text)) and not _TITLE_PAGE_OFF.search(text)
    shown = b"first" if title_page else b"default"

    def keep(reference: re.Match[bytes]) -> bytes:
        return reference.group(0) if re.search(rb'w:type="' + shown + rb'"', reference.group(0)) else b""

    return _REFERENCE.sub(keep, text)


def covering_note(name: str, reference: str, title: str, signature: tuple[str, str, str], letter: str) -> str:
    """The email's text: the covering note, then the whole letter below a rule."""
    signatory, role, landlord = signature
    return (
        f"Dear {name},\n\n"
        f"Please find attached our letter about your complaint (our reference {reference}): "
        f"{title.lower()}. The full text of the letter is also below this message.\n\n"
        "If you cannot open the attachment or would like the letter in another format, please reply "
        "to this email, keeping our reference in the subject.\n\n"
        f"{signatory}\n{role}\n{landlord}\n\n"
        f"{SEPARATOR}\n\n"
        f"{letter}"
    )
