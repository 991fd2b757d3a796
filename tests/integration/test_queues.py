"""The desk's work queues (mailroom/queues/) on cases made through the real use cases,
on SQLite and PostgreSQL: an officer sees only their own rows and pages stay right,
each queue holds exactly its rows, due buckets count working days across Christmas,
sorts order, triage guesses rank typed IDs over addresses over subjects, the counts
are the queues' own, and the queue statements read the indexes of 0010."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import Connection, event, select, text

from mailroom.bounces import link_bounces
from mailroom.case_events import ClockEvent, EventDetails, record_event
from mailroom.clock import LONDON, FixedClock
from mailroom.clocks import open_deadlines
from mailroom.config import Settings
from mailroom.domain.ids import case_reference
from mailroom.domain.models import Channel
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import approve, draft, draft_pending_acknowledgements
from mailroom.letters.types import LetterType, field_names
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.outbound import enqueue, send_due
from mailroom.quarantine import retry
from mailroom.queues.buckets import Bucket, due_window
from mailroom.queues.counts import queue_counts
from mailroom.queues.deadlines import deadlines_page
from mailroom.queues.drafts import drafts_page
from mailroom.queues.guesses import guesses, guesses_for
from mailroom.queues.outbox import outbox_page
from mailroom.queues.page import QueueError
from mailroom.queues.post import post_page
from mailroom.queues.quarantine import quarantine_page
from mailroom.queues.tables import DEADLINES
from mailroom.queues.team import team_view
from mailroom.queues.triage import triage_page
from mailroom.services import Services, build_services
from mailroom.staff import assign, save_member
from mailroom.triage import Resolution, resolve
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen
from tests.support.letter_samples import sample_context

ROOT = Path(__file__).resolve().parents[2]
LANDLORD_FILE = ROOT / "rules" / "policies" / "ongo-2025.toml"  # letters need a reachable landlord
ANN, BOB = "ann@landlord.example", "bob@landlord.example"
BIG = 100  # a page size that holds a whole small queue


def uk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def office_settings(root: Path, db_url: str, **extra: dict[str, object]) -> Settings:
    return make_settings(
        root / "storage",
        db_url,
        policy={"landlord_file": LANDLORD_FILE},
        smtp={"sender": "complaints@landlord.example"},
        **extra,
    )


@pytest.fixture
def office(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    services = build_services(office_settings(tmp_path, db_url), clock)
    save_member(services, ANN, "Ann Officer")
    save_member(services, BOB, "Bob Officer")
    save_member(services, "idle@landlord.example", "Ida Idle")
    yield services
    services.store.engine.dispose()


def new_case(
    services: Services,
    received: datetime,
    *,
    officer: str | None = None,
    email: str = "resident@example.org",
    subject: str = "Damp in the bedroom",
    post: bool = False,
) -> str:
    request = OtherChannelComplaint(
        Channel.PHONE,
        received,
        "A Resident",
        email,
        subject,
        "Black mould again.",
        postal_address="1 Harrow Court, Northgate NG1 1AA" if post else "",
        contact_preference="post" if post else "email",
    )
    complaint_id = log_complaint(services, request)
    if officer:
        assign(services, complaint_id, officer)
    return complaint_id


def acknowledgement_fields() -> dict[str, Any]:
    context = sample_context(LetterType.STAGE1_ACKNOWLEDGEMENT)
    return {name: context[name] for name in field_names(LetterType.STAGE1_ACKNOWLEDGEMENT)}


def ingest(services: Services, folder: Path, mails: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    run_once(services, [MaildirSource([folder])])


def all_rows(call: Any, services: Services, **kwargs: Any) -> list[Any]:
    page = call(services, page=1, page_size=BIG, **kwargs)
    assert not page.has_more
    return list(page.rows)


# -- officer restriction and pagination ----------------------------------------------------


def test_an_officer_sees_only_their_own_clocks_page_by_page(office: Services, clock: FixedClock) -> None:
    """Received Mon 16 to Fri 20 November: acknowledgements due Mon 23 to Fri 27 (6.2)."""
    clock.set(uk(date(2026, 11, 23)))
    anns = [new_case(office, uk(date(2026, 11, 16 + n), 9), officer=ANN) for n in range(5)]
    bobs = [new_case(office, uk(date(2026, 11, 17 + n), 9), officer=BOB) for n in range(2)]
    team = new_case(office, uk(date(2026, 11, 18), 9))

    pages = [deadlines_page(office, officer=ANN, page=n, page_size=2) for n in (1, 2, 3)]
    assert [len(page.rows) for page in pages] == [2, 2, 1]
    assert [page.has_more for page in pages] == [True, True, False]
    assert [page.number for page in pages] == [1, 2, 3]
    assert pages[2].total == 5  # the last page knows the count for free
    rows = [row for page in pages for row in page.rows]
    assert [row.complaint_id for row in rows] == anns  # no overlap, no gap, soonest first
    assert [row.due for row in rows] == [date(2026, 11, 23 + n) for n in range(5)]
    assert {(row.clock, row.paragraph, row.officer) for row in rows} == {
        ("stage1_acknowledgement", "6.2", ANN)
    }
    assert deadlines_page(office, officer=ANN, page=1, page_size=2, with_total=True).total == 5
    assert deadlines_page(office, officer=ANN, page=4, page_size=2).rows == ()
    whole = deadlines_page(office, officer=ANN, page=1, page_size=5)  # exactly full: no next page
    assert (len(whole.rows), whole.has_more, whole.total) == (5, False, 5)
    # The address as stored (lower case), however it is typed.
    assert [r.complaint_id for r in all_rows(deadlines_page, office, officer=" Ann@Landlord.Example")] == anns
    assert [r.complaint_id for r in all_rows(deadlines_page, office, officer=BOB)] == bobs
    everyone = all_rows(deadlines_page, office, officer=None)
    assert sorted(r.complaint_id for r in everyone) == sorted([*anns, *bobs, team])
    # A manager's filter by officer, and "" for the team's unassigned cases.
    assert [r.complaint_id for r in all_rows(deadlines_page, office, officer=None, assigned_to="")] == [team]
    assert [r.complaint_id for r in all_rows(deadlines_page, office, officer=ANN, assigned_to=BOB)] == []
    reverse = all_rows(deadlines_page, office, officer=ANN, sort="-due")
    assert [r.complaint_id for r in reverse] == anns[::-1]

    for bad in (
        {"page": 0},
        {"page": 1, "sort": "nonsense"},
        {"page": 1, "bucket": "someday"},
        {"page": 1, "page_size": 0},
    ):
        with pytest.raises(QueueError):
            deadlines_page(office, officer=ANN, **{"page_size": 2, **bad})
    with pytest.raises(QueueError, match="empty address"):
        deadlines_page(office, officer=" ", page=1, page_size=2)


# -- due buckets --------------------------------------------------------------------------


CHRISTMAS_EVE = date(2026, 12, 24)  # Thursday; Fri 25 and Mon 28 (Boxing Day moved) are holidays
PROMISES = {
    date(2026, 12, 23): Bucket.OVERDUE,  # lapsed at midnight
    date(2026, 12, 24): Bucket.TODAY,
    date(2026, 12, 29): Bucket.SOON,  # 1 working day ahead: Fri 25 and Mon 28 are holidays
    date(2026, 12, 30): Bucket.SOON,  # 2 working days ahead (policy.due_soon_working_days)
    date(2026, 12, 31): Bucket.LATER,  # 3 working days ahead, a week of calendar days
}


def promised_cases(services: Services, clock: FixedClock) -> dict[date, str]:
    """One case per date in PROMISES, answered at stage 1 with a remedy promised by that
    date, so the remedy's clock (7.3) is the only one running on it."""
    cases = {}
    for n, until in enumerate(PROMISES):
        clock.set(uk(date(2026, 12, 14), 9))
        complaint_id = new_case(services, uk(date(2026, 12, 14), 9), officer=ANN if n % 2 == 0 else BOB)
        clock.set(uk(date(2026, 12, 17), 12))
        record_event(services, complaint_id, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 12, 15)))
        record_event(services, complaint_id, ClockEvent.STAGE1_RESPONDED, uk(date(2026, 12, 16)))
        details = EventDetails(until=until, what="Repair the window")
        record_event(
            services, complaint_id, ClockEvent.REMEDY_PROMISED, uk(date(2026, 12, 17)), details=details
        )
        cases[until] = complaint_id
    clock.set(uk(CHRISTMAS_EVE))
    return cases


