"""The figures of a reporting period (docs/reports.md), computed from the store:
complaints received per stage, by month and by category; each Code clock's
timeliness; extensions; refusals by exclusion; remedies and compensation;
outcomes; learning; the Ombudsman's determinations; and TSM CH01/CH02 by the
definitions file (``rules/tsm-2024.toml``).

One read snapshot, a few set-based queries streamed in batches (``figures_sql.py``),
one pass over each: 100,000 complaints in seconds, never a query per complaint.

What counts where (each rule also in docs/reports.md):

- a step counts in the period when its UK (Europe/London) date falls in it;
- corrected steps (and the corrections) never count, as for the clocks;
- received at stage 1: complaints received in the period, less those refused
  (not accepted, Code 2.2); at stage 2: escalation requests received in the
  period (the start of the stage 2 acknowledgement clock, so one per complaint
  whatever was asked twice or corrected), less those refused (``escalation_refused``);
  the TSM file's CH01 measures say so, and these are their numerators;
- a clock's timeliness: the clocks met (stopped by their own step) in the period;
  in time when never lapsed; working days and percentiles as in
  ``figures_timeliness.py``; clocks ended unmet, and clocks still running past
  their due date at the period's end, are counted beside them;
- extensions: the extension steps recorded in the period, each once: late when
  recorded after the clock lapsed, else beyond the cap when a good reason was
  given, else within the cap;
- refusals: the ``refused`` (stage 1) and ``escalation_refused`` (stage 2) steps
  in the period, by the exclusion the refusal letter relied on (``case_record``
  items of kind ``exclusion``); "not recorded" when no letter recorded one;
- remedies: remedy clocks (7.3) started in the period; completed, and completed
  by the promised date, in the period; compensation: the amounts the remedies of
  letters issued in the period offered (``reports/outcomes.py``);
- outcomes at a stage: the complaints whose stage ended in the period (its
  response clock stopped, or its acknowledgement clock ended unmet), by
  ``reports/outcomes.stage_outcomes``;
- learning: the "learning" field of stage 1 and stage 2 responses issued in the
  period (a letter field: the case record does not keep it).
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from mailroom.domain.deadlines import ClockRule
from mailroom.reports import figures_sql as sql
from mailroom.reports.figures_timeliness import ClockTally, WorkingDays
from mailroom.reports.figures_tsm import PathVerdict, counted, in_time_figure, path_verdict, per_homes_figure
from mailroom.reports.model import (
    Count,
    Learning,
    MonthVolumes,
    OmbudsmanDetermination,
    Period,
    PeriodFigures,
    TsmFigure,
)
from mailroom.reports.periods import financial_year, instants, months
from mailroom.reports.tsm_rules import TsmMeasure, TsmRules, load_tsm_rules
from mailroom.services import Services
from mailroom.store.database import read_snapshot

REFUSALS = {"refused": 1, "escalation_refused": 2}  # the step -> the stage it refuses
REMEDY_CLOCK = "remedy"  # the rule pack's dated promise of a remedy (7.3)
RESPONSE_LETTERS = ("stage1-response", "stage2-response")  # letters/types.py: they carry "learning"
OUTCOME_RECORD_KINDS = ("decision", "exclusion")  # what reports/outcomes.py reads of the record
OUTCOME_EVENT_KINDS = ("refused", "escalation_refused", "escalation_requested", "withdrawn", sql.CORRECTED)
NOT_RECORDED = "not recorded"
NOT_CATEGORISED = "not categorised"


@dataclass(frozen=True)
class TsmReport:
    """The TSM figures of a period with the definitions they were computed by."""

    period: Period
    homes: int | None
    rules: TsmRules
    figures: list[TsmFigure]
    notes: list[str]


@dataclass
class _Scan:
    """What one pass over the period's rows gathers."""

    received: list[tuple[str, date, str]] = field(default_factory=list)  # id, UK date, category
    excluded: dict[str, set[str]] = field(default_factory=dict)  # step kind -> complaints (live)
    steps: list[sql.StepRow] = field(default_factory=list)  # live steps of those kinds, in the period
    # Every step read, corrections included, by complaint: what outcomes are decided from.
    case_steps: dict[str, list[sql.StepRow]] = field(default_factory=dict)
    started: dict[str, list[tuple[str, date]]] = field(default_factory=dict)  # clock -> started
    tallies: dict[str, ClockTally] = field(default_factory=dict)
    concluded: dict[int, set[str]] = field(default_factory=dict)  # stage -> complaints
    verdicts: dict[str, PathVerdict] = field(default_factory=dict)  # CH02 code -> who, who in time


