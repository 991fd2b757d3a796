"""The case page and letter review in-process: escaping of hostile mail data, who may
see and change what (IDOR, role escalation), and the review's form round trip."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mailroom.domain.models import Channel
from mailroom.letters.drafts import draft, draft_pending_acknowledgements
from mailroom.letters.types import LetterType
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import Services
from mailroom.staff import assign, save_member
from mailroom.store.schema import AuditEntry, Letter
from tests.desk.conftest import csrf_of, post_form
from tests.integration.test_letters import case_for, sample_fields

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _complaint(services: Services, subject: str = "Damp in the bedroom", name: str = "Ann Resident") -> str:
    return log_complaint(
        services,
        OtherChannelComplaint(
            Channel.PHONE,
            datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
            name,
            "ann@resident.example",
            subject,
            f"The description. {XSS}",
        ),
    )


def _assign(services: Services, complaint_id: str, officer: str) -> None:
    save_member(services, officer, manager="", digest=False)
    assign(services, complaint_id, officer)


def test_hostile_names_subjects_and_bodies_are_shown_escaped(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services, subject=f"Subject {XSS}", name=f"Name {XSS}")
    draft_pending_acknowledgements(desk_services)
    client = signed_in("inbox")
    pages = [client.get(f"/cases/{complaint_id}")]
    with desk_services.store.transaction() as repo:
        letter_id = repo.letters_of_case(complaint_id)[0].id
    pages.append(client.get(f"/letters/{letter_id}"))
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
        # No script but the desk's own files, whatever a field held.
        assert re.findall(r"<script\b[^>]*>", html) == [
            '<script src="/static/htmx.min.js" defer>',
            '<script src="/static/desk.js" defer>',
        ]


def test_an_officer_cannot_open_another_officers_case(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], people: dict[str, str]
) -> None:
    mine = _complaint(desk_services)
    theirs = _complaint(desk_services, subject="Someone else's case")
    _assign(desk_services, mine, people["officer"])
    _assign(desk_services, theirs, people["other_officer"])
    draft_pending_acknowledgements(desk_services)
    client = signed_in("officer")
    assert client.get(f"/cases/{mine}").status_code == 200
    assert client.get(f"/cases/{theirs}").status_code == 404
    assert client.get("/cases/CMP-2099-999999-X").status_code == 404  # the same answer as no such case
    with desk_services.store.transaction() as repo:
        their_letter = repo.letters_of_case(theirs)[0].id
    assert client.get(f"/letters/{their_letter}").status_code == 404
    page = client.get(f"/cases/{mine}").get_data(as_text=True)
    refused = client.post(
        f"/cases/{theirs}/steps",
        data={"step": "stage1_acknowledged", "at": "2026-11-23T09:00", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 404


def test_a_records_user_changes_nothing(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    draft_pending_acknowledgements(desk_services)
    client = signed_in("records")
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "Record a step" not in page and "Assign to" not in page
    with desk_services.store.transaction() as repo:
        letter_id = repo.letters_of_case(complaint_id)[0].id
    review = client.get(f"/letters/{letter_id}").get_data(as_text=True)
    assert "Approve and send" not in review and "Save and check" not in review
    token = csrf_of(page)
    for url, data in (
        (f"/cases/{complaint_id}/steps", {"step": "stage1_acknowledged", "at": "2026-11-23T09:00"}),
        (f"/letters/{letter_id}/approve", {}),
        (f"/letters/{letter_id}/fields", {"revision": "1"}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403
    with desk_services.store.transaction() as repo:
        assert repo.get_letter(letter_id).status == "draft"  # type: ignore[union-attr]


def test_an_inbox_user_may_not_approve_a_stage_2_letter(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = case_for(desk_services, LetterType.STAGE2_ACKNOWLEDGEMENT)
    result = draft(
        desk_services,
        complaint_id,
        LetterType.STAGE2_ACKNOWLEDGEMENT,
        sample_fields(desk_services, LetterType.STAGE2_ACKNOWLEDGEMENT),
    )
    client = signed_in("inbox")
    review = client.get(f"/letters/{result.draft_id}").get_data(as_text=True)
    assert "Approve and send" not in review and "approved by a manager" in review
    response = client.post(f"/letters/{result.draft_id}/approve", data={"csrf_token": csrf_of(review)})
    assert response.status_code == 403
    with desk_services.store.transaction() as repo:
        assert repo.get_letter(result.draft_id).status == "draft"  # type: ignore[union-attr]
        refusals = repo.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "letter.approve.refused")
        )
        assert [entry.actor for entry in refusals] == ["inbox@landlord.example"]


def test_fixing_the_definition_point_turns_the_checklist_green(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    draft_pending_acknowledgements(desk_services)
    with desk_services.store.transaction() as repo:
        letter = repo.letters_of_case(complaint_id)[0]
    client = signed_in("inbox")
    url = f"/letters/{letter.id}"
    before = client.get(url).get_data(as_text=True)
    assert "Required elements are missing" in before
    form = dict(re.findall(r'name="([\w-]+)" value="([^"]*)"', before))
    form.update(re.findall(r'<textarea id="[^"]+" name="([\w-]+)"[^>]*>([^<]*)</textarea>', before))
    form.pop("note", None)
    assert form["points-0-outcome_sought"] == "TBC"
    form["points-0-outcome_sought"] = "The damp treated and the bedroom redecorated"
    form["responsible_for-0"] = "Repairs to the fabric of the building"
    saved = client.post(f"{url}/fields", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    after = client.get(url).get_data(as_text=True)
    assert "Every required element is there" in after
    with desk_services.store.transaction() as repo:
        stored: Letter = repo.get_letter(letter.id)  # type: ignore[assignment]
        audit = [e.action for e in repo.session.scalars(select(AuditEntry))]
    assert stored.revision == 2 and json.loads(stored.check_json)["passed"] is True
    assert "letter.revise" in audit


def test_a_blank_required_field_is_shown_next_to_its_input(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    draft_pending_acknowledgements(desk_services)
    with desk_services.store.transaction() as repo:
        letter = repo.letters_of_case(complaint_id)[0]
    client = signed_in("inbox")
    response = post_form(
        client, f"/letters/{letter.id}/fields", {"revision": "1"}, page_url=f"/letters/{letter.id}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert "There is a problem" in html, (
        re.findall(r"<h1>.*?</h1>|<main.*?</p>", html, re.S) and 'aria-invalid="true"' in html
    )


@pytest.mark.parametrize("role", ["inbox", "manager", "records", "admin"])
def test_everyone_who_may_see_all_cases_sees_an_unassigned_one(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], role: str
) -> None:
    complaint_id = _complaint(desk_services)
    assert signed_in(role).get(f"/cases/{complaint_id}").status_code == 200


def _fix_definition(client: FlaskClient, letter_id: int) -> None:
    before = client.get(f"/letters/{letter_id}").get_data(as_text=True)
    form = dict(re.findall(r'name="([\w-]+)" value="([^"]*)"', before))
    form.update(re.findall(r'<textarea id="[^"]+" name="([\w-]+)"[^>]*>([^<]*)</textarea>', before))
    form.pop("note", None)
    form["points-0-outcome_sought"] = "The damp treated and the bedroom redecorated"
    form["responsible_for-0"] = "Repairs to the fabric of the building"
    assert client.post(f"/letters/{letter_id}/fields", data=form).status_code == 302


@pytest.mark.slow
def test_approve_and_send_by_post_puts_the_letter_in_the_post_queue(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    draft_pending_acknowledgements(desk_services)
    with desk_services.store.transaction() as repo:
        letter_id = repo.letters_of_case(complaint_id)[0].id
    client = signed_in("inbox")
    _fix_definition(client, letter_id)
    page = client.get(f"/letters/{letter_id}").get_data(as_text=True)
    assert "Approve and send by post" in page
    response = client.post(
        f"/letters/{letter_id}/approve", data={"by_post": "yes", "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 302
    with desk_services.store.transaction() as repo:
        stored = repo.get_letter(letter_id)
        actions = [(e.action, e.detail) for e in repo.session.scalars(select(AuditEntry))]
    assert stored is not None and stored.status == "for_post" and stored.outbox_id is None
    assert ("letter.approve", "ready to print and post") in actions
    assert f"/letters/{letter_id}" in client.get("/queues/post").get_data(as_text=True)
    queue = client.get("/queues/post").get_data(as_text=True)
    marked = client.post(f"/queues/post/{letter_id}/posted", data={"csrf_token": csrf_of(queue)})
    assert marked.status_code == 302
    assert f"/letters/{letter_id}" not in client.get("/queues/post").get_data(as_text=True)
    with desk_services.store.transaction() as repo:
        assert repo.get_letter(letter_id).status == "posted"  # type: ignore[union-attr]
        assert any(e.kind == "letter_posted" for e in repo.events_of_case(complaint_id))


def test_return_for_changes_leaves_a_note_on_that_letter_only(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    first, second = _complaint(desk_services), _complaint(desk_services, subject="Second")
    draft_pending_acknowledgements(desk_services)
    with desk_services.store.transaction() as repo:
        letters = [repo.letters_of_case(c)[0].id for c in (first, second)]
    client = signed_in("inbox")
    page = client.get(f"/letters/{letters[0]}").get_data(as_text=True)
    client.post(f"/letters/{letters[0]}/return", data={"note": "   ", "csrf_token": csrf_of(page)})
    assert "Returned for changes:" not in client.get(f"/letters/{letters[0]}").get_data(as_text=True)
    client.post(
        f"/letters/{letters[0]}/return", data={"note": "Name the leak's cause", "csrf_token": csrf_of(page)}
    )
    assert "Name the leak&#39;s cause" in client.get(f"/letters/{letters[0]}").get_data(as_text=True)
    assert "Returned for changes:" not in client.get(f"/letters/{letters[1]}").get_data(as_text=True)
    with desk_services.store.transaction() as repo:
        assert repo.get_letter(letters[0]).status == "draft"  # type: ignore[union-attr]
