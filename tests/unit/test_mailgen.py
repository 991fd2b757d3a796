"""The test mail builders make what they promise, and the stdlib can read all of it."""

from __future__ import annotations

import codecs
import functools
import hashlib
from collections.abc import Callable
from email import errors, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import pytest

from tests.support import mailgen

HOSTILE = mailgen.hostile_mails()

BUILDERS: dict[str, Callable[[], bytes]] = {
    "complaint": lambda: mailgen.complaint(1),
    "complaint-overrides": lambda: mailgen.complaint(
        2,
        sender="Zoë Ní Bhriain <zoe@example.net>",
        subject="Complaint – damp",
        body="Mould £ ✓\n",
        message_id="<x@y>",
        extra_headers={"X-Test": "1"},
    ),
    "reply_to": lambda: mailgen.reply_to(
        "<complaint-1@mail.example.org>", "CMP-2026-000001", "a@example.com"
    ),
    "with_attachment": lambda: mailgen.with_attachment("mould.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"),
    "with_unicode_attachment": lambda: mailgen.with_attachment(mailgen.UNICODE_FILENAME, b"%PDF-1.4"),
    "mp_enquiry": mailgen.mp_enquiry,
    "out_of_office": mailgen.out_of_office,
    "newsletter": mailgen.newsletter,
    "delivery_report": mailgen.delivery_report,
    "big_attachment_mail": lambda: mailgen.big_attachment_mail(1000),
    **{f"hostile-{name}": functools.partial(bytes, raw) for name, raw in HOSTILE.items()},
}


def parse(raw: bytes) -> Message:
    # compat32: the lenient policy, whose header access never raises.
    return BytesParser(policy=policy.compat32).parsebytes(raw)


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def attachment_names(msg: Message) -> list[str]:
    return [name for part in msg.walk() if (name := part.get_filename()) is not None]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_parses_with_the_stdlib(name: str) -> None:
    raw = BUILDERS[name]()
    assert isinstance(raw, bytes)
    for parse_policy in (policy.compat32, policy.default):
        msg = BytesParser(policy=parse_policy).parsebytes(raw)
        for part in msg.walk():
            part.get_payload(decode=True)
            part.get_filename()
        assert msg.get_all("Message-ID") is not None
    msg = parse(raw)
    assert msg["Message-ID"].startswith("<")
    assert msg["Date"] and parsedate_to_datetime(msg["Date"]).tzinfo is not None


def test_builders_are_deterministic() -> None:
    for build in BUILDERS.values():
        assert build() == build()
    assert mailgen.hostile_mails() == HOSTILE


# -- ordinary mail ----------------------------------------------------------------------


def test_complaints_are_unique_per_number() -> None:
    mails = [parse(mailgen.complaint(n)) for n in range(1, 41)]
    for header in ("Message-ID", "From", "Subject"):
        assert len({m[header] for m in mails}) == 40, header
    assert len({m.get_payload(decode=True) for m in mails}) == 40
    assert {m["To"] for m in mails} == {mailgen.COMPLAINTS_MAILBOX}


def test_complaint_overrides_are_used() -> None:
    raw = BUILDERS["complaint-overrides"]()
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert str(msg["From"]) == "Zoë Ní Bhriain <zoe@example.net>"
    assert str(msg["Subject"]) == "Complaint – damp"
    assert msg["Message-ID"] == "<x@y>"
    assert msg["X-Test"] == "1"
    assert msg.get_content().replace("\r\n", "\n") == "Mould £ ✓\n"


def test_reply_threads_to_the_original_and_quotes_the_reference() -> None:
    msg = parse(mailgen.reply_to("<orig@x>", "CMP-2026-000042", "Amina Yusuf <amina@example.com>"))
    assert msg["Subject"] == "Re: Your complaint CMP-2026-000042"
    assert msg["In-Reply-To"] == "<orig@x>"
    assert msg["References"] == "<orig@x>"
    assert msg["From"] == "Amina Yusuf <amina@example.com>"


def test_attachment_round_trips_and_non_ascii_names_use_rfc_2231() -> None:
    payload = bytes(range(256))
    raw = mailgen.with_attachment(mailgen.UNICODE_FILENAME, payload, "application/pdf")
    assert b"filename*=utf-8''" in raw
    [part] = [p for p in parse(raw).walk() if p.get_filename()]
    assert part.get_filename() == mailgen.UNICODE_FILENAME
    assert part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == payload


def test_automatic_mail_carries_its_markers() -> None:
    ooo = parse(mailgen.out_of_office())
    assert (ooo["Auto-Submitted"], ooo["X-Autoreply"]) == ("auto-replied", "yes")

    bulk = parse(mailgen.newsletter())
    assert bulk["Precedence"] == "bulk" and bulk["List-Id"]

    bounce = parse(mailgen.delivery_report(failed_recipient="gone@example.org"))
    assert bounce.get_content_type() == "multipart/report"
    assert bounce.get_param("report-type") == "delivery-status"
    assert "MAILER-DAEMON@" in bounce["From"]
    [status] = [p for p in bounce.walk() if p.get_content_type() == "message/delivery-status"]
    assert "gone@example.org" in status.as_string()


