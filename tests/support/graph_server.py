"""A Microsoft Graph v1.0 and Entra ID token endpoint for tests: a real HTTP server
on a loopback port that does what Microsoft documents, for the few calls mailroom
makes, and nothing else. Microsoft's service cannot be reached from here, so the
Graph mail source and the Graph sender are tested against this over real HTTP.

Every behaviour names the page it follows (the DOCS_* constants). Paths:

  POST /{tenant}/oauth2/v2.0/token                         client credentials grant
  GET  /{tenant}/v2.0/.well-known/openid-configuration     for MSAL's tenant discovery
  GET  /v1.0/users/{mailbox}/mailFolders[/{folder}]        folders (well-known names too)
  POST /v1.0/users/{mailbox}/mailFolders                   create a folder
  GET  /v1.0/users/{mailbox}/mailFolders/{folder}/messages/delta
  GET  /v1.0/users/{mailbox}/messages/{id}                 a message's properties
  GET  /v1.0/users/{mailbox}/messages/{id}/$value          its MIME content
  POST /v1.0/users/{mailbox}/messages/{id}/move            move to another folder
  PATCH/DELETE /v1.0/users/{mailbox}/messages/{id}
  POST /v1.0/users/{mailbox}/sendMail                      MIME (base64) or JSON

Use::

    with GraphServer() as graph:
        graph.add_message(raw)                 # into the Inbox; returns the immutable id
        token = graph.issue_token()            # or graph.token_command() for a token command
        graph.inject_throttle(5, retry_after=0.2)
        graph.inject_delta_gone()
        graph.sent_messages()

Knobs for fault tests: ``inject_delta_gone`` (410 on the next delta call with a
state token), ``expire_delta_tokens``, ``inject_throttle`` (N x 429 with
Retry-After), ``fail_after`` (a 503 after K more requests), ``revoke_secret``,
``expire_tokens``, ``fail_send``, ``latency`` (seconds each Graph request takes, so
that concurrent requests overlap and the per-mailbox concurrency limit can bite).
What it saw: ``requests`` (method, path, headers, status), ``peak_concurrency``,
``token_requests``.

Deliberate simplifications: one tenant, one application; no child folders; state
tokens are kept in memory (opaque to the client, as Microsoft's are). Retry-After
may be fractional here so tests stay fast; Graph sends whole seconds.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import secrets
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import trustme
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

DOCS_DELTA_API = "https://learn.microsoft.com/en-us/graph/api/message-delta"
DOCS_DELTA_OVERVIEW = "https://learn.microsoft.com/en-us/graph/delta-query-overview"
DOCS_DELTA_MESSAGES = "https://learn.microsoft.com/en-us/graph/delta-query-messages"
DOCS_DELTA_RESET = "https://learn.microsoft.com/en-us/graph/delta-query-overview#synchronization-reset"
DOCS_THROTTLING = "https://learn.microsoft.com/en-us/graph/throttling"
DOCS_OUTLOOK_LIMITS = "https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits"
DOCS_MIME = "https://learn.microsoft.com/en-us/graph/outlook-get-mime-message"
DOCS_IMMUTABLE_ID = "https://learn.microsoft.com/en-us/graph/outlook-immutable-id"
DOCS_MOVE = "https://learn.microsoft.com/en-us/graph/api/message-move"
DOCS_FOLDERS = "https://learn.microsoft.com/en-us/graph/api/user-list-mailfolders"
DOCS_FOLDER_GET = "https://learn.microsoft.com/en-us/graph/api/mailfolder-get"
DOCS_FOLDER_CREATE = "https://learn.microsoft.com/en-us/graph/api/user-post-mailfolders"
DOCS_WELL_KNOWN = "https://learn.microsoft.com/en-us/graph/api/resources/mailfolder"
DOCS_MESSAGE_GET = "https://learn.microsoft.com/en-us/graph/api/message-get"
DOCS_MESSAGE_UPDATE = "https://learn.microsoft.com/en-us/graph/api/message-update"
DOCS_MESSAGE_DELETE = "https://learn.microsoft.com/en-us/graph/api/message-delete"
DOCS_SENDMAIL = "https://learn.microsoft.com/en-us/graph/api/user-sendmail"
DOCS_SENDMAIL_MIME = "https://learn.microsoft.com/en-us/graph/outlook-send-mime-message"
DOCS_ERRORS = "https://learn.microsoft.com/en-us/graph/errors"
DOCS_CLIENT_CREDS = (
    "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow"
)
DOCS_CERT_CREDS = "https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials"
DOCS_OIDC = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc"
DOCS_AADSTS = "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"  # SMTP/IMAP XOAUTH2 tokens
TOKEN_LIFETIME = 3600
# Outlook allows 4 concurrent requests per app per mailbox (DOCS_OUTLOOK_LIMITS).
OUTLOOK_CONCURRENCY = 4
# A delta page holds a service-chosen number of items unless odata.maxpagesize or
# $top asks for a size (DOCS_DELTA_MESSAGES); a small default makes paging show.
DEFAULT_DELTA_PAGE = 10
MAX_DELTA_PAGE = 1000
# Well-known folder names usable in place of a folder id (DOCS_WELL_KNOWN, "wellKnownName").
WELL_KNOWN = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "drafts": "Drafts",
    "junkemail": "Junk Email",
    "archive": "Archive",
}
# The default properties of a message when no $select is given (DOCS_MESSAGE_GET).
DEFAULT_PROPERTIES = (
    "receivedDateTime",
    "sentDateTime",
    "subject",
    "internetMessageId",
    "parentFolderId",
    "isRead",
    "from",
    "flag",
    "categories",
)
_IMMUTABLE = re.compile(r'(?:^|[,;\s])IdType\s*=\s*"ImmutableId"', re.IGNORECASE)
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    mailbox: str  # '' outside /users/{mailbox}
    started: float  # time.monotonic()
    status: int = 0


@dataclass
class SentMail:
    mailbox: str
    mime: bytes  # the decoded MIME message exactly as posted (DOCS_SENDMAIL_MIME)
    json_message: dict[str, Any] | None = None  # for a JSON sendMail instead

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.mime, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


@dataclass
class _Folder:
    id: str
    display_name: str
    well_known: str | None = None


@dataclass
class _Message:
    immutable_id: str
    regular_id: str
    folder_id: str
    raw: bytes
    received: datetime
    internet_message_id: str
    subject: str
    is_read: bool = False
    categories: list[str] = field(default_factory=list)
    flag_status: str = "notFlagged"


@dataclass
class _Mailbox:
    address: str
    folders: dict[str, _Folder] = field(default_factory=dict)
    messages: dict[str, _Message] = field(default_factory=dict)  # by immutable id
    regular: dict[str, str] = field(default_factory=dict)  # current regular id -> immutable id
    # (sequence, immutable id, folder before, folder after): what delta reports
    changes: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    sent: list[SentMail] = field(default_factory=list)


@dataclass
class _DeltaRound:
    """A page position of a delta round: opaque to the client ($skiptoken)."""

    mailbox: str
    folder_id: str
    ids: tuple[str, ...]  # immutable ids of the round's items, in order
    removed: frozenset[str]
    offset: int
    end_seq: int  # the change sequence the round's deltaLink continues from
    select: tuple[str, ...] | None
    page_size: int | None


@dataclass
class _DeltaState:
    """What a $deltatoken stands for: the folder and how far the client has synced."""

    mailbox: str
    folder_id: str
    seq: int
    select: tuple[str, ...] | None
    page_size: int | None


@dataclass
class _Token:
    scope: str
    expires: float  # time.time()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Thousands of requests a test: the test reads ``requests`` instead."""


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class GraphServer:
    """Start with ``with GraphServer() as graph:``. ``graph.base`` is the Graph root
    (``.../v1.0``), ``graph.authority`` what MSAL takes (needs ``tls=True``)."""

    def __init__(
        self,
        *,
        mailboxes: tuple[str, ...] = ("complaints@landlord.example",),
        tenant: str = "aaaabbbb-0000-cccc-1111-dddd2222eeee",
        client_id: str = "00001111-aaaa-2222-bbbb-3333cccc4444",
        client_secret: str = "Aa1~test-secret-value-for-graph-server",
        tls: bool = False,
        ca: trustme.CA | None = None,
        concurrency_limit: int = OUTLOOK_CONCURRENCY,
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_certificate: x509.Certificate | None = None  # accept assertions signed by it
        self.tls = tls
        self.ca = ca or (trustme.CA() if tls else None)
        self.concurrency_limit = concurrency_limit
        self.latency = 0.0  # seconds each Graph request takes
        self.requests: list[RecordedRequest] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_refusals: list[dict[str, Any]] = []
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self._lock = threading.RLock()
        self._seq = 0
        self._mailboxes: dict[str, _Mailbox] = {}
        self._tokens: dict[str, _Token] = {}
        self._rounds: dict[str, _DeltaRound] = {}
        self._delta_states: dict[str, _DeltaState] = {}
        self._secret_revoked = False
        self._gone = 0
        self._throttle: list[float] = []  # Retry-After of each injected 429 still to come
        self._fail_at: int | None = None  # request count at which the faults start
        self._fail_times = 0
        self._fail_status = 503
        self._send_failure: tuple[int, str, str, float | None] | None = None
        self._send_failures_left = 0
        self._max_send_bytes = 4 * 1024 * 1024
        self._graph_requests = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._ca_path: Path | None = None
        for address in mailboxes:
            self.add_mailbox(address)

    # --- running ---------------------------------------------------------------

    def __enter__(self) -> GraphServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        context: ssl.SSLContext | None = None
        if self.tls:
            assert self.ca is not None
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, ssl_context=context, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="graph-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def root(self) -> str:
        assert self._server is not None, "the Graph server is not running"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_port}"

    @property
    def base(self) -> str:
        """What ``https://graph.microsoft.com/v1.0`` is in production."""
        return f"{self.root}/v1.0"

    @property
    def authority(self) -> str:
        """What ``https://login.microsoftonline.com/{tenant}`` is in production."""
        return f"{self.root}/{self.tenant}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    def ca_file(self, directory: Path) -> Path:
        """The PEM of the CA that signed the server's certificate (``tls=True``)."""
        assert self.ca is not None, "a plain-HTTP server has no CA"
        path = directory / "graph-ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path

    # --- mailbox contents --------------------------------------------------------

    def add_mailbox(self, address: str) -> None:
        with self._lock:
            box = _Mailbox(address)
            for well_known, name in WELL_KNOWN.items():
                folder = _Folder(_folder_id(), name, well_known)
                box.folders[folder.id] = folder
            self._mailboxes[address.lower()] = box

    def add_folder(self, display_name: str, mailbox: str | None = None) -> str:
        with self._lock:
            box = self._box(mailbox)
            folder = _Folder(_folder_id(), display_name)
            box.folders[folder.id] = folder
            return folder.id

    def folder_id(self, name: str, mailbox: str | None = None) -> str | None:
        """The id of a folder by well-known name or display name (None if absent)."""
        with self._lock:
            found = self._find_folder(self._box(mailbox), name, by_display_name=True)
            return found.id if found else None

    def add_message(
        self,
        raw: bytes,
        folder: str = "inbox",
        *,
        mailbox: str | None = None,
        received: datetime | None = None,
    ) -> str:
        """Deliver ``raw`` (the MIME bytes, kept byte for byte) into ``folder`` (a
        well-known name, display name or id). Returns the message's immutable id."""
        parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
        with self._lock:
            box = self._box(mailbox)
            target = self._find_folder(box, folder, by_display_name=True)
            assert target is not None, f"no folder {folder!r}"
            message = _Message(
                immutable_id=_immutable_id(),
                regular_id=_regular_id(),
                folder_id=target.id,
                raw=bytes(raw),
                received=received or datetime.now(UTC).replace(microsecond=0),
                internet_message_id=str(parsed.get("Message-ID", "") or "").strip(),
                subject=str(parsed.get("Subject", "") or ""),
            )
            box.messages[message.immutable_id] = message
            box.regular[message.regular_id] = message.immutable_id
            self._change(box, message.immutable_id, None, target.id)
            return message.immutable_id

    def move_message(self, message_id: str, folder: str, mailbox: str | None = None) -> None:
        """Move as a person in Outlook would (DOCS_MOVE)."""
        with self._lock:
            box = self._box(mailbox)
            target = self._find_folder(box, folder, by_display_name=True)
            assert target is not None, f"no folder {folder!r}"
            self._move(box, box.messages[self._resolve_id(box, message_id)], target)

    def delete_message(self, message_id: str, mailbox: str | None = None) -> None:
        with self._lock:
            box = self._box(mailbox)
            self._delete(box, box.messages[self._resolve_id(box, message_id)])

    def messages_in(self, folder: str, mailbox: str | None = None) -> dict[str, bytes]:
        """Immutable id -> raw MIME of every message in ``folder``."""
        with self._lock:
            box = self._box(mailbox)
            target = self._find_folder(box, folder, by_display_name=True)
            if target is None:
                return {}
            return {m.immutable_id: m.raw for m in box.messages.values() if m.folder_id == target.id}

    def regular_id(self, immutable_id: str, mailbox: str | None = None) -> str:
        """The message's current (default-format) id: it changes when it moves."""
        with self._lock:
            return self._box(mailbox).messages[immutable_id].regular_id

    def sent_messages(self, mailbox: str | None = None) -> list[SentMail]:
        with self._lock:
            if mailbox is not None:
                return list(self._box(mailbox).sent)
            return [sent for box in self._mailboxes.values() for sent in box.sent]

    def peak_concurrency(self, mailbox: str | None = None) -> int:
        """The most requests for ``mailbox`` the server ever had in progress at once."""
        with self._lock:
            return self._box(mailbox).peak

    def graph_requests(self, mailbox: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            wanted = self._box(mailbox).address.lower() if mailbox is not None else None
            return [r for r in self.requests if r.mailbox and (wanted is None or r.mailbox == wanted)]

    # --- faults ---------------------------------------------------------------

    def inject_delta_gone(self, count: int = 1) -> None:
        """The next ``count`` delta calls that carry a state token get 410 Gone."""
        with self._lock:
            self._gone += count

    def expire_delta_tokens(self) -> None:
        """Every state token issued so far stops working (410), as when the
        service's delta token cache drops them (DOCS_DELTA_RESET)."""
        with self._lock:
            self._rounds.clear()
            self._delta_states.clear()

    def inject_throttle(self, count: int, retry_after: float = 1.0) -> None:
        """The next ``count`` Graph requests get 429 with ``Retry-After``."""
        with self._lock:
            self._throttle.extend([retry_after] * count)

    def fail_after(self, requests: int, *, status: int = 503, times: int = 1) -> None:
        """After ``requests`` more Graph requests succeed, ``times`` fail with ``status``."""
        with self._lock:
            self._fail_at = self._graph_requests + requests
            self._fail_times = times
            self._fail_status = status

    def fail_send(
        self, status: int, code: str, message: str = "", *, times: int = 1, retry_after: float | None = None
    ) -> None:
        """The next ``times`` sendMail calls fail with this Graph error (DOCS_ERRORS)."""
        with self._lock:
            self._send_failure = (status, code, message or code, retry_after)
            self._send_failures_left = times

    def set_max_send_bytes(self, limit: int) -> None:
        with self._lock:
            self._max_send_bytes = limit

    def revoke_secret(self) -> None:
        """The client secret stops working (deleted or expired in the app registration)."""
        with self._lock:
            self._secret_revoked = True

    def restore_secret(self) -> None:
        with self._lock:
            self._secret_revoked = False

    def expire_tokens(self) -> None:
        """Every access token issued so far is past its lifetime."""
        with self._lock:
            for token in self._tokens.values():
                token.expires = 0.0

    # --- tokens for tests ---------------------------------------------------------

    def issue_token(self, scope: str = GRAPH_SCOPE) -> str:
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = _Token(scope, time.time() + TOKEN_LIFETIME)
        return token

    def token_command(self, scope: str = GRAPH_SCOPE, ca_file: Path | None = None) -> list[str]:
        """argv of a program that gets a token by the client credentials grant and
        prints it, as a production token helper would (for ``token_command``)."""
        form = urlencode(
            {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": scope,
                "grant_type": "client_credentials",
            }
        )
        code = (
            "import json,ssl,sys,urllib.request,urllib.error\n"
            f"ctx=ssl.create_default_context(cafile={str(ca_file)!r}) if {ca_file is not None!r} else None\n"
            "try:\n"
            f"    r=urllib.request.urlopen({self.token_endpoint!r},data={form!r}.encode(),\n"
            "                           context=ctx,timeout=20)\n"
            "except urllib.error.HTTPError as e:\n"
            "    sys.exit(json.load(e).get('error_description','token request failed').splitlines()[0])\n"
            "print(json.load(r)['access_token'])\n"
        )
        return [sys.executable, "-c", code]

    # --- HTTP -----------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = request.path
        record = RecordedRequest(
            request.method, path, request.args.to_dict(flat=True), headers, "", time.monotonic()
        )
        with self._lock:
            self.requests.append(record)
        if self.on_request is not None:
            self.on_request(record)
        try:
            graph = path.startswith("/v1.0/")
            response = self._graph(request, record) if graph else self._identity(request)
        except GraphError as exc:
            response = _graph_error(exc, headers)
        record.status = response.status_code
        return response(environ, start_response)

    # --- Entra ID ---------------------------------------------------------------

    def _identity(self, request: Request) -> Response:
        prefix = f"/{self.tenant}"
        if request.method == "POST" and request.path == f"{prefix}/oauth2/v2.0/token":
            return self._token(request)
        if request.method == "GET" and request.path == f"{prefix}/v2.0/.well-known/openid-configuration":
            # MSAL reads {authority}/v2.0/.well-known/openid-configuration (DOCS_OIDC).
            return _json(
                {
                    "issuer": f"{self.authority}/v2.0",
                    "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                    "token_endpoint": self.token_endpoint,
                    "device_authorization_endpoint": f"{self.authority}/oauth2/v2.0/devicecode",
                    "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "tenant_region_scope": "EU",
                }
            )
        return _json({"error": "not_found"}, status=404)

    def _token(self, request: Request) -> Response:
        # The client credentials grant (DOCS_CLIENT_CREDS): client_id, scope
        # "{resource}/.default", grant_type=client_credentials, and a client_secret
        # or a client_assertion signed with the app's certificate (DOCS_CERT_CREDS).
        form = request.form.to_dict(flat=True)
        with self._lock:
            self.token_requests.append({k: v for k, v in form.items() if k != "client_secret"})
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username or ""
            secret = request.authorization.password or ""
        if form.get("grant_type") != "client_credentials":
            return self._refuse(
                "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        if client_id != self.client_id:
            return self._refuse(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory.",
            )
        if secret is not None:
            with self._lock:
                revoked = self._secret_revoked
            if revoked or not secrets.compare_digest(secret, self.client_secret):
                # A deleted, expired or wrong secret (DOCS_AADSTS: AADSTS7000215).
                return self._refuse(
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
                    f"request is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{self.client_id}'.",
                )
        else:
            problem = self._check_assertion(form)
            if problem:
                return self._refuse("invalid_client", problem)
        scope = form.get("scope", "")
        if scope not in (GRAPH_SCOPE, OUTLOOK_SCOPE):
            # App-only tokens take "{resource}/.default" and nothing else (DOCS_CLIENT_CREDS).
            return self._refuse(
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {scope} is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource identifier.",
            )
        token = self.issue_token(scope)
        # The successful response (DOCS_CLIENT_CREDS, "Successful response").
        return _json(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME - 1,
                "ext_expires_in": TOKEN_LIFETIME - 1,
                "access_token": token,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _check_assertion(self, form: dict[str, str]) -> str:
        """'' if the client assertion is good: a JWT with iss = sub = client_id and
        aud = the token endpoint, unexpired, signed by the registered certificate
        (DOCS_CERT_CREDS, "Assertion format")."""
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return (
                "AADSTS7000218: The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'."
            )
        if self.client_certificate is None or self._secret_revoked:
            return (
                "AADSTS700027: The certificate with identifier used to sign the client assertion "
                "is not registered on application."
            )
        try:
            header_b64, claims_b64, signature_b64 = form.get("client_assertion", "").split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(claims_b64))
            public_key = self.client_certificate.public_key()
            assert isinstance(public_key, rsa.RSAPublicKey)
            signed = f"{header_b64}.{claims_b64}".encode("ascii")
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
                if header.get("alg") == "PS256"
                else padding.PKCS1v15()
            )
            public_key.verify(_b64decode(signature_b64), signed, pad, hashes.SHA256())
        except (ValueError, AssertionError, InvalidSignature):
            return "AADSTS700027: Client assertion failed signature validation."
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return "AADSTS700023: Client assertion audience or issuer is invalid."
        if claims.get("aud") not in (self.token_endpoint, f"{self.authority}/v2.0"):
            return "AADSTS700023: Client assertion audience claim does not match Realm issuer."
        if float(claims.get("exp", 0)) < time.time():
            return "AADSTS700024: Client assertion is not within its valid time range."
        return ""

    def _refuse(self, error: str, description: str, status: int = 400) -> Response:
        # The token endpoint's error response: 400 with error, error_description,
        # error_codes, timestamp, trace_id, correlation_id (DOCS_CLIENT_CREDS, "Error response").
        body = {
            "error": error,
            "error_description": description,
            "error_codes": [int(found) for found in re.findall(r"AADSTS(\d+)", description)],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": secrets.token_hex(16),
            "correlation_id": secrets.token_hex(16),
        }
        with self._lock:
            self.token_refusals.append(body)
        return _json(body, status=status)

    # --- Graph ------------------------------------------------------------------

    def _graph(self, request: Request, record: RecordedRequest) -> Response:
        parts = request.path.split("/")[2:]  # after "/v1.0"
        if len(parts) < 2 or parts[0] != "users" or not parts[1]:
            raise GraphError(400, "BadRequest", "Resource not found for the segment.")
        with self._lock:
            if parts[1].lower() in self._mailboxes:
                record.mailbox = parts[1].lower()
        self._authenticate(request)
        with self._lock:
            box = self._mailboxes.get(parts[1].lower())
            if box is None:
                raise GraphError(404, "ErrorInvalidUser", f"The requested user '{parts[1]}' is invalid.")
            record.mailbox = box.address.lower()
            self._graph_requests += 1
            count = self._graph_requests
            box.in_flight += 1
            box.peak = max(box.peak, box.in_flight)
            over_limit = box.in_flight > self.concurrency_limit
            throttle = self._throttle.pop(0) if self._throttle else None
            fail = self._fail_at is not None and count > self._fail_at and self._fail_times > 0
            if fail:
                self._fail_times -= 1
        try:
            if self.latency:
                time.sleep(self.latency)
            if over_limit:
                # More than 4 concurrent requests to one mailbox: 429 with
                # ApplicationThrottled / MailboxConcurrency (DOCS_OUTLOOK_LIMITS, DOCS_THROTTLING).
                raise GraphError(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                    {"Retry-After": "1"},
                )
            if throttle is not None:
                # "Retry-After ... the number of seconds to wait" (DOCS_THROTTLING).
                raise GraphError(
                    429,
                    "TooManyRequests",
                    "Too many requests. Please retry later.",
                    {"Retry-After": _seconds(throttle)},
                )
            if fail:
                raise GraphError(
                    self._fail_status, "ServiceUnavailable", "The service is temporarily unavailable."
                )
            return self._route(request, box, parts[2:])
        finally:
            with self._lock:
                box.in_flight -= 1

    def _authenticate(self, request: Request) -> None:
        # Graph refuses a missing, malformed or expired bearer token with 401 and
        # InvalidAuthenticationToken (DOCS_ERRORS).
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(
                401, "InvalidAuthenticationToken", "Access token is empty.", {"WWW-Authenticate": "Bearer"}
            )
        with self._lock:
            issued = self._tokens.get(token.strip())
        if issued is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed.",
                {"WWW-Authenticate": "Bearer"},
            )
        if issued.expires < time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if issued.scope != GRAPH_SCOPE:
            raise GraphError(
                401, "InvalidAuthenticationToken", "Invalid audience.", {"WWW-Authenticate": "Bearer"}
            )

    def _route(self, request: Request, box: _Mailbox, parts: list[str]) -> Response:
        method = request.method
        immutable = bool(_IMMUTABLE.search(request.headers.get("Prefer", "")))
        if parts[:1] == ["mailFolders"]:
            if len(parts) == 1 and method == "GET":
                return self._list_folders(request, box)
            if len(parts) == 1 and method == "POST":
                return self._create_folder(request, box)
            if len(parts) == 2 and method == "GET":
                return _json(self._folder_json(self._folder(box, parts[1])))
            if len(parts) == 4 and parts[2:] == ["messages", "delta"] and method == "GET":
                return self._delta(request, box, self._folder(box, parts[1]), immutable)
        if parts[:1] == ["messages"] and len(parts) >= 2:
            return self._message_request(request, box, parts, immutable)
        if parts == ["sendMail"] and method == "POST":
            return self._send_mail(request, box)
        raise GraphError(400, "BadRequest", f"Unsupported request: {method} {'/'.join(parts)}")

    def _message_request(
        self, request: Request, box: _Mailbox, parts: list[str], immutable: bool
    ) -> Response:
        method = request.method
        with self._lock:
            message = box.messages.get(self._resolve_id(box, parts[1]))
        if message is None:
            # A stale default id (the message moved) or a deleted message (DOCS_IMMUTABLE_ID).
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if len(parts) == 2 and method == "GET":
            return _json(self._message_json(message, _select(request), immutable), immutable=immutable)
        if len(parts) == 3 and parts[2] == "$value" and method == "GET":
            # The MIME content of the message, as stored (DOCS_MIME).
            return Response(message.raw, status=200, content_type="text/plain")
        if len(parts) == 3 and parts[2] == "move" and method == "POST":
            return self._move_request(request, box, message, immutable)
        if len(parts) == 2 and method == "PATCH":
            return self._update(request, box, message, immutable)
        if len(parts) == 2 and method == "DELETE":
            # DOCS_MESSAGE_DELETE: 204 No Content.
            with self._lock:
                self._delete(box, message)
            return Response(status=204)
        raise GraphError(400, "BadRequest", f"Unsupported request: {method} {'/'.join(parts)}")

    # --- folders ----------------------------------------------------------------

    def _list_folders(self, request: Request, box: _Mailbox) -> Response:
        # GET /users/{id}/mailFolders: the top-level folders; $filter on
        # displayName is supported (DOCS_FOLDERS).
        wanted = None
        match = re.fullmatch(r"\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*", request.args.get("$filter", ""))
        if request.args.get("$filter") is not None:
            if match is None:
                raise GraphError(
                    400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."
                )
            wanted = match.group(1).replace("''", "'")
        with self._lock:
            folders = [f for f in box.folders.values() if wanted is None or f.display_name == wanted]
            return _json({"value": [self._folder_json(f) for f in folders]})

    def _create_folder(self, request: Request, box: _Mailbox) -> Response:
        # POST /users/{id}/mailFolders {"displayName": ...}: 201 Created; an existing
        # name is refused (DOCS_FOLDER_CREATE).
        body = _json_body(request)
        name = body.get("displayName")
        if not isinstance(name, str) or not name:
            raise GraphError(400, "ErrorInvalidRequest", "displayName is required.")
        with self._lock:
            if any(f.display_name.lower() == name.lower() for f in box.folders.values()):
                raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
            folder = _Folder(_folder_id(), name)
            box.folders[folder.id] = folder
            return _json(self._folder_json(folder), status=201)

    def _folder(self, box: _Mailbox, name: str) -> _Folder:
        # A folder id or a well-known name; display names are not ids (DOCS_FOLDER_GET).
        with self._lock:
            found = self._find_folder(box, name, by_display_name=False)
        if found is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return found

    def _folder_json(self, folder: _Folder) -> dict[str, Any]:
        box = next(b for b in self._mailboxes.values() if folder.id in b.folders)
        total = sum(1 for m in box.messages.values() if m.folder_id == folder.id)
        unread = sum(1 for m in box.messages.values() if m.folder_id == folder.id and not m.is_read)
        return {
            "id": folder.id,
            "displayName": folder.display_name,
            "parentFolderId": "msgfolderroot",
            "childFolderCount": 0,
            "unreadItemCount": unread,
            "totalItemCount": total,
            "isHidden": False,
        }

    # --- delta ------------------------------------------------------------------

    def _delta(self, request: Request, box: _Mailbox, folder: _Folder, immutable: bool) -> Response:
        # A delta round (DOCS_DELTA_API, DOCS_DELTA_MESSAGES): the first call has no
        # state token and lists the messages now in the folder; every page but the
        # last carries @odata.nextLink ($skiptoken), the last @odata.deltaLink
        # ($deltatoken), never both (DOCS_DELTA_OVERVIEW). Calling the deltaLink
        # later returns only what changed since: new and updated messages, and
        # "@removed" for those deleted or moved out.
        skiptoken = request.args.get("$skiptoken")
        deltatoken = request.args.get("$deltatoken")
        page_size = _page_size(request)
        with self._lock:
            if (skiptoken or deltatoken) and self._gone > 0:
                self._gone -= 1
                raise self._gone_error(box, folder)
            if skiptoken:
                round_ = self._rounds.get(skiptoken)
                if round_ is None or round_.folder_id != folder.id or round_.mailbox != box.address.lower():
                    raise self._gone_error(box, folder)
            elif deltatoken:
                state = self._delta_states.get(deltatoken)
                if state is None or state.folder_id != folder.id or state.mailbox != box.address.lower():
                    raise self._gone_error(box, folder)
                round_ = self._changes_since(box, folder, state, page_size)
            else:
                round_ = self._full_round(box, folder, _select(request), page_size)
            return self._delta_page(request, box, folder, round_, immutable)

    def _gone_error(self, box: _Mailbox, folder: _Folder) -> GraphError:
        # An expired or unknown state token: 410 Gone, and the client starts a full
        # synchronization again; the Location header holds a fresh delta request
        # (DOCS_DELTA_RESET).
        location = f"{self.base}/users/{box.address}/mailFolders/{folder.id}/messages/delta"
        return GraphError(
            410,
            "SyncStateNotFound",
            "The sync state generation is not found. "
            "The delta token is expired and data must be synchronized again.",
            {"Location": location},
        )

    def _full_round(
        self, box: _Mailbox, folder: _Folder, select: tuple[str, ...] | None, page_size: int | None
    ) -> _DeltaRound:
        # The first round lists the resources now in the collection; those deleted
        # before it are not returned (DOCS_DELTA_OVERVIEW).
        ids = tuple(
            m.immutable_id
            for m in sorted(box.messages.values(), key=lambda m: m.received)  # stable: arrival order
            if m.folder_id == folder.id
        )
        return _DeltaRound(box.address.lower(), folder.id, ids, frozenset(), 0, self._seq, select, page_size)

    def _changes_since(
        self, box: _Mailbox, folder: _Folder, state: _DeltaState, page_size: int | None
    ) -> _DeltaRound:
        touched: dict[str, None] = {}
        for seq, message_id, before, after in box.changes:
            if seq > state.seq and folder.id in (before, after):
                touched[message_id] = None
        present = tuple(i for i in touched if i in box.messages and box.messages[i].folder_id == folder.id)
        removed = frozenset(i for i in touched if i not in present)
        # The round keeps the query options of the round that issued the token
        # ("encodes any OData and custom query options", DOCS_DELTA_MESSAGES).
        return _DeltaRound(
            box.address.lower(),
            folder.id,
            present + tuple(sorted(removed)),
            removed,
            0,
            self._seq,
            state.select,
            page_size or state.page_size,
        )

    def _delta_page(
        self, request: Request, box: _Mailbox, folder: _Folder, round_: _DeltaRound, immutable: bool
    ) -> Response:
        size = min(round_.page_size or DEFAULT_DELTA_PAGE, MAX_DELTA_PAGE)
        chunk = round_.ids[round_.offset : round_.offset + size]
        items: list[dict[str, Any]] = []
        for message_id in chunk:
            message = box.messages.get(message_id)
            if message_id in round_.removed or message is None or message.folder_id != folder.id:
                # Moved out or deleted since: "@removed" with the reason (DOCS_DELTA_OVERVIEW).
                shown = message_id if immutable or message is None else message.regular_id
                items.append(
                    {
                        "@odata.type": "#microsoft.graph.message",
                        "id": shown,
                        "@removed": {"reason": "deleted"},
                    }
                )
            else:
                items.append(self._message_json(message, round_.select, immutable))
        link = f"{self.base}/users/{box.address}/mailFolders/{folder.id}/messages/delta"
        body: dict[str, Any] = {
            "@odata.context": f"{self.base}/$metadata#Collection(message)",
            "value": items,
        }
        end = round_.offset + len(chunk)
        if end < len(round_.ids):
            token = secrets.token_urlsafe(24)
            self._rounds[token] = _DeltaRound(
                round_.mailbox,
                round_.folder_id,
                round_.ids,
                round_.removed,
                end,
                round_.end_seq,
                round_.select,
                round_.page_size,
            )
            body["@odata.nextLink"] = f"{link}?$skiptoken={token}"  # as Graph writes them
        else:
            token = secrets.token_urlsafe(24)
            self._delta_states[token] = _DeltaState(
                round_.mailbox, round_.folder_id, round_.end_seq, round_.select, round_.page_size
            )
            body["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        applied = []
        if round_.page_size:
            applied.append(f"odata.maxpagesize={size}")
        return _json(body, immutable=immutable, applied=applied)

    # --- messages ---------------------------------------------------------------

    def _message_json(
        self, message: _Message, select: tuple[str, ...] | None, immutable: bool
    ) -> dict[str, Any]:
        # With Prefer: IdType="ImmutableId" the ids in responses are immutable ids,
        # which stay the same when the message moves; otherwise the default ids,
        # which change on a move (DOCS_IMMUTABLE_ID).
        everything: dict[str, Any] = {
            "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sentDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject": message.subject,
            "internetMessageId": message.internet_message_id,
            "parentFolderId": message.folder_id,
            "isRead": message.is_read,
            "from": {"emailAddress": {"name": "", "address": ""}},
            "flag": {"flagStatus": message.flag_status},
            "categories": list(message.categories),
        }
        names = select if select is not None else DEFAULT_PROPERTIES
        shown: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.message",
            "@odata.etag": f'W/"{message.regular_id[-12:]}"',
            "id": message.immutable_id if immutable else message.regular_id,
        }
        for name in names:
            if name in everything:
                shown[name] = everything[name]
            elif name != "id":
                raise GraphError(
                    400,
                    "RequestBroker--ParseUri",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.message'.",
                )
        return shown

    def _move_request(self, request: Request, box: _Mailbox, message: _Message, immutable: bool) -> Response:
        # POST .../messages/{id}/move {"destinationId": folder id or well-known name}:
        # 201 Created with the message in its new folder (DOCS_MOVE).
        destination = _json_body(request).get("destinationId")
        if not isinstance(destination, str) or not destination:
            raise GraphError(400, "ErrorInvalidRequest", "destinationId is required.")
        target = self._folder(box, destination)
        with self._lock:
            self._move(box, message, target)
            return _json(self._message_json(message, None, immutable), status=201, immutable=immutable)

    def _update(self, request: Request, box: _Mailbox, message: _Message, immutable: bool) -> Response:
        # PATCH: isRead, categories and flag are writable (DOCS_MESSAGE_UPDATE).
        body = _json_body(request)
        with self._lock:
            if isinstance(body.get("isRead"), bool):
                message.is_read = body["isRead"]
            if isinstance(body.get("categories"), list):
                message.categories = [str(c) for c in body["categories"]]
            flag = body.get("flag")
            if isinstance(flag, dict) and isinstance(flag.get("flagStatus"), str):
                message.flag_status = flag["flagStatus"]
            self._change(box, message.immutable_id, message.folder_id, message.folder_id)
            return _json(self._message_json(message, None, immutable), immutable=immutable)

    # --- sendMail ---------------------------------------------------------------

    def _send_mail(self, request: Request, box: _Mailbox) -> Response:
        # POST /users/{id}/sendMail (DOCS_SENDMAIL): with Content-Type text/plain the
        # body is the MIME message in base64 (DOCS_SENDMAIL_MIME); with
        # application/json a message resource. 202 Accepted, no body. The message
        # is saved to Sent Items.
        with self._lock:
            failure = self._send_failure if self._send_failures_left > 0 else None
            if failure is not None:
                self._send_failures_left -= 1
            limit = self._max_send_bytes
        if failure is not None:
            status, code, text, retry_after = failure
            headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}
            raise GraphError(status, code, text, headers)
        data = request.get_data(cache=False)
        if len(data) > limit:
            raise GraphError(413, "RequestEntityTooLarge", "The request body is too large.")
        content_type = request.mimetype
        if content_type == "text/plain":
            try:
                mime = base64.b64decode(data, validate=True)
            except ValueError:
                # "If the request body includes malformed MIME content, this method
                # returns 400 Bad request ... Invalid base64 string for MIME content."
                raise GraphError(
                    400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."
                ) from None
            if not mime.strip() or b":" not in mime.split(b"\n", 1)[0]:
                raise GraphError(400, "ErrorMimeContentInvalid", "The MIME content is invalid.")
            sent = SentMail(box.address, mime)
        elif content_type == "application/json":
            try:
                payload = json.loads(data)
            except ValueError:
                raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
            message_json = payload.get("message") if isinstance(payload, dict) else None
            if not isinstance(message_json, dict):
                raise GraphError(400, "ErrorInvalidRequest", "The message is missing.")
            sent = SentMail(box.address, b"", message_json)
        else:
            raise GraphError(415, "UnsupportedMediaType", f"Content-Type {content_type} is not supported.")
        with self._lock:
            box.sent.append(sent)
            if sent.mime:
                sent_items = self._find_folder(box, "sentitems", by_display_name=False)
                assert sent_items is not None
                message = _Message(
                    _immutable_id(), _regular_id(), sent_items.id, sent.mime, datetime.now(UTC), "", ""
                )
                box.messages[message.immutable_id] = message
                box.regular[message.regular_id] = message.immutable_id
                self._change(box, message.immutable_id, None, sent_items.id)
        return Response(status=202)

    # --- state changes (callers hold the lock) ------------------------------------

    def _box(self, mailbox: str | None) -> _Mailbox:
        if mailbox is None:
            return next(iter(self._mailboxes.values()))
        return self._mailboxes[mailbox.lower()]

    def _find_folder(self, box: _Mailbox, name: str, *, by_display_name: bool) -> _Folder | None:
        if name in box.folders:
            return box.folders[name]
        for folder in box.folders.values():
            if folder.well_known is not None and folder.well_known == name.lower():
                return folder
        if by_display_name:
            for folder in box.folders.values():
                if folder.display_name == name:
                    return folder
        return None

    def _resolve_id(self, box: _Mailbox, message_id: str) -> str:
        """The immutable id for an immutable id or a current default id; '' if stale."""
        if message_id in box.messages:
            return message_id
        return box.regular.get(message_id, "")

    def _change(self, box: _Mailbox, message_id: str, before: str | None, after: str | None) -> None:
        self._seq += 1
        box.changes.append((self._seq, message_id, before, after))

    def _move(self, box: _Mailbox, message: _Message, target: _Folder) -> None:
        # A move gives the message a new default id; its immutable id stays (DOCS_IMMUTABLE_ID).
        before = message.folder_id
        box.regular.pop(message.regular_id, None)
        message.regular_id = _regular_id()
        box.regular[message.regular_id] = message.immutable_id
        message.folder_id = target.id
        self._change(box, message.immutable_id, before, target.id)

    def _delete(self, box: _Mailbox, message: _Message) -> None:
        box.messages.pop(message.immutable_id, None)
        box.regular.pop(message.regular_id, None)
        self._change(box, message.immutable_id, message.folder_id, None)


