"""Bundle page numbers: where each part of the bundle lands once the front matter's
length is known.

A part is the cover, the index, the chronology, a section divider, a document or
the verification page; its key is "part:cover", "part:index", "part:chronology",
"section:<n>", "doc:<n>.<m>" (positions, so a repeated ref cannot collide) or
"part:verification". Pages are 1-based and inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FRONT_KEYS = ("part:cover", "part:index", "part:chronology")


@dataclass(frozen=True)
class Numbering:
    ranges: dict[str, tuple[int, int]]  # part key -> (first, last) bundle page
    total: int

    def first(self, key: str) -> int | None:
        found = self.ranges.get(key)
        return found[0] if found else None

    def span(self, key: str) -> str:
        """ "12" or "12–14"; "" for a part without pages."""
        found = self.ranges.get(key)
        if not found:
            return ""
        first, last = found
        return str(first) if first == last else f"{first}–{last}"


def number_parts(front: tuple[int, int, int], parts: Iterable[tuple[str, int]]) -> Numbering:
    """Number the cover, index and chronology (``front`` page counts), then ``parts``
    (key, page count) in order."""
    ranges: dict[str, tuple[int, int]] = {}
    page = 1
    for key, count in [*zip(FRONT_KEYS, front, strict=True), *parts]:
        if count > 0:
            ranges[key] = (page, page + count - 1)
            page += count
    return Numbering(ranges, page - 1)
