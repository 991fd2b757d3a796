"""/readyz for load balancers and monitoring: the database answers and no mail
source or transport needs a person (mailroom/health/status.py). 200 or 503, JSON
with states and counts only: it is served to anyone, signed in or not, so it names
no mailbox, address or error. Liveness (/healthz, no database) is in home.py."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from mailroom.services import Services

blueprint = Blueprint("health", __name__)

_SOURCES = "mailroom.health_sources"  # the configured source names, worked out once


@blueprint.route("/readyz")
def ready() -> ResponseReturnValue:
    from mailroom.health.status import configured_sources, readiness

    services: Services = current_app.extensions["mailroom.services"]
    names = current_app.extensions.get(_SOURCES)
    if names is None:
        names = current_app.extensions[_SOURCES] = configured_sources(services)
    ok, body = readiness(services, names)
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
