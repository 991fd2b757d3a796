"""The TSM definitions file (``rules/tsm-2024.toml``): what CH01 and CH02 count, as
data. Loaded and checked here; an invalid file is refused in one line naming the
key, so that a change the Regulator makes is a change to the file alone."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mailroom.errors import UserError

BUNDLED_TSM_RULES = Path(__file__).resolve().parents[2] / "rules" / "tsm-2024.toml"

KINDS = ("per_1000_homes", "percent_in_time")
COUNTS = ("received", "clock_started", "clock_met")
_TOP_KEYS = ("id", "title", "places", "sources", "measures")
_SOURCE_KEYS = ("title", "url", "date", "status", "note")
_MEASURE_KEYS = (
    "title", "stage", "kind", "counts", "clock", "not_counted_if", "within_timescale",
    "numerator", "denominator", "extensions", "cites", "verify",
)  # fmt: skip
# What each kind of measure needs to count with.
_NEEDS = {"per_1000_homes": ("received", "clock_started"), "percent_in_time": ("clock_met",)}


class TsmRulesError(UserError):
    """The TSM definitions file is invalid. One line naming the key."""

    exit_code = 2


@dataclass(frozen=True)
class TsmSource:
    id: str
    title: str
    url: str
    date: date
    status: str
    note: str


@dataclass(frozen=True)
class TsmMeasure:
    code: str  # "CH01(1)"
    title: str
    stage: int
    kind: str  # KINDS
    counts: str  # COUNTS
    clock: str  # "" for counts = "received"
    not_counted_if: tuple[str, ...]
    within_timescale: tuple[str, ...]  # percent_in_time: the clocks of the whole path
    numerator: str
    denominator: str
    extensions: str
    cites: tuple[str, ...]
    verify: tuple[str, ...]

    @property
    def unit(self) -> str:
        return "per 1,000 homes" if self.kind == "per_1000_homes" else "%"

    @property
    def multiplier(self) -> int:
        return 1000 if self.kind == "per_1000_homes" else 100


@dataclass(frozen=True)
class TsmRules:
    id: str
    title: str
    source: str  # the file it was read from, as named in messages
    places: int
    sources: Mapping[str, TsmSource]
    measures: tuple[TsmMeasure, ...]

    def rule_text(self, measure: TsmMeasure) -> str:
        """The rule applied, in words, citing this file and its sources."""
        times = "x 1,000" if measure.kind == "per_1000_homes" else "x 100"
        parts = [f"{measure.code}: ({measure.numerator}) / ({measure.denominator}) {times}."]
        if measure.extensions:
            parts.append(f"Extensions: {measure.extensions}.")
        cited = "; ".join(
            f"{self.sources[key].title} ({_long_date(self.sources[key].date)})" for key in measure.cites
        )
        parts.append(f'Defined in {self.source} [measures."{measure.code}"], after: {cited}.')
        return " ".join(parts)


def load_tsm_rules(path: Path | None = None, clocks: Iterable[str] | None = None) -> TsmRules:
    """Read and check the definitions (the bundled file unless ``path``). ``clocks``:
    the clock names of the rule pack in force; each clock a measure names must be one."""
    source = str(path) if path is not None else f"rules/{BUNDLED_TSM_RULES.name}"
    path = path or BUNDLED_TSM_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TsmRulesError(f"{source}: cannot read the TSM definitions ({exc})") from None
    return parse_tsm_rules(text, source, clocks)


def parse_tsm_rules(text: str, source: str, clocks: Iterable[str] | None = None) -> TsmRules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TsmRulesError(f"{source}: not valid TOML: {exc}") from None
    _known(source, "", data, _TOP_KEYS)
    places = data.get("places", 1)
    if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 4:
        raise TsmRulesError(f"{source}: places: must be a whole number from 0 to 4")
    sources = {key: _source(source, key, body) for key, body in _table(source, data, "sources").items()}
    known_clocks = frozenset(clocks) if clocks is not None else None
    measures = tuple(
        _measure(source, code, body, sources, known_clocks)
        for code, body in _table(source, data, "measures").items()
    )
    if not measures:
        raise TsmRulesError(f'{source}: measures: defines no [measures."<code>"]')
    return TsmRules(
        id=_text(source, "id", data.get("id")),
        title=_text(source, "title", data.get("title")),
        source=source,
        places=places,
        sources=sources,
        measures=measures,
    )


def _known(source: str, where: str, body: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """A key the file does not define is a typo that would silently count nothing."""
    for key in body:
        if key not in keys:
            raise TsmRulesError(f"{source}: {where}{key}: unknown key (known: {', '.join(keys)})")


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _table(source: str, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TsmRulesError(f"{source}: {key}: must be a table")
    return value


def _text(source: str, key: str, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise TsmRulesError(f"{source}: {key}: must be {'text' if empty else 'non-empty text'}")
    return value.strip()


def _texts(source: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise TsmRulesError(f"{source}: {key}: must be a list of non-empty texts")
    return tuple(item.strip() for item in value)


def _source(source: str, key: str, body: Any) -> TsmSource:
    where = f"sources.{key}"
    if not isinstance(body, dict):
        raise TsmRulesError(f"{source}: {where}: must be a table")
    _known(source, f"{where}.", body, _SOURCE_KEYS)
    when = body.get("date")
    if not isinstance(when, date):
        raise TsmRulesError(f"{source}: {where}.date: must be a date (YYYY-MM-DD, unquoted)")
    return TsmSource(
        id=key,
        title=_text(source, f"{where}.title", body.get("title")),
        url=_text(source, f"{where}.url", body.get("url")),
        date=when,
        status=_text(source, f"{where}.status", body.get("status")),
        note=_text(source, f"{where}.note", body.get("note", ""), empty=True),
    )


def _measure(
    source: str,
    code: str,
    body: Any,
    sources: Mapping[str, TsmSource],
    clocks: frozenset[str] | None,
) -> TsmMeasure:
    where = f'measures."{code}"'
    if not isinstance(body, dict):
        raise TsmRulesError(f"{source}: {where}: must be a table")
    _known(source, f"{where}.", body, _MEASURE_KEYS)
    stage = body.get("stage")
    if stage not in (1, 2) or isinstance(stage, bool):
        raise TsmRulesError(f"{source}: {where}.stage: must be 1 or 2")
    kind = body.get("kind")
    if kind not in KINDS:
        raise TsmRulesError(f"{source}: {where}.kind: must be one of {', '.join(KINDS)}")
    counts = body.get("counts")
    if counts not in _NEEDS[kind]:
        raise TsmRulesError(f"{source}: {where}.counts: a {kind} measure counts {' or '.join(_NEEDS[kind])}")
    clock = ""
    if counts != "received":
        clock = _clock(source, f"{where}.clock", body.get("clock"), clocks)
    within = _within(source, where, body, clock, clocks) if kind == "percent_in_time" else ()
    cites = _texts(source, f"{where}.cites", body.get("cites"))
    for key in cites:
        if key not in sources:
            raise TsmRulesError(f"{source}: {where}.cites: no [sources.{key}]")
    if not cites:
        raise TsmRulesError(f"{source}: {where}.cites: must cite at least one source")
    return TsmMeasure(
        code=code,
        title=_text(source, f"{where}.title", body.get("title")),
        stage=int(stage),
        kind=kind,
        counts=counts,
        clock=clock,
        not_counted_if=_texts(source, f"{where}.not_counted_if", body.get("not_counted_if", [])),
        within_timescale=within,
        numerator=_text(source, f"{where}.numerator", body.get("numerator")),
        denominator=_text(source, f"{where}.denominator", body.get("denominator")),
        extensions=_text(source, f"{where}.extensions", body.get("extensions", ""), empty=True),
        cites=cites,
        verify=_texts(source, f"{where}.verify", body.get("verify", [])),
    )


def _within(source: str, where: str, body: Any, clock: str, clocks: frozenset[str] | None) -> tuple[str, ...]:
    """The clocks of the path a response is timed over; they must include the measure's own."""
    within = _texts(source, f"{where}.within_timescale", body.get("within_timescale"))
    if not within:
        raise TsmRulesError(f"{source}: {where}.within_timescale: must name the clocks of the path")
    for name in within:
        _clock(source, f"{where}.within_timescale", name, clocks)
    if clock not in within:
        raise TsmRulesError(f"{source}: {where}.within_timescale: must include its clock {clock}")
    return within


def _clock(source: str, key: str, value: Any, clocks: frozenset[str] | None) -> str:
    name = _text(source, key, value)
    if clocks is not None and name not in clocks:
        raise TsmRulesError(
            f"{source}: {key}: {name} is not a clock of the rule pack ({', '.join(sorted(clocks))})"
        )
    return name
