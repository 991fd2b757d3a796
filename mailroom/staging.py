"""Stage one fetched mail: hash, parse within its limits, write its folder
under storage staging. Touches no database.

Kept apart from ``intake`` (which needs the database layer) so that the
staging helper process imports only the parser and the filing code: it
starts in a fraction of the time, and is restarted after every mail that
runs out of budget (mailroom/stager.py).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass, replace
from typing import Any

from mailroom.domain.models import FetchedMail, ParsedMail
from mailroom.filing import FiledFile, Storage, folder_name, sha256_hex
from mailroom.ingest.parse import (
    DEFAULT_LIMITS,
    ParseLimits,
    attachments_not_filed,
    parse_mail,
    parts_not_split_out,
    report_stage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedMail:
    """A mail parsed and written under staging, not yet classified.

    ``parsed`` carries no attachment payloads (they are on disk by now), so
    handing it between processes costs little; None when ``error`` is set."""

    sha256: str
    parsed: ParsedMail | None
    token: str  # names the staged folder, and the final one
    files: list[FiledFile]
    error: str | None = None


def stage_mail(
    storage: Storage, fetched: FetchedMail, max_bytes: int, limits: ParseLimits = DEFAULT_LIMITS
) -> StagedMail:
    """Parse and stage one mail; never raises for a bad mail (quarantines it)."""
    sha256 = sha256_hex(fetched.raw)
    size = max(fetched.size, len(fetched.raw))  # a source that checked the size sends only a prefix
    if size > max_bytes:
        error = f"over the size limit: {size} > {max_bytes} bytes"
        if len(fetched.raw) < size:
            error += f"; only its first {len(fetched.raw)} bytes were read (the mail stays in the source)"
        return stage_quarantine(storage, fetched, sha256, error)
    try:
        parsed = parse_mail(fetched.raw, limits)
        report_stage("write files")
        token = uuid.uuid4().hex[:16]
        name = folder_name(fetched.received_at, token)
        meta = {**manifest_meta(fetched), **_limits_meta(parsed)}
        files = storage.stage_mail(token, name, fetched.raw, parsed.attachments, meta)
    except MemoryError:
        log.warning("quarantining %s: parse exceeded the memory limit", fetched.key)
        return stage_quarantine(storage, fetched, sha256, "parse exceeded the memory limit")
    except Exception as exc:  # any failure: keep the bytes and the reason
        log.warning("quarantining %s: %s", fetched.key, exc)
        return stage_quarantine(storage, fetched, sha256, describe_error(exc))
    without_payloads = tuple(replace(a, payload=b"") for a in parsed.attachments)
    return StagedMail(sha256, replace(parsed, attachments=without_payloads), token, files)


def stage_quarantine(
    storage: Storage, fetched: FetchedMail, sha256: str, error: str, extra: dict[str, Any] | None = None
) -> StagedMail:
    """Keep the raw bytes and the reason; a person lists and retries these."""
    token = uuid.uuid4().hex[:16]
    name = folder_name(fetched.received_at, token)
    meta = {**manifest_meta(fetched), **(extra or {})}
    files = storage.stage_mail(token, name, fetched.raw, (), meta, error)
    return StagedMail(sha256, None, token, files, error)


def describe_error(exc: BaseException) -> str:
    """One line: the exception and where it was raised."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{place}".replace("\n", " ")[:500]


def manifest_meta(fetched: FetchedMail) -> dict[str, Any]:
    # What became of the mail (outcome, case, later triage) is in the database's
    # events: a folder's manifest says only where the bytes came from.
    key = fetched.key
    source = {"account": key.account, "folder": key.folder, "uidvalidity": key.uidvalidity, "uid": key.uid}
    return {"source": source, "received_at": fetched.received_at.isoformat()}


def _limits_meta(parsed: ParsedMail) -> dict[str, Any]:
    """What a parse limit left inside message.eml, for a person reading the manifest."""
    kept = {
        "mime_parts_not_split_out": parts_not_split_out(parsed),
        "attachments_not_filed": attachments_not_filed(parsed),
    }
    return {"left_in_message_eml": kept} if any(kept.values()) else {}
