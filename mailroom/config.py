"""Settings: embedded defaults < TOML file < secret files < MAILROOM_* environment.

Every option is documented in ``config.example.toml``. Loading opens no
connections; a bad setting fails at start with one line naming the key.

The sources are merged here rather than by pydantic-settings: every staff
command loads settings, and that package alone costs more start-up time than the
budget in DEVELOPERS.md allows. The rules are the same: ``MAILROOM_SECTION__KEY``
(deeper levels joined by ``__``), lists and tables as JSON, and secret files
named ``section__key`` in ``MAILROOM_SECRETS_DIR``.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import typing
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mailroom.config_sources import (
    DEFAULT_STORAGE_ROOT,
    Override,
    Sources,
    merge,
    nested,
    read_sources,
    sqlite_url,
)
from mailroom.config_sources import ConfigError as ConfigError  # raised here, caught by callers
from mailroom.domain.regions import Region as Region  # settings name the region

_SECRET_WORDS = ("password", "token", "secret", "url")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Section):
    root: Path = DEFAULT_STORAGE_ROOT
    max_message_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    # A group given read access to the records (docs/records.md); "" keeps them private.
    records_group: str = Field(default="", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$|^$")


class IngestSettings(_Section):
    """Limits on the work one mail may cost (docs/ingestion.md, "Limits")."""

    # Wall-clock and CPU seconds to parse and stage one mail in the helper
    # process; over either, the helper is killed and the mail quarantined.
    parse_seconds: float = Field(default=20.0, gt=0, le=3600)
    parse_cpu_seconds: int = Field(default=20, ge=1, le=3600)
    # Address space of the helper process (RLIMIT_AS), MiB.
    parse_memory_mb: int = Field(default=2048, ge=256)
    # MIME parts split out of one mail; the rest stay inside message.eml.
    max_mime_parts: int = Field(default=1000, ge=1)
    # Multipart nesting followed; deeper parts stay inside message.eml.
    max_nesting_depth: int = Field(default=20, ge=1, le=200)
    # Bytes of one header value that are decoded (the rest is dropped).
    max_header_bytes: int = Field(default=1048576, ge=1024)
    # RFC 2047 encoded-words decoded per header value (the rest stay as written).
    max_encoded_words: int = Field(default=1000, ge=1)
    # Content-Type / Content-Disposition parameters read per part.
    max_content_type_params: int = Field(default=100, ge=1)
    # Attachments filed per mail; the rest stay inside message.eml.
    max_attachments: int = Field(default=500, ge=1)


class DatabaseSettings(_Section):
    # Empty: SQLite at <storage.root>/mailroom.db. Kept out of repr: a
    # PostgreSQL URL may carry a password.
    url: str = Field(default="", repr=False)


class IdSettings(_Section):
    prefix: str = Field(default="CMP", pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    digits: int = Field(default=6, ge=4, le=10)


class ImapSecurity(StrEnum):
    TLS = "tls"  # implicit TLS, usually port 993
    STARTTLS = "starttls"  # plain connect then STARTTLS, usually port 143
    NONE = "none"  # cleartext; refused unless the host is a loopback address


class ImapAuth(StrEnum):
    PASSWORD = "password"
    XOAUTH2 = "xoauth2"


class MailboxAction(StrEnum):
    MOVE = "move"
    FLAG = "flag"
    NONE = "none"


class ImapSettings(_Section):
    host: str = ""  # empty: the IMAP source is off
    port: int = Field(default=993, gt=0, lt=65536)
    security: ImapSecurity = ImapSecurity.TLS
    ca_file: Path | None = None
    username: str = ""
    password: SecretStr = SecretStr("")
    password_file: Path | None = None
    auth: ImapAuth = ImapAuth.PASSWORD
    oauth2_token_command: list[str] = Field(default_factory=list)
    account: str = ""  # ledger name; default username@host
    folder: str = "INBOX"
    action: MailboxAction = MailboxAction.MOVE
    processed_folder: str = "Processed"
    flag: str = "$MailroomFiled"
    batch_size: int = Field(default=50, ge=1, le=1000)
    connect_timeout: float = Field(default=15.0, gt=0)
    read_timeout: float = Field(default=120.0, gt=0)
    idle: bool = True
    idle_renew_seconds: float = Field(default=540.0, gt=0, le=1740)
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    reconnect_backoff_max_seconds: float = Field(default=300.0, gt=0)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def ledger_account(self) -> str:
        return self.account or f"{self.username}@{self.host}"

    @model_validator(mode="after")
    def _check_security(self) -> ImapSettings:
        if not self.host:
            return self
        if not self.username:
            raise ValueError("username is required when host is set")
        if self.security is ImapSecurity.NONE and not _is_loopback(self.host):
            raise ValueError("security 'none' is allowed only for a loopback host")
        if self.auth is ImapAuth.XOAUTH2 and not self.oauth2_token_command:
            raise ValueError("auth 'xoauth2' needs oauth2_token_command")
        if self.action is MailboxAction.MOVE and not self.processed_folder:
            raise ValueError("action 'move' needs processed_folder")
        return self

    def resolved_password(self) -> str:
        return _secret(self.password, self.password_file, "imap.password_file")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # plain connect then STARTTLS, required (never opportunistic); port 587
    TLS = "tls"  # implicit TLS, usually port 465
    NONE = "none"  # cleartext; refused unless the host is a loopback address


class SmtpAuth(StrEnum):
    PASSWORD = "password"  # AUTH PLAIN/LOGIN with username and password (no AUTH while username is "")
    # An OAuth2 access token: oauth2_token_command, else the [m365] app (docs/microsoft-365.md).
    XOAUTH2 = "xoauth2"
    NONE = "none"  # no AUTH at all (a relay that trusts our address)


class SmtpSettings(_Section):
    host: str = ""  # empty: outbound mail stays queued in the outbox
    port: int = Field(default=587, gt=0, lt=65536)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    ca_file: Path | None = None
    username: str = ""  # empty: no SMTP AUTH
    password: SecretStr = SecretStr("")
    password_file: Path | None = None
    sender: str = ""  # the From address of outbound mail
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=8, ge=1, le=100)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    auth: SmtpAuth = SmtpAuth.PASSWORD
    # auth "xoauth2": a program printing an access token (as imap.oauth2_token_command);
    # empty: the token comes from the [m365] app registration.
    oauth2_token_command: list[str] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @field_validator("ca_file", "password_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> SmtpSettings:
        if not self.host:
            return self
        if "@" not in self.sender:
            raise ValueError("sender (an address) is required when host is set")
        if self.security is SmtpSecurity.NONE and not _is_loopback(self.host):
            raise ValueError("security 'none' is allowed only for a loopback host")
        if self.auth is SmtpAuth.XOAUTH2 and not self.username:
            raise ValueError("auth 'xoauth2' needs username (the mailbox the token is for)")
        if self.auth is SmtpAuth.XOAUTH2 and self.security is SmtpSecurity.NONE:
            # A bearer token is as good as a password for an hour: never in cleartext.
            raise ValueError("auth 'xoauth2' needs security 'starttls' or 'tls'")
        return self

    def resolved_password(self) -> str:
        return _secret(self.password, self.password_file, "smtp.password_file")


class MaildirSettings(_Section):
    # A Maildir (cur/new) or a folder of .eml files read by `mailroom run`;
    # empty: off. Off by default so that demo mail can never reach a real
    # database; `make demo` turns it on for the bundled examples/mailbox.
    path: Path | None = None

    @field_validator("path", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if value == "" else value


class ClassifySettings(_Section):
    own_addresses: list[str] = Field(default_factory=list)
    mp_domains: list[str] = Field(default_factory=lambda: ["parliament.uk"])
    councillor_domains: list[str] = Field(default_factory=list)


class CalendarSettings(_Section):
    region: Region = Region.ENGLAND_AND_WALES
    # Days the office is shut besides bank holidays (e.g. the Christmas shutdown).
    closure_days: list[date] = Field(default_factory=list)
    # Days that are working days although they would not be (e.g. a Saturday opening).
    extra_working_days: list[date] = Field(default_factory=list)
    # "HH:MM" UK time: a complaint received after it counts from the next working
    # day. Empty (the default): the day of receipt is day 0 whatever the hour,
    # the strictest reading of the Code.
    cutoff: time | None = None
    # Optional gov.uk bank-holidays.json to cross-check the holidays package against.
    govuk_bank_holidays_file: Path | None = None

    @field_validator("cutoff", "govuk_bank_holidays_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


class PolicySettings(_Section):
    # The Code's clocks as data; empty: the bundled rules/housing-ombudsman-2024.toml.
    rule_pack: Path | None = None
    # The landlord's own limits in working days, stricter than the Code only,
    # e.g. {stage1_response = 8}. A laxer value stops mailroom at start.
    clocks: dict[str, int] = Field(default_factory=dict)
    # A clock with this many working days or fewer left is "due_soon".
    due_soon_working_days: int = Field(default=2, ge=0, le=20)
    # The landlord's own complaints policy (rules/policies/*.toml: letterhead,
    # signatory, timescales, exclusions), checked with `mailroom rules check`.
    # Empty: letters carry a neutral placeholder landlord; set it for real use.
    landlord_file: Path | None = None

    @field_validator("rule_pack", "landlord_file", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value


class ReminderSettings(_Section):
    # The team's shared addresses: reminded for cases with no officer assigned
    # (`mailroom cases assign`). Assigned cases remind their officer only.
    officer_addresses: list[str] = Field(default_factory=list)
    # Told when a deadline has lapsed, for officers without a manager in the
    # staff list (`mailroom staff add --manager`) and for unassigned cases.
    manager_addresses: list[str] = Field(default_factory=list)
    # One digest mail per sweep instead of one mail per reminder, for addresses
    # not in the staff list (staff members choose with `staff add --digest`).
    digest: bool = False
    # Working days before the due day to remind; 0 = the morning of the due day.
    before: list[int] = Field(default_factory=lambda: [2, 0])
    # Remind every working day while a deadline is overdue.
    overdue_daily: bool = True
    # Reminders go only inside this window of a working day, UK time.
    window_start: time = time(9, 0)
    window_end: time = time(17, 0)


class WorkerSettings(_Section):
    progress: bool = True


# The jobs of `mailroom run` (mailroom/scheduler.py) and their default schedules.
# mailbox has none: it runs every imap.poll_interval_seconds unless told otherwise.
SCHEDULER_JOBS: dict[str, dict[str, object]] = {
    "mailbox": {},
    "reminders": {"seconds": 300.0},
    "outbox": {"seconds": 30.0},
    "calendar": {"cron": "15 3 * * *"},
    "drafts": {"seconds": 60.0},
}


_DEFAULT_CRONS = frozenset(str(job["cron"]) for job in SCHEDULER_JOBS.values() if "cron" in job)


class JobSettings(_Section):
    enabled: bool = True
    seconds: float | None = Field(default=None, gt=0)  # an interval...
    cron: str = ""  # ...or a crontab line, UK time; not both

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        # The defaults are known good (tests/integration/test_scheduler.py builds them);
        # parsing them here would load the scheduler package on every command.
        if value and value not in _DEFAULT_CRONS:
            from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

            try:
                CronTrigger.from_crontab(value, timezone="Europe/London")
            except ValueError as exc:
                raise ValueError("not a valid crontab (minute hour day month weekday): " + str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> JobSettings:
        if self.seconds is not None and self.cron:
            raise ValueError("set seconds or cron, not both")
        return self


class SchedulerSettings(_Section):
    # Seconds between a standby `mailroom run`'s attempts to take the scheduler lock.
    standby_retry_seconds: float = Field(default=15.0, gt=0)
    # By job name. A dict, not a section model: each table given in the file is
    # completed from SCHEDULER_JOBS, and a schedule given replaces the default one.
    jobs: dict[str, JobSettings] = Field(
        default_factory=lambda: {name: JobSettings.model_validate(d) for name, d in SCHEDULER_JOBS.items()}
    )

    @field_validator("jobs", mode="before")
    @classmethod
    def _complete_jobs(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value  # pydantic names the type error
        unknown = sorted(str(name) for name in value if name not in SCHEDULER_JOBS)
        if unknown:
            raise ValueError(f"unknown job {unknown[0]!r} (the jobs are {', '.join(SCHEDULER_JOBS)})")
        jobs: dict[str, object] = {}
        for name, default in SCHEDULER_JOBS.items():
            given = value.get(name, {})
            if isinstance(given, JobSettings):
                given = given.model_dump()
            if not isinstance(given, dict):
                jobs[name] = given
                continue
            given = {k: v for k, v in given.items() if (k, v) not in (("cron", ""), ("seconds", None))}
            own_schedule = "seconds" in given or "cron" in given
            jobs[name] = {**({} if own_schedule else default), **given}
        return jobs


class OidcSettings(_Section):
    """Single sign-on through OpenID Connect (Microsoft Entra ID); off while issuer is "".
    docs/desk-sso.md."""

    # e.g. https://login.microsoftonline.com/<tenant id>/v2.0 (its
    # /.well-known/openid-configuration is read at start).
    issuer: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    client_secret_file: Path | None = None
    # The claim holding group ids (Entra ID: "groups") and the role each group gives;
    # the strongest role a person's groups give wins (desk/oidc.py ROLE_PRECEDENCE).
    groups_claim: str = "groups"
    group_roles: dict[str, str] = Field(default_factory=dict)
    # A person signing in with no mapped group: "" refuses them until an admin sets
    # their role (`mailroom users add`); or a role every such person gets.
    default_role: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    def secret(self) -> str:
        return _secret(self.client_secret, self.client_secret_file, "web.oidc.client_secret")


class WebSettings(_Section):
    """The review desk, `mailroom web` (docs/desk.md)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=2, ge=1, le=64)
    # Signs the CSRF tokens. Empty: a random key is kept in <storage.root>/.desk-secret,
    # which every desk instance sharing the storage reads; set it when they do not.
    secret_key: SecretStr = SecretStr("")
    secret_key_file: Path | None = None
    # The desk is reached over HTTPS (directly or through a proxy that says so):
    # cookies are Secure and browsers are told to use HTTPS only (HSTS).
    https: bool = False
    # Proxies in front of the desk whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    # A session unused this long, or this old, signs its person out.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # Wrong passwords in a row that lock an account, and for how long.
    lockout_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Failed sign-ins from one address per 15 minutes before it is refused for a while.
    login_attempts_per_address: int = Field(default=30, ge=1, le=10000)
    # The roles that may approve a stage 2 letter (Code 5: stage 2 is a senior review).
    stage2_approver_roles: list[str] = Field(default_factory=lambda: ["manager"])
    # Rows on a page of any list.
    page_size: int = Field(default=50, ge=5, le=500)
    oidc: OidcSettings = OidcSettings()

    def secret(self) -> str:
        return _secret(self.secret_key, self.secret_key_file, "web.secret_key")

    @field_validator("stage2_approver_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        known = ("inbox", "officer", "manager", "records", "admin")
        for role in value:
            if role not in known:
                raise ValueError(f"unknown role {role!r} (the roles are {', '.join(known)})")
        return value


class RetentionSettings(_Section):
    """How long a finished case is kept before `mailroom retention apply` erases its
    personal data (UK GDPR storage limitation; docs/records.md, "Retention"). Years
    run from the UK date of the step, e.g. closed 2026-03-01 + 6: erasable 2032-03-01."""

    # A closed or withdrawn complaint: years after the closing step.
    closed_years: int = Field(default=6, ge=1, le=100)
    # A contact refused as a complaint (Code 2.1-2.4): years after the refusal.
    refused_years: int = Field(default=6, ge=1, le=100)
    # A case the Housing Ombudsman determined: also kept this long after the
    # determination (the later of the two dates applies).
    after_determination_years: int = Field(default=6, ge=1, le=100)


class OutboundTransport(StrEnum):
    SMTP = "smtp"  # the [smtp] server
    GRAPH = "graph"  # Microsoft Graph sendMail as the [m365] mailbox (docs/microsoft-365.md)


class OutboundSettings(_Section):
    """How the outbox leaves (mailroom/outbound.py); retries and attempts stay in [smtp]."""

    transport: OutboundTransport = OutboundTransport.SMTP


class M365Settings(_Section):
    """The Entra ID app registration mailroom signs in as (app-only, client
    credentials) for SMTP XOAUTH2, Graph sending and Graph ingestion.
    docs/microsoft-365.md. Off while tenant_id is ""."""

    tenant_id: str = Field(default="", pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$|^$")
    client_id: str = ""
    # The secret's value (not its ID), first line of the file. Files only: a
    # secret in the config text ends up in backups and shell histories.
    client_secret_file: Path | None = None
    # Or a certificate: one PEM file holding the private key and its certificate
    # (the thumbprint is computed from it), or the key alone plus certificate_thumbprint.
    certificate_file: Path | None = None
    certificate_thumbprint: str = Field(default="", pattern=r"^[0-9A-Fa-f:]*$")
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    # The complaints mailbox (UPN or primary SMTP address) that Graph sends as.
    mailbox: str = ""
    # Extra CA bundle (PEM) for authority_host and graph_url (a TLS-inspecting proxy, tests).
    ca_file: Path | None = None
    timeout: float = Field(default=30.0, gt=0, le=600)

    @property
    def enabled(self) -> bool:
        return bool(self.tenant_id)

    @field_validator("client_secret_file", "certificate_file", "ca_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> M365Settings:
        for key in ("authority_host", "graph_url"):
            url = getattr(self, key)
            scheme, _, rest = url.partition("://")
            host = rest.split("/")[0].rpartition("@")[2].rsplit(":", 1)[0].strip("[]")
            # MSAL itself refuses a non-https authority; Graph over http only for a test server.
            if scheme != "https" and not (scheme == "http" and key == "graph_url" and _is_loopback(host)):
                raise ValueError(f"{key} must be an https:// URL")
        if not self.tenant_id:
            return self
        if not self.client_id:
            raise ValueError("client_id is required when tenant_id is set")
        if (self.client_secret_file is None) == (self.certificate_file is None):
            raise ValueError("set exactly one of client_secret_file and certificate_file")
        return self


class HealthSettings(_Section):
    """Health alerts (mailroom/health/, docs/deployment.md "Health"): a source or
    transport that fails to authenticate or to verify a certificate, or has no
    successful poll for alert_after_minutes, mails these addresses once per
    incident and once on recovery."""

    # Working minutes (below) without a successful poll before a source is "stale".
    alert_after_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # Who is told. Empty: reminders.manager_addresses.
    admin_addresses: list[str] = Field(default_factory=list)
    # Count only minutes inside working hours of working days (the calendar's); false:
    # every minute counts (a mailbox watched around the clock).
    working_hours_only: bool = True
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(17, 0)

    @field_validator("admin_addresses")
    @classmethod
    def _bare_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(ch in address for ch in ",<>\r\n\t "):
                raise ValueError(f"not a bare address: {address!r}")
        return value

    @model_validator(mode="after")
    def _hours(self) -> HealthSettings:
        if self.working_hours_end <= self.working_hours_start:
            raise ValueError("working_hours_end must be after working_hours_start")
        return self


class GraphAuth(StrEnum):
    COMMAND = "command"  # token_command prints an access token (as imap.oauth2_token_command)
    MSAL = "msal"  # the built-in MSAL provider from the [m365] app registration


class GraphSettings(_Section):
    """The complaints mailbox read through Microsoft Graph (mailroom/ingest/graph_source.py,
    docs/microsoft-365.md). Off while mailbox is ""."""

    mailbox: str = ""  # UPN, primary SMTP address or user id of the mailbox
    auth: GraphAuth = GraphAuth.COMMAND
    token_command: list[str] = Field(default_factory=list)
    # Empty: [m365].graph_url (https://graph.microsoft.com); http only for a loopback test server.
    graph_url: str = ""
    ca_file: Path | None = None  # empty: [m365].ca_file, else the system's CAs
    account: str = ""  # ledger name; default graph:<mailbox>
    folder: str = "inbox"  # a well-known name (inbox) or a top-level folder's display name
    action: MailboxAction = MailboxAction.MOVE
    processed_folder: str = "Processed"  # display name; created if missing
    category: str = "Mailroom filed"  # action "flag": this Outlook category is added
    batch_size: int = Field(default=50, ge=1, le=1000)
    page_size: int = Field(default=100, ge=1, le=1000)  # Prefer: odata.maxpagesize of a delta round
    # Outlook allows 4 concurrent requests per app and mailbox; a sender on the
    # same mailbox shares them, so leave it room if both run at once.
    max_concurrent_requests: int = Field(default=4, ge=1, le=4)
    timeout: float = Field(default=60.0, gt=0, le=600)
    # The most one request waits in total on 429/503 Retry-After before the poll fails.
    max_throttle_wait_seconds: float = Field(default=300.0, gt=0, le=3600)
    poll_interval_seconds: float = Field(default=60.0, gt=0)

    @property
    def enabled(self) -> bool:
        return bool(self.mailbox)

    @property
    def ledger_account(self) -> str:
        return self.account or f"graph:{self.mailbox}"

    @field_validator("ca_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> GraphSettings:
        if self.graph_url:
            scheme, _, rest = self.graph_url.partition("://")
            host = rest.split("/")[0].rpartition("@")[2].rsplit(":", 1)[0].strip("[]")
            if scheme != "https" and not (scheme == "http" and _is_loopback(host)):
                raise ValueError("graph_url must be an https:// URL")
        if not self.mailbox:
            return self
        if not _GRAPH_MAILBOX.match(self.mailbox):
            raise ValueError("mailbox must be an address (name@domain) or a user id")
        if self.auth is GraphAuth.COMMAND and not self.token_command:
            raise ValueError("auth 'command' needs token_command")
        if self.action is MailboxAction.MOVE and not self.processed_folder:
            raise ValueError("action 'move' needs processed_folder")
        if self.action is MailboxAction.FLAG and not self.category:
            raise ValueError("action 'flag' needs category")
        return self


_GRAPH_MAILBOX = re.compile(
    r"^(?:[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253})"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


class TimelinessSettings(_Section):
    """The wording of a letter issued after its Code deadline (docs/letters.md, "A late
    letter says sorry"). ``{due}`` in it becomes the missed date ("Friday 4 December
    2026"); `letters check` and approval require the apology on a late letter."""

    delay_apology: str = Field(
        default=(
            "We are sorry that this letter is late. We should have sent it to you by {due}, and we "
            "apologise for the delay."
        ),
        min_length=1,
        max_length=1000,
    )


class LettersSettings(_Section):
    """The wording warnings of `mailroom templates check` (docs/letters.md): a template
    paragraph whose Flesch-Kincaid reading age (grade + 5) is above this is named."""

    max_reading_age: float = Field(default=14.0, ge=6, le=25)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: StorageSettings = StorageSettings()
    ingest: IngestSettings = IngestSettings()
    database: DatabaseSettings = DatabaseSettings()
    ids: IdSettings = IdSettings()
    imap: ImapSettings = ImapSettings()
    smtp: SmtpSettings = SmtpSettings()
    maildir: MaildirSettings = MaildirSettings()
    classify: ClassifySettings = ClassifySettings()
    calendar: CalendarSettings = CalendarSettings()
    policy: PolicySettings = PolicySettings()
    reminders: ReminderSettings = ReminderSettings()
    worker: WorkerSettings = WorkerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    web: WebSettings = WebSettings()
    retention: RetentionSettings = RetentionSettings()
    outbound: OutboundSettings = OutboundSettings()
    m365: M365Settings = M365Settings()
    health: HealthSettings = HealthSettings()
    graph: GraphSettings = GraphSettings()
    timeliness: TimelinessSettings = TimelinessSettings()
    letters: LettersSettings = LettersSettings()

    @property
    def database_url(self) -> str:
        return self.database.url or sqlite_url(self.storage.root)


def load_settings(path: Path | None = None) -> Settings:
    """Load settings. ``path=None`` means ./mailroom.toml if present, else the embedded defaults.

    Raises ConfigError with one line naming the file, the key and the problem.
    """
    return validate(read_sources(path))


def validate(sources: Sources) -> Settings:
    merged = copy.deepcopy(sources.file)
    for override in sources.overrides:  # later wins
        merge(merged, nested(override.parts, _typed(override)))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"config error in {sources.where}: {_first_error(exc)}") from None


def _typed(override: Override) -> Any:
    """Lists and tables are given as JSON; everything else is left to pydantic."""
    parts = override.parts
    section = Settings.model_fields[parts[0]].annotation
    field = getattr(section, "model_fields", {}).get(parts[1]) if len(parts) == 2 else None
    if field is None or typing.get_origin(field.annotation) not in (list, dict):
        return override.value
    try:
        return json.loads(override.value)
    except json.JSONDecodeError:
        # Never echo the value: it may be a secret.
        raise ConfigError(f"{override.origin}: {'.'.join(parts)} must be JSON (a list or a table)") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "(root)"
    message = err["msg"].removeprefix("Value error, ")
    # Never echo a value that might be a secret: a misspelt key (extra_forbidden)
    # is exactly where a password lands when someone types "pasword".
    secret = any(word in key for word in _SECRET_WORDS) or err["type"] == "extra_forbidden"
    if "input" in err and not secret and err["type"] != "missing" and not isinstance(err["input"], dict):
        message += f" (got {err['input']!r})"
    more = len(exc.errors()) - 1
    return f"{key}: {message}" + (f" (and {more} more)" if more else "")


def _secret(value: SecretStr, file: Path | None, key: str) -> str:
    """The secret itself, or else the first line of its file."""
    if value.get_secret_value():
        return value.get_secret_value()
    if file is None:
        return ""
    try:
        return file.read_text(encoding="utf-8").strip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {file}: {exc.strerror}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
