"""Every page of the desk through axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA),
in chromium, with real content on it (tests/browser/conftest.py: Scenery): each
queue has rows, the letter form shows its errors, the login form its problem.

axe runs offline: axe-playwright-python carries axe.min.js and evaluates it in the
page (DevTools evaluation, so the desk's script-src 'self' policy does not stop it).
A failure lists each violation with its impact and the selectors of the elements."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import Scenery

pytestmark = pytest.mark.slow

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return list(results.response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"]:
            lines.append(f"    {' > '.join(map(str, node['target']))}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


def heading(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def preview_shown(page: Page) -> None:
    expect(page.get_by_role("img", name=re.compile(r"^Page 1 of \d+ of the letter"))).to_be_visible()
    page.wait_for_load_state("networkidle")


# -- the pages, each reached as a person would and checked to be what it should ----------


def login(page: Page, _: Scenery) -> None:
    page.goto("/login")
    heading(page, "Sign in")


def login_error(page: Page, _: Scenery) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill("nobody@landlord.example")  # no account to lock out
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")


def home(page: Page, _: Scenery) -> None:
    page.goto("/")
    heading(page, re.compile(r"^Good day"))
    expect(page.get_by_role("link", name=re.compile("drafts to review"))).to_be_visible()


def case(page: Page, s: Scenery) -> None:
    page.goto(f"/cases/{s.case}")
    heading(page, re.compile(s.case))
    expect(page.get_by_role("button", name="Record step")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"photo attached"))).to_be_visible()


def case_with_pack(page: Page, s: Scenery) -> None:
    """The Records panel as the records team sees it, after making a pack."""
    page.goto(f"/cases/{s.case}")
    page.get_by_role("button", name="Make evidence pack").click()
    heading(page, re.compile(s.case))
    expect(page.get_by_role("link", name=re.compile(r"Bundle PDF"))).to_be_visible()


def case_call_error(page: Page, s: Scenery) -> None:
    """The note-a-call form sent without a summary: the error summary and the field's error."""
    page.goto(f"/cases/{s.case}")
    page.get_by_role("button", name="Note call").click()
    expect(page.locator("#error-summary")).to_be_visible()


def mail(page: Page, s: Scenery) -> None:
    page.goto(f"/cases/{s.case}/mails/{s.mail_id}")
    heading(page, re.compile("photo attached"))
    expect(page.get_by_role("heading", name="Attachments")).to_be_visible()


def letter_with_errors(page: Page, s: Scenery) -> None:
    page.goto(f"/letters/{s.draft_id}")
    preview_shown(page)
    point = page.get_by_role("group", name="Complaint definition 1", exact=True)
    point.get_by_label("Point").fill("")
    point.get_by_label("Outcome sought").fill("")
    page.get_by_role("button", name="Save and check").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    preview_shown(page)


def letter_read_only(page: Page, s: Scenery) -> None:
    page.goto(f"/letters/{s.draft_id}")
    heading(page, re.compile("Stage 1 acknowledgement"))
    preview_shown(page)


def drafts(page: Page, _: Scenery) -> None:
    page.goto("/queues/drafts")
    heading(page, "Drafts to review")
    expect(page.get_by_role("table")).to_be_visible()


def triage(page: Page, _: Scenery) -> None:
    page.goto("/queues/triage")
    heading(page, "Mail to place")
    expect(page.get_by_role("heading", name="Still waiting for the damp survey")).to_be_visible()


def quarantine(page: Page, _: Scenery) -> None:
    page.goto("/queues/quarantine")
    heading(page, "Quarantine")
    expect(page.get_by_role("table")).to_be_visible()


def post(page: Page, _: Scenery) -> None:
    page.goto("/queues/post")
    heading(page, "Letters to print and post")
    expect(page.get_by_role("table")).to_contain_text("Mr Owen Price")


def outbox(page: Page, _: Scenery) -> None:
    page.goto("/queues/outbox")
    heading(page, "Outbox problems")
    expect(page.get_by_role("table")).to_contain_text("failed")


def my_deadlines(page: Page, s: Scenery) -> None:
    page.goto("/queues/deadlines")
    heading(page, "My deadlines")
    expect(page.get_by_role("table")).to_contain_text(s.assigned)


def deadlines_for_assigning(page: Page, _: Scenery) -> None:
    page.goto("/queues/deadlines")
    heading(page, "Deadlines")
    expect(page.get_by_role("button", name="Assign chosen cases")).to_be_visible()


def team(page: Page, _: Scenery) -> None:
    page.goto("/team")
    heading(page, "Team")
    expect(page.get_by_role("table")).to_be_visible()


def search(page: Page, s: Scenery) -> None:
    page.goto("/search")
    page.get_by_role("searchbox").fill(s.search)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"[?&]q={s.search}"))
    page.wait_for_load_state()
    heading(page, "Search")
    expect(page.get_by_role("main").get_by_role("list").first.get_by_role("listitem").first).to_be_visible()


def admin_users(page: Page, _: Scenery) -> None:
    page.goto("/admin/users")
    heading(page, "People who use the desk")


def not_found(page: Page, _: Scenery) -> None:
    response = page.goto("/cases/CMP-2026-999999")
    assert response is not None and response.status == 404
    heading(page, "Page not found")


@dataclass(frozen=True)
class Visit:
    role: str | None  # signed in as; None: signed out
    reach: Callable[[Page, Scenery], None]


PAGES = {
    "login": Visit(None, login),
    "login-error": Visit(None, login_error),
    "home": Visit("inbox", home),
    "case": Visit("inbox", case),
    "case-records-pack": Visit("records", case_with_pack),
    "case-call-error": Visit("inbox", case_call_error),
    "mail": Visit("inbox", mail),
    "letter-review-errors": Visit("inbox", letter_with_errors),
    "letter-review-read-only": Visit("records", letter_read_only),
    "queue-drafts": Visit("inbox", drafts),
    "queue-triage": Visit("inbox", triage),
    "queue-quarantine": Visit("inbox", quarantine),
    "queue-post": Visit("inbox", post),
    "queue-outbox": Visit("inbox", outbox),
    "queue-deadlines-officer": Visit("officer", my_deadlines),
    "queue-deadlines-manager": Visit("manager", deadlines_for_assigning),
    "team": Visit("manager", team),
    "search-results": Visit("inbox", search),
    "admin-users": Visit("admin", admin_users),
    "error-404": Visit("inbox", not_found),
}


def test_every_page_has_no_wcag_violations(page_as: Callable[[str | None], Page], scenery: Scenery) -> None:
    """One test for all the pages, so that one xdist worker builds the scenery; every
    page is checked and the report names each page's violations."""
    found: dict[str, str] = {}
    for name, visit in PAGES.items():
        page = page_as(visit.role)
        visit.reach(page, scenery)
        violations = axe_violations(page)
        if violations:
            found[name] = f"{name} ({page.url}):\n{describe(violations)}"
        page.context.close()
    assert not found, "\n\n".join(found.values())


def test_axe_finds_what_it_should(page_as: Callable[[str | None], Page]) -> None:
    """The check itself works here: a field without a label and grey-on-white text are found."""
    page = page_as(None)
    page.goto("/login")
    heading(page, "Sign in")
    page.evaluate(
        """() => {
          document.getElementById('email').removeAttribute('id');
          document.querySelector('h1').style.color = '#c8c8c8';
        }"""
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"label", "color-contrast"} <= found, found
