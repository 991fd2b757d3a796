"""Write the nine letter templates (letter_templates/<type>.docx) with python-docx.

Run: ``.venv/bin/python letter_templates/build_templates.py``

The .docx files are committed so that a landlord can open them in Word and adjust
the wording. Rebuilding overwrites those edits, so edit either this script or the
.docx files, not both.

The templates are docxtpl (Jinja) templates:
- every Jinja tag is written as ONE run, so Word and docxtpl never split it;
- lists use paragraph tags (``{%p for x in xs %}`` ... ``{%p endfor %}``), each on a
  paragraph of its own; inline ``{% if %}`` stays inside one run;
- variables: the automatic context and the type's fields
  (``mailroom.letters.types``); optional fields are guarded with ``{% if %}``;
- what each letter must say is in ``rules/housing-ombudsman-2024.toml``
  (``[letters.<type>]``); tests/unit/test_letter_pack_templates.py checks that
  each template says it.

Style: plain English, short sentences, Arial 12 pt, real headings (screen
readers), the reference and date in the page header, and the Housing Ombudsman's
online form and phone first (it no longer takes new enquiries by email).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from mailroom.letters.types import LetterType

HERE = Path(__file__).resolve().parent
FONT = "Arial"
BLACK = RGBColor(0, 0, 0)
LANGUAGE = "en-GB"
WEB_STYLE = "Web address"  # the character style of web and email addresses
# The address frame, in twentieths of a point from the page's top left corner: a DL
# window envelope (220 x 110 mm, window about 90 x 45 mm, 20 mm from the left and
# 15 mm from the bottom) shows 20-110 mm across and about 50-95 mm down of an A4
# sheet folded in three. The frame starts 25 mm across, 52 mm down, 85 mm wide,
# clear of the window's edges by 5 mm and with room for seven lines (large print).
_MM = 1440 / 25.4
ADDRESS_LEFT, ADDRESS_TOP = round(25 * _MM), round(52 * _MM)
ADDRESS_WIDTH, ADDRESS_HEIGHT = round(85 * _MM), round(30 * _MM)
# Fixed so that a rebuild with no wording change gives the same document properties.
BUILT = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


class Letter:
    """A letter template being written, one paragraph at a time."""

    def __init__(self, title: str) -> None:
        self.doc: DocumentObject = Document()
        self._styles()
        self._settings()
        self._properties(title)
        self._letterhead()
        self._continuation_header()
        for footer in (self.section.first_page_footer, self.section.footer):
            _page_x_of_y(footer.paragraphs[0])
        self._opening(title)

    @property
    def section(self) -> Section:
        return self.doc.sections[0]

    # -- page set-up -------------------------------------------------------------

    def _styles(self) -> None:
        styles = self.doc.styles
        # The document's language (a screen reader's voice, the PDF's /Lang) is set
        # once, in the defaults every style inherits.
        defaults = styles.element.find(qn("w:docDefaults"))
        assert defaults is not None
        _set_language(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")))
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(12)
        normal.paragraph_format.space_after = Pt(6)
        normal.paragraph_format.line_spacing = 1.15
        normal.paragraph_format.widow_control = True
        # Never hyphenate: a hyphen added at a line end would break a web or email
        # address (and an address with a hyphen of its own starts a line, see ``web``).
        _append(normal.element.get_or_add_pPr(), "w:suppressAutoHyphens")
        _set_language(normal.element.get_or_add_rPr())
        # Heading 1 is the letter's title (the PDF's first bookmark); Heading 2 the sections.
        for name, size in (("Heading 1", 15), ("Heading 2", 13)):
            style = styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.bold = True
            style.font.italic = False
            style.font.color.rgb = BLACK
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.space_after = Pt(6)
            style.paragraph_format.keep_with_next = True
        for name in ("List Bullet", "List Continue"):
            styles[name].font.name = FONT
        # Web and email addresses: a character style of their own, so that the large
        # print variant (mailroom/letters/large_print.py) can narrow them to one line.
        web = styles.add_style(WEB_STYLE, WD_STYLE_TYPE.CHARACTER)
        web.font.name = FONT
        _append(web.element.get_or_add_rPr(), "w:noProof")
        section = self.section
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.5))
        section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
        section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
        # Page 1 has the letterhead; later pages a short header (the reference and
        # date), so a page never starts with a block of repeated letterhead.
        section.different_first_page_header_footer = True

    def _settings(self) -> None:
        settings = self.doc.settings.element
        for old in settings.findall(qn("w:autoHyphenation")):
            settings.remove(old)
        lang = settings.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:val"), LANGUAGE)

    def _properties(self, title: str) -> None:
        props = self.doc.core_properties
        props.title = title  # the PDF's title, shown by readers instead of the file name
        props.subject = "A letter about your complaint"
        props.language = LANGUAGE
        props.author = props.last_modified_by = "mailroom"
        props.comments = (
            "A docxtpl template: type each Jinja tag in one go, or paste it whole, so that Word "
            "keeps it in one piece."
        )
        props.revision = 1
        props.created = props.modified = BUILT

    def _letterhead(self) -> None:
        """Page 1's header: who the letter is from. Short enough (five lines, also in
        large print) to end above the address window."""
        header = self.section.first_page_header
        header.is_linked_to_previous = False
        name = _tight(header.paragraphs[0])
        run = name.add_run("{{ landlord.name }}")
        run.bold = True
        run.font.size = Pt(14)
        # Each contact detail only when the landlord policy gives it, on a line of its
        # own (an address never wraps mid-way): a letter never prints an empty "Phone:".
        _tight(header.add_paragraph()).add_run("{% if landlord.address %}{{ landlord.address }}{% endif %}")
        _tight(header.add_paragraph()).add_run(
            "{% if landlord.phone %}Phone: {{ landlord.phone }}{% endif %}"
        )
        email = _tight(header.add_paragraph())
        email.add_run("{% if landlord.email %}Email: ")
        email.add_run("{{ landlord.email }}", style=WEB_STYLE)
        email.add_run("{% endif %}")
        web = _tight(header.add_paragraph())
        web.add_run("{% if landlord.website %}")
        web.add_run("{{ landlord.website }}", style=WEB_STYLE)
        web.add_run("{% endif %}")

    def _continuation_header(self) -> None:
        header = self.section.header
        header.is_linked_to_previous = False
        name = _tight(header.paragraphs[0])
        name.add_run("{{ landlord.name }}").bold = True
        for text in ("Our reference: {{ reference }}", "Date: {{ letter_date }}"):
            paragraph = _tight(header.add_paragraph())
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.add_run(text)
        _tight(header.add_paragraph())

    def _opening(self, title: str) -> None:
        # The postal address in a frame placed for a DL window envelope (A4 folded in
        # three): one line per address line, Royal Mail style, nothing else in the window.
        for text in (
            "{{ complainant_name }}",
            "{% if complainant_address %}{{ complainant_address }}{% endif %}",
        ):
            _address_frame(_tight(self.p(text)))
        for text in ("Our reference: {{ reference }}", "Date: {{ letter_date }}"):
            paragraph = self.p(text)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.space_after = Pt(0)
        self.p("")
        self.p("Dear {{ complainant_name }}")
        self.doc.add_paragraph(title, style="Heading 1")
        # A letter issued after its Code deadline says sorry for the delay first, in
        # the landlord's words ([timeliness] delay_apology); `letters check` requires it.
        self.tag("{%p if delay_apology %}")
        self.p("{{ delay_apology }}")
        self.tag("{%p endif %}")

    # -- paragraphs --------------------------------------------------------------

    def p(self, text: str, style: str | None = None, bold: bool = False) -> Paragraph:
        """One paragraph whose text (tags included) is a single run."""
        paragraph = self.doc.add_paragraph(style=style)
        if text:
            paragraph.add_run(text).bold = bold
        return paragraph

    def labelled(self, label: str, text: str, style: str | None = None) -> Paragraph:
        """A bold label, then the text (each a single run)."""
        paragraph = self.doc.add_paragraph(style=style)
        paragraph.add_run(label).bold = True
        paragraph.add_run(text)
        return paragraph

    def web(self, label: str, address: str, style: str | None = None, after: str = "") -> Paragraph:
        """A bold label, then a web or email address at the start of a line of its own
        (a line break before it), so it is never broken across lines."""
        paragraph = self.doc.add_paragraph(style=style)
        paragraph.add_run(label).bold = True
        paragraph.add_run().add_break()
        paragraph.add_run(address, style=WEB_STYLE)
        if after:
            paragraph.add_run(after)
        return paragraph

    def h(self, text: str) -> Paragraph:
        return self.doc.add_paragraph(text, style="Heading 2")

    def bullet(self, text: str) -> Paragraph:
        return self.p(text, style="List Bullet")

    def tag(self, text: str) -> Paragraph:
        """A docxtpl paragraph tag (``{%p ... %}``): the whole paragraph is replaced."""
        return self.p(text)

    def keep_last_with_next(self) -> None:
        """Keep the last paragraph of the body on the page of what follows (the closing)."""
        for paragraph in reversed(self.doc.paragraphs):
            if not paragraph.text.startswith("{%p"):
                paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.keep_together = True
                return

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


# -- layout helpers ------------------------------------------------------------------


def _append(parent: BaseOxmlElement, tag: str, **attributes: str) -> BaseOxmlElement:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    parent.append(element)
    return element


def _set_language(rpr: BaseOxmlElement) -> None:
    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    _append(rpr, "w:lang", val=LANGUAGE, eastAsia=LANGUAGE, bidi="ar-SA")


def _tight(paragraph: Paragraph) -> Paragraph:
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    return paragraph


def _address_frame(paragraph: Paragraph) -> None:
    """Put ``paragraph`` in the address frame. Consecutive paragraphs with the same
    frame properties share one frame (Word and LibreOffice)."""
    ppr = paragraph._p.get_or_add_pPr()
    frame = OxmlElement("w:framePr")
    for name, value in (
        ("w", str(ADDRESS_WIDTH)),
        ("h", str(ADDRESS_HEIGHT)),
        ("hRule", "atLeast"),
        ("wrap", "notBeside"),
        ("vAnchor", "page"),
        ("hAnchor", "page"),
        ("x", str(ADDRESS_LEFT)),
        ("y", str(ADDRESS_TOP)),
    ):
        frame.set(qn(f"w:{name}"), value)
    ppr.insert(0, frame)  # first in w:pPr, where the schema puts it (after pStyle)
    style = ppr.find(qn("w:pStyle"))
    if style is not None:
        ppr.remove(style)
        ppr.insert(0, style)


def _field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``): LibreOffice and Word compute it."""
    begin = paragraph.add_run()
    _append(begin._r, "w:fldChar", fldCharType="begin")
    code = paragraph.add_run()
    text = _append(code._r, "w:instrText")
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    text.text = f" {instruction} "
    _append(paragraph.add_run()._r, "w:fldChar", fldCharType="separate")
    paragraph.add_run(shown)
    _append(paragraph.add_run()._r, "w:fldChar", fldCharType="end")


