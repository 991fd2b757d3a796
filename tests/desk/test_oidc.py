"""Single sign-on (mailroom/desk/oidc.py) against a real OpenID provider over HTTP
(tests/support/oidc_provider.py, which behaves as Entra ID documents).

The browser's part is played by hand: the desk's test client gets the redirect to
the provider, httpx follows it to the provider, and the provider's redirect back is
handed to the desk's test client."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailroom.accounts.roles import Role
from mailroom.accounts.users import add_user, change_user
from mailroom.clock import FixedClock
from mailroom.config import ConfigError
from mailroom.desk.app import create_app
from mailroom.desk.oidc import ROLE_PRECEDENCE, role_for_groups
from mailroom.desk.session_store import COOKIE
from mailroom.services import Services, build_services
from mailroom.store.schema import AuditEntry, DeskUser
from tests.conftest import make_settings
from tests.desk.conftest import PASSWORD, SETUP, sign_in
from tests.support.oidc_provider import OidcProvider, b64url, replace_claims, s256, sign_rs256

CLIENT_ID = "11112222-bbbb-3333-cccc-4444dddd5555"
CLIENT_SECRET = "sampleCredentia1s~with+odd&chars"
CALLBACK = "http://localhost/login/sso/callback"  # the test client's host
GROUP_ROLES = {
    "0e1f-managers": "manager",
    "0e1f-officers": "officer",
    "0e1f-admins": "admin",
    "0e1f-records": "records",
}
REFUSED_LINE = "Single sign-on did not work"

MakeApp = Callable[..., tuple[Flask, Services]]


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(CLIENT_ID, CLIENT_SECRET, [CALLBACK]) as running:
        running.person.groups = ["0e1f-officers", "0e1f-managers", "some-other-group"]
        yield running


@pytest.fixture
def make_app(tmp_path: Path, clock: FixedClock, provider: OidcProvider) -> Iterator[MakeApp]:
    """A desk with single sign-on against ``provider``; keyword arguments change
    ``[web.oidc]``. Each call gets its own database."""
    built: list[Services] = []

    def make(**oidc: Any) -> tuple[Flask, Services]:
        settings = {
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "group_roles": GROUP_ROLES,
            **oidc,
        }
        n = len(built)
        services = build_services(
            make_settings(
                tmp_path / f"storage{n}", f"sqlite:///{tmp_path / f'sso{n}.db'}", web={"oidc": settings}
            ),
            clock,
        )
        built.append(services)
        app = create_app(services=services)
        app.testing = True
        return app, services

    yield make
    for services in built:
        services.store.engine.dispose()


@pytest.fixture
def sso(make_app: MakeApp) -> tuple[Flask, Services]:
    return make_app()


def _cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def begin(client: FlaskClient, next_: str | None = None) -> str:
    """The desk's redirect to the provider's sign-in page."""
    response = client.get("/login/sso", query_string={"next": next_} if next_ is not None else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def at_provider(authorize_url: str) -> str:
    """The browser at the provider: its redirect back, as a path for the desk."""
    response = httpx.get(authorize_url, follow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return f"{back.path}?{back.query}"


def sso_sign_in(client: FlaskClient, next_: str | None = None) -> Any:
    return client.get(at_provider(begin(client, next_)))


def _with(path: str, **params: str) -> str:
    """The callback path with some of its query parameters replaced."""
    parts = urlsplit(path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **params})}"


def _user(services: Services, email: str) -> DeskUser | None:
    with services.store.transaction() as repo:
        found = repo.session.scalar(select(DeskUser).where(DeskUser.email == email))
        if found is not None:
            repo.session.expunge(found)
        return found


def _failures(services: Services) -> list[str]:
    with services.store.transaction() as repo:
        rows = repo.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login.failed").order_by(AuditEntry.id)
        )
        return [row.detail for row in rows]


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def _refused(response: Any, status: int = 400) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert 'role="alert"' in page
    return str(page)


# --- signing in ------------------------------------------------------------------


def test_a_manager_signs_in_with_a_new_session_and_lands_on_next(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    client = app.test_client()
    authorize_url = begin(client, "/cases?stage=2")
    before = _cookie(client)
    assert before, "the state, nonce and PKCE verifier live in the session"
    # What the desk asked the provider for: the code flow with PKCE S256, a state and a nonce.
    asked = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(provider.authorize_endpoint + "?")
    assert asked["response_type"] == ["code"] and asked["client_id"] == [CLIENT_ID]
    assert asked["redirect_uri"] == [CALLBACK]
    assert set(asked["scope"][0].split()) == {"openid", "email", "profile"}
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert len(asked["state"][0]) >= 20 and len(asked["nonce"][0]) >= 20

    response = client.get(at_provider(authorize_url))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/cases?stage=2"
    after = _cookie(client)
    assert after and after != before
    assert _signed_in(client)
    # The session from before the sign-in signs nobody in.
    planted = app.test_client()
    planted.set_cookie(COOKIE, before)
    assert not _signed_in(planted)
    # The verifier the desk redeemed the code with is the one behind the challenge.
    (redeemed,) = provider.token_requests
    assert s256(redeemed["code_verifier"]) == asked["code_challenge"][0]
    assert redeemed["client_secret"] == CLIENT_SECRET and redeemed["redirect_uri"] == CALLBACK
    user = _user(services, "morgan.manager@landlord.example")
    assert user is not None
    assert user.role == "manager" and user.name == "Morgan Manager" and user.password_hash == ""
    assert user.oidc_subject == f"{provider.issuer} {provider.person.sub}"


def test_a_second_sign_in_finds_the_same_account(sso: tuple[Flask, Services], provider: OidcProvider) -> None:
    app, services = sso
    assert sso_sign_in(app.test_client()).status_code == 302
    first = _user(services, "morgan.manager@landlord.example")
    provider.person.email = "morgan.m@landlord.example"  # the address changed at the provider
    assert sso_sign_in(app.test_client()).status_code == 302
    assert first is not None and _user(services, "morgan.m@landlord.example") is None
    with services.store.transaction() as repo:
        assert len(list(repo.session.scalars(select(DeskUser)))) == 1


def test_an_existing_password_account_with_the_same_email_is_linked(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    existing = add_user(services, "Morgan", "Morgan.Manager@landlord.example", "officer", PASSWORD, SETUP)
    provider.person.email = "MORGAN.MANAGER@landlord.example"

    assert sso_sign_in(app.test_client()).status_code == 302

    linked = _user(services, "morgan.manager@landlord.example")
    assert linked is not None and linked.id == existing.id
    assert linked.oidc_subject == f"{provider.issuer} {provider.person.sub}"
    assert linked.role == "manager"  # the groups now give a role
    assert sign_in(app.test_client(), linked.email).status_code == 302  # the password still works


def test_the_sign_in_name_is_the_address_when_there_is_no_email_claim(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    provider.person.email = None
    provider.person.preferred_username = "pat.person@landlord.example"
    assert sso_sign_in(app.test_client()).status_code == 302
    assert _user(services, "pat.person@landlord.example") is not None


def test_the_widest_mapped_role_wins() -> None:
    mapping = {group: Role(role) for group, role in GROUP_ROLES.items()}
    assert ROLE_PRECEDENCE == (Role.ADMIN, Role.MANAGER, Role.INBOX, Role.OFFICER, Role.RECORDS)
    assert set(ROLE_PRECEDENCE) == set(Role)
    assert role_for_groups(["0e1f-records", "0e1f-officers"], mapping) == Role.OFFICER
    assert role_for_groups(["0e1f-officers", "0e1f-admins", "0e1f-managers"], mapping) == Role.ADMIN
    assert role_for_groups("0e1f-records", mapping) == Role.RECORDS
    assert role_for_groups(["unmapped"], mapping) is None
    assert role_for_groups([], mapping) is None
    assert role_for_groups(None, mapping) is None
    assert role_for_groups({"0e1f-admins": True}, mapping) is None


def test_a_person_whose_groups_map_to_no_role_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    provider.person.groups = ["some-other-group"]
    client = app.test_client()

    page = _refused(sso_sign_in(client), 403)

    assert "You have no role on the desk yet" in page
    assert not _signed_in(client)
    assert _user(services, "morgan.manager@landlord.example") is None
    assert any("no desk role" in detail for detail in _failures(services))


def test_the_default_role_lets_an_unmapped_person_in(make_app: MakeApp, provider: OidcProvider) -> None:
    app, services = make_app(default_role="records")
    provider.person.groups = []
    client = app.test_client()
    assert sso_sign_in(client).status_code == 302
    assert _signed_in(client)
    user = _user(services, "morgan.manager@landlord.example")
    assert user is not None and user.role == "records"


def test_the_default_role_does_not_replace_a_role_an_admin_set(
    make_app: MakeApp, provider: OidcProvider
) -> None:
    app, services = make_app(default_role="records")
    add_user(services, "Morgan", "morgan.manager@landlord.example", "inbox", None, SETUP)
    provider.person.groups = []
    assert sso_sign_in(app.test_client()).status_code == 302
    user = _user(services, "morgan.manager@landlord.example")
    assert user is not None and user.role == "inbox"


def test_a_deactivated_account_is_refused(sso: tuple[Flask, Services], provider: OidcProvider) -> None:
    app, services = sso
    add_user(services, "Morgan", "morgan.manager@landlord.example", "officer", None, SETUP)
    change_user(services, "morgan.manager@landlord.example", SETUP, active=False)
    client = app.test_client()
    assert "deactivated" in _refused(sso_sign_in(client), 403)
    assert not _signed_in(client)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/login/sso"],
)
def test_next_is_only_ever_a_page_of_the_desk(sso: tuple[Flask, Services], target: str) -> None:
    app, _ = sso
    response = sso_sign_in(app.test_client(), target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- what is refused -------------------------------------------------------------


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"nonce": "not-the-nonce-this-browser-was-given"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"aud": "99998888-ffff-7777-eeee-666655554444"}, "aud"),
        ({"aud": ["99998888-ffff-7777-eeee-666655554444"]}, "aud"),
        ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, "iss"),
        ({"exp": _now() - 3600, "iat": _now() - 7200, "nbf": _now() - 7200}, "exp"),
        ({"sub": None}, "sub"),
    ],
    ids=[
        "wrong-nonce",
        "no-nonce",
        "wrong-audience",
        "wrong-audience-list",
        "wrong-issuer",
        "expired",
        "no-sub",
    ],
)
def test_an_id_token_with_wrong_claims_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider, claims: dict[str, Any], why: str
) -> None:
    app, services = sso
    provider.claims = claims
    client = app.test_client()

    page = _refused(sso_sign_in(client))

    assert REFUSED_LINE in page and "could not be verified" in page
    assert not _signed_in(client)
    assert _user(services, "morgan.manager@landlord.example") is None
    (detail,) = _failures(services)
    assert "ID token refused" in detail and why in detail


def test_an_id_token_signed_with_another_key_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    provider.foreign_key = True  # same kid as the published key, different key
    client = app.test_client()
    assert REFUSED_LINE in _refused(sso_sign_in(client))
    assert not _signed_in(client)
    assert "ID token refused" in _failures(services)[0]


def test_an_id_token_signed_by_an_unknown_key_id_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, _ = sso
    provider.tamper = _resign_with_new_kid
    client = app.test_client()
    assert REFUSED_LINE in _refused(sso_sign_in(client))
    assert not _signed_in(client)


def _claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _resign_with_new_kid(token: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return sign_rs256(_claims_of(token), key, "a-key-id-the-provider-never-published")


def test_an_id_token_changed_after_signing_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    provider.person.groups = []
    provider.tamper = lambda token: replace_claims(token, groups=["0e1f-admins"])
    client = app.test_client()
    assert REFUSED_LINE in _refused(sso_sign_in(client))
    assert not _signed_in(client)
    assert _user(services, "morgan.manager@landlord.example") is None


def test_an_unsigned_id_token_is_refused(sso: tuple[Flask, Services], provider: OidcProvider) -> None:
    app, _ = sso

    def unsigned(token: str) -> str:
        header = json.dumps({"alg": "none", "typ": "JWT"}).encode("ascii")
        return f"{b64url(header)}.{token.split('.')[1]}."

    provider.tamper = unsigned
    client = app.test_client()
    assert REFUSED_LINE in _refused(sso_sign_in(client))
    assert not _signed_in(client)


def test_a_wrong_state_is_refused(sso: tuple[Flask, Services], provider: OidcProvider) -> None:
    app, services = sso
    client = app.test_client()
    back = at_provider(begin(client))

    page = _refused(client.get(_with(back, state="a-state-this-browser-never-had")))

    assert "expired or was not started in this browser" in page
    assert not _signed_in(client)
    assert provider.token_requests == [], "the code is not redeemed without the right state"
    assert "state" in _failures(services)[0]


def test_an_answer_meant_for_another_browser_is_refused(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, _ = sso
    back = at_provider(begin(app.test_client()))
    other = app.test_client()
    _refused(other.get(back))
    assert not _signed_in(other)
    assert provider.token_requests == []


def test_an_answer_is_used_once(sso: tuple[Flask, Services]) -> None:
    app, _ = sso
    client = app.test_client()
    back = at_provider(begin(client))
    assert client.get(back).status_code == 302
    _refused(client.get(back))


def test_a_code_from_another_sign_in_fails_pkce_at_the_provider(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    """Code injection: an attacker's code, from a sign-in the attacker started, put
    into the victim's callback with the victim's own state. The victim's verifier
    does not match the attacker's challenge, so the provider refuses the code."""
    app, services = sso
    stolen_code = parse_qs(urlsplit(at_provider(begin(app.test_client()))).query)["code"][0]
    victim = app.test_client()
    back = at_provider(begin(victim))

    page = _refused(victim.get(_with(back, code=stolen_code)))

    assert REFUSED_LINE in page and "did not sign you in" in page
    assert not _signed_in(victim)
    (refusal,) = provider.token_refusals
    assert (
        refusal["error"] == "invalid_grant" and "code_verifier does not match" in refusal["error_description"]
    )
    assert "invalid_grant" in _failures(services)[0]


