"""A corrected step no longer dates letters: the acknowledgement a letter prints is
the one that counts, not one recorded in error (issue 8, item 1 with item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailroom.case_events import EventDetails, correct_event, record_event
from mailroom.domain.case_steps import ClockEvent
from mailroom.domain.models import Channel
from mailroom.letters.drafts import case_facts
from mailroom.letters.pack import letter_pack
from mailroom.letters.types import LetterType
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import Services


def test_a_corrected_acknowledgement_does_not_date_the_response(services: Services) -> None:
    received = datetime(2026, 11, 16, 10, tzinfo=UTC)
    complaint_id = log_complaint(
        services, OtherChannelComplaint(Channel.PHONE, received, "Ann", "", "Leak", "Water.")
    )
    wrong = record_event(
        services,
        complaint_id,
        ClockEvent.STAGE1_ACKNOWLEDGED,
        received + timedelta(hours=1),
        details=EventDetails(),
    )
    correct_event(services, complaint_id, wrong, "recorded on the wrong case")
    right_at = received + timedelta(days=2)
    record_event(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, right_at, details=EventDetails())
    spec = letter_pack(services.settings).letters[LetterType.STAGE1_RESPONSE]
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        assert complaint is not None
        facts = case_facts(services, repo, complaint, spec, {}, services.clock.now())
    assert facts.acknowledged == right_at.date()
