"""The pack's zip: every original byte for byte, ``manifest.json`` (the SHA-256 of
each file and of the bundle PDF) and ``audit.jsonl``. Deterministic: entries in a
fixed order with a fixed timestamp and mode, so the same record gives the same
bytes and a re-made pack can be compared with the one sent."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailroom.filing import StorageError
from mailroom.records.pack_sections import ZipEntry
from mailroom.services import Services

_CHUNK = 1 << 20
_MODE = 0o600 << 16  # the files are residents' personal data: private when unpacked
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest instant a zip can hold


def zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    at = max(at.astimezone(UTC), _ZIP_EPOCH)
    return (at.year, at.month, at.day, at.hour, at.minute, at.second - at.second % 2)


def write_zip(
    services: Services,
    target: Path,
    entries: Iterable[ZipEntry],
    extra: Callable[[list[dict[str, Any]]], Iterable[tuple[str, bytes]]],
    at: datetime,
) -> list[dict[str, Any]]:
    """Write the zip at ``target`` (whole, then renamed into place); returns what was
    put in, with each file's hash as read now (``intact`` False when it differs from
    the hash recorded at filing). ``extra`` is given that list once the files are in
    and returns the generated entries (the manifest, which lists those hashes)."""
    stamp = zip_time(at)
    written: list[dict[str, Any]] = []
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for entry in entries:
            digest, size = _add(services, archive, entry, stamp)
            written.append(
                {
                    "name": entry.name,
                    "ref": entry.ref,
                    "title": entry.title,
                    "sha256": digest,
                    "size": size,
                    "recorded_sha256": entry.sha256,
                    "intact": digest == entry.sha256,
                    "shown": entry.shown,
                    **({"listed_reason": entry.listed_reason} if entry.listed_reason else {}),
                }
            )
        for name, data in extra(written):
            archive.writestr(_info(name, stamp), data)
    os.replace(partial, target)
    return written


def _info(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = _MODE
    info.create_system = 3  # Unix, whatever machine makes the pack
    return info


def _add(
    services: Services, archive: zipfile.ZipFile, entry: ZipEntry, stamp: tuple[int, int, int, int, int, int]
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(_info(entry.name, stamp), "w", force_zip64=True) as out:
        for chunk in _chunks(services, entry):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _chunks(services: Services, entry: ZipEntry) -> Iterator[bytes]:
    if entry.data is not None:
        yield entry.data
        return
    assert entry.item is not None
    try:
        path = services.storage.resolve(entry.item.path)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (OSError, StorageError):
        return  # missing: an empty entry, and the manifest says it is not intact
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def canonical_json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def json_lines(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"
        for row in rows
    )