def test_due_buckets_count_working_days_across_christmas(office: Services, clock: FixedClock) -> None:
    cases = promised_cases(office, clock)
    window = due_window(office)
    assert (window.today, window.soon_before) == (CHRISTMAS_EVE, date(2026, 12, 31))
    by_bucket = {
        bucket: [row.complaint_id for row in all_rows(deadlines_page, office, officer=None, bucket=bucket)]
        for bucket in Bucket
    }
    expected = {bucket: [cases[d] for d, b in PROMISES.items() if b is bucket] for bucket in Bucket}
    assert by_bucket == expected
    rows = all_rows(deadlines_page, office, officer=None)
    assert [row.due for row in rows] == sorted(PROMISES)
    assert all(row.clock.startswith("remedy#") and row.paragraph == "7.3" for row in rows)
    # The buckets are the states the CLI's `deadlines` shows, split by day.
    states = {
        Bucket.OVERDUE: "overdue",
        Bucket.TODAY: "due_soon",
        Bucket.SOON: "due_soon",
        Bucket.LATER: "due",
    }
    assert all(row.state == states[row.bucket] for row in rows)
    with office.store.transaction() as repo:
        cli = {(c.id, d.clock, d.state.value) for c, d in open_deadlines(office, repo)}
    assert cli == {(row.complaint_id, row.clock, row.state) for row in rows}
    # An officer's buckets: only their cases.
    anns = [row.complaint_id for row in all_rows(deadlines_page, office, officer=ANN, bucket="soon")]
    assert anns == [cases[date(2026, 12, 29)]]
    # Past midnight the remedy due today has lapsed too.
    clock.set(uk(date(2026, 12, 25), 0, 30))
    overdue = all_rows(deadlines_page, office, officer=None, bucket=Bucket.OVERDUE)
    assert [row.complaint_id for row in overdue] == [cases[date(2026, 12, 23)], cases[CHRISTMAS_EVE]]


