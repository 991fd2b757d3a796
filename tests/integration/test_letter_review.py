"""The review desk's letter use cases on real cases (SQLite), without Flask: revising a
draft from edited fields (docs/letters.md, "Reviewing on the desk"), errors per field
for the form, the form round trip, the checklist, the preview drawn by the real
LibreOffice and poppler (never mocked: only counted), and the download name."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

import mailroom.letters.preview as preview_module
from mailroom.clock import FixedClock
from mailroom.domain.ids import case_reference
from mailroom.filing import sha256_hex
from mailroom.letters.checklist import MISSING, NOT_APPLICABLE, PASSED, WARNING, checklist, code_label
from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.drafts import (
    FieldErrors,
    approve,
    download_filename,
    draft,
    draft_pending_acknowledgements,
    exclusion_ids,
    field_errors,
    letter_download,
    list_letters,
    replace,
    revise,
    validate_fields,
)
from mailroom.letters.form_fields import describe_form, form_pairs, input_name, parse_form
from mailroom.letters.pack import LetterError, letter_pack
from mailroom.letters.pdf import PdfConverter
from mailroom.letters.preview import PAGE_CAP, PREVIEWS, preview, preview_pages, preview_pdf
from mailroom.letters.types import FIELDS, LetterType
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, case_for, log, sample_fields, uk

ACK = LetterType.STAGE1_ACKNOWLEDGEMENT
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    """As in test_letters.py: a landlord the resident can reach, so letters can be approved."""
    built = build_services(
        make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": LANDLORD_FILE}), clock
    )
    yield built
    built.store.engine.dispose()


def automatic_acknowledgement(services: Services, subject: str = "Mould in the back bedroom") -> int:
    """The real path: a logged complaint gets its acknowledgement drafted with TBCs."""
    complaint_id = log(services, uk(date(2026, 11, 20), 15), subject=subject)
    assert draft_pending_acknowledgements(services) == 1
    (view,) = list_letters(services, complaint_id)
    return int(view["draft_id"])


def letter_row(services: Services, draft_id: int) -> Any:
    with services.store.transaction() as repo:
        letter = repo.get_letter(draft_id)
        assert letter is not None
        repo.session.expunge(letter)
        return letter


COMPLETED = {
    "points": [
        {
            "summary": "Mould in the back bedroom",
            "outcome_sought": "The mould treated and the cause of the damp found and fixed",
        }
    ],
    "responsible_for": ["The repair of the extractor fan and the treatment of the mould"],
}


# -- revise ------------------------------------------------------------------------------------


def test_revising_the_tbc_acknowledgement_from_its_fields_makes_it_pass(services: Services) -> None:
    draft_id = automatic_acknowledgement(services)
    before = letter_row(services, draft_id)
    assert json.loads(before.check_json)["passed"] is False
    assert json.loads(before.fields_json)["responsible_for"] == ["TBC"]

    result = revise(services, draft_id, COMPLETED, by="Jo Bloggs")

    problems = [f"{e.id}: {e.reason}" for e in result.check.elements if e.status == "fail"]
    assert result.check.passed, problems
    assert (result.draft_id, result.revision) == (draft_id, 2)
    after = letter_row(services, draft_id)
    assert (after.status, after.revision, after.edited) == ("draft", 2, False)
    assert json.loads(after.fields_json) == COMPLETED
    assert json.loads(after.check_json)["passed"] is True
    relative = f"{after.complaint_id}/letters/{draft_id}-stage1-acknowledgement-r2.docx"
    assert after.docx_path == relative and result.path == services.storage.root / relative
    assert after.docx_sha256 == sha256_hex(result.path.read_bytes())
    text = read_docx_text(result.path.read_bytes()).text
    assert "The mould treated and the cause of the damp found and fixed" in text and "TBC" not in text
    assert before.docx_path != after.docx_path and services.storage.resolve(before.docx_path).is_file()
    with services.store.transaction() as repo:
        documents = [d.path for d in repo.documents_of_case(after.complaint_id)]
        (revised,) = [e for e in repo.events_of_case(after.complaint_id) if e.kind == "letter_revised"]
    assert documents == [before.docx_path, relative]  # every revision stays filed
    assert "by Jo Bloggs" in revised.detail and "revision 2" in revised.detail
    assert "check passed" in revised.detail
    manifest = json.loads((services.storage.root / after.complaint_id / "manifest.json").read_text())
    assert sorted(f["sha256"] for f in manifest["files"]) == sorted([before.docx_sha256, after.docx_sha256])
    (view,) = list_letters(services, after.complaint_id)
    assert (view["revision"], view["passed"], view["failing"]) == (2, True, [])


def test_bad_fields_are_refused_with_every_problem_by_field_path(services: Services) -> None:
    draft_id = automatic_acknowledgement(services)
    bad = {
        "points": [{"summary": "Leak", "outcome_sought": 5}, "a leak"],
        "colour": "red",
        "handler_name": ["Jo"],
    }
    with pytest.raises(FieldErrors) as caught:
        revise(services, draft_id, bad, by="jo")
    assert caught.value.errors == {
        "colour": "not a field of stage1-acknowledgement",
        "points[0].outcome_sought": "must be text, not a number",
        "points[1]": "must have exactly the keys summary, outcome_sought (got text)",
        "responsible_for": "required",
        "handler_name": "must be text, not a list",
    }
    message = str(caught.value)
    assert message.startswith("field colour: not a field of stage1-acknowledgement (fields: points, ")
    assert message.endswith(
        "(and 4 more: points[0].outcome_sought, points[1], responsible_for, handler_name)"
    )
    assert "\n" not in message
    assert isinstance(caught.value, LetterError)  # the command line's one-line errors still catch it
    # A point with no outcome could never pass the check: refused next to its input.
    blank = {"points": [{"summary": "Mould", "outcome_sought": " "}], "responsible_for": ["The repair"]}
    assert field_errors(ACK, blank) == {
        "points[0].outcome_sought": "empty; give the outcome the resident is looking for (5.6)"
    }
    with pytest.raises(FieldErrors) as nothing:
        revise(services, draft_id, {"points": []}, by="jo")
    assert nothing.value.errors == {"points": "required", "responsible_for": "required"}
    assert str(nothing.value).startswith("field points: required for stage1-acknowledgement (The complaint")
    assert letter_row(services, draft_id).revision == 1  # nothing filed


def test_a_bad_date_and_bad_decisions_are_named_per_field(services: Services) -> None:
    complaint_id = case_for(services, LetterType.STAGE1_EXTENSION)
    fields = sample_fields(services, LetterType.STAGE1_EXTENSION)
    result = draft(services, complaint_id, LetterType.STAGE1_EXTENSION, fields)
    with pytest.raises(FieldErrors) as caught:
        revise(services, result.draft_id, {**fields, "new_date": "5/3/24"}, by="jo")
    assert caught.value.errors == {"new_date": "not a date: '5/3/24' (use 2026-12-18)"}
    assert str(caught.value) == "field new_date: not a date: '5/3/24' (use 2026-12-18)"

    response = sample_fields(services, LetterType.STAGE1_RESPONSE)
    decisions = [dict(d) for d in response["decisions"]]
    decisions[0]["reasons"] = " "
    decisions[1]["decision"] = "maybe"
    errors = field_errors(LetterType.STAGE1_RESPONSE, {**response, "decisions": decisions})
    assert set(errors) == {"decisions[0].reasons", "decisions[1].decision"}
    assert errors["decisions[1].decision"] == "'maybe' is not one of upheld, not upheld, partly upheld"
    assert field_errors(LetterType.STAGE1_RESPONSE, response) == {}


@pytest.mark.slow  # approving converts the letter with LibreOffice
def test_revise_refuses_an_approved_letter_and_a_stale_or_word_edited_one(
    services: Services, tmp_path: Path
) -> None:
    complaint_id = case_for(services, ACK)
    fields = sample_fields(services, ACK)
    result = draft(services, complaint_id, ACK, fields)
    with pytest.raises(LetterError, match=r"^letter \d+: say who is revising it$"):
        revise(services, result.draft_id, fields, by="  ")
    # A form filled in from revision 1 after someone else saved revision 2.
    assert revise(services, result.draft_id, fields, by="ann", revision=1).revision == 2
    with pytest.raises(LetterError, match=r"is at revision 2 now, not 1: someone revised it meanwhile"):
        revise(services, result.draft_id, fields, by="bob", revision=1)
    # A revision edited in Word is not silently re-rendered over.
    edited = tmp_path / "edited.docx"
    edited.write_bytes(services.storage.read(letter_row(services, result.draft_id).docx_path))
    replace(services, result.draft_id, edited, by="ann")
    with pytest.raises(LetterError, match=r"revision 3 was edited in Word"):
        revise(services, result.draft_id, fields, by="bob")
    redone = revise(services, result.draft_id, fields, by="bob", discard_edits=True)
    assert redone.revision == 4 and letter_row(services, result.draft_id).edited is False

    approve(services, result.draft_id, by="jo")
    with pytest.raises(LetterError, match=r"^letter \d+ is sent, no longer a draft$"):
        revise(services, result.draft_id, fields, by="jo")
    assert letter_row(services, result.draft_id).revision == 4


# -- the form ------------------------------------------------------------------------------------


def browser_post(pairs: list[tuple[str, str]], textareas: set[str]) -> MultiDict[str, str]:
    """What a browser sends: textarea line breaks as CRLF."""
    return MultiDict([(n, v.replace("\n", "\r\n") if n in textareas else v) for n, v in pairs])


@pytest.mark.parametrize("letter_type", list(LetterType), ids=str)
def test_fields_go_through_the_form_and_come_back_equal(services: Services, letter_type: LetterType) -> None:
    exclusions = exclusion_ids(services.settings, letter_pack(services.settings))
    fields = validate_fields(letter_type, sample_fields(services, letter_type), exclusions)
    form = describe_form(letter_type, fields, exclusions=exclusions)
    assert [f.name for f in form.fields] == [s.name for s in FIELDS[letter_type]]
    textareas = {
        i.name
        for f in form.fields
        for i in ([f.input] if f.input else [i for r in f.rows for i in r.inputs])
        if i.kind == "textarea"
    }
    pairs = form_pairs(form)
    # Each list shows a blank row for adding one; posted blank, it is dropped again.
    for field in form.fields:
        if field.kind in ("list", "table"):
            assert field.rows[-1].spare and not any(i.value for i in field.rows[-1].inputs)
            assert {i.name for i in field.rows[-1].inputs} <= {name for name, _ in pairs}
    posted = browser_post([*pairs, ("csrf_token", "x"), ("points-0-colour", "red")], textareas)
    assert parse_form(letter_type, posted) == fields
    assert not form.has_errors


def test_the_form_describes_each_field_and_parses_a_post(services: Services) -> None:
    fields = validate_fields(ACK, {**COMPLETED, "adjustments": "Large print\nCalls after 2pm"})
    form = describe_form(ACK, fields)
    points = form.field("points")
    assert (points.label, points.kind, points.required) == ("Complaint definition", "table", True)
    assert points.hint.startswith("The complaint definition (5.6)")
    assert points.columns == (("summary", "Point"), ("outcome_sought", "Outcome sought"))
    assert [(r.index, r.spare) for r in points.rows] == [(0, False), (1, True)]
    assert [i.name for i in points.rows[0].inputs] == ["points-0-summary", "points-0-outcome_sought"]
    assert points.rows[0].inputs[1].value == COMPLETED["points"][0]["outcome_sought"]
    assert points.rows[1].inputs[0].value == ""
    responsible = form.field("responsible_for")
    assert responsible.kind == "list" and [r.inputs[0].name for r in responsible.rows] == [
        "responsible_for-0",
        "responsible_for-1",
    ]
    adjustments = form.field("adjustments")
    assert adjustments.kind == "textarea" and adjustments.input is not None
    assert (adjustments.input.value, adjustments.required) == ("Large print\nCalls after 2pm", False)
    handler = form.field("handler_name")
    assert handler.input is not None and (handler.kind, handler.input.value) == ("text", "")
    assert describe_form(LetterType.REFUSAL, {}, exclusions=["a", "b"]).field("exclusion").kind == "select"
    decision = describe_form(LetterType.STAGE1_RESPONSE, {}).field("decisions").rows[0].inputs[1]
    assert decision.kind == "select" and decision.choices == ("upheld", "not upheld", "partly upheld")
    assert describe_form(LetterType.STAGE1_EXTENSION, {}).field("new_date").kind == "date"

    post = MultiDict(
        [
            ("points-0-summary", "Leak "),
            ("points-0-outcome_sought", "Fixed"),
            ("points-1-summary", " "),  # the spare row, left blank
            ("points-1-outcome_sought", ""),
            ("points-3-summary", "Rude contractor"),  # rows need not be numbered without gaps
            ("points-03-summary", "not a row"),
            ("points-2-outcome_sought", "An apology"),
            ("responsible_for-1", "The repair"),
            ("responsible_for-0", ""),
            ("handler_name", "  "),
            ("adjustments", "Large print\r\nCalls after 2pm"),
            ("colour", "red"),
        ]
    )
    assert parse_form(ACK, post) == {
        "points": [
            {"summary": "Leak ", "outcome_sought": "Fixed"},
            {"summary": "", "outcome_sought": "An apology"},
            {"summary": "Rude contractor", "outcome_sought": ""},
        ],
        "responsible_for": ["The repair"],
        "adjustments": "Large print\nCalls after 2pm",
    }


def test_errors_land_on_their_inputs(services: Services) -> None:
    posted = parse_form(
        ACK, MultiDict([("points-0-summary", "Leak"), ("points-0-outcome_sought", "x"), ("colour", "red")])
    )
    errors = {
        "points[0].outcome_sought": "must be text, not a number",
        "responsible_for": "required",
        "colour": "not a field of stage1-acknowledgement",
    }
    form = describe_form(ACK, posted, errors=errors)
    assert form.field("points").rows[0].inputs[1].error == "must be text, not a number"
    assert form.field("responsible_for").error == "required"
    assert form.other_errors == {"colour": "not a field of stage1-acknowledgement"}
    assert form.has_errors
    assert input_name("points[0].outcome_sought") == "points-0-outcome_sought"
    assert input_name("responsible_for[1]") == "responsible_for-1"
    assert input_name("new_date") == "new_date"


# -- the checklist -----------------------------------------------------------------------------


def test_the_checklist_puts_what_blocks_approval_first_in_plain_english(services: Services) -> None:
    draft_id = automatic_acknowledgement(services)
    rows = checklist(letter_row(services, draft_id).check_json)
    order = {MISSING: 0, WARNING: 1, PASSED: 2, NOT_APPLICABLE: 3}
    assert [order[r.status] for r in rows] == sorted(order[r.status] for r in rows)
    assert [(r.element_id, r.code_label, r.blocks_approval) for r in rows if r.status == MISSING] == [
        ("complaint-definition", "Code 5.6", True),
        ("placeholders", "Letter quality", True),
    ]
    by_id = {r.element_id: r for r in rows}
    definition = by_id["complaint-definition"]
    assert definition.paragraph == "5.6"
    assert definition.description.startswith("The complaint definition: the landlord's understanding")
    assert definition.reason and definition.fix and "Fix:" not in definition.reason
    assert "--field" not in definition.fix
    assert (by_id["response-date"].paragraph, by_id["response-date"].code_label) == (
        "6.3/6.4",
        "Code 6.3, 6.4",
    )
    assert by_id["reference"].code_label == "Good practice" and by_id["reference"].status == PASSED
    ombudsman = by_id["ombudsman-details"]
    assert ombudsman.code_label == "Ombudsman's contact details"
    assert ombudsman.description == (
        "The Housing Ombudsman's online form and phone number, exactly as published"
    )
    assert "clock" not in by_id["received-date"].description  # the pack authors' aside is left out
    assert by_id["received-date"].description.startswith("Sent within 5 working days")
    # After revising, the same check passes and nothing is missing.
    passed = checklist(revise(services, draft_id, COMPLETED, by="jo").check)
    assert not any(r.status == MISSING for r in passed)
    assert {r.status for r in passed} <= {PASSED, WARNING, NOT_APPLICABLE}
    assert code_label("2.1-2.5") == "Code 2.1-2.5" and code_label("", "info") == "Good practice"


# -- preview and download --------------------------------------------------------------------


class CountingConverter:
    """The real kept-running converter, counting what is asked of it."""

    def __init__(self, converter: PdfConverter) -> None:
        self.converter = converter
        self.calls = 0

    def convert(self, docx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
        self.calls += 1
        return self.converter.convert(docx_path, out_dir)


@pytest.fixture(scope="module")
def kept_converter() -> Iterator[PdfConverter]:
    with PdfConverter(timeout=60) as kept:
        yield kept


@pytest.fixture
def converter(kept_converter: PdfConverter) -> CountingConverter:
    return CountingConverter(kept_converter)


@pytest.mark.slow  # LibreOffice and pdftoppm, real
def test_the_preview_draws_every_page_once_per_revision(
    services: Services, converter: CountingConverter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    complaint_id = case_for(services, ACK)
    result = draft(services, complaint_id, ACK, sample_fields(services, ACK))
    pages = preview_pages(services, result.draft_id, converter)
    assert converter.calls == 1
    pdf = preview_pdf(services, result.draft_id, converter)
    assert converter.calls == 1  # the PDF came with the pages
    pdf_pages = len(PdfReader(str(pdf)).pages)
    assert 1 <= len(pages) == pdf_pages <= PAGE_CAP
    assert [p.name for p in pages] == [f"page-{n}.png" for n in range(1, pdf_pages + 1)]
    for page in pages:
        assert page.read_bytes()[:8] == PNG_MAGIC
        assert stat.S_IMODE(page.stat().st_mode) == 0o600  # personal data: mailroom's user only
    cache = pages[0].parent
    assert cache.parent == services.storage.root / PREVIEWS
    assert cache.name == sha256_hex(result.path.read_bytes())
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700

    again = preview(services, result.draft_id, converter)
    assert converter.calls == 1  # the second preview of the revision is a file read
    assert list(again.pages) == pages and again.total_pages == pdf_pages and not again.truncated

    # A new revision is a new DOCX: drawn afresh; the old preview is left as it was.
    revised = revise(
        services, result.draft_id, {**sample_fields(services, ACK), "handler_name": "Sam"}, by="jo"
    )
    new_pages = preview_pages(services, result.draft_id, converter)
    assert converter.calls == 2 and new_pages[0].parent.name == sha256_hex(revised.path.read_bytes())
    assert all(page.is_file() for page in pages)
    assert not list((services.storage.root / PREVIEWS).glob(".tmp-*"))

    # A long letter: pdftoppm numbers page-01.png... past nine pages; the pages still
    # come in page order (compared with pages drawn alone).
    long_points = [
        {
            "summary": f"Point {n}: " + "the repair was not done as promised. " * 12,
            "outcome_sought": f"Fix {n}",
        }
        for n in range(1, 41)
    ]
    revise(services, result.draft_id, {**COMPLETED, "points": long_points}, by="jo")
    long = preview(services, result.draft_id, converter)
    long_pdf = PdfReader(str(long.pdf))
    assert long.total_pages == len(long_pdf.pages) >= 10
    assert [p.name for p in long.pages] == [f"page-{n}.png" for n in range(1, min(long.total_pages, 20) + 1)]
    assert long.truncated == (long.total_pages > PAGE_CAP)
    for number in (2, 10):  # "page-10" sorts before "page-2" as text
        alone = tmp_path / f"alone-{number}"
        only = ["-f", str(number), "-l", str(number), "-singlefile"]
        command = ["pdftoppm", "-png", "-r", "96", *only, str(long.pdf), str(alone)]
        subprocess.run(command, check=True, timeout=60)
        assert long.pages[number - 1].read_bytes() == alone.with_suffix(".png").read_bytes()

    # Longer letters are drawn in part: at most PAGE_CAP pages, the total still told.
    monkeypatch.setattr(preview_module, "PAGE_CAP", 1)
    capped = preview(services, result.draft_id, converter)
    assert len(capped.pages) == 1 and capped.total_pages == long.total_pages and capped.truncated


class UnusedConverter:
    """For previews that must be refused before anything is converted."""

    calls = 0

    def convert(self, docx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
        self.calls += 1
        raise AssertionError("nothing should have been converted")


def test_a_preview_of_a_changed_file_or_no_letter_is_refused(services: Services) -> None:
    converter = UnusedConverter()
    complaint_id = case_for(services, ACK)
    result = draft(services, complaint_id, ACK, sample_fields(services, ACK))
    result.path.write_bytes(result.path.read_bytes() + b"\0")
    with pytest.raises(LetterError, match=r"has changed since it was filed"):
        preview_pages(services, result.draft_id, converter)
    with pytest.raises(LetterError, match=r"has changed since it was filed"):
        letter_download(services, result.draft_id)
    with pytest.raises(LetterError, match=r"^no letter 999$"):
        preview_pages(services, 999, converter)
    assert converter.calls == 0


def test_the_download_is_the_current_revision_under_a_safe_ascii_name(services: Services) -> None:
    draft_id = automatic_acknowledgement(services)
    revised = revise(services, draft_id, COMPLETED, by="jo")
    download = letter_download(services, draft_id)
    complaint_id = letter_row(services, draft_id).complaint_id
    assert download.path == revised.path and download.revision == 2
    assert download.filename == f"{case_reference(complaint_id)}-stage1-acknowledgement-r2.docx"
    assert download.sha256 == sha256_hex(revised.path.read_bytes())
    assert download.content_type.endswith("wordprocessingml.document")
    name = download_filename("CMP-2026-000123", "stage1-acknowledgement", 2)
    assert name == f"{case_reference('CMP-2026-000123')}-stage1-acknowledgement-r2.docx"
    odd = download_filename("Plaintë/../\u202e-2026-000001", "refusal", 1)
    assert odd.isascii() and "/" not in odd and ".." not in odd and odd.endswith("-refusal-r1.docx")
