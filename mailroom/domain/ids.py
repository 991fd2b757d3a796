"""Complaint IDs and the case references quoted in mail subjects.

A complaint ID looks like ``CMP-2026-000123`` (prefix, year of receipt, serial).
The *case reference* we print on letters and in the subjects of our mail adds a
check character: ``CMP-2026-000123-K``. A reply is threaded by subject only when
the check character is right AND the sender is a party to the case, so a typo or
a guessed number never attaches mail to someone else's complaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# 31 symbols (a prime count) with look-alikes (I, O, S, Z, U) removed. The
# positional weighted sum below catches every typo that still reads as an ID of
# the configured shape: one digit changed to another digit, one prefix letter to
# another letter, two neighbouring characters swapped (IDs under 31 characters).
# Characters whose codes differ by 31 (0/O, 1/P) collide, but such a string
# never matches the ID pattern in the first place.
_CHECK_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTVWXY"


def format_complaint_id(prefix: str, year: int, serial: int, digits: int) -> str:
    return f"{prefix}-{year:04d}-{serial:0{digits}d}"


def check_character(complaint_id: str) -> str:
    total = sum((position + 1) * ord(char) for position, char in enumerate(complaint_id.upper()))
    return _CHECK_ALPHABET[total % len(_CHECK_ALPHABET)]


def case_reference(complaint_id: str) -> str:
    """The reference printed for residents: the ID plus its check character."""
    return f"{complaint_id}-{check_character(complaint_id)}"


@dataclass(frozen=True)
class FoundReference:
    complaint_id: str
    text: str  # as written in the subject
    check_ok: bool  # False when the check character is missing or wrong


def find_references(subject: str, prefix: str) -> list[FoundReference]:
    """Every complaint reference written in ``subject``, in order, without duplicates."""
    pattern = re.compile(
        rf"(?<![A-Z0-9])({re.escape(prefix)}-\d{{4}}-\d{{4,10}})(?:-([0-9A-Z]))?(?![A-Z0-9])",
        re.IGNORECASE,
    )
    found: dict[str, FoundReference] = {}
    for match in pattern.finditer(subject):
        complaint_id = match.group(1).upper()
        check = (match.group(2) or "").upper()
        ok = bool(check) and check == check_character(complaint_id)
        previous = found.get(complaint_id)
        if previous is None or (ok and not previous.check_ok):
            found[complaint_id] = FoundReference(complaint_id, match.group(0), ok)
    return list(found.values())


_TYPED_ID = re.compile(r"([A-Z][A-Z0-9]{0,9}-\d{4}-\d{4,10})(?:-([0-9A-Z]))?")


def typed_complaint_id(text: str) -> str:
    """The complaint ID staff typed, as the ID itself or as the printed case reference
    (``CMP-2026-000123-K``, any case). ValueError, naming the fix, when the check
    character is wrong: a mistyped reference must never act on another complaint."""
    cleaned = text.strip().upper()
    match = _TYPED_ID.fullmatch(cleaned)
    if match is None:
        return cleaned  # not shaped like an ID: the lookup says there is no such complaint
    complaint_id, check = match.group(1), match.group(2)
    if check and check != check_character(complaint_id):
        raise ValueError(
            f"{text.strip()}: the check character is wrong for {complaint_id} "
            f"(its reference is {case_reference(complaint_id)}); check the number"
        )
    return complaint_id
