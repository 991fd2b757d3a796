"""Drive the real `mailroom` command against a real Dovecot, as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.support.dovecot import Dovecot, ImapUser


def write_config(
    workdir: Path,
    dovecot: Dovecot,
    user: ImapUser,
    storage: dict[str, Any] | None = None,
    database_url: str | None = None,
    **imap: Any,
) -> Path:
    """A mailroom.toml for ``user``'s mailbox: STARTTLS with the test CA, SQLite, no demo Maildir."""
    settings = dovecot.settings(user, **imap)
    values = {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "ca_file": str(settings.ca_file),
        "username": settings.username,
        "password": settings.password.get_secret_value(),
        "folder": settings.folder,
        "action": settings.action.value,
        "idle": settings.idle,
        "batch_size": settings.batch_size,
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
        "poll_interval_seconds": settings.poll_interval_seconds,
    }
    return write_source_config(workdir, "imap", values, storage=storage, database_url=database_url)


def write_source_config(
    workdir: Path,
    section: str,
    values: dict[str, Any],
    *,
    storage: dict[str, Any] | None = None,
    database_url: str | None = None,
) -> Path:
    """A mailroom.toml reading one mail source (``[section]`` set to ``values``):
    SQLite unless ``database_url``, no demo Maildir, no progress bar."""
    storage_values = {"root": str(workdir / "storage"), **(storage or {})}
    default_url = f"sqlite:///{workdir / 'mailroom.db'}"
    lines = [
        "[storage]",
        *_toml(storage_values),
        "",
        "[database]",
        f'url = "{database_url or default_url}"',
        "",
        "[maildir]",
        'path = ""',
        "",
        "[worker]",
        "progress = false",
        "",
        f"[{section}]",
        *_toml(values),
    ]
    path = workdir / "mailroom.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(values: dict[str, Any]) -> list[str]:
    return [f"{key} = {json.dumps(value)}" for key, value in values.items()]


def mailroom_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mailroom", *args, "--config", str(config)]


def run_mailroom(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(mailroom_command(config, *args), capture_output=True, text=True, timeout=timeout)


def bulk_append(
    dovecot: Dovecot,
    user: ImapUser,
    mails: Iterable[bytes],
    folder: str = "INBOX",
    flags: tuple[bytes, ...] = (),
) -> None:
    """Append many mails over one connection (one per mail would dominate the test's time)."""
    with dovecot.client(user) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in mails:
            client.append(folder, raw, flags=flags)


def server_bodies(dovecot: Dovecot, user: ImapUser, folder: str) -> list[bytes]:
    with dovecot.client(user) as client:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        return [data[b"BODY[]"] for data in client.fetch(uids, ["BODY.PEEK[]"]).values()] if uids else []


def query(db: Path | str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` from a SQLite file or a database URL."""
    engine = create_engine(f"sqlite:///{db}" if isinstance(db, Path) else db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()
