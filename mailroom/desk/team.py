"""The team view for managers: each officer's load and what is late, with bulk
assignment (confirmed before it happens)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts.roles import Permission
from mailroom.desk.actions import audited, done, refused
from mailroom.desk.auth import requires, services
from mailroom.errors import UserError

blueprint = Blueprint("team", __name__)


@blueprint.route("/team")
@requires(Permission.SEE_TEAM)
def index() -> ResponseReturnValue:
    from mailroom.queues.team import team_view
    from mailroom.staff import members

    return render_template(
        "team.html", rows=team_view(services()), staff=[m.email for m in members(services()) if m.active]
    )


@blueprint.route("/team/assign", methods=["POST"])
@requires(Permission.ASSIGN)
def bulk_assign() -> ResponseReturnValue:
    """Assign or reassign many cases at once: each through the same use case as
    `mailroom cases assign`, each audited; one that fails is named, the rest go on."""
    from mailroom.cli_common import case_id
    from mailroom.staff import assign

    officer = request.form.get("officer", "").strip()
    chosen = request.form.getlist("complaint_id")[:500]
    if not officer or not chosen:
        refused("Choose the cases and the officer to assign them to.")
        return redirect(request.referrer or url_for("team.index"))
    moved, failed = [], []
    for raw in chosen:
        try:
            complaint_id = case_id(raw)
            assign(services(), complaint_id, officer)
        except UserError as exc:
            failed.append(f"{raw}: {exc}")
            continue
        audited("case.assign", complaint_id=complaint_id, target=f"officer {officer.lower()}", detail="bulk")
        moved.append(complaint_id)
    if moved:
        done(f"{len(moved)} case(s) assigned to {officer.lower()}.")
    for line in failed:
        refused(line)
    return redirect(request.referrer or url_for("team.index"))
