"""Signed deliveries as Shopify and WooCommerce send them, for the webhook tests.

The fixtures in tests/fixtures/ are shaped as each platform documents its payloads
(Shopify's REST Admin order, fulfillment and fulfillment event webhooks; WooCommerce's
REST API v3 order object). The signature is computed here, apart from the code under
test: base64 of the HMAC-SHA256 of the raw body with the shared secret.
"""

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOPIFY_SECRET = "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"
WOOCOMMERCE_SECRET = "x9$Kq&r2!wc-webhook-secret"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body_of(payload: dict | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(topic: str, body: bytes, webhook_id: str, signature: str | None) -> dict:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, body) if signature is None else signature,
        "X-Shopify-Shop-Domain": "tostadero-lumen.myshopify.com",
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": "2026-11-23T11:41:08.118912Z",
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def woocommerce_headers(topic: str, body: bytes, delivery_id: str, signature: str | None) -> dict:
    resource, _, event = topic.partition(".")
    return {
        "X-WC-Webhook-Source": "https://tostadero-lumen.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(WOOCOMMERCE_SECRET, body)
        if signature is None
        else signature,
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


def shopify_post(
    client: object,
    topic: str,
    payload: dict | bytes,
    *,
    webhook_id: str | None = None,
    signature: str | None = None,
) -> object:
    body = body_of(payload)
    headers = shopify_headers(topic, body, webhook_id or str(uuid.uuid4()), signature)
    return client.post("/webhooks/shopify", body, content_type="application/json", headers=headers)


def woocommerce_post(
    client: object,
    topic: str,
    payload: dict | bytes,
    *,
    delivery_id: str | None = None,
    signature: str | None = None,
) -> object:
    body = body_of(payload)
    headers = woocommerce_headers(topic, body, delivery_id or uuid.uuid4().hex, signature)
    return client.post(
        "/webhooks/woocommerce", body, content_type="application/json", headers=headers
    )
