"""The classifier's rule table, driven with hand-built ParsedMail values and an
in-memory CaseLookup: every rule, and the order between rules that matters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailroom.domain.classify import (
    OUTBOUND_MARKER_HEADER,
    RULES,
    ClassifyPolicy,
    MailFacts,
    classify,
)
from mailroom.domain.ids import _CHECK_ALPHABET, case_reference, check_character
from mailroom.domain.models import (
    Address,
    AttachmentKind,
    Decision,
    Outcome,
    ParsedAttachment,
    ParsedMail,
)

OWN_ADDRESS = "complaints@northgatehomes.org.uk"
POLICY = ClassifyPolicy(
    id_prefix="CMP",
    own_addresses=frozenset({OWN_ADDRESS}),
    mp_domains=("parliament.uk",),
    councillor_domains=("ashby.gov.uk",),
)

CASE = "CMP-2026-000123"
REF = case_reference(CASE)
WRONG_CHECK = next(c for c in _CHECK_ALPHABET if c != check_character(CASE))
OTHER_CASE = "CMP-2026-000124"
OTHER_REF = case_reference(OTHER_CASE)

RESIDENT = "m.okafor@example.com"
STRANGER = "someone.else@example.org"
MP = "helen.carter.mp@parliament.uk"
ACK_ID = "<ack-CMP-2026-000123@northgatehomes.org.uk>"
OTHER_ACK_ID = "<ack-CMP-2026-000124@northgatehomes.org.uk>"
SHA = "ab" * 32

ALL_RULE_NAMES = {rule.name for rule in RULES}


@dataclass
class FakeCases:
    """In-memory CaseLookup: what is 'already recorded' for one test."""

    mails_by_sha256: dict[str, int] = field(default_factory=dict)
    cases_by_message_id: dict[str, str] = field(default_factory=dict)
    complaints: set[str] = field(default_factory=set)
    parties: dict[str, set[str]] = field(default_factory=dict)
    asked_message_ids: list[list[str]] = field(default_factory=list)

    def first_mail_with_sha256(self, sha256: str) -> int | None:
        return self.mails_by_sha256.get(sha256)

    def complaint_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        self.asked_message_ids.append(list(message_ids))
        for message_id in message_ids:  # like the repository: the first known one wins
            if message_id in self.cases_by_message_id:
                return self.cases_by_message_id[message_id]
        return None

    def complaint_exists(self, complaint_id: str) -> bool:
        return complaint_id in self.complaints

    def is_party(self, complaint_id: str, email: str) -> bool:
        return email.lower() in self.parties.get(complaint_id, set())


def recorded() -> FakeCases:
    """Two open cases: CASE (resident and the MP are parties) and OTHER_CASE."""
    return FakeCases(
        cases_by_message_id={ACK_ID: CASE, OTHER_ACK_ID: OTHER_CASE},
        complaints={CASE, OTHER_CASE},
        parties={CASE: {RESIDENT, MP}, OTHER_CASE: {"other@example.net"}},
    )


def mail(
    *,
    subject: str = "Damp and mould still not fixed - 12 Harrow Court",
    sender: str = RESIDENT,
    name: str = "Margaret Okafor",
    body: str = "The black mould in my bedroom has come back for the third time.",
    headers: dict[str, str] | None = None,
    in_reply_to: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    attachments: tuple[ParsedAttachment, ...] = (),
) -> ParsedMail:
    return ParsedMail(
        message_id="<m-1@mail.example.com>",
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        sender=Address(name, sender),
        to=(Address("Complaints", OWN_ADDRESS),),
        cc=(),
        date=None,
        body_text=body,
        headers=dict(headers or {}),
        attachments=attachments,
    )


def decide(
    parsed: ParsedMail, cases: FakeCases | None = None, policy: ClassifyPolicy = POLICY, sha256: str = SHA
) -> Decision:
    decision = classify(MailFacts(parsed, sha256, policy), cases if cases is not None else recorded())
    # Every decision is auditable: it names the rule and says why.
    assert decision.rule.strip()
    assert decision.reason.strip()
    assert decision.rule in ALL_RULE_NAMES
    return decision


# -- every rule, one representative mail each ------------------------------------------------------

BOUNCE_HEADERS = {"content-type": "multipart/report; report-type=delivery-status; boundary=x"}

REPRESENTATIVES: dict[str, tuple[ParsedMail, FakeCases, Outcome]] = {
    "identical_bytes": (mail(), FakeCases(mails_by_sha256={SHA: 7}), Outcome.DUPLICATE),
    "own_outgoing": (mail(headers={OUTBOUND_MARKER_HEADER: "1"}), recorded(), Outcome.AUTOMATIC),
    "auto_submitted": (mail(headers={"auto-submitted": "auto-generated"}), recorded(), Outcome.AUTOMATIC),
    "delivery_report": (mail(headers=BOUNCE_HEADERS), recorded(), Outcome.AUTOMATIC),
    "out_of_office": (mail(subject="Out of Office: back on Monday"), recorded(), Outcome.AUTOMATIC),
    "bulk_or_list": (mail(headers={"precedence": "bulk"}), recorded(), Outcome.AUTOMATIC),
    "thread_by_message_id": (mail(in_reply_to=(ACK_ID,)), recorded(), Outcome.REPLY),
    "subject_reference": (mail(subject=f"Re: [{REF}] still waiting"), recorded(), Outcome.REPLY),
    "no_sender": (mail(sender="", name=""), recorded(), Outcome.TRIAGE),
    "empty_mail": (mail(subject="", body=" \r\n "), recorded(), Outcome.TRIAGE),
    "mp_or_councillor": (mail(sender=MP, name="Helen Carter MP"), recorded(), Outcome.MP_ENQUIRY),
    "new_complaint": (mail(), recorded(), Outcome.COMPLAINT),
}


@pytest.mark.parametrize("rule", sorted(REPRESENTATIVES))
def test_each_rule_decides_its_representative_mail(rule: str) -> None:
    """GIVEN a mail made to trigger exactly one rule
    WHEN it is classified
    THEN that rule decides, with its outcome and a reason."""
    parsed, cases, outcome = REPRESENTATIVES[rule]
    decision = decide(parsed, cases)
    assert (decision.rule, decision.outcome) == (rule, outcome)


def test_every_rule_in_the_table_is_exercised_here() -> None:
    """A rule added to RULES without a representative here fails this test."""
    assert set(REPRESENTATIVES) == ALL_RULE_NAMES
    assert RULES[-1].name == "new_complaint"  # the catch-all must be last


def test_with_no_rules_the_mail_goes_to_triage_as_undecided() -> None:
    decision = classify(MailFacts(mail(), SHA, POLICY), recorded(), rules=())
    assert decision.outcome is Outcome.TRIAGE
    assert decision.rule == "undecided"
    assert decision.reason


# -- identical bytes -------------------------------------------------------------------------------


def test_identical_bytes_beat_every_other_rule() -> None:
    """GIVEN a mail whose bytes were ingested before as mail 42, which also looks
    like our own outbound mail, an auto-reply, a bounce and a threaded reply
    WHEN it is classified
    THEN it is a duplicate of mail 42, and nothing else."""
    cases = recorded()
    cases.mails_by_sha256[SHA] = 42
    parsed = mail(
        subject=f"Automatic reply: {REF}",
        sender="mailer-daemon@northgatehomes.org.uk",
        headers={OUTBOUND_MARKER_HEADER: "1", "auto-submitted": "auto-replied", **BOUNCE_HEADERS},
        in_reply_to=(ACK_ID,),
    )
    decision = decide(parsed, cases)
    assert decision.outcome is Outcome.DUPLICATE
    assert decision.rule == "identical_bytes"
    assert decision.duplicate_of == 42
    assert decision.complaint_id is None
    assert "42" in decision.reason


def test_only_the_same_hash_is_a_duplicate() -> None:
    cases = recorded()
    cases.mails_by_sha256["cd" * 32] = 42
    assert decide(mail(), cases, sha256=SHA).outcome is Outcome.COMPLAINT


# -- our own outgoing mail -------------------------------------------------------------------------


def test_outbound_marker_header_makes_mail_automatic_even_with_a_reply_reference() -> None:
    """GIVEN our own acknowledgement (marker header) that quotes the case reference
    and threads on the case THEN it is automatic, never a reply or a complaint."""
    parsed = mail(
        subject=f"We have received your complaint {REF}",
        sender=RESIDENT,
        headers={OUTBOUND_MARKER_HEADER: "CMP-2026-000123"},
        in_reply_to=(ACK_ID,),
    )
    decision = decide(parsed)
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "own_outgoing")


def test_mail_from_our_own_address_is_automatic() -> None:
    decision = decide(mail(sender=OWN_ADDRESS, name="Northgate Homes Complaints"))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "own_outgoing")
    assert OWN_ADDRESS in decision.reason


def test_own_outgoing_is_tried_before_auto_submitted() -> None:
    parsed = mail(headers={OUTBOUND_MARKER_HEADER: "1", "auto-submitted": "auto-generated"})
    assert decide(parsed).rule == "own_outgoing"


# -- RFC 3834 Auto-Submitted -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "Auto-Notified", "  AUTO-REPLIED "])
def test_auto_submitted_other_than_no_is_automatic(value: str) -> None:
    decision = decide(mail(headers={"auto-submitted": value}))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "auto_submitted")


@pytest.mark.parametrize("value", ["no", "No", " no ", "no; comment"])
def test_auto_submitted_no_is_not_automatic(value: str) -> None:
    """GIVEN a person's mail whose client writes Auto-Submitted: no
    THEN it is still a complaint."""
    decision = decide(mail(headers={"auto-submitted": value}))
    assert (decision.outcome, decision.rule) == (Outcome.COMPLAINT, "new_complaint")


# -- delivery reports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "multipart/report; report-type=delivery-status; boundary=b"},
        {"content-type": "Multipart/Report; report-type=disposition-notification"},
        {"x-failed-recipients": "t.nowak@example.net"},
    ],
)
def test_delivery_report_headers_make_mail_automatic(headers: dict[str, str]) -> None:
    decision = decide(mail(headers=headers))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "delivery_report")


@pytest.mark.parametrize(
    "sender", ["mailer-daemon@mail.northgatehomes.org.uk", "postmaster@example.com", "mail-daemon@x.example"]
)
def test_mail_from_mailer_daemon_or_postmaster_is_a_delivery_report(sender: str) -> None:
    decision = decide(mail(sender=sender, name="Mail Delivery System", subject="Undelivered Mail"))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "delivery_report")
    assert sender in decision.reason


def test_a_resident_whose_address_mentions_postmaster_is_not_a_bounce() -> None:
    decision = decide(mail(sender="postmaster.pat@example.com"))
    assert decision.outcome is Outcome.COMPLAINT


# -- out of office ---------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["x-autoreply", "x-autorespond"])
def test_autoreply_headers_make_mail_out_of_office(header: str) -> None:
    decision = decide(mail(headers={header: "yes"}))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "out_of_office")


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: back on Monday",
        "Automatic reply: Your complaint CMP-2026-000123",
        "out of the office until 16 November",
        "  AUTOMATIC REPLY: Damp",
        "Auto-Reply: received",
        "Autoreply: away",
        "Réponse automatique : absent",
    ],
)
def test_out_of_office_subjects_make_mail_automatic(subject: str) -> None:
    decision = decide(mail(subject=subject))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "out_of_office")


@pytest.mark.parametrize(
    "subject",
    [
        "Complaint about my office heating",
        "The estate office never replies",
        "Automatic gates to the car park broken",
        "Reply to my complaint about the lift",
        "Bins not collected while the caretaker is on holiday",
        "Complaint: all I get is an auto-reply, never an answer",
        "On holiday and came back to a flood",
        "Away from the office? Nobody answers the repairs line",
        "Out of office hours repair never came",
    ],
)
def test_a_residents_subject_mentioning_office_or_reply_is_not_automatic(subject: str) -> None:
    """GIVEN a resident's complaint whose subject merely mentions an office or a reply
    THEN it is logged as a complaint, not swallowed as an auto-reply."""
    decision = decide(mail(subject=subject))
    assert (decision.outcome, decision.rule) == (Outcome.COMPLAINT, "new_complaint")


# -- bulk and lists --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"precedence": "bulk"},
        {"precedence": "list"},
        {"precedence": "junk"},
        {"precedence": " Bulk "},
        {"list-id": "Housing Sector Weekly <weekly.lists.example.org>"},
        {"list-unsubscribe": "<mailto:unsubscribe@lists.example.org>"},
    ],
)
def test_bulk_and_list_mail_is_automatic(headers: dict[str, str]) -> None:
    decision = decide(mail(headers=headers))
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "bulk_or_list")


def test_precedence_first_class_is_not_bulk() -> None:
    assert decide(mail(headers={"precedence": "first-class"})).outcome is Outcome.COMPLAINT


# -- automatic mail comes before threading ---------------------------------------------------------


def test_a_bounce_quoting_our_message_id_in_references_is_automatic_not_a_reply() -> None:
    """GIVEN a bounce of our acknowledgement: its References hold our Message-ID
    WHEN classified THEN it is automatic (delivery report), never filed as a reply."""
    parsed = mail(
        subject="Undelivered Mail Returned to Sender",
        sender="mailer-daemon@mail.northgatehomes.org.uk",
        name="Mail Delivery System",
        headers=BOUNCE_HEADERS,
        references=(ACK_ID,),
    )
    decision = decide(parsed)
    assert decision.outcome is Outcome.AUTOMATIC
    assert decision.rule == "delivery_report"
    assert decision.complaint_id is None


def test_an_out_of_office_in_reply_to_our_mail_from_a_party_is_automatic_not_a_reply() -> None:
    parsed = mail(subject=f"Automatic reply: Your complaint {REF}", in_reply_to=(ACK_ID,))
    decision = decide(parsed)
    assert (decision.outcome, decision.rule) == (Outcome.AUTOMATIC, "out_of_office")


def test_a_list_mail_in_reply_to_our_mail_is_automatic() -> None:
    parsed = mail(headers={"list-id": "<tenants.example.org>"}, references=(ACK_ID,))
    assert decide(parsed).rule == "bulk_or_list"


# -- threading by Message-ID -----------------------------------------------------------------------


def test_in_reply_to_a_message_of_a_case_is_a_reply_on_that_case() -> None:
    decision = decide(mail(subject="Re: your letter", in_reply_to=(ACK_ID,)))
    assert decision.outcome is Outcome.REPLY
    assert decision.rule == "thread_by_message_id"
    assert decision.complaint_id == CASE
    assert CASE in decision.reason


def test_references_alone_thread_the_reply() -> None:
    decision = decide(mail(subject="Re: your letter", references=("<unknown@x>", ACK_ID)))
    assert (decision.outcome, decision.complaint_id) == (Outcome.REPLY, CASE)


def test_the_nearest_reference_wins_the_last_in_references() -> None:
    """GIVEN References naming a message of OTHER_CASE first and CASE last
    THEN the reply goes to CASE: the last reference is the nearest ancestor."""
    cases = recorded()
    decision = decide(mail(subject="Re:", references=(OTHER_ACK_ID, ACK_ID)), cases)
    assert decision.complaint_id == CASE
    assert cases.asked_message_ids == [[ACK_ID, OTHER_ACK_ID]]


def test_in_reply_to_is_nearer_than_any_reference() -> None:
    cases = recorded()
    cases.parties[OTHER_CASE].add(RESIDENT)  # a party to both: only nearness decides
    parsed = mail(subject="Re:", in_reply_to=(OTHER_ACK_ID,), references=("<root@x>", ACK_ID))
    decision = decide(parsed, cases)
    assert decision.complaint_id == OTHER_CASE
    assert cases.asked_message_ids == [[OTHER_ACK_ID, ACK_ID, "<root@x>"]]


def test_unknown_message_ids_fall_through_to_a_new_complaint() -> None:
    decision = decide(mail(in_reply_to=("<nobody-knows@x>",), references=("<nor-this@x>",)))
    assert (decision.outcome, decision.rule) == (Outcome.COMPLAINT, "new_complaint")


def test_no_message_ids_means_no_lookup() -> None:
    cases = recorded()
    decide(mail(), cases)
    assert cases.asked_message_ids == []


# -- threading by the case reference in the subject ------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [f"Re: [{REF}] still waiting", f"RE: Your complaint {REF}", f"re: {REF.lower()}", REF],
)
def test_a_checked_reference_from_a_party_is_a_reply(subject: str) -> None:
    decision = decide(mail(subject=subject))
    assert decision.outcome is Outcome.REPLY
    assert decision.rule == "subject_reference"
    assert decision.complaint_id == CASE


def test_a_reference_from_a_party_in_upper_case_address_is_a_reply() -> None:
    decision = decide(mail(subject=f"Re: {REF}", sender=RESIDENT.upper()))
    assert (decision.outcome, decision.complaint_id) == (Outcome.REPLY, CASE)


def test_a_checked_reference_from_a_non_party_goes_to_triage_naming_the_sender() -> None:
    """GIVEN a stranger quoting another resident's case reference, correctly checked
    THEN it goes to triage (attaching it would disclose the case), and the reason
    says who quoted what."""
    decision = decide(mail(subject=f"Re: {REF}", sender=STRANGER))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")
    assert decision.complaint_id is None
    assert STRANGER in decision.reason
    assert CASE in decision.reason


@pytest.mark.parametrize(
    "subject",
    [f"Re: {CASE}-{WRONG_CHECK}", f"Re: {CASE}", f"Re: [{CASE}]", f"Re: {CASE}-"],
)
def test_a_reference_with_a_wrong_or_missing_check_character_goes_to_triage(subject: str) -> None:
    """Even from a party: a typo must never attach mail to another case."""
    decision = decide(mail(subject=subject))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")
    assert decision.complaint_id is None
    assert "check character" in decision.reason


def test_a_reference_to_an_unknown_case_goes_to_triage() -> None:
    """Even when the sender is (oddly) recorded as a party: no case, no reply."""
    unknown = "CMP-2026-009999"
    cases = recorded()
    cases.parties[unknown] = {RESIDENT}
    decision = decide(mail(subject=f"Re: {case_reference(unknown)}"), cases)
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")
    assert unknown in decision.reason
    assert decision.complaint_id is None


def test_two_different_references_go_to_triage_naming_both() -> None:
    decision = decide(mail(subject=f"Re: {REF} and {OTHER_REF}"))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")
    assert CASE in decision.reason and OTHER_CASE in decision.reason


def test_the_same_reference_twice_is_still_one_case() -> None:
    decision = decide(mail(subject=f"Re: {REF} (was {CASE})"))
    assert (decision.outcome, decision.complaint_id) == (Outcome.REPLY, CASE)


def test_a_reference_with_another_prefix_is_ignored() -> None:
    decision = decide(mail(subject=f"Re: {case_reference('ABC-2026-000123')}"))
    assert decision.outcome is Outcome.COMPLAINT


def test_message_id_threading_is_tried_before_the_subject_reference() -> None:
    parsed = mail(subject=f"Re: {OTHER_REF}", in_reply_to=(ACK_ID,))
    decision = decide(parsed)
    assert (decision.rule, decision.complaint_id) == ("thread_by_message_id", CASE)


# -- no sender, empty mail -------------------------------------------------------------------------


def test_mail_without_a_sender_goes_to_triage() -> None:
    decision = decide(mail(sender="", name="Someone"))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "no_sender")


def test_a_reference_quoted_without_a_sender_goes_to_triage_naming_an_unknown_sender() -> None:
    decision = decide(mail(subject=f"Re: {REF}", sender=""))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")
    assert "unknown sender" in decision.reason


def test_a_mail_with_no_subject_text_or_attachment_goes_to_triage() -> None:
    decision = decide(mail(subject="   ", body="\n\n"))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "empty_mail")


@pytest.mark.parametrize(
    "parsed",
    [
        mail(subject="", body="", attachments=(ParsedAttachment("mould.jpg", "image/jpeg", b"jpeg"),)),
        mail(subject="", body="Please see my complaint."),
        mail(subject="Mould", body=""),
        mail(
            subject="",
            body="",
            attachments=(
                ParsedAttachment("letter.eml", "message/rfc822", b"x", AttachmentKind.ATTACHED_MAIL),
            ),
        ),
    ],
    ids=["attachment-only", "text-only", "subject-only", "attached-mail-only"],
)
def test_a_mail_with_anything_to_log_is_not_empty(parsed: ParsedMail) -> None:
    assert decide(parsed).outcome is Outcome.COMPLAINT


def test_no_sender_is_tried_before_empty_mail() -> None:
    assert decide(mail(sender="", subject="", body="")).rule == "no_sender"


# -- MPs and councillors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender", ["helen.carter.mp@parliament.uk", "caseworker@x.parliament.uk", "a@b.c.parliament.uk"]
)
def test_mail_from_an_mp_domain_or_subdomain_is_an_mp_enquiry(sender: str) -> None:
    decision = decide(mail(sender=sender, name="Helen Carter MP"))
    assert decision.outcome is Outcome.MP_ENQUIRY
    assert decision.rule == "mp_or_councillor"
    assert decision.flags == ("mp_enquiry",)
    assert "mp" in decision.reason


@pytest.mark.parametrize(
    "sender",
    [
        "someone@notparliament.uk",
        "someone@parliament.uk.example.com",
        "someone@parliament.ukx",
        "parliament.uk@x.com",
    ],
)
def test_lookalike_domains_are_not_mp_domains(sender: str) -> None:
    decision = decide(mail(sender=sender))
    assert (decision.outcome, decision.rule) == (Outcome.COMPLAINT, "new_complaint")
    assert decision.flags == ()


@pytest.mark.parametrize("sender", ["cllr.jones@ashby.gov.uk", "cllr.jones@members.ashby.gov.uk"])
def test_mail_from_a_councillor_domain_is_flagged_councillor_enquiry(sender: str) -> None:
    decision = decide(mail(sender=sender, name="Cllr Jones"))
    assert decision.outcome is Outcome.MP_ENQUIRY
    assert decision.flags == ("councillor_enquiry",)
    assert "councillor" in decision.reason


def test_councillor_domains_listed_with_a_leading_at_sign_still_match() -> None:
    policy = ClassifyPolicy(id_prefix="CMP", councillor_domains=("@Ashby.gov.uk",))
    decision = decide(mail(sender="cllr.jones@ashby.gov.uk"), policy=policy)
    assert decision.flags == ("councillor_enquiry",)


def test_without_configured_councillor_domains_a_council_address_is_a_complaint() -> None:
    policy = ClassifyPolicy(id_prefix="CMP")
    assert decide(mail(sender="cllr.jones@ashby.gov.uk"), policy=policy).outcome is Outcome.COMPLAINT


def test_an_mp_replying_on_their_own_case_by_message_id_is_a_reply() -> None:
    """Threading comes before MP detection: the MP's follow-up joins their case."""
    decision = decide(mail(sender=MP, subject="Re: my constituent", in_reply_to=(ACK_ID,)))
    assert (decision.outcome, decision.rule, decision.complaint_id) == (
        Outcome.REPLY,
        "thread_by_message_id",
        CASE,
    )
    assert decision.flags == ()


