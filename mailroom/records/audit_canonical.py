"""The canonical forms the audit chain hashes (docs/records.md, "Audit chain").

A chained row is hashed as JSON of every column by name, keys sorted, no
whitespace, ASCII only: instants as ISO UTC with microseconds, dates as ISO,
bytes as hex, booleans as true/false. The same values give the same bytes from
SQLite and from PostgreSQL (SQLite hands booleans back as integers: the caller
names its boolean columns). An entry of the chain is hashed the same way, over
its own fields and the hash of the entry before it.

Pure: no database and no clock. Changing anything here changes every hash, so
every chain already written would stop verifying: these forms are a file format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# The evidence of a case, in the order a transaction's entries are appended.
CHAINED_TABLES: tuple[str, ...] = (
    "complaints",
    "mails",
    "documents",
    "events",
    "letters",
    "case_record",
    "audit_log",
)
GENESIS_PREV = "0" * 64  # what the first entry names as the hash before it

# How an entry came to be: the migration's first pass over existing rows, or a
# write by the application.
GENESIS, INSERT, UPDATE, DELETE = "genesis", "insert", "update", "delete"
CHANGES = frozenset({GENESIS, INSERT, UPDATE, DELETE})


_AS_IS = frozenset({str, int, bool})


def canonical_instant(value: datetime) -> str:
    """``2026-03-04T10:12:00.000000Z``: an aware instant, in UTC, to the microsecond."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a chained row; instants must be aware")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_value(value: Any, boolean: bool = False) -> Any:
    """A column's value as it goes into the JSON. Unknown types are an error, never
    a guess: a value that may print differently tomorrow would break the chain."""
    if value is None:
        return None
    if boolean:
        return bool(value)
    if type(value) in _AS_IS:  # most columns: checked first, the worker hashes thousands a batch
        return value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return canonical_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"no canonical form for a {type(value).__name__} value")


def _json_bytes(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode(
        "ascii"
    )


def canonical_row(row: Mapping[Any, Any], booleans: Collection[str] = ()) -> bytes:
    """Every column of ``row`` (name -> stored value); ``booleans``: its boolean columns."""
    return _json_bytes({name: canonical_value(value, name in booleans) for name, value in row.items()})


def row_sha256(row: Mapping[Any, Any], booleans: Collection[str] = ()) -> str:
    return hashlib.sha256(canonical_row(row, booleans)).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One entry of the chain, as hashed. ``row_sha256`` is "" for a deletion."""

    seq: int
    at: datetime
    change: str
    table_name: str
    row_id: str
    complaint_id: str | None
    row_sha256: str
    prev_sha256: str

    def canonical(self) -> bytes:
        return _json_bytes(
            {
                "seq": self.seq,
                "at": canonical_instant(self.at),
                "change": self.change,
                "table": self.table_name,
                "row_id": self.row_id,
                "complaint_id": self.complaint_id,
                "row_sha256": self.row_sha256,
                "prev_sha256": self.prev_sha256,
            }
        )

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
