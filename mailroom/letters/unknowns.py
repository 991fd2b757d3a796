"""Refuse to draft a letter that would print a date or detail nobody knows yet.

Drafting used to print blanks ("which we acknowledged on .", "contact us on  or
at ,"). Whether a template prints a value depends on its Jinja ``{% if %}``s, so
the template is rendered once more with each empty value replaced by a probe: a
value that is false (``{% if landlord.phone %}`` still skips it) but visible
when printed. A probe in the text means the letter would print that blank.
Only done when some value is empty, so an ordinary draft renders once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mailroom.letters.docx_text import read_docx_text

__all__ = ["PROBED", "printed_unknowns"]

# The case facts and letterhead details a template may print, by context path.
PROBED = (
    "received_date",
    "acknowledged_date",
    "response_due",
    "original_due",
    "extension_cap_date",
    "letter_date",
    "landlord.name",
    "landlord.address",
    "landlord.phone",
    "landlord.email",
    "landlord.website",
    "signatory.name",
    "signatory.role",
)
_TOKEN = "MAILROOMUNKNOWNVALUE"


class _Unknown:
    """An empty value, false in a test but visible when printed. Not a ``str``, so
    the renderer's cleaning of string values passes it through unchanged."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.token


def _empty(context: Mapping[str, Any], path: str) -> bool:
    head, _, tail = path.partition(".")
    value = context.get(head)
    if tail:
        value = value.get(tail) if isinstance(value, Mapping) else None
    return isinstance(value, str) and not value.strip()


def printed_unknowns(render: Callable[[Mapping[str, Any]], bytes], context: Mapping[str, Any]) -> list[str]:
    """The paths of ``PROBED`` that are empty in ``context`` and that the template
    prints anyway (``render`` renders the template with a given context)."""
    empty = [path for path in PROBED if _empty(context, path)]
    if not empty:
        return []
    probe: dict[str, Any] = {
        key: dict(value) if isinstance(value, Mapping) else value for key, value in context.items()
    }
    for index, path in enumerate(empty):
        head, _, tail = path.partition(".")
        value = _Unknown(f"{_TOKEN}{index}X")
        if tail:
            probe[head][tail] = value
        else:
            probe[head] = value
    text = read_docx_text(render(probe)).text
    return [path for index, path in enumerate(empty) if f"{_TOKEN}{index}X" in text]
