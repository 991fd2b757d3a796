"""The Housing Ombudsman's contact details as a letter prints them, compared with
the rule pack's ``[ombudsman]`` table (6.5, 6.16, 2.4, 6.19).

Each detail is compared as a resident would use it: a phone number by its digits
(spacing and "+44" do not matter, one wrong digit does), a web address without
its scheme, "www." or trailing slash, a postal address by its letters and digits
only. A detail is "given" only when it is there exactly; a phone number or
Ombudsman web address that is none of the known ones is reported too, because a
resident could follow it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["address_key", "phone_key", "phone_numbers", "post_given", "web_addresses", "web_key"]

_PHONE = re.compile(r"(?<![\d/])(?:\+\s?44\s?(?:\(0\)\s?)?|0)\d(?:[\s-]?\d){8,10}(?![\d/])")
_WEB = re.compile(r"(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(?:/[^\s,;)\"']*)?", re.IGNORECASE)


def phone_key(number: str) -> str:
    """A UK phone number as its national digits: "+44 300 111 3000" -> "03001113000"."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        digits = "0" + digits.removeprefix("44").removeprefix("0")
    return digits


def phone_numbers(text: str) -> list[tuple[str, str]]:
    """(as printed, key) of every UK phone number in ``text``."""
    return [(m.group(0), phone_key(m.group(0))) for m in _PHONE.finditer(text)]


def web_key(address: str) -> str:
    key = address.strip().casefold().rstrip(".,;:")
    key = re.sub(r"^https?://", "", key).removeprefix("www.")
    return key.rstrip("/")


def web_addresses(text: str) -> list[tuple[str, str]]:
    """(as printed, key) of every web address in ``text`` (email addresses left out)."""
    found = []
    for m in _WEB.finditer(text):
        if m.start() > 0 and text[m.start() - 1] == "@":
            continue
        found.append((m.group(0).rstrip(".,;:"), web_key(m.group(0))))
    return found


def address_key(address: str) -> str:
    """A postal address by its letters and digits: punctuation, spacing and case do not matter."""
    return re.sub(r"[^0-9a-z]", "", address.casefold())


def post_given(text: str, post: str, name: str) -> bool:
    """True when ``text`` holds the postal address ``post``; the organisation's
    ``name`` at its start may be left out (the letter names it elsewhere)."""
    whole = address_key(text)
    wanted = address_key(post)
    if wanted and wanted in whole:
        return True
    short = address_key(post.removeprefix(name).lstrip(" ,")) if name and post.startswith(name) else ""
    return bool(short) and short in whole


def known_phones(*sources: Iterable[str] | Mapping[str, str]) -> set[str]:
    """The phone-number keys found in any of the given texts or mappings' values."""
    keys: set[str] = set()
    for source in sources:
        values = source.values() if isinstance(source, Mapping) else source
        for value in values:
            keys |= {key for _, key in phone_numbers(str(value))}
            if value and re.fullmatch(r"[\d\s()+-]{10,}", str(value).strip()):
                keys.add(phone_key(str(value)))
    return keys
