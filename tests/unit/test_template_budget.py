"""A landlord template cannot take the machine: every render has a time and
size budget, and going over it is one line naming the template and the part."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import docx
import pytest

from mailroom.letters import sandbox
from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.render import LetterRenderer, TemplateError


def _template(tmp_path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "hostile.docx"
    document.save(str(path))
    return path


def _refused(tmp_path: Path, *paragraphs: str) -> str:
    began = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        LetterRenderer().render(_template(tmp_path, *paragraphs), {"name": "Ms Okafor"})
    assert time.monotonic() - began < 3.0
    message = str(caught.value)
    assert "\n" not in message and message.startswith("hostile.docx: body: ")
    return message


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_the_three_gigabyte_string_is_refused_before_it_is_built(tmp_path: Path) -> None:
    before = _max_rss_mb()
    message = _refused(tmp_path, '{{ ("x"*3000000000)|length }}')
    assert "over budget" in message and "3,000,000,000" in message
    assert _max_rss_mb() - before < 100


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("{{ 'x'.center(3000000000) }}", id="str-method-width"),
        pytest.param("{{ 'x'|center(3000000000) }}", id="filter-width"),
        pytest.param("{{ '%999999999s' % 'x' }}", id="percent-width"),
        pytest.param("{{ '{:>999999999}'.format('x') }}", id="format-width"),
        pytest.param("{{ '%s'|format('x') ~ ('%0999999999d'|format(1)) }}", id="format-filter-width"),
        pytest.param("{{ (2 ** 100000000) % 7 }}", id="power"),
        pytest.param("{% set a = 'x' * 1000 %}{{ a.replace('x', a).replace('x', a)|length }}", id="replace"),
        pytest.param(
            "{% set a = 'x' * 1000 %}{{ a|replace('x', a)|replace('x', a)|length }}", id="replace-f"
        ),
        pytest.param("{{ ('x' * 1000000 + 'y')|length }}", id="concat-plus"),
        pytest.param("{{ (['x'] * 100000 * 100)|length }}", id="list-repeat"),
        pytest.param("{{ ('x' * 100000).join(['y'] * 1000)|length }}", id="join"),
        pytest.param("{{ 'a\\nb'|indent('x' * 200000) }}", id="indent-string"),
        pytest.param("{{ range(10000000)|length }}", id="range"),
    ],
)
def test_amplifying_operations_are_refused_before_they_allocate(tmp_path: Path, source: str) -> None:
    before = _max_rss_mb()
    assert "over budget" in _refused(tmp_path, source)
    assert _max_rss_mb() - before < 100


def test_doubling_a_value_in_a_loop_stops_at_the_size_budget(tmp_path: Path) -> None:
    message = _refused(
        tmp_path,
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
        "{{ ns.s|length }}",
    )
    assert "over budget" in message


def test_doubling_by_printing_into_a_set_block_stops_at_the_output_budget(tmp_path: Path) -> None:
    message = _refused(
        tmp_path,
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set block %}{{ ns.s }}{{ ns.s }}{% endset %}{% set ns.s = block %}{% endfor %}{{ ns.s|length }}",
    )
    assert "over budget: output exceeds" in message


def test_nested_loops_stop_at_the_iteration_budget(tmp_path: Path) -> None:
    message = _refused(
        tmp_path,
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}done",
    )
    assert message == "hostile.docx: body: over budget: loops ran more than 100,000 times"


def test_a_runaway_without_loops_stops_at_the_time_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A macro calling itself twice: 2^40 calls, no loop, no output."""
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    message = _refused(
        tmp_path,
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    )
    assert message == "hostile.docx: body: over budget: rendering took longer than 0.5 s"


def test_filler_text_generators_are_gone(tmp_path: Path) -> None:
    assert "lipsum" in _refused(tmp_path, "{{ lipsum(1000000) }}")


def test_ordinary_loops_filters_and_arithmetic_still_work(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        "Dear {{ name|upper }},",
        "{% for i in range(3) %}[{{ i * 2 }}]{% endfor %} {{ 'ab' ~ 'cd' }} {{ '%05.1f' % 3.14159 }}",
        "{{ '{:>6}'.format('x') }}|{{ 'a,b'.replace(',', ' and ') }}|{{ ', '.join(['p', 'q']) }}"
        "|{{ 2 ** 10 }}|{{ 'a,b'|replace(',', ';') }}",
    )
    text = read_docx_text(LetterRenderer().render(template, {"name": "Ms Okafor"})).paragraphs
    assert text == ["Dear MS OKAFOR,", "[0][2][4] abcd 003.1", "x|a and b|p, q|1024|a;b"]
