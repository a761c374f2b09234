"""Shop platforms' webhooks in: Shopify and WooCommerce, read into our orders and deliveries.

Pure functions, no I/O: each platform's signature check, and its payloads mapped to an
OrderIn (the order and its customer, for orders_upsert), a DeliveryIn (an order delivered,
for order_mark_delivered) or Nothing (a topic or a state we have no use for). A payload we
cannot map raises PayloadRefused naming the field; feedback.services.shop_webhooks writes.

Which event counts as delivery, and why:
- Shopify: a fulfilment event `delivered` (topic fulfillment_events/create) or a fulfilment
  whose shipment_status is `delivered` (fulfillments/create, fulfillments/update), i.e. the
  carrier's tracking, or the merchant marking a local delivery delivered. Not
  orders/fulfilled: "fulfilled" means handed to the carrier, and the invitation's delay
  counts from the day the customer has the parcel. The first delivered fulfilment of an
  order marks it delivered.
- WooCommerce: the order status `completed`, the only fulfilment state core WooCommerce has
  ("fulfilled and complete, requires no further action"); shops set it when they ship or
  hand over the order, and the invitation's delay (7 days by default) covers the transit.

Customers: the order's email, name and, where the platform has them, language and consent.
Neither platform sends a customer's time zone: a new customer gets UTC, a known one keeps
theirs. Our consent means "may be emailed an invitation"; it is taken from the platform only
where the customer said so explicitly (the README tells shops the same):
- Shopify: customer.email_marketing_consent.state `subscribed` is given, `unsubscribed` is
  not given (an explicit objection to the shop's emails); otherwise buyer_accepts_marketing
  true (the box ticked at checkout) is given; anything else (not ticked, not_subscribed,
  pending, invalid, redacted, absent) is not stated, and a known customer's consent stays.
- WooCommerce: core WooCommerce records no marketing consent: always not stated.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedback import ingest
from feedback.ingest import FieldError, ItemRecord, OrderRecord
from feedback.models import Customer, ShopPlatform

MAX_DELIVERY_ID = 100
# The ping WooCommerce sends, unsigned, when a webhook is saved; it refuses to save the
# webhook unless the ping is answered 2xx.
WOOCOMMERCE_PING = re.compile(rb"webhook_id=\d+")


@dataclass(frozen=True)
class OrderIn:
    """An order and its customer, as orders_upsert takes them."""

    record: OrderRecord
    platform_order_id: str


@dataclass(frozen=True)
class DeliveryIn:
    """The platform's order, by the platform's id, delivered at this time."""

    platform_order_id: str
    delivered_at: datetime
    field: str  # the payload's field the time came from, for an error about it


@dataclass(frozen=True)
class Nothing:
    """A delivery that changes nothing here, and why."""

    reason: str


Change = OrderIn | DeliveryIn | Nothing


class PayloadRefused(ValueError):
    """A payload we cannot map: the field (dotted path or header) and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def signature_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """Both platforms sign the raw body: base64 of its HMAC-SHA256 with the shared secret.
    Compared in constant time."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def check_delivery_id(value: str, *, header: str) -> str:
    if not value:
        raise PayloadRefused(header, "is required: it is how a replay is told apart")
    if len(value) > MAX_DELIVERY_ID or not value.isprintable():
        raise PayloadRefused(header, f"must be up to {MAX_DELIVERY_ID} printable characters")
    return value


def json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise PayloadRefused("body", f"is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise PayloadRefused("body", "must be a JSON object")
    return payload


# Reading fields ---------------------------------------------------------------------------


def _value(payload: dict, path: str) -> object:
    """The value at a dotted path, or None where any part is missing or null."""
    value: object = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(payload: dict, path: str) -> str:
    value = _value(payload, path)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadRefused(path, "must be a string")
    return str(value).strip()


def _parsed(path: str, parse: Callable[..., object], value: object, **kwargs: object) -> object:
    """parse(value), its FieldError named by the payload's field."""
    try:
        return parse(value, **kwargs)
    except FieldError as error:
        raise PayloadRefused(path, str(error)) from None


