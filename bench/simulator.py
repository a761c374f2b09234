"""The policy simulator replaying 100,000 delivered orders against 10,000: linear?

The simulator streams the period's orders (delivered_at order) and keeps each customer's
state in memory, so its time per order should not depend on the period's length. Both
periods come from one data set, generated in PostgreSQL and kept across runs: 100,000
orders delivered over 100 days (1,000 a day) to 40,000 customers in five time zones,
with every consent, opt-outs, missing emails, and 20,000 invitations sent before the
period (so cooldowns bite from day one). The replay is the page's and the command's work:
the live policy and a draft side by side, in one pass.
"""

import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench import common

NAME = "simulate_100k_vs_10k_per_order"
DATABASE = "feedback_bench_simulator"
ORDERS, CUSTOMERS, EARLIER_INVITATIONS = 100_000, 40_000, 20_000
PERIOD_DAYS = 100
PERIOD_START = datetime(2029, 1, 1, tzinfo=UTC)
SIZES = {100_000: PERIOD_DAYS, 10_000: PERIOD_DAYS // 10}  # orders -> days replayed
# Sizes alternate by round so load drifting during the run hits both alike.
ROUNDS = 3
REPETITIONS = 2


# --- inside Django (via bench.call) ------------------------------------------------------


def measure(days: str, repetitions: str) -> dict[str, object]:
    """Replay the first `days` days with the live policy and a draft: wall-clock and CPU
    seconds per repetition, after one unmeasured replay of the same period (imports,
    time-zone files, the allocator's arenas, PostgreSQL's buffers)."""
    from feedback.models import InvitationPolicy
    from feedback.rules import PolicyRules
    from feedback.selectors.simulator import simulate_many

    live = PolicyRules.from_policy(InvitationPolicy.live())
    draft = PolicyRules(customer_cooldown_days=30, daily_send_cap=800, consent_mode="opt_in")
    start = PERIOD_START.date()
    end = start + timedelta(days=int(days) - 1)
    simulate_many([live, draft], start, end)
    seconds, cpu, results = [], [], []
    for _ in range(int(repetitions)):
        began, began_cpu = time.perf_counter(), time.process_time()
        results = simulate_many([live, draft], start, end)
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    live_result, draft_result = results
    return {
        "seconds": seconds,
        "cpu": cpu,
        "orders": live_result.orders,
        "live_sends": live_result.would_send,
        "draft_sends": draft_result.would_send,
    }


# --- the data set ------------------------------------------------------------------------


def _is_loaded(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM feedback_order), "
        "(SELECT count(*) FROM feedback_invitation), (SELECT count(*) FROM feedback_customer)"
    ).fetchone()
    return row == (ORDERS + EARLIER_INVITATIONS, EARLIER_INVITATIONS, CUSTOMERS)


def _load(conn: psycopg.Connection) -> None:
    params = {
        "start": PERIOD_START,
        "orders": ORDERS,
        "customers": CUSTOMERS,
        "earlier": EARLIER_INVITATIONS,
        "spacing": timedelta(days=PERIOD_DAYS) / ORDERS,
    }
    common.load_generated(
        conn,
        ["feedback_customer", "feedback_order", "feedback_invitation"],
        [INSERT_CUSTOMERS, INSERT_ORDERS, INSERT_EARLIER],
        params,
    )


# One in 50 without email, one in 40 stopped all invitations; consent: one in 20 said no,
# one in 7 said yes, the rest unknown.
INSERT_CUSTOMERS = """
INSERT INTO feedback_customer
    (id, email, name, locale, time_zone, consent, invitations_stopped_at,
     created_at, updated_at)
SELECT i,
       CASE WHEN i %% 50 = 0 THEN '' ELSE 'sim-' || i || '@example.com' END,
       'Customer ' || i, 'en',
       (ARRAY['UTC', 'Europe/Madrid', 'America/New_York', 'Asia/Tokyo',
              'Australia/Sydney'])[1 + i %% 5],
       CASE WHEN i %% 20 = 0 THEN 'not_given' WHEN i %% 7 = 0 THEN 'given' ELSE 'unknown' END,
       CASE WHEN i %% 40 = 0 THEN %(start)s - interval '200 days' END,
       %(start)s, %(start)s
FROM generate_series(1, %(customers)s) AS i
"""

