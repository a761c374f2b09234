"""The customer feedback page's GET (/f/<token>/) against a bare template, same server."""

import http.client
import re
import time
from urllib.parse import urlencode

from bench import common

NAME = "customer_page_get_vs_bare_p50"
POST_NAME = "feedback_post_vs_bare_get_p50"
EDIT_NAME = "feedback_edit_post_vs_bare_get_p50"
BARE_PATH = "/bench/bare/"
POST_ROUNDS, POST_WARMUP = 300, 20


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


def seed_unanswered(count: str) -> list[str]:
    """Runs inside Django: `count` sent, unanswered invitations, each on an order of its
    own; returns their link tokens. The previous run's are deleted first."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from feedback import tokens
    from feedback.models import Customer, Invitation, Order

    now = timezone.now()
    nonces = [tokens.new_nonce() for _ in range(int(count))]
    with transaction.atomic():
        customer = Customer.objects.get(email="bench-customer@example.com")
        Order.objects.filter(external_id__startswith="BENCH-ANSWER-").delete()
        orders = Order.objects.bulk_create(
            Order(
                external_id=f"BENCH-ANSWER-{number}",
                customer=customer,
                placed_at=now - timedelta(days=10),
                delivered_at=now - timedelta(days=7),
                channel="bench",
            )
            for number in range(len(nonces))
        )
        Invitation.objects.bulk_create(
            Invitation(
                order=order,
                customer=customer,
                state=Invitation.State.SENT,
                due_at=now,
                sent_at=now,
                expires_at=now + timedelta(days=30),
                token_nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for(nonce)),
            )
            for order, nonce in zip(orders, nonces, strict=True)
        )
    return [tokens.token_for(nonce) for nonce in nonces]


def run() -> list[common.Result]:
    token = common.call_in_django("bench.customer_page:seed")
    assert isinstance(token, str)
    unanswered = common.call_in_django(
        "bench.customer_page:seed_unanswered", str(POST_WARMUP + POST_ROUNDS)
    )
    paths = {"page": f"/f/{token}/", "bare": BARE_PATH}
    with common.gunicorn(ready_path=paths["page"]) as port:
        # A customer's browser sends back the CSRF cookie the page set: both paths get it.
        cookie = _first_visit(port, paths["page"])[1]
        samples = common.measure(port, paths, headers={"Cookie": cookie})
        posts = measure_posts(port, paths["page"], [f"/f/{t}/" for t in unanswered])
    page, bare = samples["page"], samples["bare"]
    return [
        common.Result(NAME, common.p50(page) / common.p50(bare), _detail(page, bare)),
        _ratio(POST_NAME, posts["answer"], posts["bare"]),
        _ratio(EDIT_NAME, posts["edit"], posts["bare"]),
    ]


def _ratio(name: str, measured: list[float], bare: list[float]) -> common.Result:
    return common.Result(name, common.p50(measured) / common.p50(bare), _detail(measured, bare))


def _detail(page: list[float], bare: list[float]) -> str:
    return (
        f"page {common.p50(page):.1f} ms, bare {common.p50(bare):.1f} ms; "
        f"p90 page {common.p90(page):.1f} ms, bare {common.p90(bare):.1f} ms; "
        f"n={len(page)} each"
    )


def measure_posts(port: int, path: str, unanswered: list[str]) -> dict[str, list[float]]:
    """Feedback POSTs against the bare GET, interleaved: a first answer on each link of
    `unanswered` (what customers do), and an edit of the answer on `path`."""
    html, cookie = _first_visit(port, path)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = http.client.HTTPConnection(common.HOST, port, timeout=10)
    body = urlencode({"csrfmiddlewaretoken": csrf, "action": "send", "rating": "4"})
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    samples: dict[str, list[float]] = {"answer": [], "edit": [], "bare": []}
    for round_number, link in enumerate(unanswered):
        timed = {
            "answer": _timed(form, "POST", link, body, headers, expect=302),
            "edit": _timed(form, "POST", path, body, headers, expect=302),
            "bare": _timed(form, "GET", BARE_PATH, None, {}, expect=200),
        }
        if round_number >= POST_WARMUP:
            for name, elapsed_ms in timed.items():
                samples[name].append(elapsed_ms)
    form.close()
    return samples


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
