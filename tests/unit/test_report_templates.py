"""The report templates (report_templates/*.docx) are what build_templates.py writes
and pass the template check (whole tags, only the names the reports supply, a trial
render); the check finds what a restyling can break."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from mailroom.reports.report_docx import REPORT_TEMPLATES
from mailroom.reports.template_check import KINDS, report_template_problems

NAMES = ("annual-report", "quarterly", "self-assessment")


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "report_build_templates", REPORT_TEMPLATES / "build_templates.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_committed_templates_are_what_the_script_builds(tmp_path: Path) -> None:
    written = builder().build(tmp_path)
    assert sorted(path.stem for path in written) == sorted(NAMES)
    for path in written:
        assert members(path) == members(REPORT_TEMPLATES / path.name), (
            f"report_templates/{path.name} differs from build_templates.py: rebuild it "
            "(.venv/bin/python report_templates/build_templates.py)"
        )


@pytest.mark.parametrize(("kind", "name"), KINDS.items())
def test_each_bundled_template_passes_the_check(kind: str, name: str) -> None:
    assert report_template_problems(REPORT_TEMPLATES / name, kind) == []


def restyled(tmp_path: Path, replace: str, by: str, name: str = "annual-report.docx") -> Path:
    """A copy of a bundled template with one piece of its body text changed."""
    copy = tmp_path / f"restyled-{name}"
    with zipfile.ZipFile(REPORT_TEMPLATES / name) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                assert replace.encode() in data
                data = data.replace(replace.encode(), by.encode(), 1)
            target.writestr(item, data)
    return copy


def test_the_check_finds_a_misspelt_name_a_broken_tag_and_a_wrong_attribute(tmp_path: Path) -> None:
    unknown = restyled(tmp_path, "{{ received_total }}", "{{ recieved_total }}")
    assert any("unknown variable 'recieved_total'" in p for p in report_template_problems(unknown, "annual"))
    broken = restyled(tmp_path, "{{ received_total }}", "{{ received_total }")
    assert report_template_problems(broken, "annual") != []
    inside_a_row = restyled(tmp_path, "{{ row.share }}", "{{ row.shaer }}")
    [problem] = report_template_problems(inside_a_row, "annual")
    assert "UndefinedError" in problem and "shaer" in problem
    assert report_template_problems(REPORT_TEMPLATES / "annual-report.docx", "self-assessment") != []
    assert report_template_problems(REPORT_TEMPLATES / "annual-report.docx", "weekly") == [
        "'weekly' is not a kind of report (one of annual, quarterly, self-assessment)"
    ]


def test_the_check_command_says_what_is_wrong_and_exits_1(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from mailroom.report_docs_cli import report_check_template

    app = typer.Typer()
    app.command()(report_check_template)
    good = CliRunner().invoke(app, [str(REPORT_TEMPLATES / "quarterly.docx"), "--kind", "quarterly"])
    assert good.exit_code == 0 and "no problems as a template for the quarterly report" in good.output
    bad = restyled(tmp_path, "{{ row.share }}", "{{ row.shaer }}")
    result = CliRunner().invoke(app, [str(bad), "--kind", "annual"])
    assert result.exit_code == 1
    assert "shaer" in result.output and "1 problem(s) in restyled-annual-report.docx" in result.output
