"""`report tsm` output (reports/tsm_output.py) from a report built by hand."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from mailroom.reports.figures import TsmReport
from mailroom.reports.model import TsmFigure
from mailroom.reports.periods import parse_period
from mailroom.reports.tsm_output import tsm_csv, tsm_json, tsm_lines
from mailroom.reports.tsm_rules import load_tsm_rules

RULES = load_tsm_rules()


def report(homes: int | None = 1_000) -> TsmReport:
    ch01, _, ch02, _ = RULES.measures
    figures = [
        TsmFigure(
            "CH01(1)",
            ch01.title,
            1,
            2.0 if homes else None,
            2,
            homes or 0,
            ch01.unit,
            "rule 1",
            ("A-1", "A-2"),
        ),
        TsmFigure("CH02(1)", ch02.title, 1, 50.0, 1, 2, "%", "rule 2", ("A-1",), ("A-1", "A-2")),
    ]
    return TsmReport(parse_period("2026-27"), homes, replace(RULES, measures=(ch01, ch02)), figures, [])


def test_a_cell_that_would_start_a_formula_is_shown_as_text() -> None:
    hostile = report()
    hostile.figures[0] = replace(
        hostile.figures[0], title='=HYPERLINK("http://x.example","click")', rule="-1+2"
    )
    rows = list(csv.reader(io.StringIO(tsm_csv(hostile))))
    assert rows[1][1] == '\'=HYPERLINK("http://x.example","click")' and rows[1][7] == "'-1+2"


def test_no_homes_is_n_a_and_said_so() -> None:
    empty = report(homes=None)
    rows = list(csv.DictReader(io.StringIO(tsm_csv(empty))))
    assert (rows[0]["value"], rows[0]["denominator"]) == ("n/a", "0")
    assert "n/a per 1,000 homes: 2 complaints, homes not recorded" in "\n".join(tsm_lines(empty))
    assert tsm_json(empty)["homes"] is None


def test_list_says_what_each_complaint_was_counted_as() -> None:
    listed = list(csv.reader(io.StringIO(tsm_csv(report(), with_ids=True))))
    assert listed == [
        ["code", "stage", "complaint_id", "counted_as"],
        ["CH01(1)", "1", "A-1", "received"],
        ["CH01(1)", "1", "A-2", "received"],
        ["CH02(1)", "1", "A-1", "responded within timescale"],
        ["CH02(1)", "1", "A-2", "responded outside timescale"],
    ]
    data = tsm_json(report(), with_ids=True)
    assert [m.get("denominator_complaints") for m in data["measures"]] == [None, ["A-1", "A-2"]]
