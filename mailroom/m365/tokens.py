"""App-only OAuth2 access tokens from Microsoft Entra ID (client credentials).

mailroom signs in as its own app registration, never as a person: MSAL's
``ConfidentialClientApplication`` with a client secret or a certificate, each read
from a file named in ``[m365]`` (the config text never holds it). The scope is the
resource's ``/.default``: Graph for sending and reading through Graph, Exchange
Online (``outlook.office365.com``) for SMTP and IMAP XOAUTH2.

Tokens live about an hour. MSAL keeps them in its default in-memory cache, one per
provider, and providers are kept per process (``provider_from_settings``): a
process asks Entra ID for a token about once an hour per resource and nothing is
written to disk. A restart asks afresh.

Tokens and secrets are never logged and never put in an error: a failure is one
line naming the AADSTS code Entra ID gave (``AADSTS7000215``: invalid client
secret), and every line goes through ``mailroom.redaction`` with the secret and the
last token as the things to hide.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from mailroom.config import ConfigError, M365Settings, Settings
from mailroom.ingest.source import SourceError
from mailroom.redaction import redact

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Exchange Online's resource: SMTP AUTH and IMAP/POP with XOAUTH2.
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
Resource = Literal["graph", "outlook"]
SCOPES: dict[str, str] = {"graph": GRAPH_SCOPE, "outlook": OUTLOOK_SCOPE}

# What a provider returns: a current access token. Sync: the IMAP source and the
# Graph source call it from worker threads; async callers use asyncio.to_thread.
TokenProvider = Callable[[], str]

_DETAIL_MAX = 300


class TokenError(SourceError):
    """No token: Entra ID refused the request, or could not be reached. One line,
    never the secret or a token; ``code`` is the AADSTS code when Entra ID gave one
    (e.g. "AADSTS7000215"), else ""."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class MsalTokenProvider:
    """Tokens for one scope from one app registration; call it for a token.

    The MSAL application is built on the first call, not here: building it reads
    the tenant's OpenID configuration over the network, and a provider is made
    while settings are loaded, when nothing should connect yet."""

    def __init__(self, settings: M365Settings, scope: str) -> None:
        if not settings.enabled:
            raise ConfigError("m365.tenant_id: not set; the Microsoft 365 app registration is off")
        self._settings = settings
        self._scope = scope
        self._credential, self._secret = _credential(settings)
        self._app: Any = None
        self._lock = threading.Lock()
        self._issued = ""  # the last token, hidden from every error line too

    def __call__(self) -> str:
        with self._lock:
            app = self._app or self._build()
        try:
            result = app.acquire_token_for_client(scopes=[self._scope])
        except Exception as exc:  # requests' connection errors, a bad reply: one line
            self._drop(app)
            raise TokenError(
                self._line(f"cannot reach {self._settings.authority_host}: {_reason(exc)}")
            ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            # MSAL answers the same refused request from its own HTTP cache for
            # 60 s; a fresh application on the next call means a secret restored
            # in Entra ID works at the next attempt. Our callers already pace
            # their attempts (the outbox's backoff, the worker's poll interval).
            self._drop(app)
            raise _refusal(result if isinstance(result, dict) else {}, self._settings, self._hide)
        self._issued = token
        return token

    def _drop(self, app: Any) -> None:
        with self._lock:
            if self._app is app:
                self._app = None

    def invalidate(self) -> None:
        """Forget the cached token: the server refused it (revoked, or the app's
        permissions changed), so the next call asks Entra ID for a fresh one.
        MSAL's client-credentials call has no force_refresh, hence the removal."""
        app = self._app
        if app is None:
            return
        cache = app.token_cache
        for item in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)

    def _build(self) -> Any:
        import msal  # type: ignore[import-untyped]  # here: msal and requests cost start-up time a staff command must not pay

        host = self._settings.authority_host.rstrip("/")
        hostname = host.partition("://")[2].split("/")[0].rsplit(":", 1)[0].lower()
        known = hostname in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
        ca_file = self._settings.ca_file
        try:
            app = msal.ConfidentialClientApplication(
                self._settings.client_id,
                client_credential=self._credential,
                authority=f"{host}/{self._settings.tenant_id}",
                # Instance discovery asks login.microsoftonline.com whether the
                # host is one of Microsoft's clouds. For the real hosts MSAL skips
                # it anyway; for any other (the test server, a national-cloud host
                # MSAL does not list) it would leave the machine, or refuse a
                # host that is not Microsoft's. Tenant discovery, the host's own
                # /v2.0/.well-known/openid-configuration, still runs either way.
                validate_authority=known,
                instance_discovery=known,
                http_client=_http_client(
                    str(ca_file) if ca_file is not None else True, self._settings.timeout
                ),
                # MSAL's default: no personal data (names, addresses) in its logs.
                enable_pii_log=False,
            )
        except Exception as exc:  # tenant discovery failed: unreachable host, unknown tenant
            raise TokenError(self._line(f"cannot use authority {host}: {_reason(exc)}")) from None
        self._app = app
        return app

    def _hide(self, text: str) -> str:
        return redact(text, self._secret, self._issued)

    def _line(self, detail: str) -> str:
        text = f"Microsoft 365 token for app {self._settings.client_id}: {detail}"
        return " ".join(self._hide(text).split())[:_DETAIL_MAX]


