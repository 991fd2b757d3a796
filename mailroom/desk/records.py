"""The case page's Records panel: make and download the evidence pack, note a call,
file documents (the same use cases as `mailroom pack`, `cases call`, `cases file`:
mailroom/records/). A form with a mistake comes back as the case page with the
error next to its field and in the summary, what was typed kept (status 400)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mailroom.accounts.audit import Actor
from mailroom.accounts.roles import Permission
from mailroom.desk.actions import audited, done, refused
from mailroom.desk.auth import can, client_address, requires, services, user, visible_case
from mailroom.errors import UserError
from mailroom.filing import StorageError
from mailroom.records.case_files import MAX_FILED_BYTES
from mailroom.records.kinds import CallDirection, FiledCategory
from mailroom.safe_names import safe_filename

blueprint = Blueprint("records", __name__)

PACKS_FOLDER = ".packs"  # in the case folder: erasing the case at retention erases its packs
MAX_UPLOAD_BYTES = MAX_FILED_BYTES  # one upload, all its files together (app.py's body limit above it)
_CHUNK = 2**20
_PACK_TYPES = {"pdf": "application/pdf", "zip": "application/zip"}
_MOST_PROBLEMS_SHOWN = 5

CATEGORY_LABELS = {
    FiledCategory.CORRESPONDENCE: "Correspondence, such as a letter received by post (pack section B)",
    FiledCategory.NOTE: "File note or internal email (pack section C)",
    FiledCategory.REPORT: "Repairs record, survey or inspection report (pack section D)",
    FiledCategory.TENANCY: "Tenancy agreement or tenancy record (pack section E)",
    FiledCategory.POLICY: "Policy relied on (pack section F)",
    FiledCategory.OMBUDSMAN: "Housing Ombudsman correspondence (pack section G)",
}
DIRECTION_LABELS = {
    CallDirection.INCOMING: "Incoming: they called us",
    CallDirection.OUTGOING: "Outgoing: we called them",
}


# -- what the case page shows ----------------------------------------------------------


@dataclass(frozen=True)
class PackFile:
    name: str
    size: int
    built_at: datetime

    @property
    def size_text(self) -> str:
        if self.size >= 2**20:
            return f"{self.size / 2**20:.1f} MB"
        return f"{self.size / 1024:.1f} KB"


@dataclass
class RecordsForms:
    """What was typed into the panel's forms and what is wrong with it, by field id."""

    call: dict[str, str] = field(default_factory=dict)
    category: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field id -> one line


@dataclass(frozen=True)
class RecordsPanel:
    pdf: PackFile | None
    zip: PackFile | None
    forms: RecordsForms
    categories: list[tuple[str, str]]
    directions: list[tuple[str, str]]

    @property
    def errors(self) -> list[tuple[str, str]]:
        return list(self.forms.errors.items())

    @property
    def max_upload_mb(self) -> int:
        return MAX_UPLOAD_BYTES // 2**20


@blueprint.app_context_processor
def _panel() -> dict[str, Any]:
    return {"records_panel": records_panel}


def records_panel(complaint_id: str) -> RecordsPanel:
    """The panel of a case the person may see (the case page checked that)."""
    pdf_name, zip_name = _names(complaint_id)
    show_packs = can(Permission.MAKE_PACKS)
    return RecordsPanel(
        pdf=_pack_file(complaint_id, pdf_name) if show_packs else None,
        zip=_pack_file(complaint_id, zip_name) if show_packs else None,
        forms=g.get("records_forms") or RecordsForms(),
        categories=[(c.value, label) for c, label in CATEGORY_LABELS.items()],
        directions=[(d.value, label) for d, label in DIRECTION_LABELS.items()],
    )


def _names(complaint_id: str) -> tuple[str, str]:
    from mailroom.records.pack import pack_names

    return pack_names(complaint_id)


def _pack_file(complaint_id: str, name: str) -> PackFile | None:
    try:
        info = os.lstat(services().storage.resolve(f"{complaint_id}/{PACKS_FOLDER}/{name}"))
    except (OSError, StorageError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None  # a link or anything else placed there is not a pack
    return PackFile(name, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))


def _with_errors(complaint_id: str, forms: RecordsForms, status: int) -> ResponseReturnValue:
    """The case page again, the forms as typed and their errors shown."""
    from mailroom.desk.cases import show

    g.records_forms = forms
    response = make_response(show(complaint_id))
    response.status_code = status
    return response


