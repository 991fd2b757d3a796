"""Graph ingestion (issue 14): the worker with the real GraphSource over
real HTTP against tests/support/graph_server.py, and a real store (SQLite and
PostgreSQL). The CLI-level tests (500 mails, SIGKILL) are in
tests/acceptance/test_graph_ingest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mailroom.clock import FixedClock
from mailroom.config import GraphSettings, Settings
from mailroom.filing import sha256_hex
from mailroom.ingest.graph_source import GraphSource
from mailroom.ingest.source import SourceError
from mailroom.services import Services, build_services
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.support import mailgen
from tests.support.graph_server import GraphServer

MAILBOX = "complaints@landlord.example"


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    with GraphServer(mailboxes=(MAILBOX,)) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    services = build_services(make_settings(tmp_path / "storage", sqlite_url), clock)
    yield services
    services.store.engine.dispose()


@pytest.fixture
def store_any_db(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    """SQLite and PostgreSQL: where the deltaLink's commit with the ledger rows matters."""
    services = build_services(make_settings(tmp_path / "storage", db_url), clock)
    yield services
    services.store.engine.dispose()


def _source(graph: GraphServer, clock: FixedClock | None = None, **settings: Any) -> GraphSource:
    values: dict[str, Any] = {
        "mailbox": MAILBOX,
        "token_command": ["unused"],
        "batch_size": 20,
        "page_size": 25,
    }
    return GraphSource(
        GraphSettings.model_validate({**values, **settings}),
        token_provider=graph.issue_token,
        graph_url=graph.root,
        clock=clock,
    )


def _rows(services: Services, sql: str) -> list[tuple[Any, ...]]:
    with services.store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def _filed_bytes(services: Services) -> list[bytes]:
    return [
        (services.storage.root / path / "message.eml").read_bytes()
        for (path,) in _rows(services, "SELECT storage_path FROM mails")
    ]


def test_paged_delta_ingests_each_mail_once_byte_identical_and_moves_it_after(
    graph: GraphServer, store_any_db: Services
) -> None:
    store = store_any_db
    mails = [mailgen.complaint(n) for n in range(24)]
    for raw in mails:
        graph.add_message(raw)
    source = _source(graph, page_size=10, batch_size=10)
    report = run_once(store, [source])
    assert report.seen == 24
    assert _rows(store, "SELECT count(*), count(DISTINCT uid) FROM ledger") == [(24, 24)]
    assert sorted(_filed_bytes(store)) == sorted(mails)  # raw MIME through $value, byte for byte
    assert graph.messages_in("inbox") == {}
    assert sorted(graph.messages_in("Processed").values()) == sorted(mails)
    # The ledger key: the immutable id (the one the mail still has in Processed) and the Message-ID.
    uids = {uid for (uid,) in _rows(store, "SELECT uid FROM ledger")}
    assert {uid.split(" ")[0] for uid in uids} == set(graph.messages_in("Processed"))
    assert all(uid.split(" ")[1].startswith("<") for uid in uids)
    # Paged: three delta pages of 10 (the page size asked for), then the deltaLink was stored.
    delta_calls = [r for r in graph.graph_requests() if r.path.endswith("/messages/delta")]
    assert len(delta_calls) == 3
    assert all("odata.maxpagesize=10" in r.headers["prefer"] for r in delta_calls)
    assert delta_calls[0].query["$select"] == "id,internetMessageId,receivedDateTime"
    ((link,),) = _rows(store, "SELECT delta_link FROM folder_checkpoints")
    assert "$deltatoken=" in link
    # Every request asked for immutable ids.
    assert all('IdType="ImmutableId"' in r.headers.get("prefer", "") for r in graph.graph_requests())

    # The next poll resumes from the deltaLink: only what changed since.
    graph.add_message(mailgen.complaint(24))
    before = len(graph.graph_requests())
    report = run_once(store, [source])
    assert report.seen == 1
    later = graph.graph_requests()[before:]
    # The round starts from the stored deltaLink (its pages list the 24 moved out as removed).
    rounds = [r for r in later if r.path.endswith("/delta")]
    assert "$deltatoken" in rounds[0].query
    assert all("$skiptoken" in r.query for r in rounds[1:])
    assert _rows(store, "SELECT count(*) FROM ledger") == [(25,)]
    source.close()