def test_an_mp_quoting_the_reference_of_their_case_is_a_reply() -> None:
    decision = decide(mail(sender=MP, subject=f"Re: {REF} my constituent"))
    assert (decision.outcome, decision.rule, decision.complaint_id) == (
        Outcome.REPLY,
        "subject_reference",
        CASE,
    )


def test_an_mp_quoting_a_case_they_are_not_party_to_goes_to_triage() -> None:
    decision = decide(mail(sender=MP, subject=f"Re: {OTHER_REF}"))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "subject_reference")


# -- the default -----------------------------------------------------------------------------------


def test_an_ordinary_mail_from_a_resident_is_a_new_complaint() -> None:
    decision = decide(mail())
    assert decision.outcome is Outcome.COMPLAINT
    assert decision.rule == "new_complaint"
    assert decision.complaint_id is None and decision.duplicate_of is None
    assert decision.flags == ()


# -- never raises ----------------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        OUTBOUND_MARKER_HEADER,
        "auto-submitted",
        "content-type",
        "x-failed-recipients",
        "x-autoreply",
        "x-autorespond",
        "precedence",
        "list-id",
        "list-unsubscribe",
    ]
) | st.text(max_size=20)
MESSAGE_IDS = st.sampled_from([ACK_ID, OTHER_ACK_ID, "<x@y>", ""]) | st.text(max_size=30)
SUBJECTS = (
    st.text(max_size=200)
    | st.builds(
        lambda a, b: a + b, st.text(max_size=20), st.sampled_from([REF, OTHER_REF, CASE, REF.lower()])
    )
    | st.sampled_from(["Out of Office:", "Automatic reply", ""])
)
SENDERS = st.text(max_size=60) | st.emails().map(str.lower) | st.sampled_from([RESIDENT, MP, STRANGER, ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=SUBJECTS,
    sender=SENDERS,
    name=st.text(max_size=40),
    body=st.text(max_size=200),
    headers=st.dictionaries(HEADER_NAMES, st.text(max_size=80), max_size=6),
    in_reply_to=st.lists(MESSAGE_IDS, max_size=3).map(tuple),
    references=st.lists(MESSAGE_IDS, max_size=5).map(tuple),
    duplicate_of=st.none() | st.integers(min_value=1, max_value=10**6),
    councillor_domains=st.lists(st.text(max_size=20), max_size=3).map(tuple),
)
def test_classify_never_raises_and_always_explains_itself(
    subject: str,
    sender: str,
    name: str,
    body: str,
    headers: dict[str, str],
    in_reply_to: tuple[str, ...],
    references: tuple[str, ...],
    duplicate_of: int | None,
    councillor_domains: tuple[str, ...],
) -> None:
    cases = recorded()
    if duplicate_of is not None:
        cases.mails_by_sha256[SHA] = duplicate_of
    parsed = mail(
        subject=subject,
        sender=sender,
        name=name,
        body=body,
        headers=headers,
        in_reply_to=in_reply_to,
        references=references,
    )
    policy = ClassifyPolicy(
        id_prefix="CMP",
        own_addresses=frozenset({OWN_ADDRESS}),
        mp_domains=("parliament.uk",),
        councillor_domains=councillor_domains,
    )
    decision = decide(parsed, cases, policy)
    assert isinstance(decision, Decision)
    assert isinstance(decision.outcome, Outcome)
    assert decision.outcome is not Outcome.QUARANTINED
    if decision.outcome is Outcome.REPLY:
        assert decision.complaint_id in {CASE, OTHER_CASE}
    else:
        assert decision.complaint_id is None
    if decision.outcome is Outcome.DUPLICATE:
        assert decision.duplicate_of == duplicate_of
    else:
        assert decision.duplicate_of is None
    if decision.outcome is Outcome.MP_ENQUIRY:
        assert decision.flags in {("mp_enquiry",), ("councillor_enquiry",)}


# -- Message-ID threading checks the sender like a subject reference -------------------------------


@pytest.mark.parametrize(
    ("in_reply_to", "references"),
    [((ACK_ID,), ()), ((), ("<root@x>", ACK_ID))],
    ids=["in-reply-to", "references"],
)
def test_a_stranger_naming_a_residents_message_id_goes_to_triage_not_onto_the_case(
    in_reply_to: tuple[str, ...], references: tuple[str, ...]
) -> None:
    """GIVEN a mail from someone who is no party to CASE, whose In-Reply-To or
    References name a message of CASE THEN it goes to triage naming the sender
    and the case: Message-IDs travel in every forward, they prove nothing."""
    parsed = mail(sender=STRANGER, subject="Re: your letter", in_reply_to=in_reply_to, references=references)
    decision = decide(parsed)
    assert (decision.outcome, decision.rule, decision.complaint_id) == (
        Outcome.TRIAGE,
        "thread_by_message_id",
        None,
    )
    assert STRANGER in decision.reason and CASE in decision.reason


def test_a_message_id_reply_without_a_sender_goes_to_triage() -> None:
    decision = decide(mail(sender="", name="", in_reply_to=(ACK_ID,)))
    assert (decision.outcome, decision.rule) == (Outcome.TRIAGE, "thread_by_message_id")
    assert "an unknown sender" in decision.reason


def test_a_party_of_another_case_naming_this_cases_message_id_goes_to_triage() -> None:
    decision = decide(mail(sender="other@example.net", in_reply_to=(ACK_ID,)))
    assert (decision.outcome, decision.complaint_id) == (Outcome.TRIAGE, None)
