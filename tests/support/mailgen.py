"""Builders of raw RFC 5322 mail (bytes) for the tests.

Every builder is deterministic: the same arguments give the same bytes (fixed
dates, Message-IDs and MIME boundaries), so a test can rebuild a mail to compare
with what was stored, and duplicate detection sees exactly what the test meant.

Ordinary mail is built with the stdlib ``email`` package (SMTP policy: CRLF).
Hostile mail is assembled byte by byte, because the stdlib refuses to write
most of what it is meant to contain.
"""

from __future__ import annotations

import base64
import hashlib
import random
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

LANDLORD = "Northgate Homes"
LANDLORD_DOMAIN = "northgatehomes.org.uk"
COMPLAINTS_ADDRESS = f"complaints@{LANDLORD_DOMAIN}"
COMPLAINTS_MAILBOX = f"{LANDLORD} Complaints <{COMPLAINTS_ADDRESS}>"

# A Monday morning in November 2026; complaint #n arrives n * 7 minutes later.
BASE_DATE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

_RESIDENTS = (
    ("Margaret Okafor", "m.okafor"),
    ("David Hughes", "dave.hughes"),
    ("Priya Chandran", "priya.c"),
    ("Tomasz Nowak", "t.nowak"),
    ("Sarah-Jane Whitfield", "sj.whitfield"),
    ("Kwame Mensah", "kwame.mensah"),
    ("Eileen Doherty", "eileen.doherty"),
    ("Mohammed Rahman", "m.rahman"),
    ("Chloe Barker", "chloe.barker"),
    ("Gareth Lloyd", "gareth.lloyd"),
    ("Amina Yusuf", "amina.yusuf"),
    ("Robert Finch", "bob.finch"),
)
_MAIL_DOMAINS = ("example.com", "example.org", "example.net")
_STREETS = (
    "Harrow Court",
    "Kingfisher Road",
    "Albion Street",
    "Meadowbank Close",
    "St Anne's Walk",
    "Victoria Terrace",
    "Orchard House",
)
# (subject, body): the body is formatted with the resident's details.
_ISSUES = (
    (
        "Damp and mould still not fixed",
        "The black mould in my {room} has come back for the third time. Your surveyor has visited "
        "three times since August and each time the wall was just wiped and painted over. My "
        "youngest has a cough that will not clear. I want the cause of the damp found and fixed.",
    ),
    (
        "Repair appointment missed again",
        "I took the day off work on {day} for the repair to my {room} ceiling and nobody came, "
        "and nobody rang. This is the second appointment missed. I lost a day's pay each time.",
    ),
    (
        "Noise from the flat above - nothing being done",
        "I reported loud music and banging after midnight from the flat above me on {day} and "
        "twice before that. I have kept a diary as your officer asked. Nobody has contacted me.",
    ),
    (
        "Rent account is wrong",
        "My rent statement shows arrears of £{amount} but I pay by direct debit every month and "
        "my bank statements show every payment. I have had a letter threatening court action.",
    ),
    (
        "Broken boiler - no heating or hot water",
        "My boiler stopped working on {day}. I was told an engineer would come within 24 hours. "
        "It is now four days later and we have no heating or hot water with two young children.",
    ),
    (
        "Communal area not cleaned and lift broken",
        "The lift in our block has been out of order for three weeks and the stairwell has not "
        "been cleaned. I use a walking frame and I cannot get down the stairs on my own.",
    ),
    (
        "Complaint about how I was spoken to",
        "When I rang about my {room} window on {day} the person I spoke to was rude and put the "
        "phone down on me. I want an apology and for someone to actually book the repair.",
    ),
    (
        "Leak from the bathroom upstairs",
        "Water has been coming through my {room} ceiling from the flat above since {day}. The "
        "plaster is bulging and the light fitting has water in it. I am frightened to use it.",
    ),
)
_ROOMS = ("bedroom", "bathroom", "kitchen", "living room", "hallway")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

_SMTP = policy.SMTP


# -- ordinary mail ---------------------------------------------------------------


def resident(n: int) -> tuple[str, str]:
    """(display name, address) of the resident who sends complaint #n."""
    name, local = _RESIDENTS[n % len(_RESIDENTS)]
    domain = _MAIL_DOMAINS[n % len(_MAIL_DOMAINS)]
    return name, f"{local}{n}@{domain}"


