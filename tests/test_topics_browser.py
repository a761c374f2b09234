"""The topics panel, the slip banner and the comment search in a real browser: from a
rising term on the dashboard to the highlighted comments that mention it. No JavaScript, no
CSP violation (the `page` fixture fails on one), no serious axe finding."""

import pytest

from feedback.services.alerts import product_alerts_evaluate
from tests.conftest import screenshot
from tests.dashboard_data import staff_member
from tests.test_customer_browser import assert_accessible
from tests.test_product_alerts import answers
from tests.test_topics import answer

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_follow_a_rising_term_to_its_comments(live_server: object, page: object) -> None:
    for n in range(6):
        answer("The kettle lid leaks when I pour", skus=("KTL-1",), days_ago=n + 1)
        answer("Fast delivery, thanks", skus=("MUG-2",), days_ago=n + 1)
        answer("Fast delivery, thanks", skus=("MUG-2",), days_ago=n + 9)
    answers("KTL-1", n=80, satisfied=64, days_ago=(30, 100))
    answers("KTL-1", n=15, satisfied=3, days_ago=(1, 20))
    product_alerts_evaluate()
    staff_member()
    page.goto(f"{live_server.url}/staff/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/staff/?period=7")

    banner = page.locator('[data-alert="KTL-1"]')
    assert "CSAT slipped" in banner.inner_text()
    panel = page.locator('[data-panel="topics"]')
    assert panel.get_by_role("link", name="lid leaks").first.is_visible()
    assert_accessible(page, "dashboard with topics")
    screenshot(page, "staff-topics")

    panel.locator('[data-table="topics"]').get_by_role("link", name="lid leaks").click()
    page.wait_for_url("**/staff/search/**")
    assert page.locator("[data-result]").count() == 6
    marked = page.locator("[data-result]").first.locator("mark").all_inner_texts()
    assert " ".join(marked).lower() in ("lid leaks", "lid leaks")
    assert_accessible(page, "comment search")

    page.get_by_label("Words").fill("leaking")
    page.get_by_role("button", name="Search").click()
    assert page.locator("[data-result]").count() == 6
    screenshot(page, "staff-search")
