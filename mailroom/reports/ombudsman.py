"""Housing Ombudsman cases (docs/reports.md, "Ombudsman cases"): a complaint referred
to the Ombudsman, its determination (the finding, the orders with their compliance
dates, the compensation ordered) and each order complied with, recorded with
``mailroom cases ombudsman`` and read back for the reports.

Each is a case event, written beside the Code's steps but not one of them (the
procedure of the rule pack does not name them, so they fit any state, open or
closed); each is also on the audit trail:

- ``ombudsman_referred``: payload ``{"ombudsman_ref": "..."}`` when a reference is given;
- ``ombudsman_determination`` (retention keeps a determined case longer,
  ``records/retention_policy.py``): ``{"finding", "orders": [{"what", "due"}],
  "compensation_pence"}``;
- ``ombudsman_order_complied``: ``{"ref": <the determination's event id>, "order": n}``.

Dates are UK dates; an event is stamped at the start of its day (Europe/London), so
its UK date is the date given. A case's determination is the latest recorded: record
it again to correct it, or after the Ombudsman reviews it (the earlier stays on the
trail; orders complied with under it do not carry over).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from mailroom.clock import LONDON
from mailroom.errors import UserError
from mailroom.records.retention_policy import OMBUDSMAN_DETERMINATION
from mailroom.reports.model import OmbudsmanDetermination

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mailroom.accounts.audit import Actor
    from mailroom.services import Services
    from mailroom.store.schema import Complaint, Event

REFERRED = "ombudsman_referred"
DETERMINATION = OMBUDSMAN_DETERMINATION
ORDER_COMPLIED = "ombudsman_order_complied"
KINDS = (REFERRED, DETERMINATION, ORDER_COMPLIED)

# The Ombudsman's findings, as its landlord performance reports group them.
FINDINGS = (
    "severe maladministration",
    "maladministration",
    "service failure",
    "reasonable redress",
    "no maladministration",
    "outside jurisdiction",
    "withdrawn",
)
ADVERSE_FINDINGS = frozenset({"severe maladministration", "maladministration", "service failure"})

MAX_ORDERS = 50
MAX_ORDER_TEXT = 2000  # characters: what an order requires, a sentence or two
MAX_COMPENSATION_PENCE = 100_000_000  # £1,000,000: more is a typing slip
# The Ombudsman's case reference: letters, digits and a few separators.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./_-]{0,59}")
CHUNK = 500  # complaint ids per IN (...) list


class OmbudsmanError(UserError):
    """An Ombudsman record that cannot be taken; the message is one line."""


@dataclass(frozen=True)
class Order:
    what: str
    due: date


def parse_order(text: str) -> Order:
    """An order as typed after ``--order``: "what it requires:YYYY-MM-DD"."""
    what, colon, due = text.rpartition(":")
    what = " ".join(what.split())
    if not colon or not what:
        raise OmbudsmanError(f'--order: {_show(text)} is not "what:YYYY-MM-DD"')
    if len(what) > MAX_ORDER_TEXT:
        raise OmbudsmanError(f"--order: {len(what)} characters; at most {MAX_ORDER_TEXT}")
    try:
        return Order(what, date.fromisoformat(due.strip()))
    except ValueError:
        raise OmbudsmanError(f"--order: {_show(due)} is not a date (use 2027-03-31)") from None


def finding_named(given: str) -> str:
    """The finding ``given`` names (any case, spaces collapsed)."""
    wanted = " ".join(given.split()).casefold()
    if wanted not in FINDINGS:
        raise OmbudsmanError(f"--finding: {_show(given)} is not one of: {', '.join(FINDINGS)}")
    return wanted


# -- recording -------------------------------------------------------------------------------------


def referred(services: Services, complaint_id: str, on: date, by: Actor, ombudsman_ref: str = "") -> int:
    """Record that the case was referred to the Ombudsman on ``on``; returns the event id."""
    ref = " ".join(ombudsman_ref.split())
    if ref and not REFERENCE.fullmatch(ref):
        raise OmbudsmanError(
            f"--ref: {_show(ombudsman_ref)} is not an Ombudsman reference (letters, digits, - / .)"
        )
    with services.store.transaction() as repo:
        complaint = _writable_case(repo.session, complaint_id)
        _check_day(services, complaint, on, "--at")
        events = _ombudsman_events(repo.session, complaint_id)
        open_referral = _latest(events, REFERRED)
        decided = _latest(events, DETERMINATION)
        if open_referral is not None and (decided is None or _key(decided) < _key(open_referral)):
            raise OmbudsmanError(
                f"{complaint_id} was already referred on {_day(open_referral).isoformat()} "
                f"(event {open_referral.id}); record its determination first"
            )
        detail = "referred to the Housing Ombudsman" + (f" (ref {ref})" if ref else "")
        payload = {"ombudsman_ref": ref} if ref else {}
        return _write(services, repo.session, complaint_id, on, REFERRED, detail, payload, by)


def determined(
    services: Services,
    complaint_id: str,
    on: date,
    finding: str,
    by: Actor,
    orders: Sequence[Order] = (),
    compensation_pence: int = 0,
) -> int:
    """Record the Ombudsman's determination of the case; returns the event id."""
    finding = finding_named(finding)
    if len(orders) > MAX_ORDERS:
        raise OmbudsmanError(f"{len(orders)} orders; at most {MAX_ORDERS}")
    if not 0 <= compensation_pence <= MAX_COMPENSATION_PENCE:
        raise OmbudsmanError(
            f"--compensation: {_pounds(compensation_pence)} is not a sum the Ombudsman orders"
        )
    for number, order in enumerate(orders, 1):
        if order.due < on:
            raise OmbudsmanError(
                f"order {number} is due {order.due.isoformat()}, before the determination on {on.isoformat()}"
            )
    with services.store.transaction() as repo:
        complaint = _writable_case(repo.session, complaint_id)
        _check_day(services, complaint, on, "--at")
        events = _ombudsman_events(repo.session, complaint_id)
        referral = _latest(events, REFERRED)
        if referral is not None and on < _day(referral):
            raise OmbudsmanError(
                f"--at {on.isoformat()} is before the referral on {_day(referral).isoformat()} "
                f"(event {referral.id})"
            )
        earlier = _latest(events, DETERMINATION)
        parts = [f"Housing Ombudsman determination: {finding}", f"{len(orders)} order(s)"]
        if compensation_pence:
            parts.append(f"{_pounds(compensation_pence)} compensation ordered")
        if earlier is not None:
            parts.append(f"replaces the determination of {_day(earlier).isoformat()} (event {earlier.id})")
        payload = {
            "finding": finding,
            "orders": [{"what": order.what, "due": order.due.isoformat()} for order in orders],
            "compensation_pence": compensation_pence,
        }
        return _write(services, repo.session, complaint_id, on, DETERMINATION, "; ".join(parts), payload, by)


