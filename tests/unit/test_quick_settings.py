"""The quick read of settings (mailroom/config_sources.py) and the fingerprints of
inputs that passed validation (mailroom/known_good.py): a listing skips pydantic
only for settings that validated before, and reads the same values as full
validation would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailroom import known_good
from mailroom.cli_common import check_rule_pack, quick_settings
from mailroom.config import ConfigError, load_settings
from mailroom.config_sources import SECTIONS, read_quick, read_sources
from mailroom.domain.deadlines import RulePackError


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("MAILROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MAILROOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailroom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sections_are_the_settings_fields() -> None:
    from mailroom.config import Settings

    assert tuple(Settings.model_fields) == SECTIONS


@pytest.mark.parametrize(
    "text",
    [
        "",
        '[storage]\nroot = "/srv/complaints"\n',
        '[database]\nurl = "postgresql+psycopg://app@db/complaints"\n',
        '[calendar]\nregion = "scotland"\nclosure_days = [2026-12-29]\n'
        "[policy]\nclocks = {stage1_response = 8}\n",
    ],
)
def test_the_quick_read_gives_what_full_validation_gives(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    full = load_settings(path)
    quick = read_quick(read_sources(path))
    assert quick is not None
    assert quick.database_url == full.database_url
    assert quick.rule_pack == full.policy.rule_pack
    assert quick.clocks == full.policy.clocks
    assert quick.region is full.calendar.region
    assert list(quick.closure_days) == full.calendar.closure_days


def test_the_environment_wins_in_the_quick_read_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROOM_DATABASE__URL", "postgresql+psycopg://app@elsewhere/complaints")
    path = write(tmp_path, '[database]\nurl = "postgresql+psycopg://app@db/complaints"\n')
    quick = read_quick(read_sources(path))
    assert quick is not None and quick.database_url == load_settings(path).database_url


@pytest.mark.parametrize(
    "text",
    [
        "[storage]\nroot = 7\n",
        '[calendar]\nregion = "wales"\n',
        '[policy]\nclocks = {stage1_response = "eight"}\n',
        '[calendar]\nclosure_days = ["tomorrow"]\n',
    ],
)
def test_a_key_that_is_not_plainly_valid_is_left_to_full_validation(tmp_path: Path, text: str) -> None:
    assert read_quick(read_sources(write(tmp_path, text))) is None


def test_settings_invalid_elsewhere_are_refused_though_the_quick_keys_are_fine(tmp_path: Path) -> None:
    good = write(tmp_path, '[storage]\nroot = "s"\n')
    quick_settings(good)  # validated and remembered
    bad = write(tmp_path, '[storage]\nroot = "s"\n[imap]\nport = "x"\n')
    with pytest.raises(ConfigError, match=r"imap\.port"):
        quick_settings(bad)


def test_settings_are_fingerprinted_after_they_validate_and_not_before(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\nroot = "s"\n[imap]\nport = "x"\n')
    fingerprint = known_good.settings_fingerprint(read_sources(path))
    with pytest.raises(ConfigError):
        quick_settings(path)
    assert not known_good.seen(fingerprint)
    path.write_text('[storage]\nroot = "s"\n', encoding="utf-8")
    quick_settings(path)
    assert known_good.seen(known_good.settings_fingerprint(read_sources(path)))


def test_a_secret_changes_the_fingerprint_but_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("MAILROOM_IMAP__PASSWORD", "hunter2-not-in-the-cache")
    one = known_good.settings_fingerprint(read_sources(path))
    quick_settings(path)
    monkeypatch.setenv("MAILROOM_IMAP__PASSWORD", "another")
    assert known_good.settings_fingerprint(read_sources(path)) != one
    for file in (tmp_path / "cache").iterdir():
        assert "hunter2" not in file.read_text(encoding="utf-8")


def test_a_laxer_policy_is_refused_every_time(tmp_path: Path) -> None:
    for _ in range(2):  # never remembered as good
        with pytest.raises(RulePackError, match="laxer"):
            check_rule_pack(None, {"stage1_response": 15})


def test_a_rule_pack_is_parsed_once_then_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailroom import rule_pack_source

    parsed: list[object] = []
    real = rule_pack_source.load_pack

    def counting(*args: object) -> object:
        parsed.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rule_pack_source, "load_pack", counting)
    check_rule_pack(None, {"stage1_response": 8})
    check_rule_pack(None, {"stage1_response": 8})
    assert len(parsed) == 1
    check_rule_pack(None, {"stage1_response": 9})  # other clocks: parsed again
    assert len(parsed) == 2
