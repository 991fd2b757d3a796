"""The complaints mailbox over IMAP (imapclient), as a MailSource.

One connection, opened on first use and re-opened after network failures with
capped exponential backoff. Login and certificate failures are configuration
problems: they raise SourceError at once instead of retrying. The mailbox is
only changed by ``acknowledge``; reading uses BODY.PEEK[] so \\Seen is untouched.

imapclient traps handled here (library notes, section 1):
``UID n:*`` returns the highest UID even when it is below n; ``fetch`` needs an
explicit UID list; capabilities are read after login; plain EXPUNGE would remove
other people's \\Deleted mail; ``idle_check`` returns [] instantly forever once
the server has gone, which would be a busy loop.
"""

from __future__ import annotations

import imaplib
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from imapclient import DELETED, IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError

from mailroom.config import ConfigError, ImapAuth, ImapSecurity, ImapSettings, MailboxAction
from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.oauth import command_token_provider
from mailroom.ingest.source import Checkpoint, SourceError
from mailroom.redaction import redact

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5  # per operation; then SourceError and the worker tries again later
MAX_BATCH_BYTES = 32 * 1024 * 1024  # bounds memory: a bigger mail is fetched alone
UID_SEARCH_SPAN = 50_000  # UIDs per SEARCH: keeps replies far below imaplib's 1 MB line limit
FETCH_ITEMS = ["BODY.PEEK[]", "INTERNALDATE", "RFC822.SIZE"]
OVERSIZE_PREFIX_BYTES = 64 * 1024  # what is fetched of a mail over the size limit (issue 9)
OVERSIZE_HEAD_KEY = b"BODY[]<0>"
IDLE_CHECK_MAX = 30.0
INSTANT = 0.05  # an idle_check "return" faster than this, with nothing read, is EOF
DEAD_AFTER_INSTANT = 3

