"""`mailroom report`: the complaint reports and the landlord's figures they use
(docs/reports.md). ``report_app`` is registered in ``mailroom/cli.py``; this module
holds `report homes`, and the report commands are added to the same group. Like every
command module, it imports typer alone at module level, the use cases in each command."""

from __future__ import annotations

import getpass
from typing import Annotated

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
from mailroom.errors import IntakeError

report_app = command_group("Complaint reports and the figures they use (docs/reports.md).")


@report_app.command("homes")
def report_homes(
    year: Annotated[str | None, typer.Option(help="The financial year, e.g. 2026-27.")] = None,
    homes: Annotated[
        int | None, typer.Option(help="The number of homes for the year (TSM CH01's denominator).")
    ] = None,
    by: Annotated[str, typer.Option(help="Who is recording it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the number of homes for a financial year (--year and --homes), or list
    the years recorded. Recording a year again replaces its figure."""
    from mailroom.accounts.audit import Actor
    from mailroom.reports.homes import recorded_homes, set_homes

    if homes is not None and year is None:
        raise IntakeError("--homes needs --year: the financial year it is for, e.g. 2026-27")
    with command_services(config) as services:
        if homes is not None and year is not None:
            who = by.strip() or f"cli:{getpass.getuser()}"
            previous = set_homes(services, year, homes, Actor(who, "command line"))
            if as_json:
                print_json({"year": year.strip(), "homes": homes, "previous": previous})
            else:
                was = f" (was {previous:,})" if previous is not None else ""
                out().print(f"{year.strip()}: {homes:,} homes{was}")
            return
        records = recorded_homes(services)
    if year is not None:
        from mailroom.reports.homes import financial_year

        wanted = financial_year(year)
        records = [record for record in records if record.year == wanted]
    if as_json:
        print_json(
            [
                {
                    "year": record.year,
                    "homes": record.homes,
                    "recorded_at": record.recorded_at.isoformat(),
                    "recorded_by": record.recorded_by,
                }
                for record in records
            ]
        )
        return
    if not records:
        out().print("no number of homes recorded" + (f" for {year.strip()}" if year else ""))
        return
    from rich.table import Table

    table = Table(title="Homes by financial year", title_justify="left")
    for column in ("year", "homes", "recorded", "by"):
        table.add_column(column)
    for record in records:
        add_row(
            table, record.year, f"{record.homes:,}", record.recorded_at.date().isoformat(), record.recorded_by
        )
    out().print(table)
