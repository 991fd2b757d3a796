"""Letters to complainants: drafted from a template, revised by staff, checked
against the Code, approved, then issued by email (PDF attached) or for post.

Lifecycle (docs/letters.md): ``draft`` renders the type's template with the case
facts and the fields staff give, checks the result and files it as revision 1;
``replace`` files staff's own edit (a DOCX saved from Word) as the next revision and
re-checks it; ``approve`` re-checks the current revision as of the moment of issue,
converts it to PDF with LibreOffice, files the PDF, queues the email through the
outbox (or marks the letter ``for_post`` when there is no email address) and records
the type's case event (``stage1_acknowledged``...) at that moment, so the Code clocks
move. One transaction per step; a failed approval leaves the draft approvable.

Files: ``<complaint-id>/letters/<draft-id>-<type>-r<revision>.docx`` and ``.pdf``, each
written whole under ``.staging`` and renamed into place before the database
refers to it. File names are fixed by draft and revision, so an attempt that fails
after filing is overwritten by the next one.

Complainant text is data only: it is substituted once, never re-templated, and the
checker does not take template-like markers inside it for leftover placeholders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mailroom.case_events import CaseEventError, ClockEvent, EventDetails, check_step_fits, record_event_in
from mailroom.clock import LONDON
from mailroom.config import Settings
from mailroom.deadline_store import compute, live_events
from mailroom.domain.ids import case_reference
from mailroom.filing import sha256_hex
from mailroom.letters.check import CaseFacts, CheckResult, check_letter, find_placeholders
from mailroom.letters.docx_text import DocxReadError, read_docx_text
from mailroom.letters.large_print import apply_letter_format
from mailroom.letters.pack import (
    LetterError,
    LetterPack,
    LetterSpec,
    landlord_policy,
    letter_pack,
    pack_path,
    sender,
)
from mailroom.letters.pdf import PdfError, convert_to_pdf
from mailroom.letters.record import stage1_handlers, store_issued
from mailroom.letters.render import LetterRenderer, TemplateError, clean_context, clean_text
from mailroom.letters.timeliness import apology_text, lateness
from mailroom.letters.types import DECISION_VALUES, FIELDS, FieldSpec, LetterType
from mailroom.letters.unknowns import printed_unknowns
from mailroom.outbound import enqueue
from mailroom.publishing import write_case_manifest
from mailroom.records.erased import erased_refusal
from mailroom.services import Services
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, Document, Letter

__all__ = [
    "DRAFT",
    "FOR_POST",
    "POSTED",
    "SENT",
    "STATUSES",
    "DraftResult",
    "FieldErrors",
    "IssueResult",
    "LetterDownload",
    "approve",
    "case_facts",
    "check_file",
    "download_filename",
    "draft",
    "draft_pending_acknowledgements",
    "field_errors",
    "letter_download",
    "letter_view",
    "list_letters",
    "long_date",
    "replace",
    "revise",
    "validate_fields",
]

log = logging.getLogger(__name__)

DRAFT, APPROVED, SENT, FOR_POST = "draft", "approved", "sent", "for_post"
POSTED = "posted"  # a for_post letter printed and put in the post (``mark_posted``)
STATUSES = (DRAFT, APPROVED, SENT, FOR_POST, POSTED)
LETTERS_FOLDER = "letters"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
# What an automatic acknowledgement draft leaves for staff to fill in: the checker
# reads it as a leftover placeholder, so the draft cannot be approved until it is done.
TO_COMPLETE = "TBC"
# Complaints given an automatic acknowledgement draft per call.
PENDING_BATCH = 200
# The scheduler's `drafts` job and `run --once` draft at most this many a run (~40 ms each).
DRAFTS_PER_RUN = 20
# Written on a case whose automatic acknowledgement draft failed; staff draft it by hand.
NOT_DRAFTED = "acknowledgement_not_drafted"

# One renderer per process: it caches each template's compiled form.
_RENDERER = LetterRenderer()


@dataclass(frozen=True)
class DraftResult:
    draft_id: int
    path: Path  # the DOCX of the current revision (absolute)
    check: CheckResult
    revision: int = 1


@dataclass(frozen=True)
class IssueResult:
    draft_id: int
    status: str  # SENT or FOR_POST
    pdf_path: Path  # absolute
    issued_at: datetime
    recipient: str  # the address emailed; "" for post
    outbox_id: int | None


def long_date(day: date) -> str:
    """How letters write a date: "Monday 23 November 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# -- fields -----------------------------------------------------------------------------


class FieldErrors(LetterError):
    """Fields that cannot be taken, every problem at once: ``errors`` maps each field
    path (``points``, ``points[0]``, ``points[0].outcome_sought``) to what is wrong with
    it, so a form can show each next to its input. The message stays one line: the
    first problem as ``field <path>: ...``, then how many more there are."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors: dict[str, str] = dict(errors or {})


class _Problems:
    """What is wrong with a set of fields, collected rather than raised one at a time,
    so that a form post gets every inline error in one round trip."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.lines: list[str] = []

    def add(self, path: str, message: str, line: str | None = None) -> None:
        # ``message`` is shown next to the input; ``line`` (default: the same) is the
        # wording the command line has always printed after ``field <path>: ``.
        if path in self.errors:
            return  # the first problem of a field is the one to fix first
        self.errors[path] = message
        self.lines.append(f"field {path}: {line or message}")

    def raise_any(self) -> None:
        if not self.lines:
            return
        message = self.lines[0]
        if len(self.lines) > 1:
            others = list(self.errors)[1:]
            named = ", ".join(" ".join(path.split()) for path in others[:5])  # one line, however named
            message += f" (and {len(others)} more: {named}{', ...' if len(others) > 5 else ''})"
        raise FieldErrors(message, self.errors)


# A value that failed validation: left out of the clean fields, its problem recorded.
_INVALID: Any = object()


