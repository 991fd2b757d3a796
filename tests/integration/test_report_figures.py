"""THE acceptance test of the report figures (issue 13): a year of 2,000 planned
complaints plus hand-written edge cases, on SQLite and PostgreSQL. CH01 and CH02
per stage exact to the decimal, refusals by exclusion exact, each Code clock's
median and 90th percentile exact, and the rest of a period's figures.

The 2,000 come from a deterministic plan (tests/support/report_plan.py) written
through the store as production keeps it, with every case's clocks by
``deadline_store.refresh_case``; what they should give is computed here from the
plan alone (the working days the plan chose, the steps it placed), never from the
code under test. The edge cases are made through the real use cases (a complaint
logged, steps recorded, a refusal letter drafted and approved) and add literal,
hand-counted numbers: received in March and answered in April (the year boundary);
received half an hour after midnight, UK time, on 1 April (still 31 March in UTC);
an extension within the cap (in time); a late extension (late); acknowledged late
but answered in time (late: the whole path counts); withdrawn; refused with and
without a letter; an escalation asked for twice; a mistaken escalation corrected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import event

from mailroom.accounts.audit import Actor
from mailroom.case_events import CaseEventError, ClockEvent, EventDetails, correct_event, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.models import Channel
from mailroom.letters.drafts import approve, draft
from mailroom.letters.samples import sample_context
from mailroom.letters.types import LetterType, field_names
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.reports.figures import period_figures
from mailroom.reports.homes import set_homes
from mailroom.reports.model import PeriodFigures
from mailroom.reports.periods import parse_period
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.support import report_plan
from tests.support.report_plan import CasePlan, Step

LANDLORD_FILE = Path(__file__).resolve().parents[2] / "rules" / "policies" / "ongo-2025.toml"
YEAR = parse_period("2026-27")
HOMES = 4_321
PLANNED = 2_000


@pytest.fixture
def services(tmp_path: Path, db_url: str) -> Iterator[Services]:
    settings = make_settings(tmp_path / "storage", db_url, policy={"landlord_file": LANDLORD_FILE})
    built = build_services(settings, FixedClock(report_plan.NOW))
    yield built
    built.store.engine.dispose()


# -- the edge cases, through the use cases --------------------------------------------------------


def uk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def log(services: Services, received: datetime) -> str:
    request = OtherChannelComplaint(
        Channel.PHONE, received, "Ms Aisha Patel", "aisha.patel@example.org", "Leak", "Water from above."
    )
    return log_complaint(services, request)


def step(
    services: Services,
    complaint_id: str,
    event: ClockEvent,
    at: datetime,
    until: date | None = None,
    late_reason: str = "",
) -> int:
    details = EventDetails(until=until, late_reason=late_reason)
    return record_event(services, complaint_id, event, at, details=details)


def answered(services: Services, received: datetime, acknowledged: datetime, responded: datetime) -> str:
    complaint_id = log(services, received)
    step(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, acknowledged)
    step(services, complaint_id, ClockEvent.STAGE1_RESPONDED, responded)
    return complaint_id


def edge_cases(services: Services, clock: FixedClock) -> dict[str, str]:
    """Each case named, its dates checked against the England and Wales calendar by hand
    (Good Friday 3 April 2026 and 26 March 2027, Easter Monday 6 April 2026 and 29 March
    2027, the spring bank holiday 25 May 2026 are not working days)."""
    cases: dict[str, str] = {}
    # Refused by a real refusal letter, approved on 10 September 2026 (the letter's
    # case record names the exclusion relied on: over-12-months).
    clock.set(datetime(2026, 9, 10, 10, tzinfo=UTC))
    cases["refused_by_letter"] = log(services, uk(date(2026, 9, 7)))
    context = sample_context(LetterType.REFUSAL)
    fields = {name: context[name] for name in field_names(LetterType.REFUSAL)}
    fields["issue_date"] = "2024-03-05"
    approve(services, draft(services, cases["refused_by_letter"], LetterType.REFUSAL, fields).draft_id)
    clock.set(report_plan.NOW)

    # Received in March 2026 (2025-26), answered on 10 April 2026: 6 working days
    # after the acknowledgement of 31 March (Easter between). In time.
    cases["march_to_april"] = answered(
        services, uk(date(2026, 3, 30)), uk(date(2026, 3, 31), 11), uk(date(2026, 4, 10), 15)
    )
    # Received in March 2027, acknowledged in 2 working days, answered in April 2027.
    cases["received_march"] = answered(
        services, uk(date(2027, 3, 22)), uk(date(2027, 3, 24), 11), uk(date(2027, 4, 7), 15)
    )
    # 00:30 on 1 April in London is 23:30 on 31 March in UTC: the UK date counts.
    cases["first_of_april_2026"] = log(services, uk(date(2026, 4, 1), 0, 30))
    step(services, cases["first_of_april_2026"], ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 4, 1), 10))
    cases["first_of_april_2027"] = log(services, uk(date(2027, 4, 1), 0, 30))
    step(services, cases["first_of_april_2027"], ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2027, 4, 1), 10))

    # Acknowledged 3 June (2 working days), due 17 June; extended on 12 June, inside the
    # cap, to 24 June; answered 23 June, 14 working days after the acknowledgement: in time.
    within = cases["extension_within_cap"] = log(services, uk(date(2026, 6, 1)))
    step(services, within, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 6, 3)))
    step(services, within, ClockEvent.STAGE1_EXTENDED, uk(date(2026, 6, 12)), until=date(2026, 6, 24))
    step(services, within, ClockEvent.STAGE1_RESPONDED, uk(date(2026, 6, 23), 15))
    # Acknowledged 2 July (1 working day), due 16 July; extended on 20 July, after the
    # deadline lapsed, to 24 July; answered 22 July, 14 working days: late all the same.
    late = cases["late_extension"] = log(services, uk(date(2026, 7, 1)))
    step(services, late, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 7, 2)))
    step(
        services,
        late,
        ClockEvent.STAGE1_EXTENDED,
        uk(date(2026, 7, 20)),
        until=date(2026, 7, 24),
        late_reason="missed",
    )
    step(services, late, ClockEvent.STAGE1_RESPONDED, uk(date(2026, 7, 22), 15))
    # Acknowledged after 6 working days (late), answered 5 working days later: the
    # response alone was in time, the whole path was not.
    cases["acknowledged_late"] = answered(
        services, uk(date(2026, 11, 2)), uk(date(2026, 11, 10)), uk(date(2026, 11, 17))
    )

    withdrawn = cases["withdrawn"] = log(services, uk(date(2026, 8, 3)))
    step(services, withdrawn, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 8, 4)))
    step(services, withdrawn, ClockEvent.WITHDRAWN, uk(date(2026, 8, 10)))
    # Refused with no letter: no exclusion recorded.
    cases["refused_no_letter"] = log(services, uk(date(2026, 10, 5)))
    step(services, cases["refused_no_letter"], ClockEvent.REFUSED, uk(date(2026, 10, 7), 12))

    # Asked for stage 2 on 11 May, and again on 12 May: the second is refused as a
    # step (the case is already escalated), so stage 2 is counted once. Acknowledged
    # 13 May (2 working days); final response 3 June, 14 working days later (spring
    # bank holiday between): in time.
    twice = cases["escalated_twice"] = answered(
        services, uk(date(2026, 4, 13)), uk(date(2026, 4, 14)), uk(date(2026, 4, 21), 15)
    )
    step(services, twice, ClockEvent.ESCALATION_REQUESTED, uk(date(2026, 5, 11)))
    with pytest.raises(CaseEventError, match="escalation_requested"):
        step(services, twice, ClockEvent.ESCALATION_REQUESTED, uk(date(2026, 5, 12)))
    step(services, twice, ClockEvent.STAGE2_ACKNOWLEDGED, uk(date(2026, 5, 13)))
    step(services, twice, ClockEvent.STAGE2_RESPONDED, uk(date(2026, 6, 3), 15))
    # Stage 1 answered in 2025-26; an escalation typed with the wrong date (20 March
    # 2026), corrected, and recorded again on 14 April 2026: stage 2 received in 2026-27.
    # Acknowledged 16 April; never answered, so overdue at the end of the year.
    corrected = cases["escalation_corrected"] = answered(
        services, uk(date(2026, 2, 16)), uk(date(2026, 2, 17)), uk(date(2026, 3, 3), 15)
    )
    mistaken = step(services, corrected, ClockEvent.ESCALATION_REQUESTED, uk(date(2026, 3, 20)))
    correct_event(services, corrected, mistaken, "typed the wrong date", by="test")
    step(services, corrected, ClockEvent.ESCALATION_REQUESTED, uk(date(2026, 4, 14)))
    step(services, corrected, ClockEvent.STAGE2_ACKNOWLEDGED, uk(date(2026, 4, 16)))
    return cases


# What the edge cases add to 2026-27, counted by hand from the dates above.
EDGE_STAGE1 = {  # received in the year and not refused
    "received_march", "first_of_april_2026", "extension_within_cap", "late_extension",
    "acknowledged_late", "withdrawn", "escalated_twice",
}  # fmt: skip
EDGE_STAGE2 = {"escalated_twice", "escalation_corrected"}
EDGE_CH02_1 = {"march_to_april": True, "extension_within_cap": True, "late_extension": False,
               "acknowledged_late": False, "escalated_twice": True}  # fmt: skip
EDGE_CH02_2 = {"escalated_twice": True}
EDGE_DAYS = {  # clock -> working days of each met in the year, and how many of them in time
    "stage1_acknowledgement": ([2, 0, 2, 1, 6, 1, 1], 6),
    "stage1_response": ([6, 14, 14, 5, 5], 4),  # acknowledged_late: the response alone was in time
    "stage2_acknowledgement": ([2, 2], 2),
    "stage2_response": ([14], 1),
}
EDGE_ENDED = {"stage1_acknowledgement": 2, "stage1_response": 1}  # refused twice; withdrawn
EDGE_OVERDUE = {"stage1_response": 1, "stage2_response": 1}  # first_of_april_2026; escalation_corrected
EDGE_MONTHS = {"2026-04": (2, 1), "2026-05": (0, 1), "2026-06": (1, 0), "2026-07": (1, 0),
               "2026-08": (1, 0), "2026-11": (1, 0), "2027-03": (1, 0)}  # fmt: skip
EDGE_OUTCOMES = {
    1: Counter({"not recorded": 5, "refused": 2, "withdrawn": 1}),
    2: Counter({"not recorded": 1}),
}


# -- what the plan should give, from the plan alone --------------------------------------------------


def in_year(instant: datetime) -> bool:
    return YEAR.first_day <= instant.astimezone(LONDON).date() <= YEAR.last_day


def nearest_rank(values: list[int], percent: int) -> float:
    """Nearest rank: the value at rank ceil(p/100 x n), counted from 1."""
    ordered = sorted(values)
    return float(ordered[(percent * len(ordered) + 99) // 100 - 1])


def half_up(numerator: int, denominator: int) -> float:
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class Expected:
    received: dict[int, set[str]] = field(default_factory=lambda: {1: set(), 2: set()})
    responded: dict[int, dict[str, bool]] = field(default_factory=lambda: {1: {}, 2: {}})  # id -> in time
    days: dict[str, list[int]] = field(default_factory=dict)
    in_time: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    extensions: Counter[tuple[int, str]] = field(default_factory=Counter)
    refused: dict[int, Counter[str]] = field(default_factory=lambda: {1: Counter(), 2: Counter()})
    remedies: list[int] = field(default_factory=lambda: [0, 0, 0])  # promised, completed, in time
    compensation: int = 0
    outcomes: dict[int, Counter[str]] = field(default_factory=lambda: {1: Counter(), 2: Counter()})
    months: dict[str, list[int]] = field(default_factory=dict)
    categories: Counter[str] = field(default_factory=Counter)
    learning: set[tuple[str, str]] = field(default_factory=set)


def expected_from(plans: list[CasePlan]) -> Expected:
    found = Expected()
    for case in plans:
        kinds = {s.kind for s in case.steps}
        if in_year(case.received) and "refused" not in kinds:
            found.received[1].add(case.id)
            found.categories[case.category or "not categorised"] += 1
            found.months.setdefault(f"{case.received:%Y-%m}", [0, 0])[0] += 1
        for s in case.steps:
            if s.kind == "escalation_requested" and in_year(s.at) and "escalation_refused" not in kinds:
                found.received[2].add(case.id)
                found.months.setdefault(f"{s.at.astimezone(LONDON):%Y-%m}", [0, 0])[1] += 1
            if in_year(s.at):
                _expect_clock_step(found, case, s)
                _expect_case_step(found, case, s)
        _expect_overdue(found, case)
        for letter in case.letters:
            if in_year(letter.at) and letter.remedy:
                found.compensation += int(letter.remedy.split("£")[1].split()[0].replace(",", "")) * 100
            if in_year(letter.at) and letter.learning:
                found.learning.add((case.id, letter.learning))
    return found


def _expect_clock_step(found: Expected, case: CasePlan, s: Step) -> None:
    """A step in the year that meets or ends a Code clock, or answers a stage."""
    if s.meets:
        found.days.setdefault(s.meets, []).append(s.days or 0)
        found.in_time[s.meets] += bool(s.in_time)
    if s.ends:
        found.ended[s.ends] += 1
    if s.kind in ("stage1_responded", "stage2_responded"):
        stage = int(s.kind[5])
        ack = next(x for x in case.steps if x.meets == f"stage{stage}_acknowledgement")
        found.responded[stage][case.id] = bool(s.in_time and ack.in_time)
        letter = next((x for x in case.letters if x.stage == stage and x.decision), None)
        found.outcomes[stage][letter.decision if letter else "not recorded"] += 1


def _expect_case_step(found: Expected, case: CasePlan, s: Step) -> None:
    """A step in the year that extends, refuses, withdraws, or promises or delivers a remedy."""
    if s.kind.endswith("_extended"):
        kind = "late" if "late_reason" in s.payload else "good" if "good_reason" in s.payload else "within"
        found.extensions[(int(s.kind[5]), kind)] += 1
    elif s.kind in ("refused", "escalation_refused"):
        stage = 1 if s.kind == "refused" else 2
        letter = next((x for x in case.letters if x.exclusion and x.at == s.at), None)
        found.refused[stage][letter.exclusion if letter else "not recorded"] += 1
        found.outcomes[stage]["refused"] += 1
    elif s.kind == "withdrawn":
        found.outcomes[2 if "stage2" in s.ends else 1]["withdrawn"] += 1
    elif s.kind == "remedy_promised":
        found.remedies[0] += 1
    elif s.kind == "remedy_completed" and s.promise is not None:
        found.remedies[1] += 1
        found.remedies[2] += s.at.date() <= date.fromisoformat(case.steps[s.promise].payload["until"])


def _expect_overdue(found: Expected, case: CasePlan) -> None:
    """Each clock started by the year's end, not stopped by then, whose (first) due
    date was before the year's last day: overdue at the end."""
    starts: dict[str, tuple[datetime, date]] = {"stage1_acknowledgement": (case.received, case.first_lapse)}
    stops: dict[str, datetime] = {}
    for s in case.steps:
        if s.starts and s.first_lapse is not None:
            starts[s.starts] = (s.at, s.first_lapse)
        if s.meets or s.ends:
            stops[s.meets or s.ends] = s.at
    last = YEAR.last_day
    for clock, (started, first_lapse) in starts.items():
        stopped = stops.get(clock)
        open_at_end = stopped is None or stopped.astimezone(LONDON).date() > last
        if started.astimezone(LONDON).date() <= last and open_at_end and first_lapse < last:
            found.overdue[clock] += 1


