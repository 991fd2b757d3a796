"""A case with a full record, for the evidence pack's tests and benchmark: a complaint
by email and its correspondence (HTML, non-ASCII, a forwarded message, attachments
of every common kind), five letters issued through the Code's steps and two left as
drafts, and notes of calls. Everything goes through the real use cases: the worker
ingests the mails from a Maildir, letters are drafted and approved with LibreOffice."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from docx import Document as DocxDocument
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from mailroom.case_events import record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.case_steps import ClockEvent
from mailroom.domain.ids import case_reference
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import approve, draft
from mailroom.letters.samples import sample_context
from mailroom.letters.types import FIELDS, LetterType, field_names
from mailroom.records.case_files import CallNote, record_call
from mailroom.records.kinds import CallDirection
from mailroom.services import Services
from mailroom.worker import run_once
from tests.support import mailgen

ATTACHMENT_KINDS = ("pdf", "jpeg", "png", "docx", "xlsx", "zip")


def uk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@dataclass
class RichCase:
    complaint_id: str
    subjects: list[str] = field(default_factory=list)  # every mail's subject, as sent
    attachment_names: list[str] = field(default_factory=list)
    issued: list[int] = field(default_factory=list)  # letter ids
    drafts: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # who each call was with


# -- attachments -----------------------------------------------------------------------


def pdf_bytes(title: str, pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        page.drawString(72, 760, f"{title}, page {number}")
        page.showPage()
    page.save()
    return buffer.getvalue()


def image_bytes(kind: str, colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG" if kind == "jpeg" else "PNG")
    return buffer.getvalue()


def docx_bytes(text: str) -> bytes:
    document = DocxDocument()
    document.add_heading("Damp and mould survey", level=1)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "Photos of the ceiling, taken by the resident.")
    return buffer.getvalue()


def attachment(kind: str, n: int) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of attachment number ``n`` of ``kind``."""
    if kind == "pdf":
        return f"repair-report-{n}.pdf", "application/pdf", pdf_bytes(f"Repair report {n}")
    if kind == "jpeg":
        return f"ceiling-photo-{n}.jpg", "image/jpeg", image_bytes("jpeg", (120, 30 * n % 255, 40))
    if kind == "png":
        return f"floor-plan-{n}.png", "image/png", image_bytes("png", (20, 90, 30 * n % 255))
    if kind == "docx":
        return (
            f"survey-{n}.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (docx_bytes(f"Survey number {n}: black mould found in the bathroom.")),
        )
    if kind == "xlsx":
        return (
            f"rent-account-{n}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (xlsx_bytes()),
        )
    return f"photos-{n}.zip", "application/zip", zip_bytes()


# -- mails -----------------------------------------------------------------------------


def reply(
    reference: str,
    sender: str,
    subject: str,
    when: datetime,
    *,
    text: str = "",
    html: str = "",
    files: list[tuple[str, str, bytes]] | None = None,
    forwarded: bytes | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Aisha Patel <{sender}>"
    message["To"] = "complaints@landlord.example"
    message["Subject"] = f"{subject} [{reference}]"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain="resident.example")
    if html and not text:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text or "See attached.")
        if html:
            message.add_alternative(html, subtype="html")
    for name, content_type, data in files or []:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if forwarded is not None:
        message.add_attachment(forwarded, maintype="message", subtype="rfc822", filename="forwarded.eml")
    return message.as_bytes()


