"""Untrusted text made safe to draw: every mail header, body, attachment name and
letter field passes through here before reportlab sees it.

reportlab's ``Paragraph`` reads its text as markup (``<b>``, ``<font>``, ``&amp;``),
so text for a paragraph is escaped and is then drawn literally. Control characters
would draw as boxes or upset the text layer, bidi controls could make a line display
in another order than it is stored in (mailroom/bidi.py), and lone surrogates from a
badly decoded mail cannot be encoded at all: all are dropped.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from mailroom.bidi import BIDI_CONTROLS
from mailroom.records.bundle.fonts import drawable

# C0 but tab and newline, DEL, C1; bidi controls; lone surrogates; the BOM; the
# noncharacters U+FDD0-U+FDEF, U+FFFE and U+FFFF.
_UNWANTED = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff\ufeff\ufdd0-\ufdef\ufffe\uffff]"
)
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """``text`` with its line ends as ``\\n`` and nothing a page cannot draw as text."""
    return drawable(_UNWANTED.sub("", _NEWLINES.sub("\n", text)))


def one_line(text: str, limit: int) -> str:
    """``text`` cleaned, on one line, at most ``limit`` characters (cut with "…")."""
    flat = _SPACES.sub(" ", clean(text[: limit * 4])).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def markup(text: str) -> str:
    """Text for a reportlab ``Paragraph``: already cleaned text, escaped so that
    "<b>&amp;" is drawn as those characters."""
    return escape(text)


def safe_markup(text: str, limit: int) -> str:
    """``one_line`` then ``markup``: a bounded header value or title for a paragraph."""
    return markup(one_line(text, limit))