def test_the_team_view_and_counts_agree_with_the_deadlines_queue(office: Services, clock: FixedClock) -> None:
    cases = promised_cases(office, clock)
    extra = new_case(office, uk(date(2026, 12, 21), 9))  # the team's: acknowledgement due Wed 30 Dec
    team = {row.officer: row for row in team_view(office)}
    assert list(team) == [ANN, BOB, "idle@landlord.example", None]  # the unassigned last
    ann, bob = team[ANN], team[BOB]
    assert (ann.name, ann.open_cases, ann.overdue, ann.due_today, ann.due_soon) == ("Ann Officer", 3, 1, 0, 1)
    assert (bob.open_cases, bob.overdue, bob.due_today, bob.due_soon) == (2, 0, 1, 1)
    idle, unassigned = team["idle@landlord.example"], team[None]
    assert (idle.open_cases, idle.overdue, idle.due_today, idle.due_soon) == (0, 0, 0, 0)
    assert (unassigned.open_cases, unassigned.overdue, unassigned.due_today, unassigned.due_soon) == (
        1,
        0,
        0,
        1,
    )
    for officer in (None, ANN, BOB):
        counts = queue_counts(office, officer=officer)
        totals = {
            bucket: deadlines_page(
                office, officer=officer, page=1, page_size=5, bucket=bucket, with_total=True
            ).total
            for bucket in (Bucket.OVERDUE, Bucket.TODAY, Bucket.SOON)
        }
        assert (counts.overdue, counts.due_today, counts.due_soon) == tuple(totals.values())
    assert queue_counts(office, officer=None).overdue == 1
    # A closed case leaves the queue, the counts and the team view.
    clock.set(uk(CHRISTMAS_EVE, 11))
    record_event(office, cases[date(2026, 12, 23)], ClockEvent.CLOSED, uk(CHRISTMAS_EVE, 11))
    record_event(office, extra, ClockEvent.CLOSED, uk(CHRISTMAS_EVE, 11))
    assert queue_counts(office, officer=ANN).overdue == 0
    assert {row.officer: row.open_cases for row in team_view(office)}[ANN] == 2
    assert None not in {row.officer for row in team_view(office)}


# -- drafts awaiting review ---------------------------------------------------------------


