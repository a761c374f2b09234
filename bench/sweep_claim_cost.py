"""Claiming 1,000 due invitations among 1,000,000 not-due rows against among 10,000.

The sweep runs every minute over a table that only grows; the partial index
`invitation_due_idx` (due_at WHERE state = 'scheduled') should keep a claim O(due), not
O(all invitations). Each size lives in a database of its own, generated in PostgreSQL
and kept across runs (the 1M one takes a while to load); the bench common code drops
them when the migrations change.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from bench import common

NAME = "sweep_claim_1k_among_1m_vs_10k"
DUE = 1000
LARGE, SMALL = 1_000_000, 10_000
DATABASES = {LARGE: "feedback_bench_claim_1m", SMALL: "feedback_bench_claim_10k"}
# A fixed "now" for data and claims alike, so a data set loaded on another day is still
# valid: its due rows stay due and its future rows stay in the future.
REFERENCE_NOW = datetime(2030, 1, 1, tzinfo=UTC)
# Sizes alternate by round, so machine load that drifts during the run hits both alike;
# each round also drops one warm-up claim.
ROUNDS = 4
REPETITIONS = 5
# Ten orders per customer: a shop with repeat buyers (Invitation is one per order).
ORDERS_PER_CUSTOMER = 10


# --- inside Django (via bench.call) ------------------------------------------------------


def measure(now_iso: str, repetitions: str) -> dict[str, object]:
    """Time invitation_claim_due for the DUE rows, releasing them between repetitions;
    the first repetition warms the caches and is dropped. Also returns the claim
    SELECT's plan, as evidence of which index it walks."""
    from feedback.models import Invitation
    from feedback.services.invitations import invitation_claim_due

    now = datetime.fromisoformat(now_iso)
    due = Invitation.objects.filter(state="scheduled", due_at__lte=now)
    samples = []
    for _ in range(1 + int(repetitions)):
        due.update(claimed_until=None)
        start = time.perf_counter()
        claimed = invitation_claim_due(now=now, batch_size=DUE)
        samples.append((time.perf_counter() - start) * 1000)
        if len(claimed) != DUE:
            raise RuntimeError(f"claimed {len(claimed)} rows, expected {DUE}")
    due.update(claimed_until=None)
    return {"ms": samples[1:], "plan": _claim_plan(now)}


def _claim_plan(now: datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim's own SELECT, summed up. The SQL is
    captured from a real claim; both the claim and the EXPLAIN (which takes the row
    locks) are rolled back."""
    from django.db import connection, transaction

    from feedback.services.invitations import invitation_claim_due

    statements: list[tuple[str, object]] = []

    def capture(
        execute: Callable[..., object], query: str, params: object, many: bool, context: object
    ) -> object:
        statements.append((query, params))
        return execute(query, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(capture):
        invitation_claim_due(now=now, batch_size=DUE)
        transaction.set_rollback(True)
    query, params = next(s for s in statements if s[0].lstrip().upper().startswith("SELECT"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}", params)
        [[plan]] = cursor.fetchall()
        transaction.set_rollback(True)
    return _scan_summary(plan[0]["Plan"])


def _scan_summary(node: dict[str, object]) -> str:
    """The plan's scan node in a few words: which index, how many rows, how many pages."""
    while "Scan" not in node["Node Type"] and node.get("Plans"):
        node = node["Plans"][0]
    # A bitmap scan names its index one level down.
    index = node.get("Index Name") or node.get("Plans", [{}])[0].get("Index Name")
    where = f" using {index}" if index else ""
    pages = node["Shared Hit Blocks"] + node["Shared Read Blocks"]
    return (
        f"{node['Node Type']}{where}, {node['Actual Rows']} rows, {pages} pages, "
        f"{node['Actual Total Time']:.1f} ms"
    )


# --- the data sets -----------------------------------------------------------------------


def _is_loaded(conn: psycopg.Connection, filler: int) -> bool:
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE state = 'scheduled' AND due_at <= %s) "
        "FROM feedback_invitation",
        [REFERENCE_NOW],
    ).fetchone()
    return row == (filler + DUE, DUE)


