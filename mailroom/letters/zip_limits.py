"""Read DOCX (zip) members with a cap on how much they inflate to.

A DOCX is a zip, and a few kilobytes of deflated XML can inflate to gigabytes:
a 100 MB ``document.xml`` took 88 s and 1.4 GB to check. Each read is checked
twice: against the size the zip declares (refused before inflating anything),
and while inflating (a zip can declare less than it holds), so no more than the
budget is ever held in memory."""

from __future__ import annotations

import zipfile

# Uncompressed bytes read from one DOCX. A letter's XML is well under 1 MB and
# a template's logo a few hundred KB; 20 MB leaves room for long letters and images.
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


class TooLarge(Exception):
    """A member inflates beyond the budget. The message says which and by how much."""


class ReadBudget:
    """Uncompressed bytes still allowed from one archive, shared by all its reads."""

    def __init__(self, limit: int = MAX_UNCOMPRESSED_BYTES) -> None:
        self.limit = limit
        self.left = limit

    def read(self, archive: zipfile.ZipFile, name: str | zipfile.ZipInfo) -> bytes:
        info = name if isinstance(name, zipfile.ZipInfo) else archive.getinfo(name)
        if info.file_size > self.left:
            raise TooLarge(self._message(info.filename))
        chunks: list[bytes] = []
        with archive.open(info) as member:
            while chunk := member.read(min(_CHUNK, self.left + 1)):
                self.left -= len(chunk)
                if self.left < 0:
                    raise TooLarge(self._message(info.filename))
                chunks.append(chunk)
        return b"".join(chunks)

    def _message(self, name: str) -> str:
        return f"{name} inflates beyond the {self.limit // (1024 * 1024)} MB a DOCX may hold uncompressed"
