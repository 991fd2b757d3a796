"""Signing in and out, and the checks every view makes: a signed-in person, a role
that allows the action, and a case that person may see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts import audit
from mailroom.accounts.roles import Permission, allows
from mailroom.accounts.users import UserView, sign_in, user_by_id
from mailroom.desk.session_store import DeskSession
from mailroom.services import Services
from mailroom.store.schema import Complaint

blueprint = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])


def services() -> Services:
    return cast(Services, current_app.extensions["mailroom.services"])


def current_user() -> UserView | None:
    if "user" not in g:
        desk_session = cast(DeskSession, session)
        g.user = user_by_id(services(), desk_session.user_id) if desk_session.user_id else None
    return cast(UserView | None, g.user)


def user() -> UserView:
    found = current_user()
    if found is None:
        abort(401)
    return found


def client_address() -> str:
    return (request.remote_addr or "")[:64]


def actor() -> audit.Actor:
    return audit.Actor(user().email, client_address())


def can(permission: Permission) -> bool:
    found = current_user()
    return found is not None and allows(found.role, permission)


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(View, wrapped)


def requires(permission: Permission) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user() is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        return cast(View, wrapped)

    return decorate


def officer_scope() -> str | None:
    """None when the person may see every case, else the officer whose cases they see."""
    found = user()
    return None if allows(found.role, Permission.SEE_ALL_CASES) else found.email


def visible_case(complaint_id: str) -> Complaint:
    """The case, if this person may see it; otherwise 404, the same answer as for a
    case that does not exist (no telling which IDs are real)."""
    from mailroom.cli_common import case_id

    try:
        wanted = case_id(complaint_id)
    except Exception:
        abort(404)
    with services().store.transaction() as repo:
        complaint = repo.get_complaint(wanted)
    if complaint is None:
        abort(404)
    scope = officer_scope()
    if scope is not None and complaint.officer.lower() != scope:
        abort(404)
    return complaint


def _safe_next(target: str | None) -> str:
    """Only a path on this desk: never an absolute URL (no open redirect)."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    # Browsers read "/\\evil.example" as "//evil.example": no backslash or control character.
    odd = "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target)
    if odd or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    oidc = services().settings.web.oidc.enabled
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""), error="", oidc=oidc)
    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")[:1024]
    result = sign_in(services(), email, password, client_address())
    if result.user is None:
        status = 429 if "Too many" in result.refusal else 200
        page = render_template(
            "login.html", next=request.form.get("next", ""), error=result.refusal, email=email, oidc=oidc
        )
        return page, status
    start_session(result.user)
    return redirect(_safe_next(request.form.get("next")))


def start_session(found: UserView) -> None:
    """Sign this browser in as ``found`` (password or single sign-on)."""
    cast(DeskSession, session).sign_in(found.id)
    g.user = found


@blueprint.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    found = current_user()
    if found is not None:
        with services().store.transaction() as repo:
            audit.record(repo.session, services().clock.now(), actor(), "logout")
    cast(DeskSession, session).sign_out()
    return redirect(url_for("auth.login"))