# -- entry points ------------------------------------------------------------------------------


def tsm_report(services: Services, period: Period, rules: TsmRules | None = None) -> TsmReport:
    """CH01 and CH02 alone (``mailroom report tsm``)."""
    rules = rules or load_rules(services)
    homes, notes = _homes(services, period)
    with _no_cyclic_gc(), read_snapshot(services.store.engine) as connection:
        scan = _scan(connection, services, period, rules)
    return TsmReport(period, homes, rules, _tsm(rules, scan, homes), notes)


def period_figures(services: Services, period: Period, rules: TsmRules | None = None) -> PeriodFigures:
    """Every figure of the period the reports print."""
    rules = rules or load_rules(services)
    homes, notes = _homes(services, period)
    start, end = instants(period)
    with _no_cyclic_gc(), read_snapshot(services.store.engine) as connection:
        scan = _scan(connection, services, period, rules)
        received = _received(rules, scan)
        figures = PeriodFigures(period=period, homes=homes, notes=notes)
        figures.received = {stage: len(ids) for stage, ids in received.items()}
        figures.by_month = _by_month(period, rules, scan, received)
        figures.by_category = _by_category(scan, received.get(1, []), notes)
        figures.timeliness = [scan.tallies[name].figure() for name in scan.tallies]
        figures.extensions = _extensions(services, rules, scan)
        items: dict[str, list[sql.RecordRow]] = {}
        for item in sql.record_items(connection, OUTCOME_RECORD_KINDS):
            items.setdefault(item.complaint_id, []).append(item)
        refused = _refused(scan, items)
        figures.refused_by_exclusion = refused.get(1, [])
        figures.escalations_refused_by_exclusion = refused.get(2, [])
        _remedies(connection, services, figures, start, end)
        figures.compensation_pence = _compensation(connection, start, end, notes)
        figures.outcomes = _outcomes(scan, items, notes)
        figures.learning = _learning(connection, start, end)
        figures.tsm = _tsm(rules, scan, homes)
    figures.ombudsman = _ombudsman(services, period, notes)
    return figures


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the rows are read: hundreds of thousands
    of tuples, none in a cycle, made it walk a growing heap again and again (a second
    or more of a 100,000-complaint year). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_rules(services: Services) -> TsmRules:
    """The bundled TSM definitions, checked against the clocks of the rule pack in force."""
    return load_tsm_rules(clocks=[clock.name for clock in services.rule_pack.clocks])


# -- the pass over the rows --------------------------------------------------------------------


def _scan(connection: Connection, services: Services, period: Period, rules: TsmRules) -> _Scan:
    start, end = instants(period)
    scan = _Scan()
    clocks = {clock.name: clock for clock in services.rule_pack.clocks}
    paths = _paths(rules)
    for stage, names in paths.items():
        for name in names:
            rule = clocks[name]
            scan.tallies[name] = ClockTally(name, rule.paragraph, rule.title)
        scan.concluded[stage] = set()
    _scan_steps(connection, scan, _step_kinds(rules, clocks), start, end)
    uk = sql.UkInstants(services.settings.calendar.cutoff)
    for received in sql.received(connection, start, end):
        scan.received.append((received.id, uk.day(received.received_at), received.category))
    stage_of = {name: stage for stage, names in paths.items() for name in names}
    counted_starts = {m.clock for m in rules.measures if m.counts == "clock_started"}
    watched = sorted({*stage_of, *counted_starts})
    for name in counted_starts:  # only CH01's clocks need their starts (and their months)
        scan.started.setdefault(name, [])
    days = WorkingDays(services.calendar, services.settings.calendar.cutoff)
    in_time = {m.clock: m for m in rules.measures if m.counts == "clock_met"}
    timing = _ClockPass(scan, uk, days, stage_of, {names[-1] for names in paths.values()}, in_time)
    for row in sql.clocks_alive(connection, watched, start, end):
        timing.add(row)
    for clock, measure in in_time.items():
        scan.verdicts[measure.code] = path_verdict(timing.path_counts(connection, clock, measure), measure)
    return scan


