"""Typed values passed between the ingestion stages.

Pure data: no I/O, no library types. Every stage takes and returns these, so the
worker's main loop reads as a pipeline of plain values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Outcome(enum.StrEnum):
    """What the classifier decided about one ingested mail (documented in docs/cli.md)."""

    COMPLAINT = "complaint"
    REPLY = "reply"
    AUTOMATIC = "automatic"
    MP_ENQUIRY = "mp_enquiry"
    DUPLICATE = "duplicate"
    TRIAGE = "triage"
    QUARANTINED = "quarantined"


class Channel(enum.StrEnum):
    """How a complaint reached the landlord (Code 1.2: complaints 'however made')."""

    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in-person"
    SOCIAL_MEDIA = "social-media"


class AttachmentKind(enum.StrEnum):
    ATTACHMENT = "attachment"  # an ordinary file attached to the mail
    ATTACHED_MAIL = "attached_mail"  # a message/rfc822 part, kept as .eml
    TNEF_PART = "tnef_part"  # a file unpacked from winmail.dat (the .dat is kept too)


@dataclass(frozen=True)
class SourceKey:
    """Where a mail came from: the ingestion ledger's unique key.

    For IMAP, ``uid`` is the decimal IMAP UID; for a Maildir or folder of .eml
    files, ``uidvalidity`` is 0 and ``uid`` is the file's stable name.
    """

    account: str
    folder: str
    uidvalidity: int
    uid: str


@dataclass(frozen=True)
class FetchedMail:
    """Raw bytes as the source holds them, plus the receipt instant (aware, UTC)."""

    key: SourceKey
    raw: bytes
    received_at: datetime
    size: int


@dataclass(frozen=True)
class Address:
    name: str
    email: str  # lower-cased addr-spec, '' when the header held no usable address


@dataclass(frozen=True)
class ParsedAttachment:
    """One file carried by a mail.

    ``filename`` is the sender's name for it, decoded but UNTRUSTED: filing
    sanitises it. ``parent`` is the index (in ``ParsedMail.attachments``) of the
    winmail.dat a TNEF part came out of, else None.
    """

    filename: str
    content_type: str
    payload: bytes
    kind: AttachmentKind = AttachmentKind.ATTACHMENT
    parent: int | None = None


@dataclass(frozen=True)
class ParsedMail:
    """What the classifier and the filing step need from one mail.

    Header values are decoded and stripped of NULs and control characters.
    ``headers`` holds the lower-cased names of headers the classifier reads
    (auto-submitted, precedence, list-id, x-autoreply, content-type, ...).
    """

    message_id: str  # '' when missing; angle brackets kept, e.g. '<a@b>'
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None  # the Date header, aware; None when absent or invalid
    body_text: str  # the main text; HTML-only mail converted to text
    headers: dict[str, str]
    attachments: tuple[ParsedAttachment, ...] = ()
    defects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The classifier's verdict, with the rule that decided and why (audit trail)."""

    outcome: Outcome
    rule: str
    reason: str
    complaint_id: str | None = None  # the case a reply belongs to
    duplicate_of: int | None = None  # the mail id a duplicate repeats
    flags: tuple[str, ...] = field(default=())
