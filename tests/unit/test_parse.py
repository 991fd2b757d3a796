"""parse_mail: what the classifier and filing get out of a raw mail, and that it never raises."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.domain.models import Address, AttachmentKind, ParsedMail
from mailroom.ingest import parse
from mailroom.ingest.parse import ParseError, decode_rfc2047, html_to_text, parse_mail
from mailroom.safe_names import safe_filename
from tests.support import mailgen
from tests.support.tnef_builder import TnefFile, build_tnef

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "mikel-mail"
PDF_LIKE = b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n" + bytes(range(256)) * 40 + b"\x00\r\n%%EOF\n"


def raw_mail(headers: list[tuple[str, str]], body: bytes | str = b"body\r\n") -> bytes:
    """A mail exactly as written: for the malformed cases EmailMessage refuses to make."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    return head + b"\r\n" + (body.encode("utf-8") if isinstance(body, str) else body)


def complaint(body: str = "The damp in my bedroom is back.\n", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Zoë Ní Bhriain <Zoe.Bhriain@Example.NET>")
    msg["To"] = "complaints@landlord.example"
    msg["Subject"] = headers.pop("Subject", "Damp complaint")
    msg["Date"] = "Mon, 23 Nov 2026 09:15:00 +0000"
    msg["Message-ID"] = "<c1@example.net>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


# --------------------------------------------------------------------------- headers


def test_plain_complaint_fields() -> None:
    mail = parse_mail(complaint(Cc="Housing Officer <Officer@Landlord.example>").as_bytes(policy=SMTP))
    assert mail.message_id == "<c1@example.net>"
    assert mail.subject == "Damp complaint"
    assert mail.sender == Address("Zoë Ní Bhriain", "zoe.bhriain@example.net")
    assert mail.to == (Address("", "complaints@landlord.example"),)
    assert mail.cc == (Address("Housing Officer", "officer@landlord.example"),)
    assert mail.date == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert mail.body_text == "The damp in my bedroom is back."
    assert mail.attachments == ()
    assert mail.in_reply_to == () and mail.references == ()


def test_outlook_style_message_id_is_read() -> None:
    # policy.default raises IndexError on these (cpython#94306).
    raw = raw_mail(
        [
            ("From", "a@b.example"),
            ("Message-ID", "<[abc-123]@AM0PR01MB1234.eurprd01.PROD.OUTLOOK.COM>"),
            ("In-Reply-To", "<[x]@DB8PR02.PROD.OUTLOOK.COM>"),
            ("References", "<[y]@PROD.OUTLOOK.COM>\r\n <[x]@DB8PR02.PROD.OUTLOOK.COM>"),
        ]
    )
    mail = parse_mail(raw)
    assert mail.message_id == "<[abc-123]@AM0PR01MB1234.eurprd01.PROD.OUTLOOK.COM>"
    assert mail.in_reply_to == ("<[x]@DB8PR02.PROD.OUTLOOK.COM>",)
    assert mail.references == ("<[y]@PROD.OUTLOOK.COM>", "<[x]@DB8PR02.PROD.OUTLOOK.COM>")


def test_reference_ids_are_extracted_from_garbage_and_deduplicated() -> None:
    raw = raw_mail(
        [
            ("From", "a@b.example"),
            ("In-Reply-To", "Your message of Monday <m1@x> (was: <m0@x>)"),
            ("References", "<m0@x> junk <m1@x> <m0@x> <no spaces allowed@x> <m2@\x00x>"),
        ]
    )
    mail = parse_mail(raw)
    assert mail.in_reply_to == ("<m1@x>", "<m0@x>")
    assert mail.references == ("<m0@x>", "<m1@x>", "<m2@x>")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ""), ("   ", ""), ("no-brackets@host.example", "<no-brackets@host.example>"), ("junk", "")],
)
def test_message_id_edge_cases(value: str, expected: str) -> None:
    assert parse_mail(raw_mail([("From", "a@b.example"), ("Message-ID", value)])).message_id == expected


