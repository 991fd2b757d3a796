"""Single sign-on through OpenID Connect (Microsoft Entra ID), when ``[web.oidc]``
sets an issuer (docs/desk-sso.md).

The authorization code flow with PKCE (S256), ``state`` and ``nonce``, through
Authlib's Flask client: the provider's discovery document names its endpoints and
keys; the ID token's signature (the provider's JWKS), issuer, audience, expiry and
nonce are checked before anyone is signed in. The account is found or made by
``mailroom.accounts.users.sign_in_oidc``; the person's groups give the role.

Without an issuer the routes answer 404 and nothing talks to any provider."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from sqlalchemy import select

from mailroom.accounts import audit
from mailroom.accounts.roles import Role, parse_role
from mailroom.accounts.users import FAILED, by_email, sign_in_oidc
from mailroom.config import ConfigError, OidcSettings
from mailroom.desk import auth
from mailroom.errors import UserError
from mailroom.services import Services
from mailroom.store.schema import DeskUser

blueprint = Blueprint("oidc", __name__)

# When a person's groups map to more than one role, the first of these wins: the
# roles from the widest to the narrowest.
ROLE_PRECEDENCE: tuple[Role, ...] = (Role.ADMIN, Role.MANAGER, Role.INBOX, Role.OFFICER, Role.RECORDS)

SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 10  # each call to the provider: discovery, token, keys
LEEWAY_SECONDS = 120  # clock skew allowed on the ID token's exp and iat (real time)
# The claims that may hold the person's address, in order: Entra ID sends "email"
# only when the account has one; "preferred_username" is the sign-in name (UPN).
EMAIL_CLAIMS = ("email", "preferred_username", "upn")
_EXTENSION = "mailroom.desk.oidc"
_CLIENT_NAME = "entra"

# The one line a person sees when the provider's answer is not accepted; what went
# wrong goes to the audit trail (login.failed).
_FAILED = "Single sign-on did not work: {reason}. Try again, or sign in with your email and password."
UNREACHABLE = "the identity provider could not be reached"
REFUSED = "the identity provider did not sign you in"
EXPIRED = "the sign-in had expired or was not started in this browser"
UNVERIFIED = "the identity provider's answer could not be verified"


@dataclass(frozen=True)
class _Sso:
    """One desk app's single sign-on: its Authlib client and the role mapping."""

    client: Any  # authlib's FlaskOAuth2App (untyped)
    issuer: str
    client_id: str
    groups_claim: str
    group_roles: Mapping[str, Role]
    default_role: Role | None


# --- setup: once per app, so create_app may be called any number of times ---------


@blueprint.record_once
def _setup(state: BlueprintSetupState) -> None:
    services = cast(Services, state.app.extensions["mailroom.services"])
    settings = services.settings.web.oidc
    if settings.enabled:
        state.app.extensions[_EXTENSION] = _build(state.app, settings)


def _build(app: App, settings: OidcSettings) -> _Sso:
    """The Authlib client for these settings; a bad setting fails here, at start."""
    issuer = settings.issuer.rstrip("/")
    parts = urlsplit(issuer)
    host = parts.hostname or ""
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))):
        raise ConfigError(f"web.oidc.issuer: an https:// address is needed, not {settings.issuer!r}")
    if not settings.client_id:
        raise ConfigError("web.oidc.client_id: needed when web.oidc.issuer is set")
    secret = settings.secret()
    if not secret:
        raise ConfigError("web.oidc.client_secret: needed when web.oidc.issuer is set")
    try:
        mapping = {group: parse_role(role) for group, role in settings.group_roles.items()}
        default = parse_role(settings.default_role) if settings.default_role.strip() else None
    except UserError as exc:
        raise ConfigError(f"web.oidc: {exc}") from None
    # Imported here: Authlib's Flask client needs the requests package, which a desk
    # without single sign-on does not.
    try:
        from authlib.integrations.flask_client import OAuth
    except ModuleNotFoundError as exc:
        raise ConfigError(f"web.oidc: single sign-on needs the Python package {exc.name!r}") from None

    oauth = OAuth(app)  # its own registry per app: the metadata and keys are cached per app
    client = oauth.register(
        _CLIENT_NAME,
        client_id=settings.client_id,
        client_secret=secret,
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            # The secret in the form body, as Entra ID's token endpoint documents it.
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )
    return _Sso(client, issuer, settings.client_id, settings.groups_claim, mapping, default)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sso() -> _Sso:
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        abort(404)  # single sign-on is not configured: these pages do not exist
    return cast(_Sso, found)


@blueprint.before_request
def _only_when_configured() -> None:
    _sso()


# --- what the ID token says ------------------------------------------------------


