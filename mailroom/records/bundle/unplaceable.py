"""The outcome of a document that should have had pages but cannot: it is listed in
the index only, with this reason, and the layout result names it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unplaceable:
    reason: str  # "encrypted PDF", "unreadable image: ...": shown in the index
