"""TSM CH01 and CH02 from the rows of a period, by the definitions file
(``rules/tsm-2024.toml``, ``tsm_rules.py``). Pure: the rows come in, figures out.

- CH01 (``per_1000_homes``): the complaints counted (received in the period, or
  whose named clock started in it), less those with a live step the measure names
  in ``not_counted_if`` (refused), / homes x 1,000.
- CH02 (``percent_in_time``): the complaints whose named clock (the response) was
  met in the period are the denominator; those whose every clock of the path
  (``within_timescale``: acknowledgement and response) was met and never lapsed
  are the numerator. A lapse is the stored ``missed_at``: set when a due date
  passed unmet, and kept when an extension is recorded after it (a late
  extension), so a response by a date extended in time counts as in time and one
  after a late extension does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from mailroom.reports.model import Ratio, TsmFigure
from mailroom.reports.tsm_rules import TsmMeasure, TsmRules


@dataclass(frozen=True)
class PathVerdict:
    """CH02: the complaints responded to, and those within timescale."""

    responded: frozenset[str]
    in_time: frozenset[str]


def path_verdict(rows: Iterable[tuple[str, int]], measure: TsmMeasure) -> PathVerdict:
    """``rows``: each complaint responded to, with how many clocks of the measure's
    path were met and never lapsed; within timescale when all of them were."""
    responded: set[str] = set()
    in_time: set[str] = set()
    needed = len(set(measure.within_timescale))
    for complaint, met in rows:
        responded.add(complaint)
        if met >= needed:
            in_time.add(complaint)
    return PathVerdict(frozenset(responded), frozenset(in_time))


def counted(candidates: Iterable[str], measure: TsmMeasure, excluded: Mapping[str, Set[str]]) -> list[str]:
    """The candidates less those with a live step the measure does not count (sorted)."""
    out: set[str] = set()
    for kind in measure.not_counted_if:
        out |= excluded.get(kind, set())
    return sorted(set(candidates) - out)


def per_homes_figure(rules: TsmRules, measure: TsmMeasure, ids: list[str], homes: int | None) -> TsmFigure:
    value = None
    if homes:  # None or 0: no denominator recorded, no figure
        value = _half_up(len(ids) * measure.multiplier, homes, rules.places)
    return TsmFigure(
        code=measure.code,
        title=measure.title,
        stage=measure.stage,
        value=value,
        numerator=len(ids),
        denominator=homes or 0,
        unit=measure.unit,
        rule=rules.rule_text(measure),
        complaints=tuple(ids),
    )


def in_time_figure(rules: TsmRules, measure: TsmMeasure, verdict: PathVerdict) -> TsmFigure:
    ratio = Ratio(len(verdict.in_time), len(verdict.responded))
    return TsmFigure(
        code=measure.code,
        title=measure.title,
        stage=measure.stage,
        value=ratio.percent(rules.places),
        numerator=ratio.numerator,
        denominator=ratio.denominator,
        unit=measure.unit,
        rule=rules.rule_text(measure),
        complaints=tuple(sorted(verdict.in_time)),
        denominator_complaints=tuple(sorted(verdict.responded)),
    )


def _half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator rounded half up to ``places``, in exact decimals."""
    from decimal import ROUND_HALF_UP, Decimal

    value = Decimal(numerator) / Decimal(denominator)
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
