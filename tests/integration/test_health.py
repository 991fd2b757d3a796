"""Health you cannot miss (mailroom/health/): every poll recorded, one alert mail per
incident and one on recovery, through the outbox, against real Dovecot and aiosmtpd."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailroom.clock import LONDON, FixedClock
from mailroom.config import HealthSettings
from mailroom.health.record import (
    AUTH,
    CERTIFICATE,
    ERROR,
    STALE,
    Health,
    check_overdue,
    counted_minutes,
    failure_kind,
    read_all,
    record_failure,
    record_success,
)
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.ingest.source import SourceError
from mailroom.outbound import enqueue
from mailroom.scheduler import MailroomScheduler
from mailroom.services import Services, build_services
from mailroom.store.schema import LedgerEntry, OutboxMessage
from tests.conftest import make_settings
from tests.support import mailgen
from tests.support.dovecot import Dovecot, make_mail
from tests.support.graph_server import GraphServer
from tests.support.smtp import SmtpServers

ADMIN = "it-support@landlord.example"
SOURCE = "imap:complaints@mail.landlord.example/INBOX"
BuildServices = Callable[..., Services]


@pytest.fixture
def build(tmp_path: Path, clock: FixedClock) -> Iterator[BuildServices]:
    made: list[Services] = []

    def make(db: str | None = None, **sections: Any) -> Services:
        sections.setdefault("health", {"admin_addresses": [ADMIN]})
        url = db or f"sqlite:///{tmp_path / 'mailroom.db'}"
        services = build_services(make_settings(tmp_path / "storage", url, **sections), clock)
        made.append(services)
        return services

    yield make
    for services in made:
        services.store.engine.dispose()


def health_mail(services: Services) -> list[tuple[str, str, str]]:
    """(dedupe key, subject, status) of the health mails in the outbox, oldest first."""
    query = (
        select(OutboxMessage.dedupe_key, OutboxMessage.subject, OutboxMessage.status)
        .where(OutboxMessage.dedupe_key.startswith("health:"))
        .order_by(OutboxMessage.id)
    )
    with services.store.transaction() as repo:
        return [tuple(row) for row in repo.session.execute(query)]  # type: ignore[misc]


def row_of(services: Services, name: str) -> Health:
    with services.store.transaction() as repo:
        return read_all(repo.session)[name]


def uk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# -- what kind of failure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("imap login failed for c@mail.example: [AUTHENTICATIONFAILED] Authentication failed.", AUTH),
        ("oauth2 token command az failed with exit status 1: AADSTS7000215: Invalid client secret", AUTH),
        ("oauth2 token command helper timed out after 30s", AUTH),
        ("imap oauth2 token provider failed: ValueError", AUTH),
        ("SMTP login refused: 535 5.7.139 Authentication unsuccessful", AUTH),
        ("graph GET /users/c/messages failed: HTTP 401 InvalidAuthenticationToken", AUTH),
        (
            "imap TLS certificate verification failed for mail.example:993: certificate has expired",
            CERTIFICATE,
        ),
        ("TLS certificate verification failed: self-signed certificate", CERTIFICATE),
        ("imap scan failed for c@mail.example after 5 attempts: ConnectionRefusedError", ERROR),
        ("SMTPServerDisconnected: Connection lost", ERROR),
    ],
)
def test_a_failure_is_classified_from_the_words_of_its_source(error: str, kind: str) -> None:
    assert failure_kind(SourceError(error)) == kind
    assert failure_kind(error) == kind


def test_a_kind_given_or_a_cause_wins_over_the_words() -> None:
    assert failure_kind(SourceError("graph delta failed", kind=CERTIFICATE)) == CERTIFICATE
    assert failure_kind(SourceError("login failed", kind="")) == AUTH
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "unable to get local issuer")
        except ssl.SSLError as exc:
            raise SourceError("graph connection failed") from exc
    except SourceError as wrapped:
        assert failure_kind(wrapped) == CERTIFICATE


# -- working minutes -------------------------------------------------------------------------------


def test_only_minutes_in_working_hours_of_working_days_count(build: BuildServices) -> None:
    services = build()
    calendar, settings = services.calendar, services.settings.health

    def minutes(start: str, end: str, health: HealthSettings = settings) -> float:
        return counted_minutes(uk(start), uk(end), health, calendar)

    assert minutes("2026-11-23T10:00", "2026-11-23T10:29") == 29
    assert minutes("2026-11-20T16:50", "2026-11-23T09:20") == 30  # Friday evening to Monday morning
    assert minutes("2026-11-23T07:00", "2026-11-23T08:59") == 0  # before hours
    # Christmas Day (Friday), the weekend and Boxing Day's substitute (Monday 28th) do not count.
    assert minutes("2026-12-24T16:45", "2026-12-29T09:15") == 30
    around_the_clock = HealthSettings(working_hours_only=False)
    assert minutes("2026-11-21T01:00", "2026-11-21T01:45", around_the_clock) == 45


# -- incidents, alerts and recovery ----------------------------------------------------------------


def test_an_auth_failure_alerts_once_per_incident_and_once_on_recovery(
    build: BuildServices, db_url: str, clock: FixedClock
) -> None:
    services = build(db_url)
    record_success(services, SOURCE)
    refused = SourceError("oauth2 token command az failed with exit status 1: AADSTS700082: expired")
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        record_failure(services, SOURCE, refused)
    row = row_of(services, SOURCE)
    assert (row.incident, row.consecutive_failures) == (AUTH, 3)
    assert row.alerted_at == row.incident_since == datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    assert row.last_error == str(refused)
    [(key, subject, _)] = health_mail(services)
    assert key == f"health:{SOURCE}:2026-11-23T10:01:00+00:00"
    assert subject == f"mailroom alert: authentication failure on {SOURCE}"

    clock.advance(timedelta(minutes=1))
    record_success(services, SOURCE)
    record_success(services, SOURCE)
    row = row_of(services, SOURCE)
    assert (row.incident, row.incident_since, row.alerted_at, row.consecutive_failures) == ("", None, None, 0)
    assert [subject for _, subject, _ in health_mail(services)] == [
        f"mailroom alert: authentication failure on {SOURCE}",
        f"mailroom recovered: {SOURCE}",
    ]
    clock.advance(timedelta(minutes=1))
    record_failure(services, SOURCE, refused)  # a new incident: a new alert
    assert len(health_mail(services)) == 3


def test_a_source_with_no_successful_poll_for_30_working_minutes_is_stale(
    build: BuildServices, clock: FixedClock
) -> None:
    services = build()
    clock.set(uk("2026-11-20T16:50"))  # Friday
    record_success(services, SOURCE)
    never = "maildir:never"
    clock.set(uk("2026-11-23T09:00"))  # Monday
    down = SourceError("imap scan failed after 5 attempts: ConnectionRefusedError")
    record_failure(services, SOURCE, down)
    record_failure(services, never, down)  # never once succeeded: stale 30 minutes after this
    clock.set(uk("2026-11-23T09:15"))
    assert check_overdue(services, [SOURCE, never]) == []  # 10 + 15 working minutes

    clock.set(uk("2026-11-23T09:21"))
    [alerted] = check_overdue(services, [SOURCE, never])
    assert (alerted.source, alerted.incident) == (SOURCE, STALE)
    assert check_overdue(services, [SOURCE, never]) == []  # once per incident
    clock.set(uk("2026-11-23T09:31"))
    [alerted] = check_overdue(services, [SOURCE, never])
    assert (alerted.source, alerted.incident) == (never, STALE)
    assert check_overdue(services, ["maildir:other"]) == []  # sources not configured are left alone
    record_success(services, SOURCE)
    assert [subject for _, subject, _ in health_mail(services)] == [
        f"mailroom alert: no successful poll on {SOURCE}",
        f"mailroom alert: no successful poll on {never}",
        f"mailroom recovered: {SOURCE}",
    ]


def test_with_no_one_to_tell_the_incident_waits_and_is_mailed_once_someone_is(
    build: BuildServices, clock: FixedClock
) -> None:
    silent = build(health={})
    record_failure(silent, SOURCE, SourceError("imap login failed for c@h: [AUTHENTICATIONFAILED]"))
    row = row_of(silent, SOURCE)
    assert (row.incident, row.alerted_at) == (AUTH, None)
    assert health_mail(silent) == []

    told = build(reminders={"manager_addresses": ["head@landlord.example"]}, health={})
    [alerted] = check_overdue(told, [SOURCE])
    assert alerted.alerted_at == clock.now()
    assert check_overdue(told, [SOURCE]) == []
    [(_, subject, _)] = health_mail(told)
    assert subject.startswith("mailroom alert: authentication failure")


def test_a_certificate_failure_alerts_at_once(build: BuildServices) -> None:
    services = build()
    record_failure(
        services, SOURCE, SourceError("imap TLS certificate verification failed for h:993: expired")
    )
    assert row_of(services, SOURCE).incident == CERTIFICATE
    assert len(health_mail(services)) == 1


# -- the scheduler's jobs --------------------------------------------------------------------------


def _smtp(ca_file: Path, port: int) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "ca_file": str(ca_file),
        "sender": "complaints@landlord.example",
        "retry_base_seconds": 60,
    }


def test_the_mailbox_job_records_each_source_and_a_failing_one_does_not_stop_the_others(
    build: BuildServices,
    dovecot: Dovecot,
    tmp_path: Path,
    smtp_server: SmtpServers,
    ca_file: Path,
) -> None:
    collector, port = smtp_server()
    user = dovecot.add_user()
    imap = {**dovecot.settings(user).model_dump(mode="json"), "password": "wrong-password"}
    maildir = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(mailgen.complaint(1))
    services = build(imap=imap, smtp=_smtp(ca_file, port))
    said: list[str] = []
    imap_source = services.sources()[0]
    scheduler = MailroomScheduler(services, [imap_source, MaildirSource([maildir])], say=said.append)
    try:
        scheduler._mailbox()
        scheduler._mailbox()
        scheduler._outbox()
    finally:
        imap_source.close()

    name = f"imap:{user.name}@{dovecot.settings(user).host}/INBOX"
    rows = {row.source: row for row in _rows(services)}
    assert sorted(rows) == sorted([name, "maildir:files", "outbound:smtp"])
    assert (rows[name].incident, rows[name].consecutive_failures) == (AUTH, 2)
    assert "wrong-password" not in rows[name].last_error
    assert rows["maildir:files"].incident == "" and rows["maildir:files"].last_success_at is not None
    assert len([line for line in said if "imap login failed" in line]) == 2
    assert any(line.startswith("ingested 1") for line in said)  # the Maildir was read all the same
    [alert] = collector.messages
    assert alert["Subject"] == f"mailroom alert: authentication failure on {name}"
    assert alert["To"] == ADMIN


def test_a_transport_that_keeps_failing_is_an_incident_of_its_own(
    build: BuildServices, clock: FixedClock, smtp_server: SmtpServers, ca_file: Path
) -> None:
    collector, port = smtp_server()
    smtp_server.stop(port)  # the SMTP server is down
    services = build(smtp=_smtp(ca_file, port))
    scheduler = MailroomScheduler(services, [], say=print)
    record_failure(services, SOURCE, SourceError("imap login failed for c@h: [AUTHENTICATIONFAILED]"))
    scheduler._outbox()  # the alert cannot leave: connection refused, retried later
    transport = row_of(services, "outbound:smtp")
    assert (transport.incident, transport.consecutive_failures) == ("", 1)
    clock.advance(timedelta(minutes=31))
    scheduler._outbox()
    transport = row_of(services, "outbound:smtp")
    assert (transport.incident, transport.consecutive_failures) == (ERROR, 2)
    assert [subject for _, subject, _ in health_mail(services)][
        1
    ] == "mailroom alert: failing on outbound:smtp"

    smtp_server.restart(port)
    clock.advance(timedelta(minutes=10))
    scheduler._outbox()  # both alerts leave; the transport recovers, which queues its recovery mail
    clock.advance(timedelta(minutes=1))
    scheduler._outbox()
    subjects = [message["Subject"] for message in collector.messages]
    assert sorted(subjects[:2]) == [
        f"mailroom alert: authentication failure on {SOURCE}",
        "mailroom alert: failing on outbound:smtp",
    ]
    assert subjects[2:] == ["mailroom recovered: outbound:smtp"]


def test_while_graph_fails_the_alerts_leave_by_smtp_and_the_rest_waits_for_graph(
    build: BuildServices, tmp_path: Path, clock: FixedClock, smtp_server: SmtpServers, ca_file: Path
) -> None:
    """Graph is the transport; SMTP is set up too. While Graph fails, the mail that says
    something is wrong goes by SMTP, which still works; a letter waits for Graph."""
    mailbox = "complaints@landlord.example"
    collector, port = smtp_server()
    with GraphServer(tls=True, mailboxes=(mailbox,)) as graph:
        secret = tmp_path / "m365_secret"
        secret.write_text(graph.client_secret + "\n", encoding="utf-8")
        services = build(
            smtp=_smtp(ca_file, port),
            outbound={"transport": "graph"},
            m365={
                "tenant_id": graph.tenant,
                "client_id": graph.client_id,
                "client_secret_file": str(secret),
                "authority_host": graph.root,
                "graph_url": graph.root,
                "ca_file": str(graph.ca_file(tmp_path)),
                "timeout": 10,
            },
        )
        scheduler = MailroomScheduler(services, [], say=lambda line: None)
        with services.store.transaction() as repo:
            enqueue(
                repo,
                dedupe_key="letter:CMP-2026-000001:stage1",
                sender=mailbox,
                recipients=["resident@example.org"],
                subject="Your complaint CMP-2026-000001",
                body_text="Our response is attached.\n",
                now=clock.now(),
            )
        graph.revoke_secret()
        graph.expire_tokens()
        record_failure(services, SOURCE, SourceError("imap login failed for c@h: [AUTHENTICATIONFAILED]"))

        scheduler._outbox()  # Graph is not known to fail yet: both mails try it, and wait
        assert row_of(services, "outbound:graph").consecutive_failures == 1
        assert collector.messages == []
        clock.advance(timedelta(minutes=2))  # past the first retry's wait
        scheduler._outbox()
        # The revoked secret is an incident of Graph's own: both alerts leave by SMTP.
        assert sorted(message["Subject"] for message in collector.messages) == [
            "mailroom alert: authentication failure on imap:complaints@mail.landlord.example/INBOX",
            "mailroom alert: authentication failure on outbound:graph",
        ]
        assert graph.sent_messages(mailbox) == []
        assert [status for _, _, status in health_mail(services)] == ["sent", "sent"]
        assert row_of(services, "outbound:smtp").last_success_at == clock.now()
        assert row_of(services, "outbound:graph").consecutive_failures == 2

        graph.restore_secret()
        clock.advance(timedelta(minutes=10))
        scheduler._outbox()  # Graph works again: the letter leaves by Graph, never by SMTP
        clock.advance(timedelta(minutes=1))
        scheduler._outbox()  # and so does the recovery mail it queued
        sent = [message.parsed()["Subject"] for message in graph.sent_messages(mailbox)]
        assert sent == ["Your complaint CMP-2026-000001", "mailroom recovered: outbound:graph"]
        assert len(collector.messages) == 2
        assert row_of(services, "outbound:graph").consecutive_failures == 0


def _rows(services: Services) -> list[Health]:
    with services.store.transaction() as repo:
        return list(read_all(repo.session).values())


# -- acceptance: a stale token command ---------------------------------------------------------------

TOKEN_HELPER = """\
import sys
from pathlib import Path
if Path(sys.argv[1]).read_text().strip() == "fail":
    print("AADSTS700082: The refresh token has expired due to inactivity.", file=sys.stderr)
    sys.exit(1)
