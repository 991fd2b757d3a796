"""A small OpenID provider for the desk's single sign-on tests: a real HTTP server on
a loopback port, doing what Microsoft Entra ID documents for the authorization
code flow, and nothing else. The tests drive the desk against it over HTTP.

Its paths are Entra ID's, under a made-up tenant:
  /{tenant}/v2.0/.well-known/openid-configuration   discovery
  /{tenant}/oauth2/v2.0/authorize                    sign-in (approves at once)
  /{tenant}/oauth2/v2.0/token                        code redemption
  /{tenant}/discovery/v2.0/keys                      signing keys (JWKS)

The ID tokens are signed with ``cryptography`` directly, not with the JOSE code the
desk verifies them with, so a fault there cannot hide itself. Times in the tokens
are real time (the desk's own clock is a FixedClock; Authlib checks exp and iat
against the real one).

Knobs for the refusal tests: ``deny`` (an error at /authorize), ``claims`` (changes
to the ID token's claims, None removes one), ``foreign_key`` (sign with a key the
JWKS does not hold, under the same key id) and ``tamper`` (rewrite the signed token).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

DOCS_OIDC = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc"
DOCS_CODE_FLOW = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow"
DOCS_ID_TOKEN = "https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference"
DOCS_KEYS = "https://learn.microsoft.com/en-us/entra/identity-platform/signing-key-rollover"
PKCE_RFC = "https://www.rfc-editor.org/rfc/rfc7636"

CODE_LIFETIME = 600  # "Authorization codes are short lived... expire after about 10 minutes" (DOCS_CODE_FLOW)
TOKEN_LIFETIME = 3600
# RFC 7636 section 4.1: code_verifier = 43*128unreserved
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass
class Person:
    """Who the provider signs in. ``sub`` is per application in Entra ID (pairwise);
    ``oid`` is the same in every application of the tenant (DOCS_ID_TOKEN)."""

    sub: str = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    oid: str = "00000000-0000-0000-66f3-3332eca7ea81"
    name: str = "Morgan Manager"
    preferred_username: str = "morgan.manager@landlord.example"
    email: str | None = "morgan.manager@landlord.example"
    groups: list[str] = field(default_factory=list)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str
    person: Person
    expires: float


class OidcProvider:
    """Start with ``with OidcProvider(...) as provider:``; ``provider.issuer`` is what
    ``[web.oidc] issuer`` is set to."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        tenant: str = "aaaabbbb-0000-cccc-1111-dddd2222eeee",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.tenant = tenant
        self.person = Person()
        self.deny: str | None = None
        self.claims: dict[str, Any] = {}
        self.foreign_key = False
        self.tamper: Callable[[str], str] | None = None
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_refusals: list[dict[str, str]] = []
        self.issued: list[dict[str, Any]] = []  # the claims of every ID token issued
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)
        self._other_key: rsa.RSAPrivateKey | None = None
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------

    def __enter__(self) -> OidcProvider:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def base(self) -> str:
        assert self._server is not None, "the provider is not running"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def issuer(self) -> str:
        # The tenant-specific issuer, "https://login.microsoftonline.com/{tenant}/v2.0" (DOCS_OIDC).
        return f"{self.base}/{self.tenant}/v2.0"

    @property
    def authorize_endpoint(self) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.base}/{self.tenant}/discovery/v2.0/keys"

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        prefix = f"/{self.tenant}"
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", f"{prefix}/v2.0/.well-known/openid-configuration"): self._discovery,
            ("GET", f"{prefix}/oauth2/v2.0/authorize"): self._authorize,
            ("POST", f"{prefix}/oauth2/v2.0/token"): self._token,
            ("GET", f"{prefix}/discovery/v2.0/keys"): self._keys,
        }
        handler = routes.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    # --- the endpoints ---------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        # The OpenID configuration document at {authority}/.well-known/openid-configuration,
        # with the endpoints and keys the client needs (DOCS_OIDC, "Fetch the OpenID
        # configuration document"; its fields: OpenID Connect Discovery 1.0 section 3).
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.authorize_endpoint,
                "token_endpoint": self.token_endpoint,
                "jwks_uri": self.jwks_uri,
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "preferred_username",
                    "email",
                    "oid",
                    "tid",
                    "ver",
                ],
                "tenant_region_scope": "EU",
            }
        )

    def _authorize(self, request: Request) -> Response:
        # The sign-in request (DOCS_CODE_FLOW, "Request an authorization code").
        query = request.args.to_dict(flat=True)
        self.authorize_requests.append(query)
        # An unknown client or a redirect_uri that is not registered exactly is shown
        # as an error page and never redirected to (RFC 6749 section 4.1.2.1;
        # DOCS_CODE_FLOW: "It must exactly match one of the redirect URIs you registered").
        if query.get("client_id") != self.client_id:
            return Response("AADSTS700016: application not found in the directory", status=400)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return Response("AADSTS50011: the redirect URI does not match", status=400)
        state = query.get("state")

        def back(**params: str) -> Response:
            # response_mode=query, the default for a code: the answer is in the query
            # string of the redirect URI, with the state as it was sent (DOCS_CODE_FLOW).
            if state is not None:
                params["state"] = state
            return _redirect(f"{redirect_uri}?{urlencode(params)}")

        response_mode = query.get("response_mode", "query")
        if query.get("response_type") != "code" or response_mode != "query":
            return back(error="unsupported_response_type", error_description="only code, query")
        scope = query.get("scope", "")
        if "openid" not in scope.split():
            return back(error="invalid_request", error_description="AADSTS900144: scope openid needed")
        # code_challenge_method: S256 or plain, plain if left out (DOCS_CODE_FLOW).
        challenge = query.get("code_challenge") or None
        method = query.get("code_challenge_method", "plain" if challenge else "")
        if method and method not in ("S256", "plain"):
            return back(error="invalid_request", error_description="unknown code_challenge_method")
        if method and not challenge:
            return back(error="invalid_request", error_description="code_challenge is required")
        if self.deny:
            # Error response to the redirect URI (DOCS_CODE_FLOW, "Error response").
            return back(error=self.deny, error_description="AADSTS65004: User declined to consent")
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=query.get("nonce"),
                code_challenge=challenge,
                code_challenge_method=method,
                person=Person(**vars(self.person)),
                expires=time.time() + CODE_LIFETIME,
            )
        return back(code=code)

    def _token(self, request: Request) -> Response:
        # Redeem a code (DOCS_CODE_FLOW, "Request an access token with a client_secret").
        form = request.form.to_dict(flat=True)
        self.token_requests.append({**form, "_basic": "yes" if request.authorization else ""})
        # The secret in the form body, or as HTTP Basic per RFC 6749 section 2.3.1:
        # both are documented (DOCS_CODE_FLOW, the client_secret parameter).
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username or ""
            secret = request.authorization.password or ""
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return self._refuse("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type", "AADSTS70003: only authorization_code here")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code is redeemed once
        if grant is None or grant.expires < time.time():
            return self._refuse("invalid_grant", "AADSTS70008: the code is unknown, used or expired")
        if grant.client_id != client_id:
            return self._refuse("invalid_grant", "AADSTS70000: the code was issued to another client")
        # "The same redirect_uri value that was used to acquire the authorization_code."
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("invalid_grant", "AADSTS50011: redirect_uri differs from the sign-in")
        if grant.code_challenge is not None:
            # code_verifier: "Required if PKCE was used" (DOCS_CODE_FLOW); checked as
            # RFC 7636 section 4.6 says, by the method of the challenge.
            verifier = form.get("code_verifier", "")
            if not _VERIFIER.match(verifier):
                return self._refuse("invalid_grant", "AADSTS501481: The Code_Verifier is missing or invalid.")
            derived = s256(verifier) if grant.code_challenge_method == "S256" else verifier
            if not secrets.compare_digest(derived, grant.code_challenge):
                return self._refuse(
                    "invalid_grant",
                    "AADSTS50148: The code_verifier does not match the code_challenge supplied in the "
                    "authorization request for PKCE.",
                )
        access_token = secrets.token_urlsafe(32)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": grant.scope,
            "expires_in": TOKEN_LIFETIME - 1,
            "access_token": access_token,
        }
        if "openid" in grant.scope.split():  # "Only provided if openid scope was requested."
            body["id_token"] = self._id_token(grant)
        return _json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _keys(self, request: Request) -> Response:
        # The public keys that sign the tokens, as a JWK set, found through jwks_uri
        # (DOCS_OIDC; DOCS_KEYS: a token names its key by "kid").
        numbers = self._key.public_key().public_numbers()
        return _json(
            {
                "keys": [
                    {
                        "kty": "RSA",
                        "use": "sig",
                        "kid": self._kid,
                        "n": _b64url_int(numbers.n),
                        "e": _b64url_int(numbers.e),
                        "issuer": self.issuer,
                    }
                ]
            }
        )

    # --- tokens ----------------------------------------------------------------

    def _id_token(self, grant: _Grant) -> str:
        # The claims of a v2.0 ID token (DOCS_ID_TOKEN): aud is the application's
        # client id, iss the tenant's issuer, nonce the one from the sign-in request;
        # groups when the app registration's groups claim is configured.
        now = int(time.time())
        person = grant.person
        claims: dict[str, Any] = {
            "aud": grant.client_id,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "name": person.name,
            "oid": person.oid,
            "preferred_username": person.preferred_username,
            "sub": person.sub,
            "tid": self.tenant,
            "ver": "2.0",
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if person.email is not None:
            claims["email"] = person.email
        if person.groups:
            claims["groups"] = list(person.groups)
        for name, value in self.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        self.issued.append(claims)
        key = self._key
        if self.foreign_key:
            if self._other_key is None:
                self._other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key = self._other_key
        token = sign_rs256(claims, key, self._kid)
        return self.tamper(token) if self.tamper else token

    def _refuse(self, error: str, description: str, status: int = 400) -> Response:
        # Token endpoint errors (DOCS_CODE_FLOW, "Error response" and "Error codes for
        # token endpoint errors").
        self.token_refusals.append({"error": error, "error_description": description})
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return _json(
            {
                "error": error,
                "error_description": description,
                "error_codes": [int(found) for found in re.findall(r"AADSTS(\d+)", description)],
                "timestamp": stamp,
                "trace_id": secrets.token_hex(16),
                "correlation_id": secrets.token_hex(16),
            },
            status=status,
        )


def sign_rs256(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """A JWS compact serialization, RS256 (RFC 7515 section 7.1, RFC 7518 section 3.3)."""
    header = {"typ": "JWT", "alg": "RS256", "kid": kid}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def replace_claims(token: str, **changes: Any) -> str:
    """The same token with its payload changed and its signature kept: a forgery."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{header}.{forged}.{signature}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=Headers(headers or {}), content_type="application/json"
    )


def _redirect(location: str) -> Response:
    assert urlsplit(location).scheme in ("http", "https")
    return Response("", status=302, headers={"Location": location})