def test_an_error_from_the_provider_is_shown_and_audited(
    sso: tuple[Flask, Services], provider: OidcProvider
) -> None:
    app, services = sso
    provider.deny = "access_denied"
    client = app.test_client()

    page = _refused(sso_sign_in(client))

    assert "did not sign you in" in page and "AADSTS" not in page
    assert not _signed_in(client)
    assert provider.token_requests == []
    assert "access_denied" in _failures(services)[0]


def test_a_wrong_client_secret_is_refused_by_the_provider(make_app: MakeApp, provider: OidcProvider) -> None:
    app, services = make_app(client_secret="not-the-secret")
    client = app.test_client()
    _refused(sso_sign_in(client))
    assert provider.token_refusals[0]["error"] == "invalid_client"
    assert "invalid_client" in _failures(services)[0]


def test_an_unreachable_provider_is_one_line_on_the_sign_in_page(
    make_app: MakeApp, provider: OidcProvider
) -> None:
    app, services = make_app(issuer="http://127.0.0.1:9/nobody/v2.0")  # the discard port: nothing there
    page = _refused(app.test_client().get("/login/sso"))
    assert "could not be reached" in page
    assert "discovery" in _failures(services)[0]


# --- configuration ---------------------------------------------------------------


def test_without_single_sign_on_its_pages_do_not_exist(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert "/login/sso" not in client.get("/login").get_data(as_text=True)


def test_the_sign_in_page_offers_single_sign_on_when_it_is_set(sso: tuple[Flask, Services]) -> None:
    app, _ = sso
    page = app.test_client().get("/login?next=/cases").get_data(as_text=True)
    assert 'href="/login/sso?next=/cases"' in page or 'href="/login/sso?next=%2Fcases"' in page


@pytest.mark.parametrize(
    "oidc",
    [
        {"issuer": "http://login.example/tenant/v2.0"},
        {"client_id": ""},
        {"client_secret": ""},
        {"group_roles": {"g": "superuser"}},
        {"default_role": "superuser"},
    ],
    ids=["plain-http-issuer", "no-client-id", "no-secret", "unknown-role", "unknown-default-role"],
)
def test_a_bad_setting_fails_at_start(make_app: MakeApp, oidc: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"web\.oidc"):
        make_app(**oidc)


def test_apps_made_one_after_another_each_have_their_own_client(
    make_app: MakeApp, provider: OidcProvider
) -> None:
    first, _ = make_app()
    second, _ = make_app(default_role="records")
    provider.person.groups = []
    assert _refused(sso_sign_in(first.test_client()), 403)
    assert sso_sign_in(second.test_client()).status_code == 302
