"""The figures as the reports print them (mailroom/reports/report_context.py) and the
self-assessment's rows (mailroom/reports/self_assessment.py): pure, from figures
built by hand."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from mailroom.reports.model import (
    ClockTimeliness,
    Count,
    Learning,
    MonthVolumes,
    OmbudsmanDetermination,
    Period,
    PeriodFigures,
    Ratio,
    TsmFigure,
)
from mailroom.reports.report_context import (
    ReportFacts,
    count_text,
    days_text,
    limit_text,
    money_text,
    month_text,
    percent_text,
    ratio_text,
    report_context,
    tsm_value_text,
    uk_date,
)
from mailroom.reports.self_assessment import (
    CSV_COLUMNS,
    ProvisionError,
    assessment_csv,
    assessment_rows,
    load_provisions,
    parse_provisions,
    self_assessment_context,
)

LIMITS = {"stage1_acknowledgement": 5, "stage1_response": 10, "stage2_response": 20, "remedy": 0}
FACTS = ReportFacts(landlord="Example Housing Association", produced_on=date(2027, 4, 20), limits=LIMITS)


def figures() -> PeriodFigures:
    return PeriodFigures(
        period=Period("2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        homes=12_500,
        received={2: 138, 1: 1262},
        by_month=[MonthVolumes("2026-04", 120, 9), MonthVolumes("2026-05", 1_310, 11)],
        by_category=[Count("Repairs", 750), Count("Damp and mould", 250)],
        timeliness=[
            ClockTimeliness("stage1_acknowledgement", "6.2", "Acknowledge stage 1", 1262, 1234, 2.0, 4.5),
            ClockTimeliness("stage2_response", "6.14", "Stage 2 response", 0, 0, None, None),
        ],
        extensions=[Count("Complexity", 12), Count("Contractor access", 3)],
        outcomes={2: [Count("Upheld", 1)], 1: [Count("Upheld", 30), Count("Not upheld", 90)]},
        refused_by_exclusion=[Count("Over 12 months", 7), Count("Legal proceedings", 1)],
        escalations_refused_by_exclusion=[Count("Previously considered", 2)],
        remedies=45,
        remedies_completed=40,
        remedies_completed_in_time=36,
        compensation_pence=1_234_550,
        ombudsman=[
            OmbudsmanDetermination("HC-2026-00090", date(2027, 1, 5), "service failure", 1, 1, 10_000),
            OmbudsmanDetermination("HC-2026-00012", date(2026, 9, 14), "maladministration", 3, 2, 50_000),
        ],
        learning=[Learning("HC-2026-00031", "Book follow-up visits before closing")],
        tsm=[
            TsmFigure(
                "CH01(1)", "Stage 1 per 1,000 homes", 1, 101.0, 1262, 12_500, "per 1,000 homes", "rule"
            ),
            TsmFigure("CH02(1)", "Stage 1 in time", 1, 87.25, 1047, 1200, "%", "rule"),
        ],
        notes=["homes recorded on 2 April 2027"],
    )


# -- single values ----------------------------------------------------------------------------


def test_numbers_percentages_and_ratios_read_as_a_person_writes_them() -> None:
    assert count_text(1234) == "1,234"
    assert count_text(0) == "0"
    assert percent_text(Ratio(1234, 1262)) == "97.8%"  # 97.78 rounds up
    assert percent_text(Ratio(1, 8)) == "12.5%"
    assert percent_text(Ratio(5, 5)) == "100.0%"
    assert percent_text(Ratio(0, 0)) == "n/a"
    assert ratio_text(Ratio(1234, 1262)) == "97.8% (1,234 of 1,262)"
    assert ratio_text(Ratio(0, 0)) == "none in the period (0 of 0)"


def test_working_days_drop_a_trailing_zero_and_missing_is_not_available() -> None:
    assert days_text(4.0) == "4"
    assert days_text(12.5) == "12.5"
    assert days_text(8.25) == "8.2"  # one decimal place, as Python rounds floats
    assert days_text(None) == "n/a"


def test_money_always_has_its_pence() -> None:
    assert money_text(1_234_550) == "£12,345.50"
    assert money_text(5) == "£0.05"
    assert money_text(0) == "£0.00"
    assert money_text(-250) == "-£2.50"


def test_dates_and_months_are_uk_style() -> None:
    assert uk_date(date(2026, 4, 1)) == "1 April 2026"
    assert month_text("2027-01") == "January 2027"
    assert month_text("not a month") == "not a month"


def test_a_clock_limit_is_in_working_days_or_the_date_promised() -> None:
    assert limit_text("stage1_acknowledgement", LIMITS) == "5 working days"
    assert limit_text("remedy", LIMITS) == "date promised"
    assert limit_text("unknown", LIMITS) == "date promised"
    assert limit_text("one", {"one": 1}) == "1 working day"


def test_tsm_values_carry_their_unit() -> None:
    ch01, ch02 = figures().tsm
    assert tsm_value_text(ch01) == "101.0 per 1,000 homes"
    assert tsm_value_text(ch02) == "87.2%"  # the figure is already rounded by the engine
    none = TsmFigure("CH01(1)", "t", 1, None, 0, 0, "per 1,000 homes", "r")
    assert tsm_value_text(none) == "n/a"


# -- the context ------------------------------------------------------------------------------


def test_the_context_has_every_figure_formatted() -> None:
    context = report_context(figures(), FACTS)
    assert context["landlord"] == "Example Housing Association"
    assert context["produced_on"] == "20 April 2027"
    assert context["period"] == {"label": "2026-27", "first_day": "1 April 2026", "last_day": "31 March 2027"}
    assert context["homes"] == "12,500"
    assert context["received"] == [
        {"stage": "Stage 1", "count": "1,262"},
        {"stage": "Stage 2", "count": "138"},
    ]
    assert context["received_total"] == "1,400"
    assert context["months"][1] == {"month": "May 2026", "stage1": "1,310", "stage2": "11", "total": "1,321"}
    assert context["categories"][0] == {"label": "Repairs", "count": "750", "share": "75.0%"}
    assert context["timeliness"][0] == {
        "paragraph": "6.2",
        "title": "Acknowledge stage 1",
        "limit": "5 working days",
        "count": "1,262",
        "in_time": "1,234",
        "percent": "97.8%",
        "median": "2",
        "p90": "4.5",
    }
    assert context["timeliness"][1]["percent"] == "n/a"
    assert context["extensions_total"] == "15"
    assert context["refused_total"] == "8"
    assert context["refused"][0]["share"] == "87.5%"
    assert context["escalations_refused_total"] == "2"
    assert context["remedies"] == "45"
    assert context["remedies_completed"] == "40"
    assert context["remedies_in_time"] == "90.0% (36 of 40)"
    assert context["compensation"] == "£12,345.50"
    assert context["learning"] == [
        {"complaint_id": "HC-2026-00031", "text": "Book follow-up visits before closing"}
    ]
    assert context["learning_total"] == "1"
    assert context["tsm"][0]["value"] == "101.0 per 1,000 homes"
    assert context["tsm"][1]["denominator"] == "1,200"
    assert context["notes"] == ["homes recorded on 2 April 2027"]


def test_outcomes_are_listed_by_stage_with_their_share_of_the_stage() -> None:
    outcomes = report_context(figures(), FACTS)["outcomes"]
    assert [(row["stage"], row["label"], row["count"], row["share"]) for row in outcomes] == [
        ("Stage 1", "Upheld", "30", "25.0%"),
        ("Stage 1", "Not upheld", "90", "75.0%"),
        ("Stage 2", "Upheld", "1", "100.0%"),
    ]


def test_ombudsman_determinations_by_date_with_order_compliance_and_totals() -> None:
    context = report_context(figures(), FACTS)
    assert [row["complaint_id"] for row in context["ombudsman"]] == ["HC-2026-00012", "HC-2026-00090"]
    assert context["ombudsman"][0] == {
        "complaint_id": "HC-2026-00012",
        "determined_on": "14 September 2026",
        "finding": "maladministration",
        "orders": "3",
        "complied": "2",
        "compensation": "£500.00",
    }
    assert context["ombudsman_total"] == "2"
    assert context["orders_total"] == "4"
    assert context["orders_complied"] == "75.0% (3 of 4)"
    assert context["ombudsman_compensation"] == "£600.00"
    assert [row["label"] for row in context["ombudsman_findings"]] == ["maladministration", "service failure"]


def test_an_empty_period_still_reads_sensibly() -> None:
    empty = PeriodFigures(period=Period("2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30)), homes=None)
    context = report_context(empty, FACTS)
    assert context["homes"] == "n/a"
    assert context["received_total"] == "0"
    assert context["orders_complied"] == "none in the period (0 of 0)"
    assert context["remedies_in_time"] == "none in the period (0 of 0)"
    assert context["categories"] == [] and context["ombudsman"] == []


# -- the self-assessment ------------------------------------------------------------------------


def test_the_bundled_provisions_cover_every_code_section_and_stage_paragraph() -> None:
    provisions = load_provisions()
    ids = [p.id for p in provisions.provisions]
    assert [f"6.{n}" for n in range(1, 21)] == [i for i in ids if i.startswith("6.")]
    assert {p.section.rstrip("ab") for p in provisions.provisions} == {str(n) for n in range(1, 10)}
    evidenced = {p.id: p.figure for p in provisions.provisions if p.figure}
    assert evidenced["6.2"] == "timeliness.stage1_acknowledgement"
    assert evidenced["6.14"] == "timeliness.stage2_response"
    assert evidenced["7.3"] == "remedies"
    assert evidenced["8.1"] == "refused_by_exclusion"


def test_a_provision_with_a_figure_is_filled_in_and_the_others_are_left_for_a_person() -> None:
    rows = {row.provision: row for row in assessment_rows(figures(), FACTS, load_provisions())}
    acknowledged = rows["6.2"]
    assert acknowledged.evidence.startswith(
        "Acknowledged, defined and logged within 5 working days: 97.8% (1,234 of 1,262)."
    )
    assert "Median 2, 90th percentile 4.5 working days" in acknowledged.evidence
    assert "stage1_acknowledgement (6.2)" in acknowledged.evidence
    assert "from 1 April 2026 to 31 March 2027" in acknowledged.evidence
    assert acknowledged.comply == "" and acknowledged.commentary == "" and acknowledged.actions == ""
    assert rows["6.14"].evidence.startswith("Stage 2 responses issued within 20 working days")
    assert "none in the period (0 of 0)" in rows["6.14"].evidence
    assert rows["6.4"].evidence.startswith("Extensions agreed, both stages: 15. Reasons: Complexity 12;")
    assert rows["7.3"].evidence.startswith("Remedies completed by the date promised: 90.0% (36 of 40)")
    assert "Complaints not accepted: 8 (Over 12 months 7; Legal proceedings 1)" in rows["2.1"].evidence
    assert "escalations to stage 2 refused: 2 (Previously considered 2)" in rows["2.1"].evidence
    assert rows["9.1"].evidence.startswith("Learning recorded: 1 item on 1 complaint.")
    # No figure: every cell but the requirement is for a person.
    for provision in ("1.1", "5.12", "6.5", "9.5"):
        row = rows[provision]
        assert row.requirement and (row.comply, row.evidence, row.commentary, row.actions) == ("", "", "", "")
    # A clock the period's figures do not have (no outstanding actions timed): left empty.
    assert rows["6.6"].evidence == ""
    assert all(row.comply == "" for row in rows.values())


def test_the_self_assessment_context_groups_provisions_under_the_code_sections() -> None:
    context = self_assessment_context(figures(), FACTS, load_provisions())
    titles = [section["title"] for section in context["sections"]]
    assert titles[0] == "1. Definition of a complaint"
    assert "6. Complaint stages: stage 1" in titles and "6. Complaint stages: stage 2" in titles
    stage1 = next(s for s in context["sections"] if s["title"] == "6. Complaint stages: stage 1")
    assert [row["id"] for row in stage1["provisions"]] == [f"6.{n}" for n in range(1, 10)]
    assert context["period"]["first_day"] == "1 April 2026"


def test_the_csv_has_one_row_per_provision_and_cannot_carry_a_formula() -> None:
    hostile = figures()
    hostile.refused_by_exclusion = [Count('=HYPERLINK("http://x")', 3)]
    provisions = parse_provisions(
        """
        [[sections]]
        number = "2"
        title = "Exclusions"
        [[provisions]]
        id = "2.1"
        section = "2"
        requirement = "-starts like a formula"
        figure = "refused_by_exclusion"
        [[provisions]]
        id = "2.2"
        section = "2"
        requirement = "Plain"
        """,
        "test",
    )
    text = assessment_csv(assessment_rows(hostile, FACTS, provisions))
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[1] for row in rows[1:]] == ["2.1", "2.2"]
    assert rows[1][2] == "'-starts like a formula"
    assert rows[1][4].startswith("Complaints not accepted: 3 (=HYPERLINK")  # inside the text: harmless
    assert rows[2][3:7] == ["", "", "", ""]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[provisions]]\nid = "1.1"\nsection = "9"\nrequirement = "x"', "is not in [[sections]]"),
        (
            '[[provisions]]\nid = "1.1"\nsection = "1"\nrequirement = "x"\nfigure = "mood"',
            "'mood' is not one of",
        ),
        ('[[provisions]]\nid = "1.1"\nsection = "1"\nrequirement = "x"\nfigure = "timeliness.x"', "measure"),
        ('[[provisions]]\nid = "1.1"\nsection = "1"\nrequirement = ""', "requirement: must be non-empty"),
        (
            '[[provisions]]\nid = "1.1"\nsection = "1"\nrequirement = "x"\n'
            '[[provisions]]\nid = "1.1"\nsection = "1"\nrequirement = "y"',
            "1.1 is listed twice",
        ),
        ("not toml [", "not valid TOML"),
    ],
)
def test_a_broken_provisions_file_is_refused_in_one_line(body: str, message: str) -> None:
    text = '[[sections]]\nnumber = "1"\ntitle = "One"\n' + body if "toml [" not in body else body
    with pytest.raises(ProvisionError, match=message.replace("[", r"\[").replace("(", r"\(")) as error:
        parse_provisions(text, "provisions.toml")
    assert "\n" not in str(error.value) and str(error.value).startswith("provisions.toml: ")


def test_the_provisions_file_is_the_one_in_rules() -> None:
    assert load_provisions().source.endswith(str(Path("rules") / "self-assessment-2024.toml"))