def order_complied(services: Services, complaint_id: str, order: int, on: date, by: Actor) -> int:
    """Record that order number ``order`` (from 1) of the case's determination was
    complied with on ``on``; returns the event id."""
    with services.store.transaction() as repo:
        complaint = _writable_case(repo.session, complaint_id)
        _check_day(services, complaint, on, "--at")
        events = _ombudsman_events(repo.session, complaint_id)
        determination = _latest(events, DETERMINATION)
        if determination is None:
            raise OmbudsmanError(f"{complaint_id} has no Ombudsman determination recorded")
        orders = _payload(determination).get("orders") or []
        if not 1 <= order <= len(orders):
            raise OmbudsmanError(
                f"--order {order}: the determination of {_day(determination).isoformat()} has "
                f"{len(orders)} order(s)"
            )
        if on < _day(determination):
            raise OmbudsmanError(
                f"--at {on.isoformat()} is before the determination on {_day(determination).isoformat()}"
            )
        done = next(
            (e for e in events if e.kind == ORDER_COMPLIED and _complies(e) == (determination.id, order)),
            None,
        )
        if done is not None:
            raise OmbudsmanError(
                f"order {order} was already complied with on {_day(done).isoformat()} (event {done.id})"
            )
        due = date.fromisoformat(str(orders[order - 1].get("due")))
        timing = "in time" if on <= due else f"late: due {due.isoformat()}"
        detail = f"Ombudsman order {order} complied with ({timing}; determination event {determination.id})"
        payload = {"ref": str(determination.id), "order": order}
        return _write(services, repo.session, complaint_id, on, ORDER_COMPLIED, detail, payload, by)


# -- reading -----------------------------------------------------------------------------------------


