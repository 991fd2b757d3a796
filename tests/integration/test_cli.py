"""The real `mailroom` command, run as a subprocess (exit codes and stderr as an
operator sees them), against a config file, SQLite and storage in a temp folder.
The JSON shapes checked here are the contract in docs/cli.md."""

from __future__ import annotations

import email
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailroom.clock import LONDON
from mailroom.config import load_settings
from mailroom.domain.ids import case_reference
from mailroom.services import build_services
from tests.support import mailgen

PASSWORD = "Imap-Pa55word-never-shown"
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")
OUTCOMES = {"complaint", "reply", "automatic", "mp_enquiry", "duplicate", "triage", "quarantined"}
RULES = {
    "identical_bytes",
    "own_outgoing",
    "auto_submitted",
    "delivery_report",
    "out_of_office",
    "bulk_or_list",
    "thread_by_message_id",
    "subject_reference",
    "no_sender",
    "empty_mail",
    "mp_or_councillor",
    "new_complaint",
    "quarantine",
    "triage",
}
MAIL_KEYS = {
    "id",
    "outcome",
    "rule",
    "reason",
    "complaint_id",
    "message_id",
    "from",
    "from_name",
    "subject",
    "received_at",
    "sha256",
    "size",
    "path",
    "duplicate_of",
    "triage_open",
    "attempts",
}
CASE_KEYS = {"id", "status", "stage", "channel", "received_at", "complainant", "subject", "flags", "officer"}
DETAIL_KEYS = CASE_KEYS | {"description", "parties", "documents", "events"}
DOCUMENT_KEYS = {"kind", "path", "sha256", "size", "original_name", "mail_id"}
DOCUMENT_KINDS = {"raw_mail", "attachment", "attached_mail", "tnef_part", "scan"}
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but evidence all the same " * 20


# -- running the command ---------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """The caller's environment minus anything that would change the outcome."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MAILROOM_") and name not in {"COLUMNS", "LINES"}
    }


@dataclass
class Workspace:
    root: Path
    config: Path
    storage: Path
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def run(self, *args: str | Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "mailroom", *map(str, args), "--config", str(config or self.config)]
        result = subprocess.run(
            argv, cwd=self.root, env=_environment(), capture_output=True, text=True, timeout=300, check=False
        )
        self.runs.append(result)
        # Whatever the command and however it ends, the IMAP password is never printed.
        assert PASSWORD not in result.stdout
        assert PASSWORD not in result.stderr
        return result

    def ok(self, *args: str | Path, config: Path | None = None) -> str:
        result = self.run(*args, config=config)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def json(self, *args: str | Path, config: Path | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", config=config))

    def mails(self) -> list[dict[str, Any]]:
        views = self.json("mail", "list")
        assert isinstance(views, list)
        return views

    def case_id_of(self, address: str) -> str:
        ids = [case["id"] for case in self.json("cases", "list") if case["complainant"]["email"] == address]
        assert len(ids) == 1, ids
        return str(ids[0])


def write_config(root: Path, name: str = "mailroom.toml", extra: str = "") -> Path:
    path = root / name
    database_url = f"sqlite:///{root / 'mailroom.db'}"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(root / 'storage'))}\n{extra}\n"
        f"[database]\nurl = {json.dumps(database_url)}\n"
        '[maildir]\npath = ""\n'
        "[worker]\nprogress = false\n"
        '[imap]\nhost = "imap.example.invalid"\nusername = "complaints-bot"\n'
        f"password = {json.dumps(PASSWORD)}\n",
        encoding="utf-8",
    )
    return path


def new_workspace(root: Path) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(root, write_config(root), root / "storage")
    workspace.ok("init")  # only init, run and ingest may create the database
    return workspace


def drop(folder: Path, mails: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (folder / f"{name}.eml").write_bytes(raw)
    return folder


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw)["Message-ID"]).strip()


def sender(n: int) -> str:
    name, address = mailgen.resident(n)
    return f"{name} <{address}>"


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mailroom: ")
    return lines[0]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- one mailbox, ingested once, read by several tests ---------------------------------------------


