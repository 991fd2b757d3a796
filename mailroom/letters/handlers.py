"""Whether two staff names are the same person, for 6.13 (the stage 2 reviewer must
not be the stage 1 handler).

Names are typed by hand in different ways ("Ms Priya Shah", "priya  shah",
"Shah, Priya", "P. Shah"), so they are compared after normalising, and an initial
counts as matching a first name: a false "same person" only asks staff to check,
a false "different person" would let 6.13 be broken."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["normalise_name", "same_as_any", "same_person"]

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "cllr"})


def normalise_name(name: str) -> tuple[str, ...]:
    """The words of ``name``: accents and titles dropped, lower case, "Shah, Priya"
    reordered to "priya shah"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    if "," in text:  # "Shah, Priya" is written surname first
        surname, _, rest = text.partition(",")
        text = f"{rest} {surname}"
    words = [w for w in re.split(r"[^a-z0-9'-]+", text) if w and w.strip("'-")]
    return tuple(w for w in words if w.strip(".") not in _TITLES)


def same_person(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` may name the same person."""
    left, right = normalise_name(a), normalise_name(b)
    if not left or not right:
        return False
    if left == right or sorted(left) == sorted(right):
        return True
    if left[-1] != right[-1]:
        return False
    # "P Shah" and "Priya Shah": same surname, and the first names agree as far as
    # the shorter one goes (an initial matches any name starting with it).
    first_a, first_b = left[0], right[0]
    short, long_ = sorted((first_a, first_b), key=len)
    return len(short) == 1 and long_.startswith(short)


def same_as_any(name: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that may be the same person as ``name``."""
    return next((other for other in others if same_person(name, other)), None)
