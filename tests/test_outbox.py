"""The demo's local outbox (EMAIL_URL unset): staff see each email as its customer would,
its HTML isolated in a sandboxed frame, with its headers and a readable date."""

import html as html_lib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from feedback import emails, tokens
from feedback.mail import outbox_messages
from feedback.models import Invitation
from tests.conftest import screenshot
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.staff import member

IFRAME = re.compile(r'<iframe class="email-preview" sandbox srcdoc="([^"]*)" title="([^"]*)">')


@pytest.fixture
def outbox(settings: object, tmp_path: Path) -> Path:
    settings.EMAIL_BACKEND = "feedback.mail.OutboxEmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def send(locale: str = "en", name: str = "Ana") -> Invitation:
    customer = CustomerFactory(locale=locale, name=name, email=f"{locale}@example.com")
    invitation = InvitationFactory(order=OrderFactory(customer=customer))
    message = emails.invitation_message(invitation, kind="invitation", message_id="<m1@t>")
    mail.get_connection().send_messages([message])
    return invitation


@pytest.mark.django_db
def test_it_keeps_each_message_with_its_headers_and_both_parts(outbox: Path) -> None:
    invitation = send()
    [kept] = outbox_messages()
    headers = dict(kept.headers)
    assert list(headers) == ["From", "To", "Subject", "Date", "List-Unsubscribe", "Message-ID"]
    assert headers["From"] == "Tostadero Lumen <feedback@tostadero-lumen.example>"
    assert headers["To"] == "en@example.com"
    token = tokens.token_for(invitation.token_nonce)
    assert headers["List-Unsubscribe"] == f"<http://testserver/f/{token}/stop/>"
    assert kept.date is not None and abs((datetime.now(UTC) - kept.date).total_seconds()) < 60
    assert "Share your feedback:" in kept.text
    assert "<!doctype html>" in kept.html


@pytest.mark.django_db
def test_it_shows_the_html_in_a_sandboxed_frame_with_the_headers(
    client: Client, outbox: Path
) -> None:
    send(name="Ana <b>Bold</b>")
    client.force_login(member("bob", "Staff"))
    response = client.get("/staff/outbox/")
    page = response.content.decode()
    [(srcdoc, title)] = IFRAME.findall(page)
    # The email's markup is only in the attribute, escaped; unescaped, it is the email.
    assert "Hello Ana &lt;b&gt;Bold&lt;/b&gt;," in html_lib.unescape(srcdoc)
    assert "<b>Bold</b>" not in page
    assert 'src="http://testserver/shop/logo"' in html_lib.unescape(srcdoc)
    assert title.startswith("HTML version: How was your order ORD-")
    for header in ("From", "To", "Subject", "Date", "List-Unsubscribe", "Message-ID"):
        assert f"<dt>{header}</dt>" in page
    assert "Tostadero Lumen &lt;feedback@tostadero-lumen.example&gt;" in page
    assert re.search(
        r'<time datetime="[^"]+">\w+day \d{1,2} \w+ 20\d\d, \d\d:\d\d UTC</time>', page
    )
    assert "Hello Ana &lt;b&gt;Bold&lt;/b&gt;," in page  # the text version
    # Emails style their markup inline; the frame takes this page's policy.
    assert "style-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_it_says_when_the_outbox_is_empty(client: Client, outbox: Path) -> None:
    client.force_login(member("bob", "Staff"))
    assert "The outbox is empty." in client.get("/staff/outbox/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_shows_the_email_as_the_customer_sees_it_in_a_browser(
    live_server: object, page: object, outbox: Path, settings: object
) -> None:
    """Chromium renders the email inside the frame (its inline styles and the logo from
    the portal itself, no CSP violation: the `page` fixture fails on one), and nothing in
    it can run or reach the staff page."""
    settings.PORTAL_BASE_URL = live_server.url
    send(locale="es", name="José")
    send(locale="en", name="Ana")
    client = Client()
    client.force_login(member("bob", "Staff"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/staff/outbox/")
    assert page.locator("iframe.email-preview").count() == 2
    frame = page.frame_locator("iframe.email-preview").first
    button = frame.get_by_role("link", name="Share your feedback")
    assert button.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(13, 110, 253)"
    logo = frame.locator("img").first
    assert logo.evaluate("img => img.complete && img.naturalWidth") > 0
    sandbox = page.locator("iframe.email-preview").first.get_attribute("sandbox")
    assert sandbox == ""
    assert (
        "Tostadero Lumen <feedback@tostadero-lumen.example>"
        in page.locator("dl").first.inner_text()
    )
    screenshot(page, "staff-outbox")
    # The email by itself, as a mail client would show it.
    page.set_content(outbox_messages()[0].html)
    screenshot(page, "email-html")
