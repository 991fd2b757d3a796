"""What every `mailroom` command module shares: the --config and --json options,
the services (or the read-only reader) for one command, consoles, JSON and
one-line error output.

Start-up budget (DEVELOPERS.md): importing this module, and the command modules,
loads typer and nothing of the domain or the store; each command imports what it
uses inside its body."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from mailroom.config_sources import QuickSettings
    from mailroom.services import Services
    from mailroom.store.reader import Reader

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings file (default ./mailroom.toml, else embedded defaults)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/cli.md).")]


def command_group(help_text: str) -> typer.Typer:
    """A `mailroom` command group. Help is click's plain text: typer's rich help
    panels load a Markdown parser, half the start-up budget, for every --help.
    Tracebacks (a bug, never a user error) are Python's own, without rich."""
    return typer.Typer(
        no_args_is_help=True,
        add_completion=False,
        help=help_text,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )


@contextmanager
def command_services(config: Path | None, create: bool = False) -> Iterator[Services]:
    """The services of one command. Only ``create`` commands (init, run, ingest) may
    start a new SQLite database: any other run outside a deployment would leave an
    empty one behind and show an empty office instead of saying what is wrong."""
    from mailroom.config import load_settings
    from mailroom.rule_pack_source import load_settings_rule_pack
    from mailroom.services import build_services

    settings = load_settings(config)
    if not create:
        load_settings_rule_pack(settings)  # a policy laxer than the Code is the first thing to say
        require_database(settings.database_url)
    services = build_services(settings)
    try:
        yield services
    finally:
        services.store.engine.dispose()


@contextmanager
def command_reader(config: Path | None) -> Iterator[Reader]:
    """The read-only listing queries (mailroom/store/reader.py). A database that is
    missing or behind is first opened the usual way, which creates or migrates it."""
    from mailroom.store.reader import open_reader

    quick = quick_settings(config)
    check_rule_pack(quick.rule_pack, quick.clocks)
    with open_reader(quick.database_url) as reader:
        if reader is not None:
            yield reader
            return
    require_database(quick.database_url)
    with command_services(config):
        pass
    with open_reader(quick.database_url) as reader:
        if reader is None:  # a URL the reader does not handle (SQLite in memory, another driver)
            raise RuntimeError(f"cannot read the database at {quick.database_url.partition('://')[0]}://…")
        yield reader


def quick_settings(config: Path | None) -> QuickSettings:
    """The database, rule pack and calendar keys, from settings known to be valid:
    validated now, or with the same fingerprint before (mailroom/validated_settings.py)."""
    from mailroom.config_sources import read_quick, read_sources
    from mailroom.known_good import remember, seen, settings_fingerprint

    sources = read_sources(config)
    fingerprint = settings_fingerprint(sources)
    quick = read_quick(sources) if seen(fingerprint) else None
    if quick is not None:
        return quick
    from mailroom.config import validate
    from mailroom.config_sources import QuickSettings

    settings = validate(sources)  # the one-line error naming the bad key
    remember(fingerprint)
    return QuickSettings(
        database_url=settings.database_url,
        rule_pack=settings.policy.rule_pack,
        clocks=dict(settings.policy.clocks),
        region=settings.calendar.region,
        closure_days=tuple(settings.calendar.closure_days),
        extra_working_days=tuple(settings.calendar.extra_working_days),
    )


def require_database(database_url: str) -> None:
    from mailroom.config_sources import sqlite_file
    from mailroom.errors import NoDatabaseError

    path = sqlite_file(database_url)  # None: a server database, created or migrated on first use
    if path and not Path(path).exists():
        raise NoDatabaseError(
            f"no database at {path}: run `mailroom init` in the deployment's folder first, "
            "or pass --config with its settings"
        )


def check_rule_pack(rule_pack: Path | None, clocks: dict[str, int]) -> None:
    """A rule pack that does not load, or policy clocks laxer than the Code, stop
    every command (RulePackError); a pack and clocks that loaded before are not parsed again."""
    from mailroom.known_good import pack_fingerprint, remember, seen
    from mailroom.rule_pack_source import BUNDLED_RULE_PACK, load_pack

    try:
        fingerprint = pack_fingerprint((rule_pack or BUNDLED_RULE_PACK).read_bytes(), clocks)
    except OSError:
        fingerprint = ""  # load_pack names the file it cannot read
    if fingerprint and seen(fingerprint):
        return
    load_pack(rule_pack, clocks)
    if fingerprint:
        remember(fingerprint)


@cache
def out() -> Console:
    return _data_console(stderr=False)


@cache
def err() -> Console:
    return _data_console(stderr=True)


def _data_console(stderr: bool) -> Console:
    """A console that prints data, never markup (mailroom/terminal_text.py): no
    markup, emoji codes or highlighting of what it is given, and every string shown
    with its control characters visible."""
    from rich.console import Console

    from mailroom.terminal_text import visible

    class DataConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            super().print(*(visible(o) if isinstance(o, str) else o for o in objects), **options)

    return DataConsole(stderr=stderr, markup=False, emoji=False, highlight=False)


def add_row(table: Table, *values: object) -> None:
    """A table row of data: each cell plain text (terminal_text.cell), never markup."""
    from mailroom.terminal_text import cell

    table.add_row(*(cell(value) for value in values))


def case_id(text: str) -> str:
    """A complaint ID argument: the ID, or the printed reference with its check character."""
    from mailroom.domain.ids import typed_complaint_id
    from mailroom.errors import IntakeError

    try:
        return typed_complaint_id(text)
    except ValueError as exc:
        raise IntakeError(str(exc)) from None


def print_json(value: Any) -> None:
    """Indented, with text as written, for a person at a terminal; compact and ASCII
    for a pipe, where the C encoder (which ``indent`` turns off) writes 10,000 cases
    in a fiftieth of the time. Both are the same JSON."""
    if sys.stdout.isatty():
        from mailroom.terminal_text import json_safe

        sys.stdout.write(json_safe(json.dumps(value, indent=2, ensure_ascii=False)) + "\n")
    else:
        # For programs: every non-ASCII character as a \u escape, controls and bidi
        # included, by the C encoder alone (no pass over the text afterwards).
        sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")


def error_line(message: str) -> None:
    """One line on stderr, never wrapped: scripts and log collectors read it. It may
    quote a file name or a header: control characters are shown, not obeyed."""
    from mailroom.terminal_text import visible

    sys.stderr.write("mailroom: " + visible(" ".join(message.split())) + "\n")
