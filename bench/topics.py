"""Comment search and the topics panel against the same questions asked by scanning.

- comment_search_recent_vs_ilike / comment_search_rare_vs_ilike: the search selector
  (full-text, GIN indexes, highlighted) for the newest 51 comments of the last 365 days
  with "leaks" (frequent lately) and with "cracked" (a few, half a year ago), against the
  same query with `comment ILIKE '%leak%'` (target <= 0.1).
- topics_panel_90d_vs_scan: the topics panel of 90 days (rising terms overall and per
  product, read from the per-day counts) against PostgreSQL computing the words of the same
  comments, both periods, by scanning them (ts_stat over to_tsvector; fewer terms than the
  panel, no phrases: generous to the scan) (target <= 0.1).

The data set, kept in its own database per size: BENCH_TOPICS_RESPONSES answers (default
20,000 for `make bench`), one order and invitation each, over the two years before it was
loaded; six in ten have a comment, built from a few dozen sentences in English and Spanish
(their customer's language); for the last 30 days the glass kettle's comments talk about
leaks. The per-day counts are built by `manage.py topics_rebuild`, as after an import.
"""

import os
import statistics
import subprocess
import sys
import time

import psycopg

from bench import common

RESPONSES = int(os.environ.get("BENCH_TOPICS_RESPONSES", "20000"))
DATABASE = f"feedback_bench_topics_{RESPONSES}"
SKUS = 20
HISTORY_DAYS = 730
ROUNDS = int(os.environ.get("BENCH_TOPICS_ROUNDS", "15"))

# fmt: off
ENGLISH = [
    "Arrived quickly and well packed.", "Exactly as described, thank you!",
    "Lovely quality, I will order again.", "The beans were fresh and the coffee tastes great.",
    "Easy ordering and fast delivery.", "Very happy with my order.",
    "Good product, but delivery took longer than expected.", "Fine overall, nothing special.",
    "Does the job. Far too much packaging, though.", "The colour is different from the photo.",
    "It arrived damaged.", "Not what I expected from the description.",
    "Part of the order was missing.", "Wrong item in the box.",
    "The parcel arrived four days late.", "The courier left the parcel outside in the rain.",
    "Great grinder, consistent grind size.", "The filters fit my dripper perfectly.",
    "Nice mugs, a bit smaller than I thought.", "The scale is accurate and the timer helps.",
]
SPANISH = [
    "Llegó rápido y bien embalado.", "Tal como se describe, ¡gracias!",
    "Muy buena calidad, volveré a comprar.", "El café estaba fresquísimo, buenísimo.",
    "Pedido fácil y entrega rápida.", "Todo perfecto, muy contentos con el pedido.",
    "Buen producto, pero la entrega tardó más de lo previsto.", "Bien en general, sin más.",
    "Cumple. Demasiado embalaje, eso sí.", "Llegó dañado.",
    "Faltaba parte del pedido.", "El paquete llegó con cuatro días de retraso.",
]
LEAKS_EN = ["The kettle lid leaks when I pour.", "New kettle, and the lid leaks already."]
LEAKS_ES = ["La tapa del hervidor tiene fugas.", "El hervidor gotea por la tapa."]
# fmt: on
RARE = "The glass cracked after a week."


def _array(sentences: list[str]) -> str:
    quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sentences)
    return f"ARRAY[{quoted}]"


