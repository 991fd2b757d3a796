"""A late letter says sorry (issue 15, item 5), end to end through the use cases:
an acknowledgement drafted after the acknowledgement clock's stored deadline
carries the landlord policy's own apology (``[timeliness] delay_apology``, with
``{due}`` filled in), passes the check and is issued with it; the same letter
with the apology deleted in Word fails the check on ``delay_apology`` and cannot
be approved; an acknowledgement on time has neither the apology nor the element,
and one drafted on time but approved after the deadline goes out with it.

The checker alone is tested in tests/integration/test_letter_accessibility.py."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import docx
import pytest
from docx.text.paragraph import Paragraph

from mailroom.clock import LONDON, FixedClock
from mailroom.letters.check import CheckResult
from mailroom.letters.docx_text import normalise_text, read_docx_text
from mailroom.letters.drafts import approve, check_file, draft, list_letters, long_date, replace
from mailroom.letters.pack import LetterError
from mailroom.letters.types import LetterType
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, log, sample_fields, uk

ACK = LetterType.STAGE1_ACKNOWLEDGEMENT
CLOCK = "stage1_acknowledgement"
# The landlord's own words, unlike the shipped default, so the letter can only have
# them from the setting.
APOLOGY = "Please forgive us: this letter should have reached you by {due}. It is late, and we regret that."


def _services(storage: Path, url: str, clock: FixedClock) -> Services:
    return build_services(
        make_settings(
            storage,
            url,
            policy={"landlord_file": LANDLORD_FILE},  # approval needs a landlord the resident can reach
            timeliness={"delay_apology": APOLOGY},
        ),
        clock,
    )


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    built = _services(tmp_path / "storage", sqlite_url, clock)
    yield built
    built.store.engine.dispose()


def received_case(services: Services) -> tuple[str, date, datetime]:
    """A complaint received on Monday 16 November 2026 and not acknowledged: its
    acknowledgement clock's stored due date and the instant that clock lapses."""
    complaint_id = log(services, uk(date(2026, 11, 16), 9))
    with services.store.transaction() as repo:
        (row,) = [d for d in repo.deadlines_of_case(complaint_id) if d.clock == CLOCK]
        assert row.stopped_at is None
        return complaint_id, row.due, row.lapses_at


def let_lapse(clock: FixedClock, due: date, lapses_at: datetime) -> date:
    """Move the clock past the stored deadline, to a working morning; the day it is."""
    clock.set(lapses_at + timedelta(hours=10))
    today = clock.now().astimezone(LONDON).date()
    assert today > due
    return today


def wording(due: date) -> str:
    return APOLOGY.replace("{due}", long_date(due))


def statuses(check: CheckResult) -> dict[str, str]:
    return {e.id: e.status for e in check.elements}


def flat(text: str) -> str:
    return " ".join(normalise_text(text).split())


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return flat(" ".join(page.extract_text() for page in PdfReader(str(path)).pages))


def without_apology(source: Path, target: Path, instead: str | None = None) -> None:
    """What staff do in Word: delete the apology paragraph (or reword it as ``instead``)."""
    document = docx.Document(io.BytesIO(source.read_bytes()))
    found = [p for p in document.paragraphs if APOLOGY.split(":")[0] in normalise_text(p.text)]
    assert len(found) == 1
    paragraph: Paragraph = found[0]
    if instead is None:
        element = paragraph._p
        element.getparent().remove(element)
    else:
        paragraph.text = instead
    document.save(str(target))


def test_a_late_acknowledgement_carries_the_policys_apology_and_is_issued_with_it(
    services: Services, clock: FixedClock
) -> None:
    complaint_id, due, lapses_at = received_case(services)
    assert due == date(2026, 11, 23)  # 5 working days after Monday 16 November (6.2)
    let_lapse(clock, due, lapses_at)
    result = draft(services, complaint_id, ACK, sample_fields(services, ACK))
    apology = wording(due)
    assert apology == (
        "Please forgive us: this letter should have reached you by Monday 23 November 2026. "
        "It is late, and we regret that."
    )
    assert apology in flat(read_docx_text(result.path).text)
    assert statuses(result.check)["delay_apology"] == "pass"
    assert result.check.passed, [(f.id, f.reason) for f in result.check.failures()]
    with services.store.transaction() as repo:
        (letter,) = repo.letters_of_case(complaint_id)
    assert json.loads(letter.context_json)["delay_apology"] == apology
    # `letters check --case` (the same use case, as of the services' clock) agrees.
    checked = check_file(services, services.settings, result.path, ACK, complaint_id=complaint_id)
    assert checked.passed and statuses(checked)["delay_apology"] == "pass"

    issued = approve(services, result.draft_id, by="jo")
    assert issued.status == "sent"
    assert apology in pdf_text(issued.pdf_path)
    with services.store.transaction() as repo:
        (row,) = [d for d in repo.deadlines_of_case(complaint_id) if d.clock == CLOCK]
    assert row.stopped_at == issued.issued_at and row.missed_at is not None  # late, and said so