def complaint(
    n: int,
    *,
    sender: str | None = None,
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """A new complaint from a resident; #n differs from every other #m in sender,
    subject, body and Message-ID (unless overridden)."""
    name, address = resident(n)
    issue_subject, issue_body = _ISSUES[n % len(_ISSUES)]
    home = f"{n} {_STREETS[n % len(_STREETS)]}"
    msg = _message(
        sender=sender or f"{name} <{address}>",
        to=COMPLAINTS_MAILBOX,
        subject=subject if subject is not None else f"{issue_subject} - {home}",
        message_id=message_id or f"<complaint-{n}@mail.{_MAIL_DOMAINS[n % len(_MAIL_DOMAINS)]}>",
        date=date or BASE_DATE + timedelta(minutes=7 * n),
        extra_headers=extra_headers,
    )
    if body is None:
        body = _complaint_body(n, name, home, issue_body)
    msg.set_content(body)
    return _serialise(msg, f"complaint-{n}")


def _complaint_body(n: int, name: str, home: str, issue_body: str) -> str:
    details = issue_body.format(
        room=_ROOMS[n % len(_ROOMS)], day=_DAYS[n % len(_DAYS)], amount=f"{100 + 37 * n:,}.{n % 100:02d}"
    )
    return (
        "Dear Northgate Homes,\n\n"
        f"I want to make a formal complaint. I live at {home}, and my tenancy reference is "
        f"T{100000 + n}.\n\n{details}\n\n"
        "Please treat this as a formal complaint and tell me what you are going to do and when.\n\n"
        f"Yours sincerely,\n{name}\n"
    )


def reply_to(
    original_message_id: str,
    reference: str,
    sender: str,
    *,
    message_id: str | None = None,
    body: str | None = None,
    date: datetime | None = None,
) -> bytes:
    """A resident's reply on an existing complaint: threaded by In-Reply-To and
    References, and quoting the case reference in the subject."""
    digest = _short_hash(original_message_id, reference, sender)
    msg = _message(
        sender=sender,
        to=COMPLAINTS_MAILBOX,
        subject=f"Re: Your complaint {reference}",
        message_id=message_id or f"<reply-{digest}@mail.example.com>",
        date=date or BASE_DATE + timedelta(days=3),
        extra_headers={"In-Reply-To": original_message_id, "References": original_message_id},
    )
    msg.set_content(
        body
        or (
            "Thank you for your letter. Nobody has been in touch to book the work you promised, "
            "and the problem is getting worse. Please can someone ring me this week.\n\n"
            f"On Mon, 2 Nov 2026, {COMPLAINTS_MAILBOX} wrote:\n"
            f"> Your complaint reference is {reference}.\n"
            "> We will reply in full within 10 working days.\n"
        )
    )
    return _serialise(msg, f"reply-{digest}")


def with_attachment(
    filename: str,
    payload: bytes,
    content_type: str = "application/octet-stream",
    *,
    n: int = 1,
    sender: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """Complaint #n's text plus one attachment. A non-ASCII ``filename`` is
    written with RFC 2231 (``filename*=utf-8''...``), as real mail clients do."""
    name, address = resident(n)
    digest = _short_hash(filename, hashlib.sha256(payload).hexdigest(), str(n))
    msg = _message(
        sender=sender or f"{name} <{address}>",
        to=COMPLAINTS_MAILBOX,
        subject=f"Photos of the damp - {n} {_STREETS[n % len(_STREETS)]}",
        message_id=message_id or f"<attachment-{digest}@mail.example.com>",
        date=BASE_DATE + timedelta(minutes=7 * n, seconds=30),
    )
    msg.set_content(f"Please see the attached evidence for my complaint.\n\n{name}\n")
    maintype, _, subtype = content_type.partition("/")
    msg.add_attachment(payload, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return _serialise(msg, f"attachment-{digest}")


def mp_enquiry(n: int = 1, *, constituent: str | None = None) -> bytes:
    """An MP's caseworker writing on behalf of a constituent (Code: MP enquiries)."""
    name, _ = resident(n)
    constituent = constituent or name
    msg = _message(
        sender="Helen Carter MP <helen.carter.mp@parliament.uk>",
        to=COMPLAINTS_MAILBOX,
        subject=f"Constituent enquiry: {constituent}, {n} {_STREETS[n % len(_STREETS)]}",
        message_id=f"<mp-enquiry-{n}@parliament.uk>",
        date=BASE_DATE + timedelta(days=1, minutes=n),
    )
    msg.set_content(
        f"Dear Sir or Madam,\n\nI have been contacted by my constituent, {constituent}, who is one "
        "of your tenants. They tell me that repairs to damp in their home have been outstanding for "
        "several months. I would be grateful for your comments and for a timetable for the work.\n\n"
        "Yours faithfully,\n\nHelen Carter MP\nMember of Parliament for Northgate and Ashby\n"
    )
    return _serialise(msg, f"mp-enquiry-{n}")


def out_of_office(
    *,
    sender: str = "Kwame Mensah <kwame.mensah@example.com>",
    original_subject: str = "Your complaint CMP-2026-000001",
    in_reply_to: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """An out-of-office auto-reply (RFC 3834 ``Auto-Submitted`` and the
    ``X-Autoreply`` header many clients add instead)."""
    digest = _short_hash(sender, original_subject, in_reply_to or "")
    headers = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes", "Precedence": "auto_reply"}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    msg = _message(
        sender=sender,
        to=COMPLAINTS_ADDRESS,
        subject=f"Automatic reply: {original_subject}",
        message_id=message_id or f"<ooo-{digest}@mail.example.com>",
        date=BASE_DATE + timedelta(days=2),
        extra_headers=headers,
    )
    msg.set_content("I am away until Monday 16 November with limited access to email.\n")
    return _serialise(msg, f"ooo-{digest}")


def newsletter(*, message_id: str = "<newsletter-2026-11@lists.example.org>") -> bytes:
    """A bulk mailing-list message (``Precedence: bulk``, ``List-Id``)."""
    msg = _message(
        sender="Housing Sector Weekly <news@lists.example.org>",
        to=COMPLAINTS_ADDRESS,
        subject="This week in social housing: damp and mould guidance update",
        message_id=message_id,
        date=BASE_DATE + timedelta(days=4),
        extra_headers={
            "Precedence": "bulk",
            "List-Id": "Housing Sector Weekly <weekly.lists.example.org>",
            "List-Unsubscribe": "<mailto:unsubscribe@lists.example.org>",
        },
    )
    msg.set_content("This week: new guidance on damp and mould, and the latest Ombudsman reports.\n")
    return _serialise(msg, "newsletter")


def delivery_report(
    *,
    failed_recipient: str = "t.nowak@example.net",
    original_message_id: str = "<ack-CMP-2026-000004@northgatehomes.org.uk>",
    message_id: str | None = None,
) -> bytes:
    """A bounce from MAILER-DAEMON: ``multipart/report; report-type=delivery-status``
    with a ``message/delivery-status`` part (RFC 3464)."""
    digest = _short_hash(failed_recipient, original_message_id)
    date = format_datetime(BASE_DATE + timedelta(days=1, hours=2))
    boundary = f"=_bounce-{digest}"
    headers = [
        ("Return-Path", "<>"),
        ("From", f"Mail Delivery System <MAILER-DAEMON@mail.{LANDLORD_DOMAIN}>"),
        ("To", COMPLAINTS_ADDRESS),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("Date", date),
        ("Message-ID", message_id or f"<bounce-{digest}@mail.{LANDLORD_DOMAIN}>"),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/report; report-type=delivery-status; boundary="{boundary}"'),
    ]
    parts = [
        _part(
            "text/plain; charset=us-ascii",
            f"I'm sorry to have to inform you that your message could not be delivered to\r\n"
            f"<{failed_recipient}>: the mailbox does not exist.\r\n",
        ),
        _part(
            "message/delivery-status",
            f"Reporting-MTA: dns; mail.{LANDLORD_DOMAIN}\r\nArrival-Date: {date}\r\n\r\n"
            f"Final-Recipient: rfc822; {failed_recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{failed_recipient}>: Recipient address rejected\r\n",
        ),
        _part(
            "text/rfc822-headers",
            f"From: {COMPLAINTS_MAILBOX}\r\nTo: <{failed_recipient}>\r\n"
            f"Subject: We have received your complaint\r\nMessage-ID: {original_message_id}\r\n",
        ),
    ]
    return _assemble(headers, _multipart_body(boundary, parts))


# -- large mail -----------------------------------------------------------------

# A multiple of 57 bytes (one 76-character base64 line), so each chunk encodes to
# whole lines and the chunks' encodings simply concatenate.
_CHUNK = 57 * 16384


def big_attachment_mail(size_bytes: int, *, seed: int = 0, filename: str = "evidence.bin") -> bytes:
    """A complaint with one random binary attachment of exactly ``size_bytes``
    decoded bytes; ``big_attachment_payload``/``big_attachment_sha256`` with the
    same ``seed`` give what it should decode to."""
    boundary = f"=_big-{size_bytes}-{seed}"
    name, address = resident(seed)
    headers = [
        ("From", f"{name} <{address}>"),
        ("To", COMPLAINTS_MAILBOX),
        ("Subject", f"Video of the leak ({size_bytes} bytes)"),
        ("Date", format_datetime(BASE_DATE + timedelta(hours=5))),
        ("Message-ID", f"<big-{size_bytes}-{seed}@mail.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    text = _part("text/plain; charset=utf-8", "The attached file shows the leak in my kitchen.\r\n")
    encoded = b"".join(
        base64.encodebytes(c).replace(b"\n", b"\r\n") for c in _payload_chunks(size_bytes, seed)
    )
    attachment = (
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        + f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'.encode("ascii")
        + encoded
    )
    return _assemble(headers, _multipart_body(boundary, [text, attachment]))


def big_attachment_payload(size_bytes: int, *, seed: int = 0) -> bytes:
    """The attachment ``big_attachment_mail(size_bytes, seed=seed)`` carries."""
    return b"".join(_payload_chunks(size_bytes, seed))


def big_attachment_sha256(size_bytes: int, *, seed: int = 0) -> str:
    """Hex SHA-256 of that attachment, computed without holding it all in memory."""
    digest = hashlib.sha256()
    for chunk in _payload_chunks(size_bytes, seed):
        digest.update(chunk)
    return digest.hexdigest()


def _payload_chunks(size_bytes: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    remaining = size_bytes
    while remaining > 0:
        chunk = rng.randbytes(min(_CHUNK, remaining))
        remaining -= len(chunk)
        yield chunk


# -- hostile mail -----------------------------------------------------------------


def hostile_mails() -> dict[str, bytes]:
    """Mails built to break a parser, a filer or a renderer, by name.

    Each still looks like a complaint (a resident writing to the complaints
    address, with a unique Message-ID), so it travels the whole pipeline.
    """
    return {
        "traversal_filename": _with_raw_attachment("traversal-filename", 'filename="../../x"'),
        "reserved_filename": _with_raw_attachment("reserved-filename", 'filename="CON.txt"'),
        "long_filename": _with_raw_attachment("long-filename", f'filename="{LONG_FILENAME}"'),
        "unicode_filename": _with_raw_attachment("unicode-filename", _rfc2231("filename", UNICODE_FILENAME)),
        "control_filename": _with_raw_attachment("control-filename", _rfc2231("filename", CONTROL_FILENAME)),
        "control_characters": _control_characters(),
        "many_recipients": _many_recipients(),
        "html_script": _html_script(),
        "header_injection": _header_injection(),
        "long_header": _long_header(),
        "bogus_charset": _bogus_charset(),
        "truncated_multipart": _truncated_multipart(),
    }


LONG_FILENAME = "damp-evidence-" + "x" * (300 - len("damp-evidence-") - len(".jpg")) + ".jpg"
UNICODE_FILENAME = "évidence – damp 📷.pdf"
CONTROL_FILENAME = "bad\x00name\x07\x1b[2J\r\nBcc: x.pdf"
MANY_RECIPIENTS = 10_000
LONG_HEADER_BYTES = 100 * 1024
BOGUS_CHARSET = "x-no-such-charset-42"
INJECTED_SUBJECT = "x\r\nBcc: evil@x"


def _hostile_headers(name: str, subject: str | bytes) -> list[tuple[str, str | bytes]]:
    return [
        ("From", "Robert Finch <bob.finch@example.com>"),
        ("To", COMPLAINTS_ADDRESS),
        ("Subject", subject),
        ("Date", format_datetime(BASE_DATE + timedelta(hours=6))),
        ("Message-ID", f"<hostile-{name}@mail.example.com>"),
        ("MIME-Version", "1.0"),
    ]


def _with_raw_attachment(name: str, filename_param: str) -> bytes:
    boundary = f"=_hostile-{name}"
    headers = [
        *_hostile_headers(name, f"Damp complaint with evidence ({name})"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    text = _part("text/plain; charset=utf-8", "My photos of the mould are attached.\r\n")
    attachment = (
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        + f"Content-Disposition: attachment; {filename_param}\r\n\r\n".encode("ascii")
        + base64.encodebytes(b"not really a photo\n").replace(b"\n", b"\r\n")
    )
    return _assemble(headers, _multipart_body(boundary, [text, attachment]))


def _rfc2231(param: str, value: str) -> str:
    return f"{param}*=utf-8''{urllib.parse.quote(value, safe='')}"


def _control_characters() -> bytes:
    headers = _hostile_headers("control-characters", b"Mould \x00in the\x07 bedroom\x1b[31m RED\x08\x7f")
    headers[0] = ("From", b'"Rob\x00 \x1b[2JFinch\x0b" <bob.finch@example.com>')
    headers.append(("Content-Type", "text/plain; charset=utf-8"))
    headers.append(("Content-Transfer-Encoding", "8bit"))
    body = b"The mould\x00\x00 is back.\x07\x1b[2J\x0c Please\x08 fix it.\r\n\x00\r\n"
    return _assemble(headers, body)


def _many_recipients() -> bytes:
    recipients = ",\r\n ".join(f"resident{i}@example.com" for i in range(MANY_RECIPIENTS - 1))
    headers = _hostile_headers("many-recipients", "Damp in every flat in the block")
    headers[1] = ("To", f"{COMPLAINTS_ADDRESS},\r\n {recipients}")
    headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return _assemble(headers, b"Every flat in our block has damp. We are all complaining together.\r\n")


def _html_script() -> bytes:
    headers = _hostile_headers("html-script", "Mould complaint")
    headers.append(("Content-Type", "text/html; charset=utf-8"))
    body = (
        b"<html><head><script>alert(1)</script></head><body>"
        b"<p>The mould is back in my bedroom.</p>"
        b"<img src=javascript:alert(document.cookie) onerror=\"alert('x')\">"
        b'<a href="javascript:alert(2)">see photos</a>'
        b"</body></html>\r\n"
    )
    return _assemble(headers, body)


def _header_injection() -> bytes:
    encoded = base64.b64encode(INJECTED_SUBJECT.encode("utf-8")).decode("ascii")
    headers = _hostile_headers("header-injection", f"=?utf-8?b?{encoded}?=")
    headers[0] = ("From", "=?utf-8?q?Rob=0D=0ABcc=3A_evil=40x?= <bob.finch@example.com>")
    headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return _assemble(headers, b"My repair has not been done.\r\n")


def _long_header() -> bytes:
    # One unfolded line, no whitespace to fold at: 100 KB is 100 times RFC 5322's 998 limit.
    subject = "Damp" + "A" * (LONG_HEADER_BYTES - len("Damp"))
    headers = _hostile_headers("long-header", subject)
    headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return _assemble(headers, b"The subject says it all.\r\n")


def _bogus_charset() -> bytes:
    headers = _hostile_headers("bogus-charset", "Damp complaint")
    headers.append(("Content-Type", f'text/plain; charset="{BOGUS_CHARSET}"'))
    headers.append(("Content-Transfer-Encoding", "8bit"))
    return _assemble(headers, b"Caf\xe9 upstairs leaks \xff\xfe into my flat.\r\n")


def _truncated_multipart() -> bytes:
    boundary = "=_hostile-truncated"
    headers = [
        *_hostile_headers("truncated", "Damp complaint with photo"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    text = _part("text/plain; charset=utf-8", "Photo attached.\r\n")
    cut = base64.encodebytes(bytes(range(256)) * 4).replace(b"\n", b"\r\n")[:500]
    photo = (
        b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="mould.jpg"\r\n\r\n' + cut
    )
    body = _multipart_body(boundary, [text, photo])
    return _assemble(headers, body[: body.rindex(f"--{boundary}--".encode("ascii"))])


# -- assembly ------------------------------------------------------------------------


def _message(
    *,
    sender: str,
    to: str,
    subject: str,
    message_id: str,
    date: datetime,
    extra_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=_SMTP)
    # Our MX's stamp, as on every delivered mail: for .eml files it, not the
    # sender's Date:, is the receipt time (docs/ingestion.md).
    msg["Received"] = f"from mail.example.net by mx.{LANDLORD_DOMAIN}; {format_datetime(date)}"
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    return msg


def _serialise(msg: EmailMessage, boundary_seed: str) -> bytes:
    # The stdlib picks a random boundary; a fixed one keeps the bytes reproducible.
    if msg.is_multipart():
        msg.set_boundary(f"=_mailroom-{boundary_seed}")
        for part in msg.iter_parts():
            del part["MIME-Version"]  # the stdlib repeats it in each part; mail clients do not
    return msg.as_bytes(policy=_SMTP)


def _assemble(headers: Sequence[tuple[str, str | bytes]], body: bytes) -> bytes:
    lines = [name.encode("ascii") + b": " + _bytes(value) for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _part(content_type: str, text: str) -> bytes:
    return f"Content-Type: {content_type}\r\n\r\n{text}".encode()


def _multipart_body(boundary: str, parts: Sequence[bytes]) -> bytes:
    delimiter = f"--{boundary}\r\n".encode("ascii")
    inner = b"".join(delimiter + part + (b"" if part.endswith(b"\r\n") else b"\r\n") for part in parts)
    return b"This is a multi-part message in MIME format.\r\n\r\n" + inner + f"--{boundary}--\r\n".encode()


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