# Answer i: delivered (i / N) of the way through the history; about 40% Spanish.
STATEMENTS = [
    """
    INSERT INTO feedback_customer
        (id, email, name, locale, time_zone, consent, created_at, updated_at)
    SELECT i, 'topics-' || i || '@example.com', 'Customer ' || i,
           CASE WHEN (i / 7) %% 5 < 2 THEN 'es' ELSE 'en' END, 'Europe/Madrid', 'unknown',
           %(now)s, %(now)s
    FROM generate_series(1, %(n)s) AS i
    """,
    """
    INSERT INTO feedback_order
        (id, external_id, customer_id, placed_at, delivered_at, channel, created_at,
         updated_at)
    SELECT i, 'TOP-' || i, i, d - interval '3 days', d, 'web', d, d
    FROM generate_series(1, %(n)s) AS i,
         LATERAL (SELECT %(now)s - interval '2 days'
                  - (%(n)s - i) * (%(days)s * interval '1 day') / %(n)s AS d) AS t
    """,
    # Product 1 is the glass kettle; a second item for one order in three.
    """
    INSERT INTO feedback_orderitem (order_id, sku, name, quantity)
    SELECT i, 'SKU-' || lpad((1 + (i * 31) %% %(skus)s)::text, 2, '0'),
           'Product ' || (1 + (i * 31) %% %(skus)s), 1
    FROM generate_series(1, %(n)s) AS i
    UNION ALL
    SELECT i, 'SKU-' || lpad((1 + (i * 17 + 5) %% %(skus)s)::text, 2, '0'),
           'Product ' || (1 + (i * 17 + 5) %% %(skus)s), 1
    FROM generate_series(3, %(n)s, 3) AS i
    WHERE (i * 17 + 5) %% %(skus)s <> (i * 31) %% %(skus)s
    """,
    """
    INSERT INTO feedback_invitation
        (id, order_id, customer_id, state, suppression_reason, due_at, expires_at, sent_at,
         token_nonce, send_attempts, last_error, snooze_count, responded_at, created_at,
         updated_at)
    SELECT o.id, o.id, o.customer_id, 'responded', '', o.delivered_at,
           o.delivered_at + interval '30 days', o.delivered_at, '', 1, '', 0,
           o.delivered_at + interval '1 day', o.delivered_at, o.delivered_at
    FROM feedback_order AS o
    """,
    f"""
    INSERT INTO feedback_response
        (id, invitation_id, rating, comment, contact_requested, quote_allowed, submitted_at,
         language)
    SELECT v.id, v.id, 1 + (v.id * 37) %% 5,
           CASE
               WHEN v.id %% 10 >= 6 THEN ''
               WHEN leaky AND c.locale = 'es' THEN ({_array(LEAKS_ES)})[1 + v.id %% 2]
               WHEN leaky THEN ({_array(LEAKS_EN)})[1 + v.id %% 2]
               WHEN v.responded_at BETWEEN %(now)s - interval '200 days'
                                       AND %(now)s - interval '190 days'
                    AND v.id %% 7 = 0 THEN '{RARE}'
               WHEN c.locale = 'es'
               THEN ({_array(SPANISH)})[1 + (v.id * 7) %% {len(SPANISH)}] || ' '
                    || ({_array(SPANISH)})[1 + (v.id * 13) %% {len(SPANISH)}]
               ELSE ({_array(ENGLISH)})[1 + (v.id * 7) %% {len(ENGLISH)}] || ' '
                    || ({_array(ENGLISH)})[1 + (v.id * 13) %% {len(ENGLISH)}]
           END,
           false, false, v.responded_at, c.locale
    FROM feedback_invitation AS v
    JOIN feedback_customer AS c ON c.id = v.customer_id
    CROSS JOIN LATERAL (
        SELECT v.responded_at > %(now)s - interval '30 days' AND EXISTS (
            SELECT 1 FROM feedback_orderitem AS item
            WHERE item.order_id = v.order_id AND item.sku = 'SKU-01'
        ) AS leaky
    ) AS k
    """,
]
TABLES = [
    "feedback_customer",
    "feedback_order",
    "feedback_orderitem",
    "feedback_invitation",
    "feedback_response",
]


def _is_loaded(conn: psycopg.Connection) -> bool:
    answers = conn.execute("SELECT count(*) FROM feedback_response").fetchone()[0]
    counted = conn.execute("SELECT count(*) FROM feedback_topiccount").fetchone()[0]
    return answers == RESPONSES and counted > 0


def _load(conn: psycopg.Connection) -> None:
    params = {
        "now": conn.execute("SELECT now()").fetchone()[0],
        "n": RESPONSES,
        "skus": SKUS,
        "days": HISTORY_DAYS,
    }
    common.load_generated(conn, TABLES, STATEMENTS, params)


def prepared_env() -> dict[str, str]:
    env = common.dataset_env(DATABASE, lambda conn: _answers_loaded(conn), _load, "answers")
    with common.connect(env) as conn:
        if not _is_loaded(conn):
            start = time.monotonic()
            # Longer than common.run_python allows: it reads every comment once.
            subprocess.run(
                [sys.executable, "manage.py", "topics_rebuild"],
                cwd=common.BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
            )
            conn.execute("VACUUM ANALYZE feedback_topiccount, feedback_topicword")
            common.info(f"built the topic counts in {time.monotonic() - start:.0f}s")
    return env