class _ClockPass:
    """Counts one clock row into the scan: started in the period, met or ended in
    it (with the working days it took), or still running past its due date at the end."""

    def __init__(
        self,
        scan: _Scan,
        uk: sql.UkInstants,
        days: WorkingDays,
        stage_of: dict[str, int],
        responses: set[str],
        in_time: dict[str, TsmMeasure],
    ) -> None:
        self.scan, self.uk, self.days = scan, uk, days
        self.stage_of, self.responses = stage_of, responses
        # CH02: per response clock, each complaint whose response was met in the period
        # (and whether in time); and whether each clock seen of a response's path
        # (the acknowledgements) was met in time, to look up without another query.
        self.responded: dict[str, list[tuple[str, bool]]] = {clock: [] for clock in in_time}
        self.path_clocks = {name for m in in_time.values() for name in m.within_timescale} - set(in_time)
        self.path_ok: dict[tuple[str, str], bool] = {}

    def path_counts(self, connection: Connection, clock: str, measure: TsmMeasure) -> list[tuple[str, int]]:
        """Each complaint responded to, with how many clocks of its path were met in
        time. A path clock not seen in the pass (an acknowledgement before the
        period) is read for just those complaints."""
        others = [name for name in measure.within_timescale if name != clock]
        missing = [
            c for c, _ in self.responded[clock] if any((c, name) not in self.path_ok for name in others)
        ]
        for complaint, name, ok in sql.met_in_time(connection, missing, others):
            self.path_ok[(complaint, name)] = bool(ok)
        return [
            (complaint, own + sum(self.path_ok.get((complaint, name), False) for name in others))
            for complaint, own in self.responded[clock]
        ]

    def add(self, row: sql.ClockRow) -> None:
        # Called once per clock row (a quarter of a million a year at 100,000 complaints):
        # attribute lookups kept to what each row needs.
        clock = row.clock
        if row.started_in and clock in self.scan.started:
            self.scan.started[clock].append((row.complaint_id, self.uk.day(row.started_at)))
        tally = self.scan.tallies.get(clock)
        if tally is None:
            return
        ended_by = row.ended_by
        if clock in self.path_clocks:
            self.path_ok[(row.complaint_id, clock)] = (
                row.stopped_at is not None and not ended_by and bool(row.never_missed)
            )
        if row.stopped_in:
            if not ended_by:
                tally.met += 1
                tally.in_time += row.never_missed
                start_day, late = self.uk.day_and_late(row.started_at)
                taken = self.days.taken(start_day, late, self.uk.day(row.stopped_at))
                if taken is not None:
                    tally.days.append(taken)
                if clock in self.responded:
                    self.responded[clock].append((row.complaint_id, bool(row.never_missed)))
            else:
                tally.ended += 1
            # The stage ended here: answered, or its clocks ended unmet (refused, withdrawn...).
            if ended_by or clock in self.responses:
                self.scan.concluded[self.stage_of[clock]].add(row.complaint_id)
        elif row.overdue_at_end:
            tally.overdue_open += 1


def _paths(rules: TsmRules) -> dict[int, tuple[str, ...]]:
    """Each stage's Code clocks in order (acknowledgement, response): the path its
    CH02 measure times, which is also what the timeliness table shows."""
    found: dict[int, tuple[str, ...]] = {}
    for measure in sorted(rules.measures, key=lambda m: m.stage):
        if measure.kind == "percent_in_time" and measure.stage not in found:
            ordered = [name for name in measure.within_timescale if name != measure.clock]
            found[measure.stage] = (*ordered, measure.clock)
    return found


def _step_kinds(rules: TsmRules, clocks: dict[str, ClockRule]) -> list[str]:
    kinds = {*REFUSALS, *OUTCOME_EVENT_KINDS, *(kind for m in rules.measures for kind in m.not_counted_if)}
    kinds |= {clock.extended_by for clock in clocks.values() if clock.extended_by}
    return sorted(kinds)


def _scan_steps(
    connection: Connection, scan: _Scan, kinds: Sequence[str], start: datetime, end: datetime
) -> None:
    rows = list(sql.steps(connection, kinds, start, end))
    corrected = {_ref(row.payload) for row in rows if row.kind == sql.CORRECTED}
    for row in rows:
        scan.case_steps.setdefault(row.complaint_id, []).append(row)
        if row.kind == sql.CORRECTED or row.id in corrected:
            continue
        scan.excluded.setdefault(row.kind, set()).add(row.complaint_id)
        if row.in_period:
            scan.steps.append(row)
    scan.steps.sort(key=lambda row: (row.at, row.id))


