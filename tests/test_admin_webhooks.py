"""Webhook endpoints and deliveries in the admin: the secret shown once, only http(s) URLs,
the notice of an endpoint switched off, and the re-send action."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import WebhookDelivery, WebhookEndpoint
from feedback.services import webhooks
from tests.factories import InvitationFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

ADD = "/admin/feedback/webhookendpoint/add/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    return client


def add_form(**fields: object) -> dict:
    return {
        "url": "https://crm.shop.example/hooks/feedback",
        "description": "CRM",
        "event_types": ["response.submitted", "contact.requested"],
        "active": "on",
        **fields,
    }


def test_it_shows_the_new_secret_once(admin_client: Client) -> None:
    created = admin_client.post(ADD, add_form())
    endpoint = WebhookEndpoint.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/admin/feedback/webhookendpoint/{endpoint.pk}/created/"
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["contact.requested", "response.submitted"]

    page = admin_client.get(created["Location"])
    assert endpoint.secret in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    again = admin_client.get(created["Location"]).content.decode()
    assert endpoint.secret not in again
    assert "was shown once" in again
    change = admin_client.get(f"/admin/feedback/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200
    assert endpoint.secret not in change.content.decode()
    assert (
        endpoint.secret not in admin_client.get("/admin/feedback/webhookendpoint/").content.decode()
    )


def test_each_endpoint_gets_its_own_secret(admin_client: Client) -> None:
    admin_client.post(ADD, add_form())
    admin_client.post(ADD, add_form(url="https://other.example/hook"))
    first, second = WebhookEndpoint.objects.order_by("pk")
    assert first.secret != second.secret


def test_the_secret_is_not_shown_to_someone_else(admin_client: Client) -> None:
    created = admin_client.post(ADD, add_form())
    endpoint = WebhookEndpoint.objects.get()
    other = Client()
    other.force_login(User.objects.create_superuser("dora", "dora@example.com", "pw"))
    assert endpoint.secret not in other.get(created["Location"]).content.decode()
    assert endpoint.secret in admin_client.get(created["Location"]).content.decode()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://files.shop.example/hook", "Give an http:// or https:// URL."),
        ("file:///etc/passwd", "Enter a valid URL."),
        ("javascript:alert(1)", "Enter a valid URL."),
    ],
)
def test_it_refuses_a_url_that_is_not_http(admin_client: Client, url: str, error: str) -> None:
    page = admin_client.post(ADD, add_form(url=url))
    assert page.status_code == 200
    html = page.content.decode()
    assert error in html
    assert 'class="errorlist' in html and 'id="id_url"' in html
    assert WebhookEndpoint.objects.count() == 0


def test_it_asks_for_at_least_one_event(admin_client: Client) -> None:
    page = admin_client.post(ADD, add_form(event_types=[]))
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_it_refuses_an_unknown_event(admin_client: Client) -> None:
    page = admin_client.post(ADD, add_form(event_types=["order.deleted"]))
    assert "Select a valid choice. order.deleted is not one of the available choices." in (
        page.content.decode()
    )
    assert WebhookEndpoint.objects.count() == 0


def test_an_endpoint_switched_off_shows_why_and_switching_it_on_forgets_its_failures(
    admin_client: Client,
) -> None:
    endpoint = webhooks.webhook_endpoint_create(url="https://dead.example/hook", event_types=[])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False,
        failing_since=timezone.now() - timedelta(days=6),
        disabled_at=timezone.now(),
        disabled_reason="Switched off on 2026-12-01 10:00 UTC: every delivery since ...",
    )
    listing = admin_client.get("/admin/feedback/webhookendpoint/").content.decode()
    assert (
        "Webhook endpoint https://dead.example/hook is off. Switched off on 2026-12-01 10:00 UTC"
        in listing
    )

    change = f"/admin/feedback/webhookendpoint/{endpoint.pk}/change/"
    saved = admin_client.post(
        change, add_form(url="https://dead.example/hook", event_types=["invitation.sent"])
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.event_types == ["invitation.sent"]
    assert (endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason) == (
        None,
        None,
        "",
    )
    assert (
        "Switched off" not in admin_client.get("/admin/feedback/webhookendpoint/").content.decode()
    )


def given_up_delivery() -> WebhookDelivery:
    endpoint = webhooks.webhook_endpoint_create(
        url="https://crm.shop.example/hook", event_types=["response.submitted"]
    )
    services.response_submit(invitation=InvitationFactory(), rating=5)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state="failed", attempts=8, attempt_limit=8, last_status_code=500
    )
    return delivery


def test_the_resend_action_queues_the_delivery_again(admin_client: Client) -> None:
    delivery = given_up_delivery()
    page = admin_client.get("/admin/feedback/webhookdelivery/").content.decode()
    assert delivery.event.message_id in page and "Re-send selected deliveries" in page

    response = admin_client.post(
        "/admin/feedback/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "Queued 1 delivery(ies) again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.attempt_limit) == ("pending", 8, 16)
    assert delivery.next_attempt_at <= timezone.now()


def test_the_resend_action_skips_a_switched_off_endpoint(admin_client: Client) -> None:
    delivery = given_up_delivery()
    WebhookEndpoint.objects.update(active=False)
    response = admin_client.post(
        "/admin/feedback/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 not re-sent: their endpoint is switched off." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "failed"


def test_staff_without_the_right_see_no_webhooks(client: Client) -> None:
    given_up_delivery()
    client.force_login(member("bob", "Staff"))
    assert client.get("/admin/feedback/webhookendpoint/").status_code == 403
    assert client.get("/admin/feedback/webhookdelivery/").status_code == 403


def test_a_delivery_page_shows_the_body_and_each_attempt(admin_client: Client) -> None:
    delivery = given_up_delivery()
    delivery.log.create(number=1, started_at=timezone.now(), status_code=500, duration_ms=12)
    page = admin_client.get(f"/admin/feedback/webhookdelivery/{delivery.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "&quot;type&quot;:&quot;response.submitted&quot;" in html
    assert "12" in html and "500" in html


def test_an_event_page_shows_its_data_and_deliveries(admin_client: Client) -> None:
    delivery = given_up_delivery()
    listing = admin_client.get("/admin/feedback/webhookevent/").content.decode()
    assert delivery.event.message_id in listing
    page = admin_client.get(f"/admin/feedback/webhookevent/{delivery.event.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "response_id" in html and "https://crm.shop.example/hook" in html
