"""The case page: who, what, the Code clocks, the timeline, documents, letters, and
the steps allowed next (the same procedure check as `mailroom cases record`)."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts.roles import Permission
from mailroom.clock import LONDON
from mailroom.desk.actions import audited, done, refused
from mailroom.desk.auth import can, requires, services, signed_in, user, visible_case
from mailroom.errors import UserError
from mailroom.safe_names import safe_filename

blueprint = Blueprint("cases", __name__)

STEP_LABELS = {
    "stage1_acknowledged": "Stage 1 acknowledged",
    "stage1_extended": "Stage 1 response extended",
    "stage1_responded": "Stage 1 response sent",
    "escalation_requested": "Escalation to stage 2 requested",
    "escalation_refused": "Escalation refused",
    "stage2_acknowledged": "Stage 2 acknowledged",
    "stage2_extended": "Stage 2 response extended",
    "stage2_responded": "Stage 2 response sent",
    "remedy_promised": "Remedy promised",
    "remedy_completed": "Remedy completed",
    "action_promised": "Action promised",
    "action_completed": "Action completed",
    "mp_enquiry_received": "MP or councillor enquiry received",
    "mp_enquiry_answered": "MP or councillor enquiry answered",
    "refused": "Not accepted as a complaint",
    "withdrawn": "Withdrawn by the resident",
    "closed": "Closed",
}
NEEDS_UNTIL = {"stage1_extended", "stage2_extended", "remedy_promised", "action_promised"}
_PLAIN_TYPES = ("application/pdf", "image/png", "image/jpeg")
NEEDS_WHAT = {"remedy_promised", "action_promised"}


@blueprint.route("/cases/<complaint_id>")
@signed_in
def show(complaint_id: str) -> ResponseReturnValue:
    from mailroom.case_detail import show_case, timeline

    complaint = visible_case(complaint_id)
    view = show_case(services(), complaint.id)
    if view is None:
        abort(404)
    with services().store.transaction() as repo:
        letters = repo.letters_of_case(complaint.id)
        mails = [
            {"id": mail.id, "subject": mail.subject, "from": mail.from_email, "received_at": mail.received_at}
            for mail in _mails_of_case(repo, complaint.id)
        ]
        documents = repo.documents_of_case(complaint.id)
    allowed = view["procedure"]["allowed_next"] if view.get("procedure") else []
    return render_template(
        "case.html",
        case=view,
        timeline=timeline(services(), complaint.id),
        letters=letters,
        mails=mails,
        documents=documents,
        allowed=[(step, STEP_LABELS.get(step, step)) for step in allowed],
        needs_until=NEEDS_UNTIL,
        needs_what=NEEDS_WHAT,
        now_local=services().clock.now().astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"),
        staff=_staff() if can(Permission.ASSIGN) else [],
    )


def _mails_of_case(repo: Any, complaint_id: str) -> list[Any]:
    from sqlalchemy import select

    from mailroom.store.schema import Mail

    query = select(Mail).where(Mail.complaint_id == complaint_id).order_by(Mail.received_at).limit(200)
    return list(repo.session.scalars(query))


def _staff() -> list[str]:
    from mailroom.staff import members

    return [member.email for member in members(services()) if member.active]


@blueprint.route("/cases/<complaint_id>/steps", methods=["POST"])
@requires(Permission.EDIT_CASE)
def record_step(complaint_id: str) -> ResponseReturnValue:
    from mailroom.case_events import EventDetails, record_event
    from mailroom.domain.case_steps import ClockEvent

    complaint = visible_case(complaint_id)
    back = redirect(url_for("cases.show", complaint_id=complaint.id) + "#steps")
    try:
        event = ClockEvent(request.form.get("step", ""))
    except ValueError:
        refused("Choose the step taken.")
        return back
    try:
        at = _uk_time(request.form.get("at", ""))
        until = _date(request.form.get("until", ""))
        details = EventDetails(
            note=request.form.get("note", "")[:2000],
            by=user().email,
            until=until,
            good_reason=request.form.get("good_reason", "")[:2000],
            what=request.form.get("what", "")[:2000],
            late_reason=request.form.get("late_reason", "")[:2000],
        )
        event_id = record_event(services(), complaint.id, event, at, details=details)
    except UserError as exc:
        refused(str(exc))
        return back
    audited("case.step", complaint_id=complaint.id, target=f"event {event_id}", detail=event.value)
    done(f"{STEP_LABELS.get(event.value, event.value)}: recorded.")
    return back


@blueprint.route("/cases/<complaint_id>/assign", methods=["POST"])
@requires(Permission.ASSIGN)
def assign(complaint_id: str) -> ResponseReturnValue:
    from mailroom.staff import assign as assign_case

    complaint = visible_case(complaint_id)
    officer = request.form.get("officer", "").strip()
    try:
        assign_case(services(), complaint.id, officer)
    except UserError as exc:
        refused(str(exc))
    else:
        audited("case.assign", complaint_id=complaint.id, target=f"officer {officer.lower()}")
        done(f"Assigned to {officer.lower()}.")
    return redirect(url_for("cases.show", complaint_id=complaint.id))


@blueprint.route("/cases/<complaint_id>/mails/<int:mail_id>")
@signed_in
def mail(complaint_id: str, mail_id: int) -> ResponseReturnValue:
    """The resident's mail as text: never its HTML, which could run or track."""
    complaint = visible_case(complaint_id)
    with services().store.transaction() as repo:
        found = repo.get_mail(mail_id)
        if found is None or found.complaint_id != complaint.id:
            abort(404)
        attachments = repo.documents_of_mail(found.id)
    return render_template("mail.html", case_id=complaint.id, mail=found, attachments=attachments)


@blueprint.route("/cases/<complaint_id>/documents/<int:document_id>")
@signed_in
def document(complaint_id: str, document_id: int) -> ResponseReturnValue:
    """A filed document, always as a download (a mail's HTML part or an SVG never
    opens as a page on the desk's origin), read without following symlinks."""
    complaint = visible_case(complaint_id)
    with services().store.transaction() as repo:
        found = next((d for d in repo.documents_of_case(complaint.id) if d.id == document_id), None)
    if found is None:
        abort(404)
    try:
        data = services().storage.read(found.path)
    except (OSError, UserError):
        abort(404)
    name = safe_filename(found.original_name or found.path.rsplit("/", 1)[-1], f"document-{found.id}")
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    kind = guessed if guessed in _PLAIN_TYPES else "application/octet-stream"
    response = Response(data, mimetype=kind)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response.headers["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _uk_time(text: str) -> datetime:
    from mailroom.uk_time import parse_uk_time

    return parse_uk_time(text, "When", services().clock.now)


def _date(text: str) -> Any:
    from datetime import date

    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError("By when: give a date, e.g. 2026-12-18") from None
