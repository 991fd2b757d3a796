"""How the pages write dates and times: UK time, in words, as staff read them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from mailroom.clock import LONDON


def uk(value: Any) -> str:
    """'Mon 23 Nov 2026, 10:00' in UK time, from an instant or its ISO text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        local = value.astimezone(LONDON) if value.tzinfo else value
        return local.strftime("%a %-d %b %Y, %H:%M")
    if isinstance(value, date):
        return value.strftime("%a %-d %b %Y")
    return "" if value is None else str(value)


def long_date(value: Any) -> str:
    """'Monday 23 November 2026' from a date or its ISO text."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value.strftime("%A %-d %B %Y")
    return "" if value is None else str(value)


def words(value: Any) -> str:
    """A stored name as words: "stage1-acknowledgement" -> "Stage 1 acknowledgement"."""
    text = re.sub(r"[-_]+", " ", str(value or "")).strip()
    text = re.sub(r"\b(stage)(\d)\b", r"\1 \2", text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


FILTERS = {"uk": uk, "long_date": long_date, "words": words}
