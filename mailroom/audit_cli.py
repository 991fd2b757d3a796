"""`mailroom audit`: the tamper-evident audit chain (docs/records.md, "Audit chain").
Registered on the main app in ``mailroom/cli.py``.

Exit status of `audit verify`: 0 intact, 1 broken (the first broken link printed as
one line), 2 a usage error (bad arguments, a case with nothing recorded)."""

from __future__ import annotations

from typing import Annotated

import typer

from mailroom.cli_common import ConfigOption, JsonOption, command_group, command_services, print_json

audit_app = command_group("The tamper-evident audit chain of the case records.")

CaseArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="[COMPLAINT_ID]",
        help="Compare only this case's rows and files (the whole chain's links are still walked).",
        show_default=False,
    ),
]
NoFilesOption = Annotated[
    bool, typer.Option("--no-files", help="Do not rehash the filed files (quicker; rows and links only).")
]


@audit_app.command("verify")
def verify(
    complaint: CaseArgument = None,
    no_files: NoFilesOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Verify the audit chain: its links, every chained row against its latest entry,
    and the filed files against their SHA-256. Prints the first broken link."""
    from mailroom.domain.ids import typed_complaint_id
    from mailroom.records.audit_chain import verify_chain
    from mailroom.terminal_text import visible

    complaint_id = None
    if complaint is not None:
        try:
            complaint_id = typed_complaint_id(complaint)
        except ValueError as exc:
            raise typer.BadParameter(visible(str(exc)), param_hint="COMPLAINT_ID") from None
    with command_services(config) as services:
        report = verify_chain(services, complaint_id, check_files=not no_files)
    if complaint_id is not None and report.ok and report.rows == 0:
        raise typer.BadParameter(f"nothing is recorded of {visible(complaint_id)}", param_hint="COMPLAINT_ID")
    if as_json:
        print_json(report.as_dict())
    else:
        # One line, never wrapped; text read from the database shown, never obeyed.
        typer.echo(visible(report.summary()))
    if not report.ok:
        raise typer.Exit(1)
