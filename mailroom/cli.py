"""Command line: parses arguments, builds Services, calls one use case, prints.

Every command takes ``--config PATH`` (default ./mailroom.toml, else the
embedded defaults). Errors print one line to stderr and exit non-zero.

Start-up budget (DEVELOPERS.md: at most twice the floor of importing typer, rich
and pydantic): this module imports typer and the enumerations its arguments
name, nothing else. Each command imports the use cases it calls in its body, and
listings read through ``mailroom/store/reader.py`` without SQLAlchemy. The test
``tests/unit/test_startup_imports.py`` keeps it so.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mailroom.audit_cli import audit_app
from mailroom.cli_common import (
    ConfigOption,
    JsonOption,
    add_row,
    case_id,
    command_group,
    command_reader,
    command_services,
    err,
    error_line,
    out,
    print_json,
    quick_settings,
)
from mailroom.clock import LONDON
from mailroom.domain.case_steps import ClockEvent
from mailroom.domain.models import Channel
from mailroom.domain.regions import Region
from mailroom.errors import IntakeError, UserError
from mailroom.letters_cli import letters_app, rules_app, templates_app
from mailroom.records_cli import cases_call, cases_file, pack, sar
from mailroom.report_data_cli import cases_category, cases_ombudsman
from mailroom.report_docs_cli import (
    report_annual,
    report_check_template,
    report_quarterly,
    report_self_assessment,
)
from mailroom.report_tsm_cli import report_tsm
from mailroom.reports_cli import report_app
from mailroom.retention_cli import cases_hold, cases_release_hold, retention_app
from mailroom.status_cli import status
from mailroom.web_cli import users_app, web

if TYPE_CHECKING:
    from mailroom.ingest.source import MailSource
    from mailroom.services import Services
    from mailroom.worker import RunReport

app = command_group("Complaints back office (Housing Ombudsman Code).")
mail_app = command_group("Ingested mail.")
cases_app = command_group("Complaints.")
triage_app = command_group("Mail the rules could not place.")
quarantine_app = command_group("Mail that could not be ingested.")
calendar_app = command_group("Working days (docs/working-days.md).")
reminders_app = command_group("Reminders before Code deadlines lapse.")
staff_app = command_group("Officers and managers reminders go to.")
outbox_app = command_group("Outbound mail: letters, reminders, notices.")
GROUPS = {
    "mail": mail_app,
    "cases": cases_app,
    "triage": triage_app,
    "quarantine": quarantine_app,
    "calendar": calendar_app,
    "reminders": reminders_app,
    "staff": staff_app,
    "outbox": outbox_app,
    "letters": letters_app,
    "templates": templates_app,
    "rules": rules_app,
    "users": users_app,
    "retention": retention_app,
    "audit": audit_app,
    "report": report_app,
}
for _name, _group in GROUPS.items():
    app.add_typer(_group, name=_name)
app.command("web")(web)
app.command("pack")(pack)
app.command("sar")(sar)
app.command("status")(status)
cases_app.command("call")(cases_call)
cases_app.command("file")(cases_file)
cases_app.command("hold")(cases_hold)
cases_app.command("release-hold")(cases_release_hold)
cases_app.command("category")(cases_category)
cases_app.command("ombudsman")(cases_ombudsman)
report_app.command("tsm")(report_tsm)
report_app.command("annual")(report_annual)
report_app.command("self-assessment")(report_self_assessment)
report_app.command("quarterly")(report_quarterly)
report_app.command("check-template")(report_check_template)


def app_for(argv: list[str]) -> typer.Typer:
    """The app to run for these arguments. Typer turns every registered command into
    a click command on each call (signatures, type hints: a fifth of the start-up
    budget), so a command in a group gets a root holding only that group."""
    group = GROUPS.get(argv[0]) if argv else None
    if group is None:
        return app
    root = command_group(app.info.help)  # type: ignore[arg-type]
    root.add_typer(group, name=argv[0])
    return root


# The span the calendar is built for (mailroom/calendar_source.py).
calendar_first_year, calendar_last_year = 2020, 2040


def main() -> None:
    # Records are personal data: whatever this process creates is its owner's alone
    # (folders 0700, files 0600); docs/ingestion.md says how to grant a records group.
    os.umask(0o077)
    # MAILROOM_LOG_LEVEL=INFO shows the worker's progress lines (tests wait on them).
    level = os.environ.get("MAILROOM_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # mail-parser logs raw header text (names, addresses) at WARNING: personal
    # data does not belong in logs, and its defects are recorded per mail anyway.
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    try:
        app_for(sys.argv[1:2])()
    except UserError as exc:
        error_line(str(exc))
        sys.exit(exc.exit_code)


# -- run / ingest -----------------------------------------------------------------------


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="One pass over the sources, then exit.")] = False,
) -> None:
    """Read the configured mailbox(es): log, file and acknowledge every new mail."""
    from mailroom.config import ConfigError

    with command_services(config, create=True) as services:
        sources = services.sources()
        if not sources:
            raise ConfigError("no mail source configured: set imap.host or maildir.path")
        try:
            if once:
                _run_once_recorded(services, sources)
                return
            _serve(services, sources)
        finally:
            for source in sources:
                source.close()


@app.command()
def init(config: ConfigOption = None) -> None:
    """Create the database and storage of a new deployment (or bring them up to date)."""
    with command_services(config, create=True) as services:
        where = services.settings.database.url.partition("://")[0] or str(services.settings.database_url)
        root = services.storage.root
    out().print(f"ready: database {where}, storage {root}")


def _remind(services: Services) -> None:
    """After a `--once` pass: queue the reminders due, send the outbox. (Automatic
    acknowledgement drafts are the scheduler's `drafts` job, or `letters draft-pending`.)"""
    from mailroom import reminders
    from mailroom.bounces import link_bounces
    from mailroom.health import poll as health_poll

    link_bounces(services)  # undelivered letters: marked, noted on the case, officer told
    health_poll.sweep(services)  # reminders.sweep when enabled, recorded as the last sweep
    if reminders.enabled(services):
        reminders.alert_cases_without_clocks(services)
    health_poll.send_outbox(services)  # health alerts too; recorded as outbound:<transport>


def _run_once_recorded(services: Services, sources: list[MailSource]) -> None:
    """`run --once`: a pass over each source, each recorded in mailbox_health (alerts
    queued: mailroom/health/), then reminders and the outbox. A source that failed
    fails the command after the others are read and the outbox is sent."""
    from mailroom.health.poll import poll_sources

    report, failed = poll_sources(services, sources, lambda some: _run_with_progress(services, list(some)))
    _print_report(report)
    _remind(services)
    for _source, error in failed[1:]:
        error_line(str(error))
    if failed:
        raise failed[0][1]


def _serve(services: Services, sources: list[MailSource]) -> None:
    """Run the scheduled jobs (mailroom/scheduler.py) until SIGTERM/SIGINT.

    Only one `mailroom run` per database runs them; others stand by. A signal
    ends a wait at once and lets a running job finish."""
    import faulthandler
    import signal

    from mailroom.scheduler import build_scheduler

    scheduler = build_scheduler(services, sources, say=error_line)
    # `kill -USR1 <pid>` prints every thread's stack to stderr: how an operator
    # (or a test) sees where a run that will not stop is waiting.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    signal.signal(signal.SIGTERM, scheduler.stop.handle_signal)
    signal.signal(signal.SIGINT, scheduler.stop.handle_signal)
    scheduler.run()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Maildirs, folders of .eml files, or .eml files.")],
    config: ConfigOption = None,
) -> None:
    """Ingest mail from files (migrating an old mailbox, scanned post saved as .eml)."""
    from mailroom.ingest.maildir_source import MaildirSource

    for path in paths:
        if not path.exists():
            raise IntakeError(f"no such file or folder: {path}")
    source = MaildirSource(paths)
    with command_services(config, create=True) as services:
        _print_report(_run_with_progress(services, [source]))
        from mailroom.bounces import link_bounces

        link_bounces(services)
    for path, reason in source.errors:  # unreadable files: nothing recorded, so say so
        error_line(f"not ingested: {path}: {reason}")
    if source.errors:
        raise typer.Exit(1)


