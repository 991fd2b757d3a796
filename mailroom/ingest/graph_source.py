"""The complaints mailbox through Microsoft Graph, as a MailSource (docs/microsoft-365.md).

For tenants that switch IMAP off. The same ledger guarantees as IMAP
(docs/ingestion.md), with Graph's means:

- ``scan`` runs one delta round on the folder: from the deltaLink the last
  committed round left (FolderCheckpoint.delta_link), or afresh, following each
  ``@odata.nextLink`` to the ``@odata.deltaLink``. The new deltaLink is handed to
  the worker (``delta_links``), which stores it in the commit of the last ledger
  rows it covers: a crash before that repeats the round, and the ledger drops
  what it already holds.
- 410 Gone (the service dropped the state token) restarts the round afresh: a
  full resynchronisation, which the ledger turns into "nothing new".
- ``fetch`` reads each message's MIME through ``/$value``, byte for byte, so the
  filed .eml is what IMAP would have filed; a message over the size limit is
  read only up to OVERSIZE_PREFIX_BYTES, for quarantine.
- Every request carries ``Prefer: IdType="ImmutableId"``: a message keeps its id
  when it is moved, so the ledger key (immutable id plus internetMessageId)
  still names it after "move to Processed", which ``acknowledge`` does after
  the commit.
- At most ``max_concurrent_requests`` (Outlook allows 4 per app and mailbox)
  requests are in flight; 429 and 503 are retried after their Retry-After, all
  requests pausing together, within a bounded total wait.
- A 401 gets one retry with a fresh token; a second is an authentication
  failure (SourceError kind "auth", which the health alerts act on).
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from mailroom.clock import Clock, SystemClock
from mailroom.config import GraphSettings, MailboxAction
from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.source import Checkpoint, SourceError
from mailroom.redaction import redact

log = logging.getLogger(__name__)

T = TypeVar("T")

# Graph has no UIDVALIDITY: immutable ids outlive moves. 1, not 0, because 0
# marks a Maildir key (quarantine re-reads those from their file).
GRAPH_UIDVALIDITY = 1
IMMUTABLE_ID = 'IdType="ImmutableId"'
DELTA_SELECT = "id,internetMessageId,receivedDateTime"
MAX_ATTEMPTS = 5  # network errors and 5xx per request; then SourceError
MAX_RESYNCS = 2  # 410s in one scan before giving up until the next poll
MAX_BATCH_BYTES = 32 * 1024 * 1024  # a batch is yielded once it holds this much
MAX_JSON_BYTES = 16 * 1024 * 1024  # a delta page or folder list larger than this is refused
OVERSIZE_PREFIX_BYTES = 64 * 1024  # what is kept of a mail over the size limit (as IMAP)
BACKOFF_MAX = 30.0
DETAIL_MAX = 300
# Exchange ids are base64 (URL-safe or not) with '=' padding. Anything else is
# refused before it goes near a URL or the ledger.
_GRAPH_ID = re.compile(r"^[A-Za-z0-9+/_=-]{1,300}$")
_MESSAGE_ID_SHOWN = re.compile(r"^<?[\x21-\x7e]{1,200}>?$")
_WELL_KNOWN = frozenset(
    {"inbox", "archive", "deleteditems", "drafts", "junkemail", "sentitems", "outbox", "msgfolderroot"}
)


class _Gone(Exception):
    """410: the delta state token is no longer valid."""


class _NotFound(Exception):
    """404: the message (or folder) is not there."""


@dataclass
class _Retries:
    """What one request has been through so far."""

    attempts: int = 0  # network errors and 5xx
    waited: float = 0.0  # seconds of Retry-After
    refreshed: bool = False  # a fresh token after a 401


@dataclass(frozen=True)
class _Listed:
    message_id: str
    received_at: datetime | None


class GraphSource:
    """MailSource for one mailbox's folder (``settings.folder``) through Graph v1.0."""

    # Set by the worker from storage.max_message_bytes (issue 9), as for IMAP.
    max_message_bytes: int = 100 * 1024 * 1024

    def __init__(
        self,
        settings: GraphSettings,
        *,
        token_provider: Callable[[], str],
        graph_url: str = "https://graph.microsoft.com",
        ca_file: Path | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.account = settings.ledger_account
        self._settings = settings
        self._token_provider = token_provider
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._root = graph_url.rstrip("/") + "/v1.0"
        self._mailbox_url = f"{self._root}/users/{quote(settings.mailbox, safe='@')}"
        self._slots = threading.BoundedSemaphore(settings.max_concurrent_requests)
        self._pause_lock = threading.Lock()
        self._paused_until = 0.0  # time.monotonic(): every request waits for it (Retry-After)
        self._token_lock = threading.Lock()
        self._token = ""
        self._token_generation = 0
        self._random = random.Random()
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout, connect=min(30.0, settings.timeout)),
            limits=httpx.Limits(max_connections=settings.max_concurrent_requests),
            verify=_verify(ca_file),
            transport=transport,
            follow_redirects=False,  # a redirect elsewhere would take the bearer token along
        )
        self._folder_ids: dict[str, str] = {}  # configured name -> Graph folder id
        self._listed: dict[str, _Listed] = {}  # ledger uid -> what the last scan saw
        self._delta_links: dict[str, str] = {}  # folder -> deltaLink of the last scan

    # -- MailSource --------------------------------------------------------------

    def scan(self, checkpoints: Mapping[str, Checkpoint]) -> list[SourceKey]:
        folder = self._settings.folder
        checkpoint = checkpoints.get(folder)
        link = checkpoint.delta_link if checkpoint is not None else None
        self._delta_links.pop(folder, None)
        self._refresh_token()  # a fresh token per poll; a 401 gets another
        listed, delta_link = self._delta_round(folder, link)
        self._listed = listed
        self._delta_links[folder] = delta_link
        return [SourceKey(self.account, folder, GRAPH_UIDVALIDITY, uid) for uid in listed]

    def delta_links(self) -> dict[str, str]:
        """folder -> the deltaLink that ends the last scan's round. The worker
        stores it in the commit that makes every key of that scan ledgered."""
        return dict(self._delta_links)

    def fetch(self, keys: Sequence[SourceKey]) -> Iterator[list[FetchedMail]]:
        own = self._own(keys)
        if not own:
            return
        batch: list[FetchedMail] = []
        batch_bytes = 0
        pool = ThreadPoolExecutor(self._settings.max_concurrent_requests, thread_name_prefix="graph-fetch")
        try:
            for mail in self._fetched_in_order(own, pool):
                batch.append(mail)
                batch_bytes += len(mail.raw)
                if len(batch) >= self._settings.batch_size or batch_bytes >= MAX_BATCH_BYTES:
                    yield batch
                    batch, batch_bytes = [], 0
            if batch:
                yield batch
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetched_in_order(self, keys: Sequence[SourceKey], pool: ThreadPoolExecutor) -> Iterator[FetchedMail]:
        """The mails of ``keys`` in order, up to max_concurrent_requests fetched ahead."""
        window: deque[Future[FetchedMail | None]] = deque()
        for key in keys:
            window.append(pool.submit(self._fetch_one, key))
            if len(window) >= self._settings.max_concurrent_requests:
                mail = window.popleft().result()  # a SourceError ends the run: nothing after it is committed
                if mail is not None:
                    yield mail
        while window:
            mail = window.popleft().result()
            if mail is not None:
                yield mail

    def acknowledge(self, keys: Sequence[SourceKey]) -> None:
        action = self._settings.action
        own = self._own(keys)
        if action is MailboxAction.NONE or not own:
            return
        target = self._processed_folder_id() if action is MailboxAction.MOVE else ""
        operation = self._move_one if action is MailboxAction.MOVE else self._categorise_one
        with ThreadPoolExecutor(
            self._settings.max_concurrent_requests, thread_name_prefix="graph-ack"
        ) as pool:
            done = list(pool.map(lambda key: operation(key, target), own))
        log.info("graph %s: %s %d of %d mails", self.account, action.value, sum(done), len(own))

    def wait_for_new_mail(self, timeout: float) -> None:
        # Delta is a pull model; change notifications would need a public HTTPS
        # endpoint, which a worker behind a firewall does not have.
        if timeout > 0:
            self._sleep(min(timeout, self._settings.poll_interval_seconds))

    def close(self) -> None:
        self._client.close()

    # -- scan ------------------------------------------------------------------

    def _delta_round(self, folder: str, link: str | None) -> tuple[dict[str, _Listed], str]:
        """Follow one delta round to its deltaLink: (ledger uid -> listing, deltaLink)."""
        if link is not None and not self._is_ours(link):
            log.warning(
                "graph %s/%s: stored delta link is not under %s; syncing afresh",
                self.account,
                folder,
                self._root,
            )
            link = None
        resyncs = 0
        while True:
            listed: dict[str, _Listed] = {}
            # The first request names the properties; the service keeps them (and
            # the page size) in the links it hands out (docs: delta-query-messages).
            url = link or self._initial_delta_url(folder)
            params = None if link else {"$select": DELTA_SELECT}
            try:
                while True:
                    page = self._json("GET", url, "delta", params=params)
                    self._take_page(page, listed)
                    next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
                    if isinstance(delta_link, str) and self._is_ours(delta_link):
                        return listed, delta_link
                    if not isinstance(next_link, str) or not self._is_ours(next_link):
                        raise SourceError(
                            f"graph delta for {self._where(folder)}: a page without a usable link"
                        )
                    url, params = next_link, None
            except _Gone:
                resyncs += 1
                if resyncs > MAX_RESYNCS:
                    raise SourceError(
                        f"graph delta for {self._where(folder)}: state token refused {resyncs} times"
                    ) from None
                # 410 Gone: start a full synchronisation (docs: delta-query-overview,
                # "Synchronization reset"); the ledger drops what it already holds.
                log.warning("graph %s/%s: delta state expired (410); full resync", self.account, folder)
                link = None

    def _initial_delta_url(self, folder: str) -> str:
        return f"{self._mailbox_url}/mailFolders/{_segment(self._folder_id(folder))}/messages/delta"

    def _take_page(self, page: dict[str, Any], listed: dict[str, _Listed]) -> None:
        values = page.get("value")
        if not isinstance(values, list):
            raise SourceError("graph delta: a page without a value list")
        for item in values:
            if not isinstance(item, dict) or "@removed" in item:
                continue  # deleted or moved out: nothing to ingest
            message_id = item.get("id")
            if not isinstance(message_id, str) or not _GRAPH_ID.match(message_id):
                log.warning("graph %s: skipped a delta item with an unusable id", self.account)
                continue
            uid = ledger_uid(message_id, item.get("internetMessageId"))
            listed[uid] = _Listed(message_id, _parse_instant(item.get("receivedDateTime")))

    # -- fetch -----------------------------------------------------------------

    def _fetch_one(self, key: SourceKey) -> FetchedMail | None:
        message_id = self._message_id(key)
        if message_id is None:
            log.warning("graph %s: key with an unusable uid skipped", self.account)
            return None
        url = f"{self._mailbox_url}/messages/{_segment(message_id)}/$value"
        limit = self.max_message_bytes
        try:
            raw, size = self._request("GET", url, "fetch", read=lambda response: _read_mime(response, limit))
        except _NotFound:
            # Deleted or moved out since the scan: the next round reports it removed.
            log.warning("graph %s/%s: a listed message is gone; skipped", self.account, key.folder)
            return None
        listed = self._listed.get(key.uid)
        received = listed.received_at if listed is not None and listed.received_at else None
        return FetchedMail(key=key, raw=raw, received_at=received or self._clock.now(), size=size)

    # -- acknowledge -------------------------------------------------------------

    def _move_one(self, key: SourceKey, target: str) -> bool:
        message_id = self._message_id(key)
        if message_id is None:
            return False
        url = f"{self._mailbox_url}/messages/{_segment(message_id)}/move"
        try:
            self._json("POST", url, "acknowledge", body={"destinationId": target})
        except _NotFound:
            return False  # deleted since, or a re-acknowledgement after a crash
        return True

    def _categorise_one(self, key: SourceKey, _target: str) -> bool:
        message_id = self._message_id(key)
        if message_id is None:
            return False
        url = f"{self._mailbox_url}/messages/{_segment(message_id)}"
        try:
            current = self._json("GET", url, "acknowledge", params={"$select": "categories"})
            categories = [c for c in current.get("categories") or [] if isinstance(c, str)]
            if self._settings.category in categories:
                return True
            self._json(
                "PATCH", url, "acknowledge", body={"categories": [*categories, self._settings.category]}
            )
        except _NotFound:
            return False
        return True

    # -- folders -----------------------------------------------------------------

    def _folder_id(self, name: str) -> str:
        """A well-known name is used as it is; a display name is looked up."""
        if name.lower() in _WELL_KNOWN:
            return name.lower()
        found = self._folder_ids.get(name)
        if found is None:
            found = self._find_folder(name)
            if found is None:
                raise SourceError(f"graph mailbox {self._settings.mailbox} has no folder {name!r}")
            self._folder_ids[name] = found
        return found

    def _processed_folder_id(self) -> str:
        name = self._settings.processed_folder
        if name.lower() in _WELL_KNOWN:
            return name.lower()
        found = self._folder_ids.get(name) or self._find_folder(name)
        if found is None:
            try:
                created = self._json(
                    "POST", f"{self._mailbox_url}/mailFolders", "create folder", body={"displayName": name}
                )
                found = _checked_id(created.get("id"))
                log.info("graph %s: created folder %s", self.account, name)
            except SourceError:
                found = self._find_folder(name)  # someone else created it first (409)
                if found is None:
                    raise
        self._folder_ids[name] = found
        return found

    def _find_folder(self, name: str) -> str | None:
        escaped = name.replace("'", "''")  # OData string literal
        page = self._json(
            "GET",
            f"{self._mailbox_url}/mailFolders",
            "folders",
            params={"$filter": f"displayName eq '{escaped}'", "$select": "id,displayName"},
        )
        for folder in page.get("value") or []:
            if isinstance(folder, dict) and folder.get("displayName") == name:
                return _checked_id(folder.get("id"))
        return None

    # -- HTTP --------------------------------------------------------------------

    def _json(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        def read(response: httpx.Response) -> dict[str, Any]:
            data = _read_limited(response, MAX_JSON_BYTES, what)
            try:
                parsed = httpx.Response(200, content=data).json()
            except ValueError:
                raise SourceError(f"graph {what}: the answer is not JSON") from None
            if not isinstance(parsed, dict):
                raise SourceError(f"graph {what}: the answer is not a JSON object")
            return parsed

        return self._request(method, url, what, params=params, body=body, read=read)

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        read: Callable[[httpx.Response], T],
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> T:
        """One Graph call with the retries every call gets: 429/503 after
        Retry-After (bounded in total), network errors and 5xx with backoff, one
        fresh token after a 401. ``read`` consumes a 2xx response while its slot
        is held (a streamed body counts as a request in flight)."""
        retries = _Retries()
        while True:
            self._wait_for_pause()
            generation, token = self._current_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "Prefer": self._prefer(url),
                "Accept": "application/json",
            }
            request = self._client.build_request(method, url, params=params, json=body, headers=headers)
            with self._slots:
                try:
                    response = self._client.send(request, stream=True)
                except httpx.TransportError as exc:
                    self._network_failure(what, url, exc, retries)
                    continue
                try:
                    if 200 <= response.status_code < 300:
                        return read(response)
                    detail = redact(_error_detail(response), token)
                finally:
                    response.close()
            self._http_failure(what, response, detail, retries, generation)

    def _network_failure(self, what: str, url: str, exc: httpx.TransportError, retries: _Retries) -> None:
        if _is_certificate_failure(exc):
            raise SourceError(
                f"graph TLS certificate verification failed for {_host(url)}: {_describe(exc)}",
                kind="certificate",
            ) from None
        retries.attempts += 1
        reason = _describe(exc, self._token)
        if retries.attempts >= MAX_ATTEMPTS:
            mailbox = self._settings.mailbox
            raise SourceError(
                f"graph {what} failed for {mailbox} after {retries.attempts} attempts: {reason}"
            ) from None
        self._back_off(what, retries.attempts, reason)

    def _http_failure(
        self, what: str, response: httpx.Response, detail: str, retries: _Retries, generation: int
    ) -> None:
        """Wait and return (the caller retries), or raise."""
        status = response.status_code
        mailbox = self._settings.mailbox
        retry_after = response.headers.get("Retry-After")
        if status == 429 or (status == 503 and retry_after is not None):
            # Throttled: wait as long as Retry-After says (docs: graph/throttling).
            delay = _retry_after(retry_after, self._clock) or self._backoff_delay(retries.attempts + 1)
            if retries.waited + delay > self._settings.max_throttle_wait_seconds:
                raise SourceError(
                    f"graph {what} for {mailbox}: still throttled (HTTP {status}) after waiting "
                    f"{retries.waited:.0f}s: {detail}"
                )
            retries.waited += delay
            log.warning("graph %s throttled (HTTP %d); retrying in %.1fs", what, status, delay)
            self._pause(delay)
            return
        if status == 401 and not retries.refreshed:
            retries.refreshed = True  # expired or revoked: one more try with a fresh token
            self._refresh_token(after=generation)
            return
        if status == 401:
            raise SourceError(f"graph authentication failed for {mailbox}: {detail}", kind="auth")
        if status == 403:
            raise SourceError(
                f"graph access denied to {mailbox} ({what}): {detail}; check the app's Mail.ReadWrite "
                "permission and its Exchange RBAC scope",
                kind="auth",
            )
        if status == 404:
            raise _NotFound(detail)
        if status == 410:
            raise _Gone(detail)
        if status < 500:
            raise SourceError(f"graph {what} refused for {mailbox}: HTTP {status} {detail}")
        retries.attempts += 1
        if retries.attempts >= MAX_ATTEMPTS:
            raise SourceError(
                f"graph {what} failed for {mailbox} after {retries.attempts} attempts: HTTP {status} {detail}"
            )
        self._back_off(what, retries.attempts, f"HTTP {status} {detail}")

    def _prefer(self, url: str) -> str:
        # The immutable-id preference on every request; the page size only where
        # a delta round starts or continues (the service keeps it in its links).
        if "/messages/delta" in url:
            return f"{IMMUTABLE_ID}, odata.maxpagesize={self._settings.page_size}"
        return IMMUTABLE_ID

    def _wait_for_pause(self) -> None:
        with self._pause_lock:
            until = self._paused_until
        remaining = until - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def _pause(self, delay: float) -> None:
        # All requests to the mailbox wait: the limit is per app and mailbox, so
        # the other threads' requests would only be throttled too.
        with self._pause_lock:
            self._paused_until = max(self._paused_until, time.monotonic() + delay)

    def _back_off(self, what: str, attempts: int, reason: str) -> None:
        delay = self._backoff_delay(attempts)
        log.warning(
            "graph %s for %s failed (%s); retrying in %.1fs", what, self._settings.mailbox, reason, delay
        )
        self._sleep(delay)

    def _backoff_delay(self, attempts: int) -> float:
        return min(BACKOFF_MAX, 2.0 ** (attempts - 1)) * self._random.uniform(0.8, 1.0)

    # -- tokens ------------------------------------------------------------------

    def _current_token(self) -> tuple[int, str]:
        with self._token_lock:
            if not self._token:
                self._token = self._new_token()
                self._token_generation += 1
            return self._token_generation, self._token

    def _refresh_token(self, after: int | None = None) -> None:
        """Forget the token (unless another thread already replaced the one that
        failed, ``after`` being its generation) so the next request gets a new one."""
        with self._token_lock:
            if after is not None and after != self._token_generation:
                return
            forget = getattr(self._token_provider, "invalidate", None)
            if after is not None and callable(forget):
                forget()  # an MSAL provider would hand out its cached token again
            self._token = ""

    def _new_token(self) -> str:
        try:
            token = self._token_provider()
        except SourceError as exc:
            raise SourceError(str(exc), kind=getattr(exc, "kind", "") or "auth") from None
        except Exception as exc:  # a custom provider's message might quote a secret
            raise SourceError(f"graph token provider failed: {type(exc).__name__}", kind="auth") from None
        if not token or len(token.split()) != 1:
            raise SourceError("graph token provider gave no usable token", kind="auth")
        return token

    # -- helpers -----------------------------------------------------------------

    def _message_id(self, key: SourceKey) -> str | None:
        listed = self._listed.get(key.uid)
        message_id = listed.message_id if listed is not None else key.uid.split(" ", 1)[0]
        return message_id if _GRAPH_ID.match(message_id) else None

    def _is_ours(self, link: str) -> bool:
        """Only follow links under our own Graph root: the bearer token goes along."""
        return link.startswith(self._mailbox_url + "/") and not any(c in link for c in "\r\n\t ")

    def _where(self, folder: str) -> str:
        return f"{self._settings.mailbox}/{folder}"

    def _own(self, keys: Sequence[SourceKey]) -> list[SourceKey]:
        own = [key for key in keys if key.account == self.account]
        if len(own) < len(keys):
            log.warning("graph %s: ignoring %d keys of another account", self.account, len(keys) - len(own))
        return own


