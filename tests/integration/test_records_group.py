"""`storage.records_group` (docs/records.md): a named group may read the records;
without it they are private to mailroom's user."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import pytest

from mailroom.clock import FixedClock
from mailroom.config import ConfigError, Settings
from mailroom.domain.models import Channel
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.services import build_services
from tests.conftest import make_settings


def _with_group(settings: Settings, group: str) -> Settings:
    storage = settings.storage.model_copy(update={"records_group": group})
    return settings.model_copy(update={"storage": storage})


def _log_one(settings: Settings, clock: FixedClock, tmp_path: Path) -> Path:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 letter")
    services = build_services(settings, clock)
    request = OtherChannelComplaint(
        Channel.LETTER, clock.now(), "Ann", "", "Damp", "Letter.", (scan,), "", "1 Road", "post"
    )
    log_complaint(services, request)
    services.store.engine.dispose()
    return settings.storage.root


def test_records_are_private_without_a_group(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    root = _log_one(make_settings(tmp_path / "storage", sqlite_url), clock, tmp_path)
    files = [p for p in root.rglob("*") if p.is_file() and ".locks" not in p.parts]
    assert files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_a_records_group_may_read_what_is_filed(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    group = grp.getgrgid(os.getgid()).gr_name  # one this user belongs to
    settings = _with_group(make_settings(tmp_path / "storage", sqlite_url), group)
    root = _log_one(settings, clock, tmp_path)
    filed = [p for p in root.rglob("*.pdf")]
    assert filed
    for path in filed:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert path.stat().st_gid == os.getgid()
        assert stat.S_IMODE(path.parent.stat().st_mode) & 0o2750 == 0o2750


def test_an_unknown_group_stops_mailroom_with_one_line(
    tmp_path: Path, sqlite_url: str, clock: FixedClock
) -> None:
    settings = _with_group(make_settings(tmp_path / "storage", sqlite_url), "no-such-group-x")
    with pytest.raises(ConfigError, match=r"storage\.records_group: no group named 'no-such-group-x'"):
        build_services(settings, clock)
