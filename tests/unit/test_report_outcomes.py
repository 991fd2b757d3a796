"""The outcome of each stage, from the issued letters' record and the case's steps, and
the compensation the remedies offered (docs/reports.md, "Outcomes", "Remedies and
compensation")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailroom.reports.outcomes import (
    Outcome,
    OutcomeKind,
    amounts_in,
    compensation_pence,
    parse_pounds,
    remedy_count,
    stage_outcomes,
)

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    id: int
    letter_id: int
    stage: int
    kind: str
    text: str
    data_json: str


@dataclass(frozen=True)
class Step:
    id: int
    at: datetime
    kind: str
    payload: str = ""


class Case:
    """A case's record items and steps, numbered in the order they are added."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.events: list[Step] = []

    def response(self, letter_id: int, stage: int, *decisions: str, **more: Any) -> Case:
        for n, decision in enumerate(decisions, 1):
            data = {"point": f"point {n}", "decision": decision, "reasons": "r", "policy_cited": ""}
            self.item(letter_id, stage, "decision", f"point {n}: {decision}", data)
        for what in more.get("remedies", ()):
            self.item(letter_id, stage, "remedy", what, {"what": what, "by_when": "2026-12-18"})
        return self

    def item(self, letter_id: int, stage: int, kind: str, text: str, data: Any) -> None:
        self.items.append(Item(len(self.items) + 1, letter_id, stage, kind, text, json.dumps(data)))

    def step(self, kind: str, payload: str = "") -> int:
        event_id = len(self.events) + 1
        self.events.append(Step(event_id, T0 + timedelta(days=event_id), kind, payload))
        return event_id

    def outcomes(self) -> dict[int, Outcome]:
        return stage_outcomes(self.items, self.events)


def test_every_decision_upheld_is_upheld() -> None:
    case = Case().response(1, 1, "upheld", "upheld")
    assert case.outcomes() == {1: Outcome(OutcomeKind.UPHELD)}


def test_no_decision_upheld_is_not_upheld() -> None:
    case = Case().response(1, 1, "not upheld", "not upheld")
    assert case.outcomes() == {1: Outcome(OutcomeKind.NOT_UPHELD)}


@pytest.mark.parametrize(
    "decisions",
    [
        ("upheld", "not upheld"),
        ("upheld", "partly upheld"),
        ("partly upheld",),
        ("not upheld", "partially upheld"),
    ],
)
def test_a_mix_or_any_partly_upheld_is_partly_upheld(decisions: tuple[str, ...]) -> None:
    assert Case().response(1, 1, *decisions).outcomes() == {1: Outcome(OutcomeKind.PARTLY_UPHELD)}


def test_each_stage_has_its_own_outcome() -> None:
    case = Case().response(1, 1, "not upheld").response(2, 2, "upheld", "upheld")
    assert case.outcomes() == {1: Outcome(OutcomeKind.NOT_UPHELD), 2: Outcome(OutcomeKind.UPHELD)}


def test_a_response_issued_again_counts_its_latest_letter_only() -> None:
    case = Case().response(3, 1, "not upheld").response(5, 1, "upheld")
    assert case.outcomes() == {1: Outcome(OutcomeKind.UPHELD)}


def test_the_decision_is_read_from_the_text_when_its_field_is_gone() -> None:
    case = Case()
    case.item(1, 1, "decision", "The repairs: partly upheld", {})
    case.item(1, 1, "decision", "The delay: upheld", {"decision": 7})
    assert case.outcomes() == {1: Outcome(OutcomeKind.PARTLY_UPHELD)}


def test_an_erased_record_gives_no_outcome() -> None:
    case = Case()
    case.item(1, 1, "decision", "[erased 2032-04-01]", {})
    assert case.outcomes() == {}


def test_a_refusal_names_the_exclusion_its_letter_relied_on() -> None:
    case = Case()
    case.item(1, 1, "exclusion", "over-12-months", {"exclusion": "over-12-months", "refusal_reason": "old"})
    case.step("refused")
    assert case.outcomes() == {1: Outcome(OutcomeKind.REFUSED, "over-12-months")}
    assert case.outcomes()[1].label == "refused (over-12-months)"


def test_a_refusal_recorded_without_a_letter_has_no_exclusion() -> None:
    case = Case()
    case.step("refused")
    assert case.outcomes() == {1: Outcome(OutcomeKind.REFUSED)}
    assert case.outcomes()[1].label == "refused"


def test_an_escalation_refused_is_stage_2_refused() -> None:
    case = Case().response(1, 1, "not upheld")
    case.step("stage1_responded")
    case.step("escalation_requested")
    case.item(2, 2, "exclusion", "legal-proceedings", {"exclusion": "legal-proceedings"})
    case.step("escalation_refused")
    assert case.outcomes() == {
        1: Outcome(OutcomeKind.NOT_UPHELD),
        2: Outcome(OutcomeKind.REFUSED, "legal-proceedings"),
    }


