"""`mailroom status`: is anything waiting for a person? (mailroom/health/status.py)

Exit status: 0 all well; 1 something needs a person (an open incident, a stale
source, a failed outbox mail, no scheduler leader while sources are configured);
2 the status could not be read (the database does not answer). A monitoring
system can run it as a check.

Start-up budget (DEVELOPERS.md): typer and cli_common only at module level.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from mailroom.cli_common import ConfigOption, JsonOption, add_row, command_services, out, print_json
from mailroom.errors import UserError

if TYPE_CHECKING:
    from mailroom.health.status import SourceState, Status


class StatusUnavailable(UserError):
    """The database did not answer: nothing is known, which is not "all well"."""

    exit_code = 2


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Each mail source and transport, the outbox backlog, the scheduler leader and the
    last reminder sweep; exits 1 when something needs a person."""
    from sqlalchemy.exc import DBAPIError

    from mailroom.health.status import gather

    try:
        with command_services(config) as services:
            found = gather(services)
    except DBAPIError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StatusUnavailable(f"status unavailable: the database did not answer: {first[:200]}") from None
    if as_json:
        print_json(found.as_json())
    else:
        _print(found)
    if found.needs_person:
        raise typer.Exit(1)


def _print(found: Status) -> None:
    from rich.table import Table

    console = out()
    for title, states in (("Mail sources", found.sources), ("Outbound transports", found.transports)):
        table = Table(title=title, title_justify="left")
        for column in ("name", "state", "last success", "failures", "last error", "at"):
            table.add_column(column, overflow="fold")
        for state in states:
            add_row(table, *_cells(state))
        if not states:
            add_row(table, "(none)", "", "", "", "", "")
        console.print(table)
    backlog = found.outbox
    oldest = ""
    if backlog.oldest_pending_at is not None:
        minutes = max(0, int((found.checked_at - backlog.oldest_pending_at).total_seconds() // 60))
        oldest = f", oldest pending {minutes} min"
    counts = f"{backlog.pending} pending, {backlog.sending} sending, {backlog.failed} failed"
    console.print(f"Outbox: {counts}{oldest}")
    leader = found.leader
    console.print(f"Scheduler leader: {'held' if leader.held else 'NONE'} ({leader.detail})")
    sweep = found.last_sweep
    line = f"Last reminder sweep: {_when(sweep.last_success_at) if sweep else 'never'}"
    if sweep is not None and sweep.consecutive_failures:
        line += f" (failing since {_when(sweep.last_error_at)}: {sweep.last_error})"
    console.print(line)
    if not found.alert_addresses:
        console.print("Alerts: no health.admin_addresses (nor reminders.manager_addresses): nobody is mailed")
    if found.problems:
        console.print("Needs a person:")
        for problem in found.problems:
            console.print(f"  - {problem}")
    else:
        console.print("All well.")


def _cells(state: SourceState) -> tuple[str, ...]:
    row = state.health
    if row is None:
        return (state.name, state.state, "", "", "", "")
    return (
        state.name,
        state.state,
        _when(row.last_success_at),
        str(row.consecutive_failures),
        row.last_error,
        _when(row.last_error_at) if row.last_error else "",
    )


def _when(value: datetime | None) -> str:
    from mailroom.clock import LONDON

    return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") if value else "never"
