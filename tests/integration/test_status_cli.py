"""`mailroom status` in every state it reports: healthy, an auth incident, a stale
source, a failed outbox row, no scheduler leader, and the leader held by a running
`mailroom run`; and the desk's /healthz and /readyz."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from mailroom.cli import app
from mailroom.cli_common import out
from mailroom.clock import FixedClock, SystemClock
from mailroom.config import load_settings
from mailroom.desk.app import create_app
from mailroom.locks import deployment_lock
from mailroom.outbound import enqueue
from mailroom.services import build_services
from mailroom.status_cli import StatusUnavailable
from mailroom.store.schema import MailboxHealth, OutboxMessage
from tests.support.harness import mailroom_command
from tests.support.smtp import free_port

SOURCE = "maildir:files"  # the Maildir source's health name
HOLDS = "this process holds the scheduler lock"
runner = CliRunner()


def write_config(tmp_path: Path, db_url: str) -> Path:
    maildir = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    config = tmp_path / "mailroom.toml"
    config.write_text(
        "\n".join(
            [
                "[storage]",
                f'root = "{tmp_path / "storage"}"',
                "[database]",
                f'url = "{db_url}"',
                "[maildir]",
                f'path = "{maildir}"',
                "[worker]",
                "progress = false",
                "[imap]",
                "poll_interval_seconds = 0.5",
                "[reminders]",
                'officer_addresses = ["team@landlord.example"]',
                "[health]",
                'admin_addresses = ["it@landlord.example"]',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


class Deployment:
    """A deployment's config and store, with ways to put it in each state."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.services = build_services(load_settings(config), SystemClock())
        self._held = ExitStack()

    def health(self, source: str = SOURCE, **values: Any) -> None:
        now = datetime.now(UTC)
        row = {"last_success_at": now, "last_error": "", "consecutive_failures": 0, "incident": ""}
        with self.services.store.transaction() as repo:
            repo.session.merge(MailboxHealth(source=source, **{**row, **values}))

    def hold_leader(self) -> None:
        root = self.services.storage.root / ".locks"
        assert self._held.enter_context(deployment_lock(self.services.store.engine, root))

    def status(self, *args: str) -> tuple[int, Any]:
        # A wide terminal: rich folds table cells to fit, which would split the text checked.
        # The console is made once per process (cli_common.out): made again here, so it
        # reads this COLUMNS and not the width of whichever test made it first.
        out.cache_clear()
        try:
            command = ["status", "--config", str(self.config), *args]
            result = runner.invoke(app, command, env={"COLUMNS": "400"})
        finally:
            out.cache_clear()
        if "--json" in args:
            return result.exit_code, json.loads(result.stdout)
        return result.exit_code, result.stdout

    def close(self) -> None:
        self._held.close()
        self.services.store.engine.dispose()


@pytest.fixture
def deployment(tmp_path: Path, sqlite_url: str) -> Iterator[Deployment]:
    made = Deployment(write_config(tmp_path, sqlite_url))
    yield made
    made.close()


def test_healthy(tmp_path: Path, db_url: str) -> None:
    deployment = Deployment(write_config(tmp_path, db_url))
    try:
        deployment.health()
        deployment.health("sweep:reminders")
        deployment.health("outbound:smtp")
        deployment.hold_leader()
        code, found = deployment.status("--json")
        text_code, text = deployment.status()
    finally:
        deployment.close()
    assert (code, text_code) == (0, 0), found
    assert found["needs_person"] is False and found["problems"] == []
    [source] = found["sources"]
    assert (source["name"], source["state"], source["consecutive_failures"]) == (SOURCE, "ok", 0)
    assert [transport["state"] for transport in found["transports"]] == ["ok"]
    assert found["scheduler_leader"]["held"] is True
    assert found["last_sweep"]["at"] is not None
    assert found["outbox"] == {
        "pending": 0,
        "sending": 0,
        "failed": 0,
        "oldest_pending_at": None,
        "oldest_pending_seconds": None,
    }
    assert "All well." in text and "Scheduler leader: held" in text


