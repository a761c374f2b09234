"""Orders per second through POST /api/v1/orders (lists of 100 new orders, half of them
delivered, so customers, items and invitations are all written) against a bare view in
the same gunicorn that only parses the same JSON body."""

import http.client
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bench import common

NAME = "api_orders_per_second_vs_bare"
API_PATH = "/api/v1/orders"
BARE_PATH = "/bench/bare-json/"
ORDERS_PER_REQUEST = 100
# Returning customers: each has several orders over the run, with the same details.
CUSTOMERS = 5000
# As many clients as gunicorn workers: both keep every worker busy.
CLIENTS = 2
ROUNDS = 5
SECONDS_PER_ROUND = 2.0


def seed() -> str:
    """Runs inside Django (via bench.call): a fresh API token; returns its secret."""
    from feedback.services import api_tokens

    return api_tokens.api_token_create(name="bench", created_by=None)[1]


class Orders:
    """Request bodies of new orders: ids unique to this run, customers reused across them."""

    def __init__(self) -> None:
        self.run = secrets.token_hex(4)
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        now = datetime.now(UTC)
        self.placed_at = (now - timedelta(days=10)).isoformat()
        self.delivered_at = (now - timedelta(days=2)).isoformat()

    def body(self) -> bytes:
        with self.lock:
            numbers = [next(self.numbers) for _ in range(ORDERS_PER_REQUEST)]
        return json.dumps([self.order(n) for n in numbers]).encode()

    def order(self, n: int) -> dict:
        customer = n % CUSTOMERS
        return {
            "order_id": f"BENCH-API-{self.run}-{n}",
            "customer_email": f"api-customer-{customer}@bench.example",
            "customer_name": f"Customer {customer}",
            "placed_at": self.placed_at,
            "delivered_at": self.delivered_at if n % 2 else None,
            "items": [
                {"sku": f"SKU-{n % 40}", "name": "Walnut desk lamp", "quantity": 1},
                {"sku": "SKU-SHADE", "name": "Linen lampshade", "quantity": 2},
            ],
            "locale": "es" if customer % 3 == 0 else "en",
            "timezone": "Europe/Madrid",
            "consent": "yes",
            "channel": "bench",
        }


def _client(port: int, path: str, body: Callable[[], bytes], headers: dict, until: float) -> int:
    """Post bodies one after another until the deadline; the number of orders sent."""
    conn = http.client.HTTPConnection(common.HOST, port, timeout=60)
    sent = 0
    try:
        while time.perf_counter() < until:
            conn.request("POST", path, body=body(), headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200 or json.loads(answer)["received"] != ORDERS_PER_REQUEST:
                raise RuntimeError(f"POST {path} answered {response.status}: {answer[:300]!r}")
            sent += ORDERS_PER_REQUEST
    finally:
        conn.close()
    return sent


def _orders_per_second(port: int, path: str, body: Callable[[], bytes], headers: dict) -> tuple:
    start = time.perf_counter()
    until = start + SECONDS_PER_ROUND
    with ThreadPoolExecutor(CLIENTS) as pool:
        sent = sum(pool.map(lambda _: _client(port, path, body, headers, until), range(CLIENTS)))
    return sent, time.perf_counter() - start


def run() -> list[common.Result]:
    secret = common.call_in_django("bench.api_orders:seed")
    orders = Orders()
    bare_body = orders.body()  # the same size and shape; the bare view stores nothing
    api_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}
    bare_headers = {"Content-Type": "application/json"}
    totals = {"api": [0, 0.0], "bare": [0, 0.0]}
    with common.gunicorn(ready_path="/bench/bare/") as port:
        # Warm up both (connections, imports, caches), then alternate so drift hits both.
        _client(port, API_PATH, orders.body, api_headers, time.perf_counter() + 1)
        _client(port, BARE_PATH, lambda: bare_body, bare_headers, time.perf_counter() + 1)
        for round_number in range(ROUNDS):
            kinds = ["api", "bare"] if round_number % 2 == 0 else ["bare", "api"]
            for kind in kinds:
                if kind == "api":
                    sent, seconds = _orders_per_second(port, API_PATH, orders.body, api_headers)
                else:
                    sent, seconds = _orders_per_second(
                        port, BARE_PATH, lambda: bare_body, bare_headers
                    )
                totals[kind][0] += sent
                totals[kind][1] += seconds
    api = totals["api"][0] / totals["api"][1]
    bare = totals["bare"][0] / totals["bare"][1]
    detail = (
        f"api {api:,.0f} orders/s, bare {bare:,.0f} orders/s; lists of {ORDERS_PER_REQUEST}, "
        f"{CLIENTS} clients, gunicorn 2 workers, {totals['api'][0]:,} orders through the API"
    )
    return [common.Result(NAME, api / bare, detail)]