def _run_with_progress(services: Services, sources: list[MailSource]) -> RunReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mailroom.worker import run_once

    if not services.settings.worker.progress or not err().is_terminal:
        return run_once(services, sources)
    columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task("ingest", total=None)
        return run_once(services, sources, progress=lambda n: bar.advance(task, n))


def _print_report(report: RunReport) -> None:
    from rich.table import Table

    table = Table(title=f"{report.seen} mail(s) ingested", title_justify="left")
    for column in ("mail", "outcome", "complaint", "from", "subject", "reason"):
        table.add_column(column, overflow="fold")
    for item in report.logged:
        add_row(
            table,
            str(item.mail_id),
            item.outcome.value,
            item.complaint_id or "",
            item.sender,
            item.subject[:60],
            item.reason[:80],
        )
    out().print(table)
    if report.resighted:
        out().print(
            f"{report.resighted} mail(s) already recorded under an older UIDVALIDITY: not logged again"
        )


# -- mail ------------------------------------------------------------------------------------


@mail_app.command("list")
def mail_list(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    outcome: Annotated[str | None, typer.Option(help="Only this outcome.")] = None,
) -> None:
    """Every ingested mail and what became of it."""
    from mailroom.views import mail_view

    with command_reader(config) as reader:
        views = [mail_view(mail) for mail in reader.list_mails(outcome=outcome)]
    _print_mails(views, as_json, "Ingested mail")