def test_missing_headers_give_empty_values() -> None:
    mail = parse_mail(b"\r\njust a body\r\n")
    assert (mail.message_id, mail.subject, mail.sender, mail.to, mail.date) == (
        "",
        "",
        Address("", ""),
        (),
        None,
    )
    assert mail.in_reply_to == () and mail.references == ()
    assert mail.headers == {}


def test_control_characters_are_stripped_from_the_subject() -> None:
    mail = parse_mail(mailgen.hostile_mails()["control_characters"])
    assert mail.subject == "Mould in the bedroom[31m RED"
    assert mail.sender.name == "Rob [2JFinch"
    assert mail.body_text == "The mould is back.[2J Please fix it."


def test_encoded_line_breaks_cannot_inject_a_header_line() -> None:
    mail = parse_mail(mailgen.hostile_mails()["header_injection"])
    assert mail.subject == "x Bcc: evil@x"
    assert mail.sender == Address("Rob Bcc: evil@x", "bob.finch@example.com")


def test_subject_is_decoded_and_bounded() -> None:
    encoded = raw_mail(
        [("From", "a@b.example"), ("Subject", "=?utf-8?q?Damp_=E2=80=93_flat_3?= " + "x" * 5000)]
    )
    subject = parse_mail(encoded).subject
    assert subject.startswith("Damp – flat 3 xxx")
    assert len(subject) == 1000


def test_eight_bit_latin1_subject_keeps_its_accents() -> None:
    # mail-parser drops undecodable bytes ("Formao"); the cp1252 fallback keeps them.
    raw = b"From: a@b.example\r\nSubject: Forma\xe7\xe3o \xa3100\r\n\r\nbody\r\n"
    assert parse_mail(raw).subject == "Formação £100"


def test_folded_subject_is_unfolded() -> None:
    raw = raw_mail([("From", "a@b.example"), ("Subject", "Damp in the\r\n\tbedroom and\r\n the hall")])
    assert parse_mail(raw).subject == "Damp in the bedroom and the hall"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_au_lait?=", "café au lait"),
        ("a =?iso-8859-1?q?=A3100?= b", "a £100 b"),
        ("=?utf-8?B?4o?= =?utf-8?B?gqw=?=", "€"),  # one character split across two words
        ("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "テスト"),
        ("=?no-such-charset?q?abc?=", "abc"),
        ("=?utf-8*en?q?hello?=", "hello"),
        ("plain text =? not encoded ?=", "plain text =? not encoded ?="),
    ],
)
def test_decode_rfc2047(value: str, expected: str) -> None:
    assert decode_rfc2047(value) == expected


def test_sender_falls_back_to_the_sender_header() -> None:
    raw = raw_mail([("From", "Tenant Association"), ("Sender", "Secretary <SEC@tenants.example>")])
    assert parse_mail(raw).sender == Address("Secretary", "sec@tenants.example")


def test_one_bare_address_in_a_broken_from_is_recovered() -> None:
    assert parse_mail(raw_mail([("From", "Big Bug bb@bug.com")])).sender.email == "bb@bug.com"


def test_unusable_from_keeps_its_text_with_no_address() -> None:
    raw = raw_mail([("From", "tim@a.example concierge@a.example")])
    assert parse_mail(raw).sender == Address("tim@a.example concierge@a.example", "")