def _page_x_of_y(paragraph: Paragraph) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("Page ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES", "1")


# -- blocks several letters share ----------------------------------------------------


def complaint_definition(letter: Letter, intro: str, outcome_label: str) -> None:
    letter.p(intro)
    letter.tag("{%p for point in points %}")
    letter.bullet("{{ point.summary }}")
    letter.labelled(outcome_label, "{{ point.outcome_sought }}", style="List Continue")
    letter.tag("{%p endfor %}")


def clarification(letter: Letter) -> None:
    letter.p(
        "If we have got anything wrong or missed something out, please tell us as soon as you can "
        "so that we can put it right."
    )


def responsibility(letter: Letter) -> None:
    letter.h("What we are responsible for")
    letter.p("We are responsible for looking into:")
    letter.tag("{%p for item in responsible_for %}")
    letter.bullet("{{ item }}")
    letter.tag("{%p endfor %}")
    letter.tag("{%p if not_responsible_for %}")
    letter.p("Some of what you raised is not our responsibility. We are not responsible for:")
    letter.tag("{%p for item in not_responsible_for %}")
    letter.bullet("{{ item }}")
    letter.tag("{%p endfor %}")
    letter.p("Where we can, we will tell you who can help with these.")
    letter.tag("{%p else %}")
    letter.p(
        "As far as we can tell, every part of your complaint is our responsibility. If you think "
        "another organisation is involved, please let us know."
    )
    letter.tag("{%p endif %}")


