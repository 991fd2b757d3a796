"""`mailroom cases category` and `mailroom cases ombudsman`: the facts of a case the
complaint reports count besides its clocks (docs/reports.md). Both functions are
registered under `cases` in ``mailroom/cli.py``; like every command module this one
imports typer and enumerations alone at module level, the use cases in each command."""

from __future__ import annotations

import enum
import getpass
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli_common import ConfigOption, JsonOption, case_id, command_services, out, print_json
from mailroom.errors import IntakeError

if TYPE_CHECKING:
    from mailroom.accounts.audit import Actor
    from mailroom.reports.categories import CaseCategory
    from mailroom.services import Services


class OmbudsmanStep(enum.StrEnum):
    REFERRED = "referred"  # the case went to the Housing Ombudsman
    DETERMINED = "determined"  # its determination: finding, orders, compensation
    COMPLIED = "complied"  # one of the determination's orders was complied with


def _actor(by: str) -> Actor:
    from mailroom.accounts.audit import Actor

    return Actor(by.strip() or f"cli:{getpass.getuser()}", "command line")


def cases_category(
    complaint: Annotated[str, typer.Argument(help="The complaint ID (or its printed reference).")],
    category: Annotated[
        str | None, typer.Argument(help="One of the landlord policy's categories (any case).")
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Make the suggested category the case's.")
    ] = False,
    by: Annotated[str, typer.Option(help="Who sets it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a case's complaint category (for the reports), or confirm the one suggested
    from its text (--confirm). Without either, show it, the suggestion and the choices."""
    from mailroom.reports.categories import case_category, confirm_suggestion, set_category

    complaint_id = case_id(complaint)
    if category is not None and confirm:
        raise IntakeError("name a category or --confirm the suggested one, not both")
    with command_services(config) as services:
        if category is not None:
            set_category(services, complaint_id, category, _actor(by))
        elif confirm:
            confirm_suggestion(services, complaint_id, _actor(by))
        state = case_category(services, complaint_id)
    if as_json:
        print_json(
            {
                "complaint_id": state.complaint_id,
                "category": state.category,
                "suggested": state.suggested,
                "by": state.by,
                "choices": list(state.choices),
            }
        )
        return
    _print_category(state, changed=category is not None or confirm)


def _print_category(state: CaseCategory, changed: bool) -> None:
    if changed:
        out().print(f"{state.complaint_id}: category {state.category} (by {state.by})")
        return
    current = f"{state.category} (by {state.by})" if state.category else "not set"
    out().print(f"{state.complaint_id}: category {current}; suggested {state.suggested or 'none'}")
    out().print("choices: " + ", ".join(state.choices))


def cases_ombudsman(
    complaint: Annotated[str, typer.Argument(help="The complaint ID (or its printed reference).")],
    step: Annotated[OmbudsmanStep, typer.Argument(help="What happened at the Housing Ombudsman.")],
    at: Annotated[str, typer.Option("--at", help="The date, UK: 2027-03-04, or today.")],
    ref: Annotated[str, typer.Option(help="referred: the Ombudsman's case reference.")] = "",
    finding: Annotated[
        str,
        typer.Option(
            help="determined: maladministration, severe maladministration, service failure, "
            "no maladministration, reasonable redress, outside jurisdiction or withdrawn."
        ),
    ] = "",
    order: Annotated[
        list[str] | None,
        typer.Option(
            help='determined: an order and its compliance date, "what:2027-04-30" (repeat for each); '
            "complied: the order's number (1 for the first)."
        ),
    ] = None,
    compensation: Annotated[
        str, typer.Option(help="determined: the compensation ordered, in pounds (250.00).")
    ] = "",
    by: Annotated[str, typer.Option(help="Who is recording it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a Housing Ombudsman case: the referral, the determination (finding, orders
    with their dates, compensation) and each order complied with."""
    complaint_id = case_id(complaint)
    on = _parse_day(at)
    orders = order or []
    _refuse_options_of_other_steps(step, ref, finding, orders, compensation)
    with command_services(config) as services:
        event_id, kind = _record(services, complaint_id, step, on, ref, finding, orders, compensation, by)
    if as_json:
        print_json({"complaint_id": complaint_id, "event_id": event_id, "event": kind})
        return
    out().print(f"{complaint_id}: {kind} on {on.isoformat()} (event {event_id})")


def _record(
    services: Services,
    complaint_id: str,
    step: OmbudsmanStep,
    on: date,
    ref: str,
    finding: str,
    orders: list[str],
    compensation: str,
    by: str,
) -> tuple[int, str]:
    from mailroom.reports import ombudsman

    if step is OmbudsmanStep.REFERRED:
        return ombudsman.referred(services, complaint_id, on, _actor(by), ref), ombudsman.REFERRED
    if step is OmbudsmanStep.DETERMINED:
        if not finding.strip():
            raise IntakeError("determined needs --finding (" + ", ".join(ombudsman.FINDINGS) + ")")
        parsed = [ombudsman.parse_order(text) for text in orders]
        pence = _parse_pounds(compensation) if compensation.strip() else 0
        event_id = ombudsman.determined(services, complaint_id, on, finding, _actor(by), parsed, pence)
        return event_id, ombudsman.DETERMINATION
    if len(orders) != 1 or not orders[0].strip().isdigit():
        raise IntakeError("complied needs --order N: the number of the order complied with (1 for the first)")
    number = int(orders[0].strip()[:6])
    return ombudsman.order_complied(services, complaint_id, number, on, _actor(by)), ombudsman.ORDER_COMPLIED


def _refuse_options_of_other_steps(
    step: OmbudsmanStep, ref: str, finding: str, orders: list[str], compensation: str
) -> None:
    given = {"--ref": bool(ref), "--finding": bool(finding), "--compensation": bool(compensation)}
    allowed = {
        OmbudsmanStep.REFERRED: {"--ref"},
        OmbudsmanStep.DETERMINED: {"--finding", "--compensation"},
        OmbudsmanStep.COMPLIED: set(),
    }[step]
    if step is OmbudsmanStep.REFERRED and orders:
        raise IntakeError("--order is for determined or complied, not referred")
    for option, present in given.items():
        if present and option not in allowed:
            raise IntakeError(f"{option} is not for {step.value}")


def _parse_day(text: str) -> date:
    if text.strip().lower() == "today":
        from mailroom.clock import LONDON, SystemClock

        return SystemClock().now().astimezone(LONDON).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise IntakeError(f"--at: not a date: {text[:40]!r} (use 2027-03-04)") from None


def _parse_pounds(text: str) -> int:
    from mailroom.reports.outcomes import parse_pounds

    try:
        return parse_pounds(text)
    except ValueError as exc:
        raise IntakeError(f"--compensation: {exc}") from None
