"""Letters on real cases (SQLite; the store parts on PostgreSQL too): drafts of the
nine types pass the check; each required element, deleted or left as a placeholder,
makes `letters check` fail naming it; staff rewording that keeps the elements
passes; the automatic acknowledgement draft; `letters fields`, `rules check` and
`templates check`; a template that reaches into Python is refused.

PDF conversion and email are in tests/acceptance/test_letter_approval.py."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from sqlalchemy import event
from typer.testing import CliRunner

from mailroom.case_events import ClockEvent, EventDetails, record_event
from mailroom.cli import app
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.filing import sha256_hex
from mailroom.letters.docx_text import normalise_text, read_docx_text
from mailroom.letters.drafts import (
    approve,
    draft,
    draft_pending_acknowledgements,
    list_letters,
    long_date,
    replace,
)
from mailroom.letters.pack import LetterError, letter_pack
from mailroom.letters.types import FIELDS, LetterType, field_names
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.rule_pack_source import BUNDLED_RULE_PACK
from mailroom.services import Services, build_services
from mailroom.store.schema import Letter
from tests.conftest import make_settings
from tests.support.letter_samples import TEMPLATES, sample_context
from tests.unit.test_policy_check import EXPECTED as POLICY_FINDINGS

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "rules" / "policies"
runner = CliRunner()


# -- cases at the right point for each letter -----------------------------------------------


def uk(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def log(
    services: Services,
    received: datetime,
    *,
    email: str = "aisha.patel@example.org",
    name: str = "Ms Aisha Patel",
    subject: str = "Leak from the flat above",
    description: str = "Water has been coming through my kitchen ceiling since August.",
) -> str:
    request = OtherChannelComplaint(Channel.PHONE, received, name, email, subject, description)
    return log_complaint(services, request)


def step(services: Services, complaint_id: str, event_: ClockEvent, at: datetime, **details: Any) -> None:
    record_event(services, complaint_id, event_, at, details=EventDetails(**details) if details else None)


def stage1_case(services: Services, *, acknowledged: bool) -> str:
    """Received Monday 16 November 2026; acknowledged Friday 20 November (response due
    Friday 4 December, extension cap Friday 18 December)."""
    complaint_id = log(services, uk(date(2026, 11, 16), 9))
    if acknowledged:
        step(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 20), 11))
    return complaint_id


ESCALATED = date(2026, 11, 16)


def stage2_case(services: Services, *, acknowledged: bool) -> str:
    """Stage 1 answered in September; stage 2 asked for on Monday 16 November 2026
    and, if ``acknowledged``, acknowledged on Friday 20 November."""
    complaint_id = log(services, uk(date(2026, 9, 1), 9))
    step(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 9, 3)))
    step(services, complaint_id, ClockEvent.STAGE1_RESPONDED, uk(date(2026, 9, 15)))
    step(services, complaint_id, ClockEvent.ESCALATION_REQUESTED, uk(ESCALATED))
    if acknowledged:
        step(services, complaint_id, ClockEvent.STAGE2_ACKNOWLEDGED, uk(date(2026, 11, 20), 11))
    return complaint_id


def case_for(services: Services, letter_type: LetterType) -> str:
    if letter_type in (LetterType.STAGE2_EXTENSION, LetterType.STAGE2_RESPONSE):
        return stage2_case(services, acknowledged=True)
    if letter_type in (LetterType.STAGE2_ACKNOWLEDGEMENT, LetterType.ESCALATION_REFUSAL):
        return stage2_case(services, acknowledged=False)
    acknowledged = letter_type not in (LetterType.STAGE1_ACKNOWLEDGEMENT, LetterType.REFUSAL)
    return stage1_case(services, acknowledged=acknowledged)


def _iso(written: str) -> str:
    return datetime.strptime(written, "%A %d %B %Y").date().isoformat()


def sample_fields(services: Services, letter_type: LetterType) -> dict[str, Any]:
    """The sample fields of ``letter_type`` (tests/support/letter_samples.py), dates as
    a member of staff types them (ISO), and fitting the cases above."""
    context = sample_context(letter_type)
    fields = {name: context[name] for name in field_names(letter_type)}
    for spec in FIELDS[letter_type]:
        if spec.type == "date" and fields.get(spec.name):
            fields[spec.name] = _iso(fields[spec.name])
    if "escalation_date" in fields:
        fields["escalation_date"] = ESCALATED.isoformat()
    if "new_date" in fields:  # five working days past the current due date: inside the cap
        due = {
            LetterType.STAGE1_EXTENSION: date(2026, 12, 4),
            LetterType.STAGE2_EXTENSION: services.calendar.add_working_days(date(2026, 11, 20), 20),
        }[letter_type]
        fields["new_date"] = services.calendar.add_working_days(due, 5).isoformat()
        fields["good_reason"] = None
    return fields


def write_config(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "mailroom.toml"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(root / 'storage'))}\n"
        f"[database]\nurl = {json.dumps('sqlite:///' + str(root / 'mailroom.db'))}\n"
        f'[maildir]\npath = ""\n{extra}',
        encoding="utf-8",
    )
    created = cli("init", "-c", path)  # only init, run and ingest may create the database
    assert created.exit_code == 0, created.output
    return path


def cli(*args: str | Path) -> Any:
    return runner.invoke(app, [str(arg) for arg in args])


# Letters are approved only from a landlord the resident can reach (name, phone, and
# an email or postal address): Ongo's example policy gives a phone and an address.
LANDLORD_FILE = POLICIES / "ongo-2025.toml"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The command line's settings: the same landlord as ``services``, so that the
    phone numbers a letter prints are known to `letters check`."""
    return write_config(tmp_path, f"[policy]\nlandlord_file = {json.dumps(str(LANDLORD_FILE))}\n")


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    built = build_services(
        make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": LANDLORD_FILE}), clock
    )
    yield built
    built.store.engine.dispose()


