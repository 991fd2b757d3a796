"""The per-user cache folder for things mailroom can always rebuild: the bank
holidays of the working calendar, and fingerprints of settings already validated.
Nothing personal and no secret is kept there.

``$MAILROOM_CACHE_DIR``, else ``$XDG_CACHE_HOME/mailroom``, else ``~/.cache/mailroom``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_DIR_ENV = "MAILROOM_CACHE_DIR"


def cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mailroom"


def write_atomically(file: Path, text: str) -> None:
    """Write aside and rename, so that two commands starting at once never read half
    a file. A cache that cannot be written (a read-only home) is simply not kept."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, file)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass
