"""What every `mailroom` command module shares: the --config and --json options,
the services for one command, JSON and one-line error output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mailroom.config import load_settings
from mailroom.services import Services, build_services

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings file (default ./mailroom.toml, else embedded defaults)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/cli.md).")]


@contextmanager
def command_services(config: Path | None) -> Iterator[Services]:
    services = build_services(load_settings(config))
    try:
        yield services
    finally:
        services.store.engine.dispose()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def error_line(message: str) -> None:
    """One line on stderr, never wrapped: scripts and log collectors read it."""
    sys.stderr.write("mailroom: " + " ".join(message.split()) + "\n")
