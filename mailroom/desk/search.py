"""Search by complaint ID (with or without its check character), name, email,
address, subject and mail text: `mailroom.search`, within the cases this person may see."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from mailroom.desk.auth import officer_scope, services, signed_in

blueprint = Blueprint("search", __name__)


@blueprint.route("/search")
@signed_in
def index() -> ResponseReturnValue:
    from mailroom.search.service import search_cases

    query = request.args.get("q", "")[:500]
    try:
        number = max(1, min(int(request.args.get("page", "1")), 1000))
    except ValueError:
        number = 1
    size = services().settings.web.page_size
    found = None
    if query.strip():
        found = search_cases(
            services(), query, officer=officer_scope(), limit=size, offset=(number - 1) * size
        )
    return render_template("search.html", query=query, found=found, number=number)
