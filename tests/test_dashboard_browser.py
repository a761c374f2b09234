"""The dashboard in a real browser: sign in, read the figures, change the period, open a
chart's table and download the CSV. No JavaScript needed, no CSP violation (the `page`
fixture fails on one), no serious axe finding; screenshots in test-artifacts/."""

import csv
import io
from pathlib import Path

import pytest

from feedback.models import StaffPreference
from tests.conftest import screenshot
from tests.dashboard_data import known_data, staff_member
from tests.test_customer_browser import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_read_the_dashboard_and_export_it(live_server: object, page: object) -> None:
    known_data()
    staff_member()
    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/staff/")
    assert page.locator('[data-figure="sent"]').inner_text() == "9"
    assert page.locator('[data-figure="csat"]').inner_text() == "50%"
    assert page.locator('svg[role="img"]').count() == 4
    assert page.get_by_text("<script>alert('x')</script> Lovely").is_visible()
    assert_accessible(page, "dashboard")
    screenshot(page, "staff-dashboard")

    page.get_by_label("Period", exact=True).select_option(label="Last 90 days")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{live_server.url}/staff/?period=90**")
    assert page.locator('[data-figure="sent"]').inner_text() == "11"
    weeks = page.locator('[data-table="weeks"]')
    assert not weeks.is_visible()
    page.locator("summary", has_text="Table").last.click()
    assert weeks.is_visible()
    assert sum(int(n) for n in weeks.locator("tbody td:nth-child(2)").all_inner_texts()) == 11

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfresponse_id,")  # for Excel: UTF-8 with its mark
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["rating"] for row in rows) == ["1", "2", "3", "4", "5"]


def test_a_spanish_speaking_member_reads_the_dashboard_in_spanish(
    live_server: object, page: object
) -> None:
    known_data()
    StaffPreference.objects.create(user=staff_member(), language="es")
    page.goto(f"{live_server.url}/staff/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/staff/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Satisfacción de los clientes").is_visible()
    assert page.get_by_text("Tasa de respuesta").first.is_visible()
    # The charts describe themselves in Spanish too: screen readers read the <desc>.
    descriptions = " ".join(page.locator("svg[role=img] desc").all_text_contents())
    assert "semanas del" in descriptions and "estrellas:" in descriptions
    assert "weeks" not in descriptions and "stars:" not in descriptions
    assert_accessible(page, "dashboard in Spanish")
    screenshot(page, "staff-dashboard-es")

    # Signed out, the sign-in page stays in Spanish in this browser.
    page.get_by_role("button", name="Cerrar sesión").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Ha cerrado la sesión").is_visible()
