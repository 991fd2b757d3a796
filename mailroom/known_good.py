"""Remember inputs that have passed validation, so that a listing can skip it.

Whether settings are valid, and whether the rule pack loads with the landlord's
clocks, is a pure function of the inputs (the settings file, secret files, the
environment; the pack's text and the clocks) and of the validating code. A
successful validation records a SHA-256 of both; a later command with the same
fingerprint reads what it needs without validating again (for settings:
``config_sources.read_quick``, without building the pydantic models). Any
change, to an input or to mailroom, gives a new fingerprint and a full
validation with its one-line error. Only digests are kept, never a value."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from mailroom.cache_dir import cache_dir, write_atomically
from mailroom.config_sources import Sources

_KEPT = 64  # fingerprints remembered (deployments, test runs)
_PACKAGE = Path(__file__).parent
_SETTINGS_CODE = (_PACKAGE / "config.py", _PACKAGE / "config_sources.py")
_PACK_CODE = (_PACKAGE / "domain" / "deadlines.py", _PACKAGE / "rule_pack_source.py")


def _code(files: tuple[Path, ...]) -> hashlib._Hash:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest


def settings_fingerprint(sources: Sources) -> str:
    digest = _code(_SETTINGS_CODE)
    digest.update(json.dumps(sources.file, sort_keys=True, default=repr).encode())
    for override in sources.overrides:
        digest.update(json.dumps([override.parts, override.value]).encode())
    return "settings:" + digest.hexdigest()


def pack_fingerprint(pack_text: bytes, clocks: Mapping[str, int]) -> str:
    digest = _code(_PACK_CODE)
    digest.update(pack_text)
    digest.update(json.dumps(dict(clocks), sort_keys=True).encode())
    return "pack:" + digest.hexdigest()


def _ledger() -> Path:
    return cache_dir() / "known-good"


def seen(fingerprint: str) -> bool:
    try:
        return fingerprint in _ledger().read_text(encoding="utf-8").split()
    except OSError:
        return False


def remember(fingerprint: str) -> None:
    try:
        known = _ledger().read_text(encoding="utf-8").split()
    except OSError:
        known = []
    if fingerprint not in known:
        write_atomically(_ledger(), "\n".join([*known[-(_KEPT - 1) :], fingerprint]) + "\n")