def _platform_id(payload: dict, path: str = "id") -> str:
    value = _value(payload, path)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise PayloadRefused(path, "is required: the platform's id of the order")
    return str(value).strip()


def _first_email(payload: dict, paths: tuple[str, ...]) -> str:
    for path in paths:
        if value := _text(payload, path):
            return _parsed(path, ingest.parse_email, value)
    raise PayloadRefused(paths[0], "is required: the order has no customer email")


def _name(payload: dict, *pairs: tuple[str, str]) -> str:
    for first, last in pairs:
        name = f"{_text(payload, first)} {_text(payload, last)}".strip()
        if name:
            return _parsed(first, ingest.parse_name, name)
    return ""


def _locale(value: str) -> str | None:
    """A language we speak, or None: a language we do not speak is not an error, the
    customer is written to in the site's language."""
    try:
        return ingest.parse_locale(value) if value else None
    except FieldError:
        return None


def _items(payload: dict, fallbacks: tuple[str, ...]) -> tuple[ItemRecord, ...]:
    lines = _value(payload, "line_items")
    if not isinstance(lines, list) or not lines:
        raise PayloadRefused("line_items", "at least one item is required")
    items = []
    for index, line in enumerate(lines):
        where = f"line_items[{index}]"
        if not isinstance(line, dict):
            raise PayloadRefused(where, "must be an object")
        items.append(_parsed(where, _item, line, fallbacks=fallbacks))
    return tuple(items)


def _item(line: dict, *, fallbacks: tuple[str, ...]) -> ItemRecord:
    """An item without a SKU (a product the shop gave none) is known by its platform id,
    e.g. variant-808950810, so that its answers still group by product."""
    sku = _text(line, "sku")
    for key in fallbacks:
        if sku:
            break
        if line.get(key):
            sku = f"{key.removesuffix('_id')}-{line[key]}"
    name = _text(line, "name") or _text(line, "title")
    return ingest.item_record(sku, name, line.get("quantity"), where="item")


# Shopify ----------------------------------------------------------------------------------


def shopify_change(topic: str, payload: dict) -> Change:
    if topic in ("orders/create", "orders/updated"):
        return shopify_order(payload)
    if topic == "fulfillment_events/create":
        if _text(payload, "status") != "delivered":
            return Nothing(f"fulfilment event {_text(payload, 'status') or 'without status'}")
        return _shopify_delivery(payload, "happened_at")
    if topic in ("fulfillments/create", "fulfillments/update"):
        if _text(payload, "shipment_status") != "delivered":
            status = _text(payload, "shipment_status") or "none"
            return Nothing(f"fulfilment with shipment_status {status}")
        return _shopify_delivery(payload, "updated_at")
    return Nothing(f"topic {topic or '(none)'} is not used")


def shopify_order(payload: dict) -> OrderIn:
    """Our order id is the order's name without its "#" (#1001: 1001), the number the
    customer knows from Shopify's emails; Shopify's own id is kept beside it."""
    placed = "processed_at" if _value(payload, "processed_at") else "created_at"
    record = OrderRecord(
        order_id=_parsed("name", ingest.parse_order_id, _text(payload, "name").lstrip("#")),
        customer_email=_first_email(payload, ("email", "contact_email", "customer.email")),
        customer_name=_name(
            payload,
            ("customer.first_name", "customer.last_name"),
            ("billing_address.first_name", "billing_address.last_name"),
            ("shipping_address.first_name", "shipping_address.last_name"),
        ),
        placed_at=_parsed(placed, ingest.parse_datetime, _text(payload, placed)),
        delivered_at=None,
        items=_items(payload, fallbacks=("variant_id", "product_id")),
        locale=_locale(_text(payload, "customer_locale")),
        time_zone=None,
        consent=shopify_consent(payload),
        channel="shopify",
    )
    return OrderIn(record=record, platform_order_id=_platform_id(payload))


