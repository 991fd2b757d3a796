"""Signing in: sessions, lockout, throttling, CSRF, security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailroom.clock import FixedClock
from mailroom.desk.session_store import COOKIE
from mailroom.services import Services
from mailroom.store.schema import AuditEntry, DeskSession
from tests.desk.conftest import PASSWORD, csrf_of, sign_in


def _cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_pages_need_a_signed_in_person(app: Flask) -> None:
    response = app.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_replaces_the_session_identifier(app: Flask, people: dict[str, str]) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = _cookie(client)
    assert before, "the sign-in form's CSRF token lives in a session"
    response = client.post(
        "/login", data={"email": people["inbox"], "password": PASSWORD, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 302
    after = _cookie(client)
    assert after and after != before
    # The old identifier signs nobody in: a fixed session is worthless to whoever planted it.
    planted = app.test_client()
    planted.set_cookie(COOKIE, before)
    assert planted.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_the_session_table_never_holds_the_cookie_value(
    app: Flask, people: dict[str, str], desk_services: Services
) -> None:
    client = app.test_client()
    sign_in(client, people["inbox"])
    token = _cookie(client)
    with desk_services.store.transaction() as repo:
        stored = list(repo.session.scalars(select(DeskSession.token_sha256)))
    assert token and token not in stored and len(stored) == 1


def test_a_session_unused_past_the_idle_limit_signs_out(
    signed_in: Callable[[str], FlaskClient], clock: FixedClock
) -> None:
    client = signed_in("officer")
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=29))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(signed_in: Callable[[str], FlaskClient], app: Flask) -> None:
    client = signed_in("officer")
    token = _cookie(client)
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(COOKIE, token or "")
    assert replay.get("/").status_code == 302


def test_wrong_passwords_lock_the_account(app: Flask, people: dict[str, str], clock: FixedClock) -> None:
    client = app.test_client()
    for n in range(3):  # web.lockout_failures = 3 in these tests
        response = sign_in(client, people["manager"], "not the password at all")
        said = "locked" if n == 2 else "wrong"
        assert response.status_code == 200 and said in response.get_data(as_text=True)
    locked = sign_in(client, people["manager"])  # the right password, too late
    assert locked.status_code == 200 and "locked" in locked.get_data(as_text=True)
    clock.advance(timedelta(minutes=16))
    assert sign_in(client, people["manager"]).status_code == 302


def test_one_address_is_throttled_across_accounts(
    app: Flask, people: dict[str, str], desk_services: Services
) -> None:
    client = app.test_client()
    limit = desk_services.settings.web.login_attempts_per_address
    for n in range(limit):
        sign_in(client, f"nobody{n}@landlord.example", "guess guess guess")
    refused = sign_in(client, people["inbox"])  # even the right password, from this address
    assert refused.status_code == 429
    with desk_services.store.transaction() as repo:
        actions = [entry.action for entry in repo.session.scalars(select(AuditEntry))]
    assert actions.count("login.failed") == limit and "login.throttled" in actions


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    client = signed_in("officer")
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").status_code == 200  # still signed in


def test_security_headers(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("officer")
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain HTTP here
    secure = client.get("/", base_url="https://desk.example").headers
    assert secure["Strict-Transport-Security"].startswith("max-age=")


def test_the_next_page_after_sign_in_stays_on_the_desk(app: Flask, people: dict[str, str]) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": people["inbox"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "//evil.example/x",
        },
    )
    assert response.headers["Location"] == "/"


def test_a_backslash_next_page_is_not_followed_off_the_desk(app: Flask, people: dict[str, str]) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": people["inbox"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "/\\evil.example",
        },
    )
    assert response.headers["Location"] == "/"
