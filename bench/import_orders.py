"""`manage.py import_orders` against a raw bulk_create of the same rows, and its memory.

Throughput: the import of a 100,000-row CSV (validation, upsert, invitations for the
delivered orders, in batches of 1,000) against the least a Django program can do with the
same file: parse it and bulk_create its customers, orders and items. Both run as a
process of their own on the same freshly truncated database, alternately, best of
ROUNDS; the ratio is import rows/s over bulk_create rows/s (target >= 0.3).

Memory: the import's peak RSS (the child's own, from wait4) for 100,000 rows over that
for 10,000 (target <= 1.5): the file is streamed, so only the per-order-id duplicate check
grows with it (16 bytes an order).
"""

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench import common

DATABASE = "feedback_bench_import"
LARGE, SMALL = 100_000, 10_000
ROUNDS = 2  # even
HEADER = [
    "order_id",
    "customer_email",
    "customer_name",
    "placed_at",
    "delivered_at",
    "items",
    "locale",
    "timezone",
    "consent",
]
ZONES = ["Europe/Madrid", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]


# --- the files ---------------------------------------------------------------------------


def write_csv(path: Path, rows: int) -> None:
    """rows orders by rows/3 customers; seven in ten delivered; one to three items each."""
    rng = random.Random(rows)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            customer = rng.randrange(max(rows // 3, 1))
            placed = start + timedelta(minutes=n)
            delivered = placed + timedelta(days=rng.randint(1, 5)) if rng.random() < 0.7 else None
            items = ";".join(
                f"SKU-{rng.randrange(200):03d}|Product {rng.randrange(200)}, boxed|"
                f"{rng.randint(1, 3)}"
                for _ in range(rng.randint(1, 3))
            )
            writer.writerow(
                [
                    f"B-{n:07d}",
                    f"customer{customer}@example.com",
                    f"Customer {customer}",
                    placed.isoformat(),
                    delivered.isoformat() if delivered else "",
                    items,
                    "es" if customer % 4 == 0 else "en",
                    ZONES[customer % len(ZONES)],
                    ["yes", "no", ""][customer % 3],
                ]
            )


# --- inside Django (via bench.call): the baseline ----------------------------------------


def bulk_create(path: str) -> dict[str, float]:
    """Parse the file and bulk_create its rows: no validation, no upsert, no invitations."""
    from django.db import transaction

    from feedback.models import Customer, Order, OrderItem

    with open(path, newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    consent = {"yes": "given", "no": "not_given", "": "unknown"}
    with transaction.atomic():
        customers = {}
        for row in rows:
            customers.setdefault(
                row["customer_email"],
                Customer(
                    email=row["customer_email"],
                    name=row["customer_name"],
                    locale=row["locale"],
                    time_zone=row["timezone"],
                    consent=consent[row["consent"]],
                ),
            )
        Customer.objects.bulk_create(customers.values(), batch_size=1000)
        orders = [
            Order(
                external_id=row["order_id"],
                customer=customers[row["customer_email"]],
                placed_at=datetime.fromisoformat(row["placed_at"]),
                delivered_at=datetime.fromisoformat(row["delivered_at"])
                if row["delivered_at"]
                else None,
            )
            for row in rows
        ]
        Order.objects.bulk_create(orders, batch_size=1000)
        items = [
            OrderItem(order=order, sku=sku, name=name, quantity=int(quantity))
            for order, row in zip(orders, rows, strict=True)
            for sku, name, quantity in (item.split("|") for item in row["items"].split(";"))
        ]
        OrderItem.objects.bulk_create(items, batch_size=1000)
    return {"orders": Order.objects.count()}


# --- the runs ----------------------------------------------------------------------------


def _truncate(env: Mapping[str, str]) -> None:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            "TRUNCATE feedback_customer, feedback_order, feedback_orderitem, "
            "feedback_invitation RESTART IDENTITY CASCADE"
        )
        conn.execute("VACUUM ANALYZE feedback_customer, feedback_order, feedback_orderitem")


def _count_orders(env: Mapping[str, str]) -> int:
    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM feedback_order").fetchone()[0]


def run_import(path: Path, env: Mapping[str, str]) -> tuple[float, int, str]:
    """Seconds, peak RSS in KiB and the summary line of one `manage.py import_orders`."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "import_orders", str(path)],
            cwd=common.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log = common.tail(out)
    if process.returncode != 0:
        raise RuntimeError(f"import_orders failed:\n{log}")
    return elapsed, usage.ru_maxrss, log.strip().splitlines()[-1]


def run_bulk_create(path: Path, env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    common.call_in_django(f"{__name__}:bulk_create", str(path), env=env)
    return time.perf_counter() - start


def run() -> list[common.Result]:
    env = dict(common.bench_env_for(DATABASE))
    with tempfile.TemporaryDirectory() as folder:
        files = {size: Path(folder) / f"orders-{size}.csv" for size in (LARGE, SMALL)}
        for size, path in files.items():
            write_csv(path, size)
        imports, bulks, peaks = [], [], {LARGE: [], SMALL: []}
        # Alternating which goes first; the last round (ROUNDS is even) ends with an
        # import, which the re-import after the loop then meets.
        for round_number in range(ROUNDS):
            _truncate(env)
            peaks[SMALL].append(run_import(files[SMALL], env)[1])
            for kind in ("bulk", "import") if round_number % 2 else ("import", "bulk"):
                _truncate(env)
                if kind == "bulk":
                    bulks.append(run_bulk_create(files[LARGE], env))
                    continue
                seconds, peak, summary = run_import(files[LARGE], env)
                if _count_orders(env) != LARGE or f"created {LARGE}," not in summary:
                    raise RuntimeError(f"the import did not create {LARGE} orders: {summary}")
                imports.append(seconds)
                peaks[LARGE].append(peak)
        # The same file again: everything unchanged, nothing written.
        again, _peak, again_summary = run_import(files[LARGE], env)
        _truncate(env)
    best_import, best_bulk = min(imports), min(bulks)
    peak_large, peak_small = max(peaks[LARGE]), max(peaks[SMALL])
    return [
        common.Result(
            "import_throughput_vs_bulk_create",
            best_bulk / best_import,
            f"{LARGE / best_import:,.0f} vs {LARGE / best_bulk:,.0f} rows/s, best of {ROUNDS}, "
            f"process start included; the import also validates and schedules 70% "
            f"delivered orders' invitations; re-import {LARGE / again:,.0f} rows/s "
            f"({again_summary.removeprefix('import_orders: ')})",
        ),
        common.Result(
            "import_peak_memory_100k_vs_10k",
            peak_large / peak_small,
            f"peak RSS {peak_large / 1024:.0f} MiB vs {peak_small / 1024:.0f} MiB",
        ),
    ]
