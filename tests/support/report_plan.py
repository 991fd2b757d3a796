"""A planned year of complaints for the report figures (tests/integration/
test_report_figures.py, bench/report_figures.py).

Each case is planned from its own seeded random generator: when it was received,
after how many working days each step came, which extension (within the cap,
beyond it with a good reason, or recorded late), refusals with the exclusion relied
on, withdrawals, escalations, decisions, remedies, learning. Every step is placed
``n`` working days after its clock's day zero with the calendar, and each event
carries what the plan says of it (the working days taken, whether in time, the
clock it meets, starts or ends), so the expected figures are computed from the plan,
not from the code under test.

``seed`` writes the plan through the store as production keeps it: complaints, the
events (payloads as ``case_events`` writes them), letters and their ``case_record``
items as ``letters/record.py`` stores them, then each case's clocks by
``deadline_store.refresh_case``. ``bulk_deadlines`` (the benchmark) computes the same
rows with the same pure ``case_deadlines`` and inserts them in bulk instead.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from mailroom.clock import LONDON
from mailroom.domain.calendar import WorkingCalendar

NOW = datetime(2027, 7, 1, 8, tzinfo=UTC)  # when the report is run: every planned step before it
FIRST_RECEIPT = date(2026, 2, 2)  # two months before the year...
SPAN_DAYS = 453  # ...to the end of April 2027, a month after it
PREFIX = "PLAN"  # complaint IDs of planned cases (use cases give CMP-...)
CATEGORIES = ("Repairs", "Damp and mould", "Anti-social behaviour", "Communication", "")
EXCLUSIONS = ("over-12-months", "legal-proceedings", "previously-considered", None)  # None: no letter
DECISIONS = ("upheld", "not upheld", "partly upheld", None)  # None: no response letter recorded
ACK_LIMIT, RESPONSE_LIMIT, STAGE2_RESPONSE_LIMIT = 5, 10, 20


@dataclass(frozen=True)
class Step:
    """A planned event and what the plan says of it."""

    kind: str
    at: datetime
    payload: dict[str, str] = field(default_factory=dict)
    meets: str = ""  # the clock this step meets
    days: int | None = None  # working days from that clock's day zero
    in_time: bool | None = None  # whether it met the clock in time (the whole clock, extensions too)
    starts: str = ""  # the clock this step starts
    first_lapse: date | None = None  # the clock it starts first lapses at the end of this UK date
    ends: str = ""  # the running clock this step ends unmet
    promise: int | None = None  # remedy_completed: the index of its remedy_promised step


@dataclass(frozen=True)
class Letter:
    """An issued letter and what it recorded on the case."""

    letter_type: str
    stage: int
    at: datetime
    exclusion: str = ""
    decision: str = ""
    learning: str = ""
    remedy: str = ""  # the remedy's "what"
    remedy_by: date | None = None
    promise: int | None = None  # the index of the remedy_promised step it started


@dataclass(frozen=True)
class CasePlan:
    id: str
    received: datetime
    category: str
    steps: tuple[Step, ...]
    letters: tuple[Letter, ...]
    first_lapse: date  # of the stage 1 acknowledgement clock


def uk(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


def _on(calendar: WorkingCalendar, day_zero: date, days: int, at: time) -> datetime:
    """``days`` working days after ``day_zero`` (0: that day itself), at ``at`` UK time."""
    return uk(day_zero if days == 0 else calendar.add_working_days(day_zero, days), at)


def plan(
    calendar: WorkingCalendar,
    count: int,
    seed: str = "report-figures",
    *,
    start: int = 0,
    first: date = FIRST_RECEIPT,
    span: int = SPAN_DAYS,
) -> list[CasePlan]:
    """Cases ``start`` to ``start + count - 1``, received from ``first`` over ``span`` days."""
    return [
        _case(calendar, index, random.Random(f"{seed}-{index}"), first, span)
        for index in range(start, start + count)
    ]


def _case(calendar: WorkingCalendar, index: int, rng: random.Random, first: date, span: int) -> CasePlan:
    received = uk(first + timedelta(days=rng.randrange(span)), time(rng.randint(8, 16), rng.choice((0, 30))))
    day0 = received.date()
    case = _Builder(calendar, rng)
    first_lapse = calendar.add_working_days(day0, ACK_LIMIT)
    fate = rng.random()
    if fate < 0.04:
        pass  # never acknowledged: still open
    elif fate < 0.08:
        case.refuse(day0, rng.randint(1, 4), "refused", "stage1_acknowledgement", 1)
    else:
        days = rng.choices(range(9), weights=(2, 10, 12, 12, 10, 8, 3, 2, 1))[0]
        ack = _on(calendar, day0, days, time(17, 30) if days == 0 else time(rng.randint(9, 16)))
        ack_lapse = case.response_lapse(ack.date(), RESPONSE_LIMIT)
        acknowledged = case.add(
            Step(
                "stage1_acknowledged",
                ack,
                meets="stage1_acknowledgement",
                days=days,
                in_time=days <= ACK_LIMIT,
                starts="stage1_response",
                first_lapse=ack_lapse.first_lapse,
            )
        )
        case.stage(1, ack.date(), ack_lapse, acknowledged)
    steps = tuple(step for step in case.steps if step.at < NOW)
    kept = {id(step) for step in steps}
    letters = tuple(
        letter
        for letter in case.letters
        if letter.at < NOW and (letter.promise is None or id(case.steps[letter.promise]) in kept)
    )
    return CasePlan(
        id=f"{PREFIX}-{received.year}-{index + 1:06d}",
        received=received,
        category=rng.choice(CATEGORIES),
        steps=_renumber(case.steps, steps),
        letters=_renumber_letters(case.steps, steps, letters),
        first_lapse=first_lapse,
    )


@dataclass(frozen=True)
class _Lapse:
    """How a planned response clock runs: its extension (if any) and first lapse."""

    extension: str  # "", "within", "good", "late"
    recorded: int  # working days after the acknowledgement the extension is recorded
    extra: int  # working days the extension adds to the limit
    limit: int  # the working days the response is due in (extension included, if in time)
    first_lapse: date


class _Builder:
    def __init__(self, calendar: WorkingCalendar, rng: random.Random) -> None:
        self.calendar, self.rng = calendar, rng
        self.steps: list[Step] = []
        self.letters: list[Letter] = []

    def add(self, step: Step) -> int:
        self.steps.append(step)
        return len(self.steps) - 1

    def response_lapse(self, ack_day: date, limit: int) -> _Lapse:
        """Choose the response clock's extension: the cap is the limit (10 or 20)."""
        rng, cap = self.rng, limit
        kind = rng.choices(("", "within", "good", "late"), weights=(70, 15, 5, 10))[0]
        if kind == "":
            return _Lapse("", 0, 0, limit, self.calendar.add_working_days(ack_day, limit))
        if kind == "late":
            recorded = rng.randint(limit + 1, limit + 3)
            extra = rng.randint(max(1, recorded - limit + 1), recorded - limit + 6)
            return _Lapse(kind, recorded, extra, limit, self.calendar.add_working_days(ack_day, limit))
        recorded = rng.randint(3, limit - 1)
        extra = rng.randint(1, cap) if kind == "within" else rng.randint(cap + 1, cap + 5)
        return _Lapse(
            kind, recorded, extra, limit + extra, self.calendar.add_working_days(ack_day, limit + extra)
        )

    def refuse(self, day_zero: date, days: int, kind: str, ends: str, stage: int) -> None:
        at = _on(self.calendar, day_zero, days, time(12))
        self.add(Step(kind, at, ends=ends))
        exclusion = self.rng.choice(EXCLUSIONS if stage == 1 else EXCLUSIONS[1:])
        if exclusion is not None:
            letter_type = "refusal" if stage == 1 else "escalation-refusal"
            self.letters.append(Letter(letter_type, stage, at, exclusion=exclusion))

    def stage(self, stage: int, ack_day: date, lapse: _Lapse, ack: int) -> None:
        """From the acknowledgement of ``stage`` (step ``ack``) on: refused, withdrawn,
        open, or answered (only an answered case records the extension chosen)."""
        rng, calendar = self.rng, self.calendar
        fate = rng.random()
        response_clock = f"stage{stage}_response"
        base = RESPONSE_LIMIT if stage == 1 else STAGE2_RESPONSE_LIMIT
        if fate < 0.11:  # no extension recorded: the clock first lapses at its own due date
            due = calendar.add_working_days(ack_day, base)
            self.steps[ack] = Step(**{**self.steps[ack].__dict__, "first_lapse": due})
        if stage == 1 and fate < 0.04:
            self.refuse(ack_day, rng.randint(1, 5), "refused", response_clock, 1)
            return
        if fate < 0.08:
            self.add(
                Step("withdrawn", _on(calendar, ack_day, rng.randint(1, 8), time(12)), ends=response_clock)
            )
            return
        if fate < 0.11:
            return  # not answered yet
        limit = lapse.limit if lapse.extension in ("within", "good") else None
        if lapse.extension:
            until = calendar.add_working_days(ack_day, base + lapse.extra)
            payload = {"until": until.isoformat()}
            if lapse.extension == "good":
                payload["good_reason"] = "A structural survey is needed first"
            if lapse.extension == "late":
                payload["late_reason"] = "Recorded after the deadline: the letter was sent late"
            self.add(
                Step(f"stage{stage}_extended", _on(calendar, ack_day, lapse.recorded, time(14)), payload)
            )
            low = lapse.recorded + 1
            high = (limit + 3) if limit is not None else base + lapse.extra
        else:
            low, high = 1, base + 4
        days = rng.randint(low, high)
        in_time = lapse.extension != "late" and days <= lapse.limit
        responded = _on(calendar, ack_day, days, time(15))
        self.add(Step(f"stage{stage}_responded", responded, meets=response_clock, days=days, in_time=in_time))
        decision = rng.choice(DECISIONS)
        if decision is not None:
            self._response_letter(stage, responded, decision)
        if stage == 1 and rng.random() < 0.3:
            self.escalate(responded.date())

    def _response_letter(self, stage: int, at: datetime, decision: str) -> None:
        rng = self.rng
        learning = rng.choice(("", "", f"Learning {rng.randint(1, 9999)}: tell residents when visits move"))
        remedy, by, promise = "", None, None
        if rng.random() < 0.15:
            pounds = rng.choice((25, 50, 150, 1250))
            remedy = f"Pay you £{pounds:,} compensation"
            by = at.date() + timedelta(days=14)
            promise = self.add(Step("remedy_promised", at, {"until": by.isoformat(), "what": remedy}))
            done = rng.random()
            if done < 0.5:
                self.add(
                    Step("remedy_completed", uk(at.date() + timedelta(days=5), time(11)), promise=promise)
                )
            elif done < 0.75:
                self.add(Step("remedy_completed", uk(by + timedelta(days=3), time(11)), promise=promise))
        letter_type = f"stage{stage}-response"
        self.letters.append(Letter(letter_type, stage, at, "", decision, learning, remedy, by, promise))

    def escalate(self, responded: date) -> None:
        rng, calendar = self.rng, self.calendar
        asked = _on(calendar, responded, rng.randint(1, 40), time(10))
        first_lapse = calendar.add_working_days(asked.date(), ACK_LIMIT)
        self.add(
            Step("escalation_requested", asked, starts="stage2_acknowledgement", first_lapse=first_lapse)
        )
        fate = rng.random()
        if fate < 0.08:
            self.refuse(asked.date(), rng.randint(1, 4), "escalation_refused", "stage2_acknowledgement", 2)
            return
        if fate < 0.13:
            return  # not acknowledged yet
        days = rng.choices(range(9), weights=(2, 10, 12, 12, 10, 8, 3, 2, 1))[0]
        ack = _on(calendar, asked.date(), days, time(16, 45) if days == 0 else time(rng.randint(9, 16)))
        lapse = self.response_lapse(ack.date(), STAGE2_RESPONSE_LIMIT)
        acknowledged = self.add(
            Step(
                "stage2_acknowledged",
                ack,
                meets="stage2_acknowledgement",
                days=days,
                in_time=days <= ACK_LIMIT,
                starts="stage2_response",
                first_lapse=lapse.first_lapse,
            )
        )
        self.stage(2, ack.date(), lapse, acknowledged)


