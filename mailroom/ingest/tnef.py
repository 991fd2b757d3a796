"""Unpack Outlook's winmail.dat (application/ms-tnef) into ordinary files.

Outlook sends attachments inside a TNEF blob when rich-text formatting is on, so
a resident's photos can arrive as one opaque winmail.dat. The parser keeps the
.dat as it came and adds what ``unpack_tnef`` finds as separate files.
"""

from __future__ import annotations

import logging
from typing import Any

import tnefparse.tnef
from tnefparse import TNEF
from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME

from mailroom.ingest.tnef_mapi import decode_mapi

# tnefparse's own decode_mapi trusts the counts a blob claims (hours and
# gigabytes for a 36-byte winmail.dat); its TNEF class calls it by this name.
# The bounded fork (tnef_mapi.py, LGPL like tnefparse) takes its place.
tnefparse.tnef.decode_mapi = decode_mapi
# What tnefparse still logs is per object of a blob the sender wrote (checksum,
# version); a hostile blob would fill the worker's log with it.
logging.getLogger("tnefparse").setLevel(logging.CRITICAL)

_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
_HEADER_LEN = 6  # signature + legacy key
_OBJECT_OVERHEAD = 11  # level (1) + attribute id (4) + length (4) + checksum (2)
# tnefparse copies the rest of the blob for every attribute it reads, so its cost is
# the sum of the remaining lengths: quadratic in the number of attributes. Real
# winmail.dat files have tens of attributes; refuse crafted ones that would copy
# more than 2 GiB (a fraction of a second; 200,000 empty records would copy 240 GB).
_MAX_COPY_BYTES = 2 * 2**30


class TnefError(ValueError):
    """The data is not a TNEF blob that can be unpacked."""


def unpack_tnef(data: bytes) -> list[tuple[str, bytes]]:
    """Return ``(filename, payload)`` for every file inside a winmail.dat.

    Filenames are the sender's (the long name when present), decoded but
    UNTRUSTED; a file without a name gets ``tnef-part-N.bin``. An HTML body is
    added as ``winmail-body.html``. Raises ``TnefError`` if ``data`` cannot be
    decoded.
    """
    _check_structure(data)
    try:
        tnef = TNEF(data, do_checksum=False)
        found = (_file(attachment, tnef.codepage, n) for n, attachment in enumerate(tnef.attachments, 1))
        files = [f for f in found if f is not None]
        body = _html_body(tnef)
    except MemoryError:
        raise
    except Exception as exc:  # tnefparse raises whatever struct/decode hits on bad input
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise TnefError(f"cannot decode TNEF: {type(exc).__name__}: {detail}") from exc
    if body is not None:
        files.append(("winmail-body.html", body))
    return files


def _check_structure(data: bytes) -> None:
    if data[:4] != _SIGNATURE:
        raise TnefError("not TNEF: wrong signature")
    offset, copied = _HEADER_LEN, 0
    while offset + 12 < len(data):  # the loop condition tnefparse uses
        length = int.from_bytes(data[offset + 5 : offset + 9], "little")
        copied += len(data) - offset
        if copied > _MAX_COPY_BYTES:
            raise TnefError("TNEF has too many attributes to decode safely")
        offset += min(len(data) - offset, length + _OBJECT_OVERHEAD)


def _file(attachment: Any, codepage: str | None, number: int) -> tuple[str, bytes] | None:
    payload = attachment.data
    name = _long_name(attachment) or _text(attachment._name, codepage)
    if not payload and not name:
        return None  # a rendering-only record: nothing a resident attached
    if not isinstance(payload, bytes):
        payload = bytes(payload)
    return (name or f"tnef-part-{number}.bin", payload)


def _long_name(attachment: Any) -> str:
    """The long filename MAPI property, which tnefparse leaves in ``mapi_attrs``."""
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_LONG_FILENAME:
            return _text(attr.data, None)
    return ""


def _text(value: object, codepage: str | None) -> str:
    if not isinstance(value, bytes):
        return str(value or "").strip("\x00").strip()
    # Titles are bytes in the OEM code page (cp1252 when unspecified).
    try:
        text = value.decode(codepage or "cp1252")
    except (UnicodeError, LookupError):
        text = value.decode("cp1252", "replace")
    return text.strip("\x00").strip()


def _html_body(tnef: Any) -> bytes | None:
    html = tnef.htmlbody
    if not html:
        return None
    return html.encode("utf-8") if isinstance(html, str) else bytes(html)