# -- the test --------------------------------------------------------------------------------------


def test_a_seeded_year_gives_the_hand_computed_figures(services: Services) -> None:
    clock = services.clock
    assert isinstance(clock, FixedClock)
    edges = edge_cases(services, clock)
    plans = report_plan.plan(services.calendar, PLANNED)
    procedure = services.rule_pack.procedure
    assert procedure is not None
    for case in plans:  # written in bulk, so first shown to be steps the procedure takes
        ordered = sorted(case.steps, key=lambda planned: planned.at)
        assert not procedure.replay((n, planned.kind) for n, planned in enumerate(ordered))[1], case.id
    report_plan.seed(services, plans)
    set_homes(services, "2026-27", HOMES, Actor("reports@example.org"))
    want = expected_from(plans)

    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(services.store.engine, "before_cursor_execute", seen)
    try:
        figures = period_figures(services, YEAR)
    finally:
        event.remove(services.store.engine, "before_cursor_execute", seen)
    # Set-based: a handful of statements for 2,000 complaints, not one (or more) per complaint.
    assert len(statements) < 30, len(statements)

    _check_tsm(figures, want, edges)
    _check_timeliness(figures, want)
    _check_the_rest(figures, want, edges)


def _check_tsm(figures: PeriodFigures, want: Expected, edges: dict[str, str]) -> None:
    tsm = {figure.code: figure for figure in figures.tsm}
    assert list(tsm) == ["CH01(1)", "CH01(2)", "CH02(1)", "CH02(2)"]
    stage1 = want.received[1] | {edges[name] for name in EDGE_STAGE1}
    stage2 = want.received[2] | {edges[name] for name in EDGE_STAGE2}
    assert figures.received == {1: len(stage1), 2: len(stage2)}
    for code, ids in (("CH01(1)", stage1), ("CH01(2)", stage2)):
        figure = tsm[code]
        assert (figure.numerator, figure.denominator) == (len(ids), HOMES)
        assert figure.value == half_up(len(ids) * 1000, HOMES)
        assert set(figure.complaints) == ids and len(figure.complaints) == len(ids)
        assert figure.unit == "per 1,000 homes" and "rules/tsm-2024.toml" in figure.rule
    for code, planned, edge in (
        ("CH02(1)", want.responded[1], EDGE_CH02_1),
        ("CH02(2)", want.responded[2], EDGE_CH02_2),
    ):
        responded = {**planned, **{edges[name]: in_time for name, in_time in edge.items()}}
        in_time = {complaint for complaint, ok in responded.items() if ok}
        figure = tsm[code]
        assert (figure.numerator, figure.denominator) == (len(in_time), len(responded))
        assert figure.value == half_up(len(in_time) * 100, len(responded))
        assert set(figure.complaints) == in_time
        assert set(figure.denominator_complaints) == set(responded)
        assert figure.unit == "%" and "acknowledged within 5 working days" in figure.rule
    # The edge cases, one by one.
    assert edges["march_to_april"] not in tsm["CH01(1)"].complaints
    assert edges["march_to_april"] in tsm["CH02(1)"].complaints
    assert edges["received_march"] not in tsm["CH02(1)"].denominator_complaints
    assert edges["first_of_april_2027"] not in tsm["CH01(1)"].complaints
    assert edges["late_extension"] in tsm["CH02(1)"].denominator_complaints
    assert edges["late_extension"] not in tsm["CH02(1)"].complaints
    assert edges["withdrawn"] in tsm["CH01(1)"].complaints
    assert edges["withdrawn"] not in tsm["CH02(1)"].denominator_complaints
    for refused in ("refused_by_letter", "refused_no_letter"):
        assert edges[refused] not in tsm["CH01(1)"].complaints
    assert tsm["CH01(2)"].complaints.count(edges["escalated_twice"]) == 1