# --- helpers ----------------------------------------------------------------------


def _immutable_id() -> str:
    # Shaped like Exchange's: URL-safe base64 with '=' padding, so a client that
    # puts it in a URL path unescaped is caught.
    return "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A" + secrets.token_urlsafe(33) + "="


def _regular_id() -> str:
    return "AAMkAGI2TG93AAA-" + secrets.token_urlsafe(33) + "="


def _folder_id() -> str:
    return "AAMkAGVmMDEzAAAuAAAAAA-" + secrets.token_urlsafe(18) + "AAA="


def _select(request: Request) -> tuple[str, ...] | None:
    # $select: only these properties (and id) are returned (DOCS_DELTA_API, "Optional query parameters").
    value = request.args.get("$select")
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _page_size(request: Request) -> int | None:
    # Prefer: odata.maxpagesize={x} sets the page size of a delta round; $top too
    # (DOCS_DELTA_API, "Request headers" and "Optional query parameters").
    match = _MAXPAGESIZE.search(request.headers.get("Prefer", ""))
    if match:
        return max(1, int(match.group(1)))
    top = request.args.get("$top")
    if top is not None and top.isdigit():
        return max(1, int(top))
    return None


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "The request payload must be a JSON object.")
    return body


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    immutable: bool = False,
    applied: list[str] | None = None,
) -> Response:
    all_headers = Headers(headers or {})
    preferences = list(applied or [])
    if immutable:
        preferences.append('IdType="ImmutableId"')
    if preferences:
        # The server says which preferences it honoured (RFC 7240; DOCS_IMMUTABLE_ID).
        all_headers["Preference-Applied"] = ", ".join(preferences)
    return Response(json.dumps(body), status=status, headers=all_headers, content_type="application/json")


def _graph_error(exc: GraphError, request_headers: dict[str, str]) -> Response:
    # The error resource: {"error": {"code", "message", "innerError": {"date",
    # "request-id", "client-request-id"}}} (DOCS_ERRORS).
    request_id = secrets.token_hex(16)
    body = {
        "error": {
            "code": exc.code,
            "message": exc.message,
            "innerError": {
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                "request-id": request_id,
                "client-request-id": request_headers.get("client-request-id", request_id),
            },
        }
    }
    headers = {"request-id": request_id, **exc.headers}
    return _json(body, status=exc.status, headers=headers)
