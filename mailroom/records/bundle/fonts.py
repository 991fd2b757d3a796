"""The bundle's fonts: DejaVu, registered with reportlab once per process.

Every generated page draws in DejaVu so Polish, Welsh (ŵ ŷ), Arabic and other
non-ASCII text renders and stays searchable. reportlab's built-in fonts know only
Latin-1; DejaVu covers some 6,000 characters. What it lacks (CJK, most emoji) is
replaced by U+FFFD rather than drawn as an empty box that extracts as nothing, and
characters beyond U+FFFF are replaced too: reportlab writes them into its text map
as a wrong character (U+1F600 extracts as U+1F60), so search would find nonsense.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

SANS = "BundleSans"
SANS_BOLD = "BundleSans-Bold"
MONO = "BundleMono"

_FILES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}

REPLACEMENT = "\ufffd"

_lock = threading.Lock()
_covered: frozenset[int] | None = None
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def register_fonts() -> None:
    """Register the three DejaVu faces (and the Sans family, so <b> works) once;
    safe to call from several threads."""
    global _covered
    if _covered is not None:
        return
    with _lock:
        if _covered is not None:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        missing = [file for file in _FILES.values() if not (DEJAVU / file).is_file()]
        if missing:
            raise RuntimeError(
                f"fonts missing from {DEJAVU}: {', '.join(missing)} (install fonts-dejavu-core)"
            )
        faces = {name: TTFont(name, str(DEJAVU / file)) for name, file in _FILES.items()}
        for face in faces.values():
            pdfmetrics.registerFont(face)
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD)
        # The regular face decides: the bold and mono faces cover a little less, and
        # a character they lack still extracts right (it is in the regular's range).
        _covered = frozenset(faces[SANS].face.charToGlyph)


def drawable(text: str) -> str:
    """``text`` with every character DejaVu cannot draw (or reportlab cannot map
    back to text) replaced by U+FFFD."""
    register_fonts()
    covered = _covered
    assert covered is not None
    text = _ASTRAL.sub(REPLACEMENT, text)
    if text.isascii():
        return text
    return "".join(char if ord(char) in covered or char in "\n\t" else REPLACEMENT for char in text)