def _renumber(every: list[Step], kept: Sequence[Step]) -> tuple[Step, ...]:
    """The kept steps, with promise indexes pointing into the kept list."""
    index = {id(step): number for number, step in enumerate(kept)}
    return tuple(
        step if step.promise is None else _with_promise(step, index[id(every[step.promise])]) for step in kept
    )


def _renumber_letters(
    every: list[Step], kept: Sequence[Step], letters: Sequence[Letter]
) -> tuple[Letter, ...]:
    index = {id(step): number for number, step in enumerate(kept)}
    return tuple(
        letter if letter.promise is None else _letter_with_promise(letter, index[id(every[letter.promise])])
        for letter in letters
    )


def _with_promise(step: Step, promise: int) -> Step:
    return Step(**{**step.__dict__, "promise": promise})


def _letter_with_promise(letter: Letter, promise: int) -> Letter:
    return Letter(**{**letter.__dict__, "promise": promise})


# -- writing it to the store --------------------------------------------------------------------


def seed(services: Any, plans: Sequence[CasePlan], batch: int = 250) -> None:
    """Write the plans through the store, then each case's clocks by ``refresh_case``."""
    from mailroom.deadline_store import refresh_case

    for chunk in _chunks(plans, batch):
        with services.store.transaction() as repo:
            write_cases(repo.session, chunk)
            for case in chunk:
                refresh_case(services, repo, case.id)