def _refusal(result: dict[str, Any], settings: M365Settings, hide: Callable[[str], str]) -> TokenError:
    """One line from Entra ID's error reply: the AADSTS code and the first sentence
    of its description, without the trace and correlation IDs that follow."""
    error = str(result.get("error") or "no access token in the reply")
    description = str(result.get("error_description") or "")
    codes = result.get("error_codes") or []
    code = f"AADSTS{codes[0]}" if codes and isinstance(codes[0], int) else ""
    first = description.split("\n")[0].split(" Trace ID:")[0].strip()
    if first.startswith("AADSTS"):
        head, _, rest = first.partition(":")
        code = code or head
        first = rest.strip()
    detail = " ".join(part for part in (code, error, first) if part)
    text = f"Microsoft 365 token for app {settings.client_id} refused: {detail}"
    return TokenError(" ".join(hide(text).split())[:_DETAIL_MAX], code)


def _http_client(verify: str | bool, timeout: float) -> Any:
    """What MSAL would build (a requests Session, one retry), except that ``verify``
    and ``timeout`` go with every request: requests lets REQUESTS_CA_BUNDLE
    override a session-wide ``verify`` (psf/requests#3829), so m365.ca_file would
    be ignored wherever that variable is set."""
    import requests

    session = requests.Session()
    plain = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("verify", verify)
        kwargs.setdefault("timeout", timeout)
        return plain(method, url, *args, **kwargs)

    session.request = request  # type: ignore[method-assign,assignment]  # as MSAL does for its timeout
    adapter = requests.adapters.HTTPAdapter(max_retries=1)
    session.mount("https://", adapter)
    return session


def _reason(exc: BaseException) -> str:
    """The kind of failure and its message's first line (a requests error's
    message holds the URL, never the request body)."""
    text = str(exc).split("\n")[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _credential(settings: M365Settings) -> tuple[str | dict[str, str], str]:
    """MSAL's client_credential and the secret to hide from error lines."""
    if settings.client_secret_file is not None:
        secret = _read(settings.client_secret_file, "m365.client_secret_file").strip().split("\n")[0].strip()
        if not secret:
            raise ConfigError(f"m365.client_secret_file: {settings.client_secret_file} is empty")
        return secret, secret
    assert settings.certificate_file is not None  # M365Settings checks that one of them is set
    pem = _read(settings.certificate_file, "m365.certificate_file")
    key = _pem_blocks(pem, "PRIVATE KEY")
    if not key:
        raise ConfigError(f"m365.certificate_file: {settings.certificate_file} holds no PEM private key")
    thumbprint = settings.certificate_thumbprint.replace(":", "").upper()
    if not thumbprint:
        thumbprint = _thumbprint(pem, settings.certificate_file)
    # The SHA-1 thumbprint (the x5t header), which every MSAL version since 1.0
    # takes and Entra ID shows on the app's "Certificates & secrets" page.
    return {"private_key": key, "thumbprint": thumbprint}, key


def _thumbprint(pem: str, path: Path) -> str:
    from cryptography import x509  # msal's own dependency
    from cryptography.hazmat.primitives import hashes

    certificate = _pem_blocks(pem, "CERTIFICATE")
    if not certificate:
        raise ConfigError(
            f"m365.certificate_file: {path} holds no certificate; add it to the file "
            "or set m365.certificate_thumbprint"
        )
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode("ascii"))
    except ValueError:
        raise ConfigError(f"m365.certificate_file: {path}: the certificate cannot be read") from None
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # Entra ID's x5t is SHA-1


def _pem_blocks(pem: str, label: str) -> str:
    """The first PEM block whose label ends with ``label`` ("PRIVATE KEY" also
    matches "RSA PRIVATE KEY" and "EC PRIVATE KEY"), or ""."""
    lines = pem.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if line.startswith("-----BEGIN ") and line.rstrip("-").endswith(label):
            end = line.replace("BEGIN", "END")
            for stop in range(index + 1, len(lines)):
                if lines[stop].strip() == end.strip():
                    return "\n".join(lines[index : stop + 1]) + "\n"
            return ""
    return ""


def _read(path: Path, key: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"{key}: cannot read {path}: {reason}") from None


# -- one provider per process, per app and resource ------------------------------------------------

_PROVIDERS: dict[tuple[object, ...], MsalTokenProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def provider_from_settings(settings: Settings, resource: Resource) -> MsalTokenProvider:
    """The process's token provider for ``resource`` ("graph": Graph's REST API,
    "outlook": SMTP and IMAP XOAUTH2) from ``[m365]``.

    The same provider (so the same MSAL cache) comes back for the same settings
    and credential: the scheduler builds a transport on every run, and a fresh
    cache each time would ask Entra ID for a token each time. A rotated secret
    (the file rewritten) gives a new provider, so the new secret is used at once."""
    m365 = settings.m365
    scope = SCOPES[resource]
    # The credential's hash, not the credential: the key lives as long as the process.
    credential, _secret = _credential(m365) if m365.enabled else ("", "")
    fingerprint = hashlib.sha256(repr(credential).encode("utf-8")).hexdigest()
    key = (m365.model_dump_json(), scope, fingerprint)
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = MsalTokenProvider(m365, scope)
        return provider


def invalidate(provider: TokenProvider) -> None:
    """After a server refused a token from ``provider`` (HTTP 401, SMTP 535): make
    the next call fetch a fresh one. A token command has nothing to forget: it is
    run again on every call."""
    forget = getattr(provider, "invalidate", None)
    if callable(forget):
        forget()
