"""The store reads behind a period's figures: a handful of set-based queries over
``complaints``, ``events``, ``deadlines``, ``case_record`` and ``letters``, each
streamed in batches, never one query per complaint. All run on one read snapshot
(``store.database.read_snapshot``), so the figures are of one committed state.

What can be compared in SQL is (in the period? met in time? overdue at its end?),
and comes back as 0 or 1 (truthy, not converted). The instants the figures need as UK dates (receipt, a
clock's start and stop) come back raw, without the per-value conversion of
``schema.UTCDateTime`` (at 100,000 complaints that conversion alone took seconds):
``UkInstants`` turns them into UK dates, once per distinct hour.

Only reads; nothing here decides what counts (``figures_*.py`` do)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, and_, case, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from mailroom.clock import LONDON
from mailroom.store.schema import CaseRecordItem, Complaint, Event, Letter, StoredDeadline

BATCH = 10_000  # rows fetched at a time (server-side cursor on PostgreSQL)
CHUNK = 500  # ids in one IN (...) list: well inside both databases' parameter limits
CORRECTED = "event_corrected"

Raw = (
    Any  # a stored instant as the driver gives it: text of naive UTC (SQLite), an aware datetime (PostgreSQL)
)


class ReceivedRow(NamedTuple):
    id: str
    received_at: Raw
    category: str  # "" when the store has no category for it (or no such column yet)


class StepRow(NamedTuple):
    """An event, with the attributes ``reports/outcomes.py`` reads of one."""

    id: int
    complaint_id: str
    kind: str
    at: datetime
    payload: str
    in_period: int  # 1: recorded in the period


class ClockRow(NamedTuple):
    complaint_id: str
    clock: str
    started_at: Raw
    stopped_at: Raw | None
    ended_by: str
    started_in: int  # 1: started in the period
    stopped_in: int  # 1: stopped (met or ended) in the period
    never_missed: int  # 1: no due date of it ever lapsed unmet (a late extension keeps the lapse)
    overdue_at_end: int  # 1: still running at the period's end, past its due date by then


class RecordRow(NamedTuple):
    """A ``case_record`` item, with the attributes ``reports/outcomes.py`` reads of one."""

    id: int
    complaint_id: str
    letter_id: int
    stage: int
    kind: str
    text: str
    data_json: str


class LearningRow(NamedTuple):
    complaint_id: str
    letter_type: str
    fields_json: str


class UkInstants:
    """The UK (Europe/London) date of a raw stored instant and whether its UK time is at
    or after the cut-off (``calendar.cutoff``). UK offsets are whole hours, so the date
    is cached per hour (per second when a cut-off must be compared)."""

    def __init__(self, cutoff: time | None) -> None:
        self._cutoff = cutoff
        self._seen: dict[Any, tuple[date, bool]] = {}
        self._days: dict[str, date] = {}  # by the hour of the text: the usual case, kept quick

    def day(self, raw: Raw) -> date:
        if type(raw) is str:
            hour = raw[:13]
            found = self._days.get(hour)
            if found is None:
                found = self._days[hour] = self._convert(hour)[0]
            return found
        return self.day_and_late(raw)[0]

    def day_and_late(self, raw: Raw) -> tuple[date, bool]:
        if type(raw) is str:  # the usual case first: both databases give text
            key: Any = raw[:13] if self._cutoff is None else raw[:19]
        elif isinstance(raw, datetime):
            seconds = int((raw if raw.tzinfo else raw.replace(tzinfo=UTC)).timestamp())
            key = seconds if self._cutoff is not None else seconds - seconds % 3600
        else:
            raise TypeError(f"not a stored instant: {type(raw).__name__}")
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self._convert(key)
        return found

    def _convert(self, key: Any) -> tuple[date, bool]:
        if isinstance(key, str):
            instant = datetime.fromisoformat(key if len(key) > 13 else f"{key}:00").replace(tzinfo=UTC)
        else:
            instant = datetime.fromtimestamp(key, UTC)
        local = instant.astimezone(LONDON)
        return local.date(), self._cutoff is not None and local.time() >= self._cutoff


def _instant(connection: Connection, column: Any) -> Any:
    """A stored instant as text of its UTC wall time, "YYYY-MM-DD HH:MM:SS...", with no
    Python-side conversion per value: SQLite stores exactly that (``UTCDateTime``);
    PostgreSQL writes it, whatever the session's time zone or date style."""
    if connection.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
    if connection.dialect.name == "sqlite":
        return type_coerce(column, String())
    return column  # another database: aware datetimes, converted one by one


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def _stream(connection: Connection, statement: Any) -> Iterator[Any]:
    """Rows in batches of ``BATCH``: a server-side cursor on PostgreSQL, fetched
    ``BATCH`` rows a round trip (iterating row by row fetched a few dozen at a time)."""
    result = connection.execution_options(yield_per=BATCH).execute(statement)
    for batch in result.partitions():
        yield from batch


def received(connection: Connection, start: datetime, end: datetime) -> Iterator[ReceivedRow]:
    """Complaints received in [start, end)."""
    category = getattr(Complaint, "category", None)  # added by the data capture (issue 13)
    columns = [Complaint.id, _instant(connection, Complaint.received_at)]
    if category is not None:
        columns.append(category)
    statement = select(*columns).where(Complaint.received_at >= start, Complaint.received_at < end)
    for row in _stream(connection, statement):
        yield ReceivedRow(row[0], row[1], (row[2] or "") if category is not None else "")


