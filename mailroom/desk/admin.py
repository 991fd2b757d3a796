"""People and settings, for admins: the same use cases as `mailroom users`."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts.roles import Permission, Role
from mailroom.desk.actions import done, refused
from mailroom.desk.auth import actor, requires, services
from mailroom.errors import UserError

blueprint = Blueprint("admin", __name__)


@blueprint.route("/admin/users")
@requires(Permission.MANAGE_USERS)
def users() -> ResponseReturnValue:
    from mailroom.accounts.users import list_users

    now = services().clock.now()
    people = list_users(services())
    settings = services().settings
    shown = {
        "web.https": settings.web.https,
        "web.session_idle_minutes": settings.web.session_idle_minutes,
        "web.session_max_hours": settings.web.session_max_hours,
        "web.lockout_failures": settings.web.lockout_failures,
        "web.stage2_approver_roles": ", ".join(settings.web.stage2_approver_roles),
        "web.oidc": "on" if settings.web.oidc.enabled else "off",
        "database": settings.database_url.split("://", 1)[0],
    }
    return render_template("admin_users.html", people=people, roles=list(Role), now=now, shown=shown)


@blueprint.route("/admin/users", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def add() -> ResponseReturnValue:
    from mailroom.accounts.users import add_user

    password = request.form.get("password", "")
    try:
        made = add_user(
            services(),
            request.form.get("name", ""),
            request.form.get("email", ""),
            request.form.get("role", ""),
            password or None,
            actor(),
        )
    except UserError as exc:
        refused(str(exc))
    else:
        done(f"{made.email} can now sign in as {made.role.value}.")
    return redirect(url_for("admin.users"))


@blueprint.route("/admin/users/change", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def change() -> ResponseReturnValue:
    from mailroom.accounts.users import change_user

    email = request.form.get("email", "")
    what = request.form.get("what", "")
    try:
        if what == "role":
            change_user(services(), email, actor(), role=request.form.get("role", ""))
        elif what in ("deactivate", "activate"):
            change_user(services(), email, actor(), active=what == "activate")
        elif what == "unlock":
            change_user(services(), email, actor(), unlock=True)
        else:
            raise UserError("Choose what to change.")
    except UserError as exc:
        refused(str(exc))
    else:
        done(f"{email}: changed.")
    return redirect(url_for("admin.users"))