def _auth_incident(deployment: Deployment) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    deployment.health(
        last_error="imap login failed for c@mail.example: [AUTHENTICATIONFAILED] Authentication failed.",
        last_error_at=since,
        consecutive_failures=3,
        incident="auth",
        incident_since=since,
        alerted_at=since,
    )


def _stale(deployment: Deployment) -> None:
    deployment.health(last_success_at=datetime.now(UTC) - timedelta(days=10))


def _failed_outbox_row(deployment: Deployment) -> None:
    deployment.health()
    with deployment.services.store.transaction() as repo:
        for key in ("letter:1", "letter:2"):
            enqueue(
                repo,
                dedupe_key=key,
                sender="complaints@landlord.example",
                recipients=["tenant@example.org"],
                subject="Your complaint",
                body_text="...",
                now=datetime.now(UTC) - timedelta(minutes=90),
            )
        repo.session.execute(
            update(OutboxMessage).where(OutboxMessage.dedupe_key == "letter:2").values(status="failed")
        )


@pytest.mark.parametrize(
    ("state", "arrange", "problem"),
    [
        ("auth", _auth_incident, f"{SOURCE}: authentication failure since"),
        ("stale", _stale, f"{SOURCE}: no successful poll since"),
        ("ok", _failed_outbox_row, "outbox: 1 mail(s) failed for good"),
    ],
)
def test_a_state_that_needs_a_person_exits_1(
    deployment: Deployment, state: str, arrange: Any, problem: str
) -> None:
    arrange(deployment)
    deployment.hold_leader()
    code, found = deployment.status("--json")
    assert code == 1
    assert found["needs_person"] is True
    [source] = found["sources"]
    assert source["state"] == state
    [reported] = found["problems"]
    assert reported.startswith(problem), reported
    text_code, text = deployment.status()
    assert text_code == 1 and "Needs a person:" in text and problem in text


def test_the_outbox_backlog_is_counted(deployment: Deployment) -> None:
    _failed_outbox_row(deployment)
    deployment.hold_leader()
    _, found = deployment.status("--json")
    backlog = found["outbox"]
    assert (backlog["pending"], backlog["sending"], backlog["failed"]) == (1, 0, 1)
    assert 90 * 60 <= backlog["oldest_pending_seconds"] < 95 * 60


def test_no_leader_while_sources_are_configured_exits_1(deployment: Deployment) -> None:
    deployment.health()
    code, found = deployment.status("--json")
    assert code == 1
    assert found["scheduler_leader"]["held"] is False
    assert found["problems"] == [
        "scheduler: no `mailroom run` holds the scheduler lock; nothing polls or sends"
    ]


def test_what_status_prints_is_shown_not_obeyed(deployment: Deployment) -> None:
    deployment.health(
        last_error="imap scan failed: \x1b[2J\x1b]8;;https://evil.example\x07[bold red]x[/] \u202eevil",
        consecutive_failures=1,
        last_error_at=datetime.now(UTC),
    )
    deployment.hold_leader()
    code, text = deployment.status()
    assert code == 0
    assert "\x1b" not in text and "\u202e" not in text
    assert "␛[2J" in text and "[bold red]x[/]" in text and "<U+202E>" in text


def test_a_database_that_does_not_answer_is_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql://mailroom@127.0.0.1:9/nothing")
    result = runner.invoke(app, ["status", "--config", str(config)])
    assert isinstance(result.exception, StatusUnavailable)
    assert result.exception.exit_code == 2
    assert "\n" not in str(result.exception)