# -- the evidence pack -----------------------------------------------------------------


@blueprint.route("/cases/<complaint_id>/pack", methods=["POST"])
@requires(Permission.MAKE_PACKS)
def make_pack(complaint_id: str) -> ResponseReturnValue:
    from mailroom.records.pack import NoSuchCase, build_pack

    complaint = visible_case(complaint_id)
    back = redirect(url_for("cases.show", complaint_id=complaint.id) + "#records")
    me = user()
    try:
        folder = _packs_folder(complaint.id)
        # One build of a case's pack at a time (two people, two desk workers): both
        # would write the same partial files. build_pack starts a LibreOffice of its own
        # when a document needs converting and stops it after: residents' files are
        # never opened by the one the letter previews share.
        with services().lock(f"records-pack:{complaint.id}"):
            result = build_pack(
                services(),
                complaint.id,
                folder,
                f"{me.name} <{me.email}>",
                actor=Actor(me.email, client_address()),
            )
    except NoSuchCase:
        abort(404)
    except (UserError, StorageError) as exc:
        refused(f"The evidence pack was not made: {exc}")
        return back
    done(
        f"Evidence pack made: {result.pages} pages, {result.documents} documents"
        f" ({result.listed} listed only). Audit chain: {result.chain_line}"
    )
    if not result.chain_intact:
        refused(f"Warning: the audit chain does not verify: {result.chain_line}")
    if result.problems:
        shown = "; ".join(result.problems[:_MOST_PROBLEMS_SHOWN])
        more = len(result.problems) - _MOST_PROBLEMS_SHOWN
        refused(
            f"Warning: {len(result.problems)} file(s) are not as filed: {shown}"
            + (f"; and {more} more (manifest.json in the zip lists them)" if more > 0 else "")
        )
    return back


def _packs_folder(complaint_id: str) -> Path:
    """``<root>/<id>/.packs``, private; through no symlink (``resolve`` refuses them)."""
    storage = services().storage
    folder = storage.resolve(f"{complaint_id}/{PACKS_FOLDER}")
    if not folder.parent.is_dir():
        # A case with nothing filed yet has no folder: made as filing makes it (its
        # modes, the records group), holding the case manifest every case folder has.
        from mailroom.publishing import write_case_manifest

        with services().store.transaction() as repo:
            write_case_manifest(services(), repo, complaint_id)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise StorageError(f"{folder} is not a folder: remove it")
    return folder