def test_drafts_awaiting_review_with_the_due_date_they_answer(office: Services, clock: FixedClock) -> None:
    """Acknowledgements due Mon 23 (first) and Fri 27 November (second); the third
    case is acknowledged already, so its draft answers no running clock."""
    clock.set(uk(date(2026, 11, 23), 9))
    first = new_case(office, uk(date(2026, 11, 16), 9), officer=ANN)
    second = new_case(office, uk(date(2026, 11, 20), 9), officer=BOB)
    third = new_case(office, uk(date(2026, 11, 17), 9), officer=ANN)
    passing = draft(office, first, LetterType.STAGE1_ACKNOWLEDGEMENT, acknowledgement_fields())
    assert passing.check.passed
    clock.advance(timedelta(minutes=1))
    late = draft(office, third, LetterType.STAGE1_ACKNOWLEDGEMENT, acknowledgement_fields())
    record_event(office, third, ClockEvent.STAGE1_ACKNOWLEDGED, uk(date(2026, 11, 23), 9))
    clock.advance(timedelta(minutes=1))
    assert draft_pending_acknowledgements(office) == 1  # the second case's, left "TBC": fails its check

    rows = all_rows(drafts_page, office, officer=None)
    assert [row.complaint_id for row in rows] == [first, second, third]  # soonest due first, none last
    assert [row.due for row in rows] == [date(2026, 11, 23), date(2026, 11, 27), None]
    assert [(row.due_clock, row.due_paragraph) for row in rows[:2]] == [("stage1_acknowledgement", "6.2")] * 2
    assert [row.passed for row in rows] == [True, False, True]
    assert rows[1].failing and not rows[0].failing
    assert rows[0].letter_id == passing.draft_id and rows[2].letter_id == late.draft_id
    assert {(row.letter_type, row.revision, row.stage) for row in rows} == {("stage1-acknowledgement", 1, 1)}
    assert [r.complaint_id for r in all_rows(drafts_page, office, officer=None, sort="-due")] == [
        second,
        first,
        third,
    ]
    assert [r.complaint_id for r in all_rows(drafts_page, office, officer=None, sort="created")] == [
        first,
        third,
        second,
    ]
    assert [r.complaint_id for r in all_rows(drafts_page, office, officer=ANN)] == [first, third]
    assert all_rows(drafts_page, office, officer=None, letter_type="stage1-response") == []
    assert (
        len(all_rows(drafts_page, office, officer=None, letter_type=LetterType.STAGE1_ACKNOWLEDGEMENT)) == 3
    )
    with pytest.raises(QueueError, match="no letter type"):
        drafts_page(office, officer=None, page=1, page_size=5, letter_type="postcard")
    page = drafts_page(office, officer=None, page=1, page_size=2)
    assert (len(page.rows), page.has_more) == (2, True)
    assert queue_counts(office, officer=None).drafts == 3
    assert queue_counts(office, officer=BOB).drafts == 1


@pytest.mark.slow
def test_a_letter_for_post_leaves_the_drafts_for_the_post_queue(office: Services, clock: FixedClock) -> None:
    clock.set(uk(date(2026, 11, 23), 9))
    posted = new_case(office, uk(date(2026, 11, 18), 9), officer=ANN, post=True)
    result = draft(office, posted, LetterType.STAGE1_ACKNOWLEDGEMENT, acknowledgement_fields())
    clock.set(uk(date(2026, 11, 23), 11))
    issued = approve(office, result.draft_id, by=ANN)  # LibreOffice makes the PDF
    assert issued.status == "for_post"
    assert all_rows(drafts_page, office, officer=None) == []
    (row,) = all_rows(post_page, office, officer=None)
    assert (row.letter_id, row.complaint_id, row.letter_type) == (
        result.draft_id,
        posted,
        "stage1-acknowledgement",
    )
    assert row.postal_address == "1 Harrow Court, Northgate NG1 1AA" and row.contact_preference == "post"
    assert row.issued_at == uk(date(2026, 11, 23), 11) and row.approved_by == ANN
    assert row.pdf_path.endswith(".pdf") and (office.storage.root / row.pdf_path).is_file()
    assert [r.letter_id for r in all_rows(post_page, office, officer=ANN)] == [result.draft_id]
    assert all_rows(post_page, office, officer=BOB) == []
    assert (queue_counts(office, officer=ANN).to_post, queue_counts(office, officer=BOB).to_post) == (1, 0)


# -- triage and its guesses ---------------------------------------------------------------


