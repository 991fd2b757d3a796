"""A complaint without Code clocks is an error shown in `cases show` JSON (issue 9),
not a warning on stderr: no deadline or reminder would ever run for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mailroom import other_channels
from mailroom.clock import FixedClock
from mailroom.clocks import deadlines_of
from mailroom.domain.models import Channel
from mailroom.errors import IntakeError
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.reminders import alert_cases_without_clocks
from mailroom.services import Services, build_services
from mailroom.store.schema import OutboxMessage
from mailroom.views import complaint_detail
from tests.conftest import make_settings


def _detail(services: Services, received: datetime) -> dict[str, object]:
    complaint_id = log_complaint(
        services,
        OtherChannelComplaint(Channel.PHONE, received, "Eileen Doherty", "", "Damp", "The damp is back."),
    )
    with services.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        assert complaint is not None
        return complaint_detail(repo, complaint, deadlines_of(services, repo, complaint))


def test_a_complaint_received_outside_the_calendar_shows_an_error(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff can no longer log one (below); a case from before that check still shows it."""
    monkeypatch.setattr(other_channels, "CALENDAR_YEARS", range(1900, 2041))
    detail = _detail(services, datetime(1901, 3, 1, 10, tzinfo=UTC))
    assert detail["deadlines"] == []
    assert detail["error"] == (
        "no Code clocks: received 1901-03-01, outside the working-day calendar; "
        "no deadline or reminder will run for this case"
    )


def test_staff_cannot_log_a_complaint_the_calendar_cannot_count(services: Services) -> None:
    with pytest.raises(IntakeError, match="covers 2020-2040; check the year"):
        _detail(services, datetime(1901, 3, 1, 10, tzinfo=UTC))


def test_a_complaint_with_its_clocks_has_no_error(services: Services) -> None:
    detail = _detail(services, datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert detail["deadlines"] and detail["error"] is None


def test_the_team_is_told_once_of_a_case_without_clocks(
    tmp_path: Path, sqlite_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9: the error reaches the people reminders would, by mail, once."""
    monkeypatch.setattr(other_channels, "CALENDAR_YEARS", range(1900, 2041))
    settings = make_settings(
        tmp_path / "storage",
        sqlite_url,
        reminders={
            "officer_addresses": ["team@landlord.example"],
            "manager_addresses": ["boss@landlord.example"],
        },
        smtp={"sender": "complaints@landlord.example"},
    )
    services = build_services(settings, clock)
    broken = log_complaint(
        services,
        OtherChannelComplaint(Channel.PHONE, datetime(1901, 3, 1, 10, tzinfo=UTC), "Ann", "", "Damp", "."),
    )
    _detail(services, datetime(2026, 11, 20, 10, tzinfo=UTC))  # a case with clocks: no alert
    assert alert_cases_without_clocks(services) == 1
    assert alert_cases_without_clocks(services) == 0  # once
    with services.store.transaction() as repo:
        (mail,) = repo.session.scalars(select(OutboxMessage).where(OutboxMessage.complaint_id == broken))
    assert mail.recipients == "team@landlord.example,boss@landlord.example"
    assert "no Code clocks" in mail.subject and "1901-03-01" in mail.raw.decode()
    services.store.engine.dispose()