def _answers_loaded(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM feedback_response").fetchone()[0] == RESPONSES


# --- inside Django (via bench.call) ------------------------------------------------------

ILIKE_SQL = """
SELECT id, comment FROM feedback_response
WHERE submitted_at >= %s AND submitted_at < %s AND comment ILIKE %s
ORDER BY submitted_at DESC, id DESC
LIMIT 51
"""

SCAN_SQL = """
SELECT word, ndoc FROM ts_stat($$
    SELECT to_tsvector(CASE WHEN r.language = 'es' THEN 'spanish' ELSE 'english' END::regconfig,
                       r.comment)
    FROM feedback_response r
    WHERE r.submitted_at >= '{start}' AND r.submitted_at < '{end}' AND r.comment <> ''
$$) WHERE ndoc >= 5
"""


def _timed(call: object, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def measure_search(words: str, pattern: str, rounds: str) -> dict[str, object]:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from feedback.selectors.dashboard import Filters
    from feedback.selectors.search import comment_search

    now = timezone.now()
    filters = Filters(now - timedelta(days=365), now)
    found = comment_search(filters, words)

    def search() -> None:
        comment_search(filters, words)

    def ilike() -> None:
        with connection.cursor() as cursor:
            cursor.execute(ILIKE_SQL, [filters.start, filters.end, pattern])
            cursor.fetchall()

    search(), ilike()  # warm
    samples: dict[str, list[float]] = {"search": [], "ilike": []}
    for round_number in range(int(rounds)):
        pairs = (("search", search), ("ilike", ilike))
        for name, call in pairs if round_number % 2 == 0 else pairs[::-1]:
            samples[name] += _timed(call, 1)
    return {**samples, "hits": len(found.hits)}


def measure_topics(days: str, rounds: str) -> dict[str, object]:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from feedback.selectors.dashboard import Filters
    from feedback.selectors.topics import topics_panel

    now = timezone.now()
    filters = Filters(now - timedelta(days=int(days)), now)
    panel = topics_panel(filters)
    scan_sql = SCAN_SQL.format(start=now - timedelta(days=2 * int(days)), end=now)

    def topics() -> None:
        topics_panel(filters)

    def scan() -> None:
        with connection.cursor() as cursor:
            cursor.execute(scan_sql)
            cursor.fetchall()

    topics(), scan()
    samples: dict[str, list[float]] = {"topics": [], "scan": []}
    for round_number in range(int(rounds)):
        pairs = (("topics", topics), ("scan", scan))
        for name, call in pairs if round_number % 2 == 0 else pairs[::-1]:
            samples[name] += _timed(call, 1)
    shown = [t.written for t in panel.topics]
    return {**samples, "shown": shown, "comments": panel.comments}


# --- the benchmark -----------------------------------------------------------------------


def run() -> list[common.Result]:
    env = prepared_env()
    results = []
    size = f"{RESPONSES:,} answers"
    for name, words, pattern in (
        ("recent", "leaks", "%leak%"),
        ("rare", "cracked", "%crack%"),
    ):
        measured = common.call_in_django(
            f"{__name__}:measure_search", words, pattern, str(ROUNDS), env=env
        )
        search_ms, ilike_ms = common.p50(measured["search"]), common.p50(measured["ilike"])
        detail = (
            f"{size}, 365 days, {measured['hits']} shown: search {search_ms:.1f} ms vs ILIKE "
            f"{ilike_ms:.1f} ms, p50 of {ROUNDS}"
        )
        results.append(
            common.Result(f"comment_search_{name}_vs_ilike", search_ms / ilike_ms, detail)
        )
    measured = common.call_in_django(f"{__name__}:measure_topics", "90", str(ROUNDS), env=env)
    topics_ms, scan_ms = common.p50(measured["topics"]), common.p50(measured["scan"])
    detail = (
        f"{size}, 90 days ({measured['comments']:,} comments) and the 90 before: panel "
        f"{topics_ms:.1f} ms vs scan {scan_ms:.1f} ms, p50 of {ROUNDS}; spread panel "
        f"{statistics.pstdev(measured['topics']):.1f} ms; top: {', '.join(measured['shown'][:4])}"
    )
    results.append(common.Result("topics_panel_90d_vs_scan", topics_ms / scan_ms, detail))
    return results