def write_cases(session: Any, plans: Sequence[CasePlan]) -> None:
    """Complaints, events, letters and case record items of ``plans`` (no clocks)."""
    from mailroom.store.schema import CaseRecordItem, Complaint, Event
    from mailroom.store.schema import Letter as LetterRow

    created = NOW
    session.add_all(
        Complaint(
            id=case.id,
            status=_status(case),
            stage=2 if any(step.kind == "escalation_requested" for step in case.steps) else 1,
            channel="phone",
            received_at=case.received,
            complainant_name=f"Resident {case.id[-6:]}",
            complainant_email=f"resident{case.id[-6:]}@example.org",
            subject="A planned complaint",
            description="Planned for the report figures.",
            flags="",
            created_at=created,
            category=case.category,
        )
        for case in plans
    )
    session.flush()
    events: dict[tuple[str, int], Any] = {}
    for case in plans:  # promises first: a completion's payload names its promise's id
        for number, step in enumerate(case.steps):
            if step.promise is None:
                events[(case.id, number)] = Event(
                    complaint_id=case.id,
                    at=step.at,
                    kind=step.kind,
                    detail="",
                    payload=_payload(step.payload),
                )
    session.add_all(events.values())
    session.flush()
    completions = []
    for case in plans:
        for step in case.steps:
            if step.promise is not None:
                ref = events[(case.id, step.promise)].id
                completions.append(
                    Event(
                        complaint_id=case.id,
                        at=step.at,
                        kind=step.kind,
                        detail="",
                        payload=json.dumps({"ref": str(ref)}),
                    )
                )
    session.add_all(completions)
    letters = [
        (case, letter, _letter_row(LetterRow, case, letter)) for case in plans for letter in case.letters
    ]
    session.add_all(row for _, _, row in letters)
    session.flush()
    session.add_all(
        CaseRecordItem(
            complaint_id=case.id,
            letter_id=row.id,
            stage=letter.stage,
            kind=kind,
            position=1,
            text=text,
            data_json=json.dumps(data, ensure_ascii=False, sort_keys=True),
            due=due,
            event_id=None
            if letter.promise is None or kind != "remedy"
            else events[(case.id, letter.promise)].id,
            recorded_at=letter.at,
        )
        for case, letter, row in letters
        for kind, text, data, due in _items(letter)
    )
    session.flush()