def attachment_files(count: int) -> list[tuple[str, str, bytes]]:
    """``count`` attachments, the kinds in turn: two of each kind for 12."""
    rounds = -(-count // len(ATTACHMENT_KINDS))
    return [attachment(kind, n) for n in range(1, rounds + 1) for kind in ATTACHMENT_KINDS][:count]


def _mail_plan(
    reference: str, sender: str, start: date, count: int, attachments: int
) -> list[tuple[str, bytes]]:
    """``count`` replies over the weeks after ``start``: the subjects and their bytes."""
    files = attachment_files(attachments)
    plan = []
    for n in range(count):
        when = uk(start + timedelta(days=1 + n * 27 // max(count, 1)), 8 + n % 3, n % 60)
        subject = f"Update {n + 1:02d} on the leak"
        kwargs: dict[str, Any] = {"text": f"Message {n + 1}: the ceiling is still dripping."}
        if n == 0:
            subject = "Wilgoć w łazience — źle, ŵ ŷ"  # Polish and Welsh letters
            kwargs = {"text": "Zażółć gęślą jaźń. Mae'r nenfwd yn gollwng ŵ ŷ. Cost £120 — €140."}
        elif n == 1:
            subject = "Photos in HTML"
            kwargs = {"html": "<p>The <b>mould</b> is back.</p><script>alert(1)</script><p>Reply soon</p>"}
        elif n == 2:
            subject = "Forwarding the contractor's mail"
            inner = mailgen.reply_to("<x@example.org>", reference, "contractor@repairs.example")
            kwargs = {"text": "Forwarded below.", "forwarded": inner}
        elif 3 <= n < 3 + len(files):
            subject = f"Attachment {n - 2:02d} for the case"
            kwargs = {"text": "Attached.", "files": [files[n - 3]]}
        plan.append((subject, reply(reference, sender, subject, when, **kwargs)))
    return plan


# -- letters ----------------------------------------------------------------------------


def _fields(services: Services, letter_type: LetterType, **overrides: Any) -> dict[str, Any]:
    context = sample_context(letter_type)
    fields = {name: context[name] for name in field_names(letter_type)}
    for spec in FIELDS[letter_type]:
        if spec.type == "date" and fields.get(spec.name):
            fields[spec.name] = datetime.strptime(fields[spec.name], "%A %d %B %Y").date().isoformat()
    fields.update(overrides)
    return fields


def _issue(
    services: Services,
    clock: FixedClock,
    complaint_id: str,
    letter_type: LetterType,
    when: datetime,
    **overrides: Any,
) -> int:
    clock.set(when)
    made = draft(services, complaint_id, letter_type, _fields(services, letter_type, **overrides))
    assert made.check.passed, (letter_type, [(f.id, f.reason) for f in made.check.failures()])
    approve(services, made.draft_id, by="Jo Records")
    return made.draft_id


def build_rich_case(
    services: Services, clock: FixedClock, inbox: Path, *, mails: int = 30, attachments: int = 12
) -> RichCase:
    """The case: a complaint on Monday 2 November 2026, ``mails - 1`` replies over the
    next four weeks, ``attachments`` of them carrying one attachment each."""
    inbox.mkdir(parents=True, exist_ok=True)
    received = date(2026, 11, 2)
    (inbox / "complaint.eml").write_bytes(mailgen.complaint(1))
    clock.set(uk(received, 9, 30))
    run_once(services, [MaildirSource([inbox])])
    with services.store.transaction() as repo:
        (complaint,) = repo.list_complaints()
        (first,) = repo.list_mails()
    case = RichCase(complaint.id, subjects=[first.subject])
    reference = case_reference(complaint.id)
    plan = _mail_plan(reference, first.from_email, received, mails - 1, attachments)
    for n, (subject, raw) in enumerate(plan):
        (inbox / f"reply-{n:03d}.eml").write_bytes(raw)
        case.subjects.append(f"{subject} [{reference}]")
    case.attachment_names = [name for name, _, _ in attachment_files(attachments)]
    clock.set(uk(received + timedelta(days=30), 18))
    run_once(services, [MaildirSource([inbox])])

    ack = uk(date(2026, 11, 3), 12)
    case.issued.append(_issue(services, clock, complaint.id, LetterType.STAGE1_ACKNOWLEDGEMENT, ack))
    new_date = services.calendar.add_working_days(date(2026, 11, 17), 5).isoformat()
    case.issued.append(
        _issue(
            services,
            clock,
            complaint.id,
            LetterType.STAGE1_EXTENSION,
            uk(date(2026, 11, 10)),
            new_date=new_date,
            good_reason=None,
        )
    )
    case.issued.append(
        _issue(services, clock, complaint.id, LetterType.STAGE1_RESPONSE, uk(date(2026, 11, 20)))
    )
    escalated = date(2026, 11, 24)
    clock.set(uk(escalated, 10))
    record_event(services, complaint.id, ClockEvent.ESCALATION_REQUESTED, uk(escalated, 9))
    case.issued.append(
        _issue(
            services,
            clock,
            complaint.id,
            LetterType.STAGE2_ACKNOWLEDGEMENT,
            uk(date(2026, 11, 26)),
            escalation_date=escalated.isoformat(),
        )
    )
    case.issued.append(
        _issue(services, clock, complaint.id, LetterType.STAGE2_RESPONSE, uk(date(2026, 12, 10)))
    )
    clock.set(uk(date(2026, 12, 11)))
    for letter_type in (LetterType.OUTSTANDING_ACTIONS, LetterType.STAGE2_EXTENSION):
        made = draft(services, complaint.id, letter_type, _fields(services, letter_type))
        case.drafts.append(made.draft_id)
    for n, who in enumerate(("Ms Aisha Patel", "her son Omar (representative)", "the plumbing contractor")):
        when = uk(date(2026, 11, 4 + n * 3), 14, 15)
        direction = CallDirection.INCOMING if n != 2 else CallDirection.OUTGOING
        record_call(
            services,
            complaint.id,
            CallNote(when, direction, who, f"Call {n + 1} with {who} about the leak.", "Jo Records"),
        )
        case.calls.append(who)
    return case
