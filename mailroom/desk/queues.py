"""The work queues: drafts, triage, quarantine, post, outbox problems and deadlines.
Each is a page of its `mailroom.queues` use case; filters, sort and page number sit
in the URL, so every view can be bookmarked."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts.roles import Permission
from mailroom.desk.actions import audited, done, refused
from mailroom.desk.auth import officer_scope, requires, services, signed_in, user
from mailroom.errors import UserError

blueprint = Blueprint("queues", __name__)


def _paging() -> dict[str, Any]:
    try:
        page = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    return {"page": page, "page_size": services().settings.web.page_size}


def _args(*names: str) -> dict[str, str]:
    """The filters in force, to carry into sort and page links."""
    return {name: request.args[name] for name in names if request.args.get(name)}


def _queue(template: str, endpoint: str, page: Any, filters: tuple[str, ...], **extra: Any) -> str:
    return render_template(template, page=page, endpoint=endpoint, args=_args(*filters, "sort"), **extra)


def _run(call: Any, **kwargs: Any) -> Any:
    from mailroom.queues.page import QueueError

    try:
        return call(services(), officer=officer_scope(), **_paging(), **kwargs)
    except QueueError as exc:
        abort(400, str(exc))


@blueprint.route("/queues/drafts")
@requires(Permission.REVIEW_LETTERS)
def drafts() -> ResponseReturnValue:
    from mailroom.letters.types import LetterType
    from mailroom.queues.drafts import drafts_page

    kind = request.args.get("type") or None
    page = _run(drafts_page, letter_type=kind, sort=request.args.get("sort", "due"))
    return _queue("queue_drafts.html", "queues.drafts", page, ("type",), types=list(LetterType), kind=kind)


@blueprint.route("/queues/triage")
@requires(Permission.WORK_INBOX)
def triage() -> ResponseReturnValue:
    from mailroom.queues.guesses import guesses_for
    from mailroom.queues.triage import triage_page

    page = _run(triage_page, rule=request.args.get("rule") or None, sort=request.args.get("sort", "received"))
    ranked = guesses_for(services(), [row.mail_id for row in page.rows], limit=3)
    return _queue("queue_triage.html", "queues.triage", page, ("rule",), guesses=ranked)


@blueprint.route("/queues/triage/<int:mail_id>", methods=["POST"])
@requires(Permission.WORK_INBOX)
def resolve(mail_id: int) -> ResponseReturnValue:
    from mailroom.triage import Resolution
    from mailroom.triage import resolve as resolve_mail

    try:
        resolution = Resolution(request.form.get("resolution", ""))
        complaint_id = request.form.get("complaint_id") or None
        found = resolve_mail(
            services(),
            mail_id,
            resolution,
            complaint_id,
            note=f"on the desk by {user().email}",
            add_party=request.form.get("add_party") == "yes",
        )
    except (UserError, ValueError) as exc:
        refused(str(exc))
    else:
        audited("triage.resolve", complaint_id=found, target=f"mail {mail_id}", detail=resolution.value)
        done(f"Mail {mail_id}: " + (f"filed to {found}." if found else "filed as not a complaint."))
    query = request.query_string.decode("ascii", "replace")
    return redirect(url_for("queues.triage") + (f"?{query}" if query else ""))


@blueprint.route("/queues/quarantine")
@requires(Permission.WORK_INBOX)
def quarantine() -> ResponseReturnValue:
    from mailroom.queues.quarantine import quarantine_page

    page = _run(quarantine_page, sort=request.args.get("sort", "received"))
    return _queue("queue_quarantine.html", "queues.quarantine", page, ())


@blueprint.route("/queues/quarantine/retry", methods=["POST"])
@requires(Permission.WORK_INBOX)
def retry() -> ResponseReturnValue:
    from mailroom.quarantine import retry as retry_mails

    try:
        ids = [int(value) for value in request.form.getlist("mail_id")][:500]
    except ValueError:
        abort(400)
    if not ids:
        refused("Choose the mail to try again.")
        return redirect(url_for("queues.quarantine"))
    outcomes = retry_mails(services(), ids)
    for mail_id, outcome in outcomes.items():
        audited("quarantine.retry", target=f"mail {mail_id}", detail=outcome)
    done("; ".join(f"mail {mail_id}: {outcome}" for mail_id, outcome in sorted(outcomes.items())))
    return redirect(url_for("queues.quarantine"))


@blueprint.route("/queues/post")
@requires(Permission.WORK_INBOX)
def post() -> ResponseReturnValue:
    from mailroom.queues.post import post_page

    page = _run(post_page, sort=request.args.get("sort", "issued"))
    return _queue("queue_post.html", "queues.post", page, ())


@blueprint.route("/queues/post/<int:letter_id>/posted", methods=["POST"])
@requires(Permission.WORK_INBOX)
def posted(letter_id: int) -> ResponseReturnValue:
    from mailroom.desk.auth import visible_case
    from mailroom.letters.drafts import mark_posted

    with services().store.transaction() as repo:
        letter = repo.get_letter(letter_id)
    if letter is None:
        abort(404)
    visible_case(letter.complaint_id)
    try:
        mark_posted(services(), letter_id, user().email)
    except UserError as exc:
        refused(str(exc))
    else:
        audited("letter.posted", complaint_id=letter.complaint_id, target=f"letter {letter_id}")
        done(f"Letter {letter_id} marked as posted.")
    return redirect(url_for("queues.post"))


@blueprint.route("/queues/outbox")
@requires(Permission.SEE_OUTBOX)
def outbox() -> ResponseReturnValue:
    from mailroom.queues.outbox import outbox_page

    page = _run(
        outbox_page, status=request.args.get("status") or None, sort=request.args.get("sort", "-created")
    )
    return _queue("queue_outbox.html", "queues.outbox", page, ("status",))


@blueprint.route("/queues/deadlines")
@signed_in
def deadlines() -> ResponseReturnValue:
    """Due today, due soon, overdue: an officer's own cases, everyone's for the rest."""
    from mailroom.queues.deadlines import deadlines_page

    bucket = request.args.get("bucket") or None
    assigned = request.args.get("officer") if officer_scope() is None else None
    page = _run(deadlines_page, bucket=bucket, assigned_to=assigned, sort=request.args.get("sort", "due"))
    return _queue(
        "queue_deadlines.html",
        "queues.deadlines",
        page,
        ("bucket", "officer"),
        bucket=bucket or "",
        officer=assigned,
        soon_days=services().settings.policy.due_soon_working_days,
    )
