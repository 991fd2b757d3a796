"""Landlord policies (rules/policies/*.toml) checked against a rule pack.

The packs: rules/housing-ombudsman-2024.toml (the statutory minimum, the
bundled default) and rules/spso-mchp.toml for Scotland.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mailroom.domain.deadlines import load_rule_pack
from mailroom.domain.policy import (
    Finding,
    PackLimits,
    PolicyError,
    check_policy,
    load_pack_clocks,
    load_pack_limits,
    parse_policy,
)

RULES = Path(__file__).resolve().parents[2] / "rules"
POLICIES = RULES / "policies"
HOS_PACK = RULES / "housing-ombudsman-2024.toml"

# A pack's [limits] and [exclusions], as far as the check needs (for packs built in tests).
LIMITS_FIXTURE = """
[limits]
max_stages = 2
complaint_window_months = 12
escalation_reasons_required = false

[exclusions.over-12-months]
description = "The issue occurred over twelve months ago"
paragraph = "2.2"

[exclusions.legal-proceedings]
description = "Legal proceedings have started (claim filed at court)"
paragraph = "2.2"

[exclusions.previously-considered]
description = "The matter has previously been considered under the complaints policy"
paragraph = "2.2"
"""
HOS = load_pack_limits(HOS_PACK.read_text(), str(HOS_PACK))
SPSO_TEXT = (RULES / "spso-mchp.toml").read_text()
SPSO = load_pack_limits(SPSO_TEXT, "rules/spso-mchp.toml")


def hos_pack() -> PackLimits:
    return HOS


PACKS = {"housing-ombudsman-2024": hos_pack}

EXCLUSION = "2.2/2.5"
EXPECTED: Mapping[str, set[tuple[str, str, str]]] = {
    # Seed 000: follows the Code; MP/Cllr clocks are the landlord's own.
    "ongo-2025": set(),
    # Seed 004: copies Code §6 and complies.
    "self-assessment-2023": set(),
    # Seed 001 (2020, outdated).
    "one-housing-2020": {
        ("conflict", "timescales.stage1_response", "6.3"),  # 15 WD
        ("review", "timescales.calendar_days_max.stage1_response", "6.3"),  # 30 calendar days
        ("conflict", "procedure.stages", "6.10"),  # one formal stage
        ("conflict", "procedure.informal_stage", "5.2"),  # 3-WD "concern" stage
        ("conflict", "procedure.complaint_window_months", "2.3"),  # 6 months: refuses what 2.3 accepts
        ("review", "procedure.ombudsman_wait_weeks", "HOS guidance"),  # 8 weeks, designated person
        *{
            ("review", f"exclusions.{name}", EXCLUSION)
            for name in (
                "legal-action",
                "subtenants",
                "non-customers",
                "not-our-service",
                "crime",
                "commercial-decisions",
                "parking",
                "anti-social-behaviour",
                "safeguarding",
                "rent-and-service-charge-levels",
                "new-build-defects",
                "insurance-claims",
            )
        },
    },
    # Seed 002 (Omega/plexus, post-April 2024).
    "omega-2024": {
        ("conflict", "procedure.escalation_reasons_required", "6.12"),  # "clear reasons"
        ("conflict", "procedure.escalation_only_on_grounds", "6.10/6.12"),  # refused if fully investigated
        ("review", "procedure.escalation_window_working_days", "5.11"),  # 10 WD to ask for stage 2
        *{
            ("review", f"exclusions.{name}", EXCLUSION)
            for name in (
                "initial-information-request",
                "service-request",
                "anonymous",
                "anti-social-behaviour",
                "not-our-service",
                "personal-injury-or-insurance",
                "other-appeal-route",
                "already-before-court",
                "possession-action",
                "unacceptable-actions",
            )
        },
    },
    # Seed 003 (Longhurst self-assessment 2021).
    "longhurst-2021": {
        ("conflict", "procedure.informal_stage", "5.2"),  # "escalate their informal complaint"
        ("conflict", "procedure.escalation_only_on_grounds", "6.10/6.12"),  # factually inaccurate...
        ("conflict", "procedure.complaint_window_months", "2.3"),  # 6 months: refuses what 2.3 accepts
        ("review", "exclusions.legal-action-or-insurance", EXCLUSION),
        ("review", "exclusions.safeguarding-or-serious-allegations", EXCLUSION),
    },
}
SEED_FILES = {
    "ongo-2025": "000_f733ede8e15573e4.txt",
    "one-housing-2020": "001_80e783515163c2c7.txt",
    "omega-2024": "002_673569e83f644268.txt",
    "longhurst-2021": "003_cbba1a033d3f14e6.txt",
    "self-assessment-2023": "004_68c6c30605745b76.txt",
}


def example(name: str) -> str:
    return (POLICIES / f"{name}.toml").read_text()


def keyed(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.severity, f.setting, f.paragraph) for f in findings}


# ---------------------------------------------------------------------------------------
# The example policies


def test_there_is_one_example_policy_per_seed() -> None:
    assert {path.stem for path in POLICIES.glob("*.toml")} == set(EXPECTED)


@pytest.mark.parametrize("pack_name", PACKS)
@pytest.mark.parametrize("name", EXPECTED)
def test_each_example_policy_gives_its_seeds_findings(name: str, pack_name: str) -> None:
    pack = PACKS[pack_name]()
    findings = check_policy(pack, parse_policy(example(name), f"rules/policies/{name}.toml"))
    assert keyed(findings) == EXPECTED[name]
    assert len(findings) == len(EXPECTED[name])  # no finding twice


@pytest.mark.parametrize("name", ["ongo-2025", "self-assessment-2023"])
def test_the_compliant_examples_have_no_conflicts_under_the_code(name: str) -> None:
    assert [f for f in check_policy(HOS, parse_policy(example(name))) if f.severity == "conflict"] == []


@pytest.mark.parametrize("name", EXPECTED)
def test_each_example_says_which_seed_it_is_modelled_on(name: str) -> None:
    header = example(name).split("\n[", 1)[0]
    assert SEED_FILES[name] in header
    assert re.search(r"^# Modelled on seed 00\d", header, re.MULTILINE)


@pytest.mark.parametrize("name", EXPECTED)
def test_every_finding_message_is_one_line_naming_the_setting(name: str) -> None:
    for finding in check_policy(HOS, parse_policy(example(name))):
        assert "\n" not in finding.message
        assert finding.message.startswith(finding.setting.removesuffix(".code_basis"))
        assert "\n" not in finding.line()


def test_the_examples_carry_the_seeds_values() -> None:
    ongo = parse_policy(example("ongo-2025"))
    assert ongo.landlord.name == "Ongo Homes"
    assert dict(ongo.timescales.working_days) == {
        "stage1_acknowledgement": 5,
        "stage1_response": 10,
        "stage1_extension": 10,
        "stage2_acknowledgement": 5,
        "stage2_response": 20,
        "stage2_extension": 20,
        "mp_enquiry_acknowledgement": 5,
        "mp_enquiry_response": 10,
    }
    one = parse_policy(example("one-housing-2020"))
    assert (
        one.timescales.working_days["stage1_acknowledgement"],
        one.timescales.working_days["stage1_response"],
    ) == (
        2,
        15,
    )
    assert one.procedure.informal_stage_working_days == 3
    assert one.procedure.ombudsman_wait_weeks == 8
    assert one.landlord.address == "Atelier House, 64 Pratt Street, London NW1 0DL"
    omega = parse_policy(example("omega-2024"))
    assert omega.procedure.escalation_window_working_days == 10
    longhurst = parse_policy(example("longhurst-2021"))
    assert longhurst.procedure.complaint_window_months == 6
    assert "the response received is factually inaccurate" in longhurst.procedure.escalation_only_on_grounds


# ---------------------------------------------------------------------------------------
# One case per rule


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + "}"
    return json.dumps(value)


def policy_text(**overrides: Mapping[str, Any]) -> str:
    """A clean policy; ``overrides`` replaces or adds keys per section (None removes one)."""
    sections: dict[str, dict[str, Any]] = {
        "landlord": {"name": "Test Homes"},
        "signatory": {"name": "Complaints Team", "role": "Complaints Team Manager"},
        "timescales": {"stage1_acknowledgement": 5, "stage1_response": 10},
        "procedure": {"stages": 2},
    }
    exclusions = list(overrides.pop("exclusions", {}).values())
    for section, values in overrides.items():
        sections.setdefault(section, {}).update(values)
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    for entry in exclusions:
        lines.append("[[exclusions]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


def check(pack: PackLimits = HOS, **overrides: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    return keyed(check_policy(pack, parse_policy(policy_text(**overrides), "test.toml")))


def test_a_clean_policy_has_no_findings() -> None:
    assert check() == set()


@pytest.mark.parametrize(
    ("clock", "days", "paragraph"),
    [
        ("stage1_acknowledgement", 6, "6.2"),
        ("stage1_response", 15, "6.3"),
        ("stage2_acknowledgement", 10, "6.11"),
        ("stage2_response", 25, "6.14"),
        ("stage1_extension", 11, "6.4"),
        ("stage2_extension", 21, "6.15"),
    ],
)
def test_a_timescale_longer_than_the_code_is_a_conflict(clock: str, days: int, paragraph: str) -> None:
    assert check(timescales={clock: days}) == {("conflict", f"timescales.{clock}", paragraph)}


@pytest.mark.parametrize(
    ("clock", "days"),
    [
        ("stage1_acknowledgement", 2),
        ("stage1_response", 10),
        ("stage1_extension", 10),
        ("stage2_extension", 5),
        ("mp_enquiry_acknowledgement", 30),  # the landlord's own; no pack clock to compare with
        ("mp_enquiry_response", 10),
    ],
)
def test_a_timescale_at_or_inside_the_code_is_fine(clock: str, days: int) -> None:
    assert check(timescales={clock: days}) == set()


def test_the_conflict_message_gives_the_value_the_limit_and_why() -> None:
    text = policy_text(timescales={"stage1_response": 15})
    (finding,) = check_policy(HOS, parse_policy(text))
    assert finding.message.startswith("timescales.stage1_response = 15 working days")
    assert "10 working days" in finding.message
    assert "stage1_acknowledged" in finding.message  # the clock counts from acknowledgement


def test_a_landlord_clock_of_the_pack_is_for_review_not_conflict() -> None:
    assert check(timescales={"mp_enquiry_response": 30}) == {
        ("review", "timescales.mp_enquiry_response", "policy")
    }


def test_calendar_days_are_for_review() -> None:
    found = check(timescales={"calendar_days_max": {"stage1_response": 30}})
    assert found == {("review", "timescales.calendar_days_max.stage1_response", "6.3")}


def test_more_stages_than_the_code_allows_is_a_conflict() -> None:
    assert check(procedure={"stages": 3}) == {("conflict", "procedure.stages", "5.3")}


def test_a_single_formal_stage_is_a_conflict() -> None:
    assert check(procedure={"stages": 1}) == {("conflict", "procedure.stages", "6.10")}


def test_an_informal_stage_is_a_conflict() -> None:
    found = check(procedure={"informal_stage": True, "informal_stage_working_days": 3})
    assert found == {("conflict", "procedure.informal_stage", "5.2")}


def test_requiring_reasons_to_escalate_is_a_conflict() -> None:
    found = check(procedure={"escalation_reasons_required": True})
    assert found == {("conflict", "procedure.escalation_reasons_required", "6.12")}


def test_escalation_only_on_grounds_is_a_conflict() -> None:
    found = check(procedure={"escalation_only_on_grounds": ["factually inaccurate"]})
    assert found == {("conflict", "procedure.escalation_only_on_grounds", "6.10/6.12")}
    assert check(procedure={"escalation_only_on_grounds": []}) == set()


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (6, {("conflict", "procedure.complaint_window_months", "2.3")}),
        (11, {("conflict", "procedure.complaint_window_months", "2.3")}),
        (12, set()),
        (24, set()),
    ],
)
def test_a_complaint_window_under_12_months_is_a_conflict(months: int, expected: set[Any]) -> None:
    assert check(procedure={"complaint_window_months": months}) == expected


def test_an_escalation_window_is_for_review() -> None:
    found = check(procedure={"escalation_window_working_days": 10})
    assert found == {("review", "procedure.escalation_window_working_days", "5.11")}


def test_an_ombudsman_wait_is_for_review_and_says_why() -> None:
    (finding,) = check_policy(HOS, parse_policy(policy_text(procedure={"ombudsman_wait_weeks": 8})))
    assert (finding.severity, finding.setting, finding.paragraph) == (
        "review",
        "procedure.ombudsman_wait_weeks",
        "HOS guidance",
    )
    assert "democratic filter" in finding.message
    assert "8 weeks" in finding.message


def test_exclusions_need_a_code_basis() -> None:
    found = check(
        exclusions={
            "a": {"id": "asb", "description": "Reports of anti-social behaviour"},
            "b": {"id": "old", "description": "Over a year old", "code_basis": "over-12-months"},
            "c": {"id": "court", "description": "Court", "code_basis": "court-case"},
        }
    )
    assert found == {
        ("review", "exclusions.asb", "2.2/2.5"),
        ("review", "exclusions.court.code_basis", "2.2/2.5"),
    }


# ---------------------------------------------------------------------------------------
# Errors: one line naming the file and the key


def error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "rules/policies/test.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("rules/policies/test.toml: ")
    return message


def test_a_misspelt_key_names_the_key_and_the_likely_one() -> None:
    text = policy_text().replace("stage1_response =", "stage1_respnse =")
    message = error(text)
    assert "timescales.stage1_respnse" in message
    assert "unknown key" in message
    assert "did you mean stage1_response?" in message


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"timescales": {"stage1_response": "10 days"}}, "timescales.stage1_response"),
        ({"timescales": {"stage1_response": 0}}, "timescales.stage1_response"),
        ({"procedure": {"stages": True}}, "procedure.stages"),
        ({"procedure": {"informal_stage": "no"}}, "procedure.informal_stage"),
        ({"procedure": {"escalation_only_on_grounds": "inaccurate"}}, "procedure.escalation_only_on_grounds"),
        ({"landlord": {"name": ""}}, "landlord.name"),
        ({"signatory": {"role": None}}, "signatory.role"),
        ({"procedure": {"stages": None}}, "procedure.stages"),
        (
            {"timescales": {"calendar_days_max": {"stage3_response": 30}}},
            "timescales.calendar_days_max.stage3",
        ),
        ({"procedure": {"informal_stage_working_days": 3}}, "procedure.informal_stage_working_days"),
    ],
)
def test_wrong_or_missing_values_name_the_key(overrides: Mapping[str, Any], key: str) -> None:
    assert key in error(policy_text(**overrides))


def test_unknown_sections_and_exclusion_keys_are_refused() -> None:
    assert "polcy: unknown section" in error(policy_text() + "[polcy]\nx = 1\n")
    bad = {"a": {"id": "x", "description": "y", "basis": "over-12-months"}}
    assert "exclusions[0].basis: unknown key (did you mean code_basis?)" in error(policy_text(exclusions=bad))
    twice = {"a": {"id": "x", "description": "y"}, "b": {"id": "x", "description": "z"}}
    assert "exclusions[1].id" in error(policy_text(exclusions=twice))


def test_a_missing_section_and_bad_toml_are_one_line() -> None:
    text = policy_text()
    assert "[procedure]: missing section" in error(text.split("[procedure]")[0])
    assert "not valid TOML" in error("[landlord\nname = 'x'")


def test_a_pack_without_limits_is_refused() -> None:
    clocks_only = HOS_PACK.read_text().split("[limits]")[0]
    with pytest.raises(PolicyError, match=r"^clocks-only: \[limits\]: missing section"):
        load_pack_limits(clocks_only, "clocks-only")


# ---------------------------------------------------------------------------------------
# Packs: clocks loaded generically; the SPSO pack


def test_any_packs_clocks_load_generically() -> None:
    clocks = load_pack_clocks(HOS_PACK.read_text())
    clocks.pop("mp_enquiry_response", None)  # a landlord clock, not the Code's
    assert {
        name: (c.paragraph, c.working_days, c.extension_cap, c.extension_paragraph)
        for name, c in clocks.items()
    } == {
        "stage1_acknowledgement": ("6.2", 5, None, None),
        "stage1_response": ("6.3", 10, 10, "6.4"),
        "stage2_acknowledgement": ("6.11", 5, None, None),
        "stage2_response": ("6.14", 20, 20, "6.15"),
    }
    dated = '[clocks.remedy]\nparagraph = "7.3"\nstarts = "a"\nstops = "b"\ndue_from = "until"\n'
    assert load_pack_clocks(dated + '[clocks.x]\nparagraph = "1"\nworking_days = 3\n').keys() == {"x"}


def test_the_spso_pack_parses_as_a_rule_pack_and_as_limits() -> None:
    pack = load_rule_pack(SPSO_TEXT)
    assert {c.name: (c.starts, c.stops, c.working_days, c.extension_cap) for c in pack.clocks} == {
        "stage1_response": ("received", "stage1_responded", 5, 5),
        "stage2_acknowledgement": ("escalation_requested", "stage2_acknowledged", 3, None),
        "stage2_response": ("escalation_requested", "stage2_responded", 20, None),
    }
    assert (SPSO.id, SPSO.max_stages, SPSO.complaint_window_months) == ("spso-mchp", 2, 6)
    assert set(SPSO.exclusions) >= {"first-time-service-request", "court-or-tribunal", "previously-concluded"}


def test_a_policy_is_checked_against_the_spso_packs_own_limits() -> None:
    ten_days = {"timescales": {"stage1_response": 10}}
    assert check(SPSO, **ten_days) == {("conflict", "timescales.stage1_response", "MCHP stage 1")}
    assert check(HOS, **ten_days) == set()
    assert check(SPSO, timescales={"stage1_response": 5, "stage1_extension": 6}) == {
        ("conflict", "timescales.stage1_extension", "MCHP stage 1 (extension)")
    }
    assert check(SPSO, timescales={"stage1_response": 5, "stage2_acknowledgement": 5}) == {
        ("conflict", "timescales.stage2_acknowledgement", "MCHP stage 2")
    }
    assert check(SPSO, timescales={"stage1_response": 5, "stage2_extension": 40}) == set()  # no SPSO cap
    six_months = {"timescales": {"stage1_response": 5}, "procedure": {"complaint_window_months": 6}}
    assert check(SPSO, **six_months) == set()  # the MCHP's own 6 months
    assert check(HOS, procedure={"complaint_window_months": 6}) != set()


def test_the_spso_pack_uses_its_own_paragraphs() -> None:
    found = check(SPSO, timescales={"stage1_response": 5}, procedure={"informal_stage": True, "stages": 3})
    assert found == {
        ("conflict", "procedure.informal_stage", "MCHP stage 1 [M]"),
        ("conflict", "procedure.stages", "MCHP two stages"),
    }
    (finding,) = check_policy(
        SPSO,
        parse_policy(
            policy_text(timescales={"stage1_response": 5}, procedure={"escalation_window_working_days": 10})
        ),
    )
    assert "2 months" in finding.message