def validate_fields(
    letter_type: LetterType, fields: Mapping[str, Any], exclusions: Iterable[str] = ()
) -> dict[str, Any]:
    """The fields of a draft, checked against ``FIELDS`` and normalised (dates as ISO
    text, text stripped of surrounding whitespace); empty optional fields are left out.
    Raises ``FieldErrors`` (a ``LetterError``) naming the first field in its message and
    every problem in ``errors``."""
    problems = _Problems()
    specs = {spec.name: spec for spec in FIELDS[letter_type]}
    for name in fields:
        if name not in specs:
            problems.add(
                str(name),
                f"not a field of {letter_type.value}",
                f"not a field of {letter_type.value} (fields: {', '.join(specs)})",
            )
    clean: dict[str, Any] = {}
    for name, spec in specs.items():
        value = _field_value(spec, fields.get(name), problems)
        if value is _INVALID:
            continue
        if _empty(value):
            if spec.required:
                problems.add(name, "required", f"required for {letter_type.value} ({spec.description})")
            continue
        clean[name] = value
    _check_choices(clean, list(exclusions), problems)
    problems.raise_any()
    return clean


def field_errors(
    letter_type: LetterType, fields: Mapping[str, Any], exclusions: Iterable[str] = ()
) -> dict[str, str]:
    """Every problem with ``fields`` as ``{field path: message}``; empty when they are fine."""
    try:
        validate_fields(letter_type, fields, exclusions)
    except FieldErrors as exc:
        return exc.errors
    return {}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list) and not value)


def _field_value(spec: FieldSpec, value: Any, problems: _Problems) -> Any:
    if value is None:
        return None
    if spec.type in ("text", "multiline"):
        if not isinstance(value, str):
            problems.add(spec.name, f"must be text, not {_kind(value)}")
            return _INVALID
        return value.strip()
    if spec.type == "date":
        return _iso_date(spec.name, value, problems)
    if spec.type == "bool":
        if not isinstance(value, bool):
            problems.add(spec.name, f"must be true or false, not {_kind(value)}")
            return _INVALID
        return value
    if not isinstance(value, list):
        problems.add(spec.name, f"must be a list, not {_kind(value)}")
        return _INVALID
    items = [_item(spec, index, item, problems) for index, item in enumerate(value)]
    return _INVALID if any(item is _INVALID for item in items) else items


def _item(spec: FieldSpec, index: int, item: Any, problems: _Problems) -> Any:
    where = f"{spec.name}[{index}]"
    if not spec.item_keys:
        if not isinstance(item, str) or not item.strip():
            problems.add(where, f"must be non-empty text, not {_kind(item)}")
            return _INVALID
        return item.strip()
    keys = ", ".join(spec.item_keys)
    if not isinstance(item, dict) or set(item) != set(spec.item_keys):
        found = ", ".join(map(str, item)) if isinstance(item, dict) else _kind(item)
        problems.add(where, f"must have exactly the keys {keys} (got {found or 'none'})")
        return _INVALID
    values = {}
    for key in spec.item_keys:
        if not isinstance(item[key], str):
            problems.add(f"{where}.{key}", f"must be text, not {_kind(item[key])}")
            return _INVALID
        values[key] = item[key].strip()
    return values


def _iso_date(name: str, value: Any, problems: _Problems) -> Any:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    problems.add(name, f"not a date: {_show(value)} (use 2026-12-18)")
    return _INVALID


_POINT_PARTS = {
    "summary": "what the resident is unhappy about",
    "outcome_sought": "the outcome the resident is looking for",
}


def _check_choices(fields: Mapping[str, Any], exclusions: Sequence[str], problems: _Problems) -> None:
    exclusion = fields.get("exclusion")
    if exclusion is not None and exclusion not in exclusions:
        problems.add(
            "exclusion",
            f"{exclusion!r} is not an exclusion of the rule pack (one of {', '.join(exclusions) or 'none'})",
        )
    points, decisions = fields.get("points"), fields.get("decisions")
    for index, point in enumerate(points or []):
        # 5.6: a point of the complaint definition with no wording or no outcome could
        # never pass the check (its binding finds nothing to look for); say so here,
        # next to the input, rather than as "'' is not in the letter".
        for key, what in _POINT_PARTS.items():
            if not point[key]:
                problems.add(f"points[{index}].{key}", f"empty; give {what} (5.6)")
    if points is not None and decisions is not None and len(points) != len(decisions):
        # 6.7 / 6.18: every point of the complaint definition is answered, checked
        # from the structure (decision i answers point i), not guessed from prose.
        problems.add(
            "decisions",
            f"{len(decisions)} decision(s) for {len(points)} point(s) of the complaint "
            "definition; give one decision per point, in the same order (6.7, 6.18)",
        )
    for index, decision in enumerate(decisions or []):
        if not decision["reasons"]:
            # 6.7 / 6.18: clear reasons for every decision; a blank would print as an
            # empty "The reasons for our decision:".
            problems.add(
                f"decisions[{index}].reasons",
                f"empty; give the reasons for the decision on "
                f"{decision['point'] or 'this point'!r} (6.7, 6.18)",
            )
        if decision["decision"] not in DECISION_VALUES:
            problems.add(
                f"decisions[{index}].decision",
                f"{decision['decision']!r} is not one of {', '.join(DECISION_VALUES)}",
            )


def _kind(value: Any) -> str:
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _show(value: Any) -> str:
    text = repr(value)
    return " ".join((text if len(text) <= 40 else text[:37] + "...").split())


