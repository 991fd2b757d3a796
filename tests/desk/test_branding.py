"""The landlord's name and colour on the desk come from the landlord policy file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailroom.clock import FixedClock
from mailroom.desk.app import DEFAULT_COLOUR, create_app
from mailroom.domain.policy import PolicyError, parse_policy
from mailroom.services import build_services
from tests.conftest import make_settings

POLICY = Path(__file__).resolve().parents[2] / "rules" / "policies" / "ongo-2025.toml"


def _with_colour(colour: str) -> str:
    return POLICY.read_text(encoding="utf-8").replace("[landlord]\n", f'[landlord]\ncolour = "{colour}"\n', 1)


def test_the_header_carries_the_landlords_name_and_colour(
    tmp_path: Path, sqlite_url: str, clock: FixedClock
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(_with_colour("#8a1538"), encoding="utf-8")
    settings = make_settings(tmp_path / "storage", sqlite_url, policy={"landlord_file": str(policy)})
    services = build_services(settings, clock)
    client = create_app(services=services).test_client()
    name = parse_policy(policy.read_text(encoding="utf-8")).landlord.name
    assert f">{name} <span" in client.get("/login").get_data(as_text=True)
    assert "--brand: #8a1538;" in client.get("/theme.css").get_data(as_text=True)
    services.store.engine.dispose()


def test_without_a_policy_the_desk_is_neutral(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    services = build_services(make_settings(tmp_path / "storage", sqlite_url), clock)
    client = create_app(services=services).test_client()
    assert f"--brand: {DEFAULT_COLOUR};" in client.get("/theme.css").get_data(as_text=True)
    services.store.engine.dispose()


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#12345g", "#123456;}body{x:y"])
def test_a_colour_that_is_not_rrggbb_is_refused(colour: str) -> None:
    with pytest.raises(PolicyError, match=r"landlord\.colour"):
        parse_policy(_with_colour(colour), "policy.toml")
