"""Wire the adapters from the settings once; everything else receives this object."""

from __future__ import annotations

import grp
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from mailroom.clock import Clock, SystemClock
from mailroom.config import ConfigError, Settings
from mailroom.domain.calendar import WorkingCalendar
from mailroom.domain.classify import ClassifyPolicy
from mailroom.domain.deadlines import RulePack
from mailroom.domain.reminders import Ladder
from mailroom.filing import PRIVATE, Modes, Storage, records_group_modes
from mailroom.ingest.source import MailSource
from mailroom.locks import mailbox_lock
from mailroom.rule_pack_source import load_settings_rule_pack
from mailroom.storage_modes import make_private
from mailroom.store.database import make_engine, migrate, sqlite_path
from mailroom.store.repository import Store

log = logging.getLogger(__name__)


def filing_modes(settings: Settings) -> Modes:
    """Private, or readable by a records group (docs/records.md). The group is
    is ``storage.records_group``."""
    group = settings.storage.records_group
    if not group:
        return PRIVATE
    try:
        return records_group_modes(grp.getgrnam(group).gr_gid)
    except KeyError:
        raise ConfigError(f"storage.records_group: no group named {group!r} on this machine") from None


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    storage: Storage

    @cached_property
    def policy(self) -> ClassifyPolicy:
        classify = self.settings.classify
        own = {address.lower() for address in classify.own_addresses}
        if self.settings.imap.username and "@" in self.settings.imap.username:
            own.add(self.settings.imap.username.lower())  # our mailbox never complains to itself
        if "@" in self.settings.graph.mailbox:
            own.add(self.settings.graph.mailbox.lower())
        return ClassifyPolicy(
            id_prefix=self.settings.ids.prefix,
            own_addresses=frozenset(own),
            mp_domains=tuple(classify.mp_domains),
            councillor_domains=tuple(classify.councillor_domains),
        )

    @cached_property
    def ladder(self) -> Ladder:
        reminders = self.settings.reminders
        return Ladder(
            tuple(reminders.before), reminders.overdue_daily, reminders.window_start, reminders.window_end
        )

    @cached_property
    def calendar(self) -> WorkingCalendar:
        from mailroom.calendar_cache import cached_calendar

        return cached_calendar(self.settings.calendar)

    @cached_property
    def rule_pack(self) -> RulePack:
        return load_settings_rule_pack(self.settings)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        with mailbox_lock(self.store.engine, self.storage.root / ".locks", name):
            yield

    def sources(self) -> list[MailSource]:
        """The configured mail sources: IMAP when a host is set, the Maildir when a path is."""
        found: list[MailSource] = []
        if self.settings.imap.enabled:
            from mailroom.ingest.imap_source import ImapSource
            from mailroom.ingest.oauth import command_token_provider

            imap = self.settings.imap
            tokens = command_token_provider(imap.oauth2_token_command) if imap.oauth2_token_command else None
            found.append(ImapSource(imap, token_provider=tokens))
        if self.settings.graph.enabled:
            found.append(self._graph_source())
        if self.settings.maildir.path is not None:
            from mailroom.ingest.maildir_source import MaildirSource

            found.append(MaildirSource([self.settings.maildir.path]))
        return found


    def _graph_source(self) -> MailSource:
        """The [graph] source (docs/microsoft-365.md). Its token comes from
        token_command, or from the [m365] app registration through MSAL."""
        from mailroom.config import GraphAuth
        from mailroom.ingest.graph_source import GraphSource

        graph, m365 = self.settings.graph, self.settings.m365
        tokens: Callable[[], str]
        if graph.auth is GraphAuth.MSAL:
            # Hook for the built-in MSAL provider (mailroom/m365/tokens.py).
            from mailroom.m365.tokens import provider_from_settings

            if not m365.enabled:
                raise ConfigError("graph.auth 'msal' needs the [m365] app registration (tenant_id)")
            tokens = provider_from_settings(self.settings, "graph")
        else:
            from mailroom.ingest.oauth import command_token_provider

            tokens = command_token_provider(graph.token_command)
        return GraphSource(
            graph,
            token_provider=tokens,
            graph_url=graph.graph_url or m365.graph_url,
            ca_file=graph.ca_file or m365.ca_file,
            clock=self.clock,
        )

def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    modes = filing_modes(settings)
    # Before the database is opened: a -wal or -shm SQLite creates takes the
    # database file's mode, so that is fixed first.
    for line in make_private(settings.storage.root, sqlite_path(settings.database_url), modes):
        log.warning("%s", line)
    engine = make_engine(settings.database_url)
    migrate(engine)
    services = Services(
        settings=settings,
        clock=clock or SystemClock(),
        store=Store(engine, clock),
        storage=Storage(settings.storage.root, modes),
    )
    services.rule_pack  # noqa: B018 - a laxer landlord policy must stop mailroom at start
    if settings.policy.landlord_file is not None:
        from mailroom.letters.pack import landlord_policy  # imports this module

        landlord_policy(settings)  # so must a landlord policy file that does not parse
    return services
