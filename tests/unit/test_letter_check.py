"""Reading a DOCX back (docx_text) and the mandated-element checker (check)."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml

from mailroom.letters.check import (
    CaseFacts,
    CheckResult,
    ElementSpec,
    check_letter,
    find_dates,
    parse_element_specs,
)
from mailroom.letters.docx_text import DocxReadError, DocxText, read_docx_text

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
TEXTBOX_RUN = f"""
<w:r {W_NS}
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
  xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
  xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
  xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
  xmlns:v="urn:schemas-microsoft-com:vml">
  <mc:AlternateContent>
    <mc:Choice Requires="wps">
      <w:drawing><wp:anchor><a:graphic>
        <a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">
          <wps:wsp><wps:txbx><w:txbxContent>
            <w:p><w:r><w:t>Text box: Housing Ombudsman 0300 111 3000</w:t></w:r></w:p>
          </w:txbxContent></wps:txbx></wps:wsp>
        </a:graphicData>
      </a:graphic></wp:anchor></w:drawing>
    </mc:Choice>
    <mc:Fallback>
      <w:pict><v:shape><v:textbox><w:txbxContent>
        <w:p><w:r><w:t>Text box: Housing Ombudsman 0300 111 3000</w:t></w:r></w:p>
      </w:txbxContent></v:textbox></v:shape></w:pict>
    </mc:Fallback>
  </mc:AlternateContent>
