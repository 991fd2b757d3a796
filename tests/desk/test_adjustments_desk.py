"""The desk's case page shows a case's reasonable adjustments (3.1, 5.10), escaped."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailroom.adjustments import Adjustment, record_adjustment
from mailroom.services import Services
from tests.integration.test_adjustments import log_case

XSS = '<script>alert("x")</script>'


def test_the_desk_case_page_shows_the_adjustment_escaped(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    complaint_id = log_case(desk_services)
    page = signed_in("inbox").get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert "Standard print" in page and "Interpreting or translation" not in page
    record_adjustment(desk_services, complaint_id, Adjustment("large-print", f"Somali {XSS}"), by="jo")
    response = signed_in("inbox").get(f"/cases/{complaint_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Large print" in html and "Interpreting or translation" in html
    assert "<script>alert" not in html and "Somali &lt;script&gt;alert(" in html
    assert "Adjustment recorded" in html  # on the timeline


def test_the_desk_case_page_shows_the_category_or_its_suggestion(
    desk_services: Services, signed_in: Callable[[str], FlaskClient]
) -> None:
    from mailroom.accounts.audit import Actor
    from mailroom.reports.categories import case_category, set_category

    complaint_id = log_case(desk_services)
    suggested = case_category(desk_services, complaint_id).suggested
    page = signed_in("inbox").get(f"/cases/{complaint_id}").get_data(as_text=True)
    category = page[page.index('id="category"') :].split("</dd>")[0]
    assert (f"(suggested: {suggested})" in category) if suggested else ("None" in category)
    set_category(desk_services, complaint_id, "Repairs", Actor("jo@landlord.example", "command line"))
    page = signed_in("inbox").get(f"/cases/{complaint_id}").get_data(as_text=True)
    assert page[page.index('id="category"') :].split("</dd>")[0] == 'id="category">Repairs'
