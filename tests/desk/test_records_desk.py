"""The case page's Records panel in-process on a real store and real files: the
evidence pack made and downloaded (who may, where it is kept, no symlink followed),
calls noted and documents filed through the forms (errors next to their fields,
nothing recorded on a mistake), CSRF and size limits."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from mailroom.clock import FixedClock
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import Services, build_services
from mailroom.staff import assign, save_member
from mailroom.store.schema import AuditEntry, Document, Event
from tests.conftest import make_settings
from tests.desk.conftest import TEST_WEB, csrf_of
from tests.integration.test_letters import LANDLORD_FILE
from tests.support.databases import throwaway_postgres

XSS = '<script>alert("x")</script>'
MB = 2**20
# The flows that write to the store run on both databases (desk_services below).
BOTH_DATABASES = pytest.mark.parametrize("database", ["sqlite", "postgresql"])


@pytest.fixture
def desk_services(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str, clock: FixedClock
) -> Iterator[Services]:
    """tests/desk/conftest.py's, on a throwaway PostgreSQL database for a test
    parametrised with ``database="postgresql"``."""
    callspec = getattr(request.node, "callspec", None)
    database = callspec.params.get("database", "sqlite") if callspec else "sqlite"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(throwaway_postgres()) if database == "postgresql" else sqlite_url
        policy = {"landlord_file": str(LANDLORD_FILE)}
        built = build_services(make_settings(tmp_path / "storage", url, web=TEST_WEB, policy=policy), clock)
        yield built
        built.store.engine.dispose()


def _complaint(services: Services, subject: str = "Damp in the bedroom") -> str:
    return log_complaint(
        services,
        OtherChannelComplaint(
            Channel.PHONE,
            datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
            "Ann Resident",
            "ann@resident.example",
            subject,
            "Black mould on the bedroom wall since September.",
        ),
    )


def _post(client: FlaskClient, complaint_id: str, path: str, data: dict[str, object]) -> TestResponse:
    """POST from the case page as the browser would, with that page's CSRF token."""
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    return client.post(f"/cases/{complaint_id}/{path}", data={**data, "csrf_token": csrf_of(page)})


def _packs(services: Services, complaint_id: str) -> Path:
    return services.storage.root / complaint_id / ".packs"


def _events(services: Services, complaint_id: str, kind: str) -> list[Event]:
    with services.store.transaction() as repo:
        query = select(Event).where(Event.complaint_id == complaint_id, Event.kind == kind)
        return list(repo.session.scalars(query))


def _documents(services: Services, complaint_id: str) -> list[Document]:
    with services.store.transaction() as repo:
        return repo.documents_of_case(complaint_id)


