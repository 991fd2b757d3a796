"""A throwaway deployment for command-line tests: a settings file, an initialised
SQLite store, and the real `mailroom` command run against it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def mailroom(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mailroom ARGS --config CONFIG` as staff would run it: no MAILROOM_* variables
    of the caller, and the cache beside the config so tests share nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env["MAILROOM_CACHE_DIR"] = str(config.parent / "cache")
    command = [sys.executable, "-m", "mailroom", *args, "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def new_deployment(folder: Path, init: bool = True) -> Path:
    """Its settings file; with ``init``, the store created as `mailroom init` does."""
    config = folder / "mailroom.toml"
    config.write_text(f'[storage]\nroot = "{folder / "storage"}"\n[maildir]\npath = ""\n', encoding="utf-8")
    if init:
        created = mailroom(config, "init")
        assert created.returncode == 0, created.stderr
    return config
