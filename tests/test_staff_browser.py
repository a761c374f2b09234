"""The staff pages in a real browser: sign in, work a contact request, read and edit the
policy, run the simulator. No CSP violation (the `page` fixture fails on one), no serious
axe finding, screenshots in test-artifacts/."""

import pytest
from playwright.sync_api import expect

from feedback.models import FollowUp, FollowUpNote, InvitationPolicy, PolicyVersion
from tests.conftest import screenshot
from tests.staff import answered, member
from tests.test_customer_browser import assert_accessible
from tests.test_simulator import history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("history")
def test_ops_work_the_queue_and_tune_the_policy(live_server: object, page: object) -> None:
    member("alice", "Ops")
    answered(name="Ana Asked", email="ana@example.com", comment="The lid <b>cracked</b>.")
    page.goto(f"{live_server.url}/staff/contacts/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/contacts/")
    assert page.locator("#open-count").inner_text() == "1"
    assert_accessible(page, "contact queue")
    screenshot(page, "staff-contacts")

    page.get_by_role("link", name="Ana Asked").click()
    assert "The lid <b>cracked</b>." in page.locator("#comment").inner_text()
    page.get_by_label("Assignee").select_option(label="alice")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert "Assigned to alice." in page.get_by_role("status").inner_text()
    page.get_by_label("Add a note").fill("Replacement lid posted.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_contain_text("Note added.")
    page.get_by_role("button", name="Mark resolved").click()
    assert page.get_by_role("button", name="Reopen").is_visible()
    assert_accessible(page, "contact request")
    screenshot(page, "staff-contact")
    assert FollowUp.objects.get().status == "resolved"
    assert FollowUpNote.objects.count() == 3

    page.get_by_role("link", name="Invitation policy").click()
    assert "Invitations go out 7 days after delivery" in page.locator("#policy-words").inner_text()
    assert_accessible(page, "policy")
    page.get_by_role("link", name="Edit the policy").click()
    page.get_by_label("Customer cooldown days").fill("60")
    page.get_by_role("button", name="Save the policy").click()
    page.wait_for_url("**/staff/policy/")
    assert "Customer cooldown (days): 90 → 60" in page.locator("#history").inner_text()
    assert PolicyVersion.objects.get().changed_by.username == "alice"
    screenshot(page, "staff-policy")

    page.get_by_role("link", name="Simulator", exact=True).click()
    assert page.get_by_label("Customer cooldown days").input_value() == "60"
    page.get_by_label("Delivered from").fill("2026-03-02")
    page.get_by_label("Delivered until").fill("2026-03-08")
    page.get_by_label("Customer cooldown days").fill("0")
    page.get_by_role("button", name="Simulate").click()
    table = page.locator("#comparison").inner_text()
    assert "orders delivered in the period\t7\t7\t0" in table
    assert page.locator("svg rect").count() > 0
    assert_accessible(page, "simulator")
    screenshot(page, "staff-simulator")
    assert InvitationPolicy.live().customer_cooldown_days == 60  # simulating saved nothing
