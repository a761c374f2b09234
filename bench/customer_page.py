"""The customer feedback page's GET (/f/<token>/) against a bare template, same server."""

import http.client
import re
import time
from urllib.parse import urlencode

from bench import common

NAME = "customer_page_get_vs_bare_p50"
POST_NAME = "feedback_post_vs_bare_get_p50"
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
    from feedback.models import Customer, Invitation, Order, OrderItem, Response

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
        # An earlier run answered it (the POST benchmark): measure the page a customer
        # opening the invitation sees first.
        Response.objects.filter(invitation__order=order).delete()
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
        # A customer's browser sends back the CSRF cookie the page set: both paths get it.
        cookie = _first_visit(port, paths["page"])[1]
        samples = common.measure(port, paths, headers={"Cookie": cookie})
        posts, bare_for_posts = measure_posts(port, paths["page"])
    page, bare = samples["page"], samples["bare"]
    return [
        common.Result(NAME, common.p50(page) / common.p50(bare), _detail(page, bare)),
        common.Result(
            POST_NAME,
            common.p50(posts) / common.p50(bare_for_posts),
            _detail(posts, bare_for_posts),
        ),
    ]


def _detail(page: list[float], bare: list[float]) -> str:
    return (
        f"page {common.p50(page):.1f} ms, bare {common.p50(bare):.1f} ms; "
        f"p90 page {common.p90(page):.1f} ms, bare {common.p90(bare):.1f} ms; "
        f"n={len(page)} each"
    )


def measure_posts(port: int, path: str, rounds: int = 300) -> tuple[list[float], list[float]]:
    """The feedback POST (a real answer, then edits of it) against the bare GET, interleaved."""
    html, cookie = _first_visit(port, path)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = http.client.HTTPConnection(common.HOST, port, timeout=10)
    body = urlencode({"csrfmiddlewaretoken": csrf, "action": "send", "rating": "4"})
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    posts, bare = [], []
    for _ in range(rounds):
        posts.append(_timed(form, "POST", path, body, headers, expect=302))
        bare.append(_timed(form, "GET", BARE_PATH, None, {}, expect=200))
    form.close()
    return posts, bare


def _first_visit(port: int, path: str) -> tuple[str, str]:
    """The page's HTML and the cookie it set (the CSRF token's), as a browser keeps it."""
    conn = http.client.HTTPConnection(common.HOST, port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    html = response.read().decode()
    conn.close()
    return html, response.getheader("Set-Cookie", "").split(";")[0]


def _timed(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    *,
    expect: int,
) -> float:
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed_ms = (time.perf_counter() - start) * 1000
    if response.status != expect:
        raise RuntimeError(f"{method} {path} answered {response.status}")
    return elapsed_ms