def test_a_late_letter_without_the_apology_fails_the_check_and_cannot_be_approved(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    services = _services(tmp_path / "storage", db_url, clock)
    try:
        complaint_id, due, lapses_at = received_case(services)
        let_lapse(clock, due, lapses_at)
        result = draft(services, complaint_id, ACK, sample_fields(services, ACK))
        assert result.check.passed
        edited = tmp_path / "no apology.docx"
        without_apology(result.path, edited)
        assert "forgive" not in read_docx_text(edited).text.lower()

        # `letters replace`: filed as revision 2, the check fails on the apology alone.
        replaced = replace(services, result.draft_id, edited, by="sam.okafor")
        assert replaced.revision == 2
        assert [f.id for f in replaced.check.failures()] == ["delay_apology"]
        (failure,) = replaced.check.failures()
        assert "(23 November 2026)" in failure.reason and "[timeliness] delay_apology" in failure.reason
        (view,) = list_letters(services, complaint_id)
        assert (view["revision"], view["edited"], view["passed"]) == (2, True, False)
        checked = check_file(services, services.settings, edited, ACK, complaint_id=complaint_id)
        assert [f.id for f in checked.failures()] == ["delay_apology"]

        # Approval refuses it in one line naming the element; it stays a draft, nothing issued.
        with pytest.raises(LetterError) as caught:
            approve(services, result.draft_id, by="jo")
        message = str(caught.value)
        assert message.startswith(f"letter {result.draft_id} cannot be approved: the check fails: ")
        assert "delay_apology: " in message and "\n" not in message
        (view,) = list_letters(services, complaint_id)
        assert (view["status"], view["pdf"], view["approved_at"]) == ("draft", None, None)
        with services.store.transaction() as repo:
            kinds = [e.kind for e in repo.events_of_case(complaint_id)]
            (row,) = [d for d in repo.deadlines_of_case(complaint_id) if d.clock == CLOCK]
        assert "stage1_acknowledged" not in kinds and "letter_approved" not in kinds
        assert row.stopped_at is None

        # Staff's own apology instead of the landlord's words is an apology too.
        own = tmp_path / "own words.docx"
        without_apology(result.path, own, instead="We apologise for the delay in writing to you.")
        assert replace(services, result.draft_id, own, by="sam.okafor").check.passed
    finally:
        services.store.engine.dispose()


def test_an_acknowledgement_on_time_has_no_apology_and_gains_it_if_approved_late(
    services: Services, clock: FixedClock
) -> None:
    complaint_id, due, lapses_at = received_case(services)
    assert clock.now().astimezone(LONDON).date() == due  # on the due day itself: on time
    result = draft(services, complaint_id, ACK, sample_fields(services, ACK))
    text = flat(read_docx_text(result.path).text)
    assert "forgive" not in text.lower() and "late" not in text.lower().split()
    assert "delay_apology" not in statuses(result.check)
    assert result.check.passed
    with services.store.transaction() as repo:
        (letter,) = repo.letters_of_case(complaint_id)
    assert json.loads(letter.context_json)["delay_apology"] == ""

    # Nobody approved it that day: issued after the deadline, the unedited draft is
    # re-rendered as of the day of issue, apology included.
    today = let_lapse(clock, due, lapses_at)
    issued = approve(services, result.draft_id, by="jo")
    (view,) = list_letters(services, complaint_id)
    assert view["revision"] == 2 and view["passed"]
    issued_text = pdf_text(issued.pdf_path)
    assert wording(due) in issued_text and long_date(today) in issued_text