def _audit(services: Services, action: str) -> list[AuditEntry]:
    with services.store.transaction() as repo:
        return list(repo.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# -- the evidence pack ---------------------------------------------------------------------


@BOTH_DATABASES
def test_a_records_user_makes_the_pack_and_downloads_both_files(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], people: dict[str, str], database: str
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("records")
    before = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "Make evidence pack" in before and "No evidence pack has been made" in before
    assert "Note a call" not in before and "File a document" not in before  # records: read only
    assert client.get(f"/cases/{complaint_id}/pack.pdf").status_code == 404  # none made yet

    made = _post(client, complaint_id, "pack", {})
    assert made.status_code == 302, made.get_data(as_text=True)

    folder = _packs(desk_services, complaint_id)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{complaint_id}-pack.pdf",
        f"{complaint_id}-pack.zip",
    ]
    after = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert re.search(r"Evidence pack made: \d+ pages, \d+ documents", after)
    assert "Audit chain:" in after and f"/cases/{complaint_id}/pack.zip" in after

    pdf = client.get(f"/cases/{complaint_id}/pack.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert f"{complaint_id}-pack.pdf" in pdf.headers["Content-Disposition"]
    assert pdf.data == (folder / f"{complaint_id}-pack.pdf").read_bytes()
    packed = client.get(f"/cases/{complaint_id}/pack.zip")
    assert packed.status_code == 200 and packed.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["complaint_id"] == complaint_id
    assert manifest["prepared_by"] == f"Records <{people['records']}>"

    [entry] = _audit(desk_services, "records.pack")
    assert entry.actor == people["records"] and entry.complaint_id == complaint_id
    assert entry.source == "127.0.0.1"


def test_an_inbox_user_may_not_make_or_download_a_pack(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    records = signed_in("records")  # a pack made by one who may: a download would have something to give
    assert _post(records, complaint_id, "pack", {}).status_code == 302
    client = signed_in("inbox")
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "Make evidence pack" not in page and f'href="/cases/{complaint_id}/pack.pdf"' not in page
    assert "Note a call" in page and "File a document" in page
    assert _post(client, complaint_id, "pack", {}).status_code == 403
    assert client.get(f"/cases/{complaint_id}/pack.pdf").status_code == 403
    assert client.get(f"/cases/{complaint_id}/pack.zip").status_code == 403
    assert len(_audit(desk_services, "records.pack")) == 1


def test_a_pack_replaced_by_a_symlink_is_not_followed(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], tmp_path: Path
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("manager")
    assert _post(client, complaint_id, "pack", {}).status_code == 302
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF- not the pack: a file outside the case")
    pdf = _packs(desk_services, complaint_id) / f"{complaint_id}-pack.pdf"
    pdf.unlink()
    pdf.symlink_to(secret)
    assert client.get(f"/cases/{complaint_id}/pack.pdf").status_code == 404
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert f'href="/cases/{complaint_id}/pack.pdf"' not in page
    assert f'href="/cases/{complaint_id}/pack.zip"' in page


# -- calls -----------------------------------------------------------------------------------


@BOTH_DATABASES
def test_a_call_noted_through_the_form_is_on_the_timeline(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], people: dict[str, str], database: str
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    form = {
        "at": "2026-11-22T14:30",
        "direction": "outgoing",
        "party": f"Her son {XSS}",
        "summary": "Agreed a surveyor's visit on Tuesday.",
    }
    response = _post(client, complaint_id, "calls", form)
    assert response.status_code == 302
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "Call noted." in page
    timeline = page[page.index('id="timeline"') :]
    assert "Call noted: outgoing call to Her son &lt;script&gt;" in timeline and "<script>alert" not in page
    [event] = _events(desk_services, complaint_id, "call_noted")
    assert event.at == datetime(2026, 11, 22, 14, 30, tzinfo=UTC)  # GMT in November
    assert json.loads(event.payload or "{}") == {
        "direction": "outgoing",
        "with": f"Her son {XSS}",
        "summary": "Agreed a surveyor's visit on Tuesday.",
        "by": people["inbox"],
    }
    assert [e.actor for e in _audit(desk_services, "case.call")] == [people["inbox"]]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"at": "next Tuesday"}, "call-at", "When: not a date or date-time"),
        ({"at": "2026-12-01T09:00"}, "call-at", "is in the future"),
        ({"at": "2026-03-29T01:30"}, "call-at", "did not happen in the UK"),
        ({"summary": "   "}, "call-summary", "write a summary of the call"),
        ({"direction": "sideways"}, "call-direction-incoming", "choose incoming or outgoing"),
    ],
)
def test_a_mistake_in_the_call_form_is_shown_by_its_field_and_records_nothing(
    desk_services: Services,
    signed_in: Callable[[str], FlaskClient],
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    typed = {"at": "2026-11-22T14:30", "direction": "incoming", "summary": f"Said {XSS}", **form}
    response = _post(client, complaint_id, "calls", typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = html[
        html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))
    ]
    [line] = re.findall(r'<li><a href="#([\w-]+)">([^<]*)</a></li>', summary)
    assert line[0] == field and message in line[1] and "\n" not in line[1]
    assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
    if field != "call-summary":  # what was typed is kept, escaped
        assert "Said &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</textarea>" in html
    assert "<script>alert" not in html
    assert _events(desk_services, complaint_id, "call_noted") == []
    assert _audit(desk_services, "case.call") == []


