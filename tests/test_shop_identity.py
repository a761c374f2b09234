"""The shop's identity (SHOP_* settings) on every email and page, and the check that
production sets it."""

import email
from email.policy import default as default_policy
from email.utils import parseaddr

import pytest
from django.contrib import admin
from django.core.checks import run_checks
from django.test import Client
from django.utils import timezone

from feedback import emails
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

NAME = "Tostadero Lumen"
ADDRESS = "Tostadero Lumen S.L., Calle del Espíritu Santo 21, 28004 Madrid, Spain"
PRIVACY = "https://tostadero-lumen.example/privacy"
SHOP = "https://tostadero-lumen.example/"
WHY = {
    ("en", "invitation"): "because you placed an order with Tostadero Lumen. We send one "
    "invitation per order, and no reminders.",
    ("en", "later"): "because you placed an order with Tostadero Lumen and asked us to ask "
    "again later. We will not write about this order again.",
    ("es", "invitation"): "porque hiciste un pedido en Tostadero Lumen. Enviamos una sola "
    "invitación por pedido, y ningún recordatorio.",
    ("es", "later"): "porque hiciste un pedido en Tostadero Lumen y nos pediste que "
    "volviéramos a preguntar más tarde. No volveremos a escribirte sobre este pedido.",
}


def received(locale: str, kind: str) -> email.message.EmailMessage:
    """The invitation as the customer's mail client parses it."""
    customer = CustomerFactory(locale=locale)
    invitation = InvitationFactory(order=OrderFactory(customer=customer))
    message = emails.invitation_message(invitation, kind=kind, message_id="<m@t>")
    return email.message_from_bytes(message.message().as_bytes(), policy=default_policy)


def parts(message: email.message.EmailMessage) -> tuple[str, str]:
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("kind", ["invitation", "later"])
def test_it_signs_every_email_with_the_shop(locale: str, kind: str) -> None:
    message = received(locale, kind)
    assert parseaddr(message["From"]) == (NAME, "feedback@tostadero-lumen.example")
    text, html = parts(message)
    for body in (text, html):
        assert NAME in body
        assert ADDRESS in body
        assert PRIVACY in body
        assert WHY[locale, kind] in " ".join(body.split())
    assert '<img src="http://testserver/shop/logo"' in html
    assert f'<a href="{PRIVACY}"' in html
    assert text.startswith(f"{NAME} — {SHOP}\n")


def test_it_keeps_the_address_and_takes_the_name_from_the_shop(settings: object) -> None:
    settings.DEFAULT_FROM_EMAIL = "Old Name <hola@cafe.example>"
    settings.SHOP_NAME = "Café Ñandú, Madrid"
    message = received("es", "invitation")
    assert parseaddr(str(message["From"])) == ("Café Ñandú, Madrid", "hola@cafe.example")


def test_it_reads_a_shop_name_with_markup_characters_as_written(settings: object) -> None:
    settings.SHOP_NAME = "Beans & <Co>"
    text, html = parts(received("en", "invitation"))
    assert "order with Beans & <Co>." in text
    assert "Beans &amp; &lt;Co&gt;" in html and "<Co>" not in html


def customer_page(client: Client, locale: str = "en") -> str:
    order = OrderFactory(customer=CustomerFactory(locale=locale), delivered_at=timezone.now())
    response = client.get(f"/f/{InvitationFactory(order=order).token}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("locale", ["en", "es"])
def test_it_shows_the_shop_on_the_customer_page(client: Client, locale: str) -> None:
    html = customer_page(client, locale)
    assert f" · {NAME}</title>" in html
    assert '<img src="/shop/logo" alt="" width="40" height="40">' in html
    assert f'<a class="shop-brand" id="shop-brand" href="{SHOP}">' in html
    assert f'<a href="{PRIVACY}">' in html
    assert 'href="mailto:hola@tostadero-lumen.example"' in html
    back = {"en": "Back to Tostadero Lumen", "es": "Volver a Tostadero Lumen"}[locale]
    assert f'<a href="{SHOP}">{back}</a>' in html


def test_it_shows_only_what_is_configured(client: Client, settings: object) -> None:
    settings.SHOP_LOGO = settings.SHOP_PRIVACY_URL = settings.SHOP_SUPPORT_EMAIL = ""
    html = customer_page(client)
    assert "/shop/logo" not in html and "mailto:" not in html and PRIVACY not in html
    assert f"{NAME}</span>" in html


def test_every_customer_answer_asks_search_engines_to_stay_out(
    client: Client, settings: object
) -> None:
    token = InvitationFactory().token
    settings.FEEDBACK_RATE_PER_TOKEN = 2
    answers = {
        "page": client.get(f"/f/{token}/"),
        "stop page": client.get(f"/f/{token}/stop/"),
        "over the limit": client.get(f"/f/{token}/"),
        "unknown link": client.get("/f/not-a-real-token/"),
        "no trailing slash": client.get(f"/f/{token}"),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "page": 200,
        "stop page": 200,
        "over the limit": 429,
        "unknown link": 404,
        "no trailing slash": 301,
    }
    for answer in answers.values():
        assert answer["X-Robots-Tag"] == "noindex, nofollow"


def test_the_staff_pages_and_the_admin_name_the_shop(client: Client) -> None:
    client.force_login(member("alice", "Ops"))
    html = client.get("/staff/outbox/").content.decode()
    assert f"{NAME} <span" in html
    assert '<img src="/shop/logo" alt="" width="32" height="32">' in html
    assert admin.site.site_header == f"{NAME} · Feedback portal"
    assert f"{NAME} · Feedback portal" in client.get("/admin/").content.decode()


def test_it_warns_when_production_has_no_shop_name(settings: object) -> None:
    settings.DEBUG = False
    settings.SHOP_NAME = ""
    ids = [message.id for message in run_checks(include_deployment_checks=True)]
    assert "feedback.W001" in ids


def test_it_does_not_warn_with_a_shop_name(settings: object) -> None:
    settings.DEBUG = False
    ids = [message.id for message in run_checks(include_deployment_checks=True)]
    assert "feedback.W001" not in ids
    assert "feedback.W002" not in ids


@pytest.mark.parametrize("logo", ["/nonexistent/logo.svg", __file__])
def test_it_warns_when_the_logo_is_not_an_image_file(settings: object, logo: str) -> None:
    settings.SHOP_LOGO = logo
    assert "feedback.W002" in [message.id for message in run_checks()]