def support(letter: Letter) -> None:
    letter.h("Help and support")
    letter.p(
        "If you need any support or reasonable adjustments to take part in the complaints process, "
        "please tell us. For example, we can send letters in large print or another format, write "
        "in another language, or speak to someone you have chosen to act for you."
        "{% if adjustments %} We have noted that you asked for: {{ adjustments }}{% endif %}"
    )


def ombudsman_advice(letter: Letter) -> None:
    """The short Ombudsman paragraph for letters that do not have to give the details."""
    letter.p(
        "You can contact the {{ ombudsman.name }} at any time for free, independent advice about "
        "your complaint:"
    )
    letter.web("Online form:", "{{ ombudsman.webform }}", style="List Bullet")
    letter.labelled("Phone: ", "{{ ombudsman.phone }}", style="List Bullet")


def ombudsman_contacts(letter: Letter) -> None:
    """The Ombudsman's contact details, online form and phone first. Web addresses
    start a line of their own, so they are never broken across lines."""
    letter.web("Online form:", "{{ ombudsman.webform }}", style="List Bullet")
    letter.labelled("Phone: ", "{{ ombudsman.phone }}", style="List Bullet")
    letter.labelled("Post: ", "{{ ombudsman.post }}", style="List Bullet")
    letter.web("You can find out more on its website:", "{{ ombudsman.website }}")


