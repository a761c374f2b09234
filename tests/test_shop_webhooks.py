"""POST /webhooks/shopify and /webhooks/woocommerce: signed orders in, deliveries, replays."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from feedback.models import Customer, Invitation, Order, ShopWebhook
from tests.factories import CustomerFactory
from tests.shop_webhooks import (
    SHOPIFY_SECRET,
    WOOCOMMERCE_SECRET,
    fixture,
    shopify_post,
    sign,
    woocommerce_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

SHOPIFY_ORDER = "shopify/orders-create.json"
DELIVERED_EVENT = "shopify/fulfillment_events-create.json"
DELIVERED_FULFILLMENT = "shopify/fulfillments-update.json"
WC_CREATED = "woocommerce/order-created.json"
WC_COMPLETED = "woocommerce/order-completed.json"


@pytest.fixture(autouse=True)
def secrets(settings: object) -> None:
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.WOOCOMMERCE_WEBHOOK_SECRET = WOOCOMMERCE_SECRET


def nothing_stored() -> bool:
    return not (Order.objects.exists() or Customer.objects.exists() or ShopWebhook.objects.exists())


def refused_row() -> ShopWebhook:
    return ShopWebhook.objects.get(outcome=ShopWebhook.Outcome.REFUSED)


# Shopify --------------------------------------------------------------------------------


def test_it_creates_the_order_and_its_customer_from_a_shopify_order(client: Client) -> None:
    response = shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))

    assert response.status_code == 200, response.content
    assert response.json()["order_id"] == "1001"
    order = Order.objects.get(external_id="1001")
    assert order.channel == "shopify"
    assert order.placed_at == datetime(2026, 11, 20, 9, 15, 31, tzinfo=UTC)
    assert order.delivered_at is None
    items = list(order.items.order_by("pk").values_list("sku", "name", "quantity"))
    assert items == [
        ("GR-1", "Molinillo de muelas cónicas - Negro", 1),
        # No SKU in the shop: known by its Shopify variant.
        ("variant-41899282661450", "Café de Huila, 250 g - Grano", 2),
    ]
    customer = order.customer
    assert (customer.email, customer.name, customer.locale) == (
        "ana@example.com",
        "Ana López",
        "es",
    )
    assert customer.time_zone == "UTC"  # Shopify does not send one
    # buyer_accepts_marketing false: the box was not ticked, which is not an objection.
    assert customer.consent == Customer.Consent.UNKNOWN
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "topic, name, delivered_at",
    [
        # happened_at: when the carrier delivered it
        ("fulfillment_events/create", DELIVERED_EVENT, datetime(2026, 11, 23, 11, 40, tzinfo=UTC)),
        # updated_at: when the fulfilment learnt it
        (
            "fulfillments/update",
            DELIVERED_FULFILLMENT,
            datetime(2026, 11, 23, 11, 41, 7, tzinfo=UTC),
        ),
    ],
)
def test_a_delivery_schedules_the_one_invitation(
    client: Client, topic: str, name: str, delivered_at: datetime
) -> None:
    shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))

    response = shopify_post(client, topic, fixture(name))

    assert response.status_code == 200, response.content
    order = Order.objects.get(external_id="1001")
    assert order.delivered_at == delivered_at
    invitation = Invitation.objects.get(order=order)
    assert invitation.state == Invitation.State.SCHEDULED
    # The policy's 7 days after delivery (here already past: due at once).
    assert invitation.due_at >= order.delivered_at + timedelta(days=7)


def test_the_second_delivered_event_of_an_order_changes_nothing(client: Client) -> None:
    shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))
    shopify_post(client, "fulfillment_events/create", fixture(DELIVERED_EVENT))
    invitation = Invitation.objects.get()

    response = shopify_post(client, "fulfillments/update", fixture(DELIVERED_FULFILLMENT))

    assert response.status_code == 200
    assert Invitation.objects.get() == invitation
    assert Order.objects.get().delivered_at == datetime(2026, 11, 23, 11, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "topic, name, change",
    [
        ("fulfillment_events/create", DELIVERED_EVENT, {"status": "in_transit"}),
        ("fulfillment_events/create", DELIVERED_EVENT, {"status": "out_for_delivery"}),
        ("fulfillments/update", DELIVERED_FULFILLMENT, {"shipment_status": "in_transit"}),
        ("fulfillments/create", DELIVERED_FULFILLMENT, {"shipment_status": None}),
    ],
)
def test_it_waits_for_the_parcel_to_arrive(
    client: Client, topic: str, name: str, change: dict
) -> None:
    shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))

    response = shopify_post(client, topic, {**fixture(name), **change})

    assert response.status_code == 200
    assert Order.objects.get().delivered_at is None
    assert not Invitation.objects.exists()
    assert ShopWebhook.objects.filter(outcome=ShopWebhook.Outcome.IGNORED).count() == 1


def test_a_replay_changes_nothing(client: Client) -> None:
    first = fixture(SHOPIFY_ORDER)
    assert shopify_post(client, "orders/create", first, webhook_id="wh-1").status_code == 200
    renamed = {**first, "customer": {**first["customer"], "first_name": "Anabel"}}
    shopify_post(client, "orders/updated", renamed, webhook_id="wh-2")
    shopify_post(client, "fulfillment_events/create", fixture(DELIVERED_EVENT), webhook_id="wh-3")
    before = Order.objects.get().updated_at

    # Shopify sends a delivery again when it saw no answer in time: same id, same body.
    replay = shopify_post(client, "orders/create", first, webhook_id="wh-1")
    again = shopify_post(
        client, "fulfillment_events/create", fixture(DELIVERED_EVENT), webhook_id="wh-3"
    )

    assert (replay.status_code, again.status_code) == (200, 200)
    assert replay.json()["detail"] == "Already received; nothing changed."
    order = Order.objects.get()
    assert (order.customer.name, order.updated_at) == ("Anabel López", before)
    assert Invitation.objects.count() == 1
    assert ShopWebhook.objects.count() == 3


@pytest.mark.parametrize(
    "signature",
    ["", sign("not-the-secret", b"x"), sign(WOOCOMMERCE_SECRET, b"{}"), "not base64 at all"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(
    client: Client, signature: str
) -> None:
    response = shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER), signature=signature)

    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["detail"]
    assert nothing_stored()


def test_a_body_changed_after_signing_is_401(client: Client) -> None:
    payload = fixture(SHOPIFY_ORDER)
    signed = sign(SHOPIFY_SECRET, b'{"id": 1}')

    assert shopify_post(client, "orders/create", payload, signature=signed).status_code == 401
    assert nothing_stored()


def test_an_order_without_an_email_is_422_named_and_kept(client: Client) -> None:
    payload = fixture(SHOPIFY_ORDER)
    payload.update(email=None, contact_email=None)
    payload["customer"]["email"] = None

    response = shopify_post(client, "orders/create", payload, webhook_id="wh-no-email")

    assert response.status_code == 422
    assert response.json()["field"] == "email"
    assert "no customer email" in response.json()["reason"]
    assert not Order.objects.exists() and not Customer.objects.exists()
    kept = refused_row()
    assert (kept.platform, kept.topic, kept.delivery_id) == (
        "shopify",
        "orders/create",
        "wh-no-email",
    )
    assert (kept.field, kept.outcome) == ("email", "refused")
    assert '"name": "#1001"' in kept.payload


@pytest.mark.parametrize(
    "change, field",
    [
        ({"line_items": []}, "line_items"),
        ({"name": "#10/01"}, "name"),
        ({"processed_at": "20 Nov 2026"}, "processed_at"),
        ({"email": "ana at example"}, "email"),
        ({"id": None}, "id"),
    ],
)
def test_each_unmappable_field_is_named(client: Client, change: dict, field: str) -> None:
    response = shopify_post(client, "orders/create", {**fixture(SHOPIFY_ORDER), **change})

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert refused_row().field == field
    assert not Order.objects.exists()


def test_a_body_that_is_not_json_is_422_and_kept(client: Client) -> None:
    response = shopify_post(client, "orders/create", b"<order><id>1</id></order>")

    assert response.status_code == 422
    assert response.json()["field"] == "body"
    assert refused_row().payload == "<order><id>1</id></order>"


def test_a_delivery_before_its_order_is_refused_then_taken_on_the_retry(client: Client) -> None:
    event = fixture(DELIVERED_EVENT)
    refused = shopify_post(client, "fulfillment_events/create", event, webhook_id="wh-9")
    assert refused.status_code == 422
    assert refused.json()["field"] == "order_id"

    shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))
    # Shopify retries a failed delivery with the same webhook id.
    retried = shopify_post(client, "fulfillment_events/create", event, webhook_id="wh-9")

    assert retried.status_code == 200, retried.content
    assert Invitation.objects.get().order.external_id == "1001"
    assert ShopWebhook.objects.filter(delivery_id="wh-9").count() == 2  # refused, accepted


def test_a_delivery_before_the_order_was_placed_is_refused(client: Client) -> None:
    shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))
    event = {**fixture(DELIVERED_EVENT), "happened_at": "2026-11-19T12:00:00+01:00"}

    response = shopify_post(client, "fulfillment_events/create", event)

    assert response.status_code == 422
    assert (response.json()["field"], response.json()["reason"]) == (
        "happened_at",
        "is before placed_at",
    )
    assert Order.objects.get().delivered_at is None
    assert not Invitation.objects.exists()


def test_a_missing_webhook_id_is_422(client: Client) -> None:
    response = shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER), webhook_id=" ")

    assert response.status_code == 422
    assert response.json()["field"] == "X-Shopify-Webhook-Id"
    assert not Order.objects.exists()


def test_a_topic_it_has_no_use_for_is_200_and_changes_nothing(client: Client) -> None:
    response = shopify_post(client, "products/update", {"id": 788032119674292922})

    assert response.status_code == 200
    assert not Order.objects.exists()
    assert ShopWebhook.objects.get().reason == "topic products/update is not used"


# Consent, language and time zone ----------------------------------------------------------


def with_consent(accepts: bool, state: str | None = None) -> dict:
    """The order; `state` as API versions before 2025-01 sent it in the customer."""
    payload = {**fixture(SHOPIFY_ORDER), "buyer_accepts_marketing": accepts}
    if state is not None:
        payload["customer"]["email_marketing_consent"] = {
            "state": state,
            "opt_in_level": "single_opt_in",
            "consent_updated_at": "2026-11-20T10:15:32+01:00",
        }
    return payload


@pytest.mark.parametrize(
    "payload, consent",
    [
        (with_consent(True), "given"),
        (with_consent(False, "subscribed"), "given"),
        (with_consent(True, "unsubscribed"), "not_given"),
        (with_consent(False, "unsubscribed"), "not_given"),
        (with_consent(False, "not_subscribed"), "unknown"),
        (with_consent(False, "pending"), "unknown"),
        (with_consent(False), "unknown"),
    ],
)
def test_only_explicit_marketing_consent_becomes_ours(
    client: Client, payload: dict, consent: str
) -> None:
    shopify_post(client, "orders/create", payload)

    assert Customer.objects.get().consent == consent


def test_a_known_customer_keeps_what_shopify_does_not_say(client: Client) -> None:
    CustomerFactory(
        email="ana@example.com", time_zone="Europe/Madrid", consent="given", locale="es"
    )
    payload = {**fixture(SHOPIFY_ORDER), "customer_locale": "uk-UA"}

    shopify_post(client, "orders/create", payload)

    customer = Customer.objects.get()
    # No time zone, a language we do not write in, a box not ticked: all as they were.
    assert (customer.time_zone, customer.locale, customer.consent) == (
        "Europe/Madrid",
        "es",
        "given",
    )


def test_a_new_customer_in_a_language_we_do_not_write_gets_the_default(client: Client) -> None:
    shopify_post(client, "orders/create", {**fixture(SHOPIFY_ORDER), "customer_locale": "uk-UA"})

    assert Customer.objects.get().locale == "en"


# WooCommerce ------------------------------------------------------------------------------


def test_it_answers_the_woocommerce_ping_and_stores_nothing(client: Client) -> None:
    # Sent unsigned, as a form, when the webhook is saved in WooCommerce.
    response = client.post(
        "/webhooks/woocommerce",
        "webhook_id=3",
        content_type="application/x-www-form-urlencoded",
        headers={"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"},
    )

    assert response.status_code == 200
    assert nothing_stored()


def test_a_woocommerce_order_and_its_completion_give_the_one_invitation(client: Client) -> None:
    created = woocommerce_post(client, "order.created", fixture(WC_CREATED))
    assert created.status_code == 200, created.content
    order = Order.objects.get(external_id="4750")
    assert (order.channel, order.delivered_at) == ("woocommerce", None)
    assert order.placed_at == datetime(2026, 11, 20, 10, 5, 40, tzinfo=UTC)
    assert list(order.items.values_list("sku", "quantity").order_by("pk")) == [
        ("KT-2", 1),
        ("variation-102", 2),
    ]
    assert (order.customer.email, order.customer.name) == ("bo@example.com", "Bo Chen")

    completed = woocommerce_post(client, "order.updated", fixture(WC_COMPLETED))

    assert completed.status_code == 200, completed.content
    order.refresh_from_db()
    assert order.delivered_at == datetime(2026, 11, 22, 16, 30, 2, tzinfo=UTC)
    invitation = Invitation.objects.get(order=order)
    assert invitation.state == Invitation.State.SCHEDULED


def test_a_woocommerce_replay_changes_nothing(client: Client) -> None:
    woocommerce_post(client, "order.updated", fixture(WC_COMPLETED), delivery_id="d-1")
    later = {
        **fixture(WC_COMPLETED),
        "billing": {**fixture(WC_COMPLETED)["billing"], "last_name": "Chen Li"},
    }
    woocommerce_post(client, "order.updated", later, delivery_id="d-2")

    replay = woocommerce_post(client, "order.updated", fixture(WC_COMPLETED), delivery_id="d-1")

    assert replay.status_code == 200
    assert Customer.objects.get().name == "Bo Chen Li"
    assert Invitation.objects.count() == 1


def test_a_woocommerce_delivery_signed_with_another_secret_is_401(client: Client) -> None:
    body = fixture(WC_COMPLETED)
    response = woocommerce_post(
        client, "order.updated", body, signature=sign(SHOPIFY_SECRET, b"anything")
    )

    assert response.status_code == 401
    assert nothing_stored()


def test_a_signed_woocommerce_ping_shaped_body_is_still_checked(client: Client) -> None:
    response = woocommerce_post(client, "order.created", b"webhook_id=3", signature="forged")

    assert response.status_code == 401
    assert nothing_stored()


def test_a_woocommerce_order_without_an_email_is_422_and_kept(client: Client) -> None:
    payload = fixture(WC_CREATED)
    payload["billing"]["email"] = ""

    response = woocommerce_post(client, "order.created", payload)

    assert response.status_code == 422
    assert response.json()["field"] == "billing.email"
    assert refused_row().platform == "woocommerce"
    assert not Order.objects.exists()


def test_a_checkout_draft_is_not_an_order_yet(client: Client) -> None:
    payload = {**fixture(WC_CREATED), "status": "checkout-draft"}

    assert woocommerce_post(client, "order.created", payload).status_code == 200
    assert not Order.objects.exists()


# Configuration and staff -------------------------------------------------------------------


def test_a_platform_without_a_secret_is_off(client: Client, settings: object) -> None:
    settings.SHOPIFY_WEBHOOK_SECRET = ""

    response = shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))

    assert response.status_code == 404
    assert "SHOPIFY_WEBHOOK_SECRET" in response.json()["detail"]
    assert nothing_stored()


def test_a_get_is_405(client: Client) -> None:
    assert client.get("/webhooks/shopify").status_code == 405


def test_staff_see_a_refused_delivery_in_the_admin_but_cannot_change_it(client: Client) -> None:
    payload = {**fixture(SHOPIFY_ORDER), "line_items": []}
    shopify_post(client, "orders/create", payload)
    kept = refused_row()
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))

    listing = client.get("/admin/feedback/shopwebhook/?outcome=refused")
    detail = client.get(f"/admin/feedback/shopwebhook/{kept.pk}/change/")

    assert "at least one item is required" in listing.content.decode()
    assert "tostadero-lumen.myshopify.com" in detail.content.decode()
    assert client.get("/admin/feedback/shopwebhook/add/").status_code == 403
    client.post(f"/admin/feedback/shopwebhook/{kept.pk}/delete/", {"post": "yes"})
    assert ShopWebhook.objects.filter(pk=kept.pk).exists()


def test_a_body_over_the_limit_is_413_and_stores_nothing(client: Client, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = shopify_post(client, "orders/create", fixture(SHOPIFY_ORDER))

    assert response.status_code == 413
    assert nothing_stored()