def test_a_withdrawal_is_the_outcome_of_the_stage_the_case_was_at() -> None:
    at_stage1 = Case()
    at_stage1.step("stage1_acknowledged")
    at_stage1.step("withdrawn")
    assert at_stage1.outcomes() == {1: Outcome(OutcomeKind.WITHDRAWN)}
    at_stage2 = Case().response(1, 1, "partly upheld")
    at_stage2.step("stage1_responded")
    at_stage2.step("escalation_requested")
    at_stage2.step("withdrawn")
    assert at_stage2.outcomes() == {1: Outcome(OutcomeKind.PARTLY_UPHELD), 2: Outcome(OutcomeKind.WITHDRAWN)}


def test_a_corrected_step_does_not_count() -> None:
    case = Case()
    refused = case.step("refused")
    case.step("event_corrected", json.dumps({"ref": str(refused), "reason": "typo"}))
    assert case.outcomes() == {}
    escalated = Case().response(1, 1, "upheld")
    wrong = escalated.step("escalation_requested")
    escalated.step("event_corrected", json.dumps({"ref": str(wrong), "reason": "not asked"}))
    escalated.step("withdrawn")
    assert escalated.outcomes()[1] == Outcome(OutcomeKind.UPHELD)  # the stage 1 decisions stand
    assert 2 not in escalated.outcomes()


def test_a_case_with_no_answer_yet_has_no_outcome() -> None:
    case = Case()
    case.step("stage1_acknowledged")
    case.item(1, 1, "point", "the leak", {"summary": "the leak"})
    assert case.outcomes() == {}


# -- remedies and compensation ---------------------------------------------------------------------


def test_compensation_adds_up_the_amounts_of_the_remedies_offered() -> None:
    case = Case().response(
        1, 1, "upheld", remedies=["Repair the ceiling", "Pay you £150 compensation for the distress"]
    )
    case.response(2, 2, "upheld", remedies=["Pay you a further £1,250.50 for the delay, and £20 for costs"])
    case.item(3, 2, "remedy_update", "Pay you £150 compensation", {"what": "Pay you £150 compensation"})
    assert compensation_pence(case.items) == 15000 + 125050 + 2000
    assert remedy_count(case.items) == 3  # the update letter restates, it offers nothing new


def test_the_remedy_text_is_read_when_its_field_is_gone() -> None:
    case = Case()
    case.item(1, 1, "remedy", "Pay you £75", {"by_when": "2026-12-18"})
    assert compensation_pence(case.items) == 7500


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("Pay you £150 compensation", [15000]),
        ("£1,250.50 and £20.", [125050, 2000]),
        ("£150, £200 and £1,000,000", [15000, 20000, 100000000]),
        ("a payment of £ 80 (one space after the sign)", [8000]),
        ("£9999999.99", [999999999]),
        ("(£40)", [4000]),
    ],
)
def test_well_formed_amounts(text: str, pence: list[int]) -> None:
    assert amounts_in(text) == pence


@pytest.mark.parametrize(
    "text",
    [
        "£-5",
        "£1e9",
        "£ 12,34",
        "£12.5",
        "£12.505",
        "£150k",
        "£1,2500",
        "£1,25",
        "£12,34.50",
        "£150,.50",
        "£1.5.0",
        "£  80",
        "£12345678",
        "£1,000,000,000",
        "150 pounds",
        "GBP 150",
        "£٣٠",  # Arabic-Indic digits
        "£１５０",  # full-width digits
        "£0x10",
        "£150_000",
    ],
)
def test_hostile_or_malformed_amounts_are_ignored(text: str) -> None:
    assert amounts_in(text) == []


def test_a_long_remedy_is_read_only_so_far() -> None:
    assert amounts_in("x" * 10_000 + "£5") == []
    assert len(amounts_in("£1 " * 100_000)) == 3333  # the first 10,000 characters: 3,333 whole "£1 "


@pytest.mark.parametrize(
    ("typed", "pence"), [("250", 25000), ("250.00", 25000), ("£1,250.50", 125050), (" 0 ", 0), ("£ 12", 1200)]
)
def test_a_sum_typed_by_a_person(typed: str, pence: int) -> None:
    assert parse_pounds(typed) == pence


@pytest.mark.parametrize(
    "typed", ["-5", "1e9", "12,34", "250.5", "250 250", "", "£", "ten", "250.00.00", "£-1"]
)
def test_a_sum_that_is_not_money_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a sum of money"):
        parse_pounds(typed)