def test_moves_are_made_only_after_the_commit(graph: GraphServer, store: Services) -> None:
    for n in range(5):
        graph.add_message(mailgen.complaint(n))
    source = _source(graph)
    moved_with_ledger: list[int] = []

    def watch(request: Any) -> None:
        if request.path.endswith("/move"):
            moved_with_ledger.append(_rows(store, "SELECT count(*) FROM ledger")[0][0])

    graph.on_request = watch
    run_once(store, [source])
    assert moved_with_ledger == [5] * 5  # each move found its mail already ledgered
    source.close()


def test_a_410_in_the_middle_of_a_round_resyncs_without_duplicates(
    graph: GraphServer, store: Services
) -> None:
    first = [mailgen.complaint(n) for n in range(10)]
    for raw in first:
        graph.add_message(raw)
    source = _source(
        graph, action="none", page_size=5
    )  # mails stay in the inbox: a resync lists them all again
    run_once(store, [source])
    more = [mailgen.complaint(n) for n in range(10, 22)]
    for raw in more:
        graph.add_message(raw)
    graph.expire_delta_tokens()  # the stored deltaLink is gone ...
    hit: list[str] = []

    def gone_mid_round(request: Any) -> None:
        if "$skiptoken" in request.query and not hit:  # ... and, in the resync, a nextLink too
            hit.append(request.path)
            graph.inject_delta_gone(1)

    graph.on_request = gone_mid_round
    report = run_once(store, [source])
    assert report.seen == 12  # the 10 already ledgered were listed again and dropped
    assert _rows(store, "SELECT count(*), count(DISTINCT uid) FROM ledger") == [(22, 22)]
    assert _rows(store, "SELECT count(*) FROM mails") == [(22,)]
    assert sorted(_filed_bytes(store)) == sorted(first + more)
    gone = [r for r in graph.graph_requests() if r.status == 410]
    assert len(gone) == 2
    source.close()


def test_a_429_storm_is_waited_out_within_four_concurrent_requests(
    graph: GraphServer, store: Services
) -> None:
    graph.add_message(mailgen.complaint(0))
    graph.latency = 0.01  # requests overlap, so the client's own limit is what keeps it at 4
    source = _source(graph)
    run_once(store, [source])  # warm: folders resolved
    graph.requests.clear()
    for raw in [mailgen.complaint(n) for n in range(1, 25)]:
        graph.add_message(raw)
    graph.inject_throttle(8, retry_after=0.3)
    report = run_once(store, [source])
    assert report.seen == 24
    assert _rows(store, "SELECT count(*) FROM ledger") == [(25,)]
    assert graph.peak_concurrency() <= 4
    assert graph.peak_concurrency() >= 2  # fetching really ran in parallel
    requests = graph.graph_requests()
    throttled = [r for r in requests if r.status == 429]
    assert len(throttled) == 8
    # After each 429, nothing was sent before its Retry-After had passed.
    for refused in throttled:
        sent_during = [r for r in requests if refused.started < r.started < refused.started + 0.3]
        assert all(r.status == 429 for r in sent_during), "a request went out during Retry-After"
    assert graph.messages_in("inbox") == {}
    source.close()


def test_throttling_past_the_wait_budget_is_a_source_error(graph: GraphServer, store: Services) -> None:
    graph.add_message(mailgen.complaint(1))
    graph.inject_throttle(50, retry_after=0.2)
    source = _source(graph, max_throttle_wait_seconds=0.5)
    with pytest.raises(SourceError, match="still throttled"):
        run_once(store, [source])
    assert _rows(store, "SELECT count(*) FROM ledger") == [(0,)]
    source.close()