@dataclass
class Ingested:
    ws: Workspace
    raws: dict[str, bytes]  # by Message-ID
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    again: subprocess.CompletedProcess[str]
    case_1: str  # the complaint of resident 1, who replies
    mails_before_again: list[dict[str, Any]]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    ws = new_workspace(tmp_path_factory.mktemp("cli"))
    first_batch = {
        "complaint-1": mailgen.complaint(1),
        "complaint-2": mailgen.complaint(2),
        "complaint-2-copy": mailgen.complaint(2),
        "with-photo": mailgen.with_attachment("damp photo.jpg", PHOTO, "image/jpeg", n=3),
        "out-of-office": mailgen.out_of_office(),
        "newsletter": mailgen.newsletter(),
        "bounce": mailgen.delivery_report(),
        "mp": mailgen.mp_enquiry(),
    }
    inbox = drop(ws.root / "inbox", first_batch)
    first = ws.run("ingest", inbox)
    case_1 = ws.case_id_of(mailgen.resident(1)[1])
    reference = case_reference(case_1)
    second_batch = {
        "reply": mailgen.reply_to(message_id(first_batch["complaint-1"]), reference, sender(1)),
        "stranger": mailgen.complaint(4, subject=f"Re: {reference} about my neighbour"),
    }
    later = drop(ws.root / "later", second_batch)
    second = ws.run("ingest", later)
    before = ws.mails()
    again = ws.run("ingest", inbox, later)
    raws = {message_id(raw): raw for raw in [*first_batch.values(), *second_batch.values()]}
    return Ingested(ws, raws, first, second, again, case_1, before)


def test_ingest_reports_what_it_logged(ingested: Ingested) -> None:
    assert ingested.first.returncode == 0, ingested.first.stderr
    assert "8 mail(s) ingested" in ingested.first.stdout
    assert ingested.second.returncode == 0, ingested.second.stderr
    assert "2 mail(s) ingested" in ingested.second.stdout


def test_running_ingest_again_logs_nothing(ingested: Ingested) -> None:
    """GIVEN folders already ingested WHEN `mailroom ingest` runs on them again
    THEN nothing is logged and the mail list is unchanged."""
    assert ingested.again.returncode == 0, ingested.again.stderr
    assert "0 mail(s) ingested" in ingested.again.stdout
    assert ingested.ws.mails() == ingested.mails_before_again
    assert len(ingested.mails_before_again) == 10


def test_mail_list_json_has_the_documented_keys_and_outcomes(ingested: Ingested) -> None:
    views = ingested.ws.mails()
    assert len(views) == 10
    for view in views:
        assert set(view) == MAIL_KEYS
        assert isinstance(view["id"], int) and isinstance(view["size"], int)
        assert view["outcome"] in OUTCOMES
        assert view["rule"] in RULES
        assert view["reason"]
        assert ISO_WITH_OFFSET.match(view["received_at"]), view["received_at"]
        assert datetime.fromisoformat(view["received_at"]).utcoffset() == timedelta(0)  # November: GMT
        assert view["attempts"] == 1
        raw = ingested.raws[view["message_id"]]
        assert view["sha256"] == hashlib.sha256(raw).hexdigest()
        assert view["size"] == len(raw)
        assert (ingested.ws.storage / view["path"] / "message.eml").read_bytes() == raw
    received = [datetime.fromisoformat(view["received_at"]) for view in views]
    assert received == sorted(received)  # oldest receipt first

    by_id: dict[str, list[dict[str, Any]]] = {}
    for view in views:
        by_id.setdefault(view["message_id"], []).append(view)
    outcome = {mid: sorted(v["outcome"] for v in group) for mid, group in by_id.items()}
    complaint_1 = message_id(mailgen.complaint(1))
    complaint_2 = message_id(mailgen.complaint(2))
    assert outcome == {
        complaint_1: ["complaint"],
        complaint_2: ["complaint", "duplicate"],
        message_id(mailgen.with_attachment("damp photo.jpg", PHOTO, "image/jpeg", n=3)): ["complaint"],
        message_id(mailgen.out_of_office()): ["automatic"],
        message_id(mailgen.newsletter()): ["automatic"],
        message_id(mailgen.delivery_report()): ["automatic"],
        message_id(mailgen.mp_enquiry()): ["mp_enquiry"],
        message_id(mailgen.complaint(4)): ["triage"],
        message_id(mailgen.reply_to(complaint_1, case_reference(ingested.case_1), sender(1))): ["reply"],
    }
    first = by_id[complaint_1][0]
    assert first["received_at"] == "2026-11-02T09:07:00+00:00"  # its Date: header; no Received:
    assert first["from"] == mailgen.resident(1)[1]
    assert first["from_name"] == mailgen.resident(1)[0]
    assert first["complaint_id"] == ingested.case_1
    assert first["path"].startswith(f"{ingested.case_1}/")

    original, copy = sorted(by_id[complaint_2], key=lambda v: v["outcome"])
    assert copy["duplicate_of"] == original["id"]
    assert copy["rule"] == "identical_bytes"

    reply = next(v for v in views if v["outcome"] == "reply")
    assert reply["complaint_id"] == ingested.case_1
    stranger = next(v for v in views if v["outcome"] == "triage")
    assert stranger["triage_open"] is True
    assert stranger["complaint_id"] is None
    assert mailgen.resident(4)[1] in stranger["reason"]
    assert sum(v["triage_open"] for v in views) == 1