# -- figures from the scan ---------------------------------------------------------------------


def _received_measures(rules: TsmRules) -> dict[int, TsmMeasure]:
    found: dict[int, TsmMeasure] = {}
    for measure in rules.measures:
        if measure.kind == "per_1000_homes":
            found.setdefault(measure.stage, measure)
    return found


def _candidates(scan: _Scan, measure: TsmMeasure) -> list[str]:
    if measure.counts == "received":
        return [complaint for complaint, _, _ in scan.received]
    return [complaint for complaint, _ in scan.started.get(measure.clock, [])]


def _received(rules: TsmRules, scan: _Scan) -> dict[int, list[str]]:
    """Per stage, the complaints received as the stage's CH01 measure counts them."""
    return {
        stage: counted(_candidates(scan, measure), measure, scan.excluded)
        for stage, measure in sorted(_received_measures(rules).items())
    }


def _tsm(rules: TsmRules, scan: _Scan, homes: int | None) -> list[TsmFigure]:
    found = []
    for measure in rules.measures:
        if measure.kind == "per_1000_homes":
            ids = counted(_candidates(scan, measure), measure, scan.excluded)
            found.append(per_homes_figure(rules, measure, ids, homes))
        else:
            found.append(in_time_figure(rules, measure, scan.verdicts[measure.code]))
    return found


def _by_month(
    period: Period, rules: TsmRules, scan: _Scan, received: dict[int, list[str]]
) -> list[MonthVolumes]:
    per_stage: dict[int, Counter[tuple[int, int]]] = {}
    for stage, measure in _received_measures(rules).items():
        wanted = set(received.get(stage, []))
        if measure.counts == "received":
            dated = [(complaint, day) for complaint, day, _ in scan.received]
        else:
            dated = scan.started.get(measure.clock, [])
        per_stage[stage] = Counter((day.year, day.month) for complaint, day in dated if complaint in wanted)
    none: Counter[tuple[int, int]] = Counter()
    return [
        MonthVolumes(
            month=f"{month:%Y-%m}",
            stage1=per_stage.get(1, none)[(month.year, month.month)],
            stage2=per_stage.get(2, none)[(month.year, month.month)],
        )
        for month in months(period)
    ]


def _by_category(scan: _Scan, stage1: Iterable[str], notes: list[str]) -> list[Count]:
    from mailroom.store.schema import Complaint

    if not hasattr(Complaint, "category"):
        notes.append("complaint categories are not recorded by this version of mailroom")
        return []
    wanted = set(stage1)
    counts = Counter(
        category or NOT_CATEGORISED for complaint, _, category in scan.received if complaint in wanted
    )
    return _counts(counts)


def _extensions(services: Services, rules: TsmRules, scan: _Scan) -> list[Count]:
    """Per stage: within the cap, beyond it with a good reason, recorded late."""
    clocks = {clock.name: clock for clock in services.rule_pack.clocks}
    found: list[Count] = []
    for stage, names in _paths(rules).items():
        clock = clocks[names[-1]]  # the response: what an extension moves (6.4, 6.15)
        if not clock.extended_by:
            continue
        tally = Counter(_extension_kind(row.payload) for row in scan.steps if row.kind == clock.extended_by)
        cap = f" of {clock.extension_cap} working days" if clock.extension_cap is not None else ""
        found += [
            Count(f"Stage {stage}: within the cap{cap}", tally["within"]),
            Count(f"Stage {stage}: beyond the cap, with a good reason", tally["good"]),
            Count(f"Stage {stage}: recorded after the deadline had lapsed (late)", tally["late"]),
        ]
    return found


def _extension_kind(payload: str) -> str:
    data = _payload(payload)
    if data.get("late_reason"):
        return "late"
    return "good" if data.get("good_reason") else "within"


def _refused(scan: _Scan, items: dict[str, list[sql.RecordRow]]) -> dict[int, list[Count]]:
    """Refusals in the period by the exclusion the latest refusal letter at that
    stage relied on, per stage."""
    per_stage: dict[int, Counter[str]] = {}
    for row in scan.steps:
        stage = REFUSALS.get(row.kind)
        if stage is None:
            continue
        label = NOT_RECORDED
        for item in items.get(row.complaint_id, []):  # in the order recorded: the latest wins
            if item.kind == "exclusion" and item.stage == stage:
                value = _payload(item.data_json).get("exclusion")
                label = value if isinstance(value, str) and value else item.text
        per_stage.setdefault(stage, Counter())[label] += 1
    return {stage: _counts(counts) for stage, counts in sorted(per_stage.items())}