# -- every type drafts and passes ---------------------------------------------------------------


@pytest.mark.parametrize("letter_type", list(LetterType), ids=str)
def test_a_draft_with_sample_fields_passes_and_is_filed(services: Services, letter_type: LetterType) -> None:
    complaint_id = case_for(services, letter_type)
    result = draft(services, complaint_id, letter_type, sample_fields(services, letter_type))
    problems = [f"{e.id}: {e.reason}" for e in result.check.elements if e.status in ("fail", "warn")]
    assert result.check.passed, problems
    assert problems == []
    relative = f"{complaint_id}/letters/{result.draft_id}-{letter_type.value}-r1.docx"
    assert result.path == services.storage.root / relative
    data = result.path.read_bytes()
    with services.store.transaction() as repo:
        (letter,) = repo.letters_of_case(complaint_id)
        documents = repo.documents_of_case(complaint_id)
        kinds = [e.kind for e in repo.events_of_case(complaint_id)]
    assert (letter.status, letter.revision, letter.docx_path) == ("draft", 1, relative)
    assert letter.docx_sha256 == sha256_hex(data)
    assert [(d.kind, d.path, d.sha256) for d in documents] == [("letter_docx", relative, sha256_hex(data))]
    assert "letter_drafted" in kinds
    context = json.loads(letter.context_json)
    assert context["reference"] == case_reference(complaint_id)
    assert context["letter_date"] == "Monday 23 November 2026"
    assert context["reference"] in read_docx_text(data).text
    manifest = json.loads((services.storage.root / complaint_id / "manifest.json").read_text())
    assert {"path": relative.split("/", 1)[1], "sha256": sha256_hex(data)}.items() <= manifest["files"][
        0
    ].items()
    assert not list((services.storage.root / ".staging").glob("*"))  # nothing left half-written


def test_the_acknowledgement_gives_the_response_date_from_its_own_issue(services: Services) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    due = services.calendar.add_working_days(date(2026, 11, 23), 10)  # 10 working days after today
    assert due == date(2026, 12, 7)
    text = read_docx_text(result.path).text
    assert f"stage 1 response by {long_date(due)}" in text
    assert "which we received on Monday 16 November 2026" in text


def test_extension_dates_come_from_the_running_clock(services: Services) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_EXTENSION)
    fields = sample_fields(services, LetterType.STAGE1_EXTENSION)
    result = draft(services, complaint_id, LetterType.STAGE1_EXTENSION, fields)
    with services.store.transaction() as repo:
        context = json.loads(repo.letters_of_case(complaint_id)[0].context_json)
    assert context["original_due"] == "Friday 4 December 2026"
    assert context["extension_cap_date"] == "Friday 18 December 2026"
    assert context["new_date"] == "Friday 11 December 2026"
    assert result.check.passed
    # Beyond the cap without a good reason: the extension-cap element fails (6.4).
    late = {**fields, "new_date": "2026-12-21"}
    failing = draft(services, complaint_id, LetterType.STAGE1_EXTENSION, late).check.failures()
    assert [(f.id, f.paragraph) for f in failing] == [("extension-cap", "6.4")]


# -- deleting or blanking each required element -------------------------------------------------


def _parts(document: Any) -> Iterator[Any]:
    yield document.element.body
    for rel in document.part.rels.values():
        if rel.reltype.rsplit("/", 1)[-1] in ("header", "footer"):
            yield rel.target_part.element