def test_mail_list_filters_by_outcome(ingested: Ingested) -> None:
    views = ingested.ws.json("mail", "list", "--outcome", "automatic")
    assert [v["outcome"] for v in views] == ["automatic"] * 3
    # the bounce and the out-of-office both carry Auto-Submitted, tried first
    assert sorted(v["rule"] for v in views) == ["auto_submitted", "auto_submitted", "bulk_or_list"]


def test_cases_list_json_has_the_documented_keys(ingested: Ingested) -> None:
    cases = ingested.ws.json("cases", "list")
    assert len(cases) == 4  # complaints 1, 2 and 3, and the MP's enquiry
    for case in cases:
        assert set(case) == CASE_KEYS
        assert re.fullmatch(r"CMP-2026-\d{6}", case["id"])
        assert (case["status"], case["stage"], case["channel"]) == ("open", 1, "email")
        assert ISO_WITH_OFFSET.match(case["received_at"])
        assert set(case["complainant"]) == {"name", "email"}
        assert isinstance(case["subject"], str) and case["subject"]
    assert len({case["id"] for case in cases}) == 4
    flags = {case["complainant"]["email"]: case["flags"] for case in cases}
    assert flags["helen.carter.mp@parliament.uk"] == ["mp_enquiry"]
    assert flags[mailgen.resident(1)[1]] == []


def test_cases_show_json_lists_documents_that_match_the_files_on_disk(ingested: Ingested) -> None:
    ws = ingested.ws
    case_id = ws.case_id_of(mailgen.resident(3)[1])
    view = ws.json("cases", "show", case_id)
    assert set(view) >= DETAIL_KEYS
    assert view["id"] == case_id
    assert (view["status"], view["stage"], view["channel"]) == ("open", 1, "email")
    assert ISO_WITH_OFFSET.match(view["received_at"])
    assert view["complainant"] == {"name": mailgen.resident(3)[0], "email": mailgen.resident(3)[1]}
    assert view["subject"].startswith("Photos of the damp")
    assert "attached evidence" in view["description"]
    assert {"email": mailgen.resident(3)[1], "name": mailgen.resident(3)[0], "role": "complainant"} in view[
        "parties"
    ]

    assert view["documents"]
    for document in view["documents"]:
        assert set(document) >= {"kind", "path", "sha256"}
        assert set(document) == DOCUMENT_KEYS
        assert document["kind"] in DOCUMENT_KINDS
        on_disk = ws.storage / document["path"]
        assert not Path(document["path"]).is_absolute() and ".." not in Path(document["path"]).parts
        assert on_disk.is_file()
        assert sha256_file(on_disk) == document["sha256"]
        assert on_disk.stat().st_size == document["size"]
    kinds = sorted(document["kind"] for document in view["documents"])
    assert kinds == ["attachment", "raw_mail"]
    photo = next(d for d in view["documents"] if d["kind"] == "attachment")
    assert (ws.storage / photo["path"]).read_bytes() == PHOTO
    assert photo["original_name"] == "damp photo.jpg"

    assert view["events"]
    for event in view["events"]:
        assert set(event) == {"id", "at", "kind", "detail", "data"}
        assert ISO_WITH_OFFSET.match(event["at"])
    assert "logged" in [event["kind"] for event in view["events"]]
    at = [datetime.fromisoformat(event["at"]) for event in view["events"]]
    assert at == sorted(at)  # oldest first