def steps(connection: Connection, kinds: Sequence[str], start: datetime, end: datetime) -> Iterator[StepRow]:
    """Every event of these kinds (and every correction), whenever recorded, flagged
    when in [start, end). The caller drops corrected steps."""
    wanted = sorted({*kinds, CORRECTED})
    in_period = _flag(and_(Event.at >= start, Event.at < end))
    statement = select(Event.id, Event.complaint_id, Event.kind, Event.at, Event.payload, in_period).where(
        Event.kind.in_(wanted), Event.complaint_id.is_not(None)
    )
    for row in _stream(connection, statement):
        yield StepRow(row[0], row[1], row[2], row[3], row[4] or "", row[5])


def clocks_alive(
    connection: Connection, clocks: Sequence[str], start: datetime, end: datetime
) -> Iterator[ClockRow]:
    """The named clocks that ran at some time in [start, end): started before its end
    and not stopped before its start."""
    d = StoredDeadline
    statement = select(
        d.complaint_id,
        d.clock,
        _instant(connection, d.started_at),
        _instant(connection, d.stopped_at),
        d.ended_by,
        _flag(d.started_at >= start),
        _flag(and_(d.stopped_at.is_not(None), d.stopped_at < end)),
        _flag(d.missed_at.is_(None)),
        _flag(
            and_(
                or_(d.stopped_at.is_(None), d.stopped_at >= end),
                or_(d.lapses_at < end, and_(d.missed_at.is_not(None), d.missed_at < end)),
            )
        ),
    ).where(
        d.clock.in_(list(clocks)),
        d.started_at < end,
        or_(d.stopped_at.is_(None), d.stopped_at >= start),
    )
    for row in _stream(connection, statement):
        yield ClockRow(*row)


def met_in_time(
    connection: Connection, complaint_ids: Sequence[str], clocks: Sequence[str]
) -> Iterator[tuple[str, str, int]]:
    """(complaint, clock, 1 when met by its own step and never lapsed) for these
    complaints' named clocks, whenever they ran: the acknowledgements of responses
    met in a period whose acknowledgement came before it."""
    d = StoredDeadline
    ok = _flag(and_(d.stopped_at.is_not(None), d.ended_by == "", d.missed_at.is_(None)))
    ordered = sorted(set(complaint_ids))
    for index in range(0, len(ordered), CHUNK):
        statement = select(d.complaint_id, d.clock, ok).where(
            d.complaint_id.in_(ordered[index : index + CHUNK]), d.clock.in_(list(clocks))
        )
        for row in connection.execute(statement):
            yield row[0], row[1], row[2]


def repeatable_clocks(
    connection: Connection, name: str, start: datetime, end: datetime
) -> Iterator[ClockRow]:
    """The clocks ``<name>#<event id>`` (remedies, outstanding actions) started or
    stopped in [start, end)."""
    d = StoredDeadline
    started_in = and_(d.started_at >= start, d.started_at < end)
    stopped_in = and_(d.stopped_at >= start, d.stopped_at < end)
    statement = select(
        d.complaint_id,
        d.clock,
        _instant(connection, d.started_at),
        _instant(connection, d.stopped_at),
        d.ended_by,
        _flag(started_in),
        _flag(stopped_in),
        _flag(d.missed_at.is_(None)),
    ).where(d.clock.like(f"{name}#%"), or_(started_in, stopped_in))
    for row in _stream(connection, statement):
        yield ClockRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], 0)


def record_items(connection: Connection, kinds: Sequence[str]) -> Iterator[RecordRow]:
    """Every case record item of these kinds, in the order recorded."""
    r = CaseRecordItem
    statement = (
        select(r.id, r.complaint_id, r.letter_id, r.stage, r.kind, r.text, r.data_json)
        .where(r.kind.in_(list(kinds)))
        .order_by(r.id)
    )
    for row in _stream(connection, statement):
        yield RecordRow(*row)


def record_items_recorded(
    connection: Connection, start: datetime, end: datetime, kinds: Sequence[str]
) -> list[RecordRow]:
    """The case record items of these kinds recorded (letters issued) in [start, end)."""
    r = CaseRecordItem
    statement = (
        select(r.id, r.complaint_id, r.letter_id, r.stage, r.kind, r.text, r.data_json)
        .where(r.recorded_at >= start, r.recorded_at < end, r.kind.in_(list(kinds)))
        .order_by(r.id)
    )
    return [RecordRow(*row) for row in _stream(connection, statement)]


def learning(
    connection: Connection, letter_types: Sequence[str], start: datetime, end: datetime
) -> Iterator[LearningRow]:
    """Responses issued in [start, end) whose fields give a learning text. The LIKE
    only narrows the rows read; the caller parses each one's JSON."""
    statement = select(Letter.complaint_id, Letter.letter_type, Letter.fields_json).where(
        Letter.issued_at >= start,
        Letter.issued_at < end,
        Letter.letter_type.in_(list(letter_types)),
        Letter.fields_json.like('%"learning": "%'),
    )
    for row in _stream(connection, statement.order_by(Letter.issued_at, Letter.id)):
        yield LearningRow(*row)