def test_mp_enquiry_comes_from_parliament() -> None:
    assert parse(mailgen.mp_enquiry(3))["From"].endswith("@parliament.uk>")


# -- hostile mail -------------------------------------------------------------------------


def test_hostile_set_is_complete_and_each_mail_is_distinct() -> None:
    assert set(HOSTILE) == {
        "traversal_filename",
        "reserved_filename",
        "long_filename",
        "unicode_filename",
        "control_filename",
        "control_characters",
        "many_recipients",
        "html_script",
        "header_injection",
        "long_header",
        "bogus_charset",
        "truncated_multipart",
    }
    assert len({parse(raw)["Message-ID"] for raw in HOSTILE.values()}) == len(HOSTILE)


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("traversal_filename", "../../x"),
        ("reserved_filename", "CON.txt"),
        ("long_filename", mailgen.LONG_FILENAME),
        ("unicode_filename", "évidence – damp 📷.pdf"),
        ("control_filename", mailgen.CONTROL_FILENAME),
    ],
)
def test_hostile_attachment_names(name: str, filename: str) -> None:
    assert attachment_names(parse(HOSTILE[name])) == [filename]


def test_hostile_names_have_the_described_shape() -> None:
    assert len(mailgen.LONG_FILENAME) == 300
    assert b"filename*=utf-8''" in HOSTILE["unicode_filename"]
    assert "\x00" in mailgen.CONTROL_FILENAME and "\x07" in mailgen.CONTROL_FILENAME


def test_control_characters_in_headers_and_body() -> None:
    raw = HOSTILE["control_characters"]
    headers, body = raw.split(b"\r\n\r\n", 1)
    lines = {line.split(b":", 1)[0]: line for line in headers.split(b"\r\n")}
    assert b"\x00" in lines[b"Subject"] and b"\x1b" in lines[b"Subject"]
    assert b"\x00" in lines[b"From"] and b"\x0b" in lines[b"From"]
    assert b"\x00" in body and b"\x07" in body


def test_ten_thousand_recipients() -> None:
    msg = parse(HOSTILE["many_recipients"])
    assert len(getaddresses(msg.get_all("To") or [])) == mailgen.MANY_RECIPIENTS == 10_000


def test_html_with_script_and_javascript_image() -> None:
    msg = parse(HOSTILE["html_script"])
    assert msg.get_content_type() == "text/html"
    html = msg.get_payload(decode=True)
    assert b"<script>alert(1)</script>" in html
    assert b"<img src=javascript:" in html


def test_header_injection_hides_in_encoded_words() -> None:
    raw = HOSTILE["header_injection"]
    # The raw header block holds no Bcc: header; decoding the Subject would produce one.
    assert not any(line.lower().startswith(b"bcc") for line in header_block(raw).split(b"\r\n"))
    msg = parse(raw)
    assert str(make_header(decode_header(msg["Subject"]))) == "x\r\nBcc: evil@x" == mailgen.INJECTED_SUBJECT
    assert "\r\nBcc:" in str(make_header(decode_header(msg["From"])))


def test_header_line_of_100_kb() -> None:
    longest = max(len(line) for line in header_block(HOSTILE["long_header"]).split(b"\r\n"))
    assert longest >= 100 * 1024


def test_bogus_charset() -> None:
    msg = parse(HOSTILE["bogus_charset"])
    charset = msg.get_content_charset()
    assert charset == mailgen.BOGUS_CHARSET
    with pytest.raises(LookupError):
        codecs.lookup(charset)
    assert b"\xff" in msg.get_payload(decode=True)


def test_truncated_multipart_has_no_closing_boundary() -> None:
    raw = HOSTILE["truncated_multipart"]
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert f"--{msg.get_boundary()}--".encode() not in raw
    assert any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for d in msg.defects)


# -- big attachments ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 57, 1000, 57 * 16384 + 5])
def test_big_attachment_decodes_to_exactly_the_promised_bytes(size: int) -> None:
    msg = parse(mailgen.big_attachment_mail(size, seed=7))
    [part] = [p for p in msg.walk() if p.get_filename()]
    data = part.get_payload(decode=True)
    assert len(data) == size
    assert data == mailgen.big_attachment_payload(size, seed=7)
    assert hashlib.sha256(data).hexdigest() == mailgen.big_attachment_sha256(size, seed=7)


def test_big_attachment_depends_on_the_seed() -> None:
    assert mailgen.big_attachment_payload(64, seed=1) != mailgen.big_attachment_payload(64, seed=2)
    assert mailgen.big_attachment_mail(64, seed=1) != mailgen.big_attachment_mail(64, seed=2)