def mutate(source: bytes, patterns: list[str], how: str, target: Path) -> int:
    """Delete every paragraph (body, headers, footers) matched by any of ``patterns``,
    or replace its text with a placeholder; returns how many were changed."""
    document = docx.Document(io.BytesIO(source))
    changed = 0
    for part in _parts(document):
        for p in list(part.iter(qn("w:p"))):
            paragraph = Paragraph(p, None)  # type: ignore[arg-type]
            text = normalise_text(paragraph.text)
            if not any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns):
                continue
            changed += 1
            if how == "delete":
                p.getparent().remove(p)
            else:
                paragraph.clear()
                paragraph.add_run("[insert date]")
    document.save(str(target))
    return changed


@pytest.mark.parametrize("how", ["delete", "placeholder"])
@pytest.mark.parametrize("letter_type", list(LetterType), ids=str)
def test_letters_check_fails_naming_each_missing_element(
    services: Services, config: Path, tmp_path: Path, letter_type: LetterType, how: str
) -> None:
    complaint_id = case_for(services, letter_type)
    fields = sample_fields(services, letter_type)
    result = draft(services, complaint_id, letter_type, fields)
    assert result.check.passed
    fields_file = tmp_path / "fields.json"
    fields_file.write_text(json.dumps(fields), encoding="utf-8")
    clean = cli(
        "letters", "check", result.path, "--type", letter_type.value, "--fields", fields_file, "-c", config
    )
    assert clean.exit_code == 0, clean.output
    spec = letter_pack(services.settings).letter(letter_type)
    tried = 0
    for element in spec.elements:
        if not element.enforced or not element.patterns:
            continue  # warnings and information; case checks alone are tested below
        target = tmp_path / f"{element.id}-{how}.docx"
        assert mutate(result.path.read_bytes(), list(element.patterns), how, target) > 0, element.id
        outcome = cli(
            "letters", "check", target, "--type", letter_type.value, "--fields", fields_file, "-c", config
        )
        assert outcome.exit_code == 1, (element.id, outcome.output)
        assert f"fail  {element.id} ({element.paragraph})" in outcome.output, (element.id, outcome.output)
        as_json = cli(
            "letters",
            "check",
            target,
            "--type",
            letter_type.value,
            "--fields",
            fields_file,
            "--json",
            "-c",
            config,
        )
        assert as_json.exit_code == 1
        report = json.loads(as_json.stdout)
        failed = {e["id"]: e for e in report["elements"] if e["status"] == "fail"}
        assert failed[element.id]["paragraph"] == element.paragraph
        assert report["passed"] is False and report["type"] == letter_type.value
        tried += 1
    assert tried >= 2


def test_a_case_check_against_the_case_catches_a_wrong_response_date(
    services: Services, config: Path, tmp_path: Path
) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(
        services,
        complaint_id,
        LetterType.STAGE1_ACKNOWLEDGEMENT,
        sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT),
    )
    document = docx.Document(str(result.path))
    for paragraph in document.paragraphs:
        if "Monday 7 December 2026" in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace("Monday 7 December 2026", "Friday 18 December 2026")
    late = tmp_path / "late.docx"
    document.save(str(late))
    assert cli("letters", "check", late, "--type", "stage1-acknowledgement", "-c", config).exit_code == 0
    # Against the case (``config`` names the same database), 18 December is not the due date.
    # The command reads the system clock: whatever day it is, the due date is 10 working days on.
    outcome = cli(
        "letters", "check", late, "--type", "stage1-acknowledgement", "--case", complaint_id, "-c", config
    )
    assert outcome.exit_code == 1
    assert "fail  response-date (6.3/6.4)" in outcome.output


# -- staff edits ---------------------------------------------------------------------------------


def reword(source: Path, target: Path, replacements: dict[str, str]) -> None:
    """Replace whole paragraphs as a member of staff would in Word (curly quotes,
    text in several runs)."""
    document = docx.Document(str(source))
    done = set()
    for paragraph in document.paragraphs:
        for start, new in replacements.items():
            if paragraph.text.startswith(start):
                paragraph.clear()
                words = new.split(" ")
                half = len(words) // 2
                paragraph.add_run(" ".join(words[:half]) + " ")
                paragraph.add_run(" ".join(words[half:])).bold = True
                done.add(start)
    assert done == set(replacements)
    document.save(str(target))


def test_a_reworded_letter_that_keeps_every_element_passes(
    services: Services, config: Path, tmp_path: Path
) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    edited = tmp_path / "from word.docx"
    reword(
        result.path,
        edited,
        {
            "Thank you for your complaint": "Your complaint reached us on Monday 16 November 2026 "
            "\u2013 thank you for taking the time to tell us what went wrong.",
            "We have logged your complaint": "We are dealing with it under stage one of our complaints "
            "procedure, and Sam Okafor will be your contact.",
            "We will send you our stage 1 response": "You will have our full written reply no later than "
            "Monday 7 December 2026. If that date has to move, we\u2019ll write first and explain why.",
        },
    )
    replaced = replace(services, result.draft_id, edited, by="sam.okafor")
    assert replaced.check.passed, [(e.id, e.reason) for e in replaced.check.failures()]
    assert replaced.revision == 2
    assert replaced.path.name == f"{result.draft_id}-stage1-acknowledgement-r2.docx"
    assert replaced.path.read_bytes() == edited.read_bytes()
    assert result.path.exists()  # revision 1 stays filed
    (view,) = list_letters(services, complaint_id)
    assert (view["revision"], view["edited"], view["passed"]) == (2, True, True)
    with services.store.transaction() as repo:
        kinds = [e.kind for e in repo.events_of_case(complaint_id)]
        documents = [d.path for d in repo.documents_of_case(complaint_id)]
    assert "letter_replaced" in kinds
    assert len(documents) == 2
    assert cli("letters", "check", edited, "--type", "stage1-acknowledgement", "-c", config).exit_code == 0