# The period's orders, one every 86.4 s, to customers scattered over the whole range.
INSERT_ORDERS = """
INSERT INTO feedback_order
    (id, external_id, customer_id, placed_at, delivered_at, channel, created_at, updated_at)
SELECT i, 'SIM-' || i, 1 + (i * 7919) %% %(customers)s,
       %(start)s + (i - 1) * %(spacing)s - interval '3 days',
       %(start)s + (i - 1) * %(spacing)s,
       (ARRAY['web', 'app', 'store'])[1 + i %% 3], %(start)s, %(start)s
FROM generate_series(1, %(orders)s) AS i
"""

# Earlier orders, each with its invitation sent 1 to 80 days before the period.
INSERT_EARLIER = """
WITH earlier AS (
    INSERT INTO feedback_order
        (id, external_id, customer_id, placed_at, delivered_at, channel,
         created_at, updated_at)
    SELECT %(orders)s + j, 'SIM-EARLIER-' || j, 1 + (j * 13) %% %(customers)s,
           %(start)s - (10 + j %% 80) * interval '1 day',
           %(start)s - (8 + j %% 80) * interval '1 day', 'web', %(start)s, %(start)s
    FROM generate_series(1, %(earlier)s) AS j
    RETURNING id, customer_id, delivered_at
)
INSERT INTO feedback_invitation
    (order_id, customer_id, state, suppression_reason, due_at, expires_at, sent_at,
     token_nonce, send_attempts, last_error, snooze_count, created_at, updated_at)
SELECT id, customer_id, 'sent', '', delivered_at + interval '7 days',
       delivered_at + interval '37 days', delivered_at + interval '7 days',
       '', 1, '', 0, %(start)s, %(start)s
FROM earlier
"""


def prepared_env() -> dict[str, str]:
    return common.dataset_env(DATABASE, _is_loaded, _load, f"{ORDERS:,} orders")


# --- the benchmark -----------------------------------------------------------------------


def run() -> list[common.Result]:
    env = prepared_env()
    seconds: dict[int, list[float]] = {size: [] for size in SIZES}
    cpu: dict[int, list[float]] = {size: [] for size in SIZES}
    orders: dict[int, int] = {}
    for round_number in range(ROUNDS):
        sizes = list(SIZES) if round_number % 2 == 0 else list(SIZES)[::-1]
        for size in sizes:
            result = common.call_in_django(
                f"{__name__}:measure", str(SIZES[size]), str(REPETITIONS), env=env
            )
            seconds[size] += result["seconds"]
            cpu[size] += result["cpu"]
            orders[size] = result["orders"]
    large, small = max(SIZES), min(SIZES)
    large_s, small_s = common.p50(seconds[large]), common.p50(seconds[small])
    per_order = {size: common.p50(seconds[size]) / orders[size] for size in SIZES}
    cpu_per_order = {size: common.p50(cpu[size]) / orders[size] for size in SIZES}
    detail = (
        f"{orders[large]:,} orders in {large_s:.2f} s ({orders[large] / large_s:,.0f}/s) vs "
        f"{orders[small]:,} in {small_s:.2f} s ({orders[small] / small_s:,.0f}/s), live and "
        f"draft policy in one pass, median of {len(seconds[large])}; CPU per order "
        f"{cpu_per_order[large] * 1e6:.0f} µs vs {cpu_per_order[small] * 1e6:.0f} µs"
    )
    return [common.Result(NAME, per_order[large] / per_order[small], detail)]
