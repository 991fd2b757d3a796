"""Issue 9, item 3: terminal output is data, never markup. Mails whose headers are
full of rich markup, hyperlinks and escape sequences are ingested, then every
human listing runs on a (forced) colour terminal: none crashes, none prints a
live link or an escape sequence from the mail, and the text is shown as sent."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import mailgen

MARKUP = "[/x] [link=https://evil.example/]pay here[/link] [bold red]urgent[/]"


def _encoded(text: str) -> str:
    """An RFC 2047 encoded-word: how a sender gets ESC and bidi controls into a header."""
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


HOSTILE = {
    "subject-markup.eml": mailgen.complaint(1, subject=f"Mould {MARKUP}"),
    "name-markup.eml": mailgen.complaint(
        2, sender='"[link=https://evil.example/]Ann[/link] [/]" <ann2@example.org>'
    ),
    "escape-sequences.eml": mailgen.complaint(
        3, subject=_encoded("Leak \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 \x1b[2J\u202egpj.exe")
    ),
    "emoji-codes.eml": mailgen.complaint(4, subject="Heating :skull: :warning: [on red]"),
}


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f'[storage]\nroot = "{tmp_path / "storage"}"\n[maildir]\npath = ""\n[worker]\nprogress = false\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env.update(FORCE_COLOR="1", COLUMNS="400", MAILROOM_CACHE_DIR=str(tmp_path / "cache"))
    return config, env


def _run(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mailroom", *args, "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _assert_inert(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert "\x1b]8;" not in shown  # no hyperlink escape (OSC 8), from content or rich
    assert "\x1b[2J" not in shown and "\u202e" not in shown  # nothing the mail sent is obeyed
    assert "Traceback" not in shown


def test_markup_and_escapes_in_headers_are_printed_as_text_by_every_listing(
    workspace: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, env = workspace
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, raw in HOSTILE.items():
        (inbox / name).write_bytes(raw)
    ingested = _run(config, env, "ingest", str(inbox))
    _assert_inert(ingested)
    assert "[/x]" in ingested.stdout and "[link=https://evil.example/]pay here[/link]" in ingested.stdout
    assert ":skull:" in ingested.stdout  # not turned into an emoji

    ids = [case["id"] for case in json.loads(_run(config, env, "cases", "list", "--json").stdout)]
    assert len(ids) == len(HOSTILE)
    for args in (
        ("mail", "list"),
        ("cases", "list"),
        ("triage", "list"),
        ("quarantine", "list"),
        ("deadlines",),
        *(("cases", "show", complaint_id) for complaint_id in ids),
    ):
        result = _run(config, env, *args)
        _assert_inert(result)
    shown = _run(config, env, "cases", "list").stdout
    assert "Mould [/x] [link=https://evil.example/]pay" in shown  # the listing cuts subjects at 50
    assert "[link=https://evil.example/]Ann[/link] [/]" in shown  # the complainant, as named


def test_json_output_writes_bidi_and_c1_controls_as_escapes(
    workspace: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, env = workspace
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "escape-sequences.eml").write_bytes(HOSTILE["escape-sequences.eml"])
    assert _run(config, env, "ingest", str(inbox)).returncode == 0
    listed = _run(config, env, "mail", "list", "--json")
    assert listed.returncode == 0
    assert "\u202e" not in listed.stdout and "\x9b" not in listed.stdout


def test_an_error_line_quoting_a_file_name_shows_its_control_characters(
    workspace: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, env = workspace
    result = _run(config, env, "ingest", str(tmp_path / "no\x1b[2Jsuch"))
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "␛[2J" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
