"""The example deployment files in docs/deployment/ stay runnable as written:
the systemd units parse and start the right commands hardened, and the compose
file and Dockerfile name the commands that exist."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from mailroom.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "deployment"
HARDENING = ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome", "ReadWritePaths", "UMask")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((EXAMPLES / name).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize(
    ("name", "command"), [("mailroom-worker.service", "run"), ("mailroom-desk.service", "web")]
)
def test_the_systemd_units_start_mailroom_hardened(name: str, command: str) -> None:
    unit = _unit(name)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    argv = service["ExecStart"].split()
    assert argv[0].startswith("/") and argv[0].endswith("/mailroom") and argv[1] == command
    assert service["User"] == "mailroom"
    for key in HARDENING:
        assert key in service, key
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_compose_file_runs_postgresql_workers_and_desks_with_commands_that_exist() -> None:
    text = (EXAMPLES / "compose.yaml").read_text(encoding="utf-8")
    assert "\t" not in text  # YAML forbids tabs
    services = re.findall(r"^  ([a-z]+):$", text.split("\nservices:\n")[1].split("\nvolumes:\n")[0], re.M)
    assert services == ["postgres", "worker", "desk"]
    commands = {name for name in re.findall(r'command: \["(\w+)"', text)}
    assert commands == {"run", "web"}
    known = set()
    for command in app.registered_commands:
        known.add(command.name or (command.callback.__name__ if command.callback else ""))
    assert commands | {"status", "init"} <= known
    assert "dockerfile: docs/deployment/Dockerfile" in text
    dockerfile = (EXAMPLES / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "mailroom"]' in dockerfile
