"""The customer's side in a real browser: from the link in a real email to each choice.

Every page and state is checked with axe-core (no serious or critical violations), and
screenshots at 375 px and 1280 px go to test-artifacts/.
"""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from feedback import services
from feedback.models import Customer, Invitation, Response
from tests.conftest import screenshot
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]

AXE = Axe()
State = Invitation.State


def shows(tab: object, text: str) -> None:
    """The page the last click led to says `text` (waiting for it: a click returns as
    soon as the form is submitted, not when the next page has loaded)."""
    expect(tab.locator("body")).to_contain_text(text, timeout=15_000)


def assert_accessible(tab: object, state: str) -> None:
    results = AXE.run(tab)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{state}:\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in serious
    )


@pytest.fixture
def emailed(live_server: object, settings: object, smtp_settings: SmtpSink) -> object:
    """Deliver an order, run the sweep, and return a function giving the link in the email."""
    settings.PORTAL_BASE_URL = live_server.url

    def link_for(locale: str = "en") -> tuple[str, Invitation]:
        customer = CustomerFactory(locale=locale, name="Ana")
        order = OrderFactory(customer=customer)
        invitation = services.order_mark_delivered(
            order=order, delivered_at=timezone.now() - timedelta(days=10)
        )
        services.invitations_sweep(send=services.send_here)
        [message] = smtp_settings.to(customer.email)
        text = message.get_body(preferencelist=("plain",)).get_content()
        return re.search(r"http://\S+/f/[^/\s]+/", text).group(0), invitation

    return link_for


def test_a_customer_rates_and_comments(emailed: object, page: object) -> None:
    link, invitation = emailed()
    page.goto(link)
    assert page.locator("h1").inner_text() == "How was your order?"
    assert page.locator("input[name=rating]:checked").count() == 0
    assert_accessible(page, "the page")
    screenshot(page, "page-en")
    page.get_by_label("4 — good").check()
    page.get_by_label("Comment (optional)").fill("Arrived early, works well.")
    assert page.locator("#id_comment_helptext").inner_text() == "26 / 2000"
    page.get_by_role("button", name="Send feedback").click()
    page.wait_for_url("**/thanks/")
    shows(page, "Thank you for your feedback.")
    assert_accessible(page, "thanks")
    screenshot(page, "thanks-en")
    answer = Response.objects.get(invitation=invitation)
    assert (answer.rating, answer.comment) == (4, "Arrived early, works well.")

    page.goto(link)  # the answer is shown and can be changed
    assert "Arrived early, works well." in page.locator(".answer").inner_text()
    assert_accessible(page, "answered")
    screenshot(page, "answered-en")


def test_a_missing_rating_is_explained_next_to_the_field(emailed: object, page: object) -> None:
    link, _invitation = emailed()
    page.goto(link)
    page.get_by_label("Comment (optional)").fill("I forgot the stars")
    page.get_by_role("button", name="Send feedback").click()
    assert "Please choose a rating from 1 to 5." in page.locator("#div_id_rating").inner_text()
    assert page.get_by_label("Comment (optional)").input_value() == "I forgot the stars"
    assert_accessible(page, "rating missing")
    screenshot(page, "error-en")
    assert not Response.objects.exists()


def test_a_customer_asks_to_be_asked_later(emailed: object, page: object) -> None:
    link, invitation = emailed()
    page.goto(link)
    page.get_by_role("button", name="In 14 days").click()
    shows(page, "We'll ask once more on")
    assert_accessible(page, "asked later")
    screenshot(page, "later-en")
    invitation.refresh_from_db()
    assert invitation.state == State.SNOOZED
    page.goto(link)
    assert page.get_by_role("button", name="In 7 days").count() == 0  # once only


def test_a_customer_says_no_thanks(emailed: object, page: object) -> None:
    link, invitation = emailed()
    page.goto(link)
    page.get_by_role("button", name="No thanks").click()
    shows(page, "We won't ask about this order again.")
    assert_accessible(page, "declined")
    screenshot(page, "declined-en")
    invitation.refresh_from_db()
    assert invitation.state == State.DECLINED


def test_a_customer_stops_all_invitations_and_undoes_it(emailed: object, page: object) -> None:
    link, invitation = emailed()
    page.goto(link)
    page.get_by_role("link", name="Stop all invitations").click()
    assert_accessible(page, "stop confirmation")
    customer = Customer.objects.get(pk=invitation.customer_id)
    assert customer.invitations_stopped_at is None  # opening the page changes nothing
    page.get_by_role("button", name="Stop all invitations").click()
    shows(page, "You won't receive invitations any more.")
    assert_accessible(page, "stopped")
    screenshot(page, "stopped-en")
    customer.refresh_from_db()
    assert customer.invitations_stopped_at is not None
    page.get_by_role("button", name="Undo").click()
    shows(page, "Invitations are back on.")
    assert_accessible(page, "resumed")
    customer.refresh_from_db()
    assert customer.invitations_stopped_at is None


def tab_to(tab: object, selector: str) -> None:
    for _ in range(40):
        tab.keyboard.press("Tab")
        if tab.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_form_works_with_the_keyboard_alone(emailed: object, page: object) -> None:
    link, invitation = emailed()
    page.goto(link)
    tab_to(page, "input[name=rating]")
    page.keyboard.press("Space")  # 1
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # 2, 3, 4
    tab_to(page, "textarea[name=comment]")
    page.keyboard.type("Typed without a mouse")
    tab_to(page, "input[name=contact_requested]")
    page.keyboard.press("Space")
    tab_to(page, "button[value=send]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/thanks/")
    shows(page, "someone from our team will contact you")
    answer = Response.objects.get(invitation=invitation)
    assert (answer.rating, answer.comment, answer.contact_requested) == (
        4,
        "Typed without a mouse",
        True,
    )


def test_a_spanish_customer_gets_spanish_pages(emailed: object, page: object) -> None:
    link, _invitation = emailed("es")
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "¿Qué tal tu pedido?"
    assert_accessible(page, "page es")
    screenshot(page, "page-es")
    page.get_by_role("button", name="Enviar opinión").click()
    shows(page, "Elige una valoración del 1 al 5.")
    assert_accessible(page, "error es")
    page.get_by_label("5 — excelente").check()
    page.get_by_role("button", name="Enviar opinión").click()
    page.wait_for_url("**/thanks/")
    shows(page, "Gracias por tu opinión.")
    assert_accessible(page, "thanks es")
    screenshot(page, "thanks-es")
    for path, heading in (
        ("later/", "Pregúntame más tarde"),
        ("no-thanks/", "No, gracias"),
        ("stop/", "¿Dejar de recibir invitaciones?"),
    ):
        page.goto(link + path)
        assert page.locator("h1").inner_text() == heading
        assert_accessible(page, f"{path} es")
    page.goto(link + "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_dead_end_pages_are_accessible(
    emailed: object, page: object, live_server: object, locale: str
) -> None:
    link, invitation = emailed(locale)
    page.set_extra_http_headers({"Accept-Language": locale})
    page.goto(live_server.url + "/f/not-a-real-token/")
    assert_accessible(page, f"404 {locale}")
    screenshot(page, f"not-found-{locale}")
    Invitation.objects.filter(pk=invitation.pk).update(state=State.EXPIRED)
    response = page.goto(link)
    assert response.status == 410
    assert_accessible(page, f"expired {locale}")
    screenshot(page, f"expired-{locale}")
