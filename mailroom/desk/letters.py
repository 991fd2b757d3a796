"""Letter review: the draft's fields as a form with inline errors, the Code checklist,
a preview as it will print, and approve / return for changes / Word round trip.
Each action is the use case `mailroom letters ...` calls."""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailroom.accounts.roles import Permission
from mailroom.desk.actions import audited, done, refused
from mailroom.desk.auth import can, requires, services, signed_in, user, visible_case
from mailroom.errors import UserError
from mailroom.store.schema import Letter

blueprint = Blueprint("letters", __name__)
STAGE2_TYPES = frozenset({"stage2-acknowledgement", "stage2-extension", "stage2-response"})

# One LibreOffice per desk worker, started on the first preview and kept running:
# a cold start costs seconds, a warm conversion a fraction of one.
_CONVERTER: dict[str, Any] = {}
_CONVERTER_LOCK = threading.Lock()


def _converter() -> Any:
    from mailroom.letters.pdf import PdfConverter

    with _CONVERTER_LOCK:
        if "it" not in _CONVERTER:
            _CONVERTER["it"] = PdfConverter()  # starts LibreOffice on its first conversion
        return _CONVERTER["it"]


def _letter(draft_id: int) -> Letter:
    with services().store.transaction() as repo:
        found = repo.get_letter(draft_id)
    if found is None:
        abort(404)
    visible_case(found.complaint_id)  # 404 unless this person may see its case
    return found


def needs_senior(letter: Letter, stage: int) -> bool:
    return letter.letter_type in STAGE2_TYPES or stage == 2


def may_approve(letter: Letter, stage: int) -> bool:
    if not can(Permission.REVIEW_LETTERS):
        return False
    if needs_senior(letter, stage):
        return user().role.value in services().settings.web.stage2_approver_roles
    return True


