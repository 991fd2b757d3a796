"""Approving a letter end to end, with the real components: the draft is converted
by LibreOffice, the PDF filed under the complaint and emailed through the outbox to
an SMTP server (aiosmtpd, STARTTLS on a test certificate), and the acknowledgement
moves the Code clocks. Hostile field text survives draft -> approve -> PDF intact."""

from __future__ import annotations

import io
import json
import random
import shutil
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from mailroom.clock import LONDON, FixedClock
from mailroom.domain.deadlines import DeadlineState, deadline_state
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.filing import sha256_hex
from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.drafts import (
    approve,
    draft,
    draft_pending_acknowledgements,
    list_letters,
    long_date,
)
from mailroom.letters.pack import LetterError
from mailroom.letters.types import LetterType
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.outbound import send_due
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.support.smtp import Collector, ServerFactory

SENDER = "complaints@riversidevale.example"
RESIDENT = "aisha.patel@example.org"
TRICKY = "Smith & Sons <Ltd> \"quoted\" 'single'"
INJECTION = "{{ 7*7 }} {% for %}"
ILLEGAL = "\x00\x0b\x1b\ufffe"


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        pytest.fail("LibreOffice (soffice) is not installed: run `make system-deps`", pytrace=False)
    return found


@pytest.fixture
def mail(smtp_server: ServerFactory) -> tuple[Collector, int]:
    return smtp_server()


@pytest.fixture
def services(
    soffice: str, tmp_path: Path, clock: FixedClock, mail: tuple[Collector, int], ca_file: Path
) -> Iterator[Services]:
    _, port = mail
    smtp = {"host": "127.0.0.1", "port": port, "security": "starttls", "ca_file": ca_file, "sender": SENDER}
    settings = make_settings(
        tmp_path / "storage",
        f"sqlite:///{tmp_path / 'mailroom.db'}",
        smtp=smtp,
        policy={
            "landlord_file": Path(__file__).resolve().parents[2] / "rules" / "policies" / "ongo-2025.toml"
        },
    )
    built = build_services(settings, clock)
    yield built
    built.store.engine.dispose()


def log(services: Services, **overrides: Any) -> str:
    values: dict[str, Any] = {
        "channel": Channel.PHONE,
        "received_at": datetime(2026, 11, 20, 9, 30, tzinfo=LONDON),
        "name": "Ms Aisha Patel",
        "email": RESIDENT,
        "subject": "Leak from the flat above",
        "description": "Water has come through my kitchen ceiling since August.",
    }
    values.update(overrides)
    return log_complaint(services, OtherChannelComplaint(**values))


ACK_FIELDS: dict[str, Any] = {
    "points": [
        {
            "summary": "The leak from the flat above has damaged your kitchen ceiling.",
            "outcome_sought": "The leak fixed and the ceiling repaired.",
        }
    ],
    "responsible_for": ["The repair of the leak and the ceiling"],
    "handler_name": "Sam Okafor",
}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_approving_an_acknowledgement_emails_the_pdf_files_it_and_moves_the_clocks(
    services: Services, mail: tuple[Collector, int], clock: FixedClock
) -> None:
    collector, _ = mail
    complaint_id = log(services)
    reference = case_reference(complaint_id)
    assert draft_pending_acknowledgements(services) == 1  # the automatic draft, still TBC
    (automatic,) = list_letters(services, complaint_id)
    with pytest.raises(LetterError) as refused:
        approve(services, automatic["draft_id"], by="jo.bennett")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"letter {automatic['draft_id']} cannot be approved: the check fails: ")
    assert "complaint-definition (5.6)" in message and "placeholders" in message

    drafted = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, ACK_FIELDS)
    assert drafted.check.passed
    issued = approve(services, drafted.draft_id, by="jo.bennett")
    assert (issued.status, issued.recipient) == ("sent", RESIDENT)
    issue_day = issued.issued_at.astimezone(LONDON).date()
    assert issue_day == date(2026, 11, 23)

    # The outbox sends it over STARTTLS, with the PDF attached.
    report = send_due(services.store, services.settings.smtp, clock)
    assert (report.sent, report.failed) == (1, 0)
    (received,) = collector.messages
    assert received["To"] == RESIDENT and received["From"] == SENDER
    assert reference in received["Subject"]
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{reference} Stage 1 acknowledgement.pdf"
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert f"Our reference: {reference}" in text
    assert "Ongo Homes" in text and "Customer Resolution Team" in text
    due = services.calendar.add_working_days(issue_day, 10)
    assert f"stage 1 response by {long_date(due)}" in text
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and reference in body.get_content()

    # Filed under the complaint; the hashes match the files and the case manifest.
    (view,) = [v for v in list_letters(services, complaint_id) if v["draft_id"] == drafted.draft_id]
    assert view["status"] == "sent" and view["approved_by"] == "jo.bennett"
    assert view["outbox_id"] == issued.outbox_id and view["message_id"] == received["Message-ID"]
    root = services.storage.root
    docx_path, pdf_path = root / view["docx"]["path"], root / view["pdf"]["path"]
    assert docx_path.parent == pdf_path.parent == root / complaint_id / "letters"
    assert pdf_path.read_bytes() == pdf
    assert sha256_hex(docx_path.read_bytes()) == view["docx"]["sha256"]
    assert sha256_hex(pdf) == view["pdf"]["sha256"]
    manifest = {
        f["path"]: f for f in json.loads((root / complaint_id / "manifest.json").read_text())["files"]
    }
    for path, kind in ((docx_path, "letter_docx"), (pdf_path, "letter_pdf")):
        entry = manifest[str(path.relative_to(root / complaint_id))]
        assert (entry["kind"], entry["sha256"]) == (kind, sha256_hex(path.read_bytes()))

    # The acknowledgement is on the case at the moment of issue and the clocks moved.
    with services.store.transaction() as repo:
        events = repo.events_of_case(complaint_id)
        deadlines = {d.clock: d for d in repo.deadlines_of_case(complaint_id)}
    assert [e.at for e in events if e.kind == "stage1_acknowledged"] == [issued.issued_at]
    assert {"letter_drafted", "letter_approved", "letter_sent"} <= {e.kind for e in events}
    acknowledgement, response = deadlines["stage1_acknowledgement"], deadlines["stage1_response"]
    assert acknowledgement.stopped_at == issued.issued_at
    state = deadline_state(
        acknowledgement.stopped_at,
        acknowledgement.lapses_at,
        acknowledgement.due,
        services.calendar,
        clock.now(),
        2,
    )
    assert state is DeadlineState.MET  # received Friday 20 November, acknowledged Monday 23: in time
    assert response.started_at == issued.issued_at and response.stopped_at is None
    assert response.due == due == date(2026, 12, 7)

    # Issued letters are not drafts any more; the automatic draft could not be issued now.
    with pytest.raises(LetterError, match=r"is sent, no longer a draft"):
        approve(services, drafted.draft_id)
    assert draft_pending_acknowledgements(services) == 0


