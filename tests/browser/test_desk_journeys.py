"""Journeys through the review desk in a real browser (chromium, Playwright), against
`mailroom web` on a throwaway deployment (tests/browser/conftest.py): found by role
and label as a person finds them, and checked through to what leaves the building."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import PEOPLE, Desk, draft_complete_acknowledgement, received_for_due_soon

pytestmark = pytest.mark.slow

_serial = itertools.count(1)


def resident(desk: Desk) -> tuple[str, str]:
    """A name and address no other test of this worker uses."""
    n = next(_serial)
    return f"Ms Test Resident {n}", f"resident{n}.{desk.folder.name}@example.org"


def accept_confirm(page: Page) -> None:
    """desk.js asks "Approve and issue ...?" (window.confirm) before an approval: say yes."""
    page.once("dialog", lambda dialog: dialog.accept())


def preview_shown(page: Page) -> None:
    """The letter's pages as images, loaded (htmx fetches them after the page). Waited
    for before a form is sent: an image request still queued behind the POST would
    come back 404 (new revision, new image address) and its error page would take the
    flashed confirmation meant for the next page."""
    expect(page.get_by_role("img", name=re.compile(r"^Page 1 of \d+ of the letter"))).to_be_visible()
    page.wait_for_load_state("networkidle")


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def test_inbox_completes_the_automatic_acknowledgement_and_it_is_emailed(
    desk: Desk, signed_in: Callable[[str], Page]
) -> None:
    name, email = resident(desk)
    complaint_id = desk.new_complaint(name, email, "Leak from the flat above")
    draft_id = desk.draft_id(complaint_id)
    page = signed_in("inbox")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Drafts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drafts to review")
    page.get_by_role("link", name=re.compile(rf"acknowledgement for {complaint_id}$")).click()
    expect(page).to_have_url(re.compile(rf"/letters/{draft_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stage 1 acknowledgement")

    # The automatic draft leaves the outcome of the complaint definition as "TBC".
    expect(page.get_by_text("Required elements are missing", exact=True)).to_be_visible()
    checklist = page.get_by_role("list").filter(has_text="Code 5.6")
    definition = checklist.get_by_role("listitem").filter(has_text="complaint definition").first
    expect(definition).to_contain_text("missing")
    expect(definition).to_contain_text("TBC")
    point = page.get_by_role("group", name="Complaint definition 1", exact=True)
    expect(point.get_by_label("Outcome sought")).to_have_value("TBC")

    preview_shown(page)
    point.get_by_label("Outcome sought").fill("The leak fixed and the kitchen ceiling repaired.")
    page.get_by_role("group", name="What we are responsible for 1", exact=True).get_by_role("textbox").fill(
        "The repair of the leak and of the kitchen ceiling"
    )
    page.get_by_label("Complaint handler").fill("Sam Okafor")
    page.get_by_role("button", name="Save and check").click()

    expect(page.get_by_role("status").filter(has_text="Saved as revision 2")).to_be_visible()
    expect(page.get_by_text("Every required element is there", exact=True)).to_be_visible()
    expect(page.get_by_text("Required elements are missing", exact=True)).to_have_count(0)
    expect(checklist.get_by_role("listitem").filter(has_text=re.compile(r"^\s*missing"))).to_have_count(0)

    preview_shown(page)
    accept_confirm(page)
    page.get_by_role("button", name="Approve and send", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/cases/{complaint_id}"))
    expect(page.get_by_role("status")).to_contain_text(f"emailed to {email}")

    desk.send_outbox()
    (received,) = desk.mails_to(email)
    assert received["To"] == email
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert "Stage 1 acknowledgement" in (attachment.get_filename() or "")
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "The leak fixed and the kitchen ceiling repaired." in text
    assert "TBC" not in text


def test_officer_sees_the_case_due_soon_and_records_the_acknowledgement(
    desk: Desk, signed_in: Callable[[str], Page]
) -> None:
    name, email = resident(desk)
    officer = PEOPLE["officer"][1]
    received = received_for_due_soon(desk)
    complaint_id = desk.new_complaint(
        name, email, "Mould in the bathroom", received=received, officer=officer, acknowledgement=False
    )
    page = signed_in("officer")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deadlines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My deadlines")
    page.get_by_role("navigation", name="Deadline views").get_by_role(
        "link", name="Due in 2 working days"
    ).click()
    expect(page).to_have_url(re.compile(r"bucket=soon"))
    row = page.get_by_role("row").filter(has_text=complaint_id)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Acknowledge")
    row.get_by_role("link", name=complaint_id).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(complaint_id)

    page.get_by_label("Step taken").select_option(label="Stage 1 acknowledged")
    page.get_by_label("Note for the audit trail").fill("Acknowledged by phone; letter to follow.")
    page.get_by_role("button", name="Record step").click()

    expect(page.get_by_role("status")).to_contain_text("Stage 1 acknowledged: recorded.")
    timeline = page.get_by_role("main").get_by_role("list").filter(has_text="complaint logged")
    # The step is dated when it was taken (the form's minute), so it need not be the newest entry.
    step = timeline.get_by_role("listitem").filter(has_text=re.compile(r"stage ?1 acknowledged", re.I))
    expect(step).to_have_count(1)
    expect(step).to_contain_text(officer)

    # The acknowledgement clock stopped: the case has left the officer's "soon" list.
    page.goto("/queues/deadlines?bucket=soon")
    expect(page.get_by_role("row").filter(has_text=complaint_id)).to_have_count(0)


def _csrf(page: Page) -> str:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token


def test_records_reads_cases_and_letters_but_changes_nothing(
    desk: Desk, signed_in: Callable[[str], Page]
) -> None:
    name, email = resident(desk)
    complaint_id = desk.new_complaint(name, email, "Rubbish not collected")
    draft_id = desk.draft_id(complaint_id)
    page = signed_in("records")

    page.goto(f"/cases/{complaint_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(complaint_id)
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Record a step")).to_have_count(0)
    # The one thing records may do on a case is make its evidence pack (docs/records.md).
    expect(main.get_by_role("button")).to_have_count(1)
    expect(main.get_by_role("button", name="Make evidence pack")).to_be_visible()
    expect(main.locator("form")).to_have_count(1)
    expect(main.get_by_role("heading", name="Note a call")).to_have_count(0)

    main.get_by_role("link", name=re.compile(rf"\(letter {draft_id}\)")).click()
    expect(page).to_have_url(re.compile(rf"/letters/{draft_id}$"))
    expect(page.get_by_role("heading", name="Code checklist")).to_be_visible()
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.locator("form")).to_have_count(0)
    expect(main.get_by_role("textbox")).to_have_count(0)

    # Straight to the server from this session, with a good CSRF token: refused by role.
    token = _csrf(page)
    step = page.request.post(
        f"/cases/{complaint_id}/steps",
        form={"csrf_token": token, "step": "stage1_acknowledged", "at": "2026-12-01T10:00"},
        max_redirects=0,
    )
    approve = page.request.post(f"/letters/{draft_id}/approve", form={"csrf_token": token}, max_redirects=0)
    revise = page.request.post(
        f"/letters/{draft_id}/fields", form={"csrf_token": token, "revision": "1"}, max_redirects=0
    )
    for refused in (step, approve, revise):
        assert refused.status == 403, (refused.url, refused.status)
        assert "Not allowed" in refused.text() and "Form expired" not in refused.text()
    # ... and nothing changed.
    (letter,) = desk.letters_of(complaint_id)
    assert (letter["status"], letter["revision"]) == ("draft", 1)
    assert "stage1_acknowledged" not in desk.events_of(complaint_id)


def _focused(page: Page) -> dict[str, Any]:
    """What has the keyboard focus, and whether it shows it: an outline, or a box
    shadow it does not have unfocused (a button's resting shadow does not count)."""
    return dict(
        page.evaluate(
            """() => {
              const e = document.activeElement;
              const look = () => {
                const style = getComputedStyle(e);
                return {outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                        shadow: style.boxShadow};
              };
              const focused = look();
              e.blur();
              const resting = look();
              e.focus();
              return {
                tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
                text: (e.innerText || e.value || '').trim().slice(0, 60),
                form: e.form ? e.form.getAttribute('action') : null,
                focusShown: focused.outline
                  || (focused.shadow !== 'none' && focused.shadow !== resting.shadow),
                stillFocused: document.activeElement === e,
                tabindex: e.tabIndex,
              };
            }"""
        )
    )


def test_letter_review_works_from_the_keyboard_alone(desk: Desk, signed_in: Callable[[str], Page]) -> None:
    name, email = resident(desk)
    complaint_id = desk.new_complaint(name, email, "No heating", acknowledgement=False)
    draft_id = draft_complete_acknowledgement(desk, complaint_id)
    page = signed_in("inbox")
    page.goto(f"/letters/{draft_id}")
    expect(page.get_by_text("Every required element is there", exact=True)).to_be_visible()
    review_form = f"/letters/{draft_id}/fields"
    wanted = page.evaluate(
        """(action) => [...document.querySelector(`form[action="${action}"]`).elements]
             .filter(e => e.type !== 'hidden' && !['FIELDSET', 'BUTTON'].includes(e.tagName))
             .map(e => e.name)""",
        review_form,
    )
    assert "points-0-outcome_sought" in wanted and "handler_name" in wanted

    # From the top of the page: the skip link comes first and takes focus to the content.
    page.keyboard.press("Tab")
    first = _focused(page)
    assert (first["tag"], first["text"]) == ("a", "Skip to main content"), first
    assert first["focusShown"], first
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"

    # Tab through the content: every field of the review form, in order, then approval.
    reached: list[dict[str, Any]] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        now = _focused(page)
        reached.append(now)
        assert now["focusShown"] and now["stillFocused"], f"no visible focus on {now}"
        assert now["tabindex"] <= 0, f"a positive tabindex reorders the page: {now}"
        if now["text"] == "Approve and send":
            break
    else:
        raise AssertionError(
            f"Tab never reached the approve button: {[r['text'] or r['name'] for r in reached]}"
        )
    in_form = [r["name"] for r in reached if r["form"] == review_form and r["tag"] != "button"]
    assert in_form == wanted, (in_form, wanted)
    save = next(i for i, r in enumerate(reached) if r["text"] == "Save and check")
    assert save > max(i for i, r in enumerate(reached) if r["form"] == review_form and r["tag"] != "button")

    # Approve with the keyboard: Enter on the focused button (desk.js asks first).
    preview_shown(page)
    accept_confirm(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{complaint_id}"))
    expect(page.get_by_role("status")).to_contain_text("Approved and issued")
    (letter,) = desk.letters_of(complaint_id)
    assert letter["status"] == "sent" and letter["approved_by"] == PEOPLE["inbox"][1], letter