def determinations(services: Services, first_day: date, last_day: date) -> list[OmbudsmanDetermination]:
    """The cases the Ombudsman determined between ``first_day`` and ``last_day`` (UK
    dates, both included), each by its latest determination, in date then case order.
    An order counts as complied with in time when compliance was recorded on or before
    its due date."""
    from sqlalchemy import select

    from mailroom.store.schema import Event

    start, end = _start_of(first_day), _start_of(date.fromordinal(last_day.toordinal() + 1))
    with services.store.transaction() as repo:
        session = repo.session
        # Every case's latest determination (a later one outside the period replaces it).
        latest: dict[str, Event] = {}
        query = select(Event).where(Event.kind == DETERMINATION, Event.complaint_id.is_not(None))
        for event in session.scalars(query.order_by(Event.at, Event.id)):
            latest[str(event.complaint_id)] = event
        chosen = {cid: e for cid, e in latest.items() if start <= e.at < end}
        complied: dict[tuple[int, int], date] = {}
        ids = sorted(chosen)
        for at in range(0, len(ids), CHUNK):
            rows = session.scalars(
                select(Event).where(
                    Event.kind == ORDER_COMPLIED, Event.complaint_id.in_(ids[at : at + CHUNK])
                )
            )
            for event in rows:
                key = _complies(event)
                if key is not None:
                    complied[key] = min(complied.get(key, _day(event)), _day(event))
        found = [_determination(cid, event, complied) for cid, event in chosen.items()]
    return sorted(found, key=lambda d: (d.determined_on, d.complaint_id))


def _determination(
    complaint_id: str, event: Event, complied: dict[tuple[int, int], date]
) -> OmbudsmanDetermination:
    payload = _payload(event)
    orders = [o for o in payload.get("orders") or [] if isinstance(o, dict)]
    in_time = 0
    for number, order in enumerate(orders, 1):
        done = complied.get((event.id, number))
        try:
            due = date.fromisoformat(str(order.get("due")))
        except ValueError:
            continue
        if done is not None and done <= due:
            in_time += 1
    pence = payload.get("compensation_pence")
    return OmbudsmanDetermination(
        complaint_id=complaint_id,
        determined_on=_day(event),
        finding=str(payload.get("finding") or ""),
        orders=len(orders),
        orders_complied_in_time=in_time,
        compensation_pence=pence if isinstance(pence, int) and not isinstance(pence, bool) else 0,
    )


# -- helpers -------------------------------------------------------------------------------------------


def _writable_case(session: Session, complaint_id: str) -> Complaint:
    from mailroom.records.erased import erased_refusal
    from mailroom.records.retention_store import locked_complaint

    complaint = locked_complaint(session, complaint_id)
    if complaint is None:
        raise OmbudsmanError(f"no complaint {complaint_id}")
    erased = erased_refusal(complaint)
    if erased is not None:
        raise OmbudsmanError(f"{erased}: nothing more can be recorded on it")
    return complaint


def _check_day(services: Services, complaint: Complaint, on: date, option: str) -> None:
    today = services.clock.now().astimezone(LONDON).date()
    if on > today:
        raise OmbudsmanError(f"{option} {on.isoformat()} is in the future")
    received = complaint.received_at.astimezone(LONDON).date()
    if on < received:
        raise OmbudsmanError(
            f"{option} {on.isoformat()} is before the complaint was received ({received.isoformat()})"
        )


def _ombudsman_events(session: Session, complaint_id: str) -> list[Event]:
    from sqlalchemy import select

    from mailroom.store.schema import Event

    query = select(Event).where(Event.complaint_id == complaint_id, Event.kind.in_(KINDS))
    return list(session.scalars(query.order_by(Event.at, Event.id)))


def _write(
    services: Services,
    session: Session,
    complaint_id: str,
    on: date,
    kind: str,
    detail: str,
    payload: dict[str, Any],
    by: Actor,
) -> int:
    from mailroom.accounts.audit import record
    from mailroom.store.schema import Event

    who = f" (recorded by {by.email})" if by.email else ""
    event = Event(
        at=_start_of(on),
        kind=kind,
        detail=detail + who,
        complaint_id=complaint_id,
        payload=json.dumps(payload, sort_keys=True) if payload else "",
    )
    session.add(event)
    session.flush()
    action = f"case.{kind}"
    record(
        session, services.clock.now(), by, action, complaint_id=complaint_id,
        target=f"case {complaint_id}", detail=f"{on.isoformat()}: {detail}",
    )  # fmt: skip
    return event.id


def _latest(events: list[Event], kind: str) -> Event | None:
    return next((event for event in reversed(events) if event.kind == kind), None)


def _key(event: Event) -> tuple[datetime, int]:
    return event.at, event.id


def _complies(event: Event) -> tuple[int, int] | None:
    """(determination event id, order number) a compliance event names."""
    payload = _payload(event)
    try:
        return int(payload["ref"]), int(payload["order"])
    except (KeyError, TypeError, ValueError):
        return None


def _payload(event: Event) -> dict[str, Any]:
    try:
        data = json.loads(event.payload or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), LONDON)


def _day(event: Event) -> date:
    return event.at.astimezone(LONDON).date()


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def _show(text: str) -> str:
    shown = " ".join(text.split())
    return repr(shown if len(shown) <= 60 else shown[:57] + "...")
