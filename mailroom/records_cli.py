"""`mailroom pack`, `mailroom sar`, and the `cases call` / `cases file` commands that
add calls and documents to a case's record (docs/records.md). Registered on the
main app in ``mailroom/cli.py``; like every command module, only typer and
enumerations are imported here, the use cases inside each command."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from mailroom.cli_common import ConfigOption, JsonOption, case_id, command_services, out, print_json
from mailroom.errors import IntakeError
from mailroom.records.kinds import CallDirection, FiledCategory


def _staff_name(given: str) -> str:
    return given.strip() or f"cli:{getpass.getuser()}"


def pack(
    complaint: Annotated[str, typer.Argument(help="The complaint ID (or its printed reference).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for <id>-pack.pdf and <id>-pack.zip.", file_okay=False)
    ] = Path("."),
    by: Annotated[str, typer.Option(help="Who prepares the pack (printed on its cover).")] = "",
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Build the Ombudsman evidence pack of a complaint: one bundle PDF and a zip of
    every original with its manifest and audit trail."""
    from mailroom.records.pack import NoSuchCase, build_pack

    complaint_id = case_id(complaint)
    with command_services(config) as services:
        try:
            result = build_pack(services, complaint_id, out_dir, _staff_name(by), source="command line")
        except NoSuchCase:
            raise IntakeError(f"no complaint {complaint_id}") from None
    if as_json:
        print_json(
            {
                "complaint_id": result.complaint_id,
                "pdf": str(result.pdf),
                "zip": str(result.zip),
                "pdf_sha256": result.pdf_sha256,
                "pages": result.pages,
                "documents": result.documents,
                "listed_only": result.listed,
                "audit_chain_intact": result.chain_intact,
                "audit_chain": result.chain_line,
                "problems": list(result.problems),
            }
        )
    else:
        out().print(f"{result.pdf}: {result.pages} pages, {result.documents} documents")
        out().print(f"{result.zip}: originals, manifest.json, audit.jsonl ({result.listed} listed only)")
        out().print(f"bundle SHA-256 {result.pdf_sha256}")
        out().print(f"audit chain: {result.chain_line}")
        for problem in result.problems:
            out().print(f"warning: {problem}")
    if not result.chain_intact or result.problems:
        raise typer.Exit(1)


def cases_call(
    complaint: Annotated[str, typer.Argument(help="The complaint ID (or its printed reference).")],
    summary: Annotated[str, typer.Option(help="What was said (or --summary-file).")] = "",
    summary_file: Annotated[
        Path | None, typer.Option(help="A file holding the note of the call.", dir_okay=False)
    ] = None,
    at: Annotated[
        str, typer.Option(help="When the call took place (UK time, e.g. '2026-03-04 14:30').")
    ] = "",
    direction: Annotated[CallDirection, typer.Option(help="Who called whom.")] = CallDirection.INCOMING,
    party: Annotated[str, typer.Option("--with", help="Who the call was with.")] = "",
    by: Annotated[str, typer.Option(help="Who took the call.")] = "",
    config: ConfigOption = None,
) -> None:
    """Note a phone call on a case (section C of the evidence pack)."""
    from mailroom.records.case_files import CallNote, record_call
    from mailroom.uk_time import parse_uk_time

    text = summary
    if summary_file is not None:
        try:
            text = summary_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise IntakeError(f"{summary_file}: cannot read the note ({exc})") from None
    complaint_id = case_id(complaint)
    with command_services(config) as services:
        when: datetime = parse_uk_time(at or "now", "--at", services.clock.now)
        call = CallNote(at=when, direction=direction, party=party, summary=text, by=_staff_name(by))
        event_id = record_call(services, complaint_id, call)
    out().print(f"{complaint_id}: call noted (event {event_id})")


def cases_file(
    complaint: Annotated[str, typer.Argument(help="The complaint ID (or its printed reference).")],
    files: Annotated[list[Path], typer.Argument(help="The documents to file.", exists=True, dir_okay=False)],
    category: Annotated[
        FiledCategory, typer.Option("--as", help="What they are: where they go in the evidence pack.")
    ] = FiledCategory.REPORT,
    by: Annotated[str, typer.Option(help="Who files them.")] = "",
    config: ConfigOption = None,
) -> None:
    """File documents on a case: a tenancy agreement, a repairs report or survey, a
    note, Ombudsman correspondence, a policy relied on."""
    from mailroom.records.case_files import file_documents

    complaint_id = case_id(complaint)
    with command_services(config) as services:
        count = file_documents(services, complaint_id, list(files), category, _staff_name(by))
    out().print(f"{complaint_id}: {count} document(s) filed as {category.value}")


def sar(
    who: Annotated[str, typer.Argument(help="The person's email address, or their full name as recorded.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to create the export folder in.", file_okay=False)
    ] = Path("."),
    by: Annotated[str, typer.Option(help="Who prepares the export.")] = "",
    config: ConfigOption = None,
) -> None:
    """Subject access request: export every case and mail held about a person, in the
    evidence pack's format, with other people's data flagged for redaction review."""
    from mailroom.records.sar import NothingFound, subject_access_export

    with command_services(config) as services:
        try:
            result = subject_access_export(services, who, out_dir, _staff_name(by), source="command line")
        except NothingFound:
            raise IntakeError(f"nothing held about {who!r} (no case, party or mail matches)") from None
    out().print(f"{result.folder}: {len(result.cases)} case(s), {result.loose_mails} mail(s) on no case")
    out().print(f"{result.flagged} item(s) of other people's data flagged in sar.json: review before release")
