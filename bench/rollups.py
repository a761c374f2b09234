"""The dashboard on its daily rollups (issue 18), at two sizes, under load, and their cost.

- rollup_dashboard_365d_vs_raw_sql (target <= 0.05): the dashboard view's 365-day time
  (in-process, as bench.dashboard measures it) against the raw SQL of the same figures
  over the raw rows (tests/dashboard_oracle.py, the property test's oracle: the queries
  the dashboard ran before the rollups), captured and replayed with a raw cursor,
  interleaved round by round; at the larger size.
- rollup_dashboard_10x_vs_1x (target <= 1.3): the same view at ten times the rows.
- mixed_customer_p95_vs_customer_only (target <= 2.0): under gunicorn (4 workers, 4
  clients at once), the customer page's p95 when one request in ten is the 365-day
  dashboard, against its p95 when all requests are customer pages.
- answer_post_rollups_vs_without_p50 (target <= 1.5): the first answer POST under
  gunicorn with the rollups kept, against the same POST on a second server started with
  the bench-only switch BENCH_ROLLUPS_OFF=1 (bench/urls.py: response_submit without
  rollups_tracked), the two interleaved request by request against one database.

Sizes: BENCH_ROLLUP_RESPONSES responses at 1x (default 100,000, so the 10x data set is a
million and `make bench` stays short); BENCH_ROLLUP_RESPONSES=1000000 gives the issue's
ten million at 10x (kept across runs in its own database; loading takes long). Each data
set is bench.dashboard's generator (1.2 orders and invitations per response, 60 SKUs,
two years) plus its rollup rows, built by one INSERT ... SELECT ... GROUP BY here; the
run checks the last ten days of them with `reconcile_rollups` and prints the result.
"""

import os
import statistics
import threading
import time
from collections.abc import Mapping

import psycopg

from bench import common, customer_page, dashboard

RESPONSES = int(os.environ.get("BENCH_ROLLUP_RESPONSES", "100000"))
ROUNDS = 7
LOAD_CLIENTS, LOAD_REQUESTS, LOAD_WORKERS = 4, 300, 4
POST_ROUNDS, POST_WARMUP = 200, 20
DASHBOARD_PATH = "/staff/?period=365"


# --- inside Django (via bench.call) ------------------------------------------------------


def measure_vs_raw(rounds: str) -> dict[str, object]:
    """Median ms of the 365-day view and of the raw-row SQL of the same figures."""
    from django.db import connection
    from django.utils import timezone

    from feedback.views.staff_dashboard import DashboardFilterForm, dashboard_page
    from tests.dashboard_oracle import raw_figures

    request = dashboard._request("period=365")
    form = DashboardFilterForm({"period": "365"})
    assert form.is_valid()
    filters = form.filters(timezone.now())

    def view() -> None:
        if dashboard_page(request).status_code != 200:
            raise RuntimeError("the dashboard did not answer 200")

    view()
    statements = dashboard._captured(lambda: raw_figures(filters))

    def raw() -> None:
        with connection.cursor() as cursor:
            for query, params in statements:
                cursor.execute(query, params)
                cursor.fetchall()

    samples: dict[str, list[float]] = {"view": [], "raw": []}
    for number in range(int(rounds)):
        order = (("view", view), ("raw", raw))
        for name, call in order if number % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {**samples, "queries": len(statements)}


def staff_cookie() -> str:
    """A signed-in superuser's session cookie, for the dashboard under gunicorn."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    user, _created = User.objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- the data sets -----------------------------------------------------------------------

COUNTS = [
    "sent",
    "responded",
    "declined",
    "snoozed",
    "stopped",
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
    "nps_answers",
    "promoters",
    "detractors",
    "followups_open",
    "followups_resolved",
    "send_failed",
    "send_unknown",
]
REASONS = [
    "opted_out",
    "no_consent",
    "cooldown",
    "sampled_out",
    "daily_cap",
    "no_email",
    "policy_off",
    "expired",
    "suppressed",
    "undeliverable",
]
FIGURES = COUNTS + [f"suppressed_{reason}" for reason in REASONS]
DIMENSIONS = "o.channel, c.locale, s.sku"
FROM_INVITATION = """
    FROM feedback_invitation AS v
    JOIN feedback_order AS o ON o.id = v.order_id
    JOIN feedback_customer AS c ON c.id = v.customer_id
    JOIN skus AS s ON s.order_id = v.order_id