# Network trouble worth a reconnect. socket.timeout and ssl.SSLError are OSErrors;
# certificate verification failures are caught before these (never retried).
_TRANSIENT: tuple[type[BaseException], ...] = (imaplib.IMAP4.abort, OSError)
# Anything that ends an IDLE session (IMAP4.abort is a subclass of IMAP4.error).
_IDLE_ENDERS: tuple[type[BaseException], ...] = (imaplib.IMAP4.error, OSError)
_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""")


@dataclass(frozen=True)
class _Selected:
    folder: str
    uidvalidity: int
    uidnext: int | None


class ImapSource:
    """MailSource for one IMAP account and folder (``settings.folder``)."""

    # -- size limit (issue 9) ------------------------------------------------
    # Mails whose RFC822.SIZE is over this are not fetched whole: only their
    # first OVERSIZE_PREFIX_BYTES, for quarantine. The worker sets it from
    # storage.max_message_bytes.
    max_message_bytes: int = 100 * 1024 * 1024
    # -- end size limit ------------------------------------------------------

    def __init__(
        self,
        settings: ImapSettings,
        *,
        token_provider: Callable[[], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        client_factory: Callable[..., IMAPClient] | None = None,
    ) -> None:
        self.account = settings.ledger_account
        self._settings = settings
        self._sleep = sleep
        self._client_factory: Callable[..., IMAPClient] = client_factory or IMAPClient
        if token_provider is None and settings.auth is ImapAuth.XOAUTH2:
            token_provider = command_token_provider(settings.oauth2_token_command)
        self._token_provider = token_provider
        self._where = f"{settings.username}@{settings.host}"
        self._random = random.Random()
        self._client: IMAPClient | None = None
        self._selected: _Selected | None = None
        self._folders_seen: set[str] = set()  # folders known to exist, per connection
        self._failures = 0  # consecutive connection failures: the backoff exponent
        self._idle_drops = 0  # consecutive IDLE sessions the server cut short
        self._last_scan: dict[str, tuple[int, int]] = {}  # folder -> (uidvalidity, next uid)
        self._token = ""  # the last token, only to redact it from server messages

    # -- MailSource --------------------------------------------------------------

    def scan(self, checkpoints: Mapping[str, Checkpoint]) -> list[SourceKey]:
        folder = self._settings.folder
        self._selected = None  # re-SELECT: a fresh UIDVALIDITY and UIDNEXT
        uidvalidity, uids = self._run(
            "scan", partial(self._scan, folder=folder, checkpoint=checkpoints.get(folder))
        )
        return [SourceKey(self.account, folder, uidvalidity, str(uid)) for uid in uids]

    def fetch(self, keys: Sequence[SourceKey]) -> Iterator[list[FetchedMail]]:
        self._selected = None
        for folder, folder_keys in _by_folder(self._own(keys)):
            for chunk in _chunks(folder_keys, self._settings.batch_size):
                yield from self._fetch_chunk(folder, chunk)

    def acknowledge(self, keys: Sequence[SourceKey]) -> None:
        if self._settings.action is MailboxAction.NONE:
            return
        self._selected = None
        for folder, folder_keys in _by_folder(self._own(keys)):
            for chunk in _chunks(folder_keys, self._settings.batch_size):
                self._run("acknowledge", partial(self._acknowledge_chunk, folder=folder, keys=chunk))

    def wait_for_new_mail(self, timeout: float) -> None:
        if timeout <= 0:
            return
        deadline = time.monotonic() + timeout
        if not self._settings.idle:
            self._sleep(timeout)
            return
        self._selected = None
        ready = self._run("idle", partial(self._prepare_idle, folder=self._settings.folder))
        if ready is None:  # the server has no IDLE
            self._sleep(max(0.0, deadline - time.monotonic()))
        elif ready:
            self._idle_until(deadline)

    def close(self) -> None:
        client, self._client = self._client, None
        self._forget_connection_state()
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection is going anyway; nothing to report
            _shutdown_quietly(client)

    # -- connection and retries ---------------------------------------------------

    def _run(self, what: str, operation: Callable[[IMAPClient], T]) -> T:
        """Run ``operation`` on a live connection, reconnecting with backoff on
        network errors. Every failure leaves as one-line SourceError."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return operation(self._connection())
            except SourceError:
                self._drop()
                raise
            except ssl.SSLCertVerificationError as exc:
                self._drop()
                where = f"{self._settings.host}:{self._settings.port}"
                reason = exc.verify_message or _describe(exc)
                raise SourceError(f"imap TLS certificate verification failed for {where}: {reason}") from exc
            except _TRANSIENT as exc:
                self._drop()
                if attempt == MAX_ATTEMPTS:
                    reason = self._describe(exc)
                    raise SourceError(
                        f"imap {what} failed for {self._where} after {attempt} attempts: {reason}"
                    ) from exc
                self._back_off(what, exc)
            except imaplib.IMAP4.error as exc:  # NO or BAD: the server refused, retrying won't help
                self._drop()
                raise SourceError(f"imap {what} failed for {self._where}: {self._describe(exc)}") from exc
        raise AssertionError("unreachable")

    def _back_off(self, what: str, exc: BaseException) -> None:
        self._failures += 1
        delay = self._backoff_delay(self._failures)
        log.warning(
            "imap %s for %s failed (%s); reconnecting in %.1fs", what, self._where, self._describe(exc), delay
        )
        self._sleep(delay)

    def _backoff_delay(self, failures: int) -> float:
        # 1, 2, 4 ... capped; the jitter keeps restarted workers from reconnecting in step.
        base = min(self._settings.reconnect_backoff_max_seconds, 2.0 ** (failures - 1))
        return base * self._random.uniform(0.8, 1.0)

    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = self._open()
            self._failures = 0
        return self._client

    def _open(self) -> IMAPClient:
        settings = self._settings
        context = self._tls_context()
        client = self._client_factory(
            settings.host,
            port=settings.port,
            ssl=settings.security is ImapSecurity.TLS,
            ssl_context=context if settings.security is ImapSecurity.TLS else None,
            timeout=SocketTimeout(connect=settings.connect_timeout, read=settings.read_timeout),
        )
        try:
            if settings.security is ImapSecurity.STARTTLS:
                client.starttls(context)
            client.normalise_times = False  # aware INTERNALDATEs, not naive local time
            self._login(client)
        except BaseException:
            _shutdown_quietly(client)
            raise
        log.info("imap connected to %s:%d as %s", settings.host, settings.port, settings.username)
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        if self._settings.security is ImapSecurity.NONE:
            return None
        ca_file = self._settings.ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"imap ca_file {ca_file} cannot be used: {_describe(exc)}") from None

    def _login(self, client: IMAPClient) -> None:
        settings = self._settings
        try:
            if settings.auth is ImapAuth.XOAUTH2:
                client.oauth2_login(settings.username, self._fresh_token())
            else:
                client.login(settings.username, settings.resolved_password())
        except LoginError as exc:
            raise SourceError(f"imap login failed for {self._where}: {self._describe(exc)}") from None
        except ConfigError as exc:
            raise SourceError(str(exc)) from None

    def _fresh_token(self) -> str:
        # A token per connection: access tokens expire after about an hour.
        if self._token_provider is None:
            raise SourceError("imap auth xoauth2 needs oauth2_token_command or a token provider")
        try:
            token = self._token_provider()
        except SourceError:
            raise
        except Exception as exc:  # a custom provider's message might quote the token
            raise SourceError(f"imap oauth2 token provider failed: {type(exc).__name__}") from None
        self._token = token
        return token

    def _drop(self) -> None:
        """Forget the connection without LOGOUT: it is probably broken already."""
        client, self._client = self._client, None
        self._forget_connection_state()
        if client is not None:
            _shutdown_quietly(client)

    def _forget_connection_state(self) -> None:
        self._selected = None
        self._folders_seen.clear()

    def _describe(self, exc: BaseException) -> str:
        """One line, without the password or token in any form: XOAUTH2 sends the
        token base64-encoded, and imaplib shows replies as escaped bytes reprs."""
        return _describe(exc, self._token, self._password())

    def _password(self) -> str:
        try:
            return self._settings.resolved_password()
        except ConfigError:
            return ""

    def _select(self, client: IMAPClient, folder: str) -> _Selected:
        if self._selected is None or self._selected.folder != folder:
            response = client.select_folder(folder)
            uidnext = response.get(b"UIDNEXT")
            self._selected = _Selected(
                folder, int(response[b"UIDVALIDITY"]), int(uidnext) if uidnext is not None else None
            )
        return self._selected

    # -- scan ------------------------------------------------------------------

    def _scan(
        self, client: IMAPClient, *, folder: str, checkpoint: Checkpoint | None
    ) -> tuple[int, list[int]]:
        selected = self._select(client, folder)
        if checkpoint is None or checkpoint.uidvalidity != selected.uidvalidity:
            if checkpoint is not None:
                log.warning(
                    "imap %s/%s: UIDVALIDITY changed from %d to %d; listing every mail again",
                    self.account,
                    folder,
                    checkpoint.uidvalidity,
                    selected.uidvalidity,
                )
            first = 1
        else:
            first = checkpoint.last_uid + 1
        uids = _uids_from(client, first, selected.uidnext)
        next_uid = max([selected.uidnext or 0, *(uid + 1 for uid in uids[-1:])])
        self._last_scan[folder] = (selected.uidvalidity, next_uid)
        return selected.uidvalidity, uids

    # -- fetch -----------------------------------------------------------------

    def _fetch_chunk(self, folder: str, keys: list[SourceKey]) -> Iterator[list[FetchedMail]]:
        uidvalidity, sizes = self._run("fetch", partial(self._sizes, folder=folder, keys=keys))
        by_uid = {int(key.uid): key for key in keys if key.uidvalidity == uidvalidity}
        live = [uid for uid in by_uid if uid in sizes]  # the caller's order
        if len(live) < len(keys):
            log.info(
                "imap %s/%s: %d of %d mails are gone or have an old UIDVALIDITY; skipped",
                self.account,
                folder,
                len(keys) - len(live),
                len(keys),
            )
        # -- size limit (issue 9): checked on RFC822.SIZE, before any body is read
        oversize = [uid for uid in live if sizes[uid] > self.max_message_bytes]
        if oversize:
            heads = self._fetch_heads(folder, uidvalidity, [by_uid[uid] for uid in oversize], sizes)
            if heads:
                yield heads
            live = [uid for uid in live if sizes[uid] <= self.max_message_bytes]
        # -- end size limit
        for group in _split_by_size(live, sizes, MAX_BATCH_BYTES):
            mails = self._fetch_group(folder, uidvalidity, [by_uid[uid] for uid in group])
            if mails:
                yield mails

    # -- size limit (issue 9) ----------------------------------------------------

    def _fetch_heads(
        self, folder: str, uidvalidity: int, keys: list[SourceKey], sizes: Mapping[int, int]
    ) -> list[FetchedMail]:
        """Mails over the size limit: their first bytes and real size, for quarantine.
        The whole mail stays on the server (moved to the processed folder)."""
        uids = [int(key.uid) for key in keys]
        response = self._run(
            "fetch", partial(self._heads, folder=folder, uidvalidity=uidvalidity, uids=uids)
        )
        mails = []
        for key in keys:
            data = response.get(int(key.uid))
            if not data:
                continue  # gone since the sizes were read
            head = data.get(OVERSIZE_HEAD_KEY)
            mails.append(
                FetchedMail(
                    key=key,
                    raw=head if isinstance(head, bytes) else b"",
                    received_at=_received_at(key, data.get(b"INTERNALDATE")),
                    size=sizes[int(key.uid)],
                )
            )
        return mails

    def _heads(
        self, client: IMAPClient, *, folder: str, uidvalidity: int, uids: list[int]
    ) -> dict[int, dict[bytes, Any]]:
        if self._select(client, folder).uidvalidity != uidvalidity:
            return {}
        response: dict[int, dict[bytes, Any]] = client.fetch(
            uids, [f"BODY.PEEK[]<0.{OVERSIZE_PREFIX_BYTES}>", "INTERNALDATE"]
        )
        return response

    # -- end size limit ------------------------------------------------------------

    def _sizes(self, client: IMAPClient, *, folder: str, keys: list[SourceKey]) -> tuple[int, dict[int, int]]:
        """RFC822.SIZE of each key still in the folder, to plan memory-bounded batches."""
        uidvalidity = self._select(client, folder).uidvalidity
        uids = sorted({int(key.uid) for key in keys if key.uidvalidity == uidvalidity})
        if not uids:
            return uidvalidity, {}
        response = client.fetch(uids, ["RFC822.SIZE"])
        return uidvalidity, {int(uid): int(data.get(b"RFC822.SIZE") or 0) for uid, data in response.items()}

    def _fetch_group(self, folder: str, uidvalidity: int, keys: list[SourceKey]) -> list[FetchedMail]:
        mails = self._fetch_mails(folder, uidvalidity, keys)
        missing = [key for key in keys if key not in mails]
        if missing:
            # A server under load can answer a FETCH without the body: ask once more.
            mails.update(self._fetch_mails(folder, uidvalidity, missing))
            for key in missing:
                if key not in mails:
                    log.warning(
                        "imap %s/%s UID %s: no body returned twice; skipped, left in the mailbox",
                        self.account,
                        folder,
                        key.uid,
                    )
        return [mails[key] for key in keys if key in mails]

    def _fetch_mails(
        self, folder: str, uidvalidity: int, keys: list[SourceKey]
    ) -> dict[SourceKey, FetchedMail]:
        uids = [int(key.uid) for key in keys]
        response = self._run(
            "fetch", partial(self._bodies, folder=folder, uidvalidity=uidvalidity, uids=uids)
        )
        mails = {}
        for key in keys:
            mail = _to_mail(key, response.get(int(key.uid)))
            if mail is not None:
                mails[key] = mail
        return mails

    def _bodies(
        self, client: IMAPClient, *, folder: str, uidvalidity: int, uids: list[int]
    ) -> dict[int, dict[bytes, Any]]:
        if self._select(client, folder).uidvalidity != uidvalidity:
            return {}  # the folder was re-created since the sizes were read: all stale
        response: dict[int, dict[bytes, Any]] = client.fetch(uids, FETCH_ITEMS)
        return response

    # -- acknowledge -------------------------------------------------------------

    def _acknowledge_chunk(self, client: IMAPClient, *, folder: str, keys: list[SourceKey]) -> None:
        uidvalidity = self._select(client, folder).uidvalidity
        wanted = {int(key.uid) for key in keys if key.uidvalidity == uidvalidity}
        if not wanted:
            return
        # After a crash the worker re-acknowledges: some mails may be gone already.
        present = sorted(uid for uid in client.search(["UID", _uid_set(wanted)]) if uid in wanted)
        if not present:
            return
        if self._settings.action is MailboxAction.FLAG:
            client.add_flags(present, [self._settings.flag], silent=True)
        else:
            self._move(client, present)
        log.info("imap %s/%s: %s %d mails", self.account, folder, self._settings.action.value, len(present))

    def _move(self, client: IMAPClient, uids: list[int]) -> None:
        target = self._settings.processed_folder
        self._ensure_folder(client, target)
        if client.has_capability("MOVE"):
            client.move(uids, target)
            return
        client.copy(uids, target)
        client.add_flags(uids, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            # A plain EXPUNGE would also remove every other \Deleted mail in the
            # folder, so these stay flagged for the mailbox owner to purge.
            log.warning(
                "imap server has neither MOVE nor UIDPLUS: %d mails left flagged \\Deleted", len(uids)
            )

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if folder in self._folders_seen:
            return
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
                log.info("imap %s: created folder %s", self.account, folder)
            except imaplib.IMAP4.error:
                if not client.folder_exists(folder):  # else another client created it first
                    raise
        self._folders_seen.add(folder)

    # -- IDLE ------------------------------------------------------------------

    def _prepare_idle(self, client: IMAPClient, *, folder: str) -> bool | None:
        """Select the folder. None: no IDLE; False: mail came in since the last scan."""
        if not client.has_capability("IDLE"):
            return None
        selected = self._select(client, folder)
        last = self._last_scan.get(folder)
        if last is None:
            return True
        changed = last[0] != selected.uidvalidity
        grew = selected.uidnext is not None and selected.uidnext > last[1]
        return not (changed or grew)

    def _idle_until(self, deadline: float) -> None:
        client = self._client
        assert client is not None
        try:
            client.idle()
        except _IDLE_ENDERS as exc:
            self._idle_dropped(f"IDLE refused ({self._describe(exc)})", deadline)
            return
        reason = "interrupted"
        try:
            reason = self._idle_loop(client, deadline)
        except _IDLE_ENDERS as exc:
            reason = f"connection failed ({self._describe(exc)})"
        finally:
            if self._client is client:
                self._end_idle(client)
        if reason:
            self._idle_dropped(reason, deadline)
        else:
            self._idle_drops = 0

    def _idle_loop(self, client: IMAPClient, deadline: float) -> str:
        """Wait in IDLE. Returns '' on new mail or timeout, else why the connection died."""
        renew_at = time.monotonic() + self._settings.idle_renew_seconds
        instant_empties = 0
        while (now := time.monotonic()) < deadline:
            if now >= renew_at:
                # RFC 2177 wants IDLE re-issued within 29 min; NATs often drop sooner.
                # Back in IDLE before returning: the caller always ends with DONE.
                pending = client.idle_done()[1]
                client.idle()
                renew_at = time.monotonic() + self._settings.idle_renew_seconds
                if _has_new_mail(pending):
                    return ""
            wait = min(IDLE_CHECK_MAX, deadline - now, renew_at - now)
            began = time.monotonic()
            responses = client.idle_check(timeout=wait)
            if any(_is_bye(response) for response in responses):
                return "server said BYE"
            if _has_new_mail(responses):
                return ""
            if responses or wait < 2 * INSTANT or time.monotonic() - began >= INSTANT:
                instant_empties = 0
                continue
            # idle_check swallows EOF and then returns [] at once, forever.
            instant_empties += 1
            if instant_empties >= DEAD_AFTER_INSTANT:
                return "connection closed by the server"
        return ""

    def _end_idle(self, client: IMAPClient) -> None:
        try:
            client.idle_done()
        except _IDLE_ENDERS:
            self._drop()  # EOF after BYE lands here: reconnect on the next call

    def _idle_dropped(self, reason: str, deadline: float) -> None:
        """The IDLE connection died: drop it so the next call reconnects. If that
        keeps happening, wait (with backoff) so worker and server don't spin."""
        self._drop()
        self._idle_drops += 1
        log.info("imap %s: IDLE ended early: %s; will reconnect", self._where, reason)
        if self._idle_drops > 1:
            self._sleep(min(max(0.0, deadline - time.monotonic()), self._backoff_delay(self._idle_drops - 1)))

    # -- helpers -----------------------------------------------------------------

    def _own(self, keys: Sequence[SourceKey]) -> list[SourceKey]:
        own = [key for key in keys if key.account == self.account]
        if len(own) < len(keys):
            log.warning("imap %s: ignoring %d keys of another account", self.account, len(keys) - len(own))
        return own


def _uids_from(client: IMAPClient, first: int, uidnext: int | None) -> list[int]:
    """Every UID >= first, in order."""
    if uidnext is None or uidnext - first <= UID_SEARCH_SPAN:
        # `UID first:*` answers with the highest UID even when it is below `first`.
        return sorted(uid for uid in client.search(["UID", f"{first}:*"]) if uid >= first)
    # A long-unread or re-validated folder: search in UID spans, not one huge reply.
    found: set[int] = set()
    for low in range(first, uidnext, UID_SEARCH_SPAN):
        high = min(low + UID_SEARCH_SPAN, uidnext) - 1
        found.update(client.search(["UID", f"{low}:{high}"]))
    found.update(uid for uid in client.search(["UID", f"{uidnext}:*"]) if uid >= uidnext)
    return sorted(uid for uid in found if uid >= first)


def _to_mail(key: SourceKey, data: Mapping[bytes, Any] | None) -> FetchedMail | None:
    raw = data.get(b"BODY[]") if data else None
    if not raw or not isinstance(raw, bytes):
        return None
    assert data is not None
    return FetchedMail(
        key=key, raw=raw, received_at=_received_at(key, data.get(b"INTERNALDATE")), size=len(raw)
    )


def _received_at(key: SourceKey, internaldate: object) -> datetime:
    if not isinstance(internaldate, datetime):
        log.warning(
            "imap %s/%s UID %s: no INTERNALDATE; using the time of fetching", key.account, key.folder, key.uid
        )
        return datetime.now(UTC)
    if internaldate.tzinfo is None:  # only if normalise_times was left on
        return internaldate.replace(tzinfo=UTC)
    return internaldate.astimezone(UTC)


def _split_by_size(uids: list[int], sizes: Mapping[int, int], limit: int) -> Iterator[list[int]]:
    group: list[int] = []
    total = 0
    for uid in uids:
        if group and total + sizes[uid] > limit:
            yield group
            group, total = [], 0
        group.append(uid)
        total += sizes[uid]
    if group:
        yield group


def _by_folder(keys: Iterable[SourceKey]) -> list[tuple[str, list[SourceKey]]]:
    folders: dict[str, list[SourceKey]] = {}
    for key in keys:
        folders.setdefault(key.folder, []).append(key)
    return list(folders.items())


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _uid_set(uids: Iterable[int]) -> str:
    return ",".join(str(uid) for uid in sorted(uids))


def _has_new_mail(responses: Iterable[tuple[Any, ...]]) -> bool:
    for response in responses:
        if len(response) < 2 or not isinstance(response[0], int):
            continue
        if response[1] == b"EXISTS" or (response[1] == b"RECENT" and response[0] > 0):
            return True
    return False


def _is_bye(response: tuple[Any, ...]) -> bool:
    return len(response) >= 1 and response[0] == b"BYE"


def _describe(exc: BaseException, *secrets: str) -> str:
    """An exception as one short line (imaplib messages are often b'...' reprs),
    ``secrets`` masked before it is cut short (a cut could leave half of one)."""
    text = " ".join(redact(str(exc), *secrets).split()) or type(exc).__name__
    match = _BYTES_REPR.match(text)
    if match:
        text = match.group(2)
    return text[:300]


def _shutdown_quietly(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # already closed or never fully opened
        log.debug("imap shutdown failed", exc_info=True)
