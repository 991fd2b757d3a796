"""Every file of the mikel-mail corpus (real-world and malformed mails) parses cleanly.

The corpus lives in shared/ beside the repository. If it is missing the tests
fail rather than skip: a silently empty corpus would prove nothing.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pytest

from mailroom.domain.models import AttachmentKind, ParsedMail
from mailroom.ingest import parse
from mailroom.ingest.parse import parse_mail

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "mikel-mail"
# A missing folder still yields one parameter, whose test then fails on reading it.
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else [CORPUS]
IDS = [str(p.relative_to(CORPUS)) if p != CORPUS else "corpus-missing" for p in FILES]

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
HEADER_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
BODY_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def test_corpus_is_present_and_complete() -> None:
    assert CORPUS.is_dir(), f"corpus missing: {CORPUS}"
    assert len([p for p in FILES if p.suffix == ".eml"]) >= 100


@pytest.fixture(params=["mail-parser", "stdlib-only"])
def path_taken(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each file through both header paths: normal, and the large-mail one."""
    if request.param == "stdlib-only":
        monkeypatch.setattr(parse, "MAILPARSER_MAX_BYTES", 0)
    return str(request.param)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_corpus_file_parses_to_clean_values(path: Path, path_taken: str) -> None:
    raw = path.read_bytes()
    mail = parse_mail(raw)
    _assert_clean(mail)
    assert parse_mail(raw) == mail  # deterministic: no random names, no time-dependence


def _assert_clean(mail: ParsedMail) -> None:
    header_texts = [mail.subject, mail.sender.name, mail.sender.email, *mail.headers.values()]
    header_texts += [a.name for a in mail.to + mail.cc] + [a.email for a in mail.to + mail.cc]
    header_texts += [a.filename for a in mail.attachments]
    for text in header_texts:
        assert not HEADER_JUNK.search(text), repr(text)
    assert not BODY_JUNK.search(mail.body_text)
    assert "\r" not in mail.body_text
    assert len(mail.subject) <= 1000
    for value in (mail.message_id, *mail.in_reply_to, *mail.references):
        assert MESSAGE_ID.fullmatch(value) or value == "", value
    assert len(set(mail.references)) == len(mail.references)
    for address in (mail.sender, *mail.to, *mail.cc):
        assert address.email == address.email.lower()
        assert address.email == "" or "@" in address.email
    assert mail.date is None or mail.date.tzinfo is UTC
    assert all(name == name.lower() for name in mail.headers)
    for attachment in mail.attachments:
        assert isinstance(attachment.payload, bytes)
        assert attachment.filename
        assert attachment.kind is AttachmentKind.TNEF_PART or attachment.parent is None


# --------------------------------------------------------------------------- known files


def corpus_mail(name: str) -> ParsedMail:
    return parse_mail((CORPUS / name).read_bytes())


def test_forwarded_mail_in_the_corpus_is_kept_byte_for_byte() -> None:
    raw = (CORPUS / "attachment_emails" / "attachment_message_rfc822.eml").read_bytes()
    mail = parse_mail(raw)
    assert mail.body_text == "This is the first part."
    [attached] = mail.attachments
    assert (attached.filename, attached.kind) == ("ForwardedMessage.eml", AttachmentKind.ATTACHED_MAIL)
    assert attached.payload in raw


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("attachment_emails/attachment_nonascii_filename.eml", "ciële.txt"),
        ("attachment_emails/attachment_with_quoted_filename.eml", "Eelanalüüsi päring.jpg"),
        ("attachment_emails/attachment_with_base64_encoded_name.eml", "This is a test.pdf"),
        ("multi_charset/japanese_attachment.eml", "てすと.txt"),
    ],
)
def test_encoded_attachment_names_are_decoded(name: str, filename: str) -> None:
    assert [a.filename for a in corpus_mail(name).attachments] == [filename]


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("multi_charset/japanese_iso_2022.eml", "まみむめも"),
        ("rfc6532/utf8_headers.eml", "Säying Hello"),
        ("error_emails/invalid_subject_characters.eml", "Formação FrenetikPolis: Mega Campanha Final Verão"),
    ],
)
def test_subjects_in_other_charsets(name: str, subject: str) -> None:
    assert corpus_mail(name).subject.startswith(subject)


def test_undeclared_utf8_body_labelled_latin1_is_read_as_utf8() -> None:
    assert corpus_mail("error_emails/content_transfer_encoding_7-bit.eml").body_text.startswith(
        "DISCOVERÆ CARD"
    )


def test_shift_jis_body_is_decoded() -> None:
    assert corpus_mail("multi_charset/japanese_shift_jis.eml").body_text.startswith("あいうえお")


def test_bad_dates_are_none() -> None:
    for name in ("error_emails/bad_date_header.eml", "plain_emails/raw_email_with_bad_date.eml"):
        assert corpus_mail(name).date is None
        assert "DateHeaderDefect" in corpus_mail(name).defects


def test_rfc2822_example_with_comments_in_address() -> None:
    mail = corpus_mail("rfc2822/example10.eml")
    assert mail.sender.email == "pete@silly.test"
