"""Write the three report templates (report_templates/*.docx) with python-docx.

Run: ``.venv/bin/python report_templates/build_templates.py``

- ``annual-report.docx``: the annual complaints performance and service improvement
  report (Code 8.1), with the governing body's response (8.2) left to complete;
- ``quarterly.docx``: the quarterly report for the Member Responsible for Complaints (9.x);
- ``self-assessment.docx``: the Code self-assessment in the Ombudsman's form layout.

The .docx files are committed so that a landlord can restyle them in Word (the
styles: Title, Heading 1, Heading 2, Normal, Caption, Table Grid and "Placeholder"),
and ``mailroom report annual --template FILE`` takes the restyled copy. Rebuilding
overwrites edits to the files here, so edit either this script or the .docx files,
not both; tests/unit/test_report_templates.py checks that they match this script.

They are docxtpl (Jinja) templates, written as the letter templates are
(letter_templates/build_templates.py): every tag is ONE run; table rows repeat with
``{%tr for ... %}`` rows, lists with ``{%p for ... %}`` paragraphs; every value is
text already formatted by ``mailroom/reports/report_context.py`` ("1,234", "97.8%");
the charts (``charts.<key>``) are images with alt text, inserted by
``mailroom/reports/report_docx.py``.

Accessibility: real headings (the PDF's bookmarks and a screen reader's outline),
table header rows marked as headers (and repeated on each page), a caption under
each chart, the document title and language (en-GB) set, Arial 11 pt.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
FONT = "Arial"
BLACK = RGBColor(0, 0, 0)
# Fixed so that a rebuild with no change gives the same bytes.
BUILT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
PLACEHOLDER_STYLE = "Placeholder"
PLACEHOLDER_MARK = "[To complete:"


class Report:
    """A report template being written, one block at a time."""

    def __init__(self, title: str, subject: str, footer: str, *, landscape: bool = False) -> None:
        self.doc: DocumentObject = Document()
        self._figures = 0
        self._styles()
        self._page(landscape)
        self._properties(title, subject)
        self._footer(footer)

    # -- set-up ----------------------------------------------------------------------

    def _styles(self) -> None:
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(11)
        normal.paragraph_format.space_after = Pt(6)
        normal.paragraph_format.line_spacing = 1.15
        for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 12.5)):
            style = styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.bold = True
            style.font.color.rgb = BLACK
            style.paragraph_format.space_before = Pt(14 if name != "Title" else 0)
            style.paragraph_format.space_after = Pt(6)
        caption = styles["Caption"]
        caption.font.name = FONT
        caption.font.size = Pt(10)
        caption.font.italic = False
        caption.font.bold = True
        caption.font.color.rgb = BLACK
        for name in ("List Bullet", "Table Grid"):
            styles[name].font.name = FONT
        placeholder = styles.add_style(PLACEHOLDER_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        placeholder.base_style = normal
        placeholder.font.italic = True
        placeholder.font.highlight_color = WD_COLOR_INDEX.YELLOW
        placeholder.quick_style = True
        self._language()

    def _language(self) -> None:
        """en-GB for every run, so a screen reader reads "organisation" and dates
        in British English and the PDF says its language."""
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        if defaults is None:
            return
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is None:
            return
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), "en-GB")
        lang.set(qn("w:eastAsia"), "en-GB")
        lang.set(qn("w:bidi"), "ar-SA")

    def _page(self, landscape: bool) -> None:
        section = self.doc.sections[0]
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_height, section.page_width = Cm(21.0), Cm(29.7)
        else:
            section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.0))

    def _properties(self, title: str, subject: str) -> None:
        props = self.doc.core_properties
        props.title = f"{title}: {{{{ period.label }}}}"
        props.subject = subject
        props.author = props.last_modified_by = "mailroom"
        props.comments = (
            "A docxtpl template: type each Jinja tag in one go, or paste it whole, so that Word "
            "keeps it in one piece. Restyle freely; keep the tags."
        )
        props.language = "en-GB"
        props.revision = 1
        props.created = props.modified = BUILT

    def _footer(self, label: str) -> None:
        footer = self.doc.sections[0].footer
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(f"{{{{ landlord }}}}: {label}, {{{{ period.label }}}}. Page ")
        run.font.size = Pt(9)
        page = OxmlElement("w:fldSimple")
        page.set(qn("w:instr"), "PAGE")
        number = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        number.append(text)
        page.append(number)
        paragraph._p.append(page)

    # -- blocks ----------------------------------------------------------------------

    def title(self, text: str) -> Paragraph:
        return self.doc.add_paragraph(text, style="Title")

    def h1(self, text: str) -> Paragraph:
        return self.doc.add_paragraph(text, style="Heading 1")

    def h2(self, text: str) -> Paragraph:
        return self.doc.add_paragraph(text, style="Heading 2")

    def p(
        self, text: str, style: str | None = None, bold: bool = False, after_table: bool = False
    ) -> Paragraph:
        """One paragraph whose text (tags included) is a single run; ``after_table``:
        room above it (Word and LibreOffice put none between a table and what follows)."""
        paragraph = self.doc.add_paragraph(style=style)
        if text:
            paragraph.add_run(text).bold = bold
        if after_table:
            paragraph.paragraph_format.space_before = Pt(8)
        return paragraph

    def tag(self, text: str) -> Paragraph:
        """A docxtpl paragraph tag (``{%p ... %}``): the whole paragraph is replaced."""
        return self.p(text)

    def bullet(self, text: str) -> Paragraph:
        return self.p(text, style="List Bullet")

    def placeholder(self, what: str) -> Paragraph:
        """A marked gap for a person to fill: highlighted, in the Placeholder style,
        starting "[To complete:" so that it is found before publishing."""
        return self.p(f"{PLACEHOLDER_MARK} {what}]", style=PLACEHOLDER_STYLE)

    def share_table(
        self,
        rows: str,
        label: str,
        count: str,
        *,
        widths: tuple[float, float] = (9.0, 3.0),
        empty: str = "None in the period.",
    ) -> None:
        """A table of ``rows`` counted three ways: what, how many, and its share."""
        columns = [
            (label, "{{ row.label }}", widths[0]),
            (count, "{{ row.count }}", widths[1]),
            ("Share", "{{ row.share }}", 3.0),
        ]
        self.table(rows, columns, empty=empty)

    def table(
        self,
        rows: str,
        columns: Sequence[tuple[str, str, float]],
        *,
        empty: str = "None in the period.",
        intro: str = "",
        font_size: float = 9.5,
    ) -> None:
        """A table of ``rows`` (``loop_table``); with no items the table is left out and
        ``empty`` is said instead. ``intro``: a paragraph before the table (also what
        keeps two tables from merging into one)."""
        self.tag(f"{{%p if {rows} %}}")
        if intro:
            self.p(intro, after_table=True)
        self.loop_table(rows, columns, font_size)
        self.tag("{%p else %}")
        self.p(empty)
        self.tag("{%p endif %}")

    def loop_table(
        self, rows: str, columns: Sequence[tuple[str, str, float]], font_size: float = 9.5
    ) -> None:
        """A table with one header row and a row repeated for each ``row`` of ``rows``
        (``{%tr for row in <rows> %}``); ``columns``: (heading, cell text, width in cm)."""
        table: Table = self.doc.add_table(rows=4, cols=len(columns))
        table.style = self.doc.styles["Table Grid"]
        table.autofit = False
        header, opening, body, closing = table.rows
        _mark_header(header)
        for index, (heading, cell_text, width) in enumerate(columns):
            _column_width(table, index, width)
            _cell_text(header.cells[index], heading, bold=True, size=font_size)
            _cell_text(body.cells[index], cell_text, size=font_size)
        _cell_text(opening.cells[0], f"{{%tr for row in {rows} %}}")
        _cell_text(closing.cells[0], "{%tr endfor %}")

    def chart(self, key: str, caption: str) -> None:
        """The chart image (``charts.<key>``, alt text set when it is inserted) and a caption."""
        self._figures += 1
        paragraph = self.p(f"{{{{ charts.{key} }}}}", after_table=True)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True
        self.p(f"Figure {self._figures}: {caption}", style="Caption")

    def save(self, path: Path) -> None:
        """Save with fixed zip timestamps, so a rebuild without changes gives the same bytes."""
        buffer = io.BytesIO()
        self.doc.save(buffer)
        out = io.BytesIO()
        with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                info = zipfile.ZipInfo(item.filename, date_time=BUILT.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, src.read(item))
        path.write_bytes(out.getvalue())


def _column_width(table: Table, index: int, width_cm: float) -> None:
    """The width in the table grid (what LibreOffice lays out by) and in every cell
    (what Word does)."""
    table.columns[index].width = Cm(width_cm)
    for row in table.rows:
        row.cells[index].width = Cm(width_cm)


def _mark_header(row: object) -> None:
    """Mark a table row as its header: repeated on each page, read as headers."""
    tr = row._tr  # type: ignore[attr-defined]
    properties = tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _cell_text(cell: object, text: str, bold: bool = False, size: float = 9.5) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


# -- blocks the annual and quarterly reports share ------------------------------------------


def about(report: Report, what: str) -> None:
    report.p("{{ landlord }}", bold=True)
    report.p("{{ period.label }}: {{ period.first_day }} to {{ period.last_day }}")
    report.p(
        f"{what} Produced by mailroom on {{{{ produced_on }}}} from the complaint records: every "
        "figure is counted from the cases, their Code clocks and the events recorded on them."
    )
    report.tag("{%p if notes %}")
    report.p("Notes on the figures:", bold=True)
    report.tag("{%p for note in notes %}")
    report.bullet("{{ note }}")
    report.tag("{%p endfor %}")
    report.tag("{%p endif %}")


def received(report: Report) -> None:
    report.h1("Complaints received")
    report.p("Complaints received in the period: {{ received_total }}.")
    report.table(
        "received", [("Stage", "{{ row.stage }}", 6.0), ("Complaints received", "{{ row.count }}", 5.0)]
    )
    report.h2("Complaints received per month")
    report.table(
        "months",
        [
            ("Month", "{{ row.month }}", 5.0),
            ("Stage 1", "{{ row.stage1 }}", 3.0),
            ("Stage 2", "{{ row.stage2 }}", 3.0),
            ("Total", "{{ row.total }}", 3.0),
        ],
    )
    report.chart("monthly_volumes", "Complaints received per month, by stage")


def categories(report: Report, heading: str, chart: bool) -> None:
    report.h2(heading)
    report.share_table("categories", "Category", "Complaints")
    if chart:
        report.chart("categories", "Complaints received by category")


def timeliness(report: Report) -> None:
    report.h1("Timeliness against the Code")
    report.p(
        "For each Code clock, the complaints whose clock stopped in the period: how many were handled "
        "within the time limit (an agreed extension counts), and the median and 90th percentile of the "
        "working days taken."
    ).paragraph_format.keep_with_next = True
    report.table(
        "timeliness",
        [
            ("Code clock", "{{ row.paragraph }} {{ row.title }}", 4.3),
            ("Time limit", "{{ row.limit }}", 2.2),
            ("Complaints", "{{ row.count }}", 2.6),
            ("In time", "{{ row.in_time }}", 1.6),
            ("% in time", "{{ row.percent }}", 1.7),
            ("Median days", "{{ row.median }}", 1.9),
            ("90th percentile days", "{{ row.p90 }}", 2.6),
        ],
        empty="No Code clock stopped in the period.",
        font_size=9.0,
    )
    report.p("Days are working days. A clock with no complaints has no percentage (n/a).", after_table=True)
    report.chart("timeliness", "Complaints handled within the Code's time limits, against the target of 100%")


def ombudsman(report: Report, heading: str) -> None:
    report.h1(heading)
    report.p(
        "Determinations in the period: {{ ombudsman_total }}. Orders made: {{ orders_total }}; "
        "complied with in time: {{ orders_complied }}. Compensation ordered: {{ ombudsman_compensation }}."
    )
    report.share_table(
        "ombudsman_findings",
        "Finding",
        "Determinations",
        widths=(8.0, 3.5),
        empty="The Ombudsman made no determinations about us in the period.",
    )
    report.table(
        "ombudsman",
        [
            ("Complaint", "{{ row.complaint_id }}", 3.0),
            ("Determined on", "{{ row.determined_on }}", 2.9),
            ("Finding", "{{ row.finding }}", 3.9),
            ("Orders", "{{ row.orders }}", 1.7),
            ("Complied with in time", "{{ row.complied }}", 2.3),
            ("Compensation", "{{ row.compensation }}", 3.2),
        ],
        empty="",
        font_size=9.0,
        intro="Each determination, with the orders made and those complied with in time:",
    )


def remedies(report: Report) -> None:
    report.h1("Remedies and compensation")
    report.p(
        "Remedies promised in responses: {{ remedies }}. Remedies completed: {{ remedies_completed }}; "
        "by the date promised (Code 7.3): {{ remedies_in_time }}. Compensation offered: {{ compensation }}."
    )


def learning(report: Report, heading: str) -> None:
    report.h2(heading)
    report.p("Learning recorded on cases in the period: {{ learning_total }}.")
    report.tag("{%p for item in learning %}")
    report.bullet("{{ item.complaint_id }}: {{ item.text }}")
    report.tag("{%p endfor %}")


# -- the three documents ---------------------------------------------------------------------


def annual_report() -> Report:
    report = Report(
        "Annual complaints performance and service improvement report",
        "Complaint Handling Code 8.1 and 8.2",
        "annual complaints report",
    )
    report.title("Annual complaints performance and service improvement report")
    about(
        report,
        "Our annual report on complaint handling under the Housing Ombudsman's Complaint Handling "
        "Code (paragraph 8.1), to the governing body and published with its response (8.2).",
    )
    report.h1("Introduction")
    report.placeholder(
        "an introduction: the year in brief, what residents told us through complaints and what changed."
    )

    received(report)
    categories(report, "Complaints by category", chart=True)
    timeliness(report)

    report.h1("Extensions")
    report.p("Extensions agreed in the period: {{ extensions_total }}. Their reasons:")
    report.share_table("extensions", "Reason", "Extensions")

    report.h1("Outcomes")
    report.table(
        "outcomes",
        [
            ("Stage", "{{ row.stage }}", 3.0),
            ("Outcome", "{{ row.label }}", 6.0),
            ("Complaints", "{{ row.count }}", 3.0),
            ("Share of the stage", "{{ row.share }}", 3.0),
        ],
    )
    report.chart("outcomes", "Outcomes of complaints responded to, by stage")

    report.h1("Complaints not accepted")
    report.p(
        "The types of complaint we did not accept, by the exclusion in our policy they rested on "
        "(Code 8.1b): {{ refused_total }} in the period."
    )
    report.share_table("refused", "Exclusion", "Complaints")
    report.h2("Escalations to stage 2 refused")
    report.p("Requests to escalate to stage 2 that we refused (Code 5.11): {{ escalations_refused_total }}.")
    report.share_table("escalations_refused", "Reason", "Requests")

    remedies(report)

    ombudsman(report, "Housing Ombudsman determinations")

    report.h1("Learning and service improvement")
    learning(report, "Learning recorded on cases")
    report.h2("Service improvements made")
    report.placeholder("the service improvements made from this learning (Code 8.1d), and their effect.")

    report.h1("Tenant Satisfaction Measures CH01 and CH02")
    report.p("Homes counted for CH01: {{ homes }}.")
    report.table(
        "tsm",
        [
            ("Measure", "{{ row.code }}", 2.2),
            ("What it measures", "{{ row.title }}", 6.0),
            ("Result", "{{ row.value }}", 3.3),
            ("Numerator", "{{ row.numerator }}", 2.6),
            ("Denominator", "{{ row.denominator }}", 2.9),
        ],
    )
    report.p("How each measure is counted:", after_table=True)
    report.tag("{%p for row in tsm %}")
    report.bullet("{{ row.code }}: {{ row.rule }}")
    report.tag("{%p endfor %}")

    report.h1("Self-assessment against the Code")
    report.p(
        "Our self-assessment against each provision of the Code (8.1a) is published with this report "
        "(made with `mailroom report self-assessment`)."
    )
    report.placeholder("where the self-assessment is published, and any provision we do not yet meet.")

    report.h1("Findings of non-compliance")
    report.placeholder("any findings of non-compliance with the Code by the Ombudsman (Code 8.1c).")

    report.h1("The Ombudsman's annual letter and other reports")
    report.placeholder(
        "the Ombudsman's annual landlord performance letter or report, and any other relevant "
        "Ombudsman reports or publications about us (Code 8.1e and 8.1f)."
    )

    report.h1("The governing body's response")
    report.placeholder(
        "the governing body's response to this report, published alongside it (Code 8.2): who "
        "considered it, when, and what they concluded."
    )
    return report


def quarterly_report() -> Report:
    report = Report(
        "Quarterly complaints report for the Member Responsible for Complaints",
        "Complaint Handling Code section 9",
        "quarterly complaints report",
    )
    report.title("Quarterly complaints report for the Member Responsible for Complaints")
    about(report, "Our regular update to the Member Responsible for Complaints (Code section 9).")
    received(report)
    timeliness(report)
    report.h1("Themes")
    categories(report, "Complaints by category", chart=False)
    learning(report, "Learning recorded on cases")
    report.h1("Outcomes")
    report.table(
        "outcomes",
        [
            ("Stage", "{{ row.stage }}", 3.0),
            ("Outcome", "{{ row.label }}", 6.0),
            ("Complaints", "{{ row.count }}", 3.0),
            ("Share of the stage", "{{ row.share }}", 3.0),
        ],
    )
    remedies(report)
    ombudsman(report, "Ombudsman outcomes and order compliance")
    report.h1("Commentary")
    report.placeholder("the complaints lead's commentary on the quarter, and actions for the Member to note.")
    return report


def self_assessment() -> Report:
    report = Report(
        "Complaint Handling Code self-assessment",
        "Complaint Handling Code 8.1a",
        "Complaint Handling Code self-assessment",
        landscape=True,
    )
    report.title("Complaint Handling Code self-assessment")
    report.p("{{ landlord }}", bold=True)
    report.p("{{ period.label }}: {{ period.first_day }} to {{ period.last_day }}.")
    report.p("Prepared on {{ produced_on }}.")
    report.p(
        "Each provision of the Housing Ombudsman's Complaint Handling Code, summarised; the Code's own "
        "text is the authority. Where mailroom's records can evidence a provision, the evidence column "
        "gives the figure for the period and how it was counted. Every other cell is for the complaints "
        "lead to complete: whether we comply (yes or no), the evidence, commentary, and for a provision "
        "we do not comply with, the actions and timescales to put it right."
    )
    report.tag("{%p for section in sections %}")
    report.h1("{{ section.title }}")
    report.loop_table(
        "section.provisions",
        [
            ("Provision", "{{ row.id }}", 2.3),
            ("Code requirement", "{{ row.requirement }}", 6.8),
            ("Comply: yes/no", "{{ row.comply }}", 1.9),
            ("Evidence", "{{ row.evidence }}", 7.3),
            ("Commentary / explanation", "{{ row.commentary }}", 3.6),
            ("Actions and timescales", "{{ row.actions }}", 3.8),
        ],
    )
    report.tag("{%p endfor %}")
    report.h1("Sign-off")
    report.placeholder("who completed this self-assessment, and when the governing body considered it.")
    return report


BUILDERS: dict[str, Callable[[], Report]] = {
    "annual-report": annual_report,
    "quarterly": quarterly_report,
    "self-assessment": self_assessment,
}


def build(directory: Path = HERE) -> list[Path]:
    written = []
    for name, builder in BUILDERS.items():
        path = directory / f"{name}.docx"
        builder().save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(HERE.parent))
