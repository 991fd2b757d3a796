"""Decide what each ingested mail is, with the rule that decided and why.

The rules form an ordered table (``RULES``); the first rule that returns a
Decision wins and the last one always does. Rules are pure: what they need to
know about existing cases comes through the ``CaseLookup`` protocol, so the
table can be read, tested and audited without a database.

Order matters:
- identical bytes first: a re-delivered mail is never a second complaint;
- automatic mail (our own, RFC 3834, bounces, out-of-office, lists) before
  threading, so a bounce quoting our Message-ID is never filed as a reply;
- threading before MP detection, so an MP's follow-up joins their case;
- a case reference or a case's Message-ID quoted by someone who is not a
  party goes to triage: attaching a stranger's mail to another resident's
  complaint is a data breach.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailroom.domain.ids import find_references
from mailroom.domain.models import Decision, Outcome, ParsedMail

OUTBOUND_MARKER_HEADER = "x-mailroom-outbound"


class CaseLookup(Protocol):
    """Read-only questions the rules ask about what is already recorded."""

    def first_mail_with_sha256(self, sha256: str) -> int | None: ...

    def complaint_for_message_ids(self, message_ids: Sequence[str]) -> str | None: ...

    def complaint_exists(self, complaint_id: str) -> bool: ...

    def is_party(self, complaint_id: str, email: str) -> bool: ...


@dataclass(frozen=True)
class ClassifyPolicy:
    id_prefix: str
    own_addresses: frozenset[str] = frozenset()
    mp_domains: tuple[str, ...] = ("parliament.uk",)
    councillor_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailFacts:
    mail: ParsedMail
    sha256: str
    policy: ClassifyPolicy


RuleCheck = Callable[[MailFacts, CaseLookup], Decision | None]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: RuleCheck


# Only phrasings mail clients generate: a resident's "On holiday and came back
# to a flood" must stay a complaint. A missed auto-reply lands as a complaint a
# person can close; a missed complaint is never logged at all.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office(\s*:| until\b| auto-?reply\b| reply\b)"
    r"|automatic reply\s*:|auto[- ]?reply\s*:|autoreply\s*:|auto:|abwesenheitsnotiz|r[ée]ponse automatique)",
    re.IGNORECASE,
)
_DAEMON_LOCAL_PARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}


def _identical_bytes(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    first = cases.first_mail_with_sha256(facts.sha256)
    if first is None:
        return None
    return Decision(Outcome.DUPLICATE, "identical_bytes", f"same bytes as mail {first}", duplicate_of=first)


def _own_outgoing(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    if OUTBOUND_MARKER_HEADER in mail.headers:
        return Decision(Outcome.AUTOMATIC, "own_outgoing", "carries our X-Mailroom-Outbound marker")
    if mail.sender.email and mail.sender.email in facts.policy.own_addresses:
        return Decision(Outcome.AUTOMATIC, "own_outgoing", f"sent from our own address {mail.sender.email}")
    return None


def _auto_submitted(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    value = facts.mail.headers.get("auto-submitted", "").strip().lower()
    if value and not value.startswith("no"):
        return Decision(Outcome.AUTOMATIC, "auto_submitted", f"RFC 3834 Auto-Submitted: {value[:60]}")
    return None


def _delivery_report(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    content_type = mail.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/report") or "delivery-status" in content_type:
        return Decision(Outcome.AUTOMATIC, "delivery_report", f"delivery report ({content_type[:60]})")
    if "x-failed-recipients" in mail.headers:
        return Decision(Outcome.AUTOMATIC, "delivery_report", "has X-Failed-Recipients")
    local_part = mail.sender.email.partition("@")[0]
    if local_part in _DAEMON_LOCAL_PARTS:
        return Decision(Outcome.AUTOMATIC, "delivery_report", f"sent by {mail.sender.email}")
    return None


def _out_of_office(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    for header in ("x-autoreply", "x-autorespond"):
        if header in mail.headers:
            return Decision(Outcome.AUTOMATIC, "out_of_office", f"has {header} header")
    if _AUTO_REPLY_SUBJECT.search(mail.subject):
        return Decision(Outcome.AUTOMATIC, "out_of_office", f"auto-reply subject {mail.subject[:60]!r}")
    return None


def _bulk_or_list(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    headers = facts.mail.headers
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return Decision(Outcome.AUTOMATIC, "bulk_or_list", f"Precedence: {precedence}")
    for header in ("list-id", "list-unsubscribe"):
        if header in headers:
            return Decision(Outcome.AUTOMATIC, "bulk_or_list", f"mailing-list mail ({header})")
    return None


def _thread_by_message_id(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if not ids:
        return None
    complaint_id = cases.complaint_for_message_ids(ids)
    if complaint_id is None:
        return None
    # Message-IDs are no secret (they travel in every reply and forward), so
    # naming one proves nothing about the sender: the same party check as a
    # quoted case reference.
    if not mail.sender.email or not cases.is_party(complaint_id, mail.sender.email):
        who = mail.sender.email or "an unknown sender"
        return Decision(
            Outcome.TRIAGE,
            "thread_by_message_id",
            f"In-Reply-To/References name a message of {complaint_id}, "
            f"but {who} is not a party to {complaint_id}",
        )
    return Decision(
        Outcome.REPLY,
        "thread_by_message_id",
        f"In-Reply-To/References name a message of {complaint_id} and {mail.sender.email} is a party",
        complaint_id=complaint_id,
    )


def _thread_by_subject_reference(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    references = find_references(mail.subject, facts.policy.id_prefix)
    if not references:
        return None
    if len(references) > 1:
        names = ", ".join(ref.complaint_id for ref in references)
        return Decision(Outcome.TRIAGE, "subject_reference", f"subject names several cases: {names}")
    ref = references[0]
    if not ref.check_ok:
        return Decision(
            Outcome.TRIAGE, "subject_reference", f"reference {ref.text} has no valid check character"
        )
    if not cases.complaint_exists(ref.complaint_id):
        return Decision(Outcome.TRIAGE, "subject_reference", f"reference {ref.text} names no known case")
    if not mail.sender.email or not cases.is_party(ref.complaint_id, mail.sender.email):
        who = mail.sender.email or "an unknown sender"
        return Decision(
            Outcome.TRIAGE,
            "subject_reference",
            f"reference {ref.text} quoted by {who}, who is not a party to {ref.complaint_id}",
        )
    return Decision(
        Outcome.REPLY,
        "subject_reference",
        f"subject quotes {ref.text} and {mail.sender.email} is a party",
        complaint_id=ref.complaint_id,
    )


def _no_sender(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    if facts.mail.sender.email:
        return None
    return Decision(Outcome.TRIAGE, "no_sender", "no usable From address: nobody to acknowledge")


def _empty_mail(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    mail = facts.mail
    if mail.body_text.strip() or mail.attachments or mail.subject.strip():
        return None
    return Decision(Outcome.TRIAGE, "empty_mail", "no subject, text or attachment")


def _mp_or_councillor(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    domain = facts.mail.sender.email.rpartition("@")[2]
    for kind, domains in (("mp", facts.policy.mp_domains), ("councillor", facts.policy.councillor_domains)):
        for listed in domains:
            listed = listed.lower().lstrip("@.")
            if domain == listed or domain.endswith("." + listed):
                return Decision(
                    Outcome.MP_ENQUIRY,
                    "mp_or_councillor",
                    f"sender domain {domain} is a listed {kind} domain",
                    flags=(f"{kind}_enquiry",),
                )
    return None


def _new_complaint(facts: MailFacts, cases: CaseLookup) -> Decision | None:
    return Decision(Outcome.COMPLAINT, "new_complaint", "no other rule applied: a new complaint")


RULES: tuple[Rule, ...] = (
    Rule("identical_bytes", "the same raw bytes were ingested before", _identical_bytes),
    Rule("own_outgoing", "mail we sent ourselves (marker header or own address)", _own_outgoing),
    Rule("auto_submitted", "RFC 3834 Auto-Submitted other than 'no'", _auto_submitted),
    Rule(
        "delivery_report", "bounces: multipart/report, X-Failed-Recipients, mailer-daemon", _delivery_report
    ),
    Rule("out_of_office", "auto-reply headers or an out-of-office subject", _out_of_office),
    Rule("bulk_or_list", "Precedence bulk/list/junk, List-Id, List-Unsubscribe", _bulk_or_list),
    Rule(
        "thread_by_message_id",
        "In-Reply-To/References hold a Message-ID of a case, from a party to that case",
        _thread_by_message_id,
    ),
    Rule(
        "subject_reference",
        "a case reference in the subject, from a party to that case",
        _thread_by_subject_reference,
    ),
    Rule("no_sender", "no usable sender address", _no_sender),
    Rule("empty_mail", "nothing in the mail to log", _empty_mail),
    Rule("mp_or_councillor", "sender domain is a configured MP or councillor domain", _mp_or_councillor),
    Rule("new_complaint", "anything else from a person is a new complaint", _new_complaint),
)


def classify(facts: MailFacts, cases: CaseLookup, rules: Sequence[Rule] = RULES) -> Decision:
    for rule in rules:
        decision = rule.check(facts, cases)
        if decision is not None:
            return decision
    return Decision(Outcome.TRIAGE, "undecided", "no rule decided")