def test_triage_lists_unplaced_mail_and_guesses_rank_typed_ids_then_parties_then_subjects(
    office: Services, clock: FixedClock, tmp_path: Path
) -> None:
    """Case A (Ann's resident, by phone), case B (another resident) and case C (by
    email). Mails that reply to C's mail from someone who is not a party to C go to
    triage; what else they carry decides the ranking."""
    clock.set(uk(date(2026, 11, 23), 9))
    a = new_case(
        office, uk(date(2026, 10, 1), 9), email="a.resident@example.org", subject="Damp in the bedroom"
    )
    b = new_case(office, uk(date(2026, 10, 2), 9), email="b.resident@example.org", subject="Broken boiler")
    c_mail = mailgen.complaint(3, sender="Carol <carol@example.net>", message_id="<c1@mail.example.net>")
    ingest(office, tmp_path / "c", {"c.eml": c_mail})
    with office.store.transaction() as repo:
        (c,) = [x.id for x in repo.list_complaints() if x.complainant_email == "carol@example.net"]
    reply_to_c = {"In-Reply-To": "<c1@mail.example.net>"}
    mails = {
        # From A's resident, with B's subject: the party's address beats the subject.
        "1.eml": mailgen.complaint(
            11, sender="a.resident@example.org", subject="Re: Broken boiler", message_id="<m1@x>",
            extra_headers=reply_to_c, body="Any news?",
        ),
        # From A's resident with A's subject, quoting B's reference: the typed ID wins.
        "2.eml": mailgen.complaint(
            12, sender="a.resident@example.org", subject="Re: Damp in the bedroom", message_id="<m2@x>",
            extra_headers=reply_to_c, body=f"Please pass this on to case {case_reference(b)}.",
        ),
        # The same with B's bare ID, no check character: still first.
        "3.eml": mailgen.complaint(
            13, sender="a.resident@example.org", subject="RE: Damp in the bedroom", message_id="<m3@x>",
            extra_headers=reply_to_c, body=f"About {b.lower()}, thanks.",
        ),
        # A stranger quoting B's reference in the subject.
        "4.eml": mailgen.complaint(
            14, sender="stranger@example.com", subject=f"Your complaint {case_reference(b)}",
            message_id="<m4@x>",
        ),
    }  # fmt: skip
    clock.set(uk(date(2026, 11, 23), 10))
    ingest(office, tmp_path / "in", mails)

    rows = all_rows(triage_page, office, officer=None)
    assert len(rows) == 4 and all(row.complaint_id is None for row in rows)
    assert {row.rule for row in rows} == {"thread_by_message_id", "subject_reference"}
    by_subject = {row.subject: row for row in rows}
    assert "not a party" in by_subject[f"Your complaint {case_reference(b)}"].reason
    assert [r.received_at for r in rows] == sorted(r.received_at for r in rows)
    reverse = all_rows(triage_page, office, officer=None, sort="-received")
    assert [r.mail_id for r in reverse] == [r.mail_id for r in rows][::-1]
    assert [r.mail_id for r in all_rows(triage_page, office, officer=None, rule="subject_reference")] == [
        by_subject[f"Your complaint {case_reference(b)}"].mail_id
    ]
    assert all_rows(triage_page, office, officer=ANN) == []  # on no case: not an officer's
    ids = {row.subject: row.mail_id for row in rows}
    first, second, third = (
        ids["Re: Broken boiler"],
        ids["Re: Damp in the bedroom"],
        ids["RE: Damp in the bedroom"],
    )

    ranked = guesses(office, first)
    assert [g.complaint_id for g in ranked] == [c, a, b]  # reply 70, party 60, subject 30
    assert [g.score for g in ranked] == [70, 60, 30]
    assert "replies to a mail on this case" in ranked[0].why
    assert "a.resident@example.org is the complainant on this open case" in ranked[1].why
    assert "same subject" in ranked[2].why
    ranked = guesses(office, second)
    assert [g.complaint_id for g in ranked] == [b, a, c]
    assert ranked[0].score == 150 and case_reference(b) in ranked[0].why
    assert ranked[1].score == 90  # party and same subject together still lose to a typed ID
    ranked = guesses(office, third)
    assert [g.complaint_id for g in ranked][:2] == [b, a]
    assert ranked[0].score == 120 and "without its check character" in ranked[0].why
    assert guesses(office, ids[f"Your complaint {case_reference(b)}"])[0].complaint_id == b
    assert len(guesses(office, first, limit=1)) == 1
    batch = guesses_for(office, [row.mail_id for row in rows], limit=5)
    assert batch == {row.mail_id: guesses(office, row.mail_id) for row in rows}
    with pytest.raises(QueueError):
        guesses(office, 999_999)
    assert queue_counts(office, officer=None).triage == 4
    assert queue_counts(office, officer=ANN).triage == 0
    # Resolved (triage.resolve, as the desk does): it leaves the queue and the count.
    resolve(office, first, Resolution.ATTACH, a, note="the resident's own case")
    assert first not in [row.mail_id for row in all_rows(triage_page, office, officer=None)]
    assert queue_counts(office, officer=None).triage == 3


