"""`mailroom templates check` renders each template with sample data (issue 8,
item 8): a name that lint accepts but no letter gives fails there, quoting the
paragraph, instead of on the day a letter is drafted."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mailroom.letters.template_check import check_template
from mailroom.letters.types import LetterType

TEMPLATES = Path(__file__).resolve().parents[2] / "letter_templates"


def _with_document_edit(tmp_path: Path, name: str, old: str, new: str) -> Path:
    source = TEMPLATES / f"{name}.docx"
    target = tmp_path / f"{name}.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(item, data)
    return target


@pytest.mark.parametrize("kind", list(LetterType))
def test_every_bundled_template_renders_with_its_sample_data(kind: LetterType) -> None:
    assert check_template(TEMPLATES / f"{kind.value}.docx", kind) == []


def test_a_name_only_the_render_finds_fails_quoting_the_paragraph(tmp_path: Path) -> None:
    broken = _with_document_edit(
        tmp_path,
        "stage1-acknowledgement",
        "{{ received_date }}",
        "{{ received_date }}. Or fax us on {{ landlord.fax_number }}",
    )
    (problem, *_) = check_template(broken, LetterType.STAGE1_ACKNOWLEDGEMENT)
    assert "undefined variable" in problem and "fax_number" in problem
    assert "paragraph " in problem and "Or fax us on" in problem
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env["MAILROOM_CACHE_DIR"] = str(tmp_path / "cache")
    command = [sys.executable, "-m", "mailroom", "templates", "check", str(broken)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "fax_number" in result.stdout and "1 problem(s) in 1 template(s)" in result.stdout
