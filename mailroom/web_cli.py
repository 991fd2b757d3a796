"""`mailroom web` (the review desk under gunicorn) and `mailroom users` (its
accounts). Imports only typer at start, like the rest of the command line."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli_common import (
    ConfigOption,
    JsonOption,
    add_row,
    command_group,
    command_services,
    out,
    print_json,
)
from mailroom.errors import UserError

if TYPE_CHECKING:
    from mailroom.accounts.audit import Actor

users_app = command_group("People who sign in to the review desk (docs/desk.md).")


def _actor() -> Actor:
    from mailroom.accounts.audit import Actor

    return Actor(f"cli:{getpass.getuser()}", "command line")


def _read_password(path: Path | None) -> str | None:
    """From a file (first line), '-' for standard input, or None (single sign-on only)."""
    if path is None:
        return None
    try:
        text = sys.stdin.readline() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    password = text.splitlines()[0] if text.splitlines() else ""
    if not password:
        raise UserError(f"{path}: no password on its first line")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The person's name, as shown on the desk.")],
    email: Annotated[str, typer.Option(help="Their work email: what they sign in with.")],
    role: Annotated[str, typer.Option(help="inbox, officer, manager, records or admin.")],
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="A file whose first line is the password ('-': stdin). "
            "Leave out for an account that signs in only by single sign-on.",
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give someone a desk account."""
    from mailroom.accounts.users import add_user

    password = _read_password(password_file)
    with command_services(config) as services:
        made = add_user(services, name, email, role, password, _actor())
    if as_json:
        print_json({"id": made.id, "email": made.email, "name": made.name, "role": made.role.value})
        return
    out().print(f"{made.email}: desk account added, role {made.role.value}")


@users_app.command("set")
def users_set(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="A new password (first line).")
    ] = None,
    deactivate: Annotated[bool, typer.Option(help="Stop them signing in (ends their sessions).")] = False,
    activate: Annotated[bool, typer.Option(help="Let a deactivated account sign in again.")] = False,
    unlock: Annotated[bool, typer.Option(help="Lift a lockout after failed sign-ins.")] = False,
    config: ConfigOption = None,
) -> None:
    """Change an account's role or password, lock it out or let it back in."""
    from mailroom.accounts.users import change_user

    if deactivate and activate:
        raise UserError("--activate or --deactivate, not both")
    active = False if deactivate else (True if activate else None)
    password = _read_password(password_file)
    with command_services(config) as services:
        changed = change_user(
            services,
            email,
            _actor(),
            role=role,
            password=password,
            active=active,
            unlock=unlock,
        )
    out().print(f"{changed.email}: updated (role {changed.role.value})")


@users_app.command("list")
def users_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every desk account, with its role and whether it is locked."""
    from mailroom.accounts.users import list_users
    from mailroom.views import iso

    with command_services(config) as services:
        now = services.clock.now()
        rows = [
            {
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "active": user.active,
                "locked": bool(user.locked_until and user.locked_until > now),
                "sso": bool(user.oidc_subject),
                "last_login_at": iso(user.last_login_at) if user.last_login_at else None,
            }
            for user in list_users(services)
        ]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Desk accounts", title_justify="left")
    for column in ("email", "name", "role", "state", "last sign-in"):
        table.add_column(column)
    for row in rows:
        state = "deactivated" if not row["active"] else ("locked" if row["locked"] else "active")
        add_row(table, row["email"], row["name"], row["role"], state, row["last_login_at"] or "never")
    out().print(table)


def web(
    host: Annotated[str | None, typer.Option(help="Listen on this address (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen on this port (default: web.port).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: web.workers).")] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the review desk (gunicorn). Put it behind your HTTPS proxy."""
    from mailroom.config import load_settings
    from mailroom.desk.serve import serve

    settings = load_settings(config)
    with command_services(config):
        pass  # the store exists and is migrated before any worker starts
    os.environ.setdefault("SERVER_SOFTWARE", "mailroom-web")
    serve(config, host or settings.web.host, port or settings.web.port, workers or settings.web.workers)
