"""The start page: what is waiting, by queue; and the landlord's colour as CSS."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for
from flask.typing import ResponseReturnValue

from mailroom.desk.auth import signed_in

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@signed_in
def index() -> ResponseReturnValue:
    from mailroom.accounts.roles import Permission
    from mailroom.desk.auth import can, officer_scope, services
    from mailroom.queues.counts import queue_counts

    counts = queue_counts(services(), officer=officer_scope())
    tiles = [
        (counts.overdue, "overdue", url_for("queues.deadlines", bucket="overdue"), True),
        (counts.due_today, "due today", url_for("queues.deadlines", bucket="today"), True),
        (counts.due_soon, "due soon", url_for("queues.deadlines", bucket="soon"), True),
        (counts.drafts, "drafts to review", url_for("queues.drafts"), can(Permission.REVIEW_LETTERS)),
        (counts.triage, "mails to place", url_for("queues.triage"), can(Permission.WORK_INBOX)),
        (counts.quarantine, "in quarantine", url_for("queues.quarantine"), can(Permission.WORK_INBOX)),
        (counts.to_post, "letters to post", url_for("queues.post"), can(Permission.WORK_INBOX)),
        (counts.outbox_problems, "outbox problems", url_for("queues.outbox"), can(Permission.SEE_OUTBOX)),
    ]
    shown = [{"count": n, "label": label, "url": url} for n, label, url, allowed in tiles if allowed]
    return render_template("home.html", counts=shown)


@blueprint.route("/theme.css")
def theme() -> ResponseReturnValue:
    colour = current_app.config["DESK_BRAND"]["colour"]
    response = Response(f":root {{ --brand: {colour}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/healthz")
def health() -> ResponseReturnValue:
    return {"status": "ok"}