def _print_mails(views: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        print_json(views)
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("id", "received", "outcome", "complaint", "from", "subject", "reason"):
        table.add_column(column, overflow="fold")
    for view in views:
        add_row(
            table,
            str(view["id"]),
            view["received_at"][:16],
            view["outcome"],
            view["complaint_id"] or "",
            view["from"] or "",
            view["subject"][:50],
            view["reason"][:70],
        )
    out().print(table)


# -- cases -----------------------------------------------------------------------------------


@cases_app.command("list")
def cases_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every complaint."""
    from mailroom.views import complaint_summary

    with command_reader(config) as reader:
        views = [complaint_summary(c) for c in reader.list_complaints()]
    if as_json:
        print_json(views)
        return
    from rich.table import Table

    table = Table(title="Complaints", title_justify="left")
    for column in ("id", "received", "stage", "status", "channel", "complainant", "subject", "flags"):
        table.add_column(column, overflow="fold")
    for v in views:
        add_row(
            table,
            v["id"],
            v["received_at"][:16],
            str(v["stage"]),
            v["status"],
            v["channel"],
            v["complainant"]["name"] or v["complainant"]["email"] or "",
            v["subject"][:50],
            ",".join(v["flags"]),
        )
    out().print(table)


@cases_app.command("show")
def cases_show(complaint_id: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """One complaint with its documents and audit trail."""
    from mailroom.case_detail import show_case

    with command_services(config) as services:
        view = show_case(services, case_id(complaint_id))
    if view is None:
        raise IntakeError(f"no complaint {complaint_id}")
    if as_json:
        print_json(view)
        return
    _print_case(view)


def _print_case(view: dict[str, Any]) -> None:
    """What an officer needs at a glance: who, what, who handles it, the Code clocks,
    then the documents and the audit trail."""
    from rich.table import Table

    from mailroom.adjustments import adjustment_lines
    from mailroom.reports.categories import category_line

    say = out().print
    say(f"{view['id']} stage {view['stage']} {view['status']} ({view['channel']})")
    if view.get("error"):
        err().print(f"error: {view['error']}", soft_wrap=True)
    if view.get("procedure"):
        procedure = view["procedure"]
        say(f"procedure: {procedure['state']}; next: {', '.join(procedure['allowed_next']) or 'nothing'}")
    say(f"received {view['received_at']}")
    say(f"{view['complainant']['name']} <{view['complainant']['email'] or '-'}>: {view['subject']}")
    contact = view["contact"]
    say(
        f"officer: {view['officer'] or 'team (unassigned)'}; letters by {contact['prefers']}"
        + (f" to {contact['postal_address']}" if contact["postal_address"] else "")
    )
    adjusted = adjustment_lines(contact)
    if adjusted:
        say("adjustments (3.1, 5.10): " + "; ".join(f"{label.lower()}: {value}" for label, value in adjusted))
    say(f"category: {category_line(view['category'])}")
    for party in view["parties"]:
        say(f"  party: {party['role']:14} {party['name']} <{party['email']}>")
    if view["deadlines"]:
        table = Table(title="Code clocks", title_justify="left")
        for column in ("clock", "para", "due", "state", "what"):
            table.add_column(column, overflow="fold")
        for d in view["deadlines"]:
            add_row(table, d["clock"], d["paragraph"], d["due"], d["state"], d["what"] or "")
        say(table)
    else:
        say("no Code clocks running")
    for document in view["documents"]:
        say(f"  {document['kind']:14} {document['path']}  sha256={document['sha256'][:16]}…")
    for event in view["events"]:
        say(f"  {event['at'][:19]} {event['kind']}: {event['detail']}")


@cases_app.command("new")
def cases_new(
    channel: Annotated[Channel, typer.Option(help="How the complaint was made.")],
    name: Annotated[str, typer.Option(help="Complainant's name.")],
    received: Annotated[
        str, typer.Option("--received", help="When it was received, UK time: 2026-11-20T14:05, or now.")
    ],
    subject: Annotated[str, typer.Option(help="One line saying what it is about.")],
    description: Annotated[str, typer.Option(help="The complaint in the resident's words, as noted.")] = "",
    email: Annotated[str, typer.Option(help="Complainant's email, if any.")] = "",
    document: Annotated[list[Path] | None, typer.Option(help="A scan or note to file (repeatable).")] = None,
    logged_by: Annotated[str, typer.Option(help="Who is logging it.")] = "",
    address: Annotated[str, typer.Option(help="Postal address, for letters by post.")] = "",
    prefers: Annotated[str, typer.Option(help="How they want letters: email or post.")] = "email",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Log a complaint made by phone, letter, in person or on social media."""
    from mailroom.other_channels import OtherChannelComplaint, log_complaint

    received_at = _parse_uk_time(received)
    with command_services(config) as services:
        request = OtherChannelComplaint(
            channel,
            received_at,
            name,
            email,
            subject,
            description,
            tuple(document or ()),
            logged_by,
            address,
            prefers,
        )
        complaint_id = log_complaint(services, request)
    if as_json:
        print_json({"id": complaint_id})
    else:
        out().print(f"logged {complaint_id}")


@cases_app.command("record")
def cases_record(
    complaint_id: str,
    event: Annotated[ClockEvent, typer.Argument(help="The step taken.")],
    at: Annotated[str, typer.Option("--at", help="When, UK time: 2026-11-20T14:05, or now.")],
    note: Annotated[str, typer.Option(help="Kept on the audit trail.")] = "",
    by: Annotated[str, typer.Option(help="Who is recording it.")] = "",
    until: Annotated[
        str | None, typer.Option(help="Extensions, remedies, actions: the date promised (2026-12-18).")
    ] = None,
    good_reason: Annotated[
        str, typer.Option(help="An extension beyond the Code's cap: the good reason (6.4, 6.15).")
    ] = "",
    what: Annotated[str, typer.Option(help="Remedies and actions: what will be done (7.3).")] = "",
    ref: Annotated[
        int | None, typer.Option(help="Completions: the event id of the promise (cases show --json).")
    ] = None,
    late_reason: Annotated[
        str, typer.Option(help="An extension recorded after the clock lapsed: why (the breach stays).")
    ] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a step that starts, moves or stops a Code clock (acknowledgement sent, ...).
    A step that does not fit the case's place in the procedure is refused, naming the
    steps allowed next."""
    from mailroom.case_events import EventDetails, record_event

    when = _parse_uk_time(at, "--at")
    promised = _parse_date(until, "--until") if until else None
    details = EventDetails(note, by, promised, good_reason, ref, what, late_reason=late_reason)
    with command_services(config) as services:
        event_id = record_event(services, case_id(complaint_id), event, when, details=details)
    if as_json:
        print_json({"complaint_id": case_id(complaint_id), "event_id": event_id, "event": event.value})
        return
    out().print(f"{case_id(complaint_id)}: {event.value} at {when.isoformat()} (event {event_id})")


@cases_app.command("correct")
def cases_correct(
    event_id: Annotated[
        int, typer.Argument(help="The wrong step's event id (cases show --json: events[].id).")
    ],
    reason: Annotated[str, typer.Option(help="Why the step was wrong (kept on the audit trail).")],
    by: Annotated[str, typer.Option(help="Who is correcting it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct a step recorded in error: both stay on the audit trail, and the wrong one
    stops counting for the clocks, the status and the stage."""
    from mailroom.case_events import CaseEventError, complaint_of_event, correct_event

    with command_services(config) as services:
        complaint_id = complaint_of_event(services, event_id)
        if complaint_id is None:
            raise CaseEventError(f"no step with event id {event_id} on any case")
        correction = correct_event(services, complaint_id, event_id, reason, by)
    if as_json:
        print_json({"complaint_id": complaint_id, "corrected": event_id, "event_id": correction})
        return
    out().print(f"{complaint_id}: event {event_id} corrected (event {correction})")


@cases_app.command("assign")
def cases_assign(
    complaint_id: str,
    officer: Annotated[str, typer.Argument(help="The officer's address (see `mailroom staff`).")],
    config: ConfigOption = None,
) -> None:
    """Assign a case to an officer: its reminders go to them (overdue ones also to their manager)."""
    from mailroom.staff import assign

    with command_services(config) as services:
        assign(services, case_id(complaint_id), officer)
    out().print(f"{case_id(complaint_id)}: assigned to {officer.lower()}")


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise IntakeError(f"{option}: not a date: {text!r} (use 2026-12-18)") from None


def _parse_uk_time(text: str, option: str = "--received") -> datetime:
    """A UK wall-clock time, or ``now`` (``uk_time.parse_uk_time``)."""
    from mailroom.clock import SystemClock
    from mailroom.uk_time import parse_uk_time

    return parse_uk_time(text, option, SystemClock().now)


@cases_app.command("contact")
def cases_contact(
    complaint_id: str,
    prefers: Annotated[str | None, typer.Option(help="How they want letters: email or post.")] = None,
    address: Annotated[str | None, typer.Option(help="Postal address, for letters by post.")] = None,
    letter_format: Annotated[
        str | None,
        typer.Option("--format", help="The format letters are issued in: standard or large-print."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(help="Interpreting or translation needs, as a note ('' clears it)."),
    ] = None,
    by: Annotated[str, typer.Option(help="Who is recording it.")] = "",
    config: ConfigOption = None,
) -> None:
    """Change how the complainant wants letters: post, large print, a language note
    (reasonable adjustments, 3.1; each change is recorded on the case, 5.10)."""
    from mailroom.adjustments import Adjustment, record_adjustment
    from mailroom.other_channels import set_contact

    reference = case_id(complaint_id)
    if prefers is None and address is None and letter_format is None and language is None:
        raise IntakeError("nothing to change: give --prefers, --address, --format or --language")
    with command_services(config) as services:
        if prefers is not None or address is not None:
            set_contact(services, reference, prefers, address, by)
        changed = []
        if letter_format is not None or language is not None:
            changed = record_adjustment(services, reference, Adjustment(letter_format, language), by)
    saved = "contact details saved" if prefers is not None or address is not None else ""
    recorded = f"adjustment recorded ({', '.join(c.replace('_', ' ') for c in changed)})" if changed else ""
    if letter_format is not None or language is not None:
        recorded = recorded or "adjustments unchanged"
    out().print(f"{reference}: " + "; ".join(part for part in (saved, recorded) if part))


@cases_app.command("edit")
def cases_edit(
    complaint_id: str,
    name: Annotated[str | None, typer.Option(help="The complainant's name, corrected.")] = None,
    email: Annotated[str | None, typer.Option(help="Their email address ('' for none).")] = None,
    address: Annotated[str | None, typer.Option(help="Their postal address.")] = None,
    by: Annotated[str, typer.Option(help="Who is correcting it.")] = "",
    config: ConfigOption = None,
) -> None:
    """Correct who complained: name, email, postal address (kept on the audit trail)."""
    from mailroom.parties import ComplainantEdit, edit_complainant

    with command_services(config) as services:
        changed = edit_complainant(services, case_id(complaint_id), ComplainantEdit(name, email, address), by)
    out().print(
        f"{case_id(complaint_id)}: " + (f"changed {', '.join(changed)}" if changed else "nothing to change")
    )


@cases_app.command("party-add")
def cases_party_add(
    complaint_id: str,
    email: Annotated[str, typer.Argument(help="Their address: mail from it may be threaded onto the case.")],
    role: Annotated[str, typer.Option(help="representative, mp, councillor or other.")],
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    by: Annotated[str, typer.Option(help="Who is adding them.")] = "",
    config: ConfigOption = None,
) -> None:
    """Add a party to a case (a representative, an MP or councillor acting for the resident)."""
    from mailroom.parties import add_party

    with command_services(config) as services:
        add_party(services, case_id(complaint_id), email, name, role, by)
    out().print(f"{case_id(complaint_id)}: {email.strip().lower()} added as {role}")


@cases_app.command("party-remove")
def cases_party_remove(
    complaint_id: str,
    email: Annotated[str, typer.Argument(help="The party's address.")],
    by: Annotated[str, typer.Option(help="Who is removing them.")] = "",
    config: ConfigOption = None,
) -> None:
    """Remove a party from a case: their mail quoting its reference goes to triage again."""
    from mailroom.parties import remove_party

    with command_services(config) as services:
        remove_party(services, case_id(complaint_id), email, by)
    out().print(f"{case_id(complaint_id)}: {email.strip().lower()} removed")


# -- deadlines and calendar ---------------------------------------------------------------


@app.command("deadlines")
def deadlines_list(
    officer: Annotated[str | None, typer.Option(help="Only cases assigned to this address.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Code clocks running on open complaints, soonest first, with their state."""
    from mailroom.clocks import open_deadlines
    from mailroom.views import deadline_view

    with command_services(config) as services, services.store.transaction() as repo:
        rows = [
            {"complaint_id": c.id, "officer": c.officer or None, **deadline_view(d)}
            for c, d in open_deadlines(services, repo, officer)
        ]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Open Code deadlines", title_justify="left")
    for column in ("complaint", "clock", "para", "due", "state"):
        table.add_column(column)
    for row in rows:
        add_row(table, row["complaint_id"], row["clock"], row["paragraph"], row["due"], row["state"])
    out().print(table)


@calendar_app.command("add-working-days")
def calendar_add_working_days(
    start: Annotated[str, typer.Argument(help="A date: 2026-12-23.")],
    days: Annotated[int, typer.Argument(help="Working days to add (0 or more).")],
    region: Annotated[
        Region | None, typer.Option(help="Whose bank holidays (default: calendar.region).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the date N working days after DATE, and nothing else."""
    from dataclasses import replace

    from mailroom.calendar_cache import cached_calendar
    from mailroom.domain.calendar import CalendarRangeError

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise IntakeError(f"DATE: not a date: {start!r} (use 2026-12-23)") from None
    if days < 0:
        raise IntakeError(f"N: must be 0 or more, not {days}")
    quick = quick_settings(config)
    choice = quick if region is None else replace(quick, region=region)
    try:
        result = cached_calendar(choice).add_working_days(first, days)
    except CalendarRangeError as exc:
        raise IntakeError(str(exc)) from None
    sys.stdout.write(result.isoformat() + "\n")


@calendar_app.command("check-govuk")
def calendar_check_govuk(
    path: Annotated[
        Path | None, typer.Argument(help="gov.uk bank-holidays.json (default: the configured file).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Compare the calendar's bank holidays with gov.uk's; one line per difference."""
    from mailroom.calendar_source import bank_holidays, govuk_differences, load_govuk
    from mailroom.config import load_settings

    settings = load_settings(config)
    source = path or settings.calendar.govuk_bank_holidays_file
    if source is None:
        raise IntakeError("no file: pass PATH or set calendar.govuk_bank_holidays_file")
    calendar = settings.calendar
    govuk = load_govuk(source)[calendar.region.value]
    years = range(calendar_first_year, calendar_last_year + 1)
    ours = bank_holidays(calendar.region, years)
    differences = govuk_differences(ours, govuk, date(years.start, 1, 1), date(years.stop - 1, 12, 31))
    for line in differences:
        sys.stdout.write(line + "\n")
    if differences:
        raise typer.Exit(1)
    sys.stdout.write(f"no differences for {calendar.region.value}\n")


# -- reminders ---------------------------------------------------------------------------


@reminders_app.command("preview")
def reminders_preview(
    on: Annotated[str, typer.Option("--date", help="The day to preview: 2026-11-20.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """What reminders would go out on DATE (at the start of the working-hours window)."""
    from mailroom import reminders

    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise IntakeError(f"--date: not a date: {on!r} (use 2026-11-20)") from None
    with command_services(config) as services:
        moment = datetime.combine(day, services.settings.reminders.window_start, tzinfo=LONDON)
        planned = reminders.preview(services, moment)
    rows: list[dict[str, Any]] = [
        {
            "complaint_id": p.complaint_id,
            "clock": p.deadline.clock,
            "due": p.deadline.due.isoformat(),
            "step": p.due.step,
            "escalate": p.due.escalate,
            "recipients": list(p.recipients),
            "digest_recipients": list(p.digest_recipients),
            "subject": reminders.subject(p),
        }
        for p in planned
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        out().print(
            f"{row['complaint_id']} {row['step']:10} → "
            f"{', '.join([*row['recipients'], *(a + ' (digest)' for a in row['digest_recipients'])])}: "
            f"{row['subject']}",
            markup=False,
        )


@reminders_app.command("send")
def reminders_send(config: ConfigOption = None) -> None:
    """Queue the reminders due now and send what the outbox holds."""
    from mailroom import reminders
    from mailroom.health import poll as health_poll

    with command_services(config) as services:
        swept = reminders.sweep(services)
        # As the scheduler sends: recorded as outbound:<transport>, alerts by the other
        # transport while this one fails (mailroom/health/poll.py).
        report = health_poll.send_outbox(services)
    queued = f"{swept.steps} step(s): {swept.mails} mail(s), {swept.digests} digest(s)"
    out().print(f"queued {queued}; sent {report.sent}, retrying {report.retried}, failed {report.failed}")


# -- outbox -----------------------------------------------------------------------------------


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None, typer.Option(help="Only this status: pending, sending, sent, failed or bounced.")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every outbound mail with its status: queued, sent, failed or bounced (and why)."""
    from rich.table import Table

    from mailroom.views import iso

    with command_reader(config) as reader:
        rows: list[dict[str, Any]] = [
            {
                "id": row.id,
                "created_at": iso(row.created_at),
                "status": row.status,
                "complaint_id": row.complaint_id,
                "to": row.recipients,
                "subject": row.subject,
                "attempts": row.attempts,
                "sent_at": iso(row.sent_at) if row.sent_at else None,
                "error": row.last_error or None,
            }
            for row in reader.list_outbox(status)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Outbox", title_justify="left")
    for column in ("id", "queued", "status", "complaint", "to", "subject", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (row["id"], row["created_at"][:16], row["status"], row["complaint_id"] or "", row["to"])
        add_row(table, *cells, row["subject"][:50], (row["error"] or "")[:70])
    out().print(table)


# -- staff ------------------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="Their work address.")],
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    manager: Annotated[str, typer.Option(help="Who is told when their deadlines lapse.")] = "",
    digest: Annotated[
        bool, typer.Option("--digest/--no-digest", help="One mail a sweep, not one per item.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add (or update) a staff member."""
    from mailroom.staff import save_member

    with command_services(config) as services:
        save_member(services, email, name, manager, digest)
    out().print(f"{email.lower()}: saved")


@staff_app.command("list")
def staff_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Staff members with their manager and digest choice."""
    with command_reader(config) as reader:
        rows = [
            {"email": m.email, "name": m.name, "manager": m.manager_email or None, "digest": m.digest}
            for m in reader.staff()
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        digest = " (digest)" if row["digest"] else ""
        out().print(f"{row['email']} {row['name']} manager={row['manager'] or '-'}{digest}")


# -- triage ----------------------------------------------------------------------------------


@triage_app.command("list")
def triage_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Open triage items, with the rule's reason."""
    from mailroom.views import mail_view

    with command_reader(config) as reader:
        views = [mail_view(mail) for mail in reader.list_mails(open_triage_only=True)]
    _print_mails(views, as_json, "Triage")


@triage_app.command("resolve")
def triage_resolve(
    mail_id: int,
    attach_to: Annotated[str | None, typer.Option("--attach-to", help="File it on this complaint.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Log it as a new complaint.")] = False,
    not_a_complaint: Annotated[
        bool, typer.Option("--not-a-complaint", help="File it, never answer it.")
    ] = False,
    add_party: Annotated[
        bool, typer.Option("--add-party", help="With --attach-to: sender may reply.")
    ] = False,
    note: Annotated[str, typer.Option(help="Why (kept on the audit trail).")] = "",
    config: ConfigOption = None,
) -> None:
    """Decide one triage item."""
    from mailroom.triage import Resolution, TriageError, resolve

    chosen = [
        r
        for r, on in (
            (Resolution.ATTACH, attach_to is not None),
            (Resolution.NEW, new),
            (Resolution.NOT_A_COMPLAINT, not_a_complaint),
        )
        if on
    ]
    if len(chosen) != 1:
        raise TriageError("choose exactly one of --attach-to ID, --new, --not-a-complaint")
    with command_services(config) as services:
        complaint_id = resolve(
            services, mail_id, chosen[0], case_id(attach_to) if attach_to else None, note, add_party
        )
    out().print(f"mail {mail_id}: {chosen[0].value}" + (f" → {complaint_id}" if complaint_id else ""))


# -- quarantine ------------------------------------------------------------------------------


@quarantine_app.command("list")
def quarantine_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Quarantined mail with the error that put it there."""
    from mailroom.views import mail_view

    with command_reader(config) as reader:
        views = [mail_view(mail) for mail in reader.list_mails(outcome="quarantined")]
    _print_mails(views, as_json, "Quarantine")


@quarantine_app.command("retry")
def quarantine_retry(
    mail_ids: Annotated[list[int] | None, typer.Argument(help="Mail ids (default: all quarantined).")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest quarantined mail again from its stored bytes."""
    from mailroom.quarantine import retry

    with command_services(config) as services:
        if not mail_ids:
            with services.store.transaction() as repo:
                mail_ids = [mail.id for mail in repo.list_mails(outcome="quarantined")]
        results = retry(services, mail_ids)
    if as_json:
        print_json([{"id": mail_id, "result": result} for mail_id, result in results.items()])
        return
    for mail_id, result in results.items():
        out().print(f"mail {mail_id}: {result}")
