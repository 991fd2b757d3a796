"""How each filed file goes into the bundle: read it (never through a symlink),
check it against its recorded hash, and turn it into pages.

- a mail (``.eml``: the raw mail, or a message attached to one) becomes text pages of
  its headers and text body. HTML mail is shown as the text the ingest step derived
  from it (``ingest.parse.html_to_text``, bounded), not rendered as HTML: nothing
  remote is fetched, nothing runs, the pages are the same on every build and the
  words stay searchable. Layout and inline images of HTML mail are lost; the
  original is in the zip.
- PDF attachments are merged as they are; images are placed on a page;
- DOCX, ODT and RTF go through the kept-running LibreOffice (``letters.pdf``), and
  the PDF is cached in the case's folder by the source's SHA-256, so a second build
  is quicker and gives the same bytes;
- plain text is shown as text; anything else is listed with its hash, and left in
  the zip.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path

from mailroom.domain.models import Address
from mailroom.filing import StorageError
from mailroom.ingest.parse import ParseError, decode_text, parse_mail
from mailroom.letters.pdf import PdfConverter, PdfError
from mailroom.records.bundle.model import TextPages
from mailroom.records.pack_sources import FiledItem
from mailroom.services import Services

PACK_CACHE = ".pack-cache"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MAX_TEXT_FILE = 2 * 2**20  # plain-text attachments above this are listed, not drawn
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
)
_OFFICE_LISTED = {
    "xl/": "spreadsheet (XLSX)",
    "ppt/": "presentation (PPTX)",
}


@dataclass(frozen=True)
class PreparedFile:
    """What a filed file becomes in the bundle: exactly one of pdf, image and text,
    or none and a reason it is only listed."""

    pdf: Path | None = None
    image: Path | None = None
    text: TextPages | None = None
    listed_reason: str = ""
    intact: bool = True  # False: the bytes on disk are not those recorded when filed


class FilePreparer:
    """Prepares the files of one case into ``work`` (a private temporary folder)."""

    def __init__(
        self, services: Services, complaint_id: str, work: Path, converter: Callable[[], PdfConverter]
    ) -> None:
        self._services = services
        self._complaint_id = complaint_id
        self._work = work
        self._converter = converter

    def read(self, item: FiledItem) -> bytes | None:
        try:
            return self._services.storage.read(item.path)
        except (OSError, StorageError):
            return None

    def prepare(self, item: FiledItem, data: bytes | None = None) -> PreparedFile:
        data = self.read(item) if data is None else data
        if data is None:
            return PreparedFile(listed_reason="missing from storage", intact=False)
        if hashlib.sha256(data).hexdigest() != item.sha256:
            return PreparedFile(
                listed_reason="differs from the file recorded when it was filed", intact=False
            )
        if item.kind in ("raw_mail", "attached_mail") or item.path.endswith(".eml"):
            return PreparedFile(text=mail_pages(data))
        if data.startswith(b"%PDF-"):
            return PreparedFile(pdf=self._write(item, data, "pdf"))
        for magic, suffix in _IMAGE_MAGIC:
            if data.startswith(magic):
                return PreparedFile(image=self._write(item, data, suffix))
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            return PreparedFile(image=self._write(item, data, "webp"))
        fmt = office_format(data)
        if fmt is not None:
            return self._convert(item, data, fmt)
        if data.startswith(b"PK\x03\x04"):
            return PreparedFile(listed_reason=_zip_kind(data))
        text = _plain_text(item, data)
        if text is not None:
            return PreparedFile(text=TextPages(headers=(("File", item.original_name),), body=text))
        shown = item.content_type or "unknown type"
        return PreparedFile(listed_reason=f"not shown as pages ({shown})")

    def _write(self, item: FiledItem, data: bytes, suffix: str) -> Path:
        path = self._work / f"{item.document_id}.{suffix}"
        path.write_bytes(data)
        return path

    def _convert(self, item: FiledItem, data: bytes, fmt: str) -> PreparedFile:
        cached = f"{self._complaint_id}/{PACK_CACHE}/{item.sha256}.pdf"
        storage = self._services.storage
        try:
            return PreparedFile(pdf=self._write(item, storage.read(cached), "pdf"))
        except (OSError, StorageError):
            pass
        source = self._write(item, data, fmt)
        try:
            pdf = self._converter().convert_many([source], self._work / "converted", fmt=fmt)[0]
        except PdfError as exc:
            return PreparedFile(listed_reason=f"{fmt.upper()} could not be converted: {exc}")
        storage.write_atomic(cached, pdf.read_bytes(), durable=False)
        return PreparedFile(pdf=pdf)


def office_format(data: bytes) -> str | None:
    """``docx``, ``odt`` or ``rtf`` for a word-processing document, else None."""
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return "docx"
            if (
                "mimetype" in names
                and archive.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text"
            ):
                return "odt"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "archive that cannot be opened"
    for prefix, kind in _OFFICE_LISTED.items():
        if "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names):
            return kind
    return f"archive (ZIP, {len(names)} entries)"


def _plain_text(item: FiledItem, data: bytes) -> str | None:
    textual = item.content_type.startswith("text/plain") or item.original_name.lower().endswith(".txt")
    if not textual or len(data) > MAX_TEXT_FILE or b"\x00" in data:
        return None
    return decode_text(data, "utf-8")


def mail_pages(raw: bytes) -> TextPages:
    """A mail's headers and text body as text pages. Bounded: the ingest parser's limits."""
    try:
        mail = parse_mail(raw)
    except ParseError as exc:
        return TextPages(headers=(("Note", f"this mail could not be read: {exc}"),), body="")
    headers = [
        ("From", _person(mail.sender)),
        ("To", ", ".join(map(_person, mail.to))),
        ("Cc", ", ".join(map(_person, mail.cc))),
        ("Date", format_datetime(mail.date) if mail.date else "(no valid date)"),
        ("Subject", mail.subject or "(no subject)"),
        ("Message-ID", mail.message_id),
    ]
    if mail.attachments:
        headers.append(("Attachments", ", ".join(a.filename or "(unnamed)" for a in mail.attachments)))
    return TextPages(headers=tuple((k, v) for k, v in headers if v), body=mail.body_text)


def _person(address: Address) -> str:
    if address.name and address.email:
        return f"{address.name} <{address.email}>"
    return address.name or address.email