def test_cases_show_includes_the_reply_filed_on_the_case(ingested: Ingested) -> None:
    view = ingested.ws.json("cases", "show", ingested.case_1.lower())  # IDs are case-insensitive
    assert view["id"] == ingested.case_1
    raw_mails = [d for d in view["documents"] if d["kind"] == "raw_mail"]
    assert len(raw_mails) == 2
    for document in raw_mails:
        assert sha256_file(ingested.ws.storage / document["path"]) == document["sha256"]
    assert "mail_reply" in [event["kind"] for event in view["events"]]


def test_cases_show_of_an_unknown_case_is_one_error_line(ingested: Ingested) -> None:
    line = assert_one_error_line(ingested.ws.run("cases", "show", "CMP-2026-999999"), 1)
    assert "CMP-2026-999999" in line


# -- complaints made another way -------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return new_workspace(tmp_path / "ws")


def _log_phone_call(ws: Workspace, received: str, *extra: str) -> str:
    created = ws.json(
        "cases",
        "new",
        "--channel",
        "phone",
        "--name",
        "Eileen Doherty",
        "--received",
        received,
        "--subject",
        "Lift out of order for three weeks",
        *extra,
    )
    assert set(created) == {"id"}
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", created["id"])
    return str(created["id"])


def test_cases_new_in_winter_is_recorded_in_gmt(ws: Workspace) -> None:
    """GIVEN a phone complaint received 2026-11-20 14:05 UK time (GMT)
    THEN the case shows 2026-11-20T14:05:00+00:00."""
    case_id = _log_phone_call(ws, "2026-11-20T14:05", "--description", "Rang at 2pm, very upset.")
    assert case_id.startswith("CMP-2026-")
    view = ws.json("cases", "show", case_id)
    assert view["received_at"] == "2026-11-20T14:05:00+00:00"
    assert view["channel"] == "phone"
    assert view["complainant"] == {"name": "Eileen Doherty", "email": None}
    assert view["subject"] == "Lift out of order for three weeks"
    assert view["description"] == "Rang at 2pm, very upset."
    assert [case["id"] for case in ws.json("cases", "list")] == [case_id]


