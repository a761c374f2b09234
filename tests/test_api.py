"""The REST API under /api/v1/: orders in, delivery events, status out; every status code."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import ApiToken, Customer, Invitation, Order
from feedback.services import api_tokens
from tests.factories import InvitationFactory, OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]


@pytest.fixture
def secret() -> str:
    return api_tokens.api_token_create(name="shop sync", created_by=None)[1]


class Api:
    """A client that speaks JSON with a bearer token."""

    def __init__(self, secret: str, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"authorization": f"Bearer {secret}"}

    def post(self, path: str, body: object = None, **kwargs: object) -> object:
        data = "" if body is None else json.dumps(body)
        kwargs.setdefault("content_type", "application/json")
        return self.client.post(f"/api/v1{path}", data, headers=self.headers, **kwargs)

    def get(self, path: str) -> object:
        return self.client.get(f"/api/v1{path}", headers=self.headers)


@pytest.fixture
def api(secret: str) -> Api:
    return Api(secret)


def order(order_id: str = "SHOP-1001", **fields: object) -> dict:
    return {
        "order_id": order_id,
        "customer_email": "Ana@Example.com",
        "customer_name": "Ana López",
        "placed_at": "2025-03-01T10:00:00+01:00",
        "delivered_at": None,
        "items": [{"sku": "GR-1", "name": "Burr grinder", "quantity": 1}],
        "locale": "es",
        "timezone": "Europe/Madrid",
        "consent": "yes",
        **fields,
    }


def problems(response: object) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


# Orders in -------------------------------------------------------------------------------


def test_it_creates_an_order_with_its_customer_and_items(api: Api) -> None:
    response = api.post("/orders", order())
    assert response.status_code == 200
    assert response.json() == {"received": 1, "created": 1, "updated": 0, "unchanged": 0}
    stored = Order.objects.get(external_id="SHOP-1001")
    assert stored.customer.email == "ana@example.com"
    assert (stored.customer.name, stored.customer.locale) == ("Ana López", "es")
    assert stored.customer.consent == Customer.Consent.GIVEN
    assert list(stored.items.values_list("sku", "quantity")) == [("GR-1", 1)]


def test_it_upserts_by_order_id_and_replaces_the_items(api: Api) -> None:
    api.post("/orders", order())
    items = [{"sku": "KT-2", "name": "Kettle", "quantity": 2}]
    response = api.post("/orders", order(customer_name="Ana María", items=items))
    assert response.json() == {"received": 1, "created": 0, "updated": 1, "unchanged": 0}
    again = api.post("/orders", order(customer_name="Ana María", items=items))
    assert again.json() == {"received": 1, "created": 0, "updated": 0, "unchanged": 1}
    stored = Order.objects.get(external_id="SHOP-1001")
    assert list(stored.items.values_list("sku", "quantity")) == [("KT-2", 2)]
    assert stored.customer.name == "Ana María"
    assert Order.objects.count() == Customer.objects.count() == 1


def test_the_list_form_upserts_many_orders_at_once(api: Api) -> None:
    api.post("/orders", order("A-1"))
    batch = [order("A-1", channel="shop"), order("A-2"), order("A-3", customer_email="b@x.org")]
    response = api.post("/orders", batch)
    assert response.json() == {"received": 3, "created": 2, "updated": 1, "unchanged": 0}
    assert set(Order.objects.values_list("external_id", flat=True)) == {"A-1", "A-2", "A-3"}
    assert Customer.objects.count() == 2


def test_a_delivered_order_gets_one_invitation(api: Api) -> None:
    delivered = order(delivered_at="2025-03-03T12:00:00Z")
    api.post("/orders", delivered)
    api.post("/orders", delivered)
    assert Invitation.objects.filter(order__external_id="SHOP-1001").count() == 1


def test_it_names_each_bad_field_and_writes_nothing(api: Api) -> None:
    bad = order(
        "B-2",
        customer_email="not-an-email",
        timezone="Mars/Olympus",
        placed_at="2025-03-01T10:00:00",
        items=[{"sku": "X", "name": "Thing", "quantity": 0}],
    )
    response = api.post("/orders", [order("B-1"), bad])
    assert response.status_code == 422
    found = problems(response)
    assert set(found) == {
        "[1].customer_email",
        "[1].timezone",
        "[1].placed_at",
        "[1].items[0].quantity",
    }
    assert "not a valid email" in found["[1].customer_email"]
    assert "has no UTC offset" in found["[1].placed_at"]
    assert not Order.objects.exists()


def test_a_single_order_names_its_fields_without_a_position(api: Api) -> None:
    response = api.post("/orders", order(locale="tlh", delivered_at="2025-02-01T00:00:00Z"))
    assert response.status_code == 422
    found = problems(response)
    assert "not a supported locale" in found["locale"]
    assert found["delivered_at"] == "is before placed_at"
    missing = api.post("/orders", {"order_id": "C-1"})
    assert {"customer_email", "placed_at", "items"} <= set(problems(missing))
    typo = api.post("/orders", order(time_zone="Europe/Madrid"))
    assert problems(typo) == {"time_zone": "Extra inputs are not permitted"}


def test_it_refuses_more_than_a_thousand_orders(api: Api) -> None:
    response = api.post("/orders", [order(f"D-{n}") for n in range(1001)])
    assert response.status_code == 422
    assert "at most 1000" in response.json()["errors"][0]["message"]
    assert not Order.objects.exists()


def test_text_a_database_cannot_store_is_a_field_error(api: Api) -> None:
    response = api.post("/orders", order(customer_name="Ana\x00", items=[]))
    assert response.status_code == 422
    assert set(problems(response)) == {"customer_name", "items"}


# Delivery and status ---------------------------------------------------------------------


def test_delivered_schedules_the_invitation_once(api: Api) -> None:
    shipped = OrderFactory(external_id="E-1", placed_at=datetime(2025, 3, 1, tzinfo=UTC))
    first = api.post("/orders/E-1/delivered", {"delivered_at": "2025-03-03T12:00:00+00:00"})
    assert first.status_code == 200
    assert first.json()["delivered_at"] == "2025-03-03T12:00:00Z"
    assert first.json()["invitation"]["state"] in ("scheduled", "suppressed")
    second = api.post("/orders/E-1/delivered")  # no body: "now", but the first time stays
    assert second.json() == first.json()
    assert Invitation.objects.filter(order=shipped).count() == 1


def test_delivered_without_a_body_means_now(api: Api) -> None:
    OrderFactory(external_id="E-2")
    before = timezone.now()
    response = api.post("/orders/E-2/delivered", content_type="")
    assert response.status_code == 200
    assert Order.objects.get(external_id="E-2").delivered_at >= before


def test_delivered_before_placed_is_refused(api: Api) -> None:
    OrderFactory(external_id="E-3", placed_at=timezone.now())
    response = api.post("/orders/E-3/delivered", {"delivered_at": "2020-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert problems(response) == {"delivered_at": "is before placed_at"}
    assert Order.objects.get(external_id="E-3").delivered_at is None


def test_a_delivery_in_the_future_is_refused_naming_the_field(api: Api) -> None:
    OrderFactory(external_id="E-4", placed_at=timezone.now() - timedelta(days=3))
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    response = api.post("/orders/E-4/delivered", {"delivered_at": tomorrow})
    assert response.status_code == 422
    assert problems(response)["delivered_at"].startswith("is in the future")
    assert Order.objects.get(external_id="E-4").delivered_at is None
    created = api.post("/orders", order("E-5", delivered_at=tomorrow))
    assert created.status_code == 422
    assert problems(created)["delivered_at"].startswith("is in the future")
    assert not Order.objects.filter(external_id="E-5").exists()


def test_a_delivery_a_little_ahead_of_our_clock_is_taken(api: Api) -> None:
    OrderFactory(external_id="E-6", placed_at=timezone.now() - timedelta(days=3))
    skewed = timezone.now() + timedelta(minutes=4)
    response = api.post("/orders/E-6/delivered", {"delivered_at": skewed.isoformat()})
    assert response.status_code == 200
    assert Order.objects.get(external_id="E-6").delivered_at == skewed


def test_a_second_delivery_at_another_time_is_409_with_both_times(api: Api) -> None:
    OrderFactory(external_id="E-7", placed_at=datetime(2025, 3, 1, tzinfo=UTC))
    first = {"delivered_at": "2025-03-03T12:00:00Z"}
    assert api.post("/orders/E-7/delivered", first).status_code == 200
    again = api.post("/orders/E-7/delivered", {"delivered_at": "2025-03-03T13:00:00+01:00"})
    assert again.status_code == 200  # the same moment, written with another offset
    other = api.post("/orders/E-7/delivered", {"delivered_at": "2025-03-04T09:30:00Z"})
    assert other.status_code == 409
    body = other.json()
    assert body["delivered_at"] == "2025-03-03T12:00:00Z"
    assert body["requested_delivered_at"] == "2025-03-04T09:30:00Z"
    assert "already delivered" in body["detail"]
    stored = Order.objects.get(external_id="E-7")
    assert stored.delivered_at == datetime(2025, 3, 3, 12, tzinfo=UTC)
    assert Invitation.objects.filter(order=stored).count() == 1


@pytest.mark.parametrize(
    "order_id", ["A/1", "A?1", "#1001", "A 1", " A-1", "A\t1", "A\u00a01", "50%", "A\\1", ".", ".."]
)
def test_an_order_id_the_order_urls_cannot_carry_is_refused(api: Api, order_id: str) -> None:
    response = api.post("/orders", order(order_id))
    assert response.status_code == 422
    assert "order_id" in problems(response)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [(True, "valid integer"), ("5", "valid integer"), (1032.0, "valid integer")],
)
def test_a_quantity_must_be_a_json_integer(api: Api, quantity: object, message: str) -> None:
    items = [{"sku": "GR-1", "name": "Burr grinder", "quantity": quantity}]
    response = api.post("/orders", order(items=items))
    assert response.status_code == 422
    assert message in problems(response)["items[0].quantity"]
    assert not Order.objects.exists()


def test_an_empty_delivered_at_is_refused_not_read_as_null(api: Api) -> None:
    response = api.post("/orders", order(delivered_at=""))
    assert response.status_code == 422
    assert "or null" in problems(response)["delivered_at"]
    OrderFactory(external_id="E-8")
    marked = api.post("/orders/E-8/delivered", {"delivered_at": ""})
    assert marked.status_code == 422
    assert "delivered_at" in problems(marked)
    assert Order.objects.get(external_id="E-8").delivered_at is None


@pytest.mark.parametrize("zone", ["localtime", "Factory", "EST5EDT", "Japan"])
def test_only_real_iana_zones_are_taken(api: Api, zone: str) -> None:
    response = api.post("/orders", order(timezone=zone))
    assert response.status_code == 422
    assert "is not an IANA time zone name" in problems(response)["timezone"]
    assert not Order.objects.exists()


def test_an_order_placed_after_its_recorded_delivery_is_refused(api: Api) -> None:
    api.post("/orders", order(delivered_at="2025-03-03T12:00:00Z"))
    moved = order(placed_at="2025-03-05T10:00:00+01:00")  # delivered_at not sent: kept
    response = api.post("/orders", [order("OTHER-1"), moved])
    assert response.status_code == 409
    message = problems(response)["[1].delivered_at"]
    assert message == "the delivery on record, 2025-03-03T12:00:00Z, is before placed_at"
    stored = Order.objects.get(external_id="SHOP-1001")
    assert stored.placed_at == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert not Order.objects.filter(external_id="OTHER-1").exists()


def test_status_shows_the_invitation_but_never_the_answer(api: Api) -> None:
    invitation = InvitationFactory(order__external_id="F-1")
    services.response_submit(invitation=invitation, rating=2, comment="Box arrived crushed")
    response = api.get("/orders/F-1")
    assert response.status_code == 200
    body = response.json()
    assert body["invitation"]["state"] == "responded"
    assert body["invitation"]["responded_at"]
    assert len(body["items"]) == 2
    assert "crushed" not in response.content.decode()
    assert "rating" not in response.content.decode()


def test_unknown_orders_are_404(api: Api) -> None:
    assert api.get("/orders/NOPE").json() == {"detail": "No order has this order_id."}
    assert api.post("/orders/NOPE/delivered").status_code == 404


@pytest.mark.parametrize("path", ["/orders/bad%00id", "/orders/a%2Fb", "/orders/a%20b/delivered"])
def test_an_order_url_with_an_impossible_order_id_is_a_json_404(api: Api, path: str) -> None:
    response = api.get(path) if path.count("/") == 2 else api.post(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "order_id has no spaces" in response.json()["detail"]


def test_an_unknown_api_url_is_a_json_404(api: Api) -> None:
    response = api.post("/nothing/here", {})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No such URL.")


# Every status code ---------------------------------------------------------------------------


def test_no_token_is_401_with_a_challenge() -> None:
    response = Client().post("/api/v1/orders", "{}", content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in response.json()["detail"]


def test_an_unknown_token_is_401(api: Api) -> None:
    assert Api("fbk_not-a-real-token").post("/orders", order()).status_code == 401
    assert Api("fbk_" + "x" * 200).get("/orders/SHOP-1001").status_code == 401
    assert not Order.objects.exists()


def test_a_revoked_token_is_403(api: Api, secret: str) -> None:
    services_token = api_tokens.api_token_find(secret)
    assert api_tokens.api_token_revoke(token=services_token)
    response = api.post("/orders", order())
    assert response.status_code == 403
    assert response.json() == {"detail": "This API token has been revoked."}
    assert not Order.objects.exists()


def test_malformed_json_is_400(api: Api) -> None:
    response = api.client.post(
        "/api/v1/orders", '{"order_id": ', content_type="application/json", headers=api.headers
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}


def test_an_oversized_body_is_413_unread(api: Api, settings: object) -> None:
    settings.API_MAX_BODY_BYTES = 1000
    response = api.post("/orders", [order(f"G-{n}") for n in range(10)])
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]
    assert not Order.objects.exists()
    assert "larger than 1000 bytes" in response.json()["detail"]
    assert not Order.objects.exists()


def test_djangos_own_body_limit_is_413_too(api: Api, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/orders", [order(f"G-{n}") for n in range(10)])
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_json_is_415(api: Api, content_type: str) -> None:
    response = api.client.post(
        "/api/v1/orders", json.dumps(order()), content_type=content_type, headers=api.headers
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_a_wrong_method_is_405_in_json_with_allow(api: Api) -> None:
    response = api.get("/orders")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"detail": "GET is not allowed here; use POST."}
    deleted = api.client.delete("/api/v1/orders/X", headers=api.headers)
    assert deleted.status_code == 405
    assert deleted.json() == {"detail": "DELETE is not allowed here; use GET."}


def test_too_many_requests_is_429_with_retry_after(api: Api, settings: object) -> None:
    settings.API_RATE_PER_TOKEN = 2
    assert [api.get("/orders/H-1").status_code for _ in range(3)] == [404, 404, 429]
    limited = api.get("/orders/H-1")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= settings.API_RATE_WINDOW_SECONDS
    other = Api(api_tokens.api_token_create(name="other", created_by=None)[1])
    assert other.get("/orders/H-1").status_code == 404


def test_it_needs_no_csrf_token_and_sets_no_cookie(secret: str) -> None:
    api = Api(secret, Client(enforce_csrf_checks=True))
    response = api.post("/orders", order())
    assert response.status_code == 200
    assert not response.cookies


def test_last_used_is_written_at_most_once_a_minute(api: Api, secret: str) -> None:
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    api.get("/orders/X")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    api.get("/orders/X")
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.update(last_used_at=first_use - timedelta(minutes=2))
    api.get("/orders/X")
    token.refresh_from_db()
    assert token.last_used_at > first_use


# Concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_delivered_calls_give_one_invitation(secret: str) -> None:
    OrderFactory(external_id="K-1")
    start = threading.Barrier(4)
    statuses: list[int] = []

    def deliver() -> None:
        api = Api(secret)
        start.wait()
        statuses.append(api.post("/orders/K-1/delivered").status_code)
        connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 4
    assert Invitation.objects.filter(order__external_id="K-1").count() == 1