def role_for_groups(groups: object, group_roles: Mapping[str, Role]) -> Role | None:
    """The widest role (``ROLE_PRECEDENCE``) that any of these groups maps to."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return None
    given = {group_roles[group] for group in groups if isinstance(group, str) and group in group_roles}
    return next((role for role in ROLE_PRECEDENCE if role in given), None)


def email_of(claims: Mapping[str, Any]) -> str:
    for name in EMAIL_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and "@" in value:
            return value.strip()
    return ""


def safe_next(target: str | None) -> str:
    """Only a path on this desk: never an absolute URL, a scheme-relative one
    (``//host``), nor one a browser reads as such (``/\\host``)."""
    home = url_for("home.index")
    if not target or len(target) > 2000:
        return home
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return home
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/login"):
        return home
    return target


def _has_account(subject: str, email: str) -> bool:
    """Whether ``sign_in_oidc`` will find an account for this person (the same rule)."""
    with auth.services().store.transaction() as repo:
        linked = repo.session.scalar(select(DeskUser.id).where(DeskUser.oidc_subject == subject))
        if linked is not None:
            return True
        found = by_email(repo.session, email) if email else None
        return found is not None and found.oidc_subject in ("", subject)


# --- the two pages ---------------------------------------------------------------


@blueprint.route("/login/sso")
def start() -> ResponseReturnValue:
    """Send the browser to the identity provider, with a fresh state, nonce and
    PKCE verifier kept in this browser's session."""
    sso = _sso()
    target = safe_next(request.args.get("next"))
    callback_url = url_for("oidc.callback", _external=True)
    try:
        found = sso.client.create_authorization_url(callback_url)
    except (OSError, ValueError, RuntimeError) as exc:  # requests' errors are OSErrors
        return _failed(UNREACHABLE, f"discovery: {type(exc).__name__}: {exc}", target)
    kept = {key: value for key, value in found.items() if key != "url"}
    if not kept.get("nonce") or not kept.get("code_verifier"):
        return _failed(UNVERIFIED, "no nonce or PKCE verifier was made", target)
    sso.client.save_authorize_data(redirect_uri=callback_url, next=target, **kept)
    return redirect(found["url"])


@blueprint.route("/login/sso/callback")
def callback() -> ResponseReturnValue:
    """The provider's answer: redeem the code, check the ID token, sign in."""
    sso = _sso()
    kept = sso.client.framework.get_state_data(session, request.args.get("state")) or {}
    target = safe_next(kept.get("next"))
    if request.args.get("error"):
        sso.client.framework.clear_state_data(session, request.args.get("state"))
        error = request.args.get("error", "")[:100]
        description = request.args.get("error_description", "")[:300]
        return _failed(REFUSED, f"provider said {error}: {description}", target)
    if not kept:
        return _failed(EXPIRED, "state unknown to this session", target)
    try:
        token = sso.client.authorize_access_token(claims_options=_claims_options(sso), leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        return _failed(UNVERIFIED, f"ID token refused: {exc.error}: {exc.description or ''}", target)
    except OAuthError as exc:
        return _failed(REFUSED, f"token request refused: {exc.error}: {exc.description or ''}", target)
    except (OSError, ValueError, RuntimeError) as exc:
        return _failed(UNREACHABLE, f"token request: {type(exc).__name__}: {exc}", target)
    claims = token.get("userinfo")
    if not claims:
        return _failed(UNVERIFIED, "the token response had no ID token", target)
    return _sign_in(sso, claims, target)


def _claims_options(sso: _Sso) -> dict[str, dict[str, Any]]:
    """Beyond the signature, nonce and expiry that Authlib checks itself: the ID
    token is from the configured issuer, for this desk, about someone."""
    return {
        "iss": {"essential": True, "value": sso.issuer},
        "aud": {"essential": True, "value": sso.client_id},
        "sub": {"essential": True},
    }


def _sign_in(sso: _Sso, claims: Mapping[str, Any], target: str) -> ResponseReturnValue:
    subject = f"{claims['iss']} {claims['sub']}"
    email = email_of(claims)
    name = claims.get("name")
    groups = claims.get(sso.groups_claim)
    sources = claims.get("_claim_names")  # where Entra ID points when the groups do not fit
    if groups is None and isinstance(sources, dict) and sso.groups_claim in sources:
        current_app.logger.warning(
            "single sign-on: %s is in too many groups for the ID token (groups overage); "
            "limit the groups claim to groups assigned to the application",
            email or subject,
        )
    role = role_for_groups(groups, sso.group_roles)
    if role is None and sso.default_role is not None and not _has_account(subject, email):
        role = sso.default_role  # only for a new account: a role an admin set is kept
    result = sign_in_oidc(
        auth.services(), subject, email, name if isinstance(name, str) else "", role, auth.client_address()
    )
    if result.user is None:
        page = render_template("login.html", next=target, error=result.refusal, oidc=True)
        return page, 403
    auth.start_session(result.user)
    return redirect(target)


def _failed(reason: str, detail: str, target: str = "") -> ResponseReturnValue:
    services = auth.services()
    with services.store.transaction() as repo:
        audit.record(
            repo.session,
            services.clock.now(),
            audit.Actor("single sign-on", auth.client_address()),
            FAILED,
            detail=f"single sign-on: {detail}"[:1000],
        )
    page = render_template("login.html", next=target, error=_FAILED.format(reason=reason), oidc=True)
    return page, 400