def test_replace_refuses_what_is_not_a_docx(services: Services, tmp_path: Path) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(
        services,
        complaint_id,
        LetterType.STAGE1_ACKNOWLEDGEMENT,
        sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT),
    )
    for name, content in (
        ("letter.docx", b"%PDF-1.7 not a word document"),
        ("letter.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old Word"),
        ("empty.docx", b""),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(LetterError) as caught:
            replace(services, result.draft_id, path)
        message = str(caught.value)
        assert "\n" not in message and name in message and "docx" in message.lower()
    (view,) = list_letters(services, complaint_id)
    assert view["revision"] == 1


# -- the automatic acknowledgement ---------------------------------------------------------------


@contextmanager
def selects(services: Services) -> Iterator[list[str]]:
    """The SELECT statements run on the database while the block runs."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(services.store.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(services.store.engine, "before_cursor_execute", seen)


def test_a_logged_complaint_gets_an_acknowledgement_draft_that_needs_completing(services: Services) -> None:
    complaint_id = log(services, uk(date(2026, 11, 20), 15), subject="Mould in the back bedroom")
    acknowledged = log(services, uk(date(2026, 11, 19), 9))
    step(services, acknowledged, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 20)))
    escalated = stage2_case(services, acknowledged=False)
    assert draft_pending_acknowledgements(services) == 1
    (view,) = list_letters(services, complaint_id)
    assert (view["type"], view["status"], view["passed"]) == ("stage1-acknowledgement", "draft", False)
    assert view["failing"] == ["complaint-definition", "placeholders"]
    assert list_letters(services, acknowledged) == [] and list_letters(services, escalated) == []
    with services.store.transaction() as repo:
        letter = repo.get_letter(view["draft_id"])
        assert letter is not None
        check = json.loads(letter.check_json)
        fields = json.loads(letter.fields_json)
    assert fields["points"] == [{"summary": "Mould in the back bedroom", "outcome_sought": "TBC"}]
    statuses = {e["id"]: (e["status"], e["paragraph"]) for e in check["elements"]}
    assert statuses["complaint-definition"] == ("fail", "5.6")  # the outcome sought is TBC
    # The TBC under "What we are responsible for" is a leftover placeholder too.
    (placeholders,) = [e for e in check["elements"] if e["id"] == "placeholders"]
    assert placeholders["status"] == "fail" and "'TBC'" in placeholders["reason"]
    assert "(and 1 more paragraphs)" in placeholders["reason"]
    text = read_docx_text(services.storage.resolve(view["docx"]["path"])).text
    assert "Mould in the back bedroom" in text and "The outcome you are looking for: TBC" in text
    with pytest.raises(
        LetterError, match=r"cannot be approved: the check fails: complaint-definition \(5\.6\)"
    ):
        approve(services, view["draft_id"])
    # Nothing more to do: a second pass drafts nothing and costs one query.
    with selects(services) as statements:
        assert draft_pending_acknowledgements(services) == 0
    assert len(statements) == 1, statements


def test_automatic_drafts_go_a_few_at_a_time_and_a_failing_case_never_blocks_the_rest(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case whose draft fails (here: forced) is marked once and passed over."""
    import mailroom.letters.drafts as drafts_module

    broken = log(services, uk(date(2026, 11, 19), 9), subject="The oldest")
    recent = [log(services, uk(date(2026, 11, 20), 9 + n)) for n in range(3)]
    real_draft = drafts_module.draft

    def draft_or_fail(services: Services, complaint_id: str, *args: Any, **kwargs: Any) -> Any:
        if complaint_id == broken:
            raise ValueError("the template could not be read\nsecond line")
        return real_draft(services, complaint_id, *args, **kwargs)

    monkeypatch.setattr(drafts_module, "draft", draft_or_fail)
    assert draft_pending_acknowledgements(services, limit=2) == 1  # the oldest failed, one drafted
    with services.store.transaction() as repo:
        (marked,) = [e for e in repo.events_of_case(broken) if e.kind == "acknowledgement_not_drafted"]
    assert marked.detail == "the template could not be read"
    assert draft_pending_acknowledgements(services, limit=2) == 2
    assert draft_pending_acknowledgements(services, limit=2) == 0
    assert [len(list_letters(services, case)) for case in recent] == [1, 1, 1]
    assert list_letters(services, broken) == []


def test_letters_draft_pending_drafts_what_the_scheduler_would(config: Path) -> None:
    for name in ("Ann", "Bob"):
        logged = cli(
            "cases", "new", "--channel", "phone", "--name", name, "--received", "2026-11-20T10:00",
            "--subject", "Leak", "-c", config,
        )  # fmt: skip
        assert logged.exit_code == 0, logged.output
    outputs = [cli("letters", "draft-pending", "--limit", "1", "-c", config).output.strip() for _ in range(3)]
    assert outputs == [
        "drafted 1 acknowledgement(s)",
        "drafted 1 acknowledgement(s)",
        "drafted 0 acknowledgement(s)",
    ]


def test_drafts_and_listing_on_either_database(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    services = build_services(make_settings(tmp_path / "storage", db_url), clock)
    try:
        first = log(services, uk(date(2026, 11, 20), 9))
        second = log(services, uk(date(2026, 11, 20), 11), email="")
        assert draft_pending_acknowledgements(services) == 2
        assert draft_pending_acknowledgements(services) == 0
        fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
        result = draft(services, first, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
        assert result.check.passed
        views = list_letters(services, first)
        assert [(v["draft_id"], v["passed"]) for v in views] == [
            (views[0]["draft_id"], False),
            (result.draft_id, True),
        ]
        assert len(list_letters(services, second)) == 1
        with services.store.transaction() as repo:
            letter = repo.get_letter(result.draft_id, for_update=True)
            assert isinstance(letter, Letter) and letter.complaint_id == first
            assert repo.outbox_entry("letter:none") is None
    finally:
        services.store.engine.dispose()


# -- fields, validation, unsafe templates -----------------------------------------------------


def test_fields_json_lists_every_field() -> None:
    for letter_type in LetterType:
        outcome = cli("letters", "fields", letter_type.value, "--json")
        assert outcome.exit_code == 0
        rows = json.loads(outcome.stdout)
        assert [set(row) for row in rows] == [{"name", "type", "required", "description", "item_keys"}] * len(
            rows
        )
        assert [(r["name"], r["type"], r["required"]) for r in rows] == [
            (s.name, s.type, s.required) for s in FIELDS[letter_type]
        ]
    points = json.loads(cli("letters", "fields", "stage1-acknowledgement", "--json").stdout)[0]
    assert points["item_keys"] == ["summary", "outcome_sought"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"points": [{"summary": "x", "outcome_sought": "y"}]}, r"^field responsible_for: required"),
        ({"points": "leak", "responsible_for": ["x"]}, r"^field points: must be a list, not text$"),
        (
            {"points": [{"summary": "x"}], "responsible_for": ["x"]},
            r"^field points\[0\]: must have exactly the keys",
        ),
        ({"colour": "red"}, r"^field colour: not a field of stage1-acknowledgement"),
    ],
)
def test_bad_fields_are_one_line_naming_the_field(
    services: Services, fields: dict[str, Any], message: str
) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    with pytest.raises(LetterError, match=message) as caught:
        draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    assert "\n" not in str(caught.value)


