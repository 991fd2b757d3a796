"""The start page: what is waiting, by queue; and the landlord's colour as CSS."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from flask.typing import ResponseReturnValue

from mailroom.desk.auth import signed_in

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@signed_in
def index() -> ResponseReturnValue:
    return render_template("home.html")


@blueprint.route("/theme.css")
def theme() -> ResponseReturnValue:
    colour = current_app.config["DESK_BRAND"]["colour"]
    response = Response(f":root {{ --brand: {colour}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/healthz")
def health() -> ResponseReturnValue:
    return {"status": "ok"}