def _load(conn: psycopg.Connection, filler: int) -> None:
    """filler not-due invitations, then DUE due ones (the newest rows, as in production).

    Not due: nine in ten are history (sent, expired, answered, suppressed) with a past
    due_at, the tenth is scheduled in the future. Set-based INSERT ... SELECT in one
    transaction: about half a minute for the million, where the ORM would take many.
    """
    total = filler + DUE
    customers = max(total // ORDERS_PER_CUSTOMER, 1)
    params = {"now": REFERENCE_NOW, "customers": customers, "total": total, "filler": filler}
    common.load_generated(
        conn,
        ["feedback_customer", "feedback_order", "feedback_invitation"],
        [INSERT_CUSTOMERS, INSERT_ORDERS, INSERT_INVITATIONS],
        params,
    )


INSERT_CUSTOMERS = """
INSERT INTO feedback_customer
    (id, email, name, locale, time_zone, consent, created_at, updated_at)
SELECT i, 'claim-' || i || '@example.com', '', 'en', 'UTC', 'unknown', %(now)s, %(now)s
FROM generate_series(1, %(customers)s) AS i
"""

INSERT_ORDERS = """
INSERT INTO feedback_order
    (id, external_id, customer_id, placed_at, delivered_at, channel, created_at, updated_at)
SELECT i, 'CLAIM-' || i, 1 + (i - 1) %% %(customers)s,
       %(now)s - interval '40 days', %(now)s - interval '37 days', '', %(now)s, %(now)s
FROM generate_series(1, %(total)s) AS i
"""

# i <= filler: not due (every tenth scheduled in the future, the rest history); after: due.
INSERT_INVITATIONS = """
INSERT INTO feedback_invitation
    (order_id, customer_id, state, suppression_reason, due_at, expires_at, sent_at,
     token_nonce, send_attempts, last_error, snooze_count, created_at, updated_at)
SELECT i, 1 + (i - 1) %% %(customers)s, v.state,
       CASE WHEN v.state = 'suppressed' THEN 'cooldown' ELSE '' END,
       v.due_at, v.due_at + interval '30 days',
       CASE WHEN v.state IN ('sent', 'expired', 'responded', 'declined') THEN v.due_at END,
       '', 0, '', 0, %(now)s, %(now)s
FROM generate_series(1, %(total)s) AS i
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN i > %(filler)s THEN 'scheduled'
             WHEN i %% 10 = 0 THEN 'scheduled'
             ELSE (ARRAY['sent', 'expired', 'responded', 'declined', 'suppressed'])[1 + i %% 5]
        END AS state,
        CASE WHEN i > %(filler)s THEN %(now)s - (i - %(filler)s) * interval '1 second'
             WHEN i %% 10 = 0 THEN %(now)s + (1 + i %% 365) * interval '1 day'
             ELSE %(now)s - (1 + i %% 730) * interval '1 day'
        END AS due_at
) AS v
"""


def prepared_env(filler: int) -> dict[str, str]:
    """The environment for the data set of this size: loaded if missing or incomplete,
    else vacuumed, so that the dead rows earlier runs left do not weigh on this one."""
    env = dict(common.bench_env_for(DATABASES[filler]))
    with common.connect(env) as conn:
        start = time.monotonic()
        if _is_loaded(conn, filler):
            conn.execute(
                "UPDATE feedback_invitation SET claimed_until = NULL "
                "WHERE claimed_until IS NOT NULL"
            )
            conn.execute("VACUUM ANALYZE feedback_invitation")
        else:
            _load(conn, filler)
            common.info(f"loaded {filler + DUE:,} invitations in {time.monotonic() - start:.0f}s")
    return env


# --- the benchmark -----------------------------------------------------------------------


def run() -> list[common.Result]:
    envs = {filler: prepared_env(filler) for filler in (LARGE, SMALL)}
    samples: dict[int, list[float]] = {LARGE: [], SMALL: []}
    plans: dict[int, str] = {}
    for round_number in range(ROUNDS):
        for filler in (LARGE, SMALL) if round_number % 2 == 0 else (SMALL, LARGE):
            result = common.call_in_django(
                f"{__name__}:measure",
                REFERENCE_NOW.isoformat(),
                str(REPETITIONS),
                env=envs[filler],
            )
            samples[filler] += result["ms"]
            plans[filler] = result["plan"]
    large_ms, small_ms = common.p50(samples[LARGE]), common.p50(samples[SMALL])
    detail = (
        f"{large_ms:.1f} ms vs {small_ms:.1f} ms, median of {len(samples[LARGE])}; "
        f"claim SELECT among 1M: {plans[LARGE]}; among 10k: {plans[SMALL]}"
    )
    return [common.Result(NAME, large_ms / small_ms, detail)]