def _page(
    letter: Letter, *, fields: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> str:
    from mailroom.letters.checklist import checklist
    from mailroom.letters.drafts import exclusion_ids
    from mailroom.letters.form_fields import describe_form
    from mailroom.letters.pack import letter_pack
    from mailroom.letters.types import LetterType

    kind = LetterType(letter.letter_type)
    settings = services().settings
    pack = letter_pack(settings)
    form = describe_form(
        kind,
        fields if fields is not None else json.loads(letter.fields_json),
        errors=errors,
        exclusions=exclusion_ids(settings, pack),
    )
    from mailroom.letters.drafts import last_return

    complaint = visible_case(letter.complaint_id)
    return render_template(
        "letter.html",
        letter=letter,
        title=pack.letter(kind).title,
        case=complaint,
        form=form,
        rows=checklist(letter.check_json),
        passed=json.loads(letter.check_json).get("passed", False),
        editable=letter.status == "draft" and can(Permission.REVIEW_LETTERS),
        may_approve=letter.status == "draft" and may_approve(letter, complaint.stage),
        senior=needs_senior(letter, complaint.stage),
        approver_roles=settings.web.stage2_approver_roles,
        returned=last_return(services(), letter.id),
    )


@blueprint.route("/letters/<int:draft_id>")
@signed_in
def review(draft_id: int) -> ResponseReturnValue:
    return _page(_letter(draft_id))


@blueprint.route("/letters/<int:draft_id>/fields", methods=["POST"])
@requires(Permission.REVIEW_LETTERS)
def save_fields(draft_id: int) -> ResponseReturnValue:
    from mailroom.letters.drafts import FieldErrors, revise
    from mailroom.letters.form_fields import parse_form
    from mailroom.letters.types import LetterType

    letter = _letter(draft_id)
    fields = parse_form(LetterType(letter.letter_type), request.form)
    try:
        revision = int(request.form.get("revision", "0"))
        discard = request.form.get("discard_edits") == "yes"
        result = revise(services(), letter.id, fields, user().email, revision=revision, discard_edits=discard)
    except FieldErrors as exc:
        return _page(letter, fields=fields, errors=exc.errors), 400
    except (UserError, ValueError) as exc:
        refused(str(exc))
        return redirect(url_for("letters.review", draft_id=letter.id))
    audited(
        "letter.revise",
        complaint_id=letter.complaint_id,
        target=f"letter {letter.id}",
        detail=f"revision {result.revision}: {'passes' if result.check.passed else 'fails'} the check",
    )
    done(
        f"Saved as revision {result.revision}. "
        + (
            "Every required element is there."
            if result.check.passed
            else "Some required elements are still missing: see the checklist."
        )
    )
    return redirect(url_for("letters.review", draft_id=letter.id) + "#checklist")


@blueprint.route("/letters/<int:draft_id>/approve", methods=["POST"])
@requires(Permission.REVIEW_LETTERS)
def approve(draft_id: int) -> ResponseReturnValue:
    from mailroom.letters.drafts import approve as approve_letter

    letter = _letter(draft_id)
    complaint = visible_case(letter.complaint_id)
    if not may_approve(letter, complaint.stage):
        audited(
            "letter.approve.refused",
            complaint_id=letter.complaint_id,
            target=f"letter {letter.id}",
            detail="stage 2 letter: role may not approve",
        )
        abort(
            403,
            "A stage 2 letter is approved by a "
            + " or ".join(services().settings.web.stage2_approver_roles)
            + ".",
        )
    try:
        by_post = request.form.get("by_post") == "yes"
        result = approve_letter(services(), letter.id, user().email, by_post=by_post)
    except UserError as exc:
        refused(str(exc))
        return redirect(url_for("letters.review", draft_id=letter.id))
    how = f"emailed to {result.recipient}" if result.recipient else "ready to print and post"
    audited("letter.approve", complaint_id=letter.complaint_id, target=f"letter {letter.id}", detail=how)
    done(f"Approved and issued: {how}.")
    return redirect(url_for("cases.show", complaint_id=letter.complaint_id))


@blueprint.route("/letters/<int:draft_id>/return", methods=["POST"])
@requires(Permission.REVIEW_LETTERS)
def return_for_changes(draft_id: int) -> ResponseReturnValue:
    from mailroom.letters.drafts import return_for_changes as send_back

    letter = _letter(draft_id)
    note = request.form.get("note", "")[:2000]
    try:
        send_back(services(), letter.id, note, user().email)
    except UserError as exc:
        refused(str(exc))
    else:
        audited(
            "letter.return",
            complaint_id=letter.complaint_id,
            target=f"letter {letter.id}",
            detail=note.strip(),
        )
        done("Returned for changes, with your note on the case.")
    return redirect(url_for("letters.review", draft_id=letter.id))


@blueprint.route("/letters/<int:draft_id>/docx")
@signed_in
def download(draft_id: int) -> ResponseReturnValue:
    from mailroom.letters.drafts import letter_download

    letter = _letter(draft_id)
    try:
        found = letter_download(services(), letter.id)
    except UserError as exc:
        abort(409, str(exc))
    response = Response(found.path.read_bytes(), mimetype=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return response


@blueprint.route("/letters/<int:draft_id>/docx", methods=["POST"])
@requires(Permission.REVIEW_LETTERS)
def upload(draft_id: int) -> ResponseReturnValue:
    from mailroom.letters.drafts import replace

    letter = _letter(draft_id)
    sent = request.files.get("docx")
    if sent is None or not sent.filename:
        refused("Choose the edited letter (.docx) to upload.")
        return redirect(url_for("letters.review", draft_id=letter.id))
    data = sent.read(20 * 1024 * 1024 + 1)
    try:
        result = replace(services(), letter.id, data, user().email)
    except UserError as exc:
        refused(str(exc))
        return redirect(url_for("letters.review", draft_id=letter.id))
    audited(
        "letter.replace",
        complaint_id=letter.complaint_id,
        target=f"letter {letter.id}",
        detail=f"revision {result.revision} uploaded",
    )
    done(f"Uploaded as revision {result.revision} and checked again.")
    return redirect(url_for("letters.review", draft_id=letter.id) + "#checklist")


@blueprint.route("/letters/<int:draft_id>/preview")
@signed_in
def preview(draft_id: int) -> ResponseReturnValue:
    """The pages as images (loaded by htmx after the page, so the form is usable at once)."""
    from mailroom.letters.preview import preview as make_preview

    letter = _letter(draft_id)
    try:
        made = make_preview(services(), letter.id, _converter())
    except UserError as exc:
        return render_template("_preview.html", letter=letter, error=str(exc), pages=0, total=0)
    return render_template(
        "_preview.html",
        letter=letter,
        error="",
        pages=len(made.pages),
        total=made.total_pages,
        sha=made.sha256,
    )


@blueprint.route("/letters/<int:draft_id>/pages/<sha>/<int:number>.png")
@signed_in
def page_image(draft_id: int, sha: str, number: int) -> ResponseReturnValue:
    from mailroom.letters.preview import preview as make_preview

    letter = _letter(draft_id)
    made = make_preview(services(), letter.id, _converter())
    if made.sha256 != sha or not 1 <= number <= len(made.pages):
        # A page of a revision since replaced: a bare 404, not the error page, which
        # would take the messages ("Saved as revision 2") meant for the letter page.
        return Response(status=404)
    response = Response(made.pages[number - 1].read_bytes(), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"  # addressed by content hash
    return response
