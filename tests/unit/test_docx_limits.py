"""A DOCX that inflates beyond the cap is refused in one line, quickly and
without inflating it: when reading a letter's text and when loading a template."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import docx
import pytest

from mailroom.letters.docx_text import DocxReadError, read_docx_text
from mailroom.letters.render import LetterRenderer, TemplateError, lint_template
from mailroom.letters.zip_limits import MAX_UNCOMPRESSED_BYTES, ReadBudget, TooLarge

BOMB_BYTES = MAX_UNCOMPRESSED_BYTES + 5 * 1024 * 1024


def _ordinary_docx(text: str = "Dear {{ name }},") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_member(base: bytes, name: str, data: bytes) -> bytes:
    """``base`` with member ``name`` replaced by ``data`` (deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
        target.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


def _bomb_document_xml() -> bytes:
    """Valid WordprocessingML whose whitespace makes it inflate past the cap."""
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    return head + b" " * BOMB_BYTES + b"<w:p><w:r><w:t>hi</w:t></w:r></w:p></w:body></w:document>"


def _understate_sizes(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite the local and central headers of ``name`` to declare ``declared``
    uncompressed bytes: a zip that lies about its size."""
    blob = bytearray(data)
    encoded = name.encode()
    local = blob.find(b"PK\x03\x04")  # walk every local header
    while local != -1:
        name_len = struct.unpack_from("<H", blob, local + 26)[0]
        if bytes(blob[local + 30 : local + 30 + name_len]) == encoded:
            struct.pack_into("<I", blob, local + 22, declared)
        local = blob.find(b"PK\x03\x04", local + 4)
    central = blob.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", blob, central + 28)[0]
        if bytes(blob[central + 46 : central + 46 + name_len]) == encoded:
            struct.pack_into("<I", blob, central + 24, declared)
        central = blob.find(b"PK\x01\x02", central + 4)
    return bytes(blob)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _with_member(_ordinary_docx(), "word/document.xml", _bomb_document_xml())


def test_a_docx_declaring_more_than_the_cap_is_refused_before_inflating(bomb: bytes) -> None:
    assert len(bomb) < 200 * 1024  # a few KB on disk...
    began = time.monotonic()
    with pytest.raises(DocxReadError) as caught:
        read_docx_text(bomb)
    assert time.monotonic() - began < 1.0  # ...refused without inflating 25 MB
    message = str(caught.value)
    assert (
        message
        == "<bytes>: too large: word/document.xml inflates beyond the 20 MB a DOCX may hold uncompressed"
    )


def test_a_docx_understating_its_size_is_still_stopped_at_the_cap(bomb: bytes) -> None:
    """The declared size says 1 KB; the cap holds while inflating: the read
    stops at the first byte past the limit, never holds the whole part."""
    liar = _understate_sizes(bomb, "word/document.xml", 1024)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1024
    began = time.monotonic()
    with pytest.raises(DocxReadError, match=r"^<bytes>: "):
        read_docx_text(liar)
    assert time.monotonic() - began < 1.0


class _LyingArchive:
    """A zip reader whose member yields more than its header declares (zipfile
    itself stops at the declared size; another reader, or a bug, might not)."""

    def __init__(self, declared: int, actual: int) -> None:
        self.info = zipfile.ZipInfo("word/document.xml")
        self.info.file_size = declared
        self.actual = actual
        self.served = 0

    def getinfo(self, name: str) -> zipfile.ZipInfo:
        return self.info

    def open(self, info: zipfile.ZipInfo) -> io.RawIOBase:
        archive = self

        class Endless(io.RawIOBase):
            def read(self, size: int = -1) -> bytes:
                size = min(size, archive.actual - archive.served)
                archive.served += size
                return b" " * size

        return Endless()


def test_the_budget_is_enforced_while_reading_not_only_from_declared_sizes() -> None:
    archive = _LyingArchive(declared=1024, actual=10 * MAX_UNCOMPRESSED_BYTES)
    with pytest.raises(TooLarge, match=r"word/document\.xml inflates beyond the 20 MB"):
        ReadBudget().read(archive, "word/document.xml")  # type: ignore[arg-type]
    assert (
        archive.served <= MAX_UNCOMPRESSED_BYTES + 1024 * 1024
    )  # stopped at the cap, a chunk at most past it


def test_many_parts_each_under_the_cap_add_up(tmp_path: Path) -> None:
    """The cap is per document: a body and a header of 12 MB each are 24 MB."""
    base = _ordinary_docx()
    part = b" " * (12 * 1024 * 1024)
    xmlns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = b"<w:document " + xmlns + b"><w:body>" + part + b"</w:body></w:document>"
    data = _with_member(base, "word/document.xml", body)
    # settings.xml is read before the body; make it the second 12 MB
    data = _with_member(data, "word/settings.xml", b"<w:settings " + xmlns + b">" + part + b"</w:settings>")
    with pytest.raises(DocxReadError, match="too large"):
        read_docx_text(data)


def test_an_ordinary_letter_is_read_as_before() -> None:
    assert read_docx_text(_ordinary_docx("We received your complaint.")).paragraphs == [
        "We received your complaint."
    ]


def test_a_template_that_inflates_beyond_the_cap_is_refused_in_one_line(bomb: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb)
    expected = (
        "bomb.docx: too large: word/document.xml inflates beyond the 20 MB a DOCX may hold uncompressed"
    )
    with pytest.raises(TemplateError) as caught:
        LetterRenderer().render(path, {"name": "x"})
    assert str(caught.value) == expected
    assert lint_template(path) == [expected]
