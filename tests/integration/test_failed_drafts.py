"""Automatic acknowledgements that failed (issue 8, item 8): listed with the reason,
passed over while nothing changes, and tried again once the pack, a template or the
landlord policy does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import mailroom.letters.drafts as drafts_module
from mailroom.clock import FixedClock
from mailroom.domain.models import Channel
from mailroom.letters.drafts import draft_pending_acknowledgements, failed_drafts, list_letters
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import Services, build_services
from tests.conftest import make_settings

POLICY = Path(__file__).resolve().parents[2] / "rules" / "policies" / "ongo-2025.toml"


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "landlord.toml"
    shutil.copy(POLICY, copy)
    return copy


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, clock: FixedClock, policy_copy: Path) -> Iterator[Services]:
    built = build_services(
        make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": policy_copy}), clock
    )
    yield built
    built.store.engine.dispose()


def test_a_failed_draft_is_listed_and_retried_only_after_its_inputs_change(
    services: Services, policy_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    complaint_id = log_complaint(
        services,
        OtherChannelComplaint(
            Channel.PHONE, datetime(2026, 11, 20, 10, tzinfo=UTC), "Ann", "", "Leak", "Water."
        ),
    )
    real_draft = drafts_module.draft
    attempts: list[str] = []

    def failing(services: Services, case: str, *args: Any, **kwargs: Any) -> Any:
        attempts.append(case)
        raise ValueError("landlord.phone is not set")

    monkeypatch.setattr(drafts_module, "draft", failing)
    assert draft_pending_acknowledgements(services) == 0
    (failed,) = failed_drafts(services)
    assert (failed.complaint_id, failed.reason, failed.retried_next_pass) == (
        complaint_id, "landlord.phone is not set", False
    )  # fmt: skip
    assert draft_pending_acknowledgements(services) == 0
    assert attempts == [complaint_id]  # passed over while nothing changed

    policy_copy.write_text(policy_copy.read_text(encoding="utf-8") + "\n# phone fixed\n", encoding="utf-8")
    assert failed_drafts(services)[0].retried_next_pass is True
    monkeypatch.setattr(drafts_module, "draft", real_draft)
    assert draft_pending_acknowledgements(services) == 1
    assert len(list_letters(services, complaint_id)) == 1
    assert failed_drafts(services) == []
