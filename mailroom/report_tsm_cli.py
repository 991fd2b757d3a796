"""`mailroom report tsm`: the Regulator's TSM CH01 and CH02 of a financial year,
with numerators, denominators and the rule applied (docs/reports.md). The lead
registers ``report_tsm`` on the `report` group in ``mailroom/cli.py``. Like every
command module, only typer is imported here; the use case inside the command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mailroom.cli_common import ConfigOption, JsonOption, command_services, out, print_json
from mailroom.errors import IntakeError


def report_tsm(
    year: Annotated[
        str, typer.Option("--year", help="The financial year, e.g. 2026-27 (1 April to 31 March).")
    ],
    as_json: JsonOption = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV: one row per measure (per complaint with --list).")
    ] = False,
    list_ids: Annotated[
        bool, typer.Option("--list", help="Also list the complaint IDs behind each figure.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """CH01 (complaints received per 1,000 homes) and CH02 (complaints responded to
    within the Code's timescales) for a year, each stage, with the rule applied."""
    from mailroom.reports.figures import tsm_report
    from mailroom.reports.periods import financial_year, parse_period
    from mailroom.reports.tsm_output import tsm_csv, tsm_json, tsm_lines

    if as_json and as_csv:
        raise IntakeError("--json and --csv: choose one")
    period = parse_period(year)
    if period.label != financial_year(period):
        raise IntakeError(f"--year {period.label}: TSMs are annual; give a financial year like 2026-27")
    with command_services(config) as services:
        report = tsm_report(services, period)
    if as_json:
        print_json(tsm_json(report, with_ids=list_ids))
    elif as_csv:
        sys.stdout.write(tsm_csv(report, with_ids=list_ids))
    else:
        for line in tsm_lines(report, with_ids=list_ids):
            out().print(line, soft_wrap=True)
