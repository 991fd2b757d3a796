"""Signing records the chain cannot vouch for alone: an erasure (retention) says what
was removed and why, and the signature shows that this deployment wrote it.

HMAC-SHA256 with a key of 32 random bytes kept at ``<storage root>/.records-key``,
created on first use, readable by the owner alone (0600; not by a records group:
whoever can read the key can sign). It is created whole, under a temporary name,
and linked into place, so two processes starting together agree on one key and
none ever reads half of one."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailroom.services import Services

KEY_NAME = ".records-key"
KEY_BYTES = 32


class RecordsKeyError(RuntimeError):
    """The key file is there but unusable (wrong size, a symlink, unreadable)."""


def sign(services: Services, payload: bytes) -> str:
    """The HMAC-SHA256 of ``payload`` under the deployment's records key, as hex."""
    return _mac(records_key(services.storage.root), payload)


def verify_signature(services: Services, payload: bytes, signature: str) -> bool:
    """True when ``signature`` is this deployment's signature of ``payload``."""
    return hmac.compare_digest(_mac(records_key(services.storage.root), payload), signature.strip().lower())


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def records_key(root: Path) -> bytes:
    """The key at ``root/.records-key``, created (0600) if there is none yet."""
    path = root / KEY_NAME
    key = _read_key(path)
    if key is None:
        _create_key(path)
        key = _read_key(path)
    if key is None or len(key) != KEY_BYTES:
        raise RecordsKeyError(f"{path}: not a records key ({KEY_BYTES} bytes); restore it from the backup")
    return key


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordsKeyError(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(KEY_BYTES + 1)


def _create_key(path: Path) -> None:
    temporary = path.with_name(f"{KEY_NAME}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one first: theirs stands
            os.link(temporary, path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        temporary.unlink(missing_ok=True)