def _check_timeliness(figures: PeriodFigures, want: Expected) -> None:
    clocks = {row.clock: row for row in figures.timeliness}
    assert list(clocks) == [
        "stage1_acknowledgement",
        "stage1_response",
        "stage2_acknowledgement",
        "stage2_response",
    ]
    for name, row in clocks.items():
        edge_days, edge_in_time = EDGE_DAYS[name]
        days = want.days.get(name, []) + edge_days
        assert (row.count, row.in_time) == (len(days), want.in_time[name] + edge_in_time), name
        assert row.median_working_days == nearest_rank(days, 50), name
        assert row.p90_working_days == nearest_rank(days, 90), name
        assert row.ended == want.ended[name] + EDGE_ENDED.get(name, 0), name
        assert row.overdue_open == want.overdue[name] + EDGE_OVERDUE.get(name, 0), name


def _check_the_rest(figures: PeriodFigures, want: Expected, edges: dict[str, str]) -> None:
    extensions = {row.label: row.count for row in figures.extensions}
    assert extensions == {
        "Stage 1: within the cap of 10 working days": want.extensions[(1, "within")] + 1,
        "Stage 1: beyond the cap, with a good reason": want.extensions[(1, "good")],
        "Stage 1: recorded after the deadline had lapsed (late)": want.extensions[(1, "late")] + 1,
        "Stage 2: within the cap of 20 working days": want.extensions[(2, "within")],
        "Stage 2: beyond the cap, with a good reason": want.extensions[(2, "good")],
        "Stage 2: recorded after the deadline had lapsed (late)": want.extensions[(2, "late")],
    }
    refused = want.refused[1] + Counter({"over-12-months": 1, "not recorded": 1})
    assert {row.label: row.count for row in figures.refused_by_exclusion} == dict(refused)
    assert [row.count for row in figures.refused_by_exclusion] == sorted(refused.values(), reverse=True)
    assert {row.label: row.count for row in figures.escalations_refused_by_exclusion} == dict(want.refused[2])
    assert (figures.remedies, figures.remedies_completed, figures.remedies_completed_in_time) == tuple(
        want.remedies
    )
    assert figures.compensation_pence == want.compensation > 0
    for stage in (1, 2):
        outcomes = want.outcomes[stage] + EDGE_OUTCOMES[stage]
        assert {row.label: row.count for row in figures.outcomes[stage]} == dict(outcomes), stage
    months = {row.month: (row.stage1, row.stage2) for row in figures.by_month}
    assert list(months) == [
        f"{y}-{m:02d}" for y, m in [*((2026, m) for m in range(4, 13)), *((2027, m) for m in (1, 2, 3))]
    ]
    for month, (stage1, stage2) in months.items():
        planned = want.months.get(month, [0, 0])
        edge = EDGE_MONTHS.get(month, (0, 0))
        assert (stage1, stage2) == (planned[0] + edge[0], planned[1] + edge[1]), month
    categories = want.categories + Counter({"not categorised": len(EDGE_STAGE1)})
    assert {row.label: row.count for row in figures.by_category} == dict(categories)
    assert {(item.complaint_id, item.text) for item in figures.learning} == want.learning
    assert figures.homes == HOMES
    assert edges["refused_by_letter"].startswith("CMP-")