def _remedies(
    connection: Connection, services: Services, figures: PeriodFigures, start: datetime, end: datetime
) -> None:
    if not any(clock.name == REMEDY_CLOCK for clock in services.rule_pack.clocks):
        return
    for row in sql.repeatable_clocks(connection, REMEDY_CLOCK, start, end):
        figures.remedies += row.started_in
        if row.stopped_in and row.ended_by == "":
            figures.remedies_completed += 1
            figures.remedies_completed_in_time += row.never_missed


def _compensation(connection: Connection, start: datetime, end: datetime, notes: list[str]) -> int:
    compensation = _optional("mailroom.reports.outcomes", "compensation_pence")
    if compensation is None:
        notes.append("compensation is not computed by this version of mailroom")
        return 0
    items = sql.record_items_recorded(connection, start, end, kinds=("remedy",))
    return int(compensation(items))


def _outcomes(scan: _Scan, items: dict[str, list[sql.RecordRow]], notes: list[str]) -> dict[int, list[Count]]:
    """Per stage, the outcomes of the complaints whose stage ended in the period."""
    stage_outcomes = _optional("mailroom.reports.outcomes", "stage_outcomes")
    if stage_outcomes is None:
        notes.append("outcomes are not computed by this version of mailroom")
        return {}
    per_stage: dict[int, Counter[str]] = {stage: Counter() for stage in scan.concluded}
    every = set().union(*scan.concluded.values()) if scan.concluded else set()
    for complaint in sorted(every):
        steps = [row for row in scan.case_steps.get(complaint, ()) if row.kind in OUTCOME_EVENT_KINDS]
        record = items.get(complaint, [])
        # Nothing recorded and no step: no outcome at any stage (outcomes.py), without the call.
        outcomes = stage_outcomes(record, steps) if record or steps else {}
        for stage, counts in per_stage.items():
            if complaint in scan.concluded[stage]:
                counts[_outcome_label(outcomes.get(stage))] += 1
    return {stage: _counts(counts) for stage, counts in sorted(per_stage.items()) if counts}


def _outcome_label(outcome: Any) -> str:
    """ "upheld", "refused"...: the kind of an Outcome (reports/outcomes.py), or the text."""
    if outcome is None:
        return NOT_RECORDED
    kind = getattr(outcome, "kind", outcome)
    return str(getattr(kind, "value", kind))


def _learning(connection: Connection, start: datetime, end: datetime) -> list[Learning]:
    found = []
    for row in sql.learning(connection, RESPONSE_LETTERS, start, end):
        text = _payload(row.fields_json).get("learning")
        if isinstance(text, str) and text.strip():
            found.append(Learning(row.complaint_id, text.strip()))
    return found


# -- what other modules provide ------------------------------------------------------------------


def _homes(services: Services, period: Period) -> tuple[int | None, list[str]]:
    notes: list[str] = []
    year = financial_year(period)
    homes_for = _optional("mailroom.reports.homes", "homes_for")
    homes = None if homes_for is None else homes_for(services, year)
    if homes is None:
        notes.append(
            f"the number of homes for {year} is not recorded (`mailroom report homes`): CH01 has no value"
        )
    return homes, notes


def _ombudsman(services: Services, period: Period, notes: list[str]) -> list[OmbudsmanDetermination]:
    determinations = _optional("mailroom.reports.ombudsman", "determinations")
    if determinations is None:
        notes.append("Ombudsman determinations are not recorded by this version of mailroom")
        return []
    return list(determinations(services, period.first_day, period.last_day))


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """A function another part of the reports provides, or None while it does not exist."""
    import importlib

    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return found if callable(found) else None


# -- small helpers --------------------------------------------------------------------------------


def _payload(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _ref(payload: str) -> int | None:
    ref = _payload(payload).get("ref")
    try:
        return int(ref) if ref is not None else None
    except (TypeError, ValueError):
        return None


def _counts(counts: Counter[str]) -> list[Count]:
    """Most first, then by label: a stable order for tables and tests."""
    return [Count(label, count) for label, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
