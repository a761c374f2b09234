"""Issue 15 item 6, the staff pages on a phone: at 375 px no page scrolls sideways (wide
tables scroll inside their card), chart axis labels stay legible, and axe finds no serious
violation; screenshots at 375 and 1280 px in test-artifacts/."""

from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import screenshot
from tests.dashboard_data import known_data
from tests.staff import answered, member
from tests.test_customer_browser import assert_accessible
from tests.test_outbox import outbox, send  # noqa: F401 (a fixture)
from tests.test_simulator import history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 800}


def sign_in(tab: object, live_server: object, settings: object, name: str) -> None:
    client = Client()
    client.force_login(member(name, "Ops"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    tab.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def page_width_overflow(tab: object) -> int:
    """How many pixels the page is wider than the window: 0 when nothing scrolls sideways."""
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def smallest_chart_label(tab: object) -> float:
    """The smallest chart label's font size on the page, in CSS pixels (size times scale)."""
    return tab.evaluate(
        "Math.min(...[...document.querySelectorAll('svg.chart text')]"
        ".map(t => parseFloat(getComputedStyle(t).fontSize)"
        " * t.getScreenCTM().a))"
    )


def overlapping_date_labels(tab: object) -> list[str]:
    """Neighbouring date labels under a chart that overlap on the page."""
    return tab.evaluate(
        """[...document.querySelectorAll('svg.chart')].flatMap(svg => {
            const labels = [...svg.querySelectorAll('text[text-anchor="middle"]')];
            return labels.slice(1).filter((t, i) =>
                labels[i].getBoundingClientRect().right > t.getBoundingClientRect().left
            ).map(t => t.textContent);
        })"""
    )


@pytest.mark.usefixtures("history")
def test_it_fits_every_staff_page_on_a_phone(
    live_server: object,
    page: object,
    settings: object,
    outbox: Path,  # noqa: F811
) -> None:
    settings.PORTAL_BASE_URL = live_server.url
    known_data()
    send()
    contact = answered(name="Ana Asked", email="ana@example.com").follow_up
    sign_in(page, live_server, settings, "alice")
    page.set_viewport_size(PHONE)
    pages = {
        "dashboard": "/staff/?period=90",
        "contacts": "/staff/contacts/",
        "contact": f"/staff/contacts/{contact.pk}/",
        "policy": "/staff/policy/",
        "policy edit": "/staff/policy/edit/",
        "simulator": "/staff/simulate/",
        "outbox": "/staff/outbox/",
    }
    overflowing = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        if name == "simulator":
            page.get_by_label("Delivered from").fill("2026-03-02")
            page.get_by_label("Delivered until").fill("2026-03-08")
            page.get_by_role("button", name="Simulate").click()
            assert page.locator("#comparison").is_visible()
        assert page.locator("main").count() == 1, name
        if page_width_overflow(page) > 0:
            overflowing[name] = page_width_overflow(page)
        assert_accessible(page, name)
        if name == "dashboard":
            assert page.locator("svg.chart").count() == 4
            assert smallest_chart_label(page) >= 10
            assert overlapping_date_labels(page) == []
            screenshot(page, "staff-mobile-dashboard")
        if name in ("contacts", "policy"):
            screenshot(page, f"staff-mobile-{name}")
        page.set_viewport_size(PHONE)
    assert not overflowing, overflowing