def _items(letter: Letter) -> Iterator[tuple[str, str, dict[str, Any], date | None]]:
    if letter.exclusion:
        yield (
            "exclusion",
            letter.exclusion,
            {"exclusion": letter.exclusion, "refusal_reason": "Planned"},
            None,
        )
    if letter.decision:
        point = "The repair took too long"
        yield "decision", f"{point}: {letter.decision}", {"point": point, "decision": letter.decision}, None
    if letter.remedy:
        by = letter.remedy_by.isoformat() if letter.remedy_by else ""
        yield "remedy", letter.remedy, {"what": letter.remedy, "by_when": by}, letter.remedy_by


def _letter_row(row_type: Any, case: CasePlan, letter: Letter) -> Any:
    fields: dict[str, Any] = {"points": [{"summary": "The repair took too long", "outcome_sought": "Fix it"}]}
    if letter.exclusion:
        fields = {"exclusion": letter.exclusion, "refusal_reason": "Planned"}
    fields["learning"] = letter.learning or None
    return row_type(
        complaint_id=case.id,
        letter_type=letter.letter_type,
        status="sent",
        revision=1,
        edited=False,
        fields_json=json.dumps(fields, ensure_ascii=False, sort_keys=True),
        context_json="{}",
        docx_path="",
        docx_sha256="",
        check_json="{}",
        created_at=letter.at,
        approved_at=letter.at,
        approved_by="planned",
        issued_at=letter.at,
        pdf_path="",
        pdf_sha256="",
        message_id="",
    )


def _status(case: CasePlan) -> str:
    kinds = {step.kind for step in case.steps}
    if "withdrawn" in kinds:
        return "withdrawn"
    return "refused" if "refused" in kinds else "open"