@blueprint.route("/cases/<complaint_id>/pack.<any(pdf, zip):kind>")
@requires(Permission.MAKE_PACKS)
def download(complaint_id: str, kind: str) -> ResponseReturnValue:
    """The last pack made on the desk, as a download; 404 before the first."""
    complaint = visible_case(complaint_id)
    pdf_name, zip_name = _names(complaint.id)
    name = pdf_name if kind == "pdf" else zip_name
    handle = _open_pack(complaint.id, name)
    modified = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
    response = send_file(
        handle,
        mimetype=_PACK_TYPES[kind],
        as_attachment=True,
        download_name=name,
        last_modified=modified,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _open_pack(complaint_id: str, name: str) -> IO[bytes]:
    try:
        path = services().storage.resolve(f"{complaint_id}/{PACKS_FOLDER}/{name}")
        if not stat.S_ISREG(os.lstat(path).st_mode):
            abort(404)  # never opened: a FIFO would block, a link is not ours
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (OSError, StorageError):
        abort(404)
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the two looks
        handle.close()
        abort(404)
    return handle


# -- a call ------------------------------------------------------------------------------


@blueprint.route("/cases/<complaint_id>/calls", methods=["POST"])
@requires(Permission.EDIT_CASE)
def note_call(complaint_id: str) -> ResponseReturnValue:
    from mailroom.records.case_files import MAX_CALL_SUMMARY, CallNote, CaseFileError, record_call
    from mailroom.uk_time import parse_uk_time

    complaint = visible_case(complaint_id)
    typed = {name: request.form.get(name, "") for name in ("at", "direction", "party", "summary")}
    forms = RecordsForms(call=typed)
    try:
        at = parse_uk_time(typed["at"], "When", services().clock.now)
    except UserError as exc:
        forms.errors["call-at"] = str(exc)
    try:
        direction = CallDirection(typed["direction"])
    except ValueError:
        forms.errors["call-direction-incoming"] = "Who called: choose incoming or outgoing."
    summary = typed["summary"].strip()
    if not summary:
        forms.errors["call-summary"] = "What was said: write a summary of the call."
    elif len(summary) > MAX_CALL_SUMMARY:
        forms.errors["call-summary"] = (
            f"What was said: {len(summary)} characters; at most {MAX_CALL_SUMMARY}."
        )
    if forms.errors:
        return _with_errors(complaint.id, forms, 400)
    note = CallNote(at=at, direction=direction, party=typed["party"], summary=summary, by=user().email)
    try:
        event_id = record_call(services(), complaint.id, note)
    except CaseFileError as exc:
        # The summary and the choice were checked above: what is left is the time (in the future).
        forms.errors["call-at"] = f"When: {exc}"
        return _with_errors(complaint.id, forms, 400)
    audited("case.call", complaint_id=complaint.id, target=f"event {event_id}", detail=direction.value)
    done("Call noted.")
    return redirect(url_for("cases.show", complaint_id=complaint.id) + "#timeline")


# -- documents ---------------------------------------------------------------------------


@blueprint.route("/cases/<complaint_id>/documents", methods=["POST"])
@requires(Permission.EDIT_CASE)
def file_documents(complaint_id: str) -> ResponseReturnValue:
    from mailroom.records.case_files import CaseFileError
    from mailroom.records.case_files import file_documents as file_them

    complaint = visible_case(complaint_id)
    forms = RecordsForms(category=request.form.get("category", ""))
    sent = [item for item in request.files.getlist("documents") if item.filename]
    if not sent:
        forms.errors["file-documents"] = "Documents: choose at least one file to file."
    try:
        category = FiledCategory(forms.category)
    except ValueError:
        forms.errors["file-category"] = "What they are: choose what the documents are."
    if forms.errors:
        return _with_errors(complaint.id, forms, 400)
    work = Path(tempfile.mkdtemp(prefix="mailroom-upload-"))  # made 0700: private
    try:
        paths = _save_uploads(sent, work)
        count = file_them(services(), complaint.id, paths, category, user().email)
        names = ", ".join(path.name for path in paths)
    except CaseFileError as exc:
        forms.errors["file-documents"] = f"Documents: {exc}"
        return _with_errors(complaint.id, forms, 400)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audited("case.documents", complaint_id=complaint.id, target=category.value, detail=names[:500])
    done(f"{count} document(s) filed as {category.value}.")
    return redirect(url_for("cases.show", complaint_id=complaint.id) + "#documents")


def _save_uploads(sent: list[FileStorage], work: Path) -> list[Path]:
    """Each upload in a folder of its own (two may share a name) under a safe name;
    CaseFileError for an empty file or more than MAX_UPLOAD_BYTES in all."""
    from mailroom.records.case_files import CaseFileError

    paths, left = [], MAX_UPLOAD_BYTES
    for index, item in enumerate(sent, start=1):
        folder = work / f"{index:02d}"
        folder.mkdir(mode=0o700)
        path = folder / safe_filename(item.filename or "", f"document-{index}")
        written = _copy_bounded(item.stream, path, left)
        if written > left:
            raise CaseFileError(f"at most {MAX_UPLOAD_BYTES // 2**20} MB in one upload")
        if written == 0:
            raise CaseFileError(f"{path.name} is empty")
        paths.append(path)
        left -= written
    return paths


def _copy_bounded(source: IO[bytes], target: Path, limit: int) -> int:
    """Bytes copied; stops after ``limit + 1`` (the caller refuses more than ``limit``)."""
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while written <= limit:
            chunk = source.read(min(_CHUNK, limit + 1 - written))
            if not chunk:
                break
            out.write(chunk)
            written += len(chunk)
    return written


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body past the desk's limit is refused before the view runs (reading the form
    for its CSRF token, so nothing was checked yet): the upload form says why, next to
    its field; anything else gets the error page."""
    limit = f"at most {MAX_UPLOAD_BYTES // 2**20} MB in one upload"
    complaint_id = str((request.view_args or {}).get("complaint_id", ""))
    if request.endpoint == "records.file_documents" and can(Permission.EDIT_CASE):
        try:
            visible_case(complaint_id)
        except HTTPException:  # an error handler must answer, not raise
            return render_template("error.html", code=404, title="Page not found", message=""), 404
        forms = RecordsForms(errors={"file-documents": f"Documents: {limit}."})
        return _with_errors(complaint_id, forms, 413)
    return render_template(
        "error.html", code=413, title="Too large", message=f"Too much was sent: {limit}."
    ), 413