def test_an_officer_may_not_add_to_a_case_not_theirs(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], people: dict[str, str]
) -> None:
    mine, theirs = _complaint(desk_services), _complaint(desk_services, subject="Someone else's")
    for complaint_id, officer in ((mine, people["officer"]), (theirs, people["other_officer"])):
        save_member(desk_services, officer, manager="", digest=False)
        assign(desk_services, complaint_id, officer)
    client = signed_in("officer")
    token = csrf_of(client.get(f"/cases/{mine}").get_data(as_text=True))
    call = {"at": "2026-11-22T14:30", "direction": "incoming", "summary": "Hello", "csrf_token": token}
    assert client.post(f"/cases/{theirs}/calls", data=call).status_code == 404
    upload = {"category": "report", "documents": (io.BytesIO(b"report"), "r.txt"), "csrf_token": token}
    assert client.post(f"/cases/{theirs}/documents", data=upload).status_code == 404
    assert client.post(f"/cases/{theirs}/pack", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/cases/{mine}/calls", data=call).status_code == 302
    assert _events(desk_services, theirs, "call_noted") == [] and _documents(desk_services, theirs) == []


# -- documents -------------------------------------------------------------------------------


@BOTH_DATABASES
def test_documents_filed_through_the_upload_are_filed_under_their_category(
    desk_services: Services,
    signed_in: Callable[[str], FlaskClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database: str,
) -> None:
    uploads = tmp_path / "tmp"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))  # where the view stages the uploads
    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    hostile = f"../../{XSS}.pdf"
    files = [(io.BytesIO(b"%PDF-1.4 survey"), "survey.pdf"), (io.BytesIO(b"second"), hostile)]
    response = _post(client, complaint_id, "documents", {"category": "report", "documents": files})
    assert response.status_code == 302, response.get_data(as_text=True)
    filed = _documents(desk_services, complaint_id)
    assert [(d.kind, d.size) for d in filed] == [("report", 15), ("report", 6)]
    assert filed[0].original_name == "survey.pdf"
    assert "/" not in filed[1].original_name and "<" not in filed[1].original_name
    assert desk_services.storage.read(filed[0].path) == b"%PDF-1.4 survey"
    page = client.get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "survey.pdf" in page and "2 document(s) filed as report." in page and "<script>alert" not in page
    assert list(uploads.iterdir()) == []  # the staged uploads are gone


@pytest.mark.parametrize(
    ("category", "upload", "field", "message"),
    [
        ("report", None, "file-documents", "choose at least one file"),
        ("report", (b"", "empty.pdf"), "file-documents", "empty.pdf is empty"),
        ("", (b"x", "x.pdf"), "file-category", "choose what the documents are"),
        ("secret", (b"x", "x.pdf"), "file-category", "choose what the documents are"),
    ],
)
def test_an_empty_or_uncategorised_upload_is_refused(
    desk_services: Services,
    signed_in: Callable[[str], FlaskClient],
    category: str,
    upload: tuple[bytes, str] | None,
    field: str,
    message: str,
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    data: dict[str, object] = {"category": category}
    if upload is not None:
        data["documents"] = (io.BytesIO(upload[0]), upload[1])
    response = _post(client, complaint_id, "documents", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and f'<a href="#{field}">' in html and message in html
    assert f'id="{field}-error"' in html
    assert _documents(desk_services, complaint_id) == []


@pytest.mark.parametrize(("size", "status"), [(50 * MB + 1, 400), (52 * MB, 413)])
def test_more_than_50_mb_in_one_upload_is_refused_with_a_clear_message(
    desk_services: Services, signed_in: Callable[[str], FlaskClient], size: int, status: int
) -> None:
    """Just over the upload's limit the view refuses it; over the desk's limit on a
    request body, the case page still says why."""
    complaint_id = _complaint(desk_services)
    client = signed_in("inbox")
    big = (io.BytesIO(b"\0" * size), "scan.pdf")
    response = _post(client, complaint_id, "documents", {"category": "report", "documents": big})
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert "at most 50 MB in one upload" in html and 'href="#file-documents"' in html
    assert _documents(desk_services, complaint_id) == []


# -- CSRF ------------------------------------------------------------------------------------


def test_a_post_without_its_csrf_token_is_refused(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = _complaint(desk_services)
    client = signed_in("manager")
    call = {"at": "2026-11-22T14:30", "direction": "incoming", "summary": "Hello"}
    upload = {"category": "report", "documents": (io.BytesIO(b"report"), "r.txt")}
    for path, data in (("pack", {}), ("calls", call), ("documents", upload)):
        for token in ({}, {"csrf_token": "forged"}):
            response = client.post(f"/cases/{complaint_id}/{path}", data={**data, **token})
            assert response.status_code == 403, path
            if "documents" in data:
                data["documents"] = (io.BytesIO(b"report"), "r.txt")  # the stream was read
    assert not os.path.exists(_packs(desk_services, complaint_id))
    assert _events(desk_services, complaint_id, "call_noted") == []
    assert _documents(desk_services, complaint_id) == []
    assert _audit(desk_services, "records.pack") == []