</w:r>"""


def block_sdt(text: str) -> str:
    return (
        f"<w:sdt {W_NS}><w:sdtPr><w:alias w:val='Definition'/></w:sdtPr><w:sdtContent>"
        f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )


def run_sdt(text: str) -> str:
    return f"<w:sdt {W_NS}><w:sdtPr/><w:sdtContent><w:r><w:t>{text}</w:t></w:r></w:sdtContent></w:sdt>"


def rich_docx(path: Path) -> Path:
    """Every place letter text can hide: headers (default, first, even), footer,
    nested table, content controls, a text box, split runs, smart quotes, nbsp."""
    document = docx.Document()
    section = document.sections[0]
    section.different_first_page_header_footer = True
    document.settings.odd_and_even_pages_header_footer = True
    section.header.paragraphs[0].text = "Default header: Ref C-2026-0001"
    section.first_page_header.paragraphs[0].text = "First page header: Riverside Homes"
    section.even_page_header.paragraphs[0].text = "Even page header"
    section.footer.paragraphs[0].text = "Footer: complaints@riverside.example"

    document.add_paragraph("Dear Ms O\u2019Neil,")
    split = document.add_paragraph()
    for piece in ("We have lo", "gged your comp", "laint at ", "Stage\u00a01."):
        split.add_run(piece)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Outer cell"
    inner = table.cell(0, 1).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "Nested cell: \u201cboiler repair\u201d"
    document.element.body.insert(
        len(document.element.body) - 1, parse_xml(block_sdt("Block control: your outcome"))
    )
    with_run_control = document.add_paragraph("Run control: ")
    with_run_control._p.append(parse_xml(run_sdt("we will respond by 4 December 2026")))
    anchor = document.add_paragraph("Anchor paragraph.")
    anchor._p.append(parse_xml(TEXTBOX_RUN))
    breaks = document.add_paragraph("Line one")
    breaks.runs[0].add_break(WD_BREAK.LINE)
    breaks.add_run("line two")
    hidden = document.add_paragraph("Visible.")
    hidden.add_run(" Hidden words").font.hidden = True
    document.save(str(path))
    return path


# --- docx_text ---------------------------------------------------------------------


def test_reads_every_place_in_document_order(tmp_path: Path) -> None:
    doc = read_docx_text(rich_docx(tmp_path / "rich.docx"))
    p = doc.paragraphs
    expected_in_order = [
        "First page header: Riverside Homes",
        "Default header: Ref C-2026-0001",
        "Even page header",
        "Dear Ms O'Neil,",
        "We have logged your complaint at Stage 1.",
        "Outer cell",
        'Nested cell: "boiler repair"',
        "Block control: your outcome",
        "Run control: we will respond by 4 December 2026",
        "Anchor paragraph.",
        "Text box: Housing Ombudsman 0300 111 3000",
        "Line one line two",
        "Visible.",
        "Footer: complaints@riverside.example",
    ]
    assert p == expected_in_order
    assert doc.text == " ".join(expected_in_order)
    assert "Hidden" not in doc.text


def test_header_not_shown_is_not_read(tmp_path: Path) -> None:
    document = docx.Document()
    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "First only"
    section.different_first_page_header_footer = False  # titlePg off again: never shown
    document.add_paragraph("Body")
    path = tmp_path / "hidden-header.docx"
    document.save(str(path))
    assert read_docx_text(path).paragraphs == ["Body"]


def test_multiple_sections_each_with_headers(tmp_path: Path) -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Header one"
    document.add_paragraph("Section one body")
    second = document.add_section()
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "Header two"
    document.add_paragraph("Section two body")
    path = tmp_path / "sections.docx"
    document.save(str(path))
    assert read_docx_text(path).paragraphs == [
        "Header one",
        "Section one body",
        "Header two",
        "Section two body",
    ]


def test_reads_bytes_and_rejects_non_docx(tmp_path: Path) -> None:
    path = rich_docx(tmp_path / "r.docx")
    assert read_docx_text(path.read_bytes()).paragraphs == read_docx_text(path).paragraphs
    not_zip = tmp_path / "letter.docx"
    not_zip.write_text("plain text")
    with pytest.raises(DocxReadError, match="not a DOCX file") as caught:
        read_docx_text(not_zip)
    assert "\n" not in str(caught.value)
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(DocxReadError, match="no main document part"):
        read_docx_text(buffer.getvalue())


# --- specs -------------------------------------------------------------------------

SPECS = parse_element_specs(
    [
        {
            "id": "stage",
            "description": "Says this is a Stage 1 complaint",
            "paragraph": "6.2",
            "tag": "V",
            "patterns": [r"\bstage\s*(1|one)\b"],
            "case_check": "stage",
        },
        {
            "id": "ombudsman",
            "description": "Contact details of the Ombudsman",
            "paragraph": "6.5",
            "tag": "S/V",
            "patterns": [r"housing ombudsman", r"0300 111 3000"],
        },
        {
            "id": "response_date",
            "description": "Expected response date",
            "paragraph": "6.3",
            "tag": "S/V",
            "patterns": [r"\b(respond|response|reply)\b"],
            "case_check": "response_date",
            "fields": ["response_due"],
        },
        {
            "id": "no_reasons_needed",
            "description": "Escalation wording does not require reasons",
            "paragraph": "6.12",
            "tag": "S",
            "patterns": [r"stage 2"],
            "forbidden_patterns": [r"(tell|explain|give)\s+us\s+(the\s+|your\s+)?reasons?"],
        },
        {
            "id": "responsibility",
            "description": "Which parts the landlord is responsible for",
            "paragraph": "5.7",
            "tag": "M",
            "patterns": [r"responsib"],
        },
        {
            "id": "handler",
            "description": "Handler named",
            "paragraph": "",
            "tag": "GP",
            "patterns": [r"case handler"],
        },
    ]
)

GOOD = """Dear Ms O'Neil,
Your complaint has been logged at Stage 1 of our complaints procedure.
We will respond by 4 December 2026.
We are responsible for the repair; the gas supplier is responsible for the meter.
If you are unhappy with our response you can ask us to consider it at stage 2.
Your case handler is Sam Patel.
You can contact the Housing Ombudsman on 0300 111 3000.
"""
FACTS = CaseFacts(stage=1, response_due=date(2026, 12, 4))


def by_id(result: CheckResult) -> dict[str, str]:
    return {e.id: e.status for e in result.elements}


def test_good_letter_passes_every_element() -> None:
    result = check_letter(GOOD, SPECS, FACTS)
    assert result.passed, result.to_json()
    assert set(by_id(result).values()) == {"pass"}
    assert by_id(result)["placeholders"] == "pass"


def test_missing_enforced_element_fails() -> None:
    result = check_letter(GOOD.replace("0300 111 3000", "our website"), SPECS, FACTS)
    assert not result.passed
    [failure] = result.failures()
    assert failure.id == "ombudsman" and failure.enforced and failure.paragraph == "6.5"
    # Plain English: what the resident would miss and the fix, never the pattern.
    assert "contact details of the Ombudsman" in failure.reason and "Fix:" in failure.reason
    assert "0300 111 3000" not in failure.reason and "\\b" not in failure.reason


def test_placeholder_in_element_paragraph_fails() -> None:
    letter = GOOD.replace("4 December 2026", "[insert date]")
    result = check_letter(letter, SPECS, FACTS)
    statuses = by_id(result)
    assert statuses["response_date"] == "fail"
    element = next(e for e in result.elements if e.id == "response_date")
    assert "placeholder" in element.reason
    assert statuses["placeholders"] == "fail"
    assert not result.passed


@pytest.mark.parametrize(
    "marker", ["{{ due_date }}", "«due_date»", "<<due>>", "[DATE]", "XXX", "TBC", "{% x %}"]
)
def test_each_placeholder_marker_is_found(marker: str) -> None:
    result = check_letter(GOOD.replace("Sam Patel", marker), SPECS, FACTS)
    assert by_id(result)["placeholders"] == "fail", marker
    assert by_id(result)["handler"] == "warn"  # GP element in that paragraph: info only


def test_markers_inside_supplied_data_are_not_placeholders() -> None:
    quoted = "Your complaint: I have waited <<forever>> for {{ anyone }} to come."
    letter = GOOD + quoted + "\n"
    assert not check_letter(letter, SPECS, FACTS).passed
    result = check_letter(
        letter, SPECS, FACTS, data_values=["I have waited <<forever>> for {{ anyone }} to come."]
    )
    assert result.passed, result.to_json()


def test_forbidden_wording_fails() -> None:
    letter = GOOD.replace(
        "ask us to consider it at stage 2", "ask for stage 2 but you must tell us your reasons"
    )
    result = check_letter(letter, SPECS, FACTS)
    element = next(e for e in result.elements if e.id == "no_reasons_needed")
    assert element.status == "fail" and "does not allow" in element.reason
    assert "tell us your reasons" in element.reason
    assert not result.passed


def test_warn_only_and_info_elements_do_not_block() -> None:
    letter = GOOD.replace("responsible", "accountable").replace("case handler", "contact")
    result = check_letter(letter, SPECS, FACTS)
    assert result.passed
    responsibility = next(e for e in result.elements if e.id == "responsibility")
    handler = next(e for e in result.elements if e.id == "handler")
    assert (responsibility.status, responsibility.enforced, responsibility.severity) == (
        "warn",
        False,
        "warning",
    )
    assert (handler.status, handler.enforced, handler.severity) == ("warn", False, "info")


def test_without_case_facts_case_checks_are_not_checked() -> None:
    result = check_letter(GOOD, SPECS)
    assert result.passed
    for element_id in ("stage", "response_date"):
        element = next(e for e in result.elements if e.id == element_id)
        assert element.status == "skip" and "not checked" in element.reason


@pytest.mark.parametrize(
    "written",
    [
        "4 December 2026",
        "4th December 2026",
        "04/12/2026",
        "Friday 4 December 2026",
        "4 Dec 2026",
        "Friday, 4th Dec. 2026",
    ],
)
def test_response_date_formats(written: str) -> None:
    result = check_letter(GOOD.replace("4 December 2026", written), SPECS, FACTS)
    assert by_id(result)["response_date"] == "pass", result.to_json()


def test_response_date_missing_or_later_fails() -> None:
    wrong = check_letter(GOOD.replace("4 December 2026", "5 December 2026"), SPECS, FACTS)
    element = next(e for e in wrong.elements if e.id == "response_date")
    assert element.status == "fail" and "not stated" in element.reason

    later = GOOD.replace(
        "We will respond by 4 December 2026.",
        "We aim to reply by 4 December 2026, but our full response will reach you by 18 December 2026.",
    )
    result = check_letter(later, SPECS, FACTS)
    element = next(e for e in result.elements if e.id == "response_date")
    assert element.status == "fail" and "18 December 2026" in element.reason
    assert not result.passed


def test_earlier_dates_in_the_response_paragraph_are_fine() -> None:
    letter = GOOD.replace(
        "We will respond by 4 December 2026.",
        "Following your email of 20/11/2026 we will respond by 4 December 2026.",
    )
    assert check_letter(letter, SPECS, FACTS).passed


EXTENSION = [
    ElementSpec(
        id="new_date",
        description="Extension with the expected timescale",
        paragraph="6.4",
        tag="S/V",
        patterns=(r"\bextend|extension\b",),
        case_check="extension_within_cap",
    )
]
EXTENSION_LETTER = (
    "We need to extend the time to respond to your complaint because it is complex.\n"
    "We said we would respond by 4 December 2026. Our new date to respond is {new}.\n"
)


def test_extension_within_cap_passes() -> None:
    facts = CaseFacts(stage=1, response_due=date(2026, 12, 4), extension_cap_date=date(2026, 12, 18))
    result = check_letter(EXTENSION_LETTER.format(new="18 December 2026"), EXTENSION, facts)
    assert by_id(result)["new_date"] == "pass" and result.passed


def test_extension_beyond_cap_fails_unless_good_reason() -> None:
    facts = CaseFacts(stage=1, response_due=date(2026, 12, 4), extension_cap_date=date(2026, 12, 18))
    letter = EXTENSION_LETTER.format(new="Friday 8 January 2027")
    result = check_letter(letter, EXTENSION, facts)
    element = result.elements[0]
    assert (
        element.status == "fail"
        and "8 January 2027" in element.reason
        and "18 December 2026" in element.reason
    )
    assert not result.passed

    good_reason = CaseFacts(
        stage=1,
        response_due=date(2026, 12, 4),
        extension_cap_date=date(2026, 12, 18),
        good_reason_recorded=True,
    )
    result = check_letter(letter, EXTENSION, good_reason)
    assert result.elements[0].status == "warn" and result.passed


def test_extension_without_a_date_fails() -> None:
    facts = CaseFacts(stage=1, extension_cap_date=date(2026, 12, 18))
    result = check_letter("We need to extend the time to respond. We will let you know.", EXTENSION, facts)
    assert result.elements[0].status == "fail"


def test_stage_checks() -> None:
    stage_only = [s for s in SPECS if s.id == "stage"]
    at_stage_2 = CaseFacts(stage=2)
    # A stage 1 letter sent on a stage 2 case: the pattern matches but the stage is wrong.
    result = check_letter("Your complaint has been logged at Stage 1.", stage_only, at_stage_2)
    assert result.elements[0].status == "fail"

    stage2_specs = [
        ElementSpec(id="stage", description="", paragraph="6.11", tag="S", patterns=(), case_check="stage")
    ]
    ok = "Following our stage 1 response, your complaint is now at stage 2 of our procedure."
    assert check_letter(ok, stage2_specs, at_stage_2).passed
    contradictory = "Your complaint is now at stage 1. You asked for stage 2."
    result = check_letter(contradictory, stage2_specs, at_stage_2)
    assert result.elements[0].status == "fail" and "stage 1" in result.elements[0].reason
    assert check_letter("This is a Stage One complaint.", stage_only, CaseFacts(stage=1)).passed


def test_checks_text_in_headers_footers_tables_controls_and_text_boxes(tmp_path: Path) -> None:
    doc = read_docx_text(rich_docx(tmp_path / "rich.docx"))
    specs = parse_element_specs(
        {
            "ombudsman_in_text_box": {
                "description": "",
                "paragraph": "6.5",
                "tag": "V",
                "patterns": ["0300 111 3000"],
            },
            "ref_in_header": {
                "description": "",
                "paragraph": "",
                "tag": "S",
                "patterns": [r"Ref C-\d{4}-\d{4}"],
            },
            "email_in_footer": {"description": "", "paragraph": "", "tag": "S", "patterns": [r"complaints@"]},
            "nested_cell": {"description": "", "paragraph": "", "tag": "S", "patterns": [r'"boiler repair"']},
            "block_control": {"description": "", "paragraph": "", "tag": "S", "patterns": [r"your outcome"]},
            "split_runs": {
                "description": "",
                "paragraph": "",
                "tag": "S",
                "patterns": [r"logged your complaint"],
            },
            "stage": {
                "description": "",
                "paragraph": "",
                "tag": "V",
                "patterns": [r"stage 1"],
                "case_check": "stage",
            },
            "due": {
                "description": "",
                "paragraph": "6.3",
                "tag": "S/V",
                "patterns": ["respond"],
                "case_check": "response_date",
            },
        }
    )
    result = check_letter(doc, specs, FACTS)
    assert result.passed, json.dumps(result.to_json(), indent=1)
    assert all(e.status == "pass" for e in result.elements)


def test_to_json_is_serialisable() -> None:
    result = check_letter(GOOD.replace("Stage 1", "Stage [insert]"), SPECS, FACTS)
    data = json.loads(json.dumps(result.to_json()))
    assert data["passed"] is False
    assert {"id", "paragraph", "description", "status", "enforced", "reason", "severity"} <= set(
        data["elements"][0]
    )
    assert data["counts"]["fail"] >= 1


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="bad regex"):
        ElementSpec(id="x", description="", paragraph="", tag="V", patterns=("(",))
    with pytest.raises(ValueError, match="unknown case_check"):
        ElementSpec.from_mapping({"id": "x", "tag": "V", "patterns": "a", "case_check": "moon_phase"})
    spec = ElementSpec.from_mapping(
        {"tag": "S/V", "patterns": "ombudsman", "paragraph": 6.5}, default_id="hos"
    )
    assert (spec.id, spec.patterns, spec.paragraph, spec.enforced) == ("hos", ("ombudsman",), "6.5", True)
    assert ElementSpec(id="m", description="", paragraph="", tag="M", patterns=("a",)).severity == "warning"
    assert ElementSpec(id="g", description="", paragraph="", tag="GP", patterns=("a",)).severity == "info"
    assert ElementSpec(id="v", description="", paragraph="", tag="V/M", patterns=("a",)).enforced


def test_find_dates() -> None:
    text = "On 31/02/2026 (no such day), 1st Jan 2027, December 4, 2026 and 2026-12-05; 4.12.26."
    assert [d for d, _, _ in find_dates(text)] == [
        date(2027, 1, 1),
        date(2026, 12, 4),
        date(2026, 12, 5),
        date(2026, 12, 4),
    ]


def test_docx_text_from_plain_text() -> None:
    doc = DocxText.from_text("  One\u00a0two \n\n\u201cthree\u201d ")
    assert doc.paragraphs == ["One two", '"three"']
    assert doc.paragraph_at(doc.text.index("three")) == 1


def test_draft_fields_decide_applies_when_and_empty_fields() -> None:
    specs = parse_element_specs(
        [
            {
                "id": "remedy-when",
                "description": "What will happen and by when",
                "paragraph": "7.3",
                "tag": "V",
                "patterns": [r"we will .{0,80} by \d{1,2} \w+ \d{4}"],
                "fields": ["remedies"],
                "applies_when": {"field": "remedies", "present": True},
            },
            {
                "id": "time-limit",
                "description": "Date of the issue",
                "paragraph": "2.3",
                "tag": "V",
                "patterns": [r"happened on"],
                "fields": ["issue_date"],
                "applies_when": {"field": "exclusion", "equals": "over-12-months"},
            },
        ]
    )
    letter = "We will repaint the kitchen by 8 January 2027. It happened on 1 March 2025."
    no_fields = {e.id: (e.status, e.reason) for e in check_letter(letter, specs).elements}
    assert no_fields["remedy-when"][0] == "skip" and "not checked" in no_fields["remedy-when"][1]

    draft = {"remedies": [], "exclusion": "not-a-complaint", "issue_date": None}
    statuses = by_id(check_letter(letter, specs, draft_fields=draft))
    assert statuses["remedy-when"] == "skip" and statuses["time-limit"] == "skip"

    draft = {"remedies": ["Repaint"], "exclusion": "over-12-months", "issue_date": None}
    result = check_letter(letter, specs, draft_fields=draft)
    assert by_id(result)["remedy-when"] == "pass"
    time_limit = next(e for e in result.elements if e.id == "time-limit")
    assert time_limit.status == "fail" and "issue_date" in time_limit.reason
    assert not result.passed
