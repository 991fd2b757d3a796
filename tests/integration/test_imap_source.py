"""ImapSource against a real Dovecot (tests/support/dovecot.py)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from imapclient import IMAPClient

from mailroom.config import ImapAuth, ImapSecurity, MailboxAction
from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest import imap_source
from mailroom.ingest.imap_source import ImapSource
from mailroom.ingest.oauth import command_token_provider
from mailroom.ingest.source import Checkpoint, SourceError
from tests.support.dovecot import Dovecot, ImapUser, crlf, find_dovecot, make_mail

MakeSource = Callable[..., ImapSource]


@pytest.fixture
def sleeps() -> list[float]:
    """What the sources asked to sleep: tests never really wait for backoff."""
    return []


@pytest.fixture
def make_source(dovecot: Dovecot, imap_user: ImapUser, sleeps: list[float]) -> Iterator[MakeSource]:
    sources: list[ImapSource] = []

    def make(
        user: ImapUser | None = None,
        *,
        token_provider: Callable[[], str] | None = None,
        client_factory: Callable[..., IMAPClient] | None = None,
        **overrides: Any,
    ) -> ImapSource:
        source = ImapSource(
            dovecot.settings(user or imap_user, **overrides),
            token_provider=token_provider,
            sleep=sleeps.append,
            client_factory=client_factory,
        )
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def fetch_all(source: ImapSource, keys: list[SourceKey]) -> list[FetchedMail]:
    return [mail for batch in source.fetch(keys) for mail in batch]


# -- scan and fetch -------------------------------------------------------------------


def test_fetch_returns_the_appended_bytes_and_internaldate_in_utc(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    bst = timezone(timedelta(hours=1))
    first = make_mail(
        "Damp in the bedroom", "Mould on the wall \u2014 since March.\n\n-- \nMrs \u00c5sa Jones"
    )
    second = crlf("Subject: bare\n\nLine one\nLine two with trailing spaces   \n\n")
    dovecot.append(imap_user, first, msg_time=datetime(2026, 6, 1, 9, 30, 15, tzinfo=bst))
    dovecot.append(imap_user, second, msg_time=datetime(2026, 1, 2, 23, 59, 59, tzinfo=UTC))
    source = make_source()

    keys = source.scan({})
    mails = fetch_all(source, keys)

    uidvalidity = dovecot.uidvalidity(imap_user)
    account = f"{imap_user.name}@127.0.0.1"
    assert source.account == account
    assert keys == [
        SourceKey(account, "INBOX", uidvalidity, "1"),
        SourceKey(account, "INBOX", uidvalidity, "2"),
    ]
    assert [mail.key for mail in mails] == keys
    assert [mail.raw for mail in mails] == [first, second]  # byte for byte, CRLF and 8-bit intact
    assert [mail.size for mail in mails] == [len(first), len(second)]
    assert mails[0].received_at == datetime(2026, 6, 1, 8, 30, 15, tzinfo=UTC)
    assert mails[1].received_at == datetime(2026, 1, 2, 23, 59, 59, tzinfo=UTC)
    assert all(mail.received_at.utcoffset() == timedelta(0) for mail in mails)


def test_fetch_leaves_seen_alone_and_still_returns_read_mail(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    unread = dovecot.append(imap_user, make_mail("unread"))
    read = dovecot.append(imap_user, make_mail("opened by a person"), flags=[b"\\Seen"])
    source = make_source()

    mails = fetch_all(source, source.scan({}))

    assert [int(mail.key.uid) for mail in mails] == [unread, read]
    flags = dovecot.flags(imap_user)
    assert b"\\Seen" not in flags[unread]
    assert b"\\Seen" in flags[read]


def test_scan_returns_only_uids_above_the_checkpoint(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(3):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    uidvalidity = dovecot.uidvalidity(imap_user)
    source = make_source()

    assert [key.uid for key in source.scan({"INBOX": Checkpoint(uidvalidity, 1)})] == ["2", "3"]
    # `UID 4:*` makes the server answer with UID 3, the highest: it must not come back.
    assert source.scan({"INBOX": Checkpoint(uidvalidity, 3)}) == []
    assert source.scan({"INBOX": Checkpoint(uidvalidity, 100)}) == []
    # A checkpoint for another folder does not apply to INBOX.
    assert len(source.scan({"Other": Checkpoint(uidvalidity, 3)})) == 3


def test_scan_of_an_empty_folder(make_source: MakeSource) -> None:
    assert make_source().scan({}) == []


def test_scan_of_a_long_unread_folder_searches_in_spans(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_source, "UID_SEARCH_SPAN", 2)
    for n in range(7):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    uidvalidity = dovecot.uidvalidity(imap_user)
    source = make_source()

    assert [key.uid for key in source.scan({})] == [str(uid) for uid in range(1, 8)]
    assert [key.uid for key in source.scan({"INBOX": Checkpoint(uidvalidity, 2)})] == [
        "3",
        "4",
        "5",
        "6",
        "7",
    ]


def test_new_uidvalidity_means_a_full_rescan(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"), folder="Complaints")
    source = make_source(folder="Complaints")
    old_keys = source.scan({})
    old = Checkpoint(old_keys[0].uidvalidity, 2)
    assert source.scan({"Complaints": old}) == []

    new_uidvalidity = dovecot.recreate_folder(imap_user, "Complaints")
    keys = source.scan({"Complaints": old})

    assert new_uidvalidity != old.uidvalidity
    assert [(key.uidvalidity, key.uid) for key in keys] == [(new_uidvalidity, "1"), (new_uidvalidity, "2")]
    # The old keys are stale now: nothing to fetch, nothing to move, no error.
    assert fetch_all(source, old_keys) == []
    source.acknowledge(old_keys)
    assert dovecot.uids(imap_user, "Complaints") == [1, 2]
    assert dovecot.uids(imap_user, "Processed") == []


def test_fetch_skips_stale_and_vanished_keys(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    kept = dovecot.append(imap_user, make_mail("kept"))
    gone = dovecot.append(imap_user, make_mail("deleted by a person"))
    source = make_source()
    keys = source.scan({})
    with dovecot.client(imap_user) as client:
        client.select_folder("INBOX")
        client.delete_messages([gone])
        client.uid_expunge([gone])
    uidvalidity = keys[0].uidvalidity
    stale = [SourceKey(source.account, "INBOX", uidvalidity + 1, str(kept)), replace(keys[0], uid="999")]

    assert [int(mail.key.uid) for mail in fetch_all(source, keys + stale)] == [kept]


def test_fetch_batches_by_count_and_by_size(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_source, "MAX_BATCH_BYTES", 10_000)
    sizes = [1_000, 1_000, 1_000, 12_000, 3_000, 3_000, 3_000, 3_000]
    for n, size in enumerate(sizes):
        dovecot.append(imap_user, make_mail(f"mail {n}", "x" * size))
    source = make_source(batch_size=3)

    batches = [[int(mail.key.uid) for mail in batch] for batch in source.fetch(source.scan({}))]

    # Count first (3 per chunk), then size within a chunk: the big mail goes alone.
    assert batches == [[1, 2, 3], [4], [5, 6], [7, 8]]


class _BodylessOnce(IMAPClient):  # type: ignore[misc]
    """Answers the first body FETCH of UID 1 without the body, like a busy server."""

    misses: int = 1

    def fetch(self, messages: Any, data: Any, modifiers: Any = None) -> dict[int, dict[bytes, Any]]:
        response: dict[int, dict[bytes, Any]] = super().fetch(messages, data, modifiers)
        if "BODY.PEEK[]" in data and 1 in response and type(self).misses > 0:
            type(self).misses -= 1
            response[1].pop(b"BODY[]", None)
        return response


def test_a_missing_body_is_fetched_again(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    factory = type("Once", (_BodylessOnce,), {"misses": 1})
    source = make_source(client_factory=factory)

    assert [mail.key.uid for mail in fetch_all(source, source.scan({}))] == ["1", "2"]


def test_a_body_missing_twice_is_skipped_and_left_in_the_mailbox(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    factory = type("Twice", (_BodylessOnce,), {"misses": 2})
    source = make_source(client_factory=factory)

    with caplog.at_level(logging.WARNING, logger="mailroom.ingest.imap_source"):
        mails = fetch_all(source, source.scan({}))

    assert [mail.key.uid for mail in mails] == ["2"]
    assert "UID 1: no body returned twice" in caplog.text
    assert dovecot.uids(imap_user) == [1, 2]


# -- acknowledge -----------------------------------------------------------------------


def test_acknowledge_moves_to_the_processed_folder_creating_it(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    raws = [make_mail(f"mail {n}") for n in range(3)]
    for raw in raws:
        dovecot.append(imap_user, raw)
    source = make_source()
    keys = source.scan({})
    assert dovecot.uids(imap_user, "Processed") == []

    source.acknowledge(keys[:2])
    source.acknowledge(keys[:2])  # again, as after a crash: already moved, no error

    assert dovecot.uids(imap_user) == [3]
    processed = make_source(folder="Processed")
    assert [mail.raw for mail in fetch_all(processed, processed.scan({}))] == raws[:2]


class _NoMove(IMAPClient):  # type: ignore[misc]
    """A server without MOVE (e.g. older Exchange): COPY + UID EXPUNGE instead."""

    def has_capability(self, capability: str) -> bool:
        return capability.upper() != "MOVE" and bool(super().has_capability(capability))


def test_acknowledge_without_move_copies_and_expunges_only_its_own_uids(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    # Someone else's mail, marked \Deleted but not expunged: a plain EXPUNGE would remove it.
    theirs = dovecot.append(imap_user, make_mail("someone else's"), flags=[b"\\Deleted"])
    source = make_source(client_factory=_NoMove)
    keys = source.scan({})

    source.acknowledge(keys[:1])

    assert dovecot.uids(imap_user) == [2, theirs]
    assert dovecot.uids(imap_user, "Processed") == [1]


class _NoMoveNoUidplus(IMAPClient):  # type: ignore[misc]
    def has_capability(self, capability: str) -> bool:
        return capability.upper() not in ("MOVE", "UIDPLUS") and bool(super().has_capability(capability))


def test_acknowledge_without_move_or_uidplus_never_expunges(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    source = make_source(client_factory=_NoMoveNoUidplus)

    source.acknowledge(source.scan({})[:1])

    assert dovecot.uids(imap_user) == [1, 2]  # copied, flagged, left for the owner to purge
    assert b"\\Deleted" in dovecot.flags(imap_user)[1]
    assert b"\\Deleted" not in dovecot.flags(imap_user)[2]
    assert dovecot.uids(imap_user, "Processed") == [1]


def test_acknowledge_flag_sets_the_keyword_and_leaves_the_mail(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    for n in range(2):
        dovecot.append(imap_user, make_mail(f"mail {n}"))
    source = make_source(action=MailboxAction.FLAG)
    keys = source.scan({})

    source.acknowledge(keys[:1])

    flags = dovecot.flags(imap_user)
    assert b"$MailroomFiled" in flags[1]
    assert b"\\Seen" not in flags[1]
    assert b"$MailroomFiled" not in flags[2]
    assert dovecot.uids(imap_user, "Processed") == []


def test_acknowledge_none_changes_nothing(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    dovecot.append(imap_user, make_mail("mail"))
    source = make_source(action=MailboxAction.NONE)

    source.acknowledge(source.scan({}))

    assert dovecot.uids(imap_user) == [1]
    assert b"$MailroomFiled" not in dovecot.flags(imap_user)[1]


def test_acknowledge_tolerates_stale_and_unknown_keys(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    dovecot.append(imap_user, make_mail("mail"))
    source = make_source()
    [key] = source.scan({})
    stale = [
        SourceKey(key.account, key.folder, key.uidvalidity + 1, key.uid),
        SourceKey(key.account, key.folder, key.uidvalidity, "999"),
        SourceKey("someone@else", key.folder, key.uidvalidity, key.uid),
    ]

    source.acknowledge(stale)

    assert dovecot.uids(imap_user) == [1]


# -- connecting: TLS, login, OAuth ------------------------------------------------------


@pytest.mark.parametrize("security", [ImapSecurity.TLS, ImapSecurity.STARTTLS, ImapSecurity.NONE])
def test_every_security_mode_connects(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, security: ImapSecurity
) -> None:
    dovecot.append(imap_user, make_mail("mail"))
    port = dovecot.imaps_port if security is ImapSecurity.TLS else dovecot.imap_port
    source = make_source(security=security, port=port)

    assert len(source.scan({})) == 1


@pytest.mark.parametrize("security", [ImapSecurity.TLS, ImapSecurity.STARTTLS])
def test_a_certificate_not_signed_by_a_trusted_ca_fails_at_once(
    dovecot: Dovecot, make_source: MakeSource, sleeps: list[float], security: ImapSecurity
) -> None:
    port = dovecot.imaps_port if security is ImapSecurity.TLS else dovecot.imap_port
    source = make_source(security=security, port=port, ca_file=None)

    with pytest.raises(SourceError, match=r"certificate verification failed for 127\.0\.0\.1") as caught:
        source.scan({})

    assert "\n" not in str(caught.value)
    assert sleeps == []  # a configuration error: no retry loop


def test_a_wrong_password_fails_quickly_without_showing_it(
    dovecot: Dovecot, imap_user: ImapUser, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-but-secret-passw0rd"
    source = ImapSource(dovecot.settings(imap_user, password=wrong), sleep=sleeps.append)
    began = time.monotonic()

    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as caught:
        source.scan({})

    message = str(caught.value)
    assert message.startswith(f"imap login failed for {imap_user.name}@127.0.0.1: ")
    assert "AUTHENTICATIONFAILED" in message
    assert wrong not in message and wrong not in caplog.text and "\n" not in message
    assert sleeps == []
    assert time.monotonic() - began < 3


def test_the_password_never_reaches_the_log(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append(imap_user, make_mail("mail"))
    with caplog.at_level(logging.DEBUG):
        source = make_source()
        fetch_all(source, source.scan({}))
        source.close()

    assert "LOGIN" in caplog.text  # imapclient's debug log did record the command...
    assert imap_user.password not in caplog.text  # ...redacted


def test_the_password_can_come_from_a_file(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, tmp_path: Any
) -> None:
    secret = tmp_path / "imap-password"
    secret.write_text(imap_user.password + "\n", encoding="utf-8")

    assert make_source(password="", password_file=secret).scan({}) == []


def test_xoauth2_gets_a_fresh_token_for_every_connection(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, caplog: pytest.LogCaptureFixture
) -> None:
    # Dovecot 2.3 checks an XOAUTH2 bearer token against the passdb password.
    tokens = ["token-one-abc", "token-two-def"]
    handed_out: list[str] = []
    user = dovecot.set_password(imap_user, tokens[0])

    def provider() -> str:
        handed_out.append(tokens[len(handed_out)])
        return handed_out[-1]

    source = make_source(
        user, auth=ImapAuth.XOAUTH2, password="", oauth2_token_command=["unused"], token_provider=provider
    )
    with caplog.at_level(logging.DEBUG):
        assert source.scan({}) == []
        user = dovecot.set_password(user, tokens[1])  # the old token has "expired"
        dovecot.kick(user)
        dovecot.append(user, make_mail("after reconnect"))
        assert len(source.scan({})) == 1

    assert handed_out == tokens
    assert not any(token in caplog.text for token in tokens)


def test_xoauth2_with_the_token_command(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    token = "command-token-123"
    user = dovecot.set_password(imap_user, token)
    command = [sys.executable, "-c", f"print('  {token}  ')"]
    source = make_source(user, auth=ImapAuth.XOAUTH2, password="", oauth2_token_command=command)

    assert source.scan({}) == []


def test_xoauth2_with_a_rejected_token(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    source = make_source(
        auth=ImapAuth.XOAUTH2,
        password="",
        oauth2_token_command=["unused"],
        token_provider=lambda: "expired-token",
    )

    with pytest.raises(SourceError, match="imap login failed") as caught:
        source.scan({})

    assert "expired-token" not in str(caught.value)


def test_command_token_provider_failures_are_one_line_without_the_token() -> None:
    python = sys.executable
    fails = command_token_provider(
        [
            python,
            "-c",
            "import sys; print('tok-SECRET'); print('az: not logged in\\nrun az login', file=sys.stderr);"
            " sys.exit(3)",
        ]
    )
    with pytest.raises(SourceError) as caught:
        fails()
    assert (
        str(caught.value)
        == f"oauth2 token command {python.rsplit('/', 1)[-1]} failed with exit status 3: run az login"
    )

    with pytest.raises(SourceError, match=r"timed out after 0\.5s"):
        command_token_provider([python, "-c", "import time; print('tok'); time.sleep(5)"], timeout=0.5)()
    with pytest.raises(SourceError, match="could not be run"):
        command_token_provider(["/nonexistent/token-helper", "--client-secret", "s3cr3t"])()
    with pytest.raises(SourceError, match="printed no token"):
        command_token_provider([python, "-c", "pass"])()
    with pytest.raises(SourceError, match="more than a token") as caught:
        command_token_provider([python, "-c", "print('Welcome!'); print('tok-SECRET')"])()
    assert "tok-SECRET" not in str(caught.value)
    assert command_token_provider([python, "-c", "print('tok\\r')"])() == "tok"


# -- reconnecting --------------------------------------------------------------------------


def _failing_factory(failures: int) -> tuple[Callable[..., IMAPClient], list[int]]:
    calls: list[int] = []

    def factory(*args: Any, **kwargs: Any) -> IMAPClient:
        calls.append(1)
        if len(calls) <= failures:
            raise ConnectionRefusedError(111, "Connection refused")
        return IMAPClient(*args, **kwargs)

    return factory, calls


def test_reconnect_backoff_grows_and_is_capped(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, sleeps: list[float]
) -> None:
    dovecot.append(imap_user, make_mail("mail"))
    factory, calls = _failing_factory(4)
    source = make_source(client_factory=factory, reconnect_backoff_max_seconds=3)

    assert len(source.scan({})) == 1

    assert len(calls) == 5
    nominal = [1, 2, 3, 3]  # 1, 2, 4 -> capped at 3, 8 -> 3; jitter takes off up to 20%
    assert all(0.8 * n <= s <= n for s, n in zip(sleeps, nominal, strict=True))
    assert sleeps[0] < sleeps[1] < sleeps[2]


def test_retries_are_limited_per_operation_and_backoff_continues(
    make_source: MakeSource, sleeps: list[float]
) -> None:
    factory, calls = _failing_factory(1000)
    source = make_source(client_factory=factory, reconnect_backoff_max_seconds=100)

    with pytest.raises(SourceError, match=r"imap scan failed for .* after 5 attempts: .*Connection refused"):
        source.scan({})
    assert len(calls) == 5 and len(sleeps) == 4
    with pytest.raises(SourceError):
        source.scan({})

    nominal = [1, 2, 4, 8, 16, 32, 64, 100]
    assert all(0.8 * n <= s <= n for s, n in zip(sleeps, nominal, strict=True))


def test_a_connection_cut_between_calls_is_reopened(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, sleeps: list[float]
) -> None:
    source = make_source()
    assert source.scan({}) == []
    assert dovecot.kill_sessions(imap_user) == 1
    dovecot.append(imap_user, make_mail("mail"))

    assert len(source.scan({})) == 1
    assert len(sleeps) == 1


def test_close_is_idempotent_and_tolerates_a_dead_connection(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    source = make_source()
    source.scan({})
    dovecot.kill_sessions(imap_user)
    source.close()
    source.close()


# -- waiting for mail ---------------------------------------------------------------------


class _CountingIdle(IMAPClient):  # type: ignore[misc]
    idle_checks: ClassVar[list[float]] = []

    def idle_check(self, timeout: float | None = None) -> list[Any]:
        type(self).idle_checks.append(time.monotonic())
        return list(super().idle_check(timeout))


def _counting_factory() -> type[_CountingIdle]:
    return type("Counting", (_CountingIdle,), {"idle_checks": []})


def _later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_idle_wakes_up_soon_after_new_mail(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    source = make_source()
    assert source.scan({}) == []
    appended: list[float] = []

    def deliver() -> None:
        dovecot.append(imap_user, make_mail("new complaint"))
        appended.append(time.monotonic())

    thread = _later(0.5, deliver)
    began = time.monotonic()
    source.wait_for_new_mail(10)
    returned = time.monotonic()
    thread.join()

    assert returned - began < 5
    assert appended and returned - appended[0] < 2
    assert len(source.scan({})) == 1


def test_wait_returns_at_once_when_mail_came_since_the_last_scan(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource
) -> None:
    source = make_source()
    source.scan({})
    dovecot.append(imap_user, make_mail("arrived between scan and wait"))
    began = time.monotonic()

    source.wait_for_new_mail(10)

    assert time.monotonic() - began < 1


def test_wait_times_out_and_renews_idle(make_source: MakeSource) -> None:
    factory = _counting_factory()
    source = make_source(client_factory=factory, idle_renew_seconds=0.5)
    source.scan({})
    began = time.monotonic()

    source.wait_for_new_mail(1.6)
    source.wait_for_new_mail(0.4)  # the connection is still good after the timeout

    assert 1.9 <= time.monotonic() - began < 4
    assert len(factory.idle_checks) >= 4  # renewed every 0.5 s rather than one long check


def test_new_mail_during_idle_renewal(dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource) -> None:
    source = make_source(idle_renew_seconds=0.2)
    source.scan({})
    thread = _later(0.7, lambda: dovecot.append(imap_user, make_mail("new")))
    began = time.monotonic()

    source.wait_for_new_mail(10)

    thread.join()
    assert time.monotonic() - began < 3
    assert len(source.scan({})) == 1  # the same connection, still in a sane state


class _NoIdle(IMAPClient):  # type: ignore[misc]
    def has_capability(self, capability: str) -> bool:
        return capability.upper() != "IDLE" and bool(super().has_capability(capability))


def test_a_server_without_idle_means_sleeping(make_source: MakeSource, sleeps: list[float]) -> None:
    make_source(client_factory=_NoIdle).wait_for_new_mail(30)
    assert len(sleeps) == 1 and 29 < sleeps[0] <= 30


def test_without_idle_wait_sleeps_the_timeout(make_source: MakeSource, sleeps: list[float]) -> None:
    make_source(idle=False).wait_for_new_mail(42)
    assert sleeps == [42]


def test_bye_during_idle_returns_without_spinning_and_the_next_scan_reconnects(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, sleeps: list[float]
) -> None:
    factory = _counting_factory()
    source = make_source(client_factory=factory)
    source.scan({})
    thread = _later(0.5, lambda: dovecot.kick(imap_user))
    began = time.monotonic()

    source.wait_for_new_mail(20)

    assert time.monotonic() - began < 5
    thread.join()
    assert len(factory.idle_checks) < 10
    dovecot.append(imap_user, make_mail("after the kick"))
    assert len(source.scan({})) == 1
    assert sleeps == []  # the dead connection was dropped, not retried


def test_a_silently_closed_idle_connection_is_detected(
    dovecot: Dovecot, imap_user: ImapUser, make_source: MakeSource, sleeps: list[float]
) -> None:
    # No BYE this time: the process dies and the socket just closes (EOF), after
    # which idle_check returns [] instantly, forever.
    factory = _counting_factory()
    source = make_source(client_factory=factory)
    source.scan({})

    for _round in range(2):
        thread = _later(0.5, lambda: dovecot.kill_sessions(imap_user))
        began = time.monotonic()
        source.wait_for_new_mail(20)
        assert time.monotonic() - began < 5
        thread.join()

    assert len(factory.idle_checks) < 20
    # The second early end in a row backs off instead of letting the worker spin.
    assert len(sleeps) == 1 and 0.8 <= sleeps[0] <= 1
    assert source.scan({}) == []


# -- the fixture itself -------------------------------------------------------------------


def test_find_dovecot_honours_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROOM_DOVECOT", "/nonexistent/dovecot")
    assert find_dovecot() is None


def test_users_are_isolated(dovecot: Dovecot, imap_user: ImapUser) -> None:
    other = dovecot.add_user()
    dovecot.append(other, make_mail("not yours"))
    assert dovecot.uids(imap_user) == []
    assert dovecot.uids(other) == [1]