def shopify_consent(payload: dict) -> str | None:
    state = _value(payload, "customer.email_marketing_consent.state")
    if state == "subscribed":
        return Customer.Consent.GIVEN
    if state == "unsubscribed":
        return Customer.Consent.NOT_GIVEN
    if _value(payload, "buyer_accepts_marketing") is True:
        return Customer.Consent.GIVEN
    return None


def _shopify_delivery(payload: dict, field: str) -> DeliveryIn:
    delivered_at = _parsed(field, ingest.parse_datetime, _text(payload, field))
    return DeliveryIn(
        platform_order_id=_platform_id(payload, "order_id"),
        delivered_at=delivered_at,
        field=field,
    )


# WooCommerce ------------------------------------------------------------------------------

# Orders in these states are not orders yet (a checkout being filled in) or no longer.
WOOCOMMERCE_NOT_ORDERS = ("checkout-draft", "trash")


def woocommerce_change(topic: str, payload: dict) -> Change:
    if topic not in ("order.created", "order.updated", "order.restored"):
        return Nothing(f"topic {topic or '(none)'} is not used")
    status = _text(payload, "status")
    if status in WOOCOMMERCE_NOT_ORDERS:
        return Nothing(f"order status {status}")
    return woocommerce_order(payload)


def woocommerce_order(payload: dict) -> OrderIn:
    """Our order id is the order's number (what the customer sees; a plugin may make it
    differ from the id). The *_gmt times are UTC, written without an offset."""
    placed_at = _woocommerce_moment(payload, "date_created_gmt")
    delivered_at = None
    if _text(payload, "status") == "completed":
        field = (
            "date_completed_gmt" if _value(payload, "date_completed_gmt") else "date_modified_gmt"
        )
        delivered_at = _woocommerce_moment(payload, field)
        _parsed(field, ingest.check_delivery, placed_at, delivered_at=delivered_at)
    record = OrderRecord(
        order_id=_parsed("number", ingest.parse_order_id, _text(payload, "number")),
        customer_email=_first_email(payload, ("billing.email",)),
        customer_name=_name(
            payload,
            ("billing.first_name", "billing.last_name"),
            ("shipping.first_name", "shipping.last_name"),
        ),
        placed_at=placed_at,
        delivered_at=delivered_at,
        items=_items(payload, fallbacks=("variation_id", "product_id")),
        locale=None,
        time_zone=None,
        consent=None,
        channel="woocommerce",
    )
    return OrderIn(record=record, platform_order_id=_platform_id(payload))


def _woocommerce_moment(payload: dict, field: str) -> datetime:
    value = _text(payload, field)
    if value and not re.search(r"(Z|[+-]\d\d:\d\d)$", value):
        value += "+00:00"
    return _parsed(field, ingest.parse_datetime, value)


# The platforms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    name: str  # a ShopPlatform value
    label: str
    setting: str  # the name of the setting that holds its shared secret
    signature_header: str
    delivery_header: str
    topic_header: str
    change: Callable[[str, dict], Change]


SHOPIFY = Platform(
    name=ShopPlatform.SHOPIFY,
    label="Shopify",
    setting="SHOPIFY_WEBHOOK_SECRET",
    signature_header="X-Shopify-Hmac-Sha256",
    delivery_header="X-Shopify-Webhook-Id",
    topic_header="X-Shopify-Topic",
    change=shopify_change,
)
WOOCOMMERCE = Platform(
    name=ShopPlatform.WOOCOMMERCE,
    label="WooCommerce",
    setting="WOOCOMMERCE_WEBHOOK_SECRET",
    signature_header="X-WC-Webhook-Signature",
    delivery_header="X-WC-Webhook-Delivery-ID",
    topic_header="X-WC-Webhook-Topic",
    change=woocommerce_change,
)