def decisions(letter: Letter) -> None:
    letter.h("Our decision on each point")
    letter.tag("{%p for d in decisions %}")
    letter.p("{{ d.point }}", bold=True)
    # "Upheld", "Partly upheld", "Not upheld" (the field holds them in lower case).
    letter.labelled("Our decision: ", "{{ d.decision|capitalize }}")
    letter.labelled("The reasons for our decision: ", "{{ d.reasons }}")
    letter.tag("{%p if d.policy_cited %}")
    letter.labelled("What we based this on: ", "{{ d.policy_cited }}")
    letter.tag("{%p endif %}")
    letter.tag("{%p endfor %}")


def putting_right(letter: Letter) -> None:
    letter.h("Putting things right")
    letter.p(
        "{% if what_went_wrong %}We accept that we got things wrong, and we are sorry. "
        "{{ what_went_wrong }}"
        "{% elif remedies %}We accept that we got things wrong, and we are sorry."
        "{% else %}Having looked into your complaint, we have not found that we did anything wrong."
        "{% endif %}"
    )
    letter.tag("{%p if remedies %}")
    letter.p("We have thought about the impact this had on you.{% if impact %} {{ impact }}{% endif %}")
    letter.p("To put things right, we will:")
    letter.tag("{%p for r in remedies %}")
    letter.bullet("{{ r.what }} (by {{ r.by_when }})")
    letter.tag("{%p endfor %}")
    letter.p("In deciding this, we followed the Housing Ombudsman's guidance on remedies.")
    letter.tag("{%p else %}")
    letter.p("We are not offering a remedy for this complaint.")
    letter.tag("{%p endif %}")


def outstanding(letter: Letter) -> None:
    letter.h("What still needs to happen")
    letter.tag("{%p if outstanding_actions %}")
    letter.p(
        "Some actions are still outstanding. We will keep track of each one and keep you updated "
        "until it is done:"
    )
    letter.tag("{%p for a in outstanding_actions %}")
    letter.bullet("{{ a.what }} (by {{ a.by_when }})")
    letter.tag("{%p endfor %}")
    letter.tag("{%p else %}")
    letter.p("There are no outstanding actions on your complaint.")
    letter.tag("{%p endif %}")


def learning(letter: Letter) -> None:
    letter.tag("{%p if learning %}")
    letter.h("What we have learned")
    letter.p("{{ learning }}")
    letter.tag("{%p endif %}")


def contact_lines(paragraph: Paragraph, post: bool = False) -> None:
    """Our reference and the landlord's phone, email (and postal address), each on a
    line of its own after ``paragraph``'s text, so none is ever broken across lines."""
    paragraph.add_run().add_break()
    paragraph.add_run("Our reference: {{ reference }}")
    paragraph.add_run("{% if landlord.phone %}")
    paragraph.add_run().add_break()
    paragraph.add_run("Phone: {{ landlord.phone }}")
    paragraph.add_run("{% endif %}{% if landlord.email %}")
    paragraph.add_run().add_break()
    paragraph.add_run("Email: ")
    paragraph.add_run("{{ landlord.email }}", style=WEB_STYLE)
    paragraph.add_run("{% endif %}")
    if post:
        paragraph.add_run("{% if landlord.address %}")
        paragraph.add_run().add_break()
        paragraph.add_run("Post: {{ landlord.address }}")
        paragraph.add_run("{% endif %}")