def test_ten_thousand_recipients_parse_quickly() -> None:
    started = time.perf_counter()
    mail = parse_mail(mailgen.hostile_mails()["many_recipients"])
    assert len(mail.to) == 10_000
    assert mail.to[-1] == Address("", "resident9998@example.com")
    assert time.perf_counter() - started < 10  # about 0.4 s; policy.default would take 3 s+


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 1 Jul 2003 10:52:37 +0200", datetime(2003, 7, 1, 8, 52, 37, tzinfo=UTC)),
        ("Tue, 1 Jul 2003 10:52:37 -0000", datetime(2003, 7, 1, 10, 52, 37, tzinfo=UTC)),
        ("31 Feb 2026 10:00:00 +0000", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_date_is_aware_utc_or_none(value: str, expected: datetime | None) -> None:
    assert parse_mail(raw_mail([("From", "a@b.example"), ("Date", value)])).date == expected


def test_classifier_headers_are_kept_lower_cased_and_cleaned() -> None:
    raw = raw_mail(
        [
            ("From", "a@b.example"),
            ("Auto-Submitted", "auto-replied"),
            ("X-Auto-Response-Suppress", "All"),
            ("Precedence", "bulk\x00"),
            ("List-Id", "Residents <residents.lists.example>"),
            ("X-Mailroom-Outbound", "C-2026-0001"),
            ("X-Unrelated", "not kept"),
        ]
    )
    assert parse_mail(raw).headers == {
        "auto-submitted": "auto-replied",
        "x-auto-response-suppress": "All",
        "precedence": "bulk",
        "list-id": "Residents <residents.lists.example>",
        "x-mailroom-outbound": "C-2026-0001",
    }


def test_delivery_report_is_recognisable() -> None:
    mail = parse_mail(mailgen.delivery_report())
    assert mail.headers["content-type"].startswith("multipart/report")
    assert "report-type=delivery-status" in mail.headers["content-type"]
    assert "message/delivery-status" in [a.content_type for a in mail.attachments]


def test_corpus_bounce_keeps_the_returned_mail() -> None:
    raw = (CORPUS / "multipart_report_emails" / "multi_address_bounce1.eml").read_bytes()
    mail = parse_mail(raw)
    assert mail.headers["content-type"].startswith("multipart/report; report-type=delivery-status")
    kinds = [(a.content_type, a.kind) for a in mail.attachments]
    assert kinds == [
        ("message/delivery-status", AttachmentKind.ATTACHMENT),
        ("message/rfc822", AttachmentKind.ATTACHED_MAIL),
    ]
    assert mail.body_text.startswith("This is the mail system at host")


# --------------------------------------------------------------------------- body text


def test_forwarded_mail_gives_only_the_outer_body() -> None:
    inner = complaint("Inner complaint text from last year.\n", Subject="Original complaint")
    outer = complaint("Please see the complaint below, still not fixed.\n", Subject="Fwd: Original complaint")
    outer.add_attachment(inner)
    mail = parse_mail(outer.as_bytes(policy=SMTP))
    assert mail.body_text == "Please see the complaint below, still not fixed."
    assert "Inner complaint" not in mail.body_text
    [attached] = mail.attachments
    assert attached.kind is AttachmentKind.ATTACHED_MAIL
    assert attached.filename == "attached-mail-1.eml"
    assert attached.content_type == "message/rfc822"
    assert attached.payload == inner.as_bytes(policy=SMTP)  # byte-identical, CRLF kept
    assert BytesParser().parsebytes(attached.payload)["Subject"] == "Original complaint"


def test_attached_mail_keeps_its_own_filename() -> None:
    outer = complaint()
    outer.add_attachment(complaint(), filename="the original.eml")
    [attached] = parse_mail(outer.as_bytes()).attachments
    assert attached.filename == "the original.eml"
    assert attached.kind is AttachmentKind.ATTACHED_MAIL


def test_html_only_mail_becomes_text_without_script() -> None:
    mail = parse_mail(mailgen.hostile_mails()["html_script"])
    assert mail.body_text == "The mould is back in my bedroom.\n\nsee photos"
    assert "alert" not in mail.body_text


def test_html_to_text_keeps_breaks_and_decodes_entities() -> None:
    markup = (
        "<html><head><title>Newsletter</title><style>p {color: red}</style></head><body>"
        "<p>Dear&nbsp;Sir,</p><p>Rent &pound;500 &amp; rising.<br>Line two<br/>Line   three</p>"
        "<ul><li>damp</li><li>mould</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<!-- hidden --><script>var x = '<p>not text</p>';</script></body></html>"
    )
    assert (
        html_to_text(markup) == "Dear Sir,\n\nRent £500 & rising.\nLine two\nLine three\n\ndamp\nmould\n\na b"
    )


def test_html_to_text_is_linear_on_unclosed_tags() -> None:
    # "<a<a<a..." made HTMLParser take 32 s for 200 KB.
    started = time.perf_counter()
    assert html_to_text("<a" * 100_000 + "<p>tail</p>").endswith("tail")
    assert time.perf_counter() - started < 5


def test_blank_plain_alternative_falls_through_to_html() -> None:
    msg = complaint(" \r\n")
    msg.add_alternative("<p>The real text is in the HTML part.</p>", subtype="html")
    assert parse_mail(msg.as_bytes()).body_text == "The real text is in the HTML part."


def test_plain_alternative_is_preferred_to_html() -> None:
    msg = complaint("Plain version.\n")
    msg.add_alternative("<p>HTML version.</p>", subtype="html")
    mail = parse_mail(msg.as_bytes())
    assert mail.body_text == "Plain version."
    assert mail.attachments == ()  # the HTML alternative is not a file


def test_iphone_text_after_an_inline_photo_is_kept() -> None:
    raw = raw_mail(
        [("From", "a@b.example"), ("Content-Type", 'multipart/mixed; boundary="b"')],
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is the mould:\r\n"
        "--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "It is spreading.\r\n\r\nSent from my iPhone\r\n"
        "--b--\r\n",
    )
    mail = parse_mail(raw)
    assert mail.body_text == "Here is the mould:\nIt is spreading.\n\nSent from my iPhone"
    assert [(a.filename, a.payload) for a in mail.attachments] == [
        ("attachment-1.jpg", b"\xff\xd8\xff\xe0\x00\x10")
    ]


def test_body_line_endings_and_control_characters_are_normalised() -> None:
    raw = raw_mail(
        [("From", "a@b.example"), ("Content-Type", "text/plain; charset=utf-8")],
        "a\r\nb\rc\n\td\x00\x1b\u0085e".encode(),
    )
    assert parse_mail(raw).body_text == "a\nb\nc\n\tde"


@pytest.mark.parametrize(
    ("charset", "data", "expected"),
    [
        ("iso-8859-1", "DISCOVER® £5 – café".encode(), "DISCOVER® £5 – café"),  # UTF-8 mislabelled
        ("iso-8859-1", b"\x93quoted\x94 \x80 \xa3", "\u201cquoted\u201d € £"),  # cp1252 as browsers read it
        ("x-no-such-charset", b"caf\xc3\xa9", "café"),
        ("utf-8", b"caf\xe9", "café"),
        ("us-ascii", b"plain", "plain"),
    ],
)
def test_body_charset_mislabels_are_corrected(charset: str, data: bytes, expected: str) -> None:
    raw = raw_mail([("From", "a@b.example"), ("Content-Type", f"text/plain; charset={charset}")], data)
    assert parse_mail(raw).body_text == expected


# --------------------------------------------------------------------------- attachments


def test_binary_attachment_is_byte_identical() -> None:
    msg = complaint()
    msg.add_attachment(PDF_LIKE, maintype="application", subtype="pdf", filename="evidence.pdf")
    [attachment] = parse_mail(msg.as_bytes()).attachments
    assert attachment.filename == "evidence.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.payload == PDF_LIKE
    assert attachment.kind is AttachmentKind.ATTACHMENT and attachment.parent is None


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
def test_text_attachment_bytes_survive_any_transfer_encoding(cte: str) -> None:
    data = "Rent: £500\r\nCafé\r\n".encode("latin-1")
    msg = complaint()
    msg.add_attachment(data, maintype="text", subtype="csv", filename="rent.csv", cte=cte)
    # SMTP policy: an 8bit part's line ends are the mail's, so they must be CRLF here.
    assert parse_mail(msg.as_bytes(policy=SMTP)).attachments[0].payload == data


def test_rfc2231_unicode_filename_is_decoded() -> None:
    raw = mailgen.hostile_mails()["unicode_filename"]
    assert b"filename*=utf-8''" in raw
    [attachment] = parse_mail(raw).attachments
    assert attachment.filename == "évidence – damp 📷.pdf"
    assert attachment.payload == b"not really a photo\n"


def test_stdlib_made_non_ascii_filename_round_trips() -> None:
    msg = complaint()
    msg.add_attachment(PDF_LIKE, maintype="application", subtype="pdf", filename="Übersicht – Schimmel.pdf")
    [attachment] = parse_mail(msg.as_bytes()).attachments
    assert (attachment.filename, attachment.payload) == ("Übersicht – Schimmel.pdf", PDF_LIKE)


def test_traversal_filename_is_returned_as_is_for_filing_to_sanitise() -> None:
    [attachment] = parse_mail(mailgen.hostile_mails()["traversal_filename"]).attachments
    assert attachment.filename == "../../x"
    assert safe_filename(attachment.filename, "attachment-1.bin") == "x"


def test_control_characters_are_stripped_from_filenames() -> None:
    [attachment] = parse_mail(mailgen.hostile_mails()["control_filename"]).attachments
    assert attachment.filename == "badname[2J Bcc: x.pdf"


def test_unnamed_parts_get_deterministic_names() -> None:
    raw = raw_mail(
        [("From", "a@b.example"), ("Content-Type", 'multipart/mixed; boundary="b"')],
        "--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        "--b\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n"
        "--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\r\npng\r\n"
        "--b\r\nContent-Type: application/x-unknown-thing\r\n\r\n?\r\n"
        "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nnotes\r\n"
        "--b--\r\n",
    )
    names = [a.filename for a in parse_mail(raw).attachments]
    assert names == ["attachment-1.pdf", "attachment-2.png", "attachment-3.bin", "attachment-4.txt"]
    assert [a.filename for a in parse_mail(raw).attachments] == names


def test_inline_image_of_an_html_body_is_an_attachment() -> None:
    msg = complaint()
    msg.add_alternative('<p>See <img src="cid:photo@x"></p>', subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", cid="<photo@x>")
    mail = parse_mail(msg.as_bytes())
    assert mail.body_text == "The damp in my bedroom is back."
    assert [(a.filename, a.payload) for a in mail.attachments] == [("attachment-1.png", b"\x89PNG\r\n\x1a\n")]


def test_winmail_dat_is_kept_and_unpacked() -> None:
    dat = build_tnef([TnefFile("MOULD~1.JPG", b"\xff\xd8jpeg", "mould.jpg"), TnefFile("NOTES.TXT", b"notes")])
    msg = complaint()
    msg.add_attachment(PDF_LIKE, maintype="application", subtype="pdf", filename="first.pdf")
    msg.add_attachment(dat, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    mail = parse_mail(msg.as_bytes())
    summary = [(a.filename, a.content_type, a.kind, a.parent) for a in mail.attachments]
    assert summary == [
        ("first.pdf", "application/pdf", AttachmentKind.ATTACHMENT, None),
        ("winmail.dat", "application/ms-tnef", AttachmentKind.ATTACHMENT, None),
        ("mould.jpg", "image/jpeg", AttachmentKind.TNEF_PART, 1),
        ("NOTES.TXT", "text/plain", AttachmentKind.TNEF_PART, 1),
    ]
    assert mail.attachments[1].payload == dat
    assert mail.attachments[2].payload == b"\xff\xd8jpeg"


def test_broken_winmail_dat_is_kept_with_a_defect() -> None:
    msg = complaint()
    msg.add_attachment(
        b"PK\x03\x04 not tnef", maintype="application", subtype="octet-stream", filename="WINMAIL.DAT"
    )
    mail = parse_mail(msg.as_bytes())
    assert [a.filename for a in mail.attachments] == ["WINMAIL.DAT"]
    assert any(d.startswith("tnef-undecodable: attachment 0") for d in mail.defects)


# --------------------------------------------------------------------------- robustness


def test_large_mail_path_reads_the_same_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    msg = complaint(Cc="Officer <o@l.example>", In_Reply_To="<p@x>")
    msg.add_attachment(PDF_LIKE, maintype="application", subtype="pdf", filename="e.pdf")
    raw = msg.as_bytes()
    normal = parse_mail(raw)
    monkeypatch.setattr(parse, "MAILPARSER_MAX_BYTES", 0)
    large = parse_mail(raw)
    assert large.defects == ("mail-parser-skipped: large mail",)
    assert _without_defects(large) == _without_defects(normal)


def test_mail_parser_failure_falls_back_to_the_stdlib(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> object:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(parse.mailparser, "parse_from_bytes", broken)
    mail = parse_mail(complaint().as_bytes())
    assert mail.sender == Address("Zoë Ní Bhriain", "zoe.bhriain@example.net")
    assert mail.date == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert "mail-parser-failed: RuntimeError: boom" in mail.defects


def test_deep_nesting_stops_at_the_depth_limit() -> None:
    parts = [b"From: a@b.example\r\nSubject: nested\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"]
    parts += [
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(5000)
    ]
    started = time.perf_counter()
    mail = parse_mail(b"".join(parts))
    assert time.perf_counter() - started < 2
    assert (mail.subject, mail.sender.email) == ("nested", "a@b.example")
    assert any("stopped at max_nesting_depth 20" in d for d in mail.defects)
    assert parse.parts_not_split_out(mail) >= 4900


def test_parse_error_only_when_even_headers_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_fails(*args: object, **kwargs: object) -> ParsedMail:
        raise ValueError("library bug\nwith detail")

    monkeypatch.setattr(parse, "_assemble", always_fails)
    with pytest.raises(ParseError) as caught:
        parse_mail(b"From: a@b.example\r\n\r\nbody")
    assert str(caught.value) == "cannot parse mail: ValueError: library bug"


@pytest.mark.parametrize("name", sorted(mailgen.hostile_mails()))
def test_team_hostile_mails_parse(name: str) -> None:
    mail = parse_mail(mailgen.hostile_mails()[name])
    assert mail.sender.email == "bob.finch@example.com"
    assert "\n" not in mail.subject and "\x00" not in mail.subject


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00" * 1000,
        b"\xff\xfe\x00garbage\r\n\r\n\x80\x81",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!",
        b"Content-Type: text/plain; charset=utf-7\r\nSubject: =?utf-7?q?+2D3cAA-?=\r\n\r\n+2D3cAA-",
        b"Content-Type: message/rfc822\r\n\r\nFrom: inner@x\r\n\r\ninner",
        b"From: a@b\rSubject: bare CRs\r\rbody\r",
    ],
    ids=["empty", "nuls", "garbage", "bad-base64", "utf7-surrogates", "top-level-rfc822", "bare-cr"],
)
def test_malformed_input_never_raises(raw: bytes) -> None:
    mail = parse_mail(raw)
    for text in (mail.subject, mail.body_text, *mail.headers.values()):
        text.encode("utf-8")  # no lone surrogates reach the database or the filing step


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    parse_mail(raw)


MIME_PIECES = [
    b"From: a@b.example\r\n",
    b"Content-Type: multipart/mixed; boundary=q\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/html\r\n",
    b"Content-Type: application/ms-tnef\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Disposition: attachment; filename*=utf-8''%E2%82%AC\r\n",
    b"\r\n",
    b"--q\r\n",
    b"--q--\r\n",
    b"<p>x</p>",
    b"=?utf-8?q?=00?=",
    b"\xff",
    b"eJ8+IgEA\r\n",
]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(MIME_PIECES), max_size=40).map(b"".join))
def test_arbitrary_mime_structure_never_raises(raw: bytes) -> None:
    parse_mail(raw)


