"""The review desk in a real browser: Debian's chromium driven by Playwright against
`mailroom web` (gunicorn) on a throwaway deployment.

Per pytest-xdist worker (each worker is a session of its own): one deployment in
the worker's basetemp, one SMTP server (aiosmtpd, STARTTLS on a trustme
certificate) on a free port, one `mailroom web` on a free loopback port, one
desk account per role made with `mailroom users add`. Tests share the desk and
make the cases they change themselves (`Desk.new_complaint`), so they never
depend on each other's order. Nothing uses a fixed port, path or process name:
the server is stopped by its own pid, and gunicorn's control socket goes to the
deployment's folder (XDG_RUNTIME_DIR) instead of ~/.gunicorn.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from email import policy as mail_policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trustme
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.deployment import mailroom, new_deployment
from tests.support.smtp import Collector, SmtpServers, free_port

if TYPE_CHECKING:
    from mailroom.services import Services

PASSWORD = "correct horse battery staple"
SENDER = "complaints@landlord.example"
REFUSED = "no.such.mailbox@example.org"  # the test SMTP server answers 550 for it
POLICY = Path(__file__).resolve().parents[2] / "rules" / "policies" / "ongo-2025.toml"
# Role -> (name, email) of the desk account made for it.
PEOPLE: dict[str, tuple[str, str]] = {
    "inbox": ("Ivy Inbox", "inbox@landlord.example"),
    "officer": ("Olu Officer", "officer@landlord.example"),
    "manager": ("Mina Manager", "manager@landlord.example"),
    "records": ("Rhys Records", "records@landlord.example"),
    "admin": ("Ada Admin", "admin@landlord.example"),
}
TIMEOUT_MS = 30_000  # a letter preview or approval may start LibreOffice on a busy machine
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run `make system-deps`", pytrace=False)
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@dataclass
class Desk:
    """One deployment with its desk running: ``url`` is where the browser goes."""

    folder: Path
    config: Path
    url: str
    smtp: Any  # tests.support.smtp.Collector: what the outbox sent
    log: Path  # the server's output, shown when a test fails
    _services: Services | None = None

    @property
    def services(self) -> Services:
        """The use cases on the same settings, in this process: for reading what the
        desk did (quicker than a command per look)."""
        if self._services is None:
            from mailroom.config import load_settings
            from mailroom.services import build_services

            self._services = build_services(load_settings(self.config))
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.store.engine.dispose()

    def run(self, *args: str) -> str:
        """`mailroom ARGS --config ...` as staff would run it; its stdout."""
        done = mailroom(self.config, *args)
        assert done.returncode == 0, f"mailroom {' '.join(args)}: {done.stderr or done.stdout}"
        return done.stdout

    def run_json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def new_complaint(
        self,
        name: str,
        email: str,
        subject: str,
        *,
        received: str = "now",
        description: str = "",
        officer: str | None = None,
        acknowledgement: bool = True,
    ) -> str:
        """A complaint logged by phone (`cases new`), assigned to ``officer`` if given,
        with its automatic stage 1 acknowledgement drafted (`letters draft-pending`)."""
        args = ["cases", "new", "--channel", "phone", "--name", name, "--received", received]
        args += ["--subject", subject, "--logged-by", "browser tests"]
        if email:
            args += ["--email", email]
        if description:
            args += ["--description", description]
        complaint_id = str(self.run_json(*args)["id"])
        if officer is not None:
            self.run("cases", "assign", complaint_id, officer)
        if acknowledgement:
            self.run("letters", "draft-pending")
        return complaint_id

    def letters_of(self, complaint_id: str) -> list[dict[str, Any]]:
        from mailroom.letters.drafts import list_letters

        return list_letters(self.services, complaint_id)

    def events_of(self, complaint_id: str) -> list[str]:
        with self.services.store.transaction() as repo:
            return [event.kind for event in repo.events_of_case(complaint_id)]

    def draft_id(self, complaint_id: str) -> int:
        (letter,) = [x for x in self.letters_of(complaint_id) if x["status"] == "draft"]
        return int(letter["draft_id"])

    def send_outbox(self) -> str:
        """What the worker's outbox job does (`reminders send`: queue reminders due, send the outbox)."""
        return self.run("reminders", "send")

    def mails_to(self, address: str, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in list(self.smtp.messages) if address in str(m["To"])]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _settings(folder: Path, smtp_port: int, ca_file: Path) -> str:
    return (
        # Mail over 64 KiB is quarantined (Scenery's "big" mail): none of the others comes near.
        f'[storage]\nroot = "{folder / "storage"}"\nmax_message_bytes = 65536\n'
        '[maildir]\npath = ""\n'
        f'[policy]\nlandlord_file = "{POLICY}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "starttls"\n'
        f'ca_file = "{ca_file}"\nsender = "{SENDER}"\ntimeout = 10.0\n'
    )


