"""The report documents from figures built by hand, with the real template, docxtpl,
matplotlib and LibreOffice: the annual report converts to PDF, and pdftotext finds
every heading and every figure as the report formats it; its four charts are
embedded with alt text; the narrative and governing-body gaps are marked; the
self-assessment (DOCX and CSV) has 6.2 filled in and the rest left for a person;
the quarterly report renders; text from cases prints literally."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn

from mailroom.config import Settings
from mailroom.reports.annual import write_annual
from mailroom.reports.charts import all_charts
from mailroom.reports.model import (
    ClockTimeliness,
    Count,
    Learning,
    MonthVolumes,
    OmbudsmanDetermination,
    Period,
    PeriodFigures,
    TsmFigure,
)
from mailroom.reports.quarterly import write_quarterly
from mailroom.reports.report_context import ReportFacts, report_context
from mailroom.reports.report_docx import REPORT_TEMPLATES, ReportError, render_report, write_document
from mailroom.reports.report_facts import report_facts
from mailroom.reports.self_assessment import write_self_assessment

pytestmark = pytest.mark.slow  # LibreOffice conversions: seconds each

ROOT = Path(__file__).resolve().parents[2]
PRODUCED_ON = date(2027, 4, 20)
HOSTILE = "Damp & mould {{ 7*7 }} {% if x %}<w:p>oops</w:p>"
HOSTILE_LEARNING = "Ask {{ config }} {%p endfor %} first & check <w:t>raw</w:t>"

ANNUAL_HEADINGS = (
    "Annual complaints performance and service improvement report",
    "Introduction",
    "Complaints received",
    "Complaints received per month",
    "Complaints by category",
    "Timeliness against the Code",
    "Extensions",
    "Outcomes",
    "Complaints not accepted",
    "Escalations to stage 2 refused",
    "Remedies and compensation",
    "Housing Ombudsman determinations",
    "Learning and service improvement",
    "Learning recorded on cases",
    "Service improvements made",
    "Tenant Satisfaction Measures CH01 and CH02",
    "Self-assessment against the Code",
    "Findings of non-compliance",
    "The Ombudsman's annual letter and other reports",
    "The governing body's response",
)
QUARTERLY_HEADINGS = (
    "Quarterly complaints report for the Member Responsible for Complaints",
    "Complaints received",
    "Timeliness against the Code",
    "Themes",
    "Complaints by category",
    "Outcomes",
    "Remedies and compensation",
    "Ombudsman outcomes and order compliance",
    "Commentary",
)


def year_figures() -> PeriodFigures:
    months = [f"{2026 + (n > 12)}-{(n - 1) % 12 + 1:02d}" for n in range(4, 16)]
    stage1 = [98, 104, 111, 120, 87, 95, 110, 132, 121, 140, 116, 128]
    stage2 = [9, 11, 12, 8, 10, 13, 9, 12, 14, 11, 10, 19]
    return PeriodFigures(
        period=Period("2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        homes=12_480,
        received={1: sum(stage1), 2: sum(stage2)},
        by_month=[MonthVolumes(m, a, b) for m, a, b in zip(months, stage1, stage2, strict=True)],
        by_category=[
            Count("Repairs and maintenance", 612),
            Count(HOSTILE, 287),
            Count("Anti-social behaviour", 141),
            Count("Staff conduct", 98),
            Count("Rent and service charges", 84),
        ],
        timeliness=[
            ClockTimeliness("stage1_acknowledgement", "6.2", "Acknowledge stage 1", 1262, 1234, 2.0, 4.0),
            ClockTimeliness("stage1_response", "6.3", "Stage 1 response", 1188, 1069, 8.0, 14.5),
            ClockTimeliness("stage2_acknowledgement", "6.11", "Acknowledge stage 2", 131, 127, 3.0, 5.0),
            ClockTimeliness("stage2_response", "6.14", "Stage 2 final response", 122, 101, 17.0, 31.0),
        ],
        extensions=[Count("Complexity of the complaint", 57), Count("Waiting for a contractor's report", 23)],
        outcomes={
            1: [Count("Upheld", 402), Count("Partly upheld", 311), Count("Not upheld", 475)],
            2: [Count("Upheld", 31), Count("Partly upheld", 44), Count("Not upheld", 47)],
        },
        refused_by_exclusion=[
            Count("The issue occurred over twelve months ago", 19),
            Count("Legal proceedings have started", 6),
        ],
        escalations_refused_by_exclusion=[Count("Previously considered under the complaints policy", 3)],
        remedies=233,
        remedies_completed=214,
        remedies_completed_in_time=197,
        compensation_pence=4_872_350,
        ombudsman=[
            OmbudsmanDetermination("HC-2025-04417", date(2026, 6, 3), "maladministration", 4, 3, 75_000),
            OmbudsmanDetermination("HC-2026-00212", date(2026, 11, 19), "service failure", 2, 2, 25_000),
            OmbudsmanDetermination("HC-2026-00845", date(2027, 2, 8), "no maladministration", 0, 0, 0),
        ],
        learning=[
            Learning("HC-2026-00117", "Book the follow-up repair visit before closing the job"),
            Learning("HC-2026-00342", HOSTILE_LEARNING),
        ],
        tsm=[
            TsmFigure("CH01(1)", "Stage 1 complaints received per 1,000 homes", 1, 109.1, 1362, 12_480,
                      "per 1,000 homes", "Stage 1 complaints received in the year per 1,000 homes."),
            TsmFigure("CH01(2)", "Stage 2 complaints received per 1,000 homes", 2, 11.1, 138, 12_480,
                      "per 1,000 homes", "Stage 2 complaints received in the year per 1,000 homes."),
            TsmFigure("CH02(1)", "Stage 1 complaints responded to within the Code's timescales", 1, 90.0,
                      1069, 1188, "%", "Acknowledged in 5 and answered in 10 working days, or as extended."),
            TsmFigure("CH02(2)", "Stage 2 complaints responded to within the Code's timescales", 2, 82.8,
                      101, 122, "%", "Acknowledged in 5 and answered in 20 working days, or as extended."),
        ],
        notes=["2 complaints had no category: counted as Uncategorised"],
    )  # fmt: skip


def quarter_figures() -> PeriodFigures:
    figures = year_figures()
    figures.period = Period("2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30))
    figures.by_month = figures.by_month[:3]
    return figures


def settings() -> Settings:
    # A real landlord policy file: its name heads the report and its footer.
    return Settings.model_validate(
        {"policy": {"landlord_file": ROOT / "rules/policies/self-assessment-2023.toml"}}
    )


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Whitespace (line ends inside table cells included) as single spaces."""
    return " ".join(text.split())


def leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)


def docx_text(document: DocumentObject) -> str:
    return "\n".join(
        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in document.element.body.iter(qn("w:p"))
    )


@dataclass(frozen=True)
class Annual:
    docx: Path
    pdf: Path
    facts: ReportFacts


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        pytest.fail("LibreOffice (soffice) is not installed: run `make system-deps`", pytrace=False)
    return found


@pytest.fixture(scope="module")
def annual(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> Annual:
    folder = tmp_path_factory.mktemp("annual")
    figures = year_figures()
    docx_path = write_annual(settings(), figures, folder / "annual-2026-27.docx", produced_on=PRODUCED_ON)
    pdf_path = write_annual(settings(), figures, folder / "annual-2026-27.pdf", produced_on=PRODUCED_ON)
    return Annual(docx_path, pdf_path, report_facts(settings(), PRODUCED_ON))


# -- the annual report ------------------------------------------------------------------------


def test_the_annual_report_converts_to_a_pdf_with_every_heading(annual: Annual) -> None:
    assert annual.pdf.read_bytes().startswith(b"%PDF-")
    text = flat(pdf_text(annual.pdf))
    for heading in ANNUAL_HEADINGS:
        assert heading in text, heading
    document = docx.Document(str(annual.docx))
    styled = {
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    }
    assert set(ANNUAL_HEADINGS) <= styled  # real headings: the outline a screen reader reads


def test_every_figure_of_the_report_is_in_the_pdf_as_the_report_formats_it(annual: Annual) -> None:
    text = flat(pdf_text(annual.pdf))
    context = report_context(year_figures(), annual.facts)
    expected = [flat(value) for value in leaves(context) if value.strip()]
    missing = [value for value in expected if value not in text]
    assert missing == []
    # Spot checks of what was computed, not merely copied: totals, shares, ratios, money.
    for figure in (
        "Example Housing Association",
        "1 April 2026 to 31 March 2027",
        "Complaints received in the period: 1,500.",
        "97.8%",
        "1,234",
        "14.5",
        "90.0%",  # CH02(1)
        "Orders made: 6; complied with in time: 83.3% (5 of 6).",
        "Compensation offered: £48,723.50.",
        "by the date promised (Code 7.3): 92.1% (197 of 214)",
        "109.1 per 1,000 homes",
        "Homes counted for CH01: 12,480.",
        "Extensions agreed in the period: 80.",
        "(Code 8.1b): 25 in the period.",
        "Produced by mailroom on 20 April 2027",
    ):
        assert figure in text, figure
    # The figures stand in their rows: one row of the timeliness table, as laid out.
    layout = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(annual.pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert re.search(r"6\.3 Stage 1 response +10 working +1,188 +1,069 +90\.0% +8 +14\.5\n", layout)


def test_the_four_charts_are_embedded_with_their_alt_text(annual: Annual) -> None:
    charts = all_charts(year_figures(), annual.facts.limits)
    with zipfile.ZipFile(annual.docx) as archive:
        media = [name for name in archive.namelist() if name.startswith("word/media/")]
    assert len(media) == 4
    document = docx.Document(str(annual.docx))
    inline = document.inline_shapes
    assert len(inline) == 4
    described = [(shape._inline.docPr.get("title"), shape._inline.docPr.get("descr")) for shape in inline]
    assert described == [(chart.title, chart.alt_text) for chart in charts]  # in the report's order
    assert all(title and descr and len(descr) > 60 for title, descr in described)
    # The data in words, e.g. the monthly chart's range of stage 1 complaints.
    assert "stage 1 ranged from 87 (August 2026) to 140 (January 2027)" in described[0][1]
    images = subprocess.run(
        ["pdfimages", "-list", str(annual.pdf)], capture_output=True, text=True, check=True
    )
    kinds = [line.split()[2] for line in images.stdout.strip().splitlines()[2:]]  # after two header lines
    assert kinds.count("image") == 4  # and each its alpha channel ("smask")
    text = flat(pdf_text(annual.pdf))
    for number, caption in enumerate(("Complaints received per month", "Complaints received by category"), 1):
        assert f"Figure {number}: {caption}" in text


def test_the_narrative_and_the_governing_bodys_response_are_marked_gaps(annual: Annual) -> None:
    document = docx.Document(str(annual.docx))
    gaps = [p for p in document.paragraphs if p.text.startswith("[To complete:")]
    assert all(p.style is not None and p.style.name == "Placeholder" for p in gaps)
    assert len(gaps) == 6
    headings = [
        p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")
    ]
    preceding = {}
    for paragraph in document.paragraphs:
        if paragraph.style is not None and paragraph.style.name.startswith("Heading"):
            current = paragraph.text
        elif paragraph.text.startswith("[To complete:"):
            preceding[current] = paragraph.text
    assert {"Introduction", "Service improvements made", "The governing body's response"} <= set(preceding)
    assert "governing body's response to this report" in preceding["The governing body's response"]
    assert headings[-1] == "The governing body's response"
    text = flat(pdf_text(annual.pdf))
    assert text.count("[To complete:") == 6


def test_text_from_cases_prints_literally(annual: Annual) -> None:
    text = flat(pdf_text(annual.pdf))
    assert flat(HOSTILE) in text
    assert flat(HOSTILE_LEARNING) in text
    assert "mould 49" not in text and "Ask  first" not in text  # never evaluated as template code
    document_text = docx_text(docx.Document(str(annual.docx)))
    assert HOSTILE in document_text and f"HC-2026-00342: {HOSTILE_LEARNING}" in document_text


# -- the self-assessment -------------------------------------------------------------------------


def self_assessment_rows(path: Path) -> dict[str, list[str]]:
    document = docx.Document(str(path))
    rows = {}
    for table in document.tables:
        for row in table.rows[1:]:
            cells = [cell.text for cell in row.cells]
            rows[cells[0]] = cells
    return rows


def test_the_self_assessment_docx_fills_in_what_mailroom_can_evidence(tmp_path: Path) -> None:
    path = write_self_assessment(settings(), year_figures(), tmp_path / "sa.docx", produced_on=PRODUCED_ON)
    rows = self_assessment_rows(path)
    assert len(rows) == 72
    provision, requirement, comply, evidence, commentary, actions = rows["6.2"]
    assert requirement.startswith("Stage 1 complaints are acknowledged")
    assert evidence.startswith(
        "Acknowledged, defined and logged within 5 working days: 97.8% (1,234 of 1,262)."
    )
    assert (comply, commentary, actions) == ("", "", "")
    assert rows["6.14"][3].startswith(
        "Stage 2 responses issued within 20 working days of the acknowledgement"
    )
    assert "82.8% (101 of 122)" in rows["6.14"][3]
    for provision in ("1.1", "3.4", "5.12", "6.13", "9.5"):
        assert rows[provision][1] and rows[provision][2:] == ["", "", "", ""], provision
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings[:2] == ["1. Definition of a complaint", "2. Exclusions"]
    assert "Example Housing Association" in docx_text(document)


def test_the_self_assessment_csv_has_the_form_columns_and_6_2_filled_in(tmp_path: Path) -> None:
    path = write_self_assessment(settings(), year_figures(), tmp_path / "sa.csv", produced_on=PRODUCED_ON)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    assert len(rows) == 72
    by_id = {row["Provision"]: row for row in rows}
    assert by_id["6.2"]["Evidence"].startswith(
        "Acknowledged, defined and logged within 5 working days: 97.8% (1,234 of 1,262)."
    )
    assert by_id["6.2"]["Code section"] == "6. Complaint stages: stage 1"
    assert by_id["6.2"]["Figure"] == "timeliness.stage1_acknowledgement"
    assert by_id["6.2"]["Comply (yes/no)"] == ""
    assert by_id["1.1"]["Evidence"] == "" and by_id["1.1"]["Figure"] == ""


# -- the quarterly report ---------------------------------------------------------------------------


def test_the_quarterly_report_renders_with_its_charts_and_converts(tmp_path: Path, soffice: str) -> None:
    figures = quarter_figures()
    docx_path = write_quarterly(settings(), figures, tmp_path / "q1.docx", produced_on=PRODUCED_ON)
    document = docx.Document(str(docx_path))
    headings = {
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    }
    assert set(QUARTERLY_HEADINGS) <= headings
    shapes = document.inline_shapes
    assert len(shapes) == 2 and all(shape._inline.docPr.get("descr") for shape in shapes)
    assert "April 2026 to June 2026" in shapes[0]._inline.docPr.get("descr")
    pdf = write_quarterly(settings(), figures, tmp_path / "q1.pdf", produced_on=PRODUCED_ON)
    text = flat(pdf_text(pdf))
    for heading in QUARTERLY_HEADINGS:
        assert heading in text
    assert "2026-27 Q1: 1 April 2026 to 30 June 2026" in text
    assert "complied with in time: 83.3% (5 of 6)" in text


# -- refusals ---------------------------------------------------------------------------------------


def test_a_template_reaching_for_python_internals_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "evil.docx"
    document = docx.Document()
    document.add_paragraph("{{ cycler.__init__.__globals__.os.popen('id').read() }}")
    document.save(str(template))
    facts = ReportFacts("Landlord", PRODUCED_ON)
    with pytest.raises(ReportError, match=r"evil\.docx: SecurityError"):
        render_report(template, report_context(year_figures(), facts))


def test_a_template_naming_an_unknown_figure_is_refused_in_one_line(tmp_path: Path) -> None:
    template = tmp_path / "restyled.docx"
    document = docx.Document()
    document.add_paragraph("{{ complaints_recieved }}")
    document.save(str(template))
    with pytest.raises(
        ReportError, match=r"restyled\.docx: UndefinedError: 'complaints_recieved' is undefined"
    ):
        render_report(template, report_context(year_figures(), ReportFacts("Landlord", PRODUCED_ON)))


def test_a_file_that_is_not_a_docx_and_an_unknown_suffix_are_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.docx"
    bogus.write_text("not a zip", encoding="utf-8")
    with pytest.raises(ReportError, match=r"bogus\.docx: not a DOCX file"):
        render_report(bogus, {})
    with pytest.raises(ReportError, match="template file not found"):
        render_report(tmp_path / "missing.docx", {})
    facts = ReportFacts("L", PRODUCED_ON)
    rendered = render_report(
        REPORT_TEMPLATES / "quarterly.docx",
        report_context(quarter_figures(), facts),
        all_charts(quarter_figures(), facts.limits),
    )
    with pytest.raises(ReportError, match=r"written as \.docx or \.pdf, not \.odt"):
        write_document(rendered, tmp_path / "report.odt")
    assert not (tmp_path / "report.odt").exists()


# -- the commands, on a real store ------------------------------------------------------------------


def test_the_commands_write_the_documents_from_a_store(tmp_path: Path, db_url: str) -> None:
    """Wiring only (the figures are tested with the figures): an empty store on SQLite
    and PostgreSQL gives the three documents, and a period of the wrong kind is refused."""
    from mailroom.errors import IntakeError
    from mailroom.report_docs_cli import report_annual, report_quarterly, report_self_assessment
    from mailroom.services import build_services
    from tests.conftest import make_settings

    build_services(make_settings(tmp_path / "storage", db_url)).store.engine.dispose()  # creates the store
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f'[storage]\nroot = "{tmp_path / "storage"}"\n[database]\nurl = "{db_url}"\n[maildir]\npath = ""\n',
        encoding="utf-8",
    )
    report_annual("2026-27", tmp_path / "annual.docx", None, config)
    report_quarterly("2026-27 Q2", tmp_path / "q2.docx", None, config)
    report_self_assessment("2026-27", tmp_path / "sa.csv", None, config)
    annual_text = docx_text(docx.Document(str(tmp_path / "annual.docx")))
    assert "2026-27: 1 April 2026 to 31 March 2027" in annual_text
    assert "Complaints received in the period: 0." in annual_text
    quarterly_text = docx_text(docx.Document(str(tmp_path / "q2.docx")))
    assert "2026-27 Q2: 1 July 2026 to 30 September 2026" in quarterly_text
    rows = list(csv.DictReader((tmp_path / "sa.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 72
    with pytest.raises(IntakeError, match="not a quarter"):
        report_annual("2026-27 Q1", tmp_path / "no.docx", None, config)
    with pytest.raises(IntakeError, match="give a quarter"):
        report_quarterly("2026-27", tmp_path / "no.docx", None, config)
    assert not (tmp_path / "no.docx").exists()
