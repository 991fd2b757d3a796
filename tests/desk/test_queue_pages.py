"""The queue, team and search pages in-process: each answers for the roles that may
open it, shows its rows, and keeps an officer to their own cases."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailroom.letters.drafts import draft_pending_acknowledgements
from mailroom.services import Services
from tests.desk.conftest import csrf_of
from tests.desk.test_case_pages import _assign, _complaint

PAGES = [
    "/",
    "/queues/drafts",
    "/queues/triage",
    "/queues/quarantine",
    "/queues/post",
    "/queues/outbox",
    "/queues/deadlines",
    "/queues/deadlines?bucket=soon",
    "/team",
    "/search?q=damp",
    "/admin/users",
]


def test_every_page_answers_the_roles_allowed_it(
    signed_in: Callable[[str], FlaskClient], desk_services: Services
) -> None:
    _complaint(desk_services)
    draft_pending_acknowledgements(desk_services)
    allowed = {
        "inbox": set(PAGES) - {"/team", "/admin/users"},
        "manager": set(PAGES) - {"/admin/users"},
        "officer": {
            "/",
            "/queues/drafts",
            "/queues/deadlines",
            "/queues/deadlines?bucket=soon",
            "/search?q=damp",
        },
        "records": {"/", "/queues/deadlines", "/queues/deadlines?bucket=soon", "/search?q=damp"},
        "admin": {
            "/",
            "/queues/outbox",
            "/queues/deadlines",
            "/queues/deadlines?bucket=soon",
            "/search?q=damp",
            "/admin/users",
        },
    }
    for role, pages in allowed.items():
        client = signed_in(role)
        for url in PAGES:
            status = client.get(url).status_code
            assert status == (200 if url in pages else 403), (role, url, status)


def test_an_officer_sees_only_their_own_deadlines_drafts_and_search_hits(
    signed_in: Callable[[str], FlaskClient], desk_services: Services, people: dict[str, str]
) -> None:
    mine = _complaint(desk_services, subject="Mould in my kitchen")
    theirs = _complaint(desk_services, subject="Mould in their kitchen")
    _assign(desk_services, mine, people["officer"])
    _assign(desk_services, theirs, people["other_officer"])
    draft_pending_acknowledgements(desk_services)
    client = signed_in("officer")
    for url in ("/queues/deadlines", "/queues/drafts", "/search?q=mould", "/"):
        html = client.get(url).get_data(as_text=True)
        if url != "/":
            assert mine in html, url
        assert theirs not in html, url
    manager = signed_in("manager").get("/queues/deadlines").get_data(as_text=True)
    assert mine in manager and theirs in manager


def test_search_finds_a_case_by_id_without_its_check_character(
    signed_in: Callable[[str], FlaskClient], desk_services: Services
) -> None:
    from mailroom.domain.ids import case_reference

    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    for query in (complaint_id.lower(), case_reference(complaint_id)):
        html = client.get(f"/search?q={query}").get_data(as_text=True)
        assert f'href="/cases/{complaint_id}"' in html, query


def test_a_manager_assigns_cases_in_bulk(
    signed_in: Callable[[str], FlaskClient], desk_services: Services, people: dict[str, str]
) -> None:
    from mailroom.staff import save_member

    first, second = _complaint(desk_services), _complaint(desk_services, subject="Another")
    save_member(desk_services, people["officer"], manager="", digest=False)
    client = signed_in("manager")
    page = client.get("/queues/deadlines").get_data(as_text=True)
    response = client.post(
        "/team/assign",
        data={"officer": people["officer"], "complaint_id": [first, second], "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 302
    with desk_services.store.transaction() as repo:
        assert {repo.get_complaint(c).officer for c in (first, second)} == {people["officer"]}  # type: ignore[union-attr]
    mine = signed_in("officer").get("/queues/deadlines").get_data(as_text=True)
    assert first in mine and second in mine
