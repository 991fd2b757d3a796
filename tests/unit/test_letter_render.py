"""The letter renderer: sandbox, strict variables, escaping, illegal characters,
complainant text as data, cache, and the template lint."""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docxtpl import Listing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailroom.letters.docx_text import normalise_text, read_docx_text
from mailroom.letters.render import (
    LetterRenderer,
    MultilineText,
    TemplateError,
    clean_context,
    clean_text,
    lint_template,
)

TRICKY = "Smith & Sons <Ltd> \"quoted\" 'single'"
ILLEGAL = "a\x00b\x0bc\x1bd\ufffee\udc80f"
INJECTION = "{{ 7*7 }} {% for x in y %} {# c #} {_{ x }_} {%p if 1 %}"


def make_template(
    path: Path,
    paragraphs: list[str],
    *,
    header: str | None = None,
    footer: str | None = None,
    cell: str | None = None,
    title: str | None = None,
) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if cell is not None:
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "Field"
        table.cell(0, 1).text = cell
    section = document.sections[0]
    if header is not None:
        section.header.paragraphs[0].text = header
    if footer is not None:
        section.footer.paragraphs[0].text = footer
    if title is not None:
        document.core_properties.title = title
    document.save(str(path))
    return path


def twenty_kb_text(seed: int = 7) -> str:
    rng = random.Random(seed)
    words = [
        "repair",
        "damp",
        "mould",
        "A&E",
        "<urgent>",
        '"leak"',
        "it's",
        "£250",
        "café",
        "—",
        "{x}",
        "50%",
    ]
    lines = []
    while sum(len(line) + 1 for line in lines) < 20_000:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 14))))
    return "\n".join(lines)


@pytest.fixture
def renderer() -> LetterRenderer:
    return LetterRenderer()


# --- sandbox and strict variables ------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "{{ cycler.__init__.__globals__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_sandbox_refuses_attribute_escapes(tmp_path: Path, renderer: LetterRenderer, tag: str) -> None:
    template = make_template(tmp_path / "evil.docx", [f"Hello {tag}"])
    with pytest.raises(TemplateError) as caught:
        renderer.render(template, {})
    message = str(caught.value)
    assert "evil.docx" in message and "unsafe" in message
    assert "\n" not in message


def test_sandbox_applies_to_headers_and_core_properties(tmp_path: Path, renderer: LetterRenderer) -> None:
    in_header = make_template(tmp_path / "h.docx", ["x"], header="{{ ''.__class__.__mro__ }}")
    in_title = make_template(tmp_path / "t.docx", ["x"], title="{{ ''.__class__.__mro__ }}")
    for template in (in_header, in_title):
        with pytest.raises(TemplateError, match="unsafe"):
            renderer.render(template, {})


def test_missing_variable_is_an_error_naming_it(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "ack.docx", ["Dear {{ complainant_name }},"])
    with pytest.raises(TemplateError) as caught:
        renderer.render(template, {"case_reference": "C-1"})
    assert "ack.docx" in str(caught.value)
    assert "complainant_name" in str(caught.value)


def test_not_a_docx_is_a_one_line_error(tmp_path: Path, renderer: LetterRenderer) -> None:
    fake = tmp_path / "letter.docx"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(TemplateError, match=r"^letter\.docx: not a DOCX file") as caught:
        renderer.render(fake, {})
    assert "\n" not in str(caught.value)
    with pytest.raises(TemplateError, match="not found"):
        renderer.render(tmp_path / "missing.docx", {})


# --- cleaning, escaping, data stays data ------------------------------------------


def test_clean_text_removes_xml_illegal_characters() -> None:
    assert clean_text(ILLEGAL) == "abcdef"
    assert clean_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert clean_text("emoji 😀 ok") == "emoji 😀 ok"


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_clean_text_strips_every_bidi_control() -> None:
    assert clean_text(f"Ali{BIDI}ce") == "Alice"
    # "Trojan Source": shown reversed, the stored text would read differently.
    assert clean_text("Pay \u202e0001\u202c GBP") == "Pay 0001 GBP"
    # Right-to-left text itself is kept; only the invisible controls go.
    assert clean_text("\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd") == (
        "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd"
    )


