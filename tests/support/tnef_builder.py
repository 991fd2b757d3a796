"""Build small winmail.dat (TNEF) blobs for tests.

No real winmail.dat ships with tnefparse's wheel, and Outlook is not available
here, so tests build their own following [MS-OXTNEF]: a signature, a legacy
key, then attribute records of

    level (1 byte) | attribute id (4 bytes LE: type << 16 | name) | length (4 LE)
    | data | checksum (2 LE: sum of the data bytes mod 65536)

Message-level records come first; each attachment starts with attAttachRendData.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = 0x223E9F78
LEGACY_KEY = 0x0001
LVL_MESSAGE = 0x01
LVL_ATTACHMENT = 0x02

ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005  # the attachment's MAPI properties

PT_UNICODE = 0x001F
PT_BINARY = 0x0102
PR_ATTACH_LONG_FILENAME = 0x3707
PR_BODY_HTML = 0x1013


@dataclass(frozen=True)
class TnefFile:
    title: str  # the short (8.3) name in attAttachTitle
    data: bytes
    long_name: str | None = None  # PR_ATTACH_LONG_FILENAME, if any


def build_tnef(
    files: list[TnefFile],
    *,
    html_body: bytes | None = None,
    codepage: int = 1252,
    title_encoding: str = "cp1252",
) -> bytes:
    """A TNEF blob carrying ``files`` (and an HTML body) the way Outlook writes it."""
    out = struct.pack("<IH", SIGNATURE, LEGACY_KEY)
    out += attribute(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    out += attribute(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0))
    out += attribute(LVL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00")
    if html_body is not None:
        out += attribute(LVL_MESSAGE, ATT_MAPI_PROPS, mapi_props([(PT_BINARY, PR_BODY_HTML, html_body)]))
    for file in files:
        out += _attachment(file, title_encoding)
    return out


def attribute(level: int, attr_id: int, data: bytes) -> bytes:
    """One TNEF attribute record."""
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def mapi_props(props: list[tuple[int, int, bytes]]) -> bytes:
    """A MAPI property list of single-valued variable-length properties (string or binary)."""
    out = struct.pack("<I", len(props))
    for prop_type, prop_id, value in props:
        padding = b"\x00" * (-len(value) % 4)
        out += struct.pack("<HHII", prop_type, prop_id, 1, len(value)) + value + padding
    return out


def _attachment(file: TnefFile, title_encoding: str) -> bytes:
    # attach type 1 (file), position -1, no rendering size, no flags
    rend_data = struct.pack("<HIhhI", 1, 0xFFFFFFFF, -1, -1, 0)
    out = attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, rend_data)
    out += attribute(LVL_ATTACHMENT, ATT_ATTACH_TITLE, file.title.encode(title_encoding) + b"\x00")
    out += attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, file.data)
    if file.long_name is not None:
        name = (file.long_name + "\x00").encode("utf-16-le")
        out += attribute(
            LVL_ATTACHMENT, ATT_ATTACHMENT, mapi_props([(PT_UNICODE, PR_ATTACH_LONG_FILENAME, name)])
        )
    return out
