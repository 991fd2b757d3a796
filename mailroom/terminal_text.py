"""Values from mail, letters and staff shown on a terminal: data, never markup.

Everything the command line prints through rich goes through here. A Subject
holding ``[/x]`` would otherwise crash the listing (rich reads it as markup),
``[link=https://…]`` would print a live hyperlink, and an escape sequence or a
bidi override would rewrite what the terminal shows. Control characters are
shown as visible symbols instead (␛ for ESC, <U+202E> for a bidi override), so
staff see that something odd is there without the terminal acting on it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# C0 (but tab), DEL, C1; bidi embeddings, overrides, isolates and marks; line and
# paragraph separators; the BOM and zero-width joiners used to hide text.
_INVISIBLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _show(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛, ␀, ␊...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(value: object) -> str:
    """``value`` as text with every control, bidi and invisible character shown."""
    return _INVISIBLE.sub(_show, str(value))


def cell(value: object) -> Text:
    """A rich ``Text`` of ``value``: rich never parses it as markup or makes links of it."""
    from rich.text import Text

    return Text(visible(value))


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text with C1 controls and bidi controls written as \\u escapes (the
    encoder escapes C0 itself): the same JSON, harmless on a terminal."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