def test_bidi_controls_never_reach_a_rendered_letter(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(
        tmp_path / "bidi.docx", ["Dear {{ name }},", "{{ points }}"], header="{{ name }}"
    )
    context = {"name": f"Evil\u202e{BIDI}Name", "points": "one\u2066two\u2069\nx\u200fy"}
    data = renderer.render(template, context)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(
            archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml")
        )
    assert not any(ch in xml for ch in BIDI)
    assert "EvilName" in read_docx_text(data).text


def test_clean_context_recurses_and_makes_listings() -> None:
    cleaned = clean_context({"a": ["x\x00", {"b": ("one\ntwo",)}], "n": 3})
    assert cleaned["a"][0] == "x"
    listing = cleaned["a"][1]["b"][0]
    assert isinstance(listing, MultilineText) and listing == "one\ntwo"
    assert cleaned["n"] == 3


def test_callers_listing_is_cleaned_too(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "listing.docx", ["A: {{ a }}", "B: {{ b }}"])
    context = {"a": Listing("x\x00 & <y>\nz\x0b"), "b": TRICKY}
    paragraphs = read_docx_text(renderer.render(template, context)).paragraphs
    assert paragraphs == ["A: x & <y> z", f"B: {TRICKY}"]


def fuzz_template(path: Path) -> Path:
    return make_template(
        path,
        ["Dear {{ name }},", "Summary: [{{ summary }}]", "Data: {{ injection }}", "Long: {{ long }}", "End."],
        header="Ref {{ ref }}",
        footer="Footer {{ name }}",
        cell="{{ name }}",
    )


def test_fuzz_fields_survive_intact(tmp_path: Path, renderer: LetterRenderer) -> None:
    long_text = twenty_kb_text()
    context = {
        "name": TRICKY + ILLEGAL,
        "summary": "line one & <two>\nline \"three\" 'four'\x0b\x00\ttabbed",
        "injection": INJECTION,
        "long": long_text,
        "ref": "C-2026/0001 & <x>",
    }
    text = read_docx_text(renderer.render(fuzz_template(tmp_path / "fuzz.docx"), context)).text
    for value in context.values():
        assert normalise_text(clean_text(value)) in text
    # Escaped once: no entity shows through, and the illegal characters are gone.
    assert "&amp;" not in text and "&lt;" not in text and "&#" not in text
    assert "\x00" not in text and "\ufffe" not in text
    # Not evaluated: the injected tags are printed as typed.
    assert "{{ 7*7 }}" in text and "49" not in text.replace(long_text, "")
    assert "{_{ x }_}" in text


def test_illegal_character_does_not_corrupt_other_fields(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "two.docx", ["A: {{ a }}", "B: {{ b }}"])
    for bad in ("\x00", "\x0b", "\x1b", "\ufffe"):
        text = read_docx_text(renderer.render(template, {"a": f"x{bad}y", "b": TRICKY})).text
        assert f"B: {TRICKY}" in text
        assert "A: xy" in text


def test_line_breaks_survive_as_breaks(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "lines.docx", ["Text: {{ body }}"])
    out = renderer.render(template, {"body": "first & one\nsecond < two"})
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert "<w:br/>" in xml
    assert "first &amp; one" in xml and "second &lt; two" in xml
    assert "&amp;amp;" not in xml


def test_multiline_values_work_with_filters(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(
        tmp_path / "filters.docx", ["{% if body %}{{ body|upper }}{% endif %}|{{ body }}"]
    )
    text = read_docx_text(renderer.render(template, {"body": "a & b\nc"})).text
    assert "A & B C|a & b c" in text


def test_split_runs_and_loops_render(tmp_path: Path, renderer: LetterRenderer) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Dear ")
    paragraph.add_run("{{ compl").bold = True
    paragraph.add_run("ainant_name }},")
    document.add_paragraph("{%p for item in actions %}")
    document.add_paragraph("- {{ item.what }} by {{ item.when }}")
    document.add_paragraph("{%p endfor %}")
    path = tmp_path / "split.docx"
    document.save(str(path))
    context = {
        "complainant_name": "Ms O'Neil",
        "actions": [
            {"what": "Fix the <boiler>", "when": "1 Dec"},
            {"what": "Refund & apologise", "when": "2 Dec"},
        ],
    }
    paragraphs = read_docx_text(renderer.render(path, context)).paragraphs
    assert "Dear Ms O'Neil," in paragraphs
    assert "- Fix the <boiler> by 1 Dec" in paragraphs
    assert "- Refund & apologise by 2 Dec" in paragraphs


def test_rendered_core_properties_are_escaped_once(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "props.docx", ["x"], title="Letter {{ ref }}")
    out = renderer.render(template, {"ref": "C-1 & <2>"})
    assert docx.Document(io.BytesIO(out)).core_properties.title == "Letter C-1 & <2>"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
            st.sampled_from(
                [
                    "&",
                    "<",
                    ">",
                    '"',
                    "'",
                    "\x00",
                    "\x0b",
                    "\x1b",
                    "\ufffe",
                    "\n",
                    "{{ 7*7 }}",
                    "{% for %}",
                    "}}",
                ]
            ),
        ),
        max_size=12,
    ).map("".join)
)
def test_any_text_round_trips(tmp_path: Path, value: str) -> None:
    template = tmp_path / "prop.docx"
    if not template.exists():
        make_template(template, ["A[{{ a }}]Z"], header="H[{{ a }}]")
    text = read_docx_text(LetterRenderer().render(template, {"a": value})).text
    cleaned = clean_text(value)
    assert normalise_text(f"A[{cleaned}]Z") in text
    assert normalise_text(f"H[{cleaned}]") in text