def test_cases_new_in_summer_is_uk_local_time_stored_as_utc(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN --received 2026-06-10T09:00 (BST) THEN the case shows +01:00 and the
    stored instant is 08:00 UTC."""
    case_id = _log_phone_call(ws, "2026-06-10T09:00")
    view = ws.json("cases", "show", case_id)
    assert view["received_at"] == "2026-06-10T09:00:00+01:00"
    assert ws.json("cases", "list")[0]["received_at"] == "2026-06-10T09:00:00+01:00"

    for name in list(os.environ):
        if name.startswith("MAILROOM_"):
            monkeypatch.delenv(name)
    services = build_services(load_settings(ws.config))
    try:
        with services.store.transaction() as repo:
            complaint = repo.get_complaint(case_id)
            assert complaint is not None
            assert complaint.received_at == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
            assert complaint.received_at.utcoffset() == timedelta(0)
    finally:
        services.store.engine.dispose()


def test_cases_new_with_an_explicit_offset_keeps_the_instant(ws: Workspace) -> None:
    case_id = _log_phone_call(ws, "2026-06-10T09:00+00:00")
    assert ws.json("cases", "show", case_id)["received_at"] == "2026-06-10T10:00:00+01:00"


def test_cases_new_with_a_document_files_the_scan(ws: Workspace) -> None:
    scan = ws.root / "letter scan.pdf"
    scan.write_bytes(b"%PDF-1.4 a scanned letter\n")
    case_id = _log_phone_call(ws, "2026-11-20T10:00", "--document", str(scan))
    documents = ws.json("cases", "show", case_id)["documents"]
    assert [d["kind"] for d in documents] == ["scan"]
    assert documents[0]["sha256"] == sha256_file(scan)
    assert (ws.storage / documents[0]["path"]).read_bytes() == scan.read_bytes()


def test_cases_new_received_in_the_future_is_refused_with_one_line(ws: Workspace) -> None:
    tomorrow = (datetime.now(LONDON) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    result = ws.run(
        "cases",
        "new",
        "--channel",
        "letter",
        "--name",
        "Gareth Lloyd",
        "--received",
        tomorrow,
        "--subject",
        "Window",
        "--json",
    )
    line = assert_one_error_line(result, 1)
    assert "future" in line
    assert result.stdout == ""
    assert ws.json("cases", "list") == []


def test_cases_new_with_an_unreadable_date_is_refused_with_one_line(ws: Workspace) -> None:
    result = ws.run(
        "cases",
        "new",
        "--channel",
        "letter",
        "--name",
        "Gareth Lloyd",
        "--received",
        "last Tuesday",
        "--subject",
        "Window",
    )
    assert "--received" in assert_one_error_line(result, 1)


# -- configuration errors, secrets -----------------------------------------------------------------


def test_a_bad_setting_exits_2_with_one_line_naming_the_key(ws: Workspace) -> None:
    """GIVEN imap.port = "abc" THEN exit code 2 and exactly one stderr line naming
    imap.port and the bad value (whatever the terminal width: this is a log line)."""
    bad = ws.root / "a-rather-long-configuration-file-name-for-the-complaints-mailbox.toml"
    bad.write_text(ws.config.read_text(encoding="utf-8").replace("[imap]\n", '[imap]\nport = "abc"\n'))
    result = ws.run("mail", "list", config=bad)
    line = assert_one_error_line(result, 2)
    assert "imap.port" in line
    assert "abc" in line
    assert result.stdout == ""


def test_a_missing_config_file_exits_2_with_one_line(ws: Workspace) -> None:
    result = ws.run("cases", "list", config=ws.root / "missing.toml")
    assert "missing.toml" in assert_one_error_line(result, 2)


def test_the_imap_password_is_never_printed(ingested: Ingested, tmp_path: Path) -> None:
    """Every run in this module asserts it (Workspace.run); here the commands that
    show the most: tables and JSON of everything, and errors."""
    ws = ingested.ws
    for args in (
        ("mail", "list"),
        ("mail", "list", "--json"),
        ("cases", "list"),
        ("cases", "show", ingested.case_1),
        ("triage", "list"),
        ("quarantine", "list"),
    ):
        ws.ok(*args)
    assert ws.run("cases", "show", "NOPE").returncode == 1
    assert ws.run("triage", "resolve", "99999", "--new").returncode == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(
        ws.config.read_text(encoding="utf-8").replace(
            'host = "imap.example.invalid"', 'host = ""\nsecurity = 7'
        )
    )
    assert ws.run("mail", "list", config=bad).returncode == 2
    assert all(PASSWORD not in run.stdout + run.stderr for run in ws.runs)


# -- triage ----------------------------------------------------------------------------------------


def test_triage_resolve_attaches_the_mail_and_adds_the_sender_as_a_party(ws: Workspace) -> None:
    """GIVEN a stranger's mail quoting a resident's case reference (triage)
    WHEN staff attach it to that case with --add-party
    THEN it is a reply on the case, filed in the case folder, and the sender's
    next mail quoting the reference threads by itself."""
    ws.ok("ingest", drop(ws.root / "in1", {"c1": mailgen.complaint(1)}))
    case_id = ws.case_id_of(mailgen.resident(1)[1])
    reference = case_reference(case_id)
    advocate = "Sam Advocate <sam@advice.example.org>"
    ws.ok(
        "ingest",
        drop(ws.root / "in2", {"s1": mailgen.complaint(4, sender=advocate, subject=f"Re: {reference}")}),
    )

    items = ws.json("triage", "list")
    assert len(items) == 1
    item = items[0]
    assert set(item) == MAIL_KEYS
    assert (item["outcome"], item["rule"], item["triage_open"]) == ("triage", "subject_reference", True)
    assert "sam@advice.example.org" in item["reason"]
    old_folder = ws.storage / item["path"]
    assert old_folder.is_dir()

    assert "exactly one" in assert_one_error_line(ws.run("triage", "resolve", str(item["id"])), 1)
    assert_one_error_line(ws.run("triage", "resolve", str(item["id"]), "--new", "--not-a-complaint"), 1)
    assert_one_error_line(ws.run("triage", "resolve", str(item["id"]), "--attach-to", case_id, "--new"), 1)
    assert_one_error_line(ws.run("triage", "resolve", str(item["id"]), "--attach-to", "CMP-2026-999999"), 1)
    assert [i["id"] for i in ws.json("triage", "list")] == [item["id"]]  # refused: still open

    ws.ok(
        "triage",
        "resolve",
        str(item["id"]),
        "--attach-to",
        case_id.lower(),
        "--add-party",
        "--note",
        "advocate acting for the resident",
    )
    assert ws.json("triage", "list") == []
    moved = next(m for m in ws.mails() if m["id"] == item["id"])
    assert (moved["outcome"], moved["complaint_id"], moved["triage_open"]) == ("reply", case_id, False)
    assert "advocate acting for the resident" in moved["reason"]
    assert moved["path"].startswith(f"{case_id}/")
    assert (ws.storage / moved["path"] / "message.eml").is_file()
    assert not old_folder.exists()

    case = ws.json("cases", "show", case_id)
    assert {"email": "sam@advice.example.org", "name": "Sam Advocate", "role": "representative"} in case[
        "parties"
    ]
    assert "triage_resolved" in [event["kind"] for event in case["events"]]
    filed = [d for d in case["documents"] if d["mail_id"] == item["id"]]
    assert [d["kind"] for d in filed] == ["raw_mail"]
    assert filed[0]["path"].startswith(moved["path"] + "/")
    assert sha256_file(ws.storage / filed[0]["path"]) == item["sha256"]

    assert_one_error_line(ws.run("triage", "resolve", str(item["id"]), "--new"), 1)  # no longer open

    follow_up = mailgen.complaint(5, sender=advocate, subject=f"Re: {reference} any news?")
    ws.ok("ingest", drop(ws.root / "in3", {"s2": follow_up}))
    latest = next(m for m in ws.mails() if m["message_id"] == message_id(follow_up))
    assert (latest["outcome"], latest["rule"], latest["complaint_id"]) == (
        "reply",
        "subject_reference",
        case_id,
    )


# -- quarantine ------------------------------------------------------------------------------------


def test_quarantine_keeps_an_oversized_mail_until_the_limit_is_raised(ws: Workspace) -> None:
    """GIVEN storage.max_message_bytes lower than a complaint's size
    WHEN it is ingested THEN it is quarantined with the reason; a retry under the
    same limit keeps it there; after raising the limit a retry logs the complaint."""
    small = write_config(ws.root, "small.toml", extra="max_message_bytes = 300")
    raw = mailgen.complaint(5)
    assert len(raw) > 300
    ws.ok("ingest", drop(ws.root / "in", {"big": raw}), config=small)

    items = ws.json("quarantine", "list", config=small)
    assert len(items) == 1
    item = items[0]
    assert set(item) == MAIL_KEYS
    assert (item["outcome"], item["rule"], item["complaint_id"]) == ("quarantined", "quarantine", None)
    assert "size limit" in item["reason"]
    assert item["size"] == len(raw)
    assert item["sha256"] == hashlib.sha256(raw).hexdigest()
    assert item["path"].startswith("_quarantine/")
    assert (ws.storage / item["path"] / "message.eml").read_bytes() == raw
    assert ws.json("cases", "list", config=small) == []

    still = ws.json("quarantine", "retry", config=small)
    assert len(still) == 1 and still[0]["id"] == item["id"]
    assert still[0]["result"].startswith("still quarantined")

    assert ws.json("quarantine", "retry") == [{"id": item["id"], "result": "complaint"}]
    assert ws.json("quarantine", "list") == []
    retried = next(m for m in ws.mails() if m["id"] == item["id"])
    assert retried["outcome"] == "complaint"
    assert retried["attempts"] == 3
    assert retried["complaint_id"] == ws.case_id_of(mailgen.resident(5)[1])
    assert (ws.storage / retried["path"] / "message.eml").read_bytes() == raw
    assert not (ws.storage / item["path"]).exists()