def _payload(payload: dict[str, str]) -> str:
    return json.dumps(payload) if payload else ""


def _chunks(items: Sequence[CasePlan], size: int) -> Iterator[Sequence[CasePlan]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- in bulk, for the benchmark ----------------------------------------------------------------


class BulkIds:
    """Explicit ids for rows written in bulk into an empty store (no round trip for them)."""

    def __init__(self) -> None:
        self.event = self.letter = self.item = 0


def bulk_write(connection: Any, services: Any, plans: Sequence[CasePlan], ids: BulkIds) -> dict[str, int]:
    """``plans`` in a few multi-row inserts, the clocks computed by the same pure
    ``case_deadlines`` that ``refresh_case`` runs and stored as it stores them (no
    reminder times: nothing here reminds). Bypasses the audit chain. Returns rows by table."""
    from sqlalchemy import insert

    from mailroom.domain.deadlines import CaseEvent, case_deadlines
    from mailroom.store.schema import CaseRecordItem, Complaint, Event, StoredDeadline
    from mailroom.store.schema import Letter as LetterRow

    complaints: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    letters: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    deadlines: list[dict[str, Any]] = []
    settings = services.settings
    for case in plans:
        complaints.append(
            {
                "id": case.id,
                "status": _status(case),
                "stage": 2 if any(step.kind == "escalation_requested" for step in case.steps) else 1,
                "channel": "phone",
                "received_at": case.received,
                "complainant_name": f"Resident {case.id[-6:]}",
                "complainant_email": f"resident{case.id[-6:]}@example.org",
                "subject": "A planned complaint",
                "description": "Planned for the report figures.",
                "flags": "",
                "created_at": NOW,
                "category": case.category,
            }
        )
        step_ids: dict[int, int] = {}
        for number in range(len(case.steps)):
            ids.event += 1
            step_ids[number] = ids.event
        clock_events = [CaseEvent("received", case.received)]
        for number, step in enumerate(case.steps):
            payload = dict(step.payload)
            if step.promise is not None:
                payload = {"ref": str(step_ids[step.promise])}
            events.append(
                {
                    "id": step_ids[number],
                    "complaint_id": case.id,
                    "at": step.at,
                    "kind": step.kind,
                    "detail": "",
                    "payload": _payload(payload),
                }
            )
            clock_events.append(CaseEvent(step.kind, step.at, step_ids[number], payload))
        for letter in case.letters:
            ids.letter += 1
            row = _letter_row(dict, case, letter)
            letters.append({"id": ids.letter, **row, "outbox_id": None})
            for kind, text, data, due in _items(letter):
                ids.item += 1
                event_id = (
                    step_ids[letter.promise] if letter.promise is not None and kind == "remedy" else None
                )
                items.append(
                    {
                        "id": ids.item,
                        "complaint_id": case.id,
                        "letter_id": ids.letter,
                        "stage": letter.stage,
                        "kind": kind,
                        "position": 1,
                        "text": text,
                        "data_json": json.dumps(data, ensure_ascii=False, sort_keys=True),
                        "due": due,
                        "event_id": event_id,
                        "recorded_at": letter.at,
                    }
                )
        for deadline in case_deadlines(
            clock_events,
            services.rule_pack,
            services.calendar,
            NOW,
            settings.calendar.cutoff,
            settings.policy.due_soon_working_days,
        ):
            deadlines.append(
                {
                    "complaint_id": case.id,
                    "clock": deadline.clock,
                    "paragraph": deadline.paragraph,
                    "title": deadline.title,
                    "started_at": deadline.started_at,
                    "due": deadline.due,
                    "lapses_at": deadline.lapses_at,
                    "original_due": deadline.original_due or deadline.due,
                    "calendar_version": deadline.calendar_version,
                    "stopped_at": deadline.stopped_at,
                    "missed_at": deadline.missed_at,
                    "ended_by": deadline.ended_by,
                    "next_reminder_at": None,
                    "computed_at": NOW,
                }
            )
    written = {}
    tables: tuple[tuple[Any, list[dict[str, Any]]], ...] = (
        (Complaint, complaints),
        (Event, events),
        (LetterRow, letters),
        (CaseRecordItem, items),
        (StoredDeadline, deadlines),
    )
    for table, rows in tables:
        if rows:
            connection.execute(insert(table), rows)
        written[table.__tablename__] = len(rows)
    return written