def test_bad_dates_and_exclusions_are_refused(services: Services) -> None:
    complaint_id = case_for(services, LetterType.REFUSAL)
    fields = sample_fields(services, LetterType.REFUSAL)
    with pytest.raises(LetterError, match=r"^field issue_date: not a date: '5/3/24' \(use 2026-12-18\)$"):
        draft(services, complaint_id, LetterType.REFUSAL, {**fields, "issue_date": "5/3/24"})
    with pytest.raises(
        LetterError, match=r"^field exclusion: 'too-busy' is not an exclusion of the rule pack"
    ):
        draft(services, complaint_id, LetterType.REFUSAL, {**fields, "exclusion": "too-busy"})
    with pytest.raises(LetterError, match=r"^no complaint CMP-2026-999999$"):
        draft(services, "CMP-2026-999999", LetterType.REFUSAL, fields)


def test_a_response_must_answer_every_point_of_the_complaint_definition(services: Services) -> None:
    """6.7: checked from the structure, one decision per point, not guessed from prose."""
    complaint_id = case_for(services, LetterType.STAGE1_RESPONSE)
    fields = sample_fields(services, LetterType.STAGE1_RESPONSE)
    assert len(fields["points"]) == len(fields["decisions"]) >= 2
    with pytest.raises(
        LetterError, match=r"^field decisions: 1 decision\(s\) for \d+ point\(s\).*\(6\.7, 6\.18\)$"
    ):
        draft(
            services,
            complaint_id,
            LetterType.STAGE1_RESPONSE,
            {**fields, "decisions": fields["decisions"][:1]},
        )