def closing(letter: Letter) -> None:
    """How to get in touch and the signature, kept on one page with the paragraph
    before them (keep with next, keep lines together): the signature never starts a
    page of its own."""
    letter.keep_last_with_next()
    contact = letter.doc.add_paragraph()
    contact.add_run("If you have any questions, please contact us and quote our reference.")
    contact_lines(contact)
    block = [contact, letter.p("Yours sincerely"), letter.p("")]
    block += [letter.p("{{ signatory.name }}", bold=True), letter.p("{{ signatory.role }}")]
    block.append(letter.p("{{ landlord.name }}"))
    for paragraph in block:
        paragraph.paragraph_format.keep_together = True
        paragraph.paragraph_format.keep_with_next = paragraph is not block[-1]


# -- the nine letters ----------------------------------------------------------------


def stage1_acknowledgement() -> Letter:
    letter = Letter("Your complaint: stage 1")
    letter.p(
        "Thank you for your complaint, which we received on {{ received_date }}. "
        "We are sorry you have had reason to complain."
    )
    letter.p(
        "We have logged your complaint at stage 1 of our complaints procedure."
        "{% if handler_name %} {{ handler_name }} will look into it and will be your main contact."
        "{% endif %}"
    )
    letter.h("Our understanding of your complaint")
    complaint_definition(
        letter,
        "This is what we understand you are unhappy about, and what you would like us to do:",
        "The outcome you are looking for: ",
    )
    clarification(letter)
    responsibility(letter)
    letter.h("When we will reply")
    letter.p(
        "We will send you our stage 1 response by {{ response_due }}. If we need more time, we will "
        "write to you before then to explain why and to give you a new date."
    )
    support(letter)
    letter.h("The Housing Ombudsman")
    ombudsman_advice(letter)
    closing(letter)
    return letter


def extension(stage: int, cap: int, what: str) -> Letter:
    letter = Letter("Your complaint: we need more time")
    letter.p(
        f"We are writing about your stage {stage} complaint, which we acknowledged on "
        "{{ acknowledged_date }}."
    )
    letter.p(
        f"We said we would send you our {what} by {{{{ original_due }}}}. We are sorry, but we now "
        f"need more time to look into your complaint properly. We will now send you our {what} by "
        "{{ new_date }}."
    )
    letter.h("Why we need more time")
    letter.p("{{ extension_reason }}")
    letter.tag("{%p if good_reason %}")
    letter.p(f"We know this is more than {cap} extra working days. We think this is necessary because:")
    letter.p("{{ good_reason }}")
    letter.tag("{%p endif %}")
    letter.h("Keeping you updated")
    letter.p(
        "{% if update_interval %}We will update you {{ update_interval }} until then."
        "{% else %}We will keep you updated until then.{% endif %} Please tell us how often you would "
        "like an update, and how you would like us to contact you."
        "{% if handler_name %} {{ handler_name }} is your main contact.{% endif %}"
    )
    letter.h("If you are unhappy about the delay")
    letter.p(
        "If you are unhappy about this extension, please tell us. You can also contact the "
        "{{ ombudsman.name }} for free, independent advice:"
    )
    ombudsman_contacts(letter)
    closing(letter)
    return letter


def stage1_extension() -> Letter:
    return extension(1, 10, "stage 1 response")


def stage2_extension() -> Letter:
    return extension(2, 20, "final response")


def refusal() -> Letter:
    letter = Letter("Your complaint: why we cannot accept it")
    letter.p(
        "Thank you for contacting us on {{ received_date }}. We are sorry you have had reason to complain."
    )
    letter.p(
        "We have looked carefully at what you told us, on its own merits and taking into account "
        "your individual circumstances. We have decided that we cannot accept it as a formal "
        "complaint under our complaints policy."
    )
    letter.h("Why we have made this decision")
    letter.p(
        '{% if exclusion == "over-12-months" %}Our complaints policy says we will not normally '
        "accept a complaint about an issue that happened more than 12 months before the complaint "
        "was made, unless there is a good reason to."
        '{% elif exclusion == "legal-proceedings" %}Our complaints policy says we will not accept a '
        "complaint about a matter once legal proceedings about it have started, which means the "
        "details of the claim have been filed at court."
        '{% elif exclusion == "previously-considered" %}Our complaints policy says we will not '
        "accept a complaint about a matter we have already considered under our complaints policy."
        "{% else %}Our complaints policy sets out the situations in which we cannot accept a "
        "complaint, and this is one of them.{% endif %}"
    )
    letter.p("{{ refusal_reason }}")
    letter.tag('{%p if exclusion == "over-12-months" %}')
    letter.p(
        "{% if issue_date %}You told us the issue happened, or you first became aware of it, on "
        "{{ issue_date }}. {% endif %}That is more than 12 months before you complained to us on "
        "{{ received_date }}."
    )
    letter.p("We have considered whether to use our discretion to accept your complaint even so.")
    letter.p("{% if discretion_considered %}{{ discretion_considered }}{% endif %}")
    letter.tag("{%p endif %}")
    letter.tag("{%p if alternative_route %}")
    letter.h("Other ways we can help")
    letter.p("{{ alternative_route }}")
    letter.tag("{%p endif %}")
    letter.h("If you disagree with our decision")
    letter.p(
        "If you disagree with our decision, please tell us. You also have the right to ask the "
        "{{ ombudsman.name }} to look at our decision not to accept your complaint. Its service is "
        "free and independent:"
    )
    ombudsman_contacts(letter)
    closing(letter)
    return letter


