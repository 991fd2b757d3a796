"""The desk in-process (Flask's test client) on a real store, SQLite by default and
PostgreSQL where a test asks for ``db_url``. Browser tests live in tests/browser."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from mailroom.accounts.audit import Actor
from mailroom.accounts.passwords import hash_password
from mailroom.accounts.users import add_user
from mailroom.clock import FixedClock
from mailroom.desk.app import create_app
from mailroom.services import Services, build_services
from mailroom.store.schema import DeskUser
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE  # letters are approved only with a real landlord

PASSWORD = "correct horse battery staple"
# Lockout and throttle limits low enough that a test reaches them in a few sign-ins.
TEST_WEB = {"lockout_failures": 3, "login_attempts_per_address": 8}
SETUP = Actor("test-setup")


@pytest.fixture
def desk_services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    settings = make_settings(
        tmp_path / "storage", sqlite_url, web=TEST_WEB, policy={"landlord_file": str(LANDLORD_FILE)}
    )
    built = build_services(settings, clock)
    yield built
    built.store.engine.dispose()


@pytest.fixture
def app(desk_services: Services) -> Flask:
    made = create_app(services=desk_services)
    made.testing = True
    return made


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def people(desk_services: Services) -> dict[str, str]:
    """One account per role: role -> email. Made by ``add_user`` as single-sign-on
    accounts, then given the password's hash worked out once per worker: argon2 is
    slow on purpose, and six hashes per test would be most of the desk suite's time."""
    emails = {
        role: f"{role}@landlord.example" for role in ("inbox", "officer", "manager", "records", "admin")
    }
    emails["other_officer"] = "other@landlord.example"
    for key, email in emails.items():
        role = "officer" if key == "other_officer" else key
        add_user(desk_services, key.replace("_", " ").title(), email, role, None, SETUP)
    with desk_services.store.transaction() as repo:
        repo.session.execute(update(DeskUser).values(password_hash=_password_hash()))
    return emails


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_of(page)})


@pytest.fixture
def signed_in(app: Flask, people: dict[str, str]) -> Callable[[str], FlaskClient]:
    """A client signed in as the person with this role."""

    def make(role: str) -> FlaskClient:
        client = app.test_client()
        response = sign_in(client, people[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page_url: str | None = None) -> Any:
    """POST as the browser would: with the CSRF token from the page the form is on."""
    page = client.get(page_url or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_of(page)})
