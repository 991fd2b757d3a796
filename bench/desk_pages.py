"""Every review-desk page within 150 ms p95 on 100,000 complaints and 1,000,000 mails.

Seeds a throwaway PostgreSQL database (``mailroom_bench_desk_<random>`` on the
test server, 127.0.0.1:5432, migrated by mailroom's own ``make_engine`` and
``migrate``, dropped at the end) by server-side SQL (bench/desk_seed.py:
complaints over two years, ten officers, mails with 300-1,500 characters of
text, triage and quarantine, running and stopped deadlines, letters and their
outbox mails), then VACUUM ANALYZEs it. Desk accounts of every role are made
with ``mailroom.accounts.users.add_user``; ``mailroom web`` (gunicorn, 2 workers)
is started on a free loopback port.

Each page (``pages``: home, the queues, team, search, a case, one of its mails,
a draft letter, people admin) is asked for over HTTP (httpx, signed in through
/login with the form's CSRF token) as an officer and as a manager: warm-up
requests, then --requests timed ones, one at a time. Times are client wall
times on loopback: an upper bound of server time (the connection is local and
the client does nothing else). When gunicorn's access log ends in the request
time (``%(M)sms``), the server's own figures are shown beside them and judged.
A page answering 404 is listed as not built yet; one answering 403 is not for
that role. Nothing is asserted: the table says which pages are within budget,
and the machine's load average says whether other work shared the CPUs.

--keep-db leaves the database (its URL is printed) for EXPLAIN ANALYZE; --database
URL measures such a database again without seeding (``mailroom web`` applies any
new migration to it first).

Usage: python -m bench.desk_pages [--complaints N] [--mails-per-complaint M]
       [--requests R] [--quick] [--only TEXT] [--keep-db] [--database URL] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg

from bench import desk_words as w

BUDGET_MS = 150.0
ADMIN_URL = os.environ.get("MAILROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEARCH_WORD = "asbestos"  # a topic word in about one mail in seventy (bench/desk_words.py)
ROLES = ("officer", "manager")
ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) .* (?P<ms>\d+)ms\s*$'
)


def libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@contextlib.contextmanager
def throwaway_database(keep: bool) -> Iterator[str]:
    name = f"mailroom_bench_desk_{uuid.uuid4().hex[:12]}"
    admin = libpq(ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"'.encode())
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        if keep:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def write_config(folder: Path, url: str) -> Path:
    config = folder / "mailroom.toml"
    config.write_text(
        f'[storage]\nroot = "{folder / "storage"}"\n\n[database]\nurl = "{url}"\n\n[web]\nworkers = 2\n',
        encoding="utf-8",
    )
    return config


# -- seeding -----------------------------------------------------------------------------------


def migrate_and_seed(url: str, config: Path, complaints: int, mails_per: int) -> dict[str, Any]:
    from bench.desk_seed import seed
    from mailroom.config import load_settings
    from mailroom.services import build_services
    from mailroom.store.database import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    services = build_services(load_settings(config))
    version = services.calendar.version
    services.store.engine.dispose()
    print(f"seeding {complaints:,} complaints, ~{complaints * mails_per:,} mails ...", file=sys.stderr)
    seeded = seed(libpq(url), complaints, mails_per, datetime.now(UTC), version)
    for name, seconds in seeded.steps:
        print(f"  {name:<42} {seconds:>7.1f} s", file=sys.stderr)
    print(f"seeded in {seeded.seconds:.0f} s: {seeded.counts}", file=sys.stderr)
    return {"seconds": seeded.seconds, "steps": dict(seeded.steps), "counts": seeded.counts}


@dataclass
class Account:
    role: str
    email: str
    password: str


def make_accounts(config: Path) -> dict[str, Account]:
    """A desk account for every officer and one of each other role; the officer
    measured is the first, whose cases the seeding gave a tenth of the load."""
    from mailroom.accounts.audit import Actor
    from mailroom.accounts.users import add_user, change_user
    from mailroom.config import load_settings
    from mailroom.errors import UserError
    from mailroom.services import build_services

    services = build_services(load_settings(config))
    actor = Actor("cli:bench", "bench")
    people = [(name, email, "officer") for name, email in w.OFFICERS]
    people += [(*w.MANAGER, "manager"), (*w.INBOX, "inbox"), (*w.RECORDS, "records"), (*w.ADMIN, "admin")]
    accounts: dict[str, Account] = {}
    for name, email, role in people:
        password = secrets.token_urlsafe(18)
        try:
            add_user(services, name, email, role, password, actor)
        except UserError:  # a kept database (--database): the account is there already
            change_user(services, email, actor, password=password, unlock=True)
        accounts.setdefault(role, Account(role, email, password))
    services.store.engine.dispose()
    return accounts


@dataclass
class Facts:
    case_id: str
    case_officer: str
    case_mails: int
    surname: str
    surname_complaints: int
    word_mails: int
    triage_open: int
    outbox_rows: int
    mail_id: int
    draft_id: int


def facts(url: str, officer: str, mails_per: int) -> Facts:
    """The case to open (the officer's newest open case with about M mails) and how
    much the searches and long queues have to go through."""
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute(
            """
SELECT c.id, c.officer, c.complainant_name, n.mails
FROM complaints c
CROSS JOIN LATERAL (SELECT count(*) AS mails FROM mails m WHERE m.complaint_id = c.id) n
WHERE c.officer = %s AND c.status = 'open' AND n.mails BETWEEN %s AND %s
ORDER BY c.received_at DESC LIMIT 1""",
            (officer, max(1, mails_per - 1), mails_per + 1),
        ).fetchone()
        if row is None:
            raise SystemExit(f"no open case of {officer} with about {mails_per} mails: seed more complaints")
        case_id, case_officer, name, mails = row
        surname = str(name).split()[-1]

        def count(sql: str, *args: Any) -> int:
            found = connection.execute(sql.encode(), args).fetchone()
            return int(found[0]) if found else 0

        return Facts(
            case_id=str(case_id),
            case_officer=str(case_officer),
            case_mails=int(mails),
            surname=surname,
            surname_complaints=count(
                "SELECT count(*) FROM complaints WHERE complainant_name LIKE %s", f"% {surname}"
            ),
            word_mails=count("SELECT count(*) FROM mails WHERE body_text LIKE %s", f"%{SEARCH_WORD}%"),
            triage_open=count("SELECT count(*) FROM mails WHERE triage_open"),
            outbox_rows=count("SELECT count(*) FROM outbox"),
            mail_id=count("SELECT min(id) FROM mails WHERE complaint_id = %s", case_id),
            draft_id=count(
                "SELECT max(l.id) FROM letters l JOIN complaints c ON c.id = l.complaint_id"
                " WHERE l.status = 'draft' AND c.officer = %s",
                officer,
            ),
        )


# -- the pages ---------------------------------------------------------------------------------


def pages(f: Facts) -> list[tuple[str, str, tuple[str, ...]]]:
    """(label, URL, roles) of every page measured. Keep in step with the blueprints in
    mailroom/desk/ (a URL answering 404 is reported as not built)."""
    both = ROLES
    return [
        ("home", "/", both),
        ("queue: drafts", "/queues/drafts", both),
        ("queue: triage", "/queues/triage", both),
        ("queue: triage, page 50", "/queues/triage?page=50", both),
        ("queue: quarantine", "/queues/quarantine", both),
        ("queue: to post", "/queues/post", both),
        ("queue: outbox problems", "/queues/outbox", both),
        ("queue: deadlines overdue", "/queues/deadlines?bucket=overdue", both),
        ("queue: deadlines today", "/queues/deadlines?bucket=today", both),
        ("queue: deadlines soon", "/queues/deadlines?bucket=soon", both),
        ("team", "/team", both),
        ("search: a name", f"/search?q={quote(f.surname)}", both),
        ("search: a case id", f"/search?q={quote(f.case_id)}", both),
        ("search: a body word", f"/search?q={quote(SEARCH_WORD)}", both),
        (f"case ({f.case_mails} mails)", f"/cases/{quote(f.case_id)}", both),
        ("a mail of the case", f"/cases/{quote(f.case_id)}/mails/{f.mail_id}", both),
        ("letter review (a draft)", f"/letters/{f.draft_id}", both),
        ("admin: people", "/admin/users", ("admin",)),
    ]


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    access_log: Path
    error_log: Path
    offset: int = 0

    def new_access_lines(self) -> list[str]:
        with self.access_log.open("rb") as file:
            file.seek(self.offset)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return complete.decode(errors="replace").splitlines()

    def error_tail(self, lines: int = 15) -> str:
        text = self.error_log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def desk_server(config: Path, folder: Path, workers: int) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env["MAILROOM_CACHE_DIR"] = str(folder / "cache")
    access, errors = folder / "access.log", folder / "error.log"
    command = [sys.executable, "-m", "mailroom", "web", "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with access.open("wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", access, errors)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(process)


def wait_healthy(server: Server, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"mailroom web exited ({server.process.returncode}):\n{server.error_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"mailroom web did not answer /healthz in {seconds:.0f} s:\n{server.error_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the gunicorn master we started (it stops its workers), then its
    own process group if it does not go in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def sign_in(base: str, account: Account) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise SystemExit(f"/login answered {form.status_code} without a CSRF token")
    data = {"csrf_token": token.group(1), "email": account.email, "password": account.password, "next": ""}
    done = client.post("/login", data=data)
    if done.status_code != 302 or "/login" in done.headers.get("location", "/login"):
        raise SystemExit(f"signing in as {account.email} failed: {done.status_code}")
    return client


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class PageResult:
    label: str
    url: str
    role: str
    verdict: str  # pass, MISS, not built, not for role, error ...
    n: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    server_p50_ms: float | None = None
    server_p95_ms: float | None = None
    server_max_ms: float | None = None
    kib: float | None = None
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def first_answer(client: httpx.Client, result: PageResult, warmup: int) -> httpx.Response | None:
    """The warm-up requests; None (and a verdict) when the page is not there to time."""
    response = client.get(result.url)
    for _ in range(warmup - 1):
        response = client.get(result.url)
    status = response.status_code
    if status == 200:
        return response
    if status == 404:
        result.verdict = "not built (404)"
    elif status == 403:
        result.verdict = "not for role (403)"
    elif status in (301, 302, 303, 307, 308):
        result.verdict = f"redirect {status} to {response.headers.get('location', '?')}"
    else:
        result.verdict = f"error {status}"
    return None


def measure(client: httpx.Client, server: Server, result: PageResult, args: argparse.Namespace) -> None:
    server.new_access_lines()  # skip whatever came before
    try:
        timed(client, server, result, args)
    except httpx.HTTPError as exc:  # e.g. no answer within the client's timeout
        result.verdict = f"no answer ({type(exc).__name__})"


def timed(client: httpx.Client, server: Server, result: PageResult, args: argparse.Namespace) -> None:
    response = first_answer(client, result, args.warmup)
    if response is None:
        return
    times: list[float] = []
    sizes: list[int] = []
    target = response.request.url.raw_path.decode()
    started = time.perf_counter()
    for _ in range(args.requests):
        t0 = time.perf_counter()
        response = client.get(result.url)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            result.errors.append(str(response.status_code))
            continue
        times.append(elapsed * 1000)
        sizes.append(len(response.content))
        if time.perf_counter() - started > args.page_seconds and len(times) >= 5:
            break  # a slow page: enough requests to see it is slow
    if not times:
        result.verdict = f"error {','.join(sorted(set(result.errors)))}"
        return
    result.n = len(times)
    result.p50_ms = round(statistics.median(times), 1)
    result.p95_ms = round(percentile(times, 0.95), 1)
    result.max_ms = round(max(times), 1)
    result.kib = round(statistics.mean(sizes) / 1024, 1)
    server_times = access_times(server, target)[-len(times) :]
    if server_times:
        result.server_p50_ms = statistics.median(server_times)
        result.server_p95_ms = percentile(server_times, 0.95)
        result.server_max_ms = max(server_times)
    budget_of = result.server_p95_ms if result.server_p95_ms is not None else result.p95_ms
    result.verdict = "pass" if budget_of <= BUDGET_MS else "MISS"
    if result.errors:
        result.verdict += f" ({len(result.errors)} errors)"


def access_times(server: Server, target: str) -> list[float]:
    """Request times (ms) of ``GET target`` from gunicorn's access log, when its
    format ends in ``%(M)sms``; empty otherwise."""
    found = []
    for line in server.new_access_lines():
        match = ACCESS_LINE.search(line)
        if match and match["method"] == "GET" and match["target"] == target and match["status"] == "200":
            found.append(float(match["ms"]))
    return found


def run_pages(
    server: Server, accounts: dict[str, Account], f: Facts, args: argparse.Namespace
) -> list[PageResult]:
    results = []
    chosen = [
        (label, url, roles)
        for label, url, roles in pages(f)
        if not args.only or any(text in label or text in url for text in args.only)
    ]
    for role in dict.fromkeys(role for _, _, roles in chosen for role in roles):
        client = sign_in(server.base, accounts[role])
        try:
            for label, url, roles in chosen:
                if role not in roles:
                    continue
                result = PageResult(label, url, role, "")
                measure(client, server, result, args)
                print(f"  {role:<8} {label:<32} {result.verdict:<20} p95 {result.p95_ms} ms", file=sys.stderr)
                if result.verdict.startswith("error"):
                    result.errors.append(server.error_tail(8))
                results.append(result)
        finally:
            client.close()
    return results


# -- the report --------------------------------------------------------------------------------


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def print_table(results: list[PageResult], server_side: bool) -> None:
    head = f"{'page':<34} {'role':<8} {'n':>3} {'p50':>7} {'p95':>7} {'max':>7}"
    if server_side:
        head += f" {'srv p50':>7} {'srv p95':>7} {'srv max':>7}"
    print(head + f" {'KiB':>6}  verdict (p95 <= {BUDGET_MS:.0f} ms)")
    for r in results:
        line = f"{r.label:<34} {r.role:<8} {r.n or '':>3}"
        line += f" {cell(r.p50_ms):>7} {cell(r.p95_ms):>7} {cell(r.max_ms):>7}"
        if server_side:
            line += f" {cell(r.server_p50_ms):>7} {cell(r.server_p95_ms):>7} {cell(r.server_max_ms):>7}"
        print(line + f" {cell(r.kib):>6}  {r.verdict}")
    for r in results:
        for error in r.errors:
            if "\n" in error:
                print(f"\n{r.role} {r.url}: server error log tail:\n{error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--mails-per-complaint", type=int, default=10)
    parser.add_argument(
        "--requests", type=int, default=60, help="timed requests a page and role (after warm-up)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests first (one a worker)")
    parser.add_argument("--quick", action="store_true", help="10,000 complaints, to try the bench out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-seconds", type=float, default=90, help="stop timing a page after this long")
    parser.add_argument("--only", action="append", help="only pages whose label or URL contains this")
    parser.add_argument("--keep-db", action="store_true", help="leave the seeded database for EXPLAIN")
    parser.add_argument("--database", help="an already seeded database (e.g. one --keep-db left)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    if args.quick:
        args.complaints = 10_000
    # Only the config file written here decides the settings, in this process and the server's.
    for name in [name for name in os.environ if name.startswith("MAILROOM_") and name != "MAILROOM_TEST_PG"]:
        del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="mailroom-bench-desk-") as tmp:
        folder = Path(tmp)
        os.environ["MAILROOM_CACHE_DIR"] = str(folder / "cache")
        database = (
            contextlib.nullcontext(args.database) if args.database else throwaway_database(args.keep_db)
        )
        with database as url:
            config = write_config(folder, url)
            seeding = (
                None
                if args.database
                else migrate_and_seed(url, config, args.complaints, args.mails_per_complaint)
            )
            accounts = make_accounts(config)
            found = facts(url, accounts["officer"].email, args.mails_per_complaint)
            print(f"facts: {found}", file=sys.stderr)
            with desk_server(config, folder, args.workers) as server:
                load = [os.getloadavg()[0]]
                results = run_pages(server, accounts, found, args)
                load.append(os.getloadavg()[0])
    report(args, seeding, found, results, load)


def report(
    args: argparse.Namespace,
    seeding: dict[str, Any] | None,
    found: Facts,
    results: list[PageResult],
    load: list[float],
) -> None:
    server_side = any(r.server_p95_ms is not None for r in results)
    print(
        f"\nDesk pages, {args.complaints:,} complaints, ~{args.complaints * args.mails_per_complaint:,}"
        f" mails (PostgreSQL), gunicorn {args.workers} workers, {args.requests} requests a page after "
        f"{args.warmup} warm-up; ms, "
        + (
            "server time from gunicorn's access log beside client wall time"
            if server_side
            else "client wall time on loopback (an upper bound of server time)"
        )
    )
    if seeding:
        print(f"seeding took {seeding['seconds']:.0f} s")
    print(
        f"case {found.case_id} ({found.case_mails} mails, {found.case_officer}); '{found.surname}' names "
        f"{found.surname_complaints} complainants; '{SEARCH_WORD}' is in {found.word_mails:,} mails; "
        f"{found.triage_open:,} open triage items; {found.outbox_rows:,} outbox rows\n"
    )
    print_table(results, server_side)
    busy = max(load) > (os.cpu_count() or 1)
    print(
        f"\nmachine load (1-minute average) {load[0]:.1f} before and {load[1]:.1f} after, on "
        f"{os.cpu_count()} CPUs" + ("; BUSY: other work shared the CPUs, times are inflated" if busy else "")
    )
    if args.json:
        print(
            json.dumps(
                {
                    "machine": platform.platform(),
                    "cpus": os.cpu_count(),
                    "complaints": args.complaints,
                    "seeding": seeding,
                    "facts": asdict(found),
                    "budget_p95_ms": BUDGET_MS,
                    "load_average": load,
                    "pages": [asdict(r) for r in results],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