def status_of(config: Path) -> tuple[int, Any]:
    result = runner.invoke(app, ["status", "--config", str(config), "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_the_leader_is_a_running_mailroom_run(tmp_path: Path, sqlite_url: str) -> None:
    """(On PostgreSQL, test_healthy finds the advisory lock in pg_locks.)"""
    config = write_config(tmp_path, sqlite_url)
    with config.open("a", encoding="utf-8") as more:  # only the jobs that status reports on
        for job in ("drafts", "calendar", "outbox"):
            more.write(f"[scheduler.jobs.{job}]\nenabled = false\n")
    Deployment(config).close()  # the database made here: the run starts sooner
    process = subprocess.Popen(
        mailroom_command(config, "run"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any(HOLDS in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, lines
            time.sleep(0.05)

        # The jobs run once at start: the mailbox pass and the sweep are recorded soon after.
        def recorded(found: Any) -> bool:
            return bool(found["sources"][0]["state"] != "never polled" and found["last_sweep"]["at"])

        code, found = status_of(config)
        while not recorded(found) and time.monotonic() < deadline:
            time.sleep(0.1)
            code, found = status_of(config)
        assert code == 0, (found, lines)
        assert found["scheduler_leader"]["held"] is True
        assert found["sources"][0]["state"] == "ok"
        assert found["last_sweep"]["at"] is not None
    finally:
        process.terminate()
        process.wait(timeout=60)
    code, found = status_of(config)
    assert code == 1 and found["scheduler_leader"]["held"] is False  # the lock went with the process


# -- the desk: /healthz and /readyz -----------------------------------------------------------------


@pytest.fixture
def desk(deployment: Deployment) -> Any:
    services = build_services(deployment.services.settings, FixedClock(datetime.now(UTC)))
    made = create_app(services=services)
    made.testing = True
    yield made.test_client()
    services.store.engine.dispose()


def test_healthz_is_alive_without_the_database(deployment: Deployment, desk: Any) -> None:
    deployment.services.store.engine.dispose()
    response = desk.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_the_sources_are_healthy_and_503_when_one_needs_a_person(
    deployment: Deployment, desk: Any
) -> None:
    deployment.health()
    ready = desk.get("/readyz")
    assert ready.status_code == 200
    assert ready.headers["Cache-Control"] == "no-store"
    assert ready.get_json() == {
        "status": "ready",
        "database": "ok",
        "sources": {"total": 1, "needing_a_person": 0, "states": {"ok": 1}},
        "transports": {"total": 0, "needing_a_person": 0, "states": {}},
    }

    _auth_incident(deployment)
    not_ready = desk.get("/readyz")
    assert not_ready.status_code == 503
    body = not_ready.get_data(as_text=True)
    assert json.loads(body)["sources"] == {"total": 1, "needing_a_person": 1, "states": {"auth": 1}}
    for private in ("mail.example", "maildir", "AUTHENTICATIONFAILED", "files"):
        assert private not in body  # no mailbox, address or error text to a stranger


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}"))
    services = build_services(settings, SystemClock())
    client = create_app(services=services).test_client()
    (tmp_path / "db.sqlite").unlink()
    (tmp_path / "db.sqlite").mkdir()  # the database is gone and cannot be created again
    services.store.engine.dispose()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "database": "unreachable"}


def test_run_once_records_each_source_and_the_sweep(deployment: Deployment) -> None:
    ran = runner.invoke(app, ["run", "--once", "--config", str(deployment.config)])
    assert ran.exit_code == 0, ran.output
    deployment.hold_leader()
    code, found = deployment.status("--json")
    assert code == 0, found
    [source] = found["sources"]
    assert (source["name"], source["state"]) == (SOURCE, "ok")
    assert found["last_sweep"]["at"] is not None


def test_reminders_send_by_hand_is_recorded_like_the_scheduler_s_sends(deployment: Deployment) -> None:
    with deployment.config.open("a", encoding="utf-8") as more:  # an SMTP server that is down
        more.write(
            f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\n'
            'sender = "complaints@landlord.example"\n'
        )
    with deployment.services.store.transaction() as repo:
        enqueue(
            repo,
            dedupe_key="letter:1",
            sender="complaints@landlord.example",
            recipients=["tenant@example.org"],
            subject="Your complaint",
            body_text="...",
            now=datetime.now(UTC) - timedelta(minutes=5),
        )
    sent = runner.invoke(app, ["reminders", "send", "--config", str(deployment.config)])
    assert sent.exit_code == 0 and "retrying 1" in sent.output, sent.output
    with deployment.services.store.transaction() as repo:
        row = repo.session.get(MailboxHealth, "outbound:smtp")
        assert row is not None and row.consecutive_failures == 1 and row.last_success_at is None
        assert "Connect" in row.last_error or "refused" in row.last_error.lower(), row.last_error