@pytest.mark.slow
def test_fifty_megabyte_attachment_stays_well_under_400_mb(tmp_path: Path) -> None:
    """Peak RSS of a fresh process parsing a mail with a 50 MB base64 attachment."""
    mail_file = tmp_path / "big.eml"
    build = f"""
        import os
        from email.message import EmailMessage
        msg = EmailMessage()
        msg["From"] = "a@b.example"
        msg["Subject"] = "photos"
        msg.set_content("See attached.")
        blob = os.urandom(50 * 2**20)
        msg.add_attachment(blob, maintype="application", subtype="pdf", filename="photos.pdf")
        open({str(mail_file)!r}, "wb").write(msg.as_bytes())
        open({str(mail_file)!r} + ".blob", "wb").write(blob)
    """
    measure = f"""
        from mailroom.ingest.parse import parse_mail
        raw = open({str(mail_file)!r}, "rb").read()
        mail = parse_mail(raw)
        # VmHWM belongs to this address space; ru_maxrss would carry over the
        # forking parent's peak (pytest's) across exec.
        status = open("/proc/self/status").read()
        peak_mb = int(status.split("VmHWM:")[1].split()[0]) // 1024
        same = mail.attachments[0].payload == open({str(mail_file)!r} + ".blob", "rb").read()
        print(peak_mb, same, mail.body_text)
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(build)], check=True)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(measure)], check=True, capture_output=True, text=True
    )
    peak_mb, same, body = result.stdout.split(maxsplit=2)
    assert same == "True"
    assert body.strip() == "See attached."
    assert int(peak_mb) < 330, f"peak RSS {peak_mb} MB"  # measured about 285 MB


def _without_defects(mail: ParsedMail) -> ParsedMail:
    return ParsedMail(**{**mail.__dict__, "defects": ()})


# --------------------------------------------------------------------------- limits (issue 9)


def _many_parts(count: int) -> bytes:
    head = b"From: a@b.example\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
    part = b"--zz\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n"
    return head + part * count + b"--zz--\r\n"


def test_mime_parts_past_the_limit_stay_in_the_raw_mail_and_are_counted() -> None:
    limits = parse.ParseLimits(max_mime_parts=50, max_attachments=500)
    started = time.perf_counter()
    mail = parse_mail(_many_parts(20_000), limits)
    assert time.perf_counter() - started < 2
    assert len(mail.attachments) == 49  # the root is one of the 50 parts
    assert parse.parts_not_split_out(mail) == 20_000 - 49
    assert mail.sender.email == "a@b.example"


def test_attachments_past_their_limit_are_counted_not_filed() -> None:
    mail = parse_mail(_many_parts(30), parse.ParseLimits(max_attachments=10))
    assert len(mail.attachments) == 10
    assert parse.attachments_not_filed(mail) == 20
    assert parse.parts_not_split_out(mail) == 0


def test_within_the_limits_nothing_is_counted() -> None:
    mail = parse_mail(_many_parts(3))
    assert (parse.parts_not_split_out(mail), parse.attachments_not_filed(mail)) == (0, 0)
    assert len(mail.attachments) == 3


def test_many_encoded_words_are_decoded_up_to_the_cap_in_linear_time() -> None:
    subject = " ".join(["=?utf-8?q?a?="] * 150_000)
    started = time.perf_counter()
    mail = parse_mail(raw_mail([("From", "a@b.example"), ("Subject", subject)]))
    assert time.perf_counter() - started < 3
    assert mail.subject.startswith("a" * 100)
    assert "mail-parser-skipped: over a parse limit" in mail.defects


def test_huge_content_type_parameter_list_is_read_within_the_cap() -> None:
    params = "; ".join(f"p{i}=v{i}" for i in range(200_000))
    raw = raw_mail(
        [
            ("From", "a@b.example"),
            ("Content-Type", f'multipart/mixed; {params}; boundary="qq"'),
        ],
        b"--qq\r\nContent-Type: text/plain\r\n\r\nhello\r\n--qq--\r\n",
    )
    started = time.perf_counter()
    mail = parse_mail(raw)
    assert time.perf_counter() - started < 3
    assert mail.sender.email == "a@b.example"


def test_html_cdata_flood_is_linear() -> None:
    started = time.perf_counter()
    assert html_to_text("<p>start</p>" + "<![CDATA[>" * 200_000 + "<p>end</p>") == "start\n\nend"
    assert time.perf_counter() - started < 3


def test_unclosed_title_does_not_hide_the_body() -> None:
    assert html_to_text("<title>News<body><p>The damp is back.</p>").endswith("The damp is back.")


def test_stage_hook_sees_each_stage_in_order() -> None:
    seen: list[str] = []
    parse.set_stage_hook(seen.append)
    try:
        parse_mail(complaint().as_bytes())
    finally:
        parse.set_stage_hook(None)
    assert seen == ["MIME tree", "headers", "body text", "attachments"]