"""
# What each invitation counts for, and on which day (feedback.services.rollups._figures).
PARTS = [
    (
        "(v.sent_at AT TIME ZONE 'UTC')::date",
        {
            "sent": "1",
            "responded": "(v.responded_at IS NOT NULL)::int",
            "declined": "(v.declined_at IS NOT NULL)::int",
            "snoozed": "(v.snooze_count > 0)::int",
            "stopped": "coalesce((c.invitations_stopped_at >= v.sent_at)::int, 0)",
        },
        FROM_INVITATION + " WHERE v.sent_at IS NOT NULL",
    ),
    (
        "(v.due_at AT TIME ZONE 'UTC')::date",
        {
            "send_failed": "(v.state = 'send_failed')::int",
            "send_unknown": "(v.state = 'send_unknown')::int",
            **{
                f"suppressed_{reason}": f"(v.suppression_reason = '{reason}')::int"
                for reason in REASONS
            },
        },
        FROM_INVITATION + " WHERE v.state IN ('suppressed', 'send_failed', 'send_unknown')",
    ),
    (
        "(r.submitted_at AT TIME ZONE 'UTC')::date",
        {
            **{f"r{n}": f"(r.rating = {n})::int" for n in range(1, 6)},
            "nps_answers": "(r.nps IS NOT NULL)::int",
            "promoters": "coalesce((r.nps >= 9)::int, 0)",
            "detractors": "coalesce((r.nps <= 6)::int, 0)",
            "followups_open": "(r.contact_requested AND f.status = 'open')::int",
            "followups_resolved": "coalesce((r.contact_requested AND f.status = 'resolved'"
            " AND f.resolved_at IS NOT NULL)::int, 0)",
        },
        FROM_INVITATION
        + " JOIN feedback_response AS r ON r.invitation_id = v.id"
        + " LEFT JOIN feedback_followup AS f ON f.response_id = r.id",
    ),
]


def _part(day: str, figures: dict[str, str], source: str) -> str:
    columns = ", ".join(f"coalesce({figures.get(name, '0')}, 0) AS {name}" for name in FIGURES)
    return f"SELECT {day} AS day, {DIMENSIONS}, {columns} {source}"


ROLLUP_STATEMENTS = [
    f"""
    INSERT INTO feedback_dailyfigures (day, channel, locale, sku, name, {", ".join(FIGURES)})
    WITH skus AS (
        SELECT id AS order_id, '' AS sku FROM feedback_order
        UNION ALL
        SELECT DISTINCT order_id, sku FROM feedback_orderitem
    )
    SELECT day, channel, locale, sku, '', {", ".join(f"sum({name})" for name in FIGURES)}
    FROM ({" UNION ALL ".join(_part(*part) for part in PARTS)}) AS counted
    GROUP BY day, channel, locale, sku
    """,
    """
    UPDATE feedback_dailyfigures AS d SET name = n.name
    FROM (SELECT sku, max(name) AS name FROM feedback_orderitem GROUP BY sku) AS n
    WHERE d.sku = n.sku
    """,
]


def _sizes(responses: int) -> dict[str, int]:
    return {"responses": responses, "orders": responses * 6 // 5, "customers": responses // 5}


def _prepared(responses: int) -> dict[str, str]:
    size = _sizes(responses)

    def is_loaded(conn: psycopg.Connection) -> bool:
        # The generated rows only: the customer-page seeds and the answer POSTs add theirs.
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM feedback_invitation WHERE id <= %(orders)s),"
            " (SELECT count(*) FROM feedback_response WHERE invitation_id <= %(orders)s),"
            " (SELECT count(*) > 0 FROM feedback_dailyfigures)",
            size,
        ).fetchone()
        return counts == (size["orders"], responses, True)

    def load(conn: psycopg.Connection) -> None:
        params = {
            "now": conn.execute("SELECT now()").fetchone()[0],
            "customers": size["customers"],
            "orders": size["orders"],
            "skus": dashboard.SKUS,
            "days": dashboard.HISTORY_DAYS,
        }
        tables = [*dashboard.TABLES, "feedback_dailyfigures"]
        common.load_generated(conn, tables, dashboard.STATEMENTS + ROLLUP_STATEMENTS, params)

    return common.dataset_env(
        f"feedback_bench_rollups_{responses}", is_loaded, load, f"{responses:,} responses"
    )


def _reconciled(env: Mapping[str, str]) -> str:
    """The last line of reconcile_rollups over the last ten days (0 differences expected)."""
    from datetime import date, timedelta

    first = date.today() - timedelta(days=9)
    out = common.run_python(["manage.py", "reconcile_rollups", "--from", str(first)], env)
    return out.strip().splitlines()[-1]


# --- the benchmark -----------------------------------------------------------------------


def run() -> list[common.Result]:
    small_env, large_env = _prepared(RESPONSES), _prepared(RESPONSES * 10)
    common.info(f"rollups, 10x: {_reconciled(large_env)}")
    small = common.call_in_django(f"{__name__}:measure_vs_raw", str(ROUNDS), env=small_env)
    large = common.call_in_django(f"{__name__}:measure_vs_raw", str(ROUNDS), env=large_env)
    view_1x, view_10x = common.p50(small["view"]), common.p50(large["view"])
    raw_10x = common.p50(large["raw"])
    n = f"{RESPONSES * 10:,}"
    return [
        common.Result(
            "rollup_dashboard_365d_vs_raw_sql",
            view_10x / raw_10x,
            f"{n} responses: view {view_10x:.0f} ms vs raw rows' SQL ({large['queries']} "
            f"queries) {raw_10x:.0f} ms, median of {ROUNDS}",
        ),
        common.Result(
            "rollup_dashboard_10x_vs_1x",
            view_10x / view_1x,
            f"{n} responses {view_10x:.0f} ms vs {RESPONSES:,} {view_1x:.0f} ms; spread "
            f"{statistics.pstdev(large['view']):.0f} / {statistics.pstdev(small['view']):.0f} ms",
        ),
        _mixed_load(small_env),
        _answer_post(small_env),
    ]


def _mixed_load(env: dict[str, str]) -> common.Result:
    token = common.call_in_django("bench.customer_page:seed", env=env)
    cookie = common.call_in_django(f"{__name__}:staff_cookie", env=env)
    page = f"/f/{token}/"
    with common.gunicorn(ready_path=page, workers=LOAD_WORKERS, env=env) as port:
        common.measure(
            port,
            {"page": page, "dashboard": DASHBOARD_PATH},
            rounds=5,
            warmup=5,
            headers={"Cookie": cookie},
        )
        alone = _load(port, page, None, cookie)
        mixed = _load(port, page, DASHBOARD_PATH, cookie)
    p95_alone, p95_mixed = _p95(alone["page"]), _p95(mixed["page"])
    detail = (
        f"{RESPONSES:,} responses, {LOAD_WORKERS} workers, {LOAD_CLIENTS} clients: customer "
        f"p95 {p95_mixed:.1f} ms with dashboards vs {p95_alone:.1f} ms without; dashboard "
        f"p50 {common.p50(mixed['dashboard']):.0f} ms; n={len(mixed['page'])}"
    )
    return common.Result("mixed_customer_p95_vs_customer_only", p95_mixed / p95_alone, detail)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _load(port: int, page: str, dashboard_path: str | None, cookie: str) -> dict[str, list]:
    """LOAD_CLIENTS clients at once, each LOAD_REQUESTS requests; with `dashboard_path`,
    every tenth request of each is the dashboard (staggered across clients)."""
    samples: dict[str, list[float]] = {"page": [], "dashboard": []}
    lock = threading.Lock()

    def client(number: int) -> None:
        conn = common.http.client.HTTPConnection(common.HOST, port, timeout=60)
        for i in range(LOAD_REQUESTS):
            is_dashboard = dashboard_path is not None and (i + number * 3) % 10 == 0
            path = dashboard_path if is_dashboard else page
            elapsed = common._timed_get(conn, path, {"Cookie": cookie})
            with lock:
                samples["dashboard" if is_dashboard else "page"].append(elapsed)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def _answer_post(env: dict[str, str]) -> common.Result:
    token = common.call_in_django("bench.customer_page:seed", env=env)
    links = common.call_in_django(
        "bench.customer_page:seed_unanswered", str(2 * (POST_WARMUP + POST_ROUNDS)), env=env
    )
    page = f"/f/{token}/"
    half = len(links) // 2
    off_env = {**env, "BENCH_ROLLUPS_OFF": "1"}
    with (
        common.gunicorn(ready_path=page, env=env) as on_port,
        common.gunicorn(ready_path=page, env=off_env) as off_port,
    ):
        on, off = _posts(
            {on_port: links[:half], off_port: links[half:]}, page, order=(on_port, off_port)
        )
    on_p50, off_p50 = common.p50(on), common.p50(off)
    detail = (
        f"{RESPONSES:,} responses: p50 {on_p50:.1f} ms with rollups vs {off_p50:.1f} ms "
        f"without (BENCH_ROLLUPS_OFF=1); p90 {common.p90(on):.1f} vs {common.p90(off):.1f} ms; "
        f"n={len(on)} each"
    )
    return common.Result("answer_post_rollups_vs_without_p50", on_p50 / off_p50, detail)


def _posts(
    links: dict[int, list[str]], page: str, order: tuple[int, int]
) -> tuple[list[float], list[float]]:
    """A first answer POST on each link, alternating between the two servers (and which
    goes first) request by request; as bench.customer_page.measure_posts does it."""
    import re
    from urllib.parse import urlencode

    forms = {}
    for port in order:
        html, cookie = customer_page._first_visit(port, page)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        body = urlencode({"csrfmiddlewaretoken": csrf, "action": "send", "rating": "4"})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn = common.http.client.HTTPConnection(common.HOST, port, timeout=10)
        forms[port] = (conn, body, headers)
    samples: dict[int, list[float]] = {port: [] for port in order}
    for number in range(len(links[order[0]])):
        for port in order if number % 2 == 0 else order[::-1]:
            conn, body, headers = forms[port]
            link = f"/f/{links[port][number]}/"
            elapsed = customer_page._timed(conn, "POST", link, body, headers, expect=302)
            if number >= POST_WARMUP:
                samples[port].append(elapsed)
    for conn, _body, _headers in forms.values():
        conn.close()
    return samples[order[0]], samples[order[1]]