def unsafe_pack(tmp_path: Path, text: str) -> Path:
    """A copy of the bundled pack whose templates are copies, the stage 1
    acknowledgement with ``text`` added as a paragraph."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates, ignore=shutil.ignore_patterns("*.py"))
    document = docx.Document(str(templates / "stage1-acknowledgement.docx"))
    document.add_paragraph(text)
    document.save(str(templates / "stage1-acknowledgement.docx"))
    pack = tmp_path / "pack.toml"
    pack.write_text(
        f"templates_dir = {json.dumps(str(templates))}\n" + BUNDLED_RULE_PACK.read_text(), encoding="utf-8"
    )
    return pack


def test_a_template_reaching_into_python_is_refused_at_draft_time(tmp_path: Path, clock: FixedClock) -> None:
    pack = unsafe_pack(tmp_path, "{{ cycler.__init__.__globals__ }}")
    settings = make_settings(
        tmp_path / "storage", f"sqlite:///{tmp_path / 'db.sqlite'}", policy={"rule_pack": pack}
    )
    services = build_services(settings, clock)
    try:
        complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
        fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
        with pytest.raises(LetterError) as caught:
            draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(
            "stage1-acknowledgement: stage1-acknowledgement.docx: body: unsafe template"
        )
        assert list_letters(services, complaint_id) == []
        assert not (services.storage.root / complaint_id / "letters").exists()
    finally:
        services.store.engine.dispose()
    # The same through the command: one line on stderr, exit 1.
    config = write_config(tmp_path / "cli", f"[policy]\nrule_pack = {json.dumps(str(pack))}\n")
    logged = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailroom",
            "cases",
            "new",
            "--channel",
            "phone",
            "--name",
            "A Resident",
            "--received",
            "2026-11-20T09:00",
            "--subject",
            "Leak",
            "--json",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    new_id = json.loads(logged.stdout)["id"]
    drafted = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailroom",
            "letters",
            "draft",
            new_id,
            "stage1-acknowledgement",
            "--field",
            'points=[{"summary": "Leak", "outcome_sought": "Fixed"}]',
            "--field",
            'responsible_for=["The repair"]',
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
    )
    assert drafted.returncode == 1
    assert drafted.stdout == ""
    lines = drafted.stderr.splitlines()
    assert len(lines) == 1 and "unsafe template" in lines[0], drafted.stderr


def test_letters_draft_and_list_through_the_command(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    base = [sys.executable, "-m", "mailroom"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args, "--config", str(config)], capture_output=True, text=True)

    logged = run(
        "cases",
        "new",
        "--channel",
        "letter",
        "--name",
        "Mr B",
        "--received",
        "2026-11-20T09:00",
        "--subject",
        "Broken fence",
        "--json",
    )
    complaint_id = json.loads(logged.stdout)["id"]
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps({"points": [{"summary": "The fence", "outcome_sought": "Repair"}]}))
    drafted = run(
        "letters",
        "draft",
        complaint_id,
        "stage1-acknowledgement",
        "--fields",
        str(fields),
        "--field",
        'responsible_for=["The fence"]',
        "--field",
        "handler_name=Sam Okafor",
        "--json",
    )
    assert drafted.returncode == 0, drafted.stderr
    result = json.loads(drafted.stdout)
    assert set(result) == {"draft_id", "path", "check"}
    assert Path(result["path"]).is_file() and result["check"]["passed"] is True
    listed = json.loads(run("letters", "list", complaint_id, "--json").stdout)
    assert [(v["draft_id"], v["status"], v["passed"]) for v in listed] == [
        (result["draft_id"], "draft", True)
    ]
    bad = run("letters", "draft", complaint_id, "stage1-acknowledgement", "--field", "points=[oops")
    assert bad.returncode == 1 and bad.stderr.startswith("mailroom: --field points: not JSON")


# -- rules check and templates check ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(POLICY_FINDINGS))
def test_rules_check_reports_each_example_policys_findings(config: Path, name: str) -> None:
    outcome = cli("rules", "check", "--policy", POLICIES / f"{name}.toml", "--json", "-c", config)
    report = json.loads(outcome.stdout)
    found = {(f["severity"], f["setting"], f["paragraph"]) for f in report["findings"]}
    assert found == POLICY_FINDINGS[name]
    conflicts = sum(1 for severity, _, _ in POLICY_FINDINGS[name] if severity == "conflict")
    assert report["conflicts"] == conflicts
    assert outcome.exit_code == (1 if conflicts else 0)
    text = cli("rules", "check", "--policy", POLICIES / f"{name}.toml", "-c", config)
    assert text.exit_code == outcome.exit_code
    for severity, setting, paragraph in POLICY_FINDINGS[name]:
        assert f"{severity}: {setting} ({paragraph}): " in text.output


def test_rules_check_warns_without_a_landlord_and_uses_the_configured_one(tmp_path: Path) -> None:
    bare = write_config(tmp_path / "bare")
    outcome = cli("rules", "check", "-c", bare)
    assert outcome.exit_code == 0
    assert "warning: no landlord policy (policy.landlord_file)" in outcome.output
    configured = write_config(
        tmp_path / "landlord",
        f"[policy]\nlandlord_file = {json.dumps(str(POLICIES / 'one-housing-2020.toml'))}\n",
    )
    report = json.loads(cli("rules", "check", "--json", "-c", configured).stdout)
    assert report["policy"].endswith("one-housing-2020.toml") and report["conflicts"] == 4
    # The real command: exit codes and one-line errors as an operator sees them.
    base = [sys.executable, "-m", "mailroom", "rules", "check", "--config"]
    assert subprocess.run([*base, str(configured)], capture_output=True).returncode == 1
    ongo = write_config(
        tmp_path / "ongo", f"[policy]\nlandlord_file = {json.dumps(str(POLICIES / 'ongo-2025.toml'))}\n"
    )
    clean = subprocess.run([*base, str(ongo)], capture_output=True, text=True)
    assert clean.returncode == 0 and "0 conflict(s)" in clean.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(
        "[landlord]\nname = 'X'\n[signatory]\nname = 'Y'\nrole = 'Z'\n[procedure]\nstages = 'two'\n"
    )
    failed = subprocess.run([*base, str(ongo), "--policy", str(broken)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert (
        failed.stderr.strip()
        == f"mailroom: {broken}: procedure.stages: must be a whole number of at least 1, not 'two'"
    )


def test_letters_carry_the_configured_landlord_or_the_neutral_one(tmp_path: Path, clock: FixedClock) -> None:
    for policy, landlord, signatory in (
        (None, "Your landlord", "Complaints Team"),
        (POLICIES / "ongo-2025.toml", "Ongo Homes", "Customer Resolution Team"),
    ):
        sections = {"policy": {"landlord_file": policy}} if policy else {}
        root = tmp_path / (policy.stem if policy else "neutral")
        services = build_services(
            make_settings(root / "storage", f"sqlite:///{root / 'db.sqlite'}", **sections), clock
        )
        try:
            complaint_id = case_for(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
            fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
            paragraphs = read_docx_text(
                draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields).path
            ).paragraphs
        finally:
            services.store.engine.dispose()
        assert paragraphs[0] == landlord
        body = [p for p in paragraphs if not p.startswith("Page ")]  # the footer's "Page 1 of 1"
        assert body[-3:] == [signatory, body[-2], landlord]


def test_templates_check_is_clean_on_the_shipped_templates(config: Path) -> None:
    outcome = cli("templates", "check", "-c", config)
    assert outcome.exit_code == 0, outcome.output
    assert "9 template(s) checked: no problems" in outcome.output


def test_templates_check_reports_a_broken_tag(config: Path, tmp_path: Path) -> None:
    broken = tmp_path / "stage1-acknowledgement.docx"
    with (
        zipfile.ZipFile(TEMPLATES / "stage1-acknowledgement.docx") as source,
        zipfile.ZipFile(broken, "w") as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"{{ response_due }}", b"{{ response_due }", 1)
            out.writestr(info, data)
    unknown = tmp_path / "stage1-extension.docx"
    document = docx.Document(str(TEMPLATES / "stage1-extension.docx"))
    document.add_paragraph("{{ complainant_shoe_size }}")
    document.save(str(unknown))
    outcome = cli("templates", "check", broken, unknown, TEMPLATES / "refusal.docx", "-c", config)
    assert outcome.exit_code == 1
    # Problems, in the order given; the wording warnings (never problems) are other lines.
    lines = [line for line in outcome.output.splitlines() if line.strip() and ": warning: " not in line]
    assert lines[0].startswith("stage1-acknowledgement.docx: body: paragraph ")
    assert "unexpected '}'" in lines[0] and "response_due" in lines[0]
    assert lines[1] == "stage1-extension.docx: body: unknown variable 'complainant_shoe_size'"
    assert lines[-1] == "2 problem(s) in 3 template(s)"


def test_approving_a_failing_draft_leaves_it_a_draft(services: Services) -> None:
    complaint_id = log(services, uk(date(2026, 11, 20), 9))
    result = draft(
        services,
        complaint_id,
        LetterType.STAGE1_ACKNOWLEDGEMENT,
        {
            "points": [{"summary": "Leak", "outcome_sought": "[insert outcome]"}],
            "responsible_for": ["The repair"],
        },
    )
    assert not result.check.passed
    with pytest.raises(LetterError) as caught:
        approve(services, result.draft_id, by="jo")
    assert "\n" not in str(caught.value)
    (view,) = list_letters(services, complaint_id)
    assert (view["status"], view["pdf"], view["approved_at"]) == ("draft", None, None)
    with services.store.transaction() as repo:
        kinds = {e.kind for e in repo.events_of_case(complaint_id)}
    assert "stage1_acknowledged" not in kinds and "letter_approved" not in kinds


def test_an_unedited_draft_is_redated_when_approved_later(services: Services, clock: FixedClock) -> None:
    """Drafted on Monday, approved on Wednesday: the letter goes out dated Wednesday,
    with the response date counted from Wednesday (the issue), as a new revision."""
    complaint_id = log(services, uk(date(2026, 11, 20), 9), email="")
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    clock.set(datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    issued = approve(services, result.draft_id, by="jo")
    assert issued.status == "for_post" and issued.recipient == "" and issued.outbox_id is None
    assert issued.pdf_path.name == f"{result.draft_id}-stage1-acknowledgement-r2.pdf"
    (view,) = list_letters(services, complaint_id)
    assert view["revision"] == 2 and view["status"] == "for_post"
    text = read_docx_text(services.storage.resolve(view["docx"]["path"])).text
    due = services.calendar.add_working_days(date(2026, 11, 25), 10)
    assert "Date: Wednesday 25 November 2026" in text and long_date(due) in text
    with services.store.transaction() as repo:
        acknowledged = [e.at for e in repo.events_of_case(complaint_id) if e.kind == "stage1_acknowledged"]
        (deadline,) = [d for d in repo.deadlines_of_case(complaint_id) if d.clock == "stage1_response"]
    assert acknowledged == [issued.issued_at] and deadline.due == due


def test_a_failure_after_the_pdf_leaves_the_draft_approvable(services: Services) -> None:
    """The acknowledgement was recorded by hand meanwhile, so issuing the letter cannot
    record it again: nothing of the approval is kept, and the draft stays a draft."""
    complaint_id = log(services, uk(date(2026, 11, 20), 9))
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    step(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 23), 9))
    with pytest.raises(LetterError) as caught:
        approve(services, result.draft_id, by="jo")
    message = str(caught.value)
    assert message.startswith(f"letter {result.draft_id} cannot be ") and "stage1_acknowledged" in message
    assert "\n" not in message
    (view,) = list_letters(services, complaint_id)
    assert (view["status"], view["pdf"], view["outbox_id"]) == ("draft", None, None)
    with services.store.transaction() as repo:
        assert [d.kind for d in repo.documents_of_case(complaint_id)] == ["letter_docx"]
        assert repo.outbox_entry(f"letter:{result.draft_id}") is None
        kinds = [e.kind for e in repo.events_of_case(complaint_id)]
    assert kinds.count("stage1_acknowledged") == 1 and "letter_approved" not in kinds
    manifest = json.loads((services.storage.root / complaint_id / "manifest.json").read_text())
    assert [f["kind"] for f in manifest["files"]] == ["letter_docx"]


def test_a_complainant_who_prefers_post_gets_a_printed_letter_at_their_address(services: Services) -> None:
    """3.1: letters by post as a reasonable adjustment, even with an email address on the case."""
    from pypdf import PdfReader

    from mailroom.other_channels import IntakeError, set_contact

    complaint_id = log(services, uk(date(2026, 11, 20), 9))
    with pytest.raises(IntakeError, match=r"^--prefers post needs --address"):
        set_contact(services, complaint_id, "post", None)
    set_contact(services, complaint_id, "post", "Flat 3, 12 Mill Lane\nLeeds LS1 4AB", by="jo")
    fields = sample_fields(services, LetterType.STAGE1_ACKNOWLEDGEMENT)
    result = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    issued = approve(services, result.draft_id, by="jo")
    assert issued.status == "for_post"
    text = " ".join(page.extract_text() for page in PdfReader(str(issued.pdf_path)).pages)
    assert "12 Mill Lane" in text and "LS1 4AB" in text
    with services.store.transaction() as repo:
        assert repo.outbox_entry(f"letter:{result.draft_id}") is None  # nothing emailed
        (posted,) = [e for e in repo.events_of_case(complaint_id) if e.kind == "letter_for_post"]
    assert "the complainant asked for post" in posted.detail


def test_a_landlord_file_that_does_not_parse_stops_mailroom_at_start(
    tmp_path: Path, clock: FixedClock
) -> None:
    broken = tmp_path / "landlord.toml"
    broken.write_text("[landlord]\nname = 'Test Homes'\n")
    settings = make_settings(
        tmp_path / "storage", f"sqlite:///{tmp_path / 'db.sqlite'}", policy={"landlord_file": broken}
    )
    with pytest.raises(
        LetterError, match=r"^policy\.landlord_file: .*landlord\.toml: \[signatory\]: missing section$"
    ):
        build_services(settings, clock)
