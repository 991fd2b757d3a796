"""The TSM definitions file (rules/tsm-2024.toml) and its loader (reports/tsm_rules.py):
the bundled file loads against the bundled rule pack's clocks, and a broken file is
refused in one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailroom.domain.deadlines import load_rule_pack
from mailroom.reports.tsm_rules import BUNDLED_TSM_RULES, TsmRulesError, load_tsm_rules, parse_tsm_rules

RULES = Path(__file__).resolve().parents[2] / "rules"
TEXT = BUNDLED_TSM_RULES.read_text(encoding="utf-8")
CLOCKS = [clock.name for clock in load_rule_pack((RULES / "housing-ombudsman-2024.toml").read_text()).clocks]


def test_the_bundled_definitions_load_against_the_bundled_pack() -> None:
    rules = load_tsm_rules(clocks=CLOCKS)
    assert rules.source == "rules/tsm-2024.toml" and rules.places == 1
    assert [m.code for m in rules.measures] == ["CH01(1)", "CH01(2)", "CH02(1)", "CH02(2)"]
    ch01_1, ch01_2, ch02_1, ch02_2 = rules.measures
    assert (ch01_1.kind, ch01_1.counts, ch01_1.not_counted_if) == ("per_1000_homes", "received", ("refused",))
    assert (ch01_2.counts, ch01_2.clock, ch01_2.not_counted_if) == (
        "clock_started",
        "stage2_acknowledgement",
        ("escalation_refused",),
    )
    assert ch02_1.within_timescale == ("stage1_acknowledgement", "stage1_response")
    assert ch02_2.within_timescale == ("stage2_acknowledgement", "stage2_response")
    assert {"rsh-technical-requirements", "draft-tsm-direction"} <= set(rules.sources)
    assert rules.sources["rsh-technical-requirements"].date.isoformat() == "2024-03-15"
    assert rules.sources["draft-tsm-direction"].date.isoformat() == "2025-12-09"


def test_the_rule_in_words_names_the_file_the_measure_and_its_sources() -> None:
    rules = load_tsm_rules(clocks=CLOCKS)
    text = rules.rule_text(rules.measures[2])
    assert text.startswith("CH02(1): (stage 1 complaints responded to in the reporting year that were")
    assert "x 100" in text and "Extensions: " in text
    assert 'rules/tsm-2024.toml [measures."CH02(1)"]' in text
    assert "Technical requirements (15 March 2024)" in text
    assert "x 1,000" in rules.rule_text(rules.measures[0])


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        (
            'kind = "per_1000_homes"\ncounts = "received"',
            'kind = "per_100"\ncounts = "received"',
            'measures."CH01(1)".kind',
        ),
        ('counts = "received"', 'counts = "clock_met"', 'measures."CH01(1)".counts'),
        (
            'stage = 2\nkind = "per_1000_homes"',
            'stage = 3\nkind = "per_1000_homes"',
            'measures."CH01(2)".stage',
        ),
        ('clock = "stage2_acknowledgement"', 'clock = "stage3_acknowledgement"', 'measures."CH01(2)".clock'),
        ('clock = "stage2_acknowledgement"', "clock = 7", 'measures."CH01(2)".clock'),
        (
            'within_timescale = ["stage1_acknowledgement", "stage1_response"]',
            'within_timescale = ["stage1_acknowledgement"]',
            'measures."CH02(1)".within_timescale',
        ),
        (
            'within_timescale = ["stage1_acknowledgement", "stage1_response"]',
            'within_timescale = ["stage1_acknowledgment", "stage1_response"]',
            'measures."CH02(1)".within_timescale',
        ),
        (
            'cites = ["rsh-technical-requirements", "hos-code-2024"]',
            'cites = ["nowhere"]',
            'measures."CH01(1)".cites',
        ),
        ("date = 2024-03-15", 'date = "15 March 2024"', "sources.rsh-technical-requirements.date"),
        ('not_counted_if = ["refused"]', 'not_counted_if = "refused"', 'measures."CH01(1)".not_counted_if'),
        ("places = 1", "places = 9", "places"),
        ('id = "rsh-tsm-2024"', "id = 3", "id"),
        ('[measures."CH01(1)"]', '[measure."CH01(1)"]', "measure: unknown key"),
        ("numerator = ", "numerater = ", 'measures."CH01(1)".numerater: unknown key'),
        ('stage = 1\nkind = "per_1000_homes"', 'stage = 1\nkind = "per_1000_homes"\n[x', "not valid TOML"),
    ],
)
def test_a_broken_file_is_refused_in_one_line_naming_the_key(old: str, new: str, names: str) -> None:
    assert old in TEXT
    with pytest.raises(TsmRulesError) as caught:
        parse_tsm_rules(TEXT.replace(old, new, 1), "tsm.toml", CLOCKS)
    message = str(caught.value)
    assert message.startswith("tsm.toml: ") and names in message and "\n" not in message.strip()


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(TsmRulesError, match="cannot read the TSM definitions"):
        load_tsm_rules(tmp_path / "none.toml")


def test_without_a_rule_pack_clock_names_are_not_checked() -> None:
    rules = parse_tsm_rules(TEXT.replace("stage2_acknowledgement", "escalation_ack"), "tsm.toml")
    assert rules.measures[1].clock == "escalation_ack"