def test_the_benchmarks_bulk_rows_are_what_refresh_case_stores(tmp_path: Path) -> None:
    """bench/report_figures.py writes its 100,000 complaints in bulk: the same plan
    written both ways gives the same clocks, row for row, and the same figures."""
    stores = []
    for name in ("use_cases", "bulk"):
        settings = make_settings(tmp_path / name / "storage", f"sqlite:///{tmp_path / name / 'mailroom.db'}")
        stores.append(build_services(settings, FixedClock(report_plan.NOW)))
    by_refresh, in_bulk = stores
    try:
        plans = report_plan.plan(by_refresh.calendar, 300, seed="bulk-check")
        report_plan.seed(by_refresh, plans)
        with in_bulk.store.engine.begin() as connection:
            report_plan.bulk_write(connection, in_bulk, plans, report_plan.BulkIds())
        assert _clock_rows(by_refresh) == _clock_rows(in_bulk)
        assert len(_clock_rows(in_bulk)) > 600
        assert period_figures(by_refresh, YEAR) == period_figures(in_bulk, YEAR)
    finally:
        for services in stores:
            services.store.engine.dispose()


def _clock_rows(services: Services) -> Counter[tuple[object, ...]]:
    """Every stored clock, its name without the event id a remedy's carries (ids differ)."""
    from sqlalchemy import select

    from mailroom.store.schema import StoredDeadline as D

    with services.store.transaction() as repo:
        rows = repo.session.execute(
            select(
                D.complaint_id,
                D.clock,
                D.started_at,
                D.due,
                D.original_due,
                D.stopped_at,
                D.missed_at,
                D.ended_by,
            )
        )
        return Counter((row[0], row[1].split("#")[0], *row[2:]) for row in rows)