print(sys.argv[2])
"""


def test_a_stale_token_command_mails_one_alert_and_one_recovery(
    build: BuildServices,
    dovecot: Dovecot,
    tmp_path: Path,
    clock: FixedClock,
    smtp_server: SmtpServers,
    ca_file: Path,
) -> None:
    token = "xoauth2-token-4f9a1c"
    user = dovecot.add_user(password=token)  # Dovecot checks an XOAUTH2 token as the password
    helper, state = tmp_path / "token_helper.py", tmp_path / "token-state"
    helper.write_text(TOKEN_HELPER, encoding="utf-8")
    state.write_text("ok", encoding="utf-8")
    command = [sys.executable, str(helper), str(state), token]
    imap = {
        **dovecot.settings(user).model_dump(mode="json"),
        "auth": "xoauth2",
        "password": "",
        "oauth2_token_command": command,
    }
    collector, port = smtp_server()
    services = build(imap=imap, smtp=_smtp(ca_file, port))
    [source] = services.sources()
    scheduler = MailroomScheduler(services, [source], say=lambda line: None)

    def poll() -> None:
        clock.advance(timedelta(minutes=1))
        source.close()  # the next pass logs in afresh, with a token from the command
        scheduler._mailbox()
        scheduler._outbox()

    try:
        poll()
        state.write_text("fail", encoding="utf-8")  # the refresh token behind the command expired
        dovecot.append(user, make_mail("while the token is stale"))
        for _ in range(3):
            poll()
        failing = row_of(services, source_name_of(services))
        assert (failing.incident, failing.consecutive_failures) == (AUTH, 3)
        assert token not in failing.last_error and "AADSTS700082" in failing.last_error
        state.write_text("ok", encoding="utf-8")
        poll()
        poll()  # the recovery mail was queued after the outbox run of the pass that recovered
    finally:
        source.close()

    name = source_name_of(services)
    assert [message["Subject"] for message in collector.messages] == [
        f"mailroom alert: authentication failure on {name}",
        f"mailroom recovered: {name}",
    ]
    assert {message["To"] for message in collector.messages} == {ADMIN}
    body = collector.messages[0].get_content()
    assert "AADSTS700082" in body and token not in body
    assert row_of(services, name).incident == ""
    with services.store.transaction() as repo:
        assert repo.session.query(OutboxMessage).filter(OutboxMessage.status != "sent").count() == 0
    assert len(dovecot.uids(user, "Processed")) == 1  # nothing lost while the token was stale


def source_name_of(services: Services) -> str:
    imap = services.settings.imap
    return f"imap:{imap.ledger_account}/{imap.folder}"


# -- acceptance: a revoked client secret (Microsoft Graph through MSAL) -------------------------------


def test_a_revoked_client_secret_mails_one_alert_and_one_recovery(
    build: BuildServices, tmp_path: Path, clock: FixedClock, smtp_server: SmtpServers, ca_file: Path
) -> None:
    """The [graph] source signs in with the [m365] app's client secret through MSAL
    (mailroom/m365/tokens.py) against the Graph test server; the secret is revoked in
    Entra ID while its last token expires. The alerts leave by SMTP, which still works."""
    mailbox = "complaints@landlord.example"
    collector, port = smtp_server()
    with GraphServer(tls=True, mailboxes=(mailbox,)) as graph:
        secret = tmp_path / "m365_secret"
        secret.write_text(graph.client_secret + "\n", encoding="utf-8")
        services = build(
            smtp=_smtp(ca_file, port),
            graph={"mailbox": mailbox, "auth": "msal"},
            m365={
                "tenant_id": graph.tenant,
                "client_id": graph.client_id,
                "client_secret_file": str(secret),
                "authority_host": graph.root,
                "graph_url": graph.root,
                "ca_file": str(graph.ca_file(tmp_path)),
                "timeout": 10,
            },
        )
        [source] = services.sources()
        name = f"graph:{mailbox}"
        scheduler = MailroomScheduler(services, [source], say=lambda line: None)

        def poll() -> None:
            clock.advance(timedelta(minutes=1))
            scheduler._mailbox()
            scheduler._outbox()

        try:
            poll()
            graph.revoke_secret()
            graph.expire_tokens()
            graph.add_message(mailgen.complaint(1))
            for _ in range(3):
                poll()
            failing = row_of(services, name)
            assert (failing.incident, failing.consecutive_failures) == (AUTH, 3)
            assert "AADSTS7000215" in failing.last_error and graph.client_secret not in failing.last_error
            graph.restore_secret()
            poll()
            poll()
        finally:
            source.close()
    with services.store.transaction() as repo:  # the mail was read once the secret worked again
        assert repo.session.query(LedgerEntry).count() == 1

    assert [message["Subject"] for message in collector.messages] == [
        f"mailroom alert: authentication failure on {name}",
        f"mailroom recovered: {name}",
    ]
    assert graph.client_secret not in collector.messages[0].get_content()
