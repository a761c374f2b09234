"""The customer feedback page's GET (/f/<token>/) against a bare template, same server."""

from bench import common

NAME = "customer_page_get_vs_bare_p50"
BARE_PATH = "/bench/bare/"


def seed() -> str:
    """Runs inside Django (via bench.call): one sent invitation; returns its link token.

    Idempotent: re-running refreshes the same rows with a new nonce, because each run has
    a new SECRET_KEY and the token is an HMAC with it.
    """
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from feedback import tokens
    from feedback.models import Customer, Invitation, Order, OrderItem

    now = timezone.now()
    nonce = tokens.new_nonce()
    with transaction.atomic():
        customer, _created = Customer.objects.update_or_create(
            email="bench-customer@example.com", defaults={"name": "Bench Customer"}
        )
        order, _created = Order.objects.update_or_create(
            external_id="BENCH-CUSTOMER-PAGE",
            defaults={
                "customer": customer,
                "placed_at": now - timedelta(days=10),
                "delivered_at": now - timedelta(days=7),
                "channel": "bench",
            },
        )
        order.items.all().delete()
        OrderItem.objects.bulk_create(
            [
                OrderItem(order=order, sku="BENCH-1", name="Walnut desk lamp", quantity=1),
                OrderItem(order=order, sku="BENCH-2", name="Linen lampshade", quantity=2),
            ]
        )
        Invitation.objects.update_or_create(
            order=order,
            defaults={
                "customer": customer,
                "state": Invitation.State.SENT,
                "suppression_reason": "",
                "due_at": now,
                "sent_at": now,
                "expires_at": now + timedelta(days=30),
                "token_nonce": nonce,
                "token_hash": tokens.token_hash(tokens.token_for(nonce)),
            },
        )
    return tokens.token_for(nonce)


def run() -> list[common.Result]:
    token = common.call_in_django("bench.customer_page:seed")
    assert isinstance(token, str)
    paths = {"page": f"/f/{token}/", "bare": BARE_PATH}
    with common.gunicorn(ready_path=paths["page"]) as port:
        samples = common.measure(port, paths)
    page, bare = samples["page"], samples["bare"]
    detail = (
        f"page {common.p50(page):.1f} ms, bare {common.p50(bare):.1f} ms; "
        f"p90 page {common.p90(page):.1f} ms, bare {common.p90(bare):.1f} ms; "
        f"n={len(page)} each"
    )
    return [common.Result(NAME, common.p50(page) / common.p50(bare), detail)]