def ledger_uid(message_id: str, internet_message_id: object) -> str:
    """The ledger's uid for a Graph message: its immutable id and its
    internetMessageId, space-separated (neither holds a space). A Message-ID that
    is missing, long or odd is replaced by a digest, so the uid stays short."""
    text = internet_message_id if isinstance(internet_message_id, str) else ""
    if not text:
        shown = "-"
    elif _MESSAGE_ID_SHOWN.match(text):
        shown = text
    else:
        shown = "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]
    return f"{message_id} {shown}"


def _segment(value: str) -> str:
    """A path segment: everything but unreserved characters percent-encoded."""
    return quote(value, safe="")


def _checked_id(value: object) -> str:
    if not isinstance(value, str) or not _GRAPH_ID.match(value):
        raise SourceError("graph returned a folder with an unusable id")
    return value


def _read_mime(response: httpx.Response, limit: int) -> tuple[bytes, int]:
    """The body up to ``limit`` bytes, and its size. Over the limit only the
    first OVERSIZE_PREFIX_BYTES are kept (the stager quarantines it)."""
    declared = response.headers.get("Content-Length")
    size_hint = int(declared) if declared and declared.isdigit() else 0
    if size_hint > limit:
        return _read_prefix(response), size_hint
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            head = b"".join(chunks)[:OVERSIZE_PREFIX_BYTES]
            return head, max(total, size_hint)
        chunks.append(chunk)
    return b"".join(chunks), total