def field_context(letter_type: LetterType, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as the template gets them: every field present (an empty optional
    one as None or []), dates written out ("Friday 4 December 2026")."""
    context: dict[str, Any] = {}
    for spec in FIELDS[letter_type]:
        value = fields.get(spec.name)
        if value is None:
            context[spec.name] = [] if spec.type == "list" else None
        elif spec.type == "date":
            context[spec.name] = long_date(date.fromisoformat(value))
        elif spec.type == "list" and spec.item_keys:
            context[spec.name] = [{k: _maybe_long(v) for k, v in item.items()} for item in value]
        else:
            context[spec.name] = value
    return context


def _maybe_long(text: str) -> str:
    """An ISO date given in a list item ("by_when": "2026-12-18") written out."""
    try:
        return long_date(date.fromisoformat(text)) if len(text) == 10 else text
    except ValueError:
        return text


# -- the case ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _CaseDates:
    received: date
    acknowledged: date | None
    response_due: date | None
    original_due: date | None
    extension_cap: date | None


def _stage(spec: LetterSpec, complaint: Complaint) -> int:
    return spec.stage or complaint.stage


def _case_dates(
    services: Services, repo: Repository, complaint: Complaint, spec: LetterSpec, now: datetime
) -> _CaseDates:
    """The dates a letter of ``spec`` issued at ``now`` states. A letter that starts
    its stage's response clock (an acknowledgement) gives the date that clock will
    have once the letter is issued; any other takes the running clock's."""
    stage = _stage(spec, complaint)
    received = complaint.received_at.astimezone(LONDON).date()
    clock = next((c for c in services.rule_pack.clocks if c.name == f"stage{stage}_response"), None)
    acknowledged = next(
        (e.at for e in live_events(repo, complaint.id) if e.kind == f"stage{stage}_acknowledged"), None
    )
    if clock is not None and spec.records_event is not None and clock.starts == spec.records_event.value:
        calendar, cutoff = services.calendar, services.settings.calendar.cutoff
        due = calendar.due_date(now, clock.working_days, cutoff)
        cap = calendar.add_working_days(due, clock.extension_cap) if clock.extension_cap else None
        return _CaseDates(received, now.astimezone(LONDON).date(), due, due, cap)
    running = next(
        (d for d in compute(services, repo, complaint, now) if clock and d.clock == clock.name), None
    )
    acknowledged_on = acknowledged.astimezone(LONDON).date() if acknowledged else None
    if running is None:
        return _CaseDates(received, acknowledged_on, None, None, None)
    return _CaseDates(received, acknowledged_on, running.due, running.due, running.extension_cap_date)


def case_facts(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    spec: LetterSpec,
    fields: Mapping[str, Any],
    now: datetime,
) -> CaseFacts:
    """What the case says, as of ``now``, for the checks that compare a letter with it."""
    dates = _case_dates(services, repo, complaint, spec, now)
    return CaseFacts(
        stage=complaint.stage,
        response_due=dates.response_due,
        extension_cap_date=dates.extension_cap,
        good_reason_recorded=bool(fields.get("good_reason")),
        today=now.astimezone(LONDON).date(),
        received=dates.received,
        acknowledged=dates.acknowledged,
        original_due=dates.original_due,
        stage1_handlers=stage1_handlers(repo, complaint.id),
        # A letter issued after its clock lapsed must apologise (letters/timeliness.py).
        **_late_facts(services, repo, complaint, spec, now),
    )


def _late_facts(
    services: Services, repo: Repository, complaint: Complaint, spec: LetterSpec, now: datetime
) -> dict[str, Any]:
    late = lateness(services, repo, complaint, spec, now)
    wording = apology_text(services.settings, late.due) if late.due is not None else ""
    return {"letter_due": late.due, "delay_apology": wording}


def exclusion_ids(settings: Settings, pack: LetterPack) -> list[str]:
    """The exclusions a refusal may rely on: the pack's (2.2's examples) and the
    landlord policy's own (2.2 lets a policy set out others; `rules check` flags
    those without a Code basis for review)."""
    policy = landlord_policy(settings)
    own = [e.id for e in policy.exclusions] if policy is not None else []
    return list(dict.fromkeys([*pack.exclusions, *own]))


def _contacts(services: Services | None, settings: Settings, pack: LetterPack) -> dict[str, Any]:
    """What the contact details a letter prints are compared with."""
    landlord, _ = sender(settings).context(1)
    return {"ombudsman": dict(pack.ombudsman), "landlord": landlord}


_TEMPLATE_MARKERS = frozenset({"{{", "}}", "{%", "%}"})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def data_values(complaint: Complaint | None, fields: Mapping[str, Any] | None = None) -> list[str]:
    """What the checker treats as data, not as leftover placeholders: the
    complainant's own text on the case, and each field value that holds no
    placeholder a person typed ("TBC", "[insert date]", "<<name>>"...).

    Template tags inside a value (``{{ 7*7 }}`` quoted from a resident) are data:
    values are substituted once and never re-templated, so a leftover tag can only
    come from the template itself. A value holding a typed placeholder is not taken
    as data at all, so the placeholder is found."""
    values: list[str] = []
    if complaint is not None:
        description = complaint.description
        values += [complaint.complainant_name, complaint.complainant_email, complaint.subject, description]
        values += description.splitlines()
    for value in _strings(dict(fields or {})):
        typed = [marker for marker in find_placeholders(value) if marker not in _TEMPLATE_MARKERS]
        if not typed and len(value.strip()) >= 4:
            values += [value, *value.splitlines()]
    return [clean_text(value) for value in values if value and value.strip()]


def _automatic(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    pack: LetterPack,
    spec: LetterSpec,
    now: datetime,
) -> dict[str, Any]:
    dates = _case_dates(services, repo, complaint, spec, now)
    stage = _stage(spec, complaint)
    landlord, signatory = sender(services.settings).context(stage)

    def written(day: date | None) -> str:
        return long_date(day) if day is not None else ""

    return {
        "reference": case_reference(complaint.id),
        "complaint_id": complaint.id,
        "letter_date": long_date(now.astimezone(LONDON).date()),
        "complainant_name": complaint.complainant_name,
        "complainant_address": complaint.postal_address,
        "landlord": landlord,
        "signatory": signatory,
        "ombudsman": dict(pack.ombudsman),
        "stage": stage,
        "received_date": written(dates.received),
        "acknowledged_date": written(dates.acknowledged),
        "response_due": written(dates.response_due),
        "original_due": written(dates.original_due),
        "extension_cap_date": written(dates.extension_cap),
        "delay_apology": lateness(services, repo, complaint, spec, now).apology,
    }


# -- rendering, checking, filing -----------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    docx: bytes
    context_json: str
    check: CheckResult


def _render(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    pack: LetterPack,
    spec: LetterSpec,
    fields: Mapping[str, Any],
    now: datetime,
) -> _Rendered:
    context = clean_context(
        {**_automatic(services, repo, complaint, pack, spec, now), **field_context(spec.type, fields)}
    )
    try:
        docx = _RENDERER.render(spec.template, context)
        docx = apply_letter_format(docx, complaint.letter_format)  # large print by style
        unknown = printed_unknowns(lambda probe: _RENDERER.render(spec.template, probe), context)
    except TemplateError as exc:
        raise LetterError(f"{spec.type.value}: {exc}") from None
    if unknown:
        raise _unknown(spec, complaint, unknown)
    check = _check(services, repo, complaint, spec, fields, docx, now)
    return _Rendered(docx, _json(context), check)


_UNKNOWN_WHAT = {
    "acknowledged_date": "the date stage {stage} was acknowledged",
    "response_due": "the stage {stage} response date",
    "original_due": "the stage {stage} response date",
    "extension_cap_date": "the latest date the stage {stage} response may be extended to",
}


def _unknown(spec: LetterSpec, complaint: Complaint, paths: Sequence[str]) -> LetterError:
    """One line: what the letter would print blank, and the step that makes it known."""
    stage = _stage(spec, complaint)
    first = paths[0]
    if first in _UNKNOWN_WHAT:
        what = _UNKNOWN_WHAT[first].format(stage=stage)
        step = (
            f"record the stage {stage} acknowledgement first (approve its acknowledgement letter, or "
            f"`mailroom cases record {complaint.id} stage{stage}_acknowledged --at ...`)"
        )
    else:
        what = f"the {first.replace('.', ' ')}"
        step = f"set {first} in the landlord policy (policy.landlord_file) first"
    more = f" (and {len(paths) - 1} more: {', '.join(paths[1:])})" if len(paths) > 1 else ""
    return LetterError(
        f"{spec.type.value} not drafted: the letter prints {what}, which is not known yet{more}; {step}"
    )


def _check(
    services: Services,
    repo: Repository,
    complaint: Complaint,
    spec: LetterSpec,
    fields: Mapping[str, Any],
    docx: bytes,
    now: datetime,
) -> CheckResult:
    try:
        text = read_docx_text(docx)
    except DocxReadError as exc:
        raise LetterError(str(exc)) from None
    return check_letter(
        text,
        spec.elements,
        case_facts(services, repo, complaint, spec, fields, now),
        data_values=data_values(complaint, fields),
        draft_fields=field_context(spec.type, fields),
        **_contacts(services, services.settings, letter_pack(services.settings)),
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _file(
    services: Services, repo: Repository, letter: Letter, data: bytes, suffix: str, content_type: str
) -> Document:
    """Write one revision's DOCX or PDF under the case's letters folder (whole, then
    renamed into place, then made durable) and return its documents row."""
    name = f"{letter.id}-{letter.letter_type}-r{letter.revision}{suffix}"
    relative = f"{letter.complaint_id}/{LETTERS_FOLDER}/{name}"
    token = f"letter{letter.id}r{letter.revision}{uuid.uuid4().hex[:12]}"
    kind = "letter_pdf" if suffix == ".pdf" else "letter_docx"
    filed = services.storage.stage_file(token, name, data, kind, content_type)
    services.storage.publish(token, relative)
    services.storage.sync()
    document = Document(
        complaint_id=letter.complaint_id,
        mail_id=None,
        kind=kind,
        path=relative,
        sha256=filed.sha256,
        size=filed.size,
        original_name=name,
        content_type=content_type,
    )
    repo.add_documents([document])
    return document


def _outcome(check: CheckResult) -> str:
    failures = check.failures()
    if not failures:
        return "check passed"
    return "check fails: " + ", ".join(f"{f.id} ({f.paragraph})" if f.paragraph else f.id for f in failures)


def _absolute(services: Services, relative: str) -> Path:
    return services.storage.resolve(relative)


def _finish(services: Services, complaint_id: str) -> None:
    """The case manifest, rewritten after a letter file was added."""
    with services.store.transaction() as repo:
        write_case_manifest(services, repo, complaint_id)
    services.storage.sync()


# -- draft ------------------------------------------------------------------------------


def _letter_type(value: LetterType | str) -> LetterType:
    try:
        return LetterType(value)
    except ValueError:
        known = ", ".join(t.value for t in LetterType)
        raise LetterError(f"unknown letter type {value!r} (one of {known})") from None


def _complaint(repo: Repository, complaint_id: str) -> Complaint:
    complaint = repo.get_complaint(complaint_id)
    if complaint is None:
        raise LetterError(f"no complaint {complaint_id}")
    erased = erased_refusal(complaint)
    if erased is not None:
        raise LetterError(erased)
    return complaint


def draft(
    services: Services, complaint_id: str, letter_type: LetterType | str, fields: Mapping[str, Any]
) -> DraftResult:
    """Draft a letter of ``letter_type`` on the case with ``fields``: rendered,
    checked and filed as revision 1 (whether or not the check passes)."""
    kind = _letter_type(letter_type)
    pack = letter_pack(services.settings)
    spec = pack.letter(kind)
    clean = validate_fields(kind, fields, exclusion_ids(services.settings, pack))
    now = services.clock.now()
    with services.store.transaction() as repo:
        complaint = _complaint(repo, complaint_id)
        rendered = _render(services, repo, complaint, pack, spec, clean, now)
        letter = Letter(
            complaint_id=complaint.id,
            letter_type=kind.value,
            status=DRAFT,
            revision=1,
            edited=False,
            fields_json=_json(clean),
            context_json=rendered.context_json,
            docx_path="",
            docx_sha256="",
            check_json=_json(rendered.check.to_json()),
            created_at=now,
            approved_by="",
            pdf_path="",
            pdf_sha256="",
            message_id="",
        )
        repo.add_letter(letter)
        document = _file(services, repo, letter, rendered.docx, ".docx", DOCX_TYPE)
        letter.docx_path, letter.docx_sha256 = document.path, document.sha256
        repo.add_event(
            now,
            "letter_drafted",
            f"{spec.title} (letter {letter.id}, revision 1) drafted: {_outcome(rendered.check)}",
            complaint_id=complaint.id,
        )
    _finish(services, complaint.id)
    return DraftResult(letter.id, _absolute(services, letter.docx_path), rendered.check, 1)


def draft_pending_acknowledgements(services: Services, limit: int = PENDING_BATCH) -> int:
    """Draft a stage 1 acknowledgement for each open stage 1 complaint that has none
    (and has not been acknowledged some other way); returns how many were drafted.

    The complaint definition is prefilled from the complaint's subject and the rest
    left as ``TBC``, so the check fails until staff complete it. One query when
    there is nothing to do. The worker calls this on its scheduled pass, ``limit``
    at a time. A case whose draft fails is marked ``acknowledgement_not_drafted``
    (with the reason) and not tried again, so it never holds up the others."""
    kind = LetterType.STAGE1_ACKNOWLEDGEMENT
    if kind not in letter_pack(services.settings).letters:
        return 0
    marker = drafting_marker(services)
    with services.store.transaction() as repo:
        # A case whose draft failed is tried again once the pack, a template or the
        # landlord policy changed: the failure is marked with what drafting used.
        pending = repo.cases_without_letter(
            kind.value, 1, (ClockEvent.STAGE1_ACKNOWLEDGED.value,), limit, (NOT_DRAFTED, marker)
        )
        subjects = {complaint_id: _complaint(repo, complaint_id).subject for complaint_id in pending}
    drafted = 0
    for complaint_id, subject in subjects.items():
        fields = {
            "points": [{"summary": subject.strip() or TO_COMPLETE, "outcome_sought": TO_COMPLETE}],
            "responsible_for": [TO_COMPLETE],
        }
        try:
            draft(services, complaint_id, kind, fields)
        except Exception as exc:  # one case's problem (its dates, a template) never stops the pass
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            log.warning("%s: no acknowledgement drafted: %s", complaint_id, reason)
            with services.store.transaction() as repo:
                repo.add_event_returning_id(services.clock.now(), NOT_DRAFTED, reason, complaint_id, marker)
            continue
        drafted += 1
    return drafted


def drafting_marker(services: Services) -> str:
    """What automatic drafting used, as an event payload: a SHA-256 of the pack, every
    template it names and the landlord policy. A change to any gives a new marker."""
    settings = services.settings
    digest = hashlib.sha256()
    paths = [pack_path(settings), *(spec.template for spec in letter_pack(settings).letters.values())]
    if settings.policy.landlord_file is not None:
        paths.append(settings.policy.landlord_file)
    for path in sorted(set(paths)):
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            digest.update(f"unreadable: {exc.strerror}".encode())
    return json.dumps({"drafting_inputs": digest.hexdigest()})


@dataclass(frozen=True)
class FailedDraft:
    complaint_id: str
    at: datetime
    reason: str
    retried_next_pass: bool  # the pack, a template or the policy changed since


def failed_drafts(services: Services) -> list[FailedDraft]:
    """Open stage 1 cases whose automatic acknowledgement failed and that still have
    none, with the latest reason; oldest failure first."""
    marker = drafting_marker(services)
    latest: dict[str, Any] = {}
    with services.store.transaction() as repo:
        for event in repo.events_of_kind(NOT_DRAFTED):
            latest[str(event.complaint_id)] = event
        waiting = set(
            repo.cases_without_letter(
                LetterType.STAGE1_ACKNOWLEDGEMENT.value, 1, (ClockEvent.STAGE1_ACKNOWLEDGED.value,), 100_000
            )
        )
    return sorted(
        (
            FailedDraft(complaint_id, event.at, event.detail, event.payload != marker)
            for complaint_id, event in latest.items()
            if complaint_id in waiting
        ),
        key=lambda failed: failed.at,
    )


# -- replace ----------------------------------------------------------------------------


def _open_draft(repo: Repository, draft_id: int) -> Letter:
    letter = repo.get_letter(draft_id, for_update=True)
    if letter is None:
        raise LetterError(f"no letter {draft_id}")
    if letter.status != DRAFT:
        raise LetterError(f"letter {draft_id} is {letter.status.replace('_', ' ')}, no longer a draft")
    return letter


def _read_docx(source: Path | bytes) -> bytes:
    label = "<bytes>" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise LetterError(f"{label}: cannot read: {exc.strerror}") from None
    try:
        read_docx_text(data)
    except DocxReadError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise LetterError(f"{label}: {reason}; save the letter from Word as a .docx") from None
    return data


def replace(services: Services, draft_id: int, docx_file: Path | bytes, by: str = "") -> DraftResult:
    """File staff's edited DOCX as the draft's next revision, checked as of now."""
    data = _read_docx(docx_file)
    pack = letter_pack(services.settings)
    now = services.clock.now()
    with services.store.transaction() as repo:
        letter = _open_draft(repo, draft_id)
        spec = pack.letter(LetterType(letter.letter_type))
        complaint = _complaint(repo, letter.complaint_id)
        fields = json.loads(letter.fields_json)
        check = _check(services, repo, complaint, spec, fields, data, now)
        letter.revision += 1
        letter.edited = True
        document = _file(services, repo, letter, data, ".docx", DOCX_TYPE)
        letter.docx_path, letter.docx_sha256 = document.path, document.sha256
        letter.check_json = _json(check.to_json())
        who = f" by {by}" if by else ""
        repo.add_event(
            now,
            "letter_replaced",
            f"{spec.title} (letter {letter.id}) replaced{who} with revision {letter.revision}: "
            + _outcome(check),
            complaint_id=complaint.id,
        )
    _finish(services, complaint.id)
    return DraftResult(letter.id, _absolute(services, letter.docx_path), check, letter.revision)


def revise(
    services: Services,
    draft_id: int,
    fields: Mapping[str, Any],
    by: str,
    *,
    revision: int | None = None,
    discard_edits: bool = False,
) -> DraftResult:
    """Re-render a draft from edited fields as its next revision, checked as of now
    (the review desk's letter form; ``draft`` with the same letter row).

    The fields are validated as ``draft`` validates them: ``FieldErrors`` carries every
    problem by field path. The new revision is generated from fields, so ``edited``
    is False after it. ``revision`` is the revision the form was filled in from: a
    draft revised meanwhile by someone else is refused rather than overwritten.
    A draft whose current revision is a Word edit (``letters replace``) is refused
    unless ``discard_edits``: re-rendering would drop those edits from the letter
    (the edited revision stays filed either way)."""
    who = " ".join(by.split())
    if not who:
        raise LetterError(f"letter {draft_id}: say who is revising it")
    pack = letter_pack(services.settings)
    now = services.clock.now()
    with services.store.transaction() as repo:
        letter = _open_draft(repo, draft_id)
        if revision is not None and letter.revision != revision:
            raise LetterError(
                f"letter {draft_id} is at revision {letter.revision} now, not {revision}: "
                "someone revised it meanwhile; open it again"
            )
        if letter.edited and not discard_edits:
            raise LetterError(
                f"letter {draft_id} revision {letter.revision} was edited in Word; revising it from "
                "its fields would leave those edits out of the letter"
            )
        kind = LetterType(letter.letter_type)
        spec = pack.letter(kind)
        clean = validate_fields(kind, fields, exclusion_ids(services.settings, pack))
        complaint = _complaint(repo, letter.complaint_id)
        rendered = _render(services, repo, complaint, pack, spec, clean, now)
        dropped = f" (the Word edits of revision {letter.revision} left out)" if letter.edited else ""
        letter.revision += 1
        letter.edited = False
        letter.fields_json = _json(clean)
        document = _file(services, repo, letter, rendered.docx, ".docx", DOCX_TYPE)
        letter.docx_path, letter.docx_sha256 = document.path, document.sha256
        letter.context_json, letter.check_json = rendered.context_json, _json(rendered.check.to_json())
        repo.add_event(
            now,
            "letter_revised",
            f"{spec.title} (letter {letter.id}) revised from its fields by {who} as revision "
            f"{letter.revision}{dropped}: {_outcome(rendered.check)}",
            complaint_id=complaint.id,
        )
    _finish(services, complaint.id)
    return DraftResult(letter.id, _absolute(services, letter.docx_path), rendered.check, letter.revision)


@dataclass(frozen=True)
class LetterDownload:
    path: Path  # the DOCX of the current revision (absolute), its SHA-256 checked
    # What to offer the browser: ASCII, no path (CMP-2026-000123-K-stage1-acknowledgement-r2.docx).
    filename: str
    content_type: str
    sha256: str
    revision: int


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def download_filename(complaint_id: str, letter_type: str, revision: int, suffix: str = ".docx") -> str:
    """``CMP-2026-000123-K-stage1-acknowledgement-r2.docx``: the case reference, type and
    revision in ASCII letters, digits, ``_`` and ``-`` only (no dots but the suffix's), so
    no browser or file system reads anything into it (a configured ID prefix may hold
    other characters)."""
    stem = f"{case_reference(complaint_id)}-{letter_type}-r{revision}"
    stem = _UNSAFE_NAME.sub("-", stem).strip("-") or "letter"
    return stem[:150] + suffix


def letter_download(services: Services, draft_id: int) -> LetterDownload:
    """The current revision's DOCX of a letter (any status) to offer for download,
    refused if the file no longer matches what was filed."""
    with services.store.transaction() as repo:
        letter = repo.get_letter(draft_id)
        if letter is None:
            raise LetterError(f"no letter {draft_id}")
        relative, sha256 = letter.docx_path, letter.docx_sha256
        filename = download_filename(letter.complaint_id, letter.letter_type, letter.revision)
        current = letter.revision
    try:
        data = services.storage.read(relative)
    except OSError as exc:
        raise LetterError(f"letter {draft_id}: cannot read {relative}: {exc.strerror}") from None
    if sha256_hex(data) != sha256:
        raise LetterError(f"letter {draft_id}: {relative} has changed since it was filed")
    return LetterDownload(_absolute(services, relative), filename, DOCX_TYPE, sha256, current)


# -- approve ----------------------------------------------------------------------------


def _refresh(
    services: Services, repo: Repository, letter: Letter, pack: LetterPack, spec: LetterSpec, now: datetime
) -> bool:
    """Re-render a draft nobody edited when its case facts have moved on since (the
    letter date above all: a letter is dated the day it is issued). True if a new
    revision was filed."""
    if letter.edited:
        return False
    complaint = _complaint(repo, letter.complaint_id)
    fields = json.loads(letter.fields_json)
    rendered = _render(services, repo, complaint, pack, spec, fields, now)
    if rendered.context_json == letter.context_json:
        return False
    letter.revision += 1
    document = _file(services, repo, letter, rendered.docx, ".docx", DOCX_TYPE)
    letter.docx_path, letter.docx_sha256 = document.path, document.sha256
    letter.context_json, letter.check_json = rendered.context_json, _json(rendered.check.to_json())
    repo.add_event(
        now,
        "letter_drafted",
        f"{spec.title} (letter {letter.id}) re-rendered as revision {letter.revision} with the case "
        f"as of {long_date(now.astimezone(LONDON).date())}: {_outcome(rendered.check)}",
        complaint_id=complaint.id,
    )
    return True


def _refused(letter: Letter, check: CheckResult) -> LetterError:
    failures = "; ".join(
        f"{f.id}{f' ({f.paragraph})' if f.paragraph else ''}: {f.reason}" for f in check.failures()
    )
    return LetterError(f"letter {letter.id} cannot be approved: the check fails: {failures}")


@dataclass(frozen=True)
class _Approval:
    revision: int
    docx: Path
    complaint_id: str


def _require_landlord(settings: Settings, draft_id: int) -> None:
    """A letter goes out only from a landlord the resident can reach: a name, a
    phone number, and an email or postal address from the landlord policy."""
    policy = landlord_policy(settings)
    if policy is None:
        raise LetterError(
            f"letter {draft_id} cannot be approved: no landlord policy (policy.landlord_file), so the "
            "letter would come from the neutral 'Your landlord' with no contact details; set it "
            "(rules/policies/*.toml are examples) and check it with `mailroom rules check`"
        )
    landlord = policy.landlord
    missing = [
        what
        for what, given in (
            ("a name (landlord.name)", landlord.name.strip()),
            ("a phone number (landlord.phone)", landlord.phone.strip()),
            (
                "an email or postal address (landlord.email or landlord.address)",
                landlord.email or landlord.address,
            ),
        )
        if not given
    ]
    if missing:
        raise LetterError(
            f"letter {draft_id} cannot be approved: the landlord policy {policy.source} gives no "
            f"{' and no '.join(m.removeprefix('a ').removeprefix('an ') for m in missing)}, so the resident "
            "could not contact you about the letter; add them to the policy"
        )


def _prepare_approval(services: Services, draft_id: int, pack: LetterPack, now: datetime) -> _Approval:
    _require_landlord(services.settings, draft_id)
    refreshed = False
    with services.store.transaction() as repo:
        letter = _open_draft(repo, draft_id)
        spec = pack.letter(LetterType(letter.letter_type))
        refreshed = _refresh(services, repo, letter, pack, spec, now)
        complaint = _complaint(repo, letter.complaint_id)
        # Procedure (issue 8.1, owned by case_events): refuse a letter whose step does
        # not fit the case before converting anything, in the same one line.
        if spec.records_event is not None:
            try:
                check_step_fits(services, repo, complaint.id, spec.records_event.value, now)
            except CaseEventError as exc:
                raise LetterError(f"letter {draft_id} cannot be approved: {exc}") from None
        # End of the procedure check.
        data = services.storage.read(letter.docx_path)
        if sha256_hex(data) != letter.docx_sha256:
            raise LetterError(f"letter {draft_id}: {letter.docx_path} has changed since it was filed")
        check = _check(services, repo, complaint, spec, json.loads(letter.fields_json), data, now)
        if not check.passed:
            raise _refused(letter, check)
        approval = _Approval(letter.revision, _absolute(services, letter.docx_path), letter.complaint_id)
    if refreshed:
        _finish(services, approval.complaint_id)
    return approval


def approve(services: Services, draft_id: int, by: str = "", *, by_post: bool = False) -> IssueResult:
    """Approve and issue a draft: refused while its check (as of now) fails.
    ``by_post``: print and post it even though the case has an email address (the
    desk's "send by post", for a resident who asked for this one on paper)."""
    pack = letter_pack(services.settings)
    now = services.clock.now()
    approval = _prepare_approval(services, draft_id, pack, now)
    with tempfile.TemporaryDirectory(prefix="mailroom-letter-") as work:
        try:
            pdf = convert_to_pdf(approval.docx, work).read_bytes()
        except PdfError as exc:
            raise LetterError(f"letter {draft_id}: PDF conversion failed: {exc}") from None
    filed: list[str] = []
    try:
        with services.store.transaction() as repo:
            letter = _open_draft(repo, draft_id)
            if letter.revision != approval.revision:
                raise LetterError(f"letter {draft_id} was revised meanwhile; approve it again")
            spec = pack.letter(LetterType(letter.letter_type))
            complaint = _complaint(repo, letter.complaint_id)
            document = _file(services, repo, letter, pdf, ".pdf", PDF_TYPE)
            filed.append(document.path)
            recipient, outbox_id = _issue_filed(
                services, repo, letter, complaint, spec, document, pdf, now, by=by, by_post=by_post
            )
    except BaseException:
        # Not issued (refused, or the commit failed): the PDF filed for it must not stay
        # beside the issued letters looking like one. An evidence pack reads the rows,
        # never the folder, and marks any file a crash left there (docs/records.md).
        for path in filed:
            services.storage.remove_file(path)
        raise
    _finish(services, complaint.id)
    return IssueResult(
        letter.id, letter.status, _absolute(services, letter.pdf_path), now, recipient, outbox_id
    )


def _issue_filed(
    services: Services,
    repo: Repository,
    letter: Letter,
    complaint: Complaint,
    spec: LetterSpec,
    document: Document,
    pdf: bytes,
    now: datetime,
    *,
    by: str,
    by_post: bool,
) -> tuple[str, int | None]:
    letter.pdf_path, letter.pdf_sha256 = document.path, document.sha256
    _record(services, repo, letter, spec, now)
    # 5.12: what the letter told the resident, on the case; a response's remedies
    # and actions start their clocks (6.6, 7.3) here, in the same transaction.
    try:
        store_issued(services, repo, letter, _stage(spec, complaint), json.loads(letter.fields_json), now)
    except CaseEventError as exc:
        raise LetterError(f"letter {letter.id} cannot be issued: {exc}") from None
    letter.approved_at, letter.approved_by, letter.issued_at = now, by, now
    who = f" by {by}" if by else ""
    repo.add_event(
        now,
        "letter_approved",
        f"{spec.title} (letter {letter.id}, revision {letter.revision}) approved{who}",
        complaint_id=complaint.id,
    )
    return _issue(services, repo, letter, complaint, spec, pdf, now, by_post=by_post)


RETURNED = "letter_returned"


def return_for_changes(services: Services, letter_id: int, note: str, by: str) -> None:
    """A reviewer sends a draft back with what needs changing: an event on its case
    (the letter stays a draft). The letter's id is in the event's payload."""
    text = note.strip()
    if not text:
        raise LetterError("say what needs changing")
    with services.store.transaction() as repo:
        letter = _open_draft(repo, letter_id)
        detail = f"letter {letter.id} returned for changes by {by or 'a reviewer'}: {text[:2000]}"
        payload = json.dumps({"letter_id": letter.id})
        repo.add_event_returning_id(services.clock.now(), RETURNED, detail, letter.complaint_id, payload)


def last_return(services: Services, letter_id: int) -> str | None:
    """What the latest return for changes of this letter said, or None."""
    with services.store.transaction() as repo:
        letter = repo.get_letter(letter_id)
        if letter is None:
            return None
        events = [e for e in repo.events_of_case(letter.complaint_id) if e.kind == RETURNED and e.payload]
    mine = [e.detail for e in events if json.loads(e.payload).get("letter_id") == letter_id]
    return mine[-1] if mine else None


def mark_posted(services: Services, letter_id: int, by: str = "") -> None:
    """A letter waiting for the post has been printed and posted: it leaves the
    queue of letters to post, with an event on its case saying who and when. The
    letter was issued (and its clocks moved) when it was approved; this records
    only the posting."""
    now = services.clock.now()
    with services.store.transaction() as repo:
        letter = repo.get_letter(letter_id, for_update=True)
        if letter is None:
            raise LetterError(f"no letter {letter_id}")
        if letter.status != FOR_POST:
            state = letter.status.replace("_", " ")
            raise LetterError(f"letter {letter_id} is {state}, not waiting for the post")
        letter.status = POSTED
        who = f" by {by}" if by else ""
        text = f"letter {letter.id} posted{who}"
        repo.add_event(now, "letter_posted", text, complaint_id=letter.complaint_id)


def _record(services: Services, repo: Repository, letter: Letter, spec: LetterSpec, now: datetime) -> None:
    """The type's case event, at the moment of issue: the Code clocks move with it."""
    if spec.records_event is None:
        return
    fields = json.loads(letter.fields_json)
    details = EventDetails(note=f"letter {letter.id}")
    if "new_date" in fields:
        details = EventDetails(
            note=f"letter {letter.id}",
            until=date.fromisoformat(fields["new_date"]),
            good_reason=str(fields.get("good_reason", "")),
        )
    try:
        record_event_in(services, repo, letter.complaint_id, spec.records_event, now, details=details)
    except CaseEventError as exc:
        raise LetterError(f"letter {letter.id} cannot be issued: {exc}") from None


def _issue(
    services: Services,
    repo: Repository,
    letter: Letter,
    complaint: Complaint,
    spec: LetterSpec,
    pdf: bytes,
    now: datetime,
    *,
    by_post: bool = False,
) -> tuple[str, int | None]:
    """Email the PDF to the complainant through the outbox, or leave it for post."""
    address = complaint.complainant_email.strip()
    if by_post or not address or complaint.contact_preference == "post":
        letter.status = FOR_POST
        if by_post:
            why = "to be sent by post, as the approver chose"
        else:
            why = "the complainant asked for post" if address else "no email address on the case"
        repo.add_event(
            now,
            "letter_for_post",
            f"letter {letter.id}: {why}; print {letter.pdf_path} and post it",
            complaint_id=complaint.id,
        )
        return "", None
    reference = case_reference(complaint.id)
    sign = sender(services.settings)
    landlord, signatory = sign.context(_stage(spec, complaint))
    name = " ".join(clean_text(complaint.complainant_name).split()) or "resident"
    # The text/plain part carries the whole letter, read from the DOCX the PDF was
    # made from (plain_text.py): a resident who cannot open the PDF still has it.
    from mailroom.letters.plain_text import covering_note, letter_plain_text

    docx = services.storage.read(letter.docx_path)
    if sha256_hex(docx) != letter.docx_sha256:
        raise LetterError(f"letter {letter.id}: {letter.docx_path} has changed since it was filed")
    signature = (signatory["name"], signatory["role"], landlord["name"])
    body = covering_note(name, reference, spec.title, signature, letter_plain_text(docx))
    key = f"letter:{letter.id}"
    try:
        enqueue(
            repo,
            dedupe_key=key,
            sender=services.settings.smtp.sender or landlord["email"] or "mailroom@localhost",
            recipients=[address],
            subject=f"{spec.title}: your complaint {reference}",
            body_text=body,
            now=now,
            complaint_id=complaint.id,
            attachments=[(f"{reference} {spec.title}.pdf", PDF_TYPE, pdf)],
        )
    except ValueError as exc:
        raise LetterError(f"letter {letter.id}: cannot email {address!r}: {exc}") from None
    entry = repo.outbox_entry(key)
    letter.status = SENT
    letter.outbox_id, letter.message_id = (entry[0], entry[1]) if entry else (None, "")
    repo.add_event(
        now,
        "letter_sent",
        f"letter {letter.id}: emailed to {address} with the PDF attached (outbox {letter.outbox_id})",
        complaint_id=complaint.id,
    )
    return address, letter.outbox_id


# -- checking any DOCX -------------------------------------------------------------------


def check_file(
    services: Services | None,
    settings: Settings,
    path: Path,
    letter_type: LetterType | str,
    *,
    complaint_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> CheckResult:
    """Check a DOCX (a draft saved from Word, or any letter) as a letter of ``letter_type``.

    With ``complaint_id`` (which needs ``services``) the case checks run as of now and
    the complainant's text counts as data; with ``fields`` (the draft's fields) the
    elements that depend on them are decided; without them those are "not checked"."""
    kind = _letter_type(letter_type)
    pack = letter_pack(settings)
    spec = pack.letter(kind)
    data = _read_docx(path)
    clean = None if fields is None else validate_fields(kind, fields, exclusion_ids(settings, pack))
    contacts = _contacts(services, settings, pack)
    if complaint_id is None:
        return check_letter(
            read_docx_text(data),
            spec.elements,
            data_values=data_values(None, clean),
            draft_fields=None if clean is None else field_context(kind, clean),
            **contacts,
        )
    if services is None:
        raise LetterError("checking against a case needs the database")
    with services.store.transaction() as repo:
        complaint = _complaint(repo, complaint_id)
        facts = case_facts(services, repo, complaint, spec, clean or {}, services.clock.now())
        return check_letter(
            read_docx_text(data),
            spec.elements,
            facts,
            data_values=data_values(complaint, clean),
            draft_fields=None if clean is None else field_context(kind, clean),
            **contacts,
        )


# -- listing ----------------------------------------------------------------------------


def letter_view(letter: Letter) -> dict[str, Any]:
    """A letter as ``letters list --json`` shows it (paths relative to the storage root)."""
    check = json.loads(letter.check_json)
    return {
        "draft_id": letter.id,
        "complaint_id": letter.complaint_id,
        "type": letter.letter_type,
        "status": letter.status,
        "revision": letter.revision,
        "edited": letter.edited,
        "passed": bool(check.get("passed")),
        "failing": [
            e["id"] for e in check.get("elements", []) if e.get("status") == "fail" and e.get("enforced")
        ],
        "created_at": letter.created_at.isoformat(),
        "approved_at": letter.approved_at.isoformat() if letter.approved_at else None,
        "approved_by": letter.approved_by or None,
        "issued_at": letter.issued_at.isoformat() if letter.issued_at else None,
        "docx": {"path": letter.docx_path, "sha256": letter.docx_sha256},
        "pdf": {"path": letter.pdf_path, "sha256": letter.pdf_sha256} if letter.pdf_path else None,
        "outbox_id": letter.outbox_id,
        "message_id": letter.message_id or None,
    }


def list_letters(services: Services, complaint_id: str) -> list[dict[str, Any]]:
    with services.store.transaction() as repo:
        _complaint(repo, complaint_id)
        return [letter_view(letter) for letter in repo.letters_of_case(complaint_id)]
