"""The complaint procedure of the Housing Ombudsman pack: every (state, event) pair.

The expected table below is written out by hand from the Code (not read from the
pack), so a change to the pack's [procedure] that lets a step in where the Code does
not (or keeps one out) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailroom.domain.case_steps import ClockEvent
from mailroom.domain.deadlines import RulePackError, load_rule_pack
from mailroom.domain.procedure import Position, Procedure

RULES = Path(__file__).resolve().parents[2] / "rules"
PACK = load_rule_pack((RULES / "housing-ombudsman-2024.toml").read_text())
assert PACK.procedure is not None
PROCEDURE: Procedure = PACK.procedure

E = ClockEvent
# Steps that fit in every state: they run beside the procedure.
ANYWHERE = {E.REMEDY_COMPLETED, E.ACTION_COMPLETED, E.MP_ENQUIRY_RECEIVED, E.MP_ENQUIRY_ANSWERED}
PROMISES = {E.REMEDY_PROMISED, E.ACTION_PROMISED}

# How a case reaches each state (a real history, so stage and past states are right).
PATHS: dict[str, list[ClockEvent]] = {
    "received": [],
    "stage1_open": [E.STAGE1_ACKNOWLEDGED],
    "stage1_responded": [E.STAGE1_ACKNOWLEDGED, E.STAGE1_RESPONDED],
    "escalation_requested": [E.STAGE1_ACKNOWLEDGED, E.STAGE1_RESPONDED, E.ESCALATION_REQUESTED],
    "stage2_open": [E.STAGE1_ACKNOWLEDGED, E.STAGE1_RESPONDED, E.ESCALATION_REQUESTED, E.STAGE2_ACKNOWLEDGED],
    "stage2_responded": [
        E.STAGE1_ACKNOWLEDGED,
        E.STAGE1_RESPONDED,
        E.ESCALATION_REQUESTED,
        E.STAGE2_ACKNOWLEDGED,
        E.STAGE2_RESPONDED,
    ],
    "refused": [E.REFUSED],
    "escalation_refused": [
        E.STAGE1_ACKNOWLEDGED,
        E.STAGE1_RESPONDED,
        E.ESCALATION_REQUESTED,
        E.ESCALATION_REFUSED,
    ],
    "withdrawn": [E.STAGE1_ACKNOWLEDGED, E.WITHDRAWN],
    # Closed after a stage 1 response: the resident may still escalate (6.10).
    "closed (stage 1 answered)": [E.STAGE1_ACKNOWLEDGED, E.STAGE1_RESPONDED, E.CLOSED],
    # Closed after the final response: no third stage (5.3).
    "closed (stage 2 answered)": [
        E.STAGE1_ACKNOWLEDGED,
        E.STAGE1_RESPONDED,
        E.ESCALATION_REQUESTED,
        E.STAGE2_ACKNOWLEDGED,
        E.STAGE2_RESPONDED,
        E.CLOSED,
    ],
    # Closed without a stage 1 response (refused, or never answered): nothing to escalate.
    "closed (refused)": [E.REFUSED, E.CLOSED],
}

ALLOWED: dict[str, set[ClockEvent]] = {
    "received": {E.STAGE1_ACKNOWLEDGED, E.REFUSED, E.WITHDRAWN, E.CLOSED},
    "stage1_open": {E.STAGE1_EXTENDED, E.STAGE1_RESPONDED, E.REFUSED, E.WITHDRAWN, E.CLOSED, *PROMISES},
    "stage1_responded": {E.ESCALATION_REQUESTED, E.CLOSED, *PROMISES},
    "escalation_requested": {E.STAGE2_ACKNOWLEDGED, E.ESCALATION_REFUSED, E.WITHDRAWN, E.CLOSED, *PROMISES},
    "stage2_open": {E.STAGE2_EXTENDED, E.STAGE2_RESPONDED, E.WITHDRAWN, E.CLOSED, *PROMISES},
    "stage2_responded": {E.CLOSED, *PROMISES},
    "refused": {E.CLOSED},
    "escalation_refused": {E.CLOSED, *PROMISES},
    "withdrawn": {E.CLOSED},
    "closed (stage 1 answered)": {E.ESCALATION_REQUESTED, *PROMISES},
    "closed (stage 2 answered)": {*PROMISES},
    "closed (refused)": {*PROMISES},
}


def position(name: str) -> Position:
    found, misfits = PROCEDURE.replay((i, event.value) for i, event in enumerate(PATHS[name]))
    assert misfits == (), f"the path to {name} does not fit"
    return found


def test_the_pack_declares_the_states_of_the_issue() -> None:
    assert list(PROCEDURE.states) == [
        "received",
        "stage1_open",
        "stage1_responded",
        "escalation_requested",
        "stage2_open",
        "stage2_responded",
        "refused",
        "escalation_refused",
        "withdrawn",
        "closed",
    ]
    assert set(PROCEDURE.steps) == {event.value for event in ClockEvent}  # every step is declared


@pytest.mark.parametrize("name", sorted(PATHS))
def test_each_path_reaches_its_state(name: str) -> None:
    assert position(name).state == name.split(" ")[0]


PAIRS = [(name, event) for name in PATHS for event in ClockEvent]


@pytest.mark.parametrize(("name", "event"), PAIRS, ids=[f"{n}-{e.value}" for n, e in PAIRS])
def test_every_state_event_pair(name: str, event: ClockEvent) -> None:
    at = position(name)
    expected = event in ALLOWED[name] or event in ANYWHERE
    assert PROCEDURE.fits(at, event.value) is expected
    assert (event.value in PROCEDURE.allowed(at)) is expected
    if not expected:
        line = PROCEDURE.refusal(at, event.value)
        assert "\n" not in line
        assert line.startswith(f"{event.value} does not fit: the case is {at.state.replace('_', ' ')}")
        assert line.endswith("allowed next: " + ", ".join(PROCEDURE.allowed(at)))


STAGES = {
    "received": (1, "open"),
    "stage1_open": (1, "open"),
    "stage1_responded": (1, "open"),
    "escalation_requested": (2, "open"),
    "stage2_open": (2, "open"),
    "stage2_responded": (2, "open"),
    "refused": (1, "refused"),
    "escalation_refused": (2, "open"),
    "withdrawn": (1, "withdrawn"),
    "closed (stage 1 answered)": (1, "closed"),
    "closed (stage 2 answered)": (2, "closed"),
    "closed (refused)": (1, "closed"),
}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_each_state_gives_the_case_its_stage_and_status(name: str) -> None:
    at = position(name)
    assert (at.stage, PROCEDURE.states[at.state].status) == STAGES[name]


CLOCKS = ("stage1_acknowledgement", "stage1_response", "stage2_acknowledgement", "stage2_response")
ENDS = {
    E.REFUSED: {"stage1_acknowledgement", "stage1_response"},
    E.ESCALATION_REFUSED: {"stage2_acknowledgement"},
    E.WITHDRAWN: set(CLOCKS),
    E.CLOSED: set(CLOCKS),
}


@pytest.mark.parametrize("event", list(ClockEvent))
def test_what_each_step_ends(event: ClockEvent) -> None:
    ended = {clock for clock in CLOCKS if event.value in PROCEDURE.ending(clock)}
    assert ended == ENDS.get(event, set())


def test_an_out_of_order_history_still_replays_and_names_its_misfits() -> None:
    # Recorded before the procedure was enforced: a stage 2 acknowledgement on a stage 1 case.
    at, misfits = PROCEDURE.replay(
        [(1, "stage1_acknowledged"), (2, "stage2_acknowledged"), (3, "letter_sent")]
    )
    assert (at.state, at.stage, misfits) == ("stage2_open", 2, (2,))


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            ('from = ["received"]\nto = "stage1_open"', 'from = ["nowhere"]\nto = "stage1_open"'),
            "unknown state",
        ),
        (('to = "stage1_open"', 'to = "limbo"'), "unknown state limbo"),
        (('ends = ["stage2_acknowledgement"]', 'ends = ["stage9"]'), "ends: must list clocks"),
        (('initial = "received"', 'initial = "nowhere"'), "procedure.initial"),
        (("[procedure.events.stage1_responded]", "[procedure.events.stage1_answered]"), "stage1_responded"),
    ],
)
def test_a_broken_procedure_is_refused_in_one_line(edit: tuple[str, str], says: str) -> None:
    text = (RULES / "housing-ombudsman-2024.toml").read_text()
    assert edit[0] in text
    with pytest.raises(RulePackError, match=says) as caught:
        load_rule_pack(text.replace(edit[0], edit[1], 1))
    assert "\n" not in str(caught.value)


def test_the_spso_pack_takes_a_complex_complaint_straight_to_stage_2() -> None:
    spso = load_rule_pack((RULES / "spso-mchp.toml").read_text()).procedure
    assert spso is not None
    start = spso.start()
    assert spso.fits(start, "escalation_requested") and spso.fits(start, "stage1_responded")
    assert not spso.fits(start, "stage2_acknowledged")
    assert spso.ending("stage1_response") >= {"escalation_requested", "withdrawn", "closed", "refused"}
