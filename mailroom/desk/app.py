"""The desk's Flask application, built once per process from the settings."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from mailroom.accounts.roles import Permission
from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.desk import auth, formatting, security
from mailroom.desk.session_store import DbSessionInterface
from mailroom.services import Services, build_services

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#1d4f76"


def _brand(settings: Settings) -> tuple[str, str]:
    """The landlord's name and colour from the policy file, else neutral ones."""
    from mailroom.letters.pack import landlord_policy

    policy = landlord_policy(settings)
    if policy is None:
        return "Complaints desk", DEFAULT_COLOUR
    colour = getattr(policy.landlord, "colour", "") or ""
    return policy.landlord.name, colour if _COLOUR.match(colour) else DEFAULT_COLOUR


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, services: Services | None = None
) -> Flask:
    if services is None:
        if settings is None:
            from mailroom.config import load_settings

            settings = load_settings(None)
        services = build_services(settings, clock)
    settings = services.settings
    app = Flask("mailroom.desk")
    app.config.update(
        SECRET_KEY=security.secret_key(settings),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which times out itself
        WTF_CSRF_SSL_STRICT=True,
        # The largest body a form may send: 50 MB of documents filed on a case
        # (records/case_files), and the form around them; a replacement DOCX is capped
        # at 20 MB (letters/zip_limits), the other forms' fields at Flask's 500 kB.
        MAX_CONTENT_LENGTH=51 * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.jinja_env.autoescape = True  # every template, whatever its name
    app.jinja_env.filters.update(formatting.FILTERS)
    app.extensions["mailroom.services"] = services
    app.session_interface = DbSessionInterface(services)
    if settings.web.trusted_proxies:
        n = settings.web.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    CSRFProtect(app)
    name, colour = _brand(settings)
    app.config["DESK_BRAND"] = {"name": name, "colour": colour}

    from mailroom.desk import home

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(home.blueprint)
    for module in _page_modules():
        app.register_blueprint(module.blueprint)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "brand": app.config["DESK_BRAND"],
            "me": auth.current_user(),
            "can": auth.can,
            "P": Permission,
            "endpoints": app.view_functions,
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        return security.add_headers(response, request, settings.web.https)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        return render_template(
            "error.html",
            code=403,
            title="Form expired",
            message=(
                "The form was missing its security token or it did not match. "
                "Go back, reload the page and try again."
            ),
        ), 403

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        titles = {
            401: "Sign in",
            403: "Not allowed",
            404: "Page not found",
            405: "Not allowed",
            413: "Too large",
        }
        return render_template(
            "error.html",
            code=code,
            title=titles.get(code, "Something went wrong"),
            message=error.description or "",
        ), code

    return app


def _page_modules() -> list[Any]:
    """The page blueprints; each module is one area of the desk."""
    import importlib

    found = []
    for name in ("cases", "letters", "queues", "search", "admin", "oidc", "team", "records", "health"):
        try:
            found.append(importlib.import_module(f"mailroom.desk.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"mailroom.desk.{name}":
                raise
    return found
