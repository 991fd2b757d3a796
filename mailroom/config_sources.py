"""Where settings come from, read with the standard library alone: the TOML file,
secret files and the MAILROOM_* environment. ``mailroom/config.py`` validates the
result into ``Settings``.

Kept apart so that the listings staff run many times a day can find the
database and the rule pack without loading pydantic (a tenth of a second, most
of the start-up budget in DEVELOPERS.md): ``read_quick`` reads just those
keys when they are plainly valid and otherwise says "validate fully", so a
mistake in them still gets the full one-line error.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mailroom.domain.regions import Region
from mailroom.errors import UserError

DEFAULT_CONFIG_PATH = Path("mailroom.toml")
DEFAULT_STORAGE_ROOT = Path("storage")
ENV_PREFIX = "MAILROOM_"
SECRETS_DIR_ENV = "MAILROOM_SECRETS_DIR"
# The settings' sections; a test keeps this equal to the fields of config.Settings.
SECTIONS = (
    "storage",
    "ingest",
    "database",
    "ids",
    "imap",
    "smtp",
    "maildir",
    "classify",
    "calendar",
    "policy",
    "reminders",
    "worker",
    "scheduler",
    "web",
    "retention",
    "outbound",
    "m365",
    "health",
    "graph",
    "timeliness",
    "letters",
)


class ConfigError(UserError):
    """A setting is missing or invalid. ``str()`` is one line naming the key."""

    exit_code = 2


@dataclass(frozen=True)
class Override:
    """One value from a secret file or the environment, not yet typed."""

    parts: tuple[str, ...]  # ("imap", "password")
    value: str
    origin: str  # the variable or file name, for error messages


@dataclass(frozen=True)
class Sources:
    where: str  # the file, or "embedded defaults"
    file: dict[str, Any]
    overrides: tuple[Override, ...]  # secret files, then the environment: later wins


def read_sources(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Sources:
    """``path=None`` means ./mailroom.toml if present, else the embedded defaults."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
    elif not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    where = str(path) if path is not None else "embedded defaults"
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config error in {where}: not valid TOML: {exc}") from None
    secrets_dir = environ.get(SECRETS_DIR_ENV)
    if secrets_dir and not Path(secrets_dir).is_dir():
        raise ConfigError(f"{SECRETS_DIR_ENV}: not a directory: {secrets_dir}")
    overrides = (_secret_files(Path(secrets_dir)) if secrets_dir else []) + _environment(environ)
    return Sources(where, data, tuple(overrides))


def _secret_files(folder: Path) -> list[Override]:
    """Files named ``section__key`` (Docker and Kubernetes secrets), without the final newline."""
    found = []
    for file in sorted(folder.iterdir()):
        parts = tuple(file.name.lower().split("__"))
        if len(parts) < 2 or parts[0] not in SECTIONS or not file.is_file():
            continue
        try:
            value = file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{SECRETS_DIR_ENV}: cannot read {file.name}: {exc}") from None
        found.append(Override(parts, value, file.name))
    return found


def _environment(environ: Mapping[str, str]) -> list[Override]:
    """``MAILROOM_SECTION__KEY=value`` for every known section; other MAILROOM_*
    variables (MAILROOM_SECRETS_DIR, MAILROOM_LOG_LEVEL) are not settings."""
    found = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
        if len(parts) >= 2 and parts[0] in SECTIONS:
            found.append(Override(parts, environ[name], name))
    return found


def nested(parts: tuple[str, ...], value: Any) -> dict[str, Any]:
    for part in reversed(parts[1:]):
        value = {part: value}
    return {parts[0]: value}


def merge(into: dict[str, Any], overlay: dict[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def sqlite_url(storage_root: Path) -> str:
    """The database when ``database.url`` is empty: SQLite under the storage root."""
    return f"sqlite:///{storage_root / 'mailroom.db'}"


def sqlite_file(database_url: str) -> str | None:
    """The file of a SQLite URL; "" for SQLite that is not a plain file (in memory,
    URL options); None for any other database."""
    scheme, _, rest = database_url.partition("://")
    if scheme.partition("+")[0] != "sqlite":
        return None
    path = rest[1:] if rest.startswith("/") else rest
    return "" if path == ":memory:" or "?" in path else path


# -- the quick read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickSettings:
    """What a listing or the calendar needs, read without validating the rest."""

    database_url: str
    rule_pack: Path | None
    clocks: dict[str, int]
    region: Region
    closure_days: tuple[date, ...]
    extra_working_days: tuple[date, ...]


_REGIONS = frozenset(region.value for region in Region)


class _Unsure(Exception):
    """A key is not plainly valid: validate the whole configuration instead."""


def read_quick(sources: Sources) -> QuickSettings | None:
    """The keys above when each is plainly valid; None when any is not (or is given
    in a form only the full validation reads, such as a list in the environment)."""
    try:
        root = _text(sources, ("storage", "root"), str(DEFAULT_STORAGE_ROOT))
        url = _text(sources, ("database", "url"), "")
        rule_pack = _text(sources, ("policy", "rule_pack"), "")
        region = _text(sources, ("calendar", "region"), "england-and-wales")
        clocks = _file_only(sources, ("policy", "clocks"), {})
        closures = _file_only(sources, ("calendar", "closure_days"), [])
        extras = _file_only(sources, ("calendar", "extra_working_days"), [])
    except _Unsure:
        return None
    if not isinstance(clocks, dict) or not all(type(days) is int for days in clocks.values()):
        return None
    if not isinstance(closures, list) or not isinstance(extras, list) or not root:
        return None
    if not all(_is_date(day) for day in [*closures, *extras]) or region not in _REGIONS:
        return None
    return QuickSettings(
        database_url=url or sqlite_url(Path(root)),
        rule_pack=Path(rule_pack) if rule_pack else None,
        clocks=dict(clocks),
        region=Region(region),
        closure_days=tuple(closures),
        extra_working_days=tuple(extras),
    )


def _lookup(sources: Sources, parts: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = sources.file
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _text(sources: Sources, parts: tuple[str, ...], default: str) -> str:
    found, value = _lookup(sources, parts)
    for override in sources.overrides:
        if override.parts == parts:
            found, value = True, override.value
        elif override.parts[: len(parts)] == parts:
            raise _Unsure  # a deeper key under a plain value: let validation name it
    if not found:
        return default
    if not isinstance(value, str):
        raise _Unsure
    return value


def _file_only(sources: Sources, parts: tuple[str, ...], default: Any) -> Any:
    if any(override.parts[: len(parts)] == parts for override in sources.overrides):
        raise _Unsure  # JSON in the environment: the full validation reads it
    found, value = _lookup(sources, parts)
    return value if found else default


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not hasattr(value, "hour")