def stage1_response() -> Letter:
    letter = Letter("Our stage 1 response to your complaint")
    letter.p(
        "Thank you for your complaint, which we received on {{ received_date }} and acknowledged on "
        "{{ acknowledged_date }}. This letter is our stage 1 response."
        "{% if handler_name %} {{ handler_name }} looked into your complaint.{% endif %}"
    )
    letter.h("Our understanding of your complaint")
    complaint_definition(
        letter,
        "You told us you were unhappy about the following, and what you wanted us to do:",
        "The outcome you were looking for: ",
    )
    decisions(letter)
    putting_right(letter)
    outstanding(letter)
    letter.tag("{%p if new_issues %}")
    letter.h("Other things you raised")
    letter.p("{{ new_issues }}")
    letter.tag("{%p endif %}")
    learning(letter)
    letter.h("If you are not happy with our response")
    letter.p(
        "If you are not happy with our response, you can ask us to look at your complaint again at "
        "stage 2 of our complaints procedure. Someone who was not involved at stage 1 will review it."
    )
    ask = letter.p("To ask for stage 2, just contact us in whatever way suits you, quoting our reference.")
    contact_lines(ask, post=True)
    letter.p(
        "You do not have to give reasons for asking for stage 2. It helps us if you tell us which "
        "parts of our response you are still unhappy with, but that is up to you."
    )
    letter.h("The Housing Ombudsman")
    ombudsman_advice(letter)
    closing(letter)
    return letter


def stage2_acknowledgement() -> Letter:
    letter = Letter("Your complaint: stage 2")
    letter.p(
        "Thank you for asking us on {{ escalation_date }} to look at your complaint again. "
        "We have logged it at stage 2, the final stage of our complaints procedure."
    )
    letter.p(
        "{{ handler_name }}, who was not involved in our stage 1 response, will review your "
        "complaint and will be your main contact."
    )
    letter.p(
        "You did not have to give reasons for asking for stage 2. But we want to understand why "
        "you are still unhappy, so we have set out below what we think is still unresolved."
    )
    letter.h("Our understanding of your complaint at stage 2")
    complaint_definition(
        letter,
        "This is what we understand you are still unhappy about, and what you would like us to do:",
        "The outcome you are looking for: ",
    )
    clarification(letter)
    responsibility(letter)
    letter.h("When we will reply")
    letter.p(
        "We will send you our final response by {{ response_due }}. If we need more time, we will "
        "write to you before then to explain why and to give you a new date."
    )
    support(letter)
    letter.h("The Housing Ombudsman")
    ombudsman_advice(letter)
    closing(letter)
    return letter


def stage2_response() -> Letter:
    letter = Letter("Our final response to your complaint")
    letter.p(
        "Thank you for asking us to look at your complaint again. We acknowledged your stage 2 "
        "complaint on {{ acknowledged_date }}."
    )
    letter.p("This letter is our stage 2 response. It is our final response under our complaints procedure.")
    letter.p(
        "{{ handler_name }}, who was not involved at stage 1, reviewed your complaint. To reach our "
        "decision we involved {{ staff_involved }}."
    )
    letter.h("Our understanding of your complaint")
    complaint_definition(
        letter,
        "You told us you were still unhappy about the following, and what you wanted us to do:",
        "The outcome you were looking for: ",
    )
    decisions(letter)
    putting_right(letter)
    outstanding(letter)
    learning(letter)
    letter.h("If you are still not happy")
    letter.p(
        "This is the end of our complaints procedure. If you are still not happy, you can ask the "
        "{{ ombudsman.name }} to look at your complaint. Its service is free and independent:"
    )
    ombudsman_contacts(letter)
    closing(letter)
    return letter