def test_an_expired_token_is_renewed_once_and_a_revoked_app_is_an_auth_error(
    graph: GraphServer, store: Services
) -> None:
    graph.add_message(mailgen.complaint(1))
    issued: list[str] = []

    def tokens() -> str:
        issued.append(graph.issue_token())
        return issued[-1]

    settings = GraphSettings(mailbox=MAILBOX, token_command=["unused"])
    source = GraphSource(settings, token_provider=tokens, graph_url=graph.root)
    expired: list[str] = []

    def expire_mid_poll(request: Any) -> None:
        if request.path.endswith("/$value") and not expired:
            expired.append(request.path)
            graph.expire_tokens()  # the poll's token runs out between two requests

    graph.on_request = expire_mid_poll
    run_once(store, [source])
    graph.on_request = None
    assert _rows(store, "SELECT count(*) FROM ledger") == [(1,)]
    assert [r.status for r in graph.graph_requests()].count(401) == 1
    assert len(issued) == 2  # one per poll, one more after the 401

    graph.add_message(mailgen.complaint(3))
    source2 = GraphSource(settings, token_provider=lambda: "not-a-token", graph_url=graph.root)
    with pytest.raises(SourceError, match="authentication failed") as failure:
        run_once(store, [source2])
    assert failure.value.kind == "auth"
    assert "not-a-token" not in str(failure.value)
    source.close()
    source2.close()


def test_a_token_command_gets_tokens_and_a_revoked_secret_is_an_auth_error(
    graph: GraphServer, tmp_path: Path, store: Services
) -> None:
    from mailroom.ingest.oauth import command_token_provider

    graph.add_message(mailgen.complaint(1))
    settings = GraphSettings(mailbox=MAILBOX, token_command=graph.token_command())
    source = GraphSource(
        settings, token_provider=command_token_provider(settings.token_command), graph_url=graph.root
    )
    run_once(store, [source])
    assert _rows(store, "SELECT count(*) FROM ledger") == [(1,)]
    graph.revoke_secret()
    with pytest.raises(SourceError, match="AADSTS7000215") as failure:
        run_once(store, [source])
    assert failure.value.kind == "auth"
    assert graph.client_secret not in str(failure.value)
    source.close()


def test_a_mail_over_the_size_limit_is_quarantined_from_its_first_bytes(
    graph: GraphServer, tmp_path: Path, clock: FixedClock
) -> None:
    big = mailgen.big_attachment_mail(300_000)
    graph.add_message(big)
    graph.add_message(mailgen.complaint(2))
    settings = Settings.model_validate(
        {
            "storage": {"root": tmp_path / "storage", "max_message_bytes": 200_000},
            "database": {"url": f"sqlite:///{tmp_path / 'big.db'}"},
            "maildir": {"path": None},
        }
    )
    services = build_services(settings, clock)
    source = _source(graph)
    report = run_once(services, [source])
    assert report.seen == 2
    assert report.outcomes["quarantined"] == 1
    assert _rows(services, "SELECT count(*) FROM ledger") == [(2,)]
    assert _rows(services, "SELECT max(size) FROM mails") == [(len(big),)]
    services.store.engine.dispose()
    source.close()


def test_hostile_ids_in_delta_pages_are_refused_and_ids_are_escaped_in_paths(
    graph: GraphServer, store: Services
) -> None:
    graph.add_message(mailgen.complaint(1))
    source = _source(graph)
    run_once(store, [source])
    # Immutable ids end in '=': percent-encoded in every path the client built.
    paths = [r for r in graph.graph_requests() if "/messages/" in r.path and not r.path.endswith("/delta")]
    assert paths and all(r.path.count("=") == 1 for r in paths)
    listed: dict[str, Any] = {}
    source._take_page(
        {"value": [{"id": "../../me/sendMail"}, {"id": "a b"}, {"id": "x" * 400}, {"id": "ok-id="}]}, listed
    )
    assert [uid.split(" ")[0] for uid in listed] == ["ok-id="]
    source.close()


def test_folder_by_display_name_and_the_processed_folder_is_created(
    graph: GraphServer, store: Services
) -> None:
    graph.add_folder("Complaints")
    raw = mailgen.complaint(1)
    graph.add_message(raw, "Complaints")
    graph.add_message(mailgen.complaint(2))  # in the inbox: not ours
    source = _source(graph, folder="Complaints", processed_folder="Complaints/Filed")
    run_once(store, [source])
    assert _rows(store, "SELECT folder, count(*) FROM ledger GROUP BY folder") == [("Complaints", 1)]
    assert list(graph.messages_in("Complaints/Filed").values()) == [raw]
    assert sha256_hex(_filed_bytes(store)[0]) == sha256_hex(raw)
    source.close()
