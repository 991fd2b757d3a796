"""`mailroom letters`, `mailroom templates` and `mailroom rules` (docs/letters.md,
docs/cli.md). Registered on the main app in ``mailroom/cli.py``; errors raised here
(``LetterError``, ``PolicyError``) are printed as one line by ``cli.main``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from mailroom.letters.types import FIELDS, LetterType

if TYPE_CHECKING:
    from mailroom.letters.check import CheckResult

letters_app = command_group("Letters to complainants (docs/letters.md).")
templates_app = command_group("The DOCX letter templates (docs/letters.md).")
rules_app = command_group("The rule pack and the landlord's own policy.")


def _letter_error(message: str) -> Exception:
    from mailroom.letters.pack import LetterError

    return LetterError(message)


TypeArgument = Annotated[LetterType, typer.Argument(help="The letter type (`letters fields TYPE`).")]


def _print_check(check: CheckResult, *, passes: bool = False) -> None:
    """One line per element that did not pass (every element with ``passes``)."""
    for element in check.elements:
        if element.status == "pass" and not passes:
            continue
        where = f" ({element.paragraph})" if element.paragraph else ""
        out().print(f"{element.status:<4}  {element.id}{where}: {element.reason}")
    failures = check.failures()
    if failures:
        out().print(f"check FAILED: {len(failures)} required element(s) missing or wrong")
    else:
        out().print("check passed")


# -- letters ------------------------------------------------------------------------------


@letters_app.command("fields")
def letters_fields(letter_type: TypeArgument, as_json: JsonOption = False) -> None:
    """The fields a draft of TYPE takes (the case facts are filled in automatically)."""
    specs = FIELDS[letter_type]
    if as_json:
        print_json(
            [
                {
                    "name": spec.name,
                    "type": spec.type,
                    "required": spec.required,
                    "description": spec.description,
                    "item_keys": list(spec.item_keys),
                }
                for spec in specs
            ]
        )
        return
    from rich.table import Table

    table = Table(title=f"Fields of {letter_type.value}", title_justify="left")
    for column in ("field", "type", "required", "description"):
        table.add_column(column)
    for spec in specs:
        kind = spec.type + (f" of {{{', '.join(spec.item_keys)}}}" if spec.item_keys else "")
        add_row(table, spec.name, kind, "yes" if spec.required else "", spec.description)
    out().print(table)


def _parse_field(letter_type: LetterType, assignment: str) -> tuple[str, Any]:
    name, equals, value = assignment.partition("=")
    name = name.strip()
    if not equals or not name:
        raise _letter_error(f"--field {assignment!r}: use NAME=VALUE")
    spec = next((s for s in FIELDS[letter_type] if s.name == name), None)
    if spec is None or spec.type not in ("list", "bool"):
        return name, value
    try:
        return name, json.loads(value)
    except json.JSONDecodeError as exc:
        example = '["a", "b"]' if spec.type == "list" else "true"
        raise _letter_error(f"--field {name}: not JSON ({exc.msg}); e.g. {name}='{example}'") from None


def _read_fields(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _letter_error(f"--fields {path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _letter_error(f"--fields {path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _letter_error(f"--fields {path}: must be a JSON object of field names and values")
    return data


def _gather_fields(
    letter_type: LetterType, fields_file: Path | None, field: list[str] | None
) -> dict[str, Any]:
    fields = _read_fields(fields_file)
    for assignment in field or []:
        name, value = _parse_field(letter_type, assignment)
        fields[name] = value
    return fields


FieldOption = Annotated[
    list[str] | None,
    typer.Option("--field", help="NAME=VALUE (repeatable); list fields take JSON: points='[...]'."),
]
FieldsFileOption = Annotated[Path | None, typer.Option("--fields", help="A JSON object of field values.")]


@letters_app.command("draft")
def letters_draft(
    complaint_id: str,
    letter_type: TypeArgument,
    field: FieldOption = None,
    fields_file: FieldsFileOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a letter on a case: rendered, checked and filed under the case."""
    from mailroom.letters.drafts import draft

    fields = _gather_fields(letter_type, fields_file, field)
    with command_services(config) as services:
        result = draft(services, case_id(complaint_id), letter_type, fields)
    if as_json:
        print_json({"draft_id": result.draft_id, "path": str(result.path), "check": result.check.to_json()})
        return
    out().print(f"letter {result.draft_id} drafted: {result.path}")
    _print_check(result.check)


