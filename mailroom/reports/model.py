"""The figures of a reporting period, as plain data: ``reports/figures.py`` computes
them from the store (the Code clocks, the case record, the landlord's data), and the
renderers (``reports/tsm_output.py``, ``reports/annual.py``, ``reports/self_assessment.py``,
``reports/quarterly.py``) lay them out. No store and no document library here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Period:
    """A reporting period in UK dates, both ends included: a financial year
    "2026-27" runs 1 April 2026 to 31 March 2027; a quarter "2026-27 Q1" April-June."""

    label: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    def percent(self, places: int = 1) -> float | None:
        """numerator / denominator x 100, rounded half up to ``places``; None with no denominator."""
        if self.denominator == 0:
            return None
        from decimal import ROUND_HALF_UP, Decimal

        value = Decimal(self.numerator * 100) / Decimal(self.denominator)
        return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TsmFigure:
    code: str  # "CH01(1)", "CH01(2)", "CH02(1)", "CH02(2)"
    title: str
    stage: int
    value: float | None  # per 1,000 homes (CH01) or percent (CH02), rounded to one place
    numerator: int
    denominator: int  # homes (CH01) or complaints responded to in the period (CH02)
    unit: str  # "per 1,000 homes" or "%"
    rule: str  # the rule applied, in words, citing the definitions file
    complaints: tuple[str, ...] = ()  # the complaint IDs counted in the numerator
    denominator_complaints: tuple[str, ...] = ()  # CH02: every complaint responded to


@dataclass(frozen=True)
class ClockTimeliness:
    """One Code clock over the complaints whose clock stopped (was met or lapsed) in the period."""

    clock: str  # "stage1_acknowledgement"
    paragraph: str
    title: str
    count: int
    in_time: int
    median_working_days: float | None
    p90_working_days: float | None
    # Stopped in the period unmet by a step that ends the clock (refused, withdrawn,
    # closed, escalation refused): not in ``count``.
    ended: int = 0
    # Still running at the end of the period and past its due date by then.
    overdue_open: int = 0

    @property
    def in_time_ratio(self) -> Ratio:
        return Ratio(self.in_time, self.count)


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class MonthVolumes:
    month: str  # "2026-04"
    stage1: int
    stage2: int


@dataclass(frozen=True)
class OmbudsmanDetermination:
    complaint_id: str
    determined_on: date
    finding: str  # "maladministration", "service failure", "no maladministration", ...
    orders: int
    orders_complied_in_time: int
    compensation_pence: int


@dataclass(frozen=True)
class Learning:
    complaint_id: str
    text: str


@dataclass
class PeriodFigures:
    period: Period
    homes: int | None  # the number of homes for CH01 (None: not recorded for the year)
    received: dict[int, int] = field(default_factory=dict)  # stage -> complaints received
    by_month: list[MonthVolumes] = field(default_factory=list)
    by_category: list[Count] = field(default_factory=list)
    timeliness: list[ClockTimeliness] = field(default_factory=list)
    extensions: list[Count] = field(default_factory=list)  # reason -> how many
    outcomes: dict[int, list[Count]] = field(default_factory=dict)  # stage -> outcome counts
    refused_by_exclusion: list[Count] = field(default_factory=list)  # stage 1: not accepted (2.1-2.4)
    escalations_refused_by_exclusion: list[Count] = field(default_factory=list)  # stage 2 refused (5.11)
    remedies: int = 0  # remedies promised in the period (7.3 clocks started)
    remedies_completed: int = 0  # remedy clocks met in the period
    remedies_completed_in_time: int = 0  # of those, by the date promised
    compensation_pence: int = 0
    ombudsman: list[OmbudsmanDetermination] = field(default_factory=list)
    learning: list[Learning] = field(default_factory=list)
    tsm: list[TsmFigure] = field(default_factory=list)
    # What could not be computed and why, one line each ("homes not recorded for 2026-27").
    notes: list[str] = field(default_factory=list)