def test_a_wrong_check_character_is_a_weak_guess(office: Services, clock: FixedClock, tmp_path: Path) -> None:
    clock.set(uk(date(2026, 11, 23), 9))
    b = new_case(office, uk(date(2026, 10, 2), 9), email="b.resident@example.org", subject="Broken boiler")
    right = case_reference(b)
    wrong = right[:-1] + ("X" if right[-1] != "X" else "Y")
    ingest(
        office, tmp_path / "in", {"1.eml": mailgen.complaint(1, subject=f"Re: {wrong}", message_id="<w@x>")}
    )
    (row,) = all_rows(triage_page, office, officer=None)
    assert "no valid check character" in row.reason
    (guess,) = guesses(office, row.mail_id)
    assert (guess.complaint_id, guess.score) == (b, 45) and "may be a typo" in guess.why


# -- quarantine ---------------------------------------------------------------------------


def test_quarantine_lists_held_mail_with_reason_and_attempts(
    office: Services, clock: FixedClock, tmp_path: Path, db_url: str
) -> None:
    clock.set(uk(date(2026, 11, 23), 9))
    small = build_services(
        Settings.model_validate(
            {
                "storage": {"root": tmp_path / "storage", "max_message_bytes": 2000},
                "database": {"url": db_url},
                "maildir": {"path": None},
            }
        ),
        clock,
    )
    try:
        big = mailgen.with_attachment("photo.jpg", b"x" * 5000, "image/jpeg")
        ingest(small, tmp_path / "in", {"big.eml": big, "fine.eml": mailgen.complaint(2)})
        (row,) = all_rows(quarantine_page, office, officer=None)
        assert row.attempts == 1 and "limit" in row.reason and row.size > 2000
        assert row.path.startswith("_quarantine/")
        retry(small, [row.mail_id])  # still over the limit: held, one attempt more
    finally:
        small.store.engine.dispose()
    (again,) = all_rows(quarantine_page, office, officer=None)
    assert (again.mail_id, again.attempts) == (row.mail_id, 2)
    assert all_rows(quarantine_page, office, officer=ANN) == []
    assert queue_counts(office, officer=None).quarantine == 1
    with pytest.raises(QueueError):
        quarantine_page(office, officer=None, page=1, page_size=5, sort="due")


# -- outbox failures and bounces ----------------------------------------------------------