@letters_app.command("check")
def letters_check(
    file: Annotated[Path, typer.Argument(help="The DOCX to check.")],
    letter_type: Annotated[LetterType, typer.Option("--type", help="The letter type it is.")],
    case: Annotated[
        str | None, typer.Option("--case", help="Check dates and stage against this complaint.")
    ] = None,
    fields_file: FieldsFileOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a letter for the elements the Code requires; exit 1 if a required one fails."""
    from mailroom.config import load_settings
    from mailroom.letters.drafts import check_file

    fields = _read_fields(fields_file) if fields_file is not None else None
    settings = load_settings(config)
    if case is None:
        check = check_file(None, settings, file, letter_type, fields=fields)
    else:
        with command_services(config) as services:
            check = check_file(
                services, settings, file, letter_type, complaint_id=case_id(case), fields=fields
            )
    if as_json:
        print_json(
            {"file": str(file), "type": letter_type.value, "case": case_id(case) if case else None}
            | check.to_json()
        )
    else:
        _print_check(check)
    if not check.passed:
        raise typer.Exit(1)


@letters_app.command("replace")
def letters_replace(
    draft_id: int,
    file: Annotated[Path, typer.Argument(help="The edited letter, saved from Word as .docx.")],
    by: Annotated[str, typer.Option(help="Who edited it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File staff's edited DOCX as the draft's next revision, and check it."""
    from mailroom.letters.drafts import replace

    with command_services(config) as services:
        result = replace(services, draft_id, file, by)
    if as_json:
        print_json(
            {
                "draft_id": result.draft_id,
                "revision": result.revision,
                "path": str(result.path),
                "check": result.check.to_json(),
            }
        )
        return
    out().print(f"letter {result.draft_id} revision {result.revision}: {result.path}")
    _print_check(result.check)


@letters_app.command("approve")
def letters_approve(
    draft_id: int,
    by: Annotated[str, typer.Option(help="Who approves it.")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve and issue a draft: PDF, email to the complainant (or post), case event."""
    from mailroom.letters.drafts import approve

    with command_services(config) as services:
        result = approve(services, draft_id, by)
    if as_json:
        print_json(
            {
                "draft_id": result.draft_id,
                "status": result.status,
                "pdf": str(result.pdf_path),
                "issued_at": result.issued_at.isoformat(),
                "recipient": result.recipient or None,
                "outbox_id": result.outbox_id,
            }
        )
        return
    if result.recipient:
        how = f"emailed to {result.recipient} (outbox {result.outbox_id})"
    else:
        how = "for post: print the PDF and send it"
    out().print(f"letter {result.draft_id} approved and issued, {how}: {result.pdf_path}")


@letters_app.command("posted")
def letters_posted(
    letter_id: int,
    by: Annotated[str, typer.Option(help="Who posted it.")] = "",
    config: ConfigOption = None,
) -> None:
    """A letter waiting for the post has been printed and posted (it leaves the queue)."""
    from mailroom.letters.drafts import mark_posted

    with command_services(config) as services:
        mark_posted(services, letter_id, by)
    out().print(f"letter {letter_id} posted")


@letters_app.command("draft-pending")
def letters_draft_pending(
    limit: Annotated[int, typer.Option(help="At most this many (about 40 ms each).", min=1)] = 200,
    config: ConfigOption = None,
) -> None:
    """Draft a stage 1 acknowledgement for each complaint logged without one (what the
    scheduler's `drafts` job does; for deployments that run `mailroom run --once` from cron)."""
    from mailroom.letters.drafts import draft_pending_acknowledgements

    with command_services(config) as services:
        drafted = draft_pending_acknowledgements(services, limit=limit)
    out().print(f"drafted {drafted} acknowledgement(s)")


@letters_app.command("failed")
def letters_failed(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Cases whose automatic acknowledgement could not be drafted, with the reason.
    They are tried again on the next pass once the pack, a template or the landlord
    policy changes; until then, draft them by hand (`letters draft`)."""
    from mailroom.letters.drafts import failed_drafts

    with command_services(config) as services:
        failed = failed_drafts(services)
    rows: list[dict[str, Any]] = [
        {
            "complaint_id": item.complaint_id,
            "at": item.at.isoformat(),
            "reason": item.reason,
            "retried_next_pass": item.retried_next_pass,
        }
        for item in failed
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        retry = "retried next pass" if row["retried_next_pass"] else "draft by hand, or fix and it is retried"
        out().print(f"{row['complaint_id']} {row['at'][:16]} {row['reason']} ({retry})")
    if not rows:
        out().print("no failed acknowledgement drafts")


@letters_app.command("list")
def letters_list(complaint_id: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The letters of a case, drafts and issued."""
    from mailroom.letters.drafts import list_letters

    with command_services(config) as services:
        rows = list_letters(services, case_id(complaint_id))
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"Letters of {case_id(complaint_id)}", title_justify="left")
    for column in ("id", "type", "status", "rev", "check", "issued"):
        table.add_column(column)
    for row in rows:
        check = "passed" if row["passed"] else "fails: " + ", ".join(row["failing"])
        add_row(
            table,
            str(row["draft_id"]),
            row["type"],
            row["status"],
            str(row["revision"]),
            check,
            row["issued_at"] or "",
        )
    out().print(table)


# -- templates ----------------------------------------------------------------------------


@templates_app.command("check")
def templates_check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Templates to check (default: the rule pack's nine).")
    ] = None,
    letter_type: Annotated[
        LetterType | None, typer.Option("--type", help="The letter type the given files are for.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check letter templates: broken or split tags, unknown variables, then a render with
    sample data for the letter type (a name it uses that no draft gives fails, quoting
    the paragraph). Exit 1 on any problem. Wording warnings (reading age above
    [letters] max_reading_age, a lead-in that repeats its field) never fail."""
    from mailroom.config import load_settings
    from mailroom.letters.pack import letter_pack
    from mailroom.letters.template_check import check_template, template_warnings

    settings = load_settings(config)
    targets: list[tuple[Path, LetterType | None]] = []
    if paths:
        known = {t.value: t for t in LetterType}
        targets = [(path, letter_type or known.get(path.stem)) for path in paths]
    else:
        pack = letter_pack(settings)
        targets = [(spec.template, kind) for kind, spec in pack.letters.items()]
    problems = [problem for path, kind in targets for problem in check_template(path, kind)]
    age = settings.letters.max_reading_age
    for warning in [line for path, kind in targets for line in template_warnings(path, kind, age)]:
        out().print(warning, soft_wrap=True)
    for problem in problems:
        out().print(problem, soft_wrap=True)
    if problems:
        out().print(f"{len(problems)} problem(s) in {len(targets)} template(s)")
        raise typer.Exit(1)
    out().print(f"{len(targets)} template(s) checked: no problems")


# -- rules --------------------------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise _letter_error(f"{what}: cannot read {path}: {reason}") from None


def _landlord_warnings(landlord: Mapping[str, str]) -> list[str]:
    return [
        f"landlord.{key} is not set: every letter prints it (contact details and letterhead)"
        for key in ("address", "phone", "email")
        if not landlord.get(key)
    ]


@rules_app.command("check")
def rules_check(
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Landlord policy (default: policy.landlord_file).")
    ] = None,
    pack: Annotated[
        Path | None,
        typer.Option("--pack", help="Rule pack (default: policy.rule_pack, else the bundled one)."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the landlord's policy against the Code: exit 1 on any conflict."""
    from mailroom.config import load_settings
    from mailroom.domain.policy import check_policy, load_pack_limits, parse_policy
    from mailroom.letters.pack import NEUTRAL_LANDLORD, load_letter_pack, pack_path

    settings = load_settings(config)
    pack_file = pack or pack_path(settings)
    pack_text = _read_text(pack_file, "--pack" if pack else "policy.rule_pack")
    limits = load_pack_limits(pack_text, str(pack_file))
    load_letter_pack(pack_text, str(pack_file), pack_file.parent)  # its letters must load too
    policy_file = policy or settings.policy.landlord_file
    findings, warnings = [], []
    if policy_file is None:
        warnings.append(
            "no landlord policy (policy.landlord_file): letters carry the neutral landlord "
            f"{NEUTRAL_LANDLORD.name!r} and no contact details; set it before any letter goes out"
        )
    else:
        parsed = parse_policy(
            _read_text(policy_file, "--policy" if policy else "policy.landlord_file"), str(policy_file)
        )
        findings = check_policy(limits, parsed)
        warnings += _landlord_warnings(asdict(parsed.landlord))
    conflicts = sum(1 for f in findings if f.severity == "conflict")
    if as_json:
        print_json(
            {
                "pack": str(pack_file),
                "policy": str(policy_file) if policy_file else None,
                "findings": [asdict(f) for f in findings],
                "warnings": warnings,
                "conflicts": conflicts,
                "reviews": len(findings) - conflicts,
            }
        )
    else:
        for finding in findings:
            out().print(finding.line(), soft_wrap=True)
        for warning in warnings:
            out().print(f"warning: {warning}", soft_wrap=True)
        reviews = len(findings) - conflicts
        out().print(f"{conflicts} conflict(s), {reviews} for review, against {limits.label}")
    if conflicts:
        raise typer.Exit(1)


__all__ = ["letters_app", "rules_app", "templates_app"]