def escalation_refusal() -> Letter:
    letter = Letter("Your request for stage 2")
    letter.p("Thank you for asking us on {{ escalation_date }} to look at your complaint again at stage 2.")
    letter.p(
        "Normally, if you are unhappy with all or part of our stage 1 response, we must look at your "
        "complaint again at stage 2. We can only refuse in limited situations, set out in our "
        "complaints policy."
    )
    letter.p(
        "We have looked carefully at your request, on its own merits, and we have decided that we "
        "cannot take your complaint to stage 2."
    )
    letter.h("Why we have made this decision")
    letter.p(
        '{% if exclusion == "over-12-months" %}Our complaints policy says we will not normally '
        "consider a complaint about an issue that happened more than 12 months before the complaint "
        "was made."
        '{% elif exclusion == "legal-proceedings" %}Our complaints policy says we will not escalate '
        "a complaint once legal proceedings about it have started, which means the details of the "
        "claim have been filed at court."
        '{% elif exclusion == "previously-considered" %}Our complaints policy says we will not '
        "escalate a matter we have already considered in full under our complaints policy."
        "{% else %}Our complaints policy sets out the situations in which we will not escalate a "
        "complaint, and this is one of them.{% endif %}"
    )
    letter.p("{{ refusal_reason }}")
    letter.p(
        "You never need to give reasons for wanting stage 2, and that has played no part in our decision."
    )
    letter.tag("{%p if alternative_route %}")
    letter.h("Other ways we can help")
    letter.p("{{ alternative_route }}")
    letter.tag("{%p endif %}")
    letter.h("If you disagree with our decision")
    letter.p(
        "If you disagree with our decision, please tell us. You also have the right to ask the "
        "{{ ombudsman.name }} to look at our decision. Its service is free and independent:"
    )
    ombudsman_contacts(letter)
    closing(letter)
    return letter


def outstanding_actions() -> Letter:
    letter = Letter("An update on the actions we agreed")
    letter.p("We are writing to update you on the actions we agreed to take to put things right.")
    letter.tag("{%p if completed %}")
    letter.p("Since we last wrote, we have completed:")
    letter.tag("{%p for item in completed %}")
    letter.bullet("{{ item }}")
    letter.tag("{%p endfor %}")
    letter.tag("{%p endif %}")
    letter.h("What still needs to happen")
    letter.p("These actions are still outstanding. We will keep track of each one until it is done:")
    letter.tag("{%p for a in outstanding_actions %}")
    letter.bullet("{{ a.what }} (by {{ a.by_when }})")
    letter.tag("{%p endfor %}")
    letter.tag("{%p if cannot_deliver %}")
    letter.h("Something we cannot do as planned")
    letter.p("{{ cannot_deliver }}")
    letter.tag("{%p endif %}")
    letter.h("Keeping you updated")
    letter.p(
        "{% if next_update %}We will send you our next update no later than {{ next_update }}, or "
        "sooner if anything changes.{% else %}We will keep you updated until everything is done.{% endif %} "
        "If you would like updates more or less often, please tell us."
    )
    letter.h("The Housing Ombudsman")
    ombudsman_advice(letter)
    closing(letter)
    return letter


BUILDERS: dict[LetterType, Callable[[], Letter]] = {
    LetterType.STAGE1_ACKNOWLEDGEMENT: stage1_acknowledgement,
    LetterType.STAGE1_EXTENSION: stage1_extension,
    LetterType.REFUSAL: refusal,
    LetterType.STAGE1_RESPONSE: stage1_response,
    LetterType.STAGE2_ACKNOWLEDGEMENT: stage2_acknowledgement,
    LetterType.STAGE2_EXTENSION: stage2_extension,
    LetterType.STAGE2_RESPONSE: stage2_response,
    LetterType.ESCALATION_REFUSAL: escalation_refusal,
    LetterType.OUTSTANDING_ACTIONS: outstanding_actions,
}


def build(directory: Path = HERE) -> list[Path]:
    written = []
    for letter_type in LetterType:
        path = directory / f"{letter_type.value}.docx"
        BUILDERS[letter_type]().save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(HERE.parent))
