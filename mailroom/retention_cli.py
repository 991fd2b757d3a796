"""`mailroom retention` (plan, apply) and the legal hold commands `mailroom cases hold`
and `cases release-hold` (docs/records.md, "Retention"). ``retention_app`` and the
two hold functions are registered in ``mailroom/cli.py``; errors raised here are
``UserError``s that ``cli.main`` prints as one line.

Nothing is erased unless the plan was shown and confirmed at a terminal, or
``--yes`` was given: a script or a pipe without ``--yes`` is refused."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli_common import (
    ConfigOption,
    JsonOption,
    add_row,
    case_id,
    command_group,
    command_services,
    out,
    print_json,
)
from mailroom.errors import UserError

if TYPE_CHECKING:
    from mailroom.accounts.audit import Actor
    from mailroom.records.retention import ErasureReport, RetentionPlan

retention_app = command_group("Erase finished cases past their retention period (docs/records.md).")


class RetentionRefused(UserError):
    """``apply`` without ``--yes`` where nobody can confirm."""


def _actor() -> Actor:
    from mailroom.accounts.audit import Actor

    return Actor(f"cli:{getpass.getuser()}", "command line")


@retention_app.command("plan")
def retention_plan(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List the cases `retention apply` would erase and why, and those kept by a legal hold."""
    from mailroom.records.retention import plan_retention

    with command_services(config) as services:
        plan = plan_retention(services)
    if as_json:
        print_json(plan.to_json())
        return
    _print_plan(plan)


@retention_app.command("apply")
def retention_apply(
    yes: Annotated[
        bool, typer.Option("--yes", help="Erase without asking (for scripts; run `retention plan` first).")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase the personal data and files of the cases the plan lists (each checked again
    first), keeping their anonymised rows and a signed record of each erasure. Shows the
    plan and asks first, unless --yes."""
    from mailroom.records.retention import ErasureReport, apply_retention, plan_retention

    with command_services(config) as services:
        plan = plan_retention(services)
        if plan.empty:
            report = ErasureReport((), (), (), ())
        else:
            if not yes and not _confirmed(plan):
                out().print("nothing erased")
                return
            report = apply_retention(services, plan, _actor())
    if as_json:
        print_json(report.to_json())
    else:
        _print_report(report)
    if report.failed:
        raise typer.Exit(1)


def _confirmed(plan: RetentionPlan) -> bool:
    """Show the plan and ask; refused outright where nobody can answer."""
    if not sys.stdin.isatty():
        raise RetentionRefused(
            "retention apply: nothing erased; confirm at a terminal, or run `retention plan` "
            "and then `retention apply --yes`"
        )
    _print_plan(plan)
    question = f"Erase the personal data and files of {len(plan.items)} case(s)?"
    if not plan.items:
        question = f"Finish {len(plan.unfinished)} erasure(s) left half-done (remove their folders)?"
    return typer.confirm(question, default=False)


def cases_hold(
    complaint_id: str,
    reason: Annotated[
        str, typer.Option(help="Why the case must be kept (a claim, a disclosure request...).")
    ],
    config: ConfigOption = None,
) -> None:
    """Put a legal hold on a case: it is never erased while the hold is on."""
    from mailroom.records.legal_hold import set_hold

    with command_services(config) as services:
        set_hold(services, case_id(complaint_id), reason, _actor())
    out().print(f"{case_id(complaint_id)}: on legal hold")


def cases_release_hold(complaint_id: str, config: ConfigOption = None) -> None:
    """Release a case's legal hold: the retention rules apply to it again."""
    from mailroom.records.legal_hold import release_hold

    with command_services(config) as services:
        reason = release_hold(services, case_id(complaint_id), _actor())
    out().print(f"{case_id(complaint_id)}: legal hold released (it was: {reason})")


# -- output ------------------------------------------------------------------------------------


def _print_plan(plan: RetentionPlan) -> None:
    from rich.table import Table

    if plan.items:
        table = Table(
            title=f"To erase ({len(plan.items)}), as of {plan.today.isoformat()}", title_justify="left"
        )
        table.add_column("complaint", no_wrap=True)
        for column in ("rule", "closed", "erasable from", "files"):
            table.add_column(column)
        for item in plan.items:
            files = f"{item.files} ({_size(item.bytes)})"
            add_row(
                table,
                item.complaint_id,
                item.rule,
                item.closed_on.isoformat(),
                item.eligible_on.isoformat(),
                files,
            )
        out().print(table)
    else:
        out().print(f"no case to erase as of {plan.today.isoformat()}")
    if plan.held:
        table = Table(title=f"Kept by a legal hold ({len(plan.held)})", title_justify="left")
        table.add_column("complaint", no_wrap=True)
        for column in ("erasable from", "hold", "by", "since"):
            table.add_column(column)
        for held in plan.held:
            since = held.held_at.date().isoformat() if held.held_at else ""
            erasable = held.eligible_on.isoformat() if held.eligible_on else ""
            add_row(table, held.complaint_id, erasable, held.hold, held.held_by, since)
        out().print(table)
    if plan.blocked:
        table = Table(title=f"Not erased yet ({len(plan.blocked)})", title_justify="left")
        table.add_column("complaint", no_wrap=True)
        table.add_column("why")
        for blocked in plan.blocked:
            add_row(table, blocked.complaint_id, blocked.reason)
        out().print(table)
    for unfinished in plan.unfinished:
        out().print(
            f"{unfinished.complaint_id}: erasure {unfinished.erasure_id} still has "
            f"{len(unfinished.folders)} folder(s) to remove (apply finishes it)"
        )


def _print_report(report: ErasureReport) -> None:
    removed = {item.erasure_id: item for item in report.removed}
    for erased in report.erased:
        files = removed.get(erased.erasure_id)
        gone = f"; {files.files} file(s), {_size(files.bytes)} removed" if files else ""
        out().print(f"{erased.complaint_id}: erased (rule {erased.rule}, erasure {erased.erasure_id}){gone}")
    erased_ids = {erased.erasure_id for erased in report.erased}
    for files in report.removed:
        if files.erasure_id not in erased_ids:
            out().print(
                f"{files.complaint_id}: erasure {files.erasure_id} finished; {files.files} file(s) removed"
            )
    for skipped in report.skipped:
        out().print(f"{skipped.complaint_id}: not erased: {skipped.reason}")
    for failed in report.failed:
        out().print(f"{failed.complaint_id}: FILES NOT REMOVED: {failed.reason} (run apply again)")
    out().print(
        f"{len(report.erased)} case(s) erased" if report.erased or report.removed else "nothing to erase"
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"
