"""Unicode bidirectional controls: the characters that make text display in an
order other than the one it is stored in (the "Trojan Source" trick). A
complainant's name holding U+202E would show reversed in a letter or an email
and could make it say something else, so letters and outgoing mail drop them.

Covered: the embeddings and overrides U+202A-U+202E, the isolates
U+2066-U+2069, the marks U+200E/U+200F and the Arabic letter mark U+061C."""

from __future__ import annotations

import re

# A regex character-class body, for modules that fold it into their own class.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi(text: str) -> str:
    return _BIDI.sub("", text)