def _read_prefix(response: httpx.Response) -> bytes:
    kept = bytearray()
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= OVERSIZE_PREFIX_BYTES:
            break
    return bytes(kept[:OVERSIZE_PREFIX_BYTES])


def _read_limited(response: httpx.Response, limit: int, what: str) -> bytes:
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > limit:
            raise SourceError(f"graph {what}: answer larger than {limit} bytes")
    return bytes(data)


def _error_detail(response: httpx.Response) -> str:
    """Graph's error code and message (docs: graph/errors), one short line."""
    try:
        data = _read_limited(response, 64 * 1024, "error")
        error = httpx.Response(200, content=data).json().get("error", {})
        text = f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except (SourceError, ValueError, AttributeError, httpx.HTTPError):
        text = ""
    text = " ".join(text.split()) or f"HTTP {response.status_code}"
    return "".join(c if c.isprintable() else "?" for c in text)[:DETAIL_MAX]


def _retry_after(value: str | None, clock: Clock) -> float | None:
    """Retry-After as seconds (a number, or an HTTP date, RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - clock.now()).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), 3600.0)


def _parse_instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    if ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"graph ca_file {ca_file} cannot be used: {_describe(exc)}") from None


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _host(url: str) -> str:
    return httpx.URL(url).host


def _describe(exc: BaseException, *secrets: str) -> str:
    text = " ".join(redact(str(exc), *[s for s in secrets if s]).split()) or type(exc).__name__
    return text[:DETAIL_MAX]
