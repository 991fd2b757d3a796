"""A bounded ``decode_mapi``: a fork of tnefparse 1.4.0's ``tnefparse.mapi.decode_mapi``.

Copyright (c) Petri Savolainen and the tnefparse contributors; modified for
mailroom. Licensed under the GNU Lesser General Public License v3, the
licence of tnefparse: see ``licenses/tnefparse-LICENSE.txt`` beside this file.
Only this function is forked; tnefparse itself is used unchanged otherwise.

Why: tnefparse trusts the property counts a winmail.dat claims. A 36-byte
blob claiming 2^32 properties looped for hours writing a warning per
property, and one claiming 2^32 values of a 2-byte type built billions of
attributes (4.9 GB in 45 s). Here every count is bounded by the bytes
actually present, decoding stops at the end of the data, and nothing is
logged per property.
"""

from __future__ import annotations

from typing import Any

from tnefparse.mapi import GUID_EXISTS_FLAG, MULTI_VALUE_FLAG, TNEFMAPI_Attribute, parse_property
from tnefparse.util import guid, uint16, uint32

# The smallest encodings: a property is at least its type and name (4 bytes);
# a value at least 2 bytes (a short or boolean).
_MIN_PROPERTY_BYTES = 4
_MIN_VALUE_BYTES = 2
_SHORT_TYPES = (0x0002, 0x000B)  # SZMAPI_SHORT, SZMAPI_BOOLEAN: padded to 4 bytes


class MapiTruncated(ValueError):
    """The MAPI data ends before the properties it announces."""


def decode_mapi(data: bytes, codepage: str = "cp1252", starting_offset: int | None = None) -> Any:
    """Decode a MAPI property list, as tnefparse's, with every count bounded.

    Returns the attributes, or ``(offset, attributes)`` when ``starting_offset``
    is given (tnefparse's recipient-table form). Properties cut short by the end
    of the data are dropped; nothing is logged.
    """
    data_len = len(data)
    offset = starting_offset or 0
    if offset + 4 > data_len:
        # tnefparse raised here too (struct.error); its callers loop on it.
        raise MapiTruncated("no MAPI property count")
    claimed = uint32(data, offset)
    offset += 4
    attrs: list[Any] = []
    count = min(claimed, (data_len - offset) // _MIN_PROPERTY_BYTES)
    try:
        for _ in range(count):
            if offset + _MIN_PROPERTY_BYTES > data_len:
                break
            offset, found = _one_property(data, offset, codepage)
            attrs.extend(found)
    except Exception:  # truncated or malformed: keep what was decoded, as tnefparse does
        pass
    if starting_offset is not None:
        return (offset, attrs)
    return attrs


def _one_property(data: bytes, offset: int, codepage: str) -> tuple[int, list[Any]]:
    data_len = len(data)
    attr_type = uint16(data, offset)
    attr_name = uint16(data, offset + 2)
    offset += 4
    guid_id: Any = ""
    guid_name = None
    guid_prop = None
    if attr_name >= GUID_EXISTS_FLAG:
        guid_id = guid(data, offset)
        offset += 16
        kind = uint32(data, offset)
        offset += 4
        if kind == 0:
            guid_prop = uint32(data, offset)
            offset += 4
        else:
            iid_len = uint32(data, offset)
            offset += 4
            iid_len += -iid_len % 4
            guid_name = data[offset : offset + iid_len].decode("utf-16")
            offset += iid_len
    values = None
    if MULTI_VALUE_FLAG & attr_type:
        attr_type ^= MULTI_VALUE_FLAG
        values = min(uint32(data, offset), max(0, data_len - offset - 4) // _MIN_VALUE_BYTES)
        offset += 4
    found = []
    for _ in range(values or 1):
        if offset >= data_len:
            raise MapiTruncated("MAPI value past the end of the data")
        attr_data, offset = parse_property(data, offset, attr_name, attr_type, codepage, values)
        found.append(TNEFMAPI_Attribute(attr_type, attr_name, attr_data, guid_id, guid_name, guid_prop))
    if (values or 1) % 2 and attr_type in _SHORT_TYPES:
        offset += 2
    return offset, found