def long_text() -> str:
    rng = random.Random(7)
    words = ["repair", "damp", "A&E", "<urgent>", "it's", '"quoted"', "{x}", "50%", "{{ 7*7 }}", "boiler"]
    lines = []
    while sum(len(line) + 1 for line in lines) < 20_000:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 14))))
    return "\n".join(lines)


def test_hostile_text_survives_draft_approve_and_pdf(services: Services) -> None:
    """Complainant text with markup, XML-illegal characters, template syntax and 20 kB
    of it goes through to the PDF intact (the illegal characters dropped), printed
    literally, never evaluated. No email address: the letter is issued for post."""
    subject = f"{TRICKY} {INJECTION}"
    description = long_text()
    complaint_id = log(
        services,
        name=f"Ms O'Brien & Daughters <Ltd>{ILLEGAL}",
        email="",
        subject=subject,
        description=description,
    )
    fields = {
        "points": [
            {"summary": subject + ILLEGAL, "outcome_sought": f"An apology & a repair <soon> {INJECTION}"}
        ],
        "responsible_for": [f"The repair {TRICKY}"],
        "not_responsible_for": [f"Your contents {ILLEGAL}insurance"],
        "handler_name": "Sam O'Neil & Co",
        "adjustments": description,
    }
    drafted = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, fields)
    assert drafted.check.passed, [(f.id, f.reason) for f in drafted.check.failures()]
    issued = approve(services, drafted.draft_id)
    assert (issued.status, issued.recipient, issued.outbox_id) == ("for_post", "", None)

    docx_text = read_docx_text(drafted.path).text
    pdf = pdf_text(issued.pdf_path.read_bytes())
    for text in (docx_text, pdf):
        assert "Dear Ms O'Brien & Daughters <Ltd>" in text
        assert subject in text
        assert f"An apology & a repair <soon> {INJECTION}" in text
        assert f"The repair {TRICKY}" in text
        assert "Your contents insurance" in text
        assert "Sam O'Neil & Co" in text
        assert "49" not in text.replace(case_reference(complaint_id), "")
        lines = description.splitlines()
        for line in (lines[0], lines[len(lines) // 2], lines[-1]):
            assert " ".join(line.split()) in text
    assert " ".join(description.split()) in docx_text  # all 20 kB, in order
    assert len(PdfReader(str(issued.pdf_path)).pages) >= 4
    for character in ILLEGAL:
        assert character not in docx_text and character not in pdf
    with services.store.transaction() as repo:
        kinds = [e.kind for e in repo.events_of_case(complaint_id)]
        assert repo.outbox_entry(f"letter:{drafted.draft_id}") is None
    assert "letter_for_post" in kinds and "stage1_acknowledged" in kinds
