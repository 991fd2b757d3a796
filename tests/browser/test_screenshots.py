"""The README's pictures of the desk, taken from the real pages with the sample
mailbox on them. Every run takes them (a page that no longer renders fails here);
only with MAILROOM_SCREENSHOTS=1 do they replace the tracked files in docs/images:
`MAILROOM_SCREENSHOTS=1 .venv/bin/pytest -n 0 tests/browser/test_screenshots.py`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Scenery

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

pytestmark = [pytest.mark.slow]


def test_readme_screenshots(page_as: Callable[[str | None], Page], scenery: Scenery, tmp_path: Path) -> None:
    folder = IMAGES if os.environ.get("MAILROOM_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page = page_as("inbox")

    page.goto(f"/cases/{scenery.case}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(scenery.case)
    case_png = folder / "desk-case.png"
    page.screenshot(path=case_png, full_page=True, animations="disabled")

    page.goto(f"/letters/{scenery.draft_id}")
    expect(page.get_by_role("img", name=re.compile(r"^Page 1 of"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("[...document.images].every(image => image.complete && image.naturalWidth > 0)")
    letter_png = folder / "desk-letter-review.png"
    page.screenshot(path=letter_png, full_page=True, animations="disabled")

    for png in (case_png, letter_png):
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000, png
