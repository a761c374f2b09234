"""Replying and the thread in a real browser: staff search the queue, start from a saved
reply, send it, and read the customer's answer in the thread. No CSP violation (the `page`
fixture fails on one), no serious or critical axe finding, screenshots in test-artifacts/."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback import tokens
from feedback.models import ContactMessage, FollowUp, ReplyTemplate
from feedback.services.contacts import contact_reply_deliver
from feedback.services.inbound import inbound_receive
from tests.conftest import screenshot
from tests.smtp import SmtpSink
from tests.staff import answered, member
from tests.test_customer_browser import assert_accessible

# The reply is delivered by this test itself: no shared worker may take its task first.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_shared_worker")]


def answer_from_customer(to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "ana@example.com"
    message["To"] = to
    message["Subject"] = "Re: Your order"
    message.set_content(
        "Thank you, Tuesday morning suits me.\n\nOn Mon, Tostadero Lumen wrote:\n> We can call\n"
    )
    message.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    return message.as_bytes()


def test_staff_reply_from_the_page_and_read_the_thread(
    live_server: object, page: object, settings: object, smtp_settings: SmtpSink
) -> None:
    settings.REPLY_ADDRESS = "reply@tostadero-lumen.example"
    member("bob", "Staff")
    late = answered(name="Ana Asked", email="ana@example.com", comment="The lid cracked.")
    answered(name="Bo Berg", email="bo@example.com", comment="Fine")
    follow_up = late.follow_up
    FollowUp.objects.filter(pk=follow_up.pk).update(
        response_due_at=timezone.now() - timedelta(hours=1)
    )
    ReplyTemplate.objects.create(
        name="Replacement", language="en", text="Sorry about that: a replacement is on its way."
    )

    page.goto(f"{live_server.url}/staff/contacts/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/contacts/")
    page.get_by_label("Search by customer, order or text").fill("cracked")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("tbody")).to_contain_text("Ana Asked")
    expect(page.locator("tbody")).not_to_contain_text("Bo Berg")
    expect(page.locator("tbody .overdue")).to_have_count(1)
    assert_accessible(page, "contact queue, searched")
    screenshot(page, "contact-queue-search")

    page.get_by_role("link", name="Ana Asked").click()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned to you.")
    page.get_by_label("Start from a saved reply").select_option(label="Replacement (English)")
    page.get_by_role("button", name="Use", exact=True).click()
    reply = page.get_by_label("Your reply")
    expect(reply).to_have_value("Sorry about that: a replacement is on its way.")
    reply.fill("Sorry about that: a replacement lid is on its way.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply queued for sending")
    expect(page.locator("#log")).to_contain_text("a replacement lid is on its way")

    # The worker's part, run here: the mail server takes it; the customer answers.
    message = ContactMessage.objects.get()
    assert contact_reply_deliver(message_id=message.pk) == "sent"
    [sent] = smtp_settings.to("ana@example.com")
    assert sent["Reply-To"] == tokens.reply_address(follow_up.pk)
    inbound_receive(answer_from_customer(sent["Reply-To"]))

    page.reload()
    thread = page.locator("#log")
    expect(thread.locator("[data-status=sent]")).to_have_count(1)
    expect(thread).to_contain_text("Thank you, Tuesday morning suits me.")
    expect(thread).not_to_contain_text("We can call")
    expect(thread).to_contain_text("receipt.pdf")
    text = thread.inner_text()
    assert text.index("Assigned to bob.") < text.index("replacement lid") < text.index("Tuesday")
    assert thread.locator("a[href], img, iframe, object").count() == 0  # nothing served inline
    assert_accessible(page, "contact thread")
    screenshot(page, "contact-thread")

    page.get_by_label("Closing note (optional)").fill("Lid posted on Tuesday.")
    page.get_by_role("button", name="Mark resolved").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.locator("#log")).to_contain_text("Lid posted on Tuesday.")

    page.get_by_role("link", name="Saved replies").click()
    expect(page.locator("#templates")).to_contain_text("Replacement")
    assert_accessible(page, "saved replies")