# --- cache -------------------------------------------------------------------------


def test_cache_gives_identical_output_and_notices_edits(tmp_path: Path, renderer: LetterRenderer) -> None:
    template = make_template(tmp_path / "cached.docx", ["Dear {{ name }},"])
    context = {"name": TRICKY}
    first = renderer.render(template, context)
    compiled = renderer.compiled(template)
    assert renderer.render(template, context) == first
    assert renderer.compiled(template) is compiled  # not re-parsed
    assert LetterRenderer().render(template, context) == first  # deterministic bytes

    make_template(template, ["Hello {{ name }}!"])
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert renderer.compiled(template) is not compiled
    assert f"Hello {TRICKY}!" in read_docx_text(renderer.render(template, context)).paragraphs


def test_output_opens_in_python_docx(tmp_path: Path, renderer: LetterRenderer) -> None:
    out = renderer.render(
        fuzz_template(tmp_path / "open.docx"),
        {"name": "N", "summary": "S", "injection": "I", "long": "L", "ref": "R"},
    )
    document = docx.Document(io.BytesIO(out))
    assert document.paragraphs[0].text == "Dear N,"
    assert document.sections[0].header.paragraphs[0].text == "Ref R"
    assert document.tables[0].cell(0, 1).text == "N"


# --- lint --------------------------------------------------------------------------


def test_lint_clean_template_has_no_problems(tmp_path: Path) -> None:
    template = make_template(
        tmp_path / "ok.docx", ["Dear {{ name }},", "{% if x %}yes{% endif %}"], header="{{ ref }}"
    )
    assert lint_template(template, {"name", "x", "ref"}) == []
    assert lint_template(template) == []


def test_lint_reports_broken_tag_with_line_and_context(tmp_path: Path) -> None:
    template = make_template(tmp_path / "broken.docx", ["Intro", "Dear {{ name },", "{% if x %}never closed"])
    problems = lint_template(template, {"name", "x"})
    assert problems, "expected problems"
    assert all("\n" not in p and p.startswith("broken.docx: ") for p in problems)
    assert any("paragraph 2" in p and "Dear" in p for p in problems), problems


def test_lint_reports_unclosed_block(tmp_path: Path) -> None:
    template = make_template(tmp_path / "unclosed.docx", ["{% if x %}", "never closed"])
    [problem] = lint_template(template, {"x"})
    assert "endif" in problem


def test_lint_reports_unknown_variables(tmp_path: Path) -> None:
    template = make_template(
        tmp_path / "vars.docx",
        ["Dear {{ complainant_nmae }},", "{% for a in actions %}{{ a }}{% endfor %}"],
        footer="{{ handler }}",
    )
    problems = lint_template(template, {"complainant_name", "actions"})
    assert any("unknown variable 'complainant_nmae'" in p for p in problems)
    assert any("unknown variable 'handler'" in p and "footer" in p for p in problems)
    assert not any("'a'" in p for p in problems)  # loop variable


def test_lint_reports_tag_split_that_docxtpl_cannot_join(tmp_path: Path) -> None:
    # "{" then a tracked deletion, then "{ name }}": the braces never meet.
    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.add_run("Dear {")
    paragraph._p.append(
        parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="A"><w:r><w:delText>x</w:delText></w:r></w:del>')
    )
    paragraph.add_run("{ name }},")
    path = tmp_path / "split.docx"
    document.save(str(path))
    problems = lint_template(path, {"name"})
    assert any("stray }}" in p for p in problems), problems


def test_lint_not_a_docx(tmp_path: Path) -> None:
    fake = tmp_path / "x.docx"
    fake.write_text("hello")
    [problem] = lint_template(fake)
    assert problem.startswith("x.docx: not a DOCX file")
