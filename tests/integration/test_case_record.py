"""The full record (issue 8, item 4; 5.12) and the letter rules that need the case:
an issued letter's content stored on the case, a response's promises starting
their clocks, 6.13 against the stored stage 1 handler, drafting refused while a
printed date is unknown, approval refused without a reachable landlord, and the
landlord policy's own exclusions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mailroom.clock import FixedClock
from mailroom.letters.drafts import approve, draft
from mailroom.letters.pack import LetterError
from mailroom.letters.types import LetterType
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, case_for, log, sample_fields, stage1_case, uk


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    """With a landlord the resident can reach, so letters can be approved."""
    built = build_services(
        make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": LANDLORD_FILE}), clock
    )
    yield built
    built.store.engine.dispose()


def test_an_issued_response_is_kept_on_the_case_and_starts_its_promises(services: Services) -> None:
    complaint_id = stage1_case(services, acknowledged=True)
    fields = sample_fields(services, LetterType.STAGE1_RESPONSE)
    result = draft(services, complaint_id, LetterType.STAGE1_RESPONSE, fields)
    assert result.check.passed, [(f.id, f.reason) for f in result.check.failures()]
    approve(services, result.draft_id, by="jo")
    with services.store.transaction() as repo:
        record = repo.record_of_case(complaint_id)
        events = {e.id: e for e in repo.events_of_case(complaint_id)}
        clocks = {d.clock: d.due for d in repo.deadlines_of_case(complaint_id)}
    by_kind: dict[str, list[str]] = {}
    for item in record:
        assert item.letter_id == result.draft_id and item.stage == 1
        by_kind.setdefault(item.kind, []).append(item.text)
    assert by_kind["point"] == [p["summary"] for p in fields["points"]]
    assert by_kind["decision"] == [f"{d['point']}: {d['decision']}" for d in fields["decisions"]]
    assert by_kind["handler"] == ["Sam Okafor"]
    assert by_kind["remedy"] == [r["what"] for r in fields["remedies"]]
    assert by_kind["action"] == [a["what"] for a in fields["outstanding_actions"]]
    decision = next(item for item in record if item.kind == "decision")
    assert json.loads(decision.data_json)["reasons"] == fields["decisions"][0]["reasons"]
    # Each remedy and action started its own dated clock, without being typed again.
    promises = [item for item in record if item.kind in ("remedy", "action")]
    assert [item.due for item in promises] == [
        date(2026, 12, 18),
        date(2026, 12, 11),
        date(2027, 1, 15),
    ]
    for item in promises:
        assert item.event_id is not None
        event = events[item.event_id]
        assert event.kind == ("remedy_promised" if item.kind == "remedy" else "action_promised")
        assert json.loads(event.payload) == {"until": item.due.isoformat(), "what": item.text}
        clock = ("remedy" if item.kind == "remedy" else "outstanding_action") + f"#{item.event_id}"
        assert clocks[clock] == item.due


def test_the_stage_2_reviewer_is_compared_with_the_stored_stage_1_handler(
    services: Services, clock: FixedClock
) -> None:
    complaint_id = stage1_case(services, acknowledged=True)
    response = draft(
        services,
        complaint_id,
        LetterType.STAGE1_RESPONSE,
        {**sample_fields(services, LetterType.STAGE1_RESPONSE), "handler_name": "Priya Shah"},
    )
    approve(services, response.draft_id)
    from mailroom.case_events import ClockEvent
    from tests.integration.test_letters import step

    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    step(services, complaint_id, ClockEvent.ESCALATION_REQUESTED, uk(date(2026, 11, 24), 9))
    fields = sample_fields(services, LetterType.STAGE2_ACKNOWLEDGEMENT)
    fields["escalation_date"] = "2026-11-24"
    # The draft says stage 1 was Sam Okafor's, but the case records Priya Shah: 6.13.
    result = draft(services, complaint_id, LetterType.STAGE2_ACKNOWLEDGEMENT, fields)
    failures = {f.id: f for f in result.check.failures()}
    assert set(failures) == {"different-handler"}, [(f.id, f.reason) for f in result.check.failures()]
    assert failures["different-handler"].paragraph == "6.13"
    assert "as recorded on the case" in failures["different-handler"].reason
    other = draft(
        services, complaint_id, LetterType.STAGE2_ACKNOWLEDGEMENT, {**fields, "handler_name": "Lee Grant"}
    )
    assert other.check.passed, [(f.id, f.reason) for f in other.check.failures()]


def test_a_letter_printing_an_unknown_date_is_not_drafted(services: Services) -> None:
    complaint_id = stage1_case(services, acknowledged=False)
    with pytest.raises(LetterError) as caught:
        draft(
            services,
            complaint_id,
            LetterType.STAGE1_RESPONSE,
            sample_fields(services, LetterType.STAGE1_RESPONSE),
        )
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "stage1-response not drafted: the letter prints the date stage 1 was acknowledged"
    )
    assert f"mailroom cases record {complaint_id} stage1_acknowledged" in message
    with services.store.transaction() as repo:
        assert repo.letters_of_case(complaint_id) == []


def _services_with(tmp_path: Path, clock: object, landlord: str) -> Services:
    policy = tmp_path / "landlord.toml"
    policy.write_text(
        f"[landlord]\n{landlord}\n[signatory]\nname = 'Complaints Team'\nrole = 'Complaints'\n"
        "[procedure]\nstages = 2\n\n[[exclusions]]\nid = 'insurance-claim'\n"
        "description = 'The matter is the subject of an insurance claim'\n",
        encoding="utf-8",
    )
    settings = make_settings(
        tmp_path / "storage", f"sqlite:///{tmp_path / 'db.sqlite'}", policy={"landlord_file": policy}
    )
    return build_services(settings, clock)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("landlord", "missing"),
    [
        ("name = 'Test Homes'\nemail = 'complaints@test.example'", "phone number"),
        ("name = 'Test Homes'\nphone = '01234 567890'", "email or postal address"),
    ],
)
def test_approval_needs_a_landlord_the_resident_can_reach(
    tmp_path: Path, clock: object, landlord: str, missing: str
) -> None:
    built = _services_with(tmp_path, clock, landlord)
    try:
        complaint_id = case_for(built, LetterType.STAGE1_ACKNOWLEDGEMENT)
        result = draft(
            built,
            complaint_id,
            LetterType.STAGE1_ACKNOWLEDGEMENT,
            sample_fields(built, LetterType.STAGE1_ACKNOWLEDGEMENT),
        )
        assert result.check.passed  # drafting works; the letter just cannot go out
        with pytest.raises(LetterError) as caught:
            approve(built, result.draft_id)
        message = str(caught.value)
        assert message.startswith(f"letter {result.draft_id} cannot be approved: the landlord policy")
        assert missing in message and "\n" not in message
    finally:
        built.store.engine.dispose()


def test_without_a_landlord_policy_nothing_is_approved_but_drafts_have_no_blanks(
    tmp_path: Path, clock: object
) -> None:
    settings = make_settings(tmp_path / "storage", f"sqlite:///{tmp_path / 'db.sqlite'}")
    built = build_services(settings, clock)  # type: ignore[arg-type]
    try:
        complaint_id = log(built, uk(date(2026, 11, 20), 9))
        result = draft(
            built,
            complaint_id,
            LetterType.STAGE1_ACKNOWLEDGEMENT,
            sample_fields(built, LetterType.STAGE1_ACKNOWLEDGEMENT),
        )
        from mailroom.letters.docx_text import read_docx_text

        text = read_docx_text(result.path).text
        # No label left without its value (the landlord's phone and email are unknown);
        # the Ombudsman's own phone line is there.
        assert not re.search(r"\b(Phone|Email|Post):(?! *[\w+(])", text), text
        assert "contact us on" not in text and " ," not in text
        assert "please contact us and quote our reference" in text
        with pytest.raises(
            LetterError, match=r"cannot be approved: no landlord policy \(policy\.landlord_file\)"
        ):
            approve(built, result.draft_id)
    finally:
        built.store.engine.dispose()


def test_a_refusal_may_rely_on_the_landlord_policys_own_exclusion(tmp_path: Path, clock: object) -> None:
    built = _services_with(
        tmp_path, clock, "name = 'Test Homes'\nphone = '01234 567890'\nemail = 'c@test.example'"
    )
    try:
        complaint_id = case_for(built, LetterType.REFUSAL)
        fields = {
            **sample_fields(built, LetterType.REFUSAL),
            "exclusion": "insurance-claim",
            "issue_date": None,
            "discretion_considered": None,
        }
        result = draft(built, complaint_id, LetterType.REFUSAL, fields)
        assert result.check.passed, [(f.id, f.reason) for f in result.check.failures()]
        with pytest.raises(LetterError, match="not an exclusion of the rule pack"):
            draft(built, complaint_id, LetterType.REFUSAL, {**fields, "exclusion": "made-up"})
    finally:
        built.store.engine.dispose()