def _server_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env["MAILROOM_CACHE_DIR"] = str(folder / "cache")
    runtime = folder / "run"  # gunicorn's control socket: $XDG_RUNTIME_DIR/gunicorn.ctl
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["DESK_BROWSER_TEST"] = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"  # a tag
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start_web(folder: Path, config: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`mailroom web` on a free loopback port, once /healthz answers. Another
    worker may take the port between the probe and gunicorn's bind: then again."""
    for _attempt in range(5):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "mailroom", "web", "--config", str(config)]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        with log.open("ab") as output:
            server = subprocess.Popen(
                command, env=_server_env(folder), stdout=output, stderr=subprocess.STDOUT, cwd=folder
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            if _healthy(url):
                return server, url
            time.sleep(0.1)
        _stop(server)
    raise AssertionError(f"mailroom web did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # gunicorn: graceful stop
        try:
            server.wait(timeout=25)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _add_people(config: Path, folder: Path) -> None:
    secret = folder / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    for role, (name, email) in PEOPLE.items():
        made = mailroom(
            config, "users", "add", name, "--email", email, "--role", role, "--password-file", str(secret)
        )
        assert made.returncode == 0, made.stderr
    officer_name, officer = PEOPLE["officer"][0], PEOPLE["officer"][1]
    staff = mailroom(config, "staff", "add", officer, "--name", officer_name)
    assert staff.returncode == 0, staff.stderr


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("desk")
    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    servers = SmtpServers(ca)
    try:
        collector, smtp_port = servers(Collector(refuse=(REFUSED,)))
        config = new_deployment(folder, init=False)
        config.write_text(_settings(folder, smtp_port, ca_file), encoding="utf-8")
        initialised = mailroom(config, "init")
        assert initialised.returncode == 0, initialised.stderr
        _add_people(config, folder)
        log = folder / "web.log"
        server, url = _start_web(folder, config, log)
        made = Desk(folder, config, url, collector, log)
        try:
            yield made
        finally:
            made.close()
            _stop(server)
    finally:
        servers.close()


@pytest.fixture(scope="session")
def base_url(desk: Desk) -> str:
    """pytest-playwright's base URL: ``page.goto("/login")`` goes to this worker's desk."""
    return desk.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A failed test's report ends with the server's last lines (a 500 shows why)."""
    report: pytest.TestReport = yield
    desk = getattr(item, "funcargs", {}).get("desk")
    if report.when == "call" and report.failed and isinstance(desk, Desk) and desk.log.exists():
        report.sections.append(("mailroom web (last lines)", desk.log.read_text(errors="replace")[-4000:]))
    return report


def sign_in(page: Page, role: str) -> Page:
    """Through the sign-in form, as a person would."""
    name, email = PEOPLE[role]
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_text(f"{name} ({role})")).to_be_visible()
    return page


@pytest.fixture
def signed_in(page: Page) -> Callable[[str], Page]:
    """``signed_in("officer")``: the test's page, signed in as the person with that role."""

    def make(role: str) -> Page:
        return sign_in(page, role)

    return make


def received_for_due_soon(desk: Desk) -> str:
    """A receipt time (UK, ISO) whose stage 1 acknowledgement clock is due on the next
    working day after today: in the officer's "soon" list, not overdue, whatever today is."""
    from mailroom.clock import LONDON

    calendar = desk.services.calendar
    days = next(c.working_days for c in desk.services.rule_pack.clocks if c.name == "stage1_acknowledgement")
    today = datetime.now(LONDON).date()
    due = calendar.add_working_days(today, 1)
    day_zero: date = calendar.sub_working_days(due, days)
    assert day_zero < today and calendar.add_working_days(day_zero, days) == due
    return datetime.combine(day_zero, clock_time(9, 30)).isoformat(timespec="minutes")


ACK_FIELDS: dict[str, Any] = {
    "points": [
        {
            "summary": "The boiler has failed three times since October.",
            "outcome_sought": "A new boiler fitted and compensation for the cold weeks.",
        }
    ],
    "responsible_for": ["The repair or replacement of the boiler"],
    "handler_name": "Sam Okafor",
}


def draft_complete_acknowledgement(desk: Desk, complaint_id: str) -> int:
    """A stage 1 acknowledgement with every field filled in (`letters draft`): it passes the check."""
    fields = desk.folder / f"fields-{complaint_id}.json"
    fields.write_text(json.dumps(ACK_FIELDS), encoding="utf-8")
    made = desk.run_json("letters", "draft", complaint_id, "stage1-acknowledgement", "--fields", str(fields))
    return int(made["draft_id"])


@dataclass(frozen=True)
class Scenery:
    """A desk with something on every page: residents' mail ingested (cases with mail,
    a reply, an attachment and automatic drafts), one case assigned to the officer, a
    mail in triage, one in quarantine, a letter waiting to be posted and one the SMTP
    server refused."""

    case: str  # has mail with an attachment, a draft letter and documents
    mail_id: int
    draft_id: int
    assigned: str  # the officer's case
    search: str  # a word that finds cases


def _png() -> bytes:
    """A small grey picture, as a phone photo stands in for in these tests."""
    width, height = 32, 24
    rows = b"".join(b"\x00" + b"\x90" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _mail(subject: str, sender: str, at: datetime, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage(policy=mail_policy.SMTP)
    message["Received"] = f"from mail.example.net by mx.landlord.example; {format_datetime(at)}"
    message["From"] = sender
    message["To"] = SENDER
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def _write_mailbox(folder: Path) -> None:
    """Mail of the last days (the sample mailbox would age out of the plausible dates):
    eight complaints, a reply on one, one with a photo, one dated days ahead (triage)
    and one over max_message_bytes (quarantine)."""
    from tests.support import mailgen

    folder.mkdir()
    now = datetime.now(UTC)
    for n in range(1, 9):
        at = now - timedelta(days=9 - n, hours=3)
        (folder / f"complaint-{n}.eml").write_bytes(mailgen.complaint(n, date=at))
    name, address = mailgen.resident(8)
    reply = mailgen.reply_to("<complaint-8@mail.example.net>", "CMP", f"{name} <{address}>", date=now)
    (folder / "reply.eml").write_bytes(reply)
    photo = _mail(
        "Leak in kitchen ceiling - photo attached",
        "Kwame Mensah <kwame.mensah@example.com>",
        now - timedelta(days=2),
        "Please see the attached photo of my kitchen ceiling at 30 Harrow Court. Water has been "
        "coming through from the flat above since October.\n\nI want the leak fixed urgently.\n\n"
        "Kwame Mensah\n",
        "<photo-leak@mail.example.com>",
    )
    photo.add_attachment(_png(), maintype="image", subtype="png", filename="kitchen-ceiling.png")
    (folder / "photo.eml").write_bytes(photo.as_bytes())
    future = _mail(
        "Still waiting for the damp survey",
        "Jordan Ellis <jordan.ellis@example.com>",
        now,
        "Nobody has come to look at the damp in my hallway.\n\nJordan Ellis\n",
        "<future-date@mail.example.com>",
    )
    future.replace_header("Date", format_datetime(now + timedelta(days=3)))  # the sender's clock is wrong
    (folder / "future.eml").write_bytes(future.as_bytes())
    (folder / "big.eml").write_bytes(mailgen.big_attachment_mail(100_000, seed=5))


@pytest.fixture(scope="session")
def scenery(desk: Desk) -> Scenery:
    """Mail in through `mailroom ingest`, out through `mailroom reminders send`; the
    rest with the use cases those commands call, in this process (a command costs a
    second or more of start-up, and this runs once per worker)."""
    from mailroom.domain.models import Channel
    from mailroom.letters.drafts import approve, draft, draft_pending_acknowledgements
    from mailroom.letters.types import LetterType
    from mailroom.other_channels import OtherChannelComplaint, log_complaint
    from mailroom.staff import assign

    mailbox = desk.folder / "mailbox"
    _write_mailbox(mailbox)
    desk.run("ingest", str(mailbox))
    services = desk.services
    with services.store.transaction() as repo:
        mails = [m for m in _all_mails(repo) if m.complaint_id]
    with_attachment = next(m for m in mails if "photo attached" in (m.subject or ""))
    damp = next(m for m in mails if "damp and mould" in (m.subject or "").lower())
    assign(services, damp.complaint_id, PEOPLE["officer"][1])
    draft_pending_acknowledgements(services)

    # A letter for the post ("To post") and one the SMTP server refuses ("Outbox problems").
    now = datetime.now(UTC)
    by_post = OtherChannelComplaint(
        Channel.LETTER, now, "Mr Owen Price", "", "Fence panels blown down", "The fence blew down.",
        postal_address="4 Mill Lane, Northgate NG2 4PL", contact_preference="post",
    )  # fmt: skip
    refused = OtherChannelComplaint(
        Channel.PHONE, now, "Ms Dana Reyes", REFUSED, "Lift out of order", "The lift has not worked."
    )
    for complaint in (by_post, refused):
        complaint_id = log_complaint(services, complaint)
        made = draft(services, complaint_id, LetterType.STAGE1_ACKNOWLEDGEMENT, ACK_FIELDS)
        approve(services, made.draft_id, by="setup")
    desk.send_outbox()
    return Scenery(
        case=str(with_attachment.complaint_id),
        mail_id=int(with_attachment.id),
        draft_id=desk.draft_id(str(with_attachment.complaint_id)),
        assigned=str(damp.complaint_id),
        search="leak",
    )


def _all_mails(repo: Any) -> list[Any]:
    from sqlalchemy import select

    from mailroom.store.schema import Mail

    return list(repo.session.scalars(select(Mail).order_by(Mail.id)))


@pytest.fixture(scope="session")
def _signed_in_states() -> dict[str, Any]:
    return {}


@pytest.fixture
def page_as(
    browser: Browser, browser_context_args: dict[str, Any], _signed_in_states: dict[str, Any]
) -> Iterator[Callable[[str | None], Page]]:
    """``page_as("manager")``: a page in a fresh browser context signed in as that role
    (through the form the first time, then with the same session cookie); ``None``:
    signed out. For tests that look at many pages rather than follow a journey."""
    contexts: list[BrowserContext] = []

    def make(role: str | None) -> Page:
        state = _signed_in_states.get(role) if role else None
        context = browser.new_context(**browser_context_args, storage_state=state)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if role and state is None:
            sign_in(page, role)
            _signed_in_states[role] = context.storage_state()
        return page

    yield make
    for context in contexts:
        context.close()