def test_outbox_problems_are_failed_and_bounced_mail(
    office: Services, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(uk(date(2026, 11, 23), 9))
    anns = new_case(office, uk(date(2026, 11, 20), 9), officer=ANN, email="t.nowak@example.net")
    bobs = new_case(office, uk(date(2026, 11, 20), 9), officer=BOB, email="gone@example.org")
    with office.store.transaction() as repo:
        for key, to, case in (("a", "t.nowak@example.net", anns), ("b", "gone@example.org", bobs)):
            mail = {"subject": f"Letter {key}", "body_text": "...", "complaint_id": case}
            enqueue(repo, dedupe_key=f"letter:{key}", sender="complaints@landlord.example",
                    recipients=[to], now=clock.now(), **mail)  # fmt: skip
        bounced_id = repo.outbox_entry("letter:a")[1]  # type: ignore[index]

    async def transport(sender: str, recipients: Any, raw: bytes) -> dict[str, str]:
        if "gone@example.org" in recipients:
            raise aiosmtplib.SMTPResponseException(550, "5.1.1 mailbox unavailable")
        return {}

    send_due(office.store, office.settings.smtp, clock, transport=transport)
    clock.advance(timedelta(hours=1))
    ingest(office, tmp_path / "in", {"bounce.eml": mailgen.delivery_report(original_message_id=bounced_id)})
    assert link_bounces(office).linked == 1

    rows = all_rows(outbox_page, office, officer=None)  # newest first: queued together, so by id
    assert [(row.status, row.complaint_id) for row in rows] == [("failed", bobs), ("bounced", anns)]
    failed, bounced = rows
    assert failed.recipients == ("gone@example.org",) and "550" in (failed.error or "")
    assert failed.report_mail_id is None
    assert "550 5.1.1" in (bounced.error or "") and bounced.sent_at is not None
    with office.store.transaction() as repo:
        report = [m for m in repo.list_mails() if m.rule in ("delivery_report", "auto_submitted")]
    assert bounced.report_mail_id == report[0].id
    assert [r.outbox_id for r in all_rows(outbox_page, office, officer=ANN)] == [bounced.outbox_id]
    assert [r.outbox_id for r in all_rows(outbox_page, office, officer=None, status="failed")] == [
        failed.outbox_id
    ]
    created = [r.outbox_id for r in all_rows(outbox_page, office, officer=None, sort="created")]
    assert created == sorted(created)
    with pytest.raises(QueueError):
        outbox_page(office, officer=None, page=1, page_size=5, status="sent")
    # The officer's notice of the bounce went out fine: it is no problem of the outbox.
    assert queue_counts(office, officer=None).outbox_problems == 2
    assert queue_counts(office, officer=BOB).outbox_problems == 1


# -- the indexes of 0010 -----------------------------------------------------------------------


def test_the_queue_statements_read_their_indexes(office: Services, clock: FixedClock) -> None:
    """The plan of each queue statement names its index: a partial index whose WHERE does
    not match the query's, or a dropped index, fails here before it fails in production.
    PostgreSQL plans with sequential scans priced out (the tables here are tiny). SQLite,
    without statistics, may start a join from the other table, so only its single-table
    statements are checked there; the partial index on deadlines is checked alone."""
    clock.set(uk(date(2026, 11, 23), 9))
    new_case(office, uk(date(2026, 11, 20), 9), officer=ANN)
    postgres = office.store.engine.dialect.name == "postgresql"
    queues: dict[str, Any] = {
        "ix_mails_open_triage_received_at": lambda: triage_page(office, officer=None, page=1, page_size=5),
        "ix_letters_status_issued_at": lambda: post_page(office, officer=None, page=1, page_size=5),
    }
    if postgres:
        queues["ix_deadlines_running_due"] = lambda: deadlines_page(
            office, officer=None, page=1, page_size=5, bucket="soon"
        )
    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    plans = {}
    event.listen(office.store.engine, "before_cursor_execute", capture)
    try:
        for index, run in queues.items():
            statements.clear()
            run()
            plans[index] = _plans(office, statements)
    finally:
        event.remove(office.store.engine, "before_cursor_execute", capture)
    if not postgres:
        window = due_window(office)
        d = DEADLINES.c
        soon = select(d.id).where(d.stopped_at.is_(None), window.clause(Bucket.SOON)).order_by(d.due)
        with office.store.engine.connect() as connection:
            compiled = soon.compile(connection, compile_kwargs={"literal_binds": True})
            found = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        plans["ix_deadlines_running_due"] = "\n".join(str(row) for row in found)
    for index, plan in plans.items():
        assert index in plan, plan


def _plans(services: Services, statements: list[tuple[str, Any]]) -> str:
    raw = services.store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = services.store.engine.dialect.name == "postgresql"
        if postgres:
            cursor.execute("SET enable_seqscan = off")
        lines = []
        for statement, parameters in statements:
            cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters)
            lines += [" ".join(str(part) for part in row) for row in cursor.fetchall()]
        return "\n".join(lines)
    finally:
        raw.rollback()
        raw.close()


def test_no_index_is_declared_without_its_migration(db_url: str, tmp_path: Path) -> None:
    """compare_metadata does not compare a partial index's WHERE: check it here."""
    services = build_services(office_settings(tmp_path, db_url))
    try:
        with services.store.engine.connect() as connection:
            if services.store.engine.dialect.name == "postgresql":
                rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
            else:
                rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
            found = {name: sql or "" for name, sql in rows}
    finally:
        services.store.engine.dispose()
    assert "WHERE (stopped_at IS NULL)" in found["ix_deadlines_running_due"] or (
        "WHERE stopped_at IS NULL" in found["ix_deadlines_running_due"]
    )
    assert (
        found["ix_mails_open_triage_received_at"]
        .rstrip()
        .endswith(("WHERE triage_open", "WHERE triage_open = 1"))
    )
