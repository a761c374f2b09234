"""The shop webhooks on PostgreSQL: over real HTTP, a platform that sends the same delivery
several times at once (it does, when our answer is slow) still gets it applied once; and
what the webhooks kept goes with a customer's erasure."""

import threading
import time
import uuid
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from feedback.models import Customer, Invitation, Order, ShopWebhook
from feedback.services.privacy import customer_erase, customer_export
from tests.conftest import WorkerProcess, process_logs, wait_for
from tests.shop_webhooks import (
    SHOPIFY_SECRET,
    WOOCOMMERCE_SECRET,
    body_of,
    fixture,
    shopify_headers,
    shopify_post,
    woocommerce_headers,
)
from tests.smtp import SmtpSink
from tests.test_privacy import places_holding

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]
AT_ONCE = 6


@pytest.fixture(autouse=True)
def secrets(settings: object) -> None:
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.WOOCOMMERCE_WEBHOOK_SECRET = WOOCOMMERCE_SECRET


def post_at_once(url: str, body: bytes, headers: dict) -> list[int]:
    """The same request from AT_ONCE threads released together; their status codes."""
    start = threading.Barrier(AT_ONCE)
    codes: list[int] = []

    def send() -> None:
        start.wait()
        response = requests.post(
            url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=30
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_shopify_deliveries_sent_many_times_at_once_apply_once(live_server: object) -> None:
    url = f"{live_server.url}/webhooks/shopify"
    order = body_of(fixture("shopify/orders-create.json"))
    event = body_of(fixture("shopify/fulfillment_events-create.json"))

    created = post_at_once(url, order, shopify_headers("orders/create", order, "wh-a", None))
    delivered = post_at_once(
        url, event, shopify_headers("fulfillment_events/create", event, "wh-b", None)
    )

    assert created == [200] * AT_ONCE
    assert delivered == [200] * AT_ONCE
    assert Order.objects.get().external_id == "1001"
    assert Invitation.objects.get().state == Invitation.State.SCHEDULED
    assert ShopWebhook.objects.count() == 2


def test_a_woocommerce_completion_over_http_gives_one_invitation(live_server: object) -> None:
    url = f"{live_server.url}/webhooks/woocommerce"
    body = body_of(fixture("woocommerce/order-completed.json"))
    delivery = uuid.uuid4().hex

    codes = post_at_once(url, body, woocommerce_headers("order.updated", body, delivery, None))
    ping = requests.post(url, data=b"webhook_id=3", timeout=30)
    forged = requests.post(
        url,
        data=body,
        headers=woocommerce_headers("order.updated", body, "other", "Zm9yZ2Vk"),
        timeout=30,
    )

    assert codes == [200] * AT_ONCE
    assert (ping.status_code, forged.status_code) == (200, 401)
    assert Invitation.objects.get().order.external_id == "4750"
    assert ShopWebhook.objects.get().delivery_id == delivery


def test_erasure_removes_what_the_webhooks_kept(client: Client) -> None:
    order = fixture("shopify/orders-create.json")
    shopify_post(client, "orders/create", order)
    shopify_post(
        client, "fulfillment_events/create", fixture("shopify/fulfillment_events-create.json")
    )
    # A later update the portal refused, kept with its body.
    assert shopify_post(client, "orders/updated", {**order, "line_items": []}).status_code == 422
    ana = Customer.objects.get(email="ana@example.com")
    exported = customer_export(customer=ana, performed_by=None)
    assert [row["platform_order_id"] for row in exported["platform_orders"]] == ["5940139491234"]
    assert [row["reason"] for row in exported["refused_shop_webhooks"]] == [
        "at least one item is required"
    ]

    customer_erase(customer=ana, performed_by=None)

    for value in ("ana@example.com", "López", "5940139491234", "Fuencarral"):
        assert places_holding(value) == [], value
    assert [webhook.order_external_id for webhook in ShopWebhook.objects.all()] == ["", ""]


def test_a_shopify_customer_gets_one_invitation_in_their_language(
    client: Client, smtp: SmtpSink, celery_worker_process: WorkerProcess
) -> None:
    order = fixture("shopify/orders-create.json")
    event = fixture("shopify/fulfillment_events-create.json")
    shopify_post(client, "orders/create", order)
    shopify_post(client, "fulfillment_events/create", event, webhook_id="wh-e")
    shopify_post(client, "fulfillment_events/create", event, webhook_id="wh-e")
    shopify_post(client, "fulfillments/update", fixture("shopify/fulfillments-update.json"))

    call_command("dispatch_invitations", "--queue", stdout=StringIO())

    assert wait_for(lambda: smtp.count() >= 1), process_logs(celery_worker_process)
    call_command("dispatch_invitations", "--queue", stdout=StringIO())
    time.sleep(2)  # time for a second message, were there one
    [message] = smtp.to("ana@example.com")
    # Spanish (customer_locale "es"), about the order number Ana knows.
    assert message["Subject"] == "¿Qué tal tu pedido 1001?"
