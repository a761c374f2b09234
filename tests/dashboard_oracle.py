"""The dashboard's figures computed the old way, by scanning the raw rows: the oracle the
rollups are checked against (tests/test_rollups_properties.py). Not a production path.

Its SQL is the dashboard's before the rollups (one aggregate per date a figure hangs on),
with two rules the rollups made explicit: an order listing a product twice counts once
for it, and with a product filter the products table shows that product alone.
"""

from collections import Counter
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback import states
from feedback.models import Invitation, OrderItem, Response
from feedback.selectors.contacts import followup_stats
from feedback.selectors.dashboard import (
    PRODUCTS_SHOWN,
    Filters,
    period_days,
    ratio,
    week_starts,
)

State = Invitation.State
Reason = Invitation.Reason


def _narrowed(rows: QuerySet, filters: Filters, order: str) -> QuerySet:
    if filters.channel:
        rows = rows.filter(**{f"{order}__channel": filters.channel})
    if filters.sku:
        items = OrderItem.objects.filter(order=OuterRef(f"{order}_id"), sku=filters.sku)
        rows = rows.filter(Exists(items))
    return rows


def _responses(filters: Filters) -> QuerySet[Response]:
    rows = Response.objects.filter(submitted_at__gte=filters.start, submitted_at__lt=filters.end)
    return _narrowed(rows, filters, "invitation__order")


def _sent(filters: Filters) -> QuerySet[Invitation]:
    rows = Invitation.objects.filter(sent_at__gte=filters.start, sent_at__lt=filters.end)
    return _narrowed(rows, filters, "order")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def raw_figures(filters: Filters) -> dict[str, object]:
    """Every figure the dashboard shows, from the raw rows, as plain comparable values."""
    tz = timezone.get_current_timezone()
    sends = (
        _sent(filters)
        .annotate(day=TruncDate("sent_at", tzinfo=tz))
        .values("day")
        .annotate(
            sent=Count("pk"),
            responded=Count("pk", filter=Q(responded_at__isnull=False)),
            declined=Count("pk", filter=Q(declined_at__isnull=False)),
            snoozed=Count("pk", filter=Q(snooze_count__gt=0)),
        )
        .order_by()
    )
    answers = (
        _responses(filters)
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day")
        .annotate(
            n=Count("pk"),
            csat=Count("pk", filter=Q(rating__gte=4)),
            stars=Sum("rating"),
            nps_n=Count("pk", filter=Q(nps__isnull=False)),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            **{f"r{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)},
        )
        .order_by()
    )
    weekly_sends: dict[date, Counter] = {}
    weekly_answers: dict[date, Counter] = {}
    cohort: Counter = Counter()
    ratings: Counter = Counter()
    for row in sends:
        day = row.pop("day")
        weekly_sends.setdefault(_monday(day), Counter()).update(row)
        cohort.update(row)
    for row in answers:
        day = row.pop("day")
        weekly_answers.setdefault(_monday(day), Counter()).update(row)
        ratings.update(row)
    stopped = Q(customer__invitations_stopped_at__isnull=False)
    after = Q(customer__invitations_stopped_at__gte=F("sent_at"))
    stops = _sent(filters).filter(stopped, after).count()
    not_sent = _not_sent(filters)
    sent, n = cohort["sent"], ratings["n"]
    follow_ups = followup_stats(responses=_responses(filters))
    first, last = period_days(filters.start, filters.end)
    return {
        "sent": sent,
        "responded": cohort["responded"],
        "response_rate": ratio(cohort["responded"], sent),
        "ratings": n,
        "csat": ratio(ratings["csat"], n),
        "average": ratio(ratings["stars"] or 0, n),
        "distribution": [(s, ratings[f"r{s}"], ratio(ratings[f"r{s}"], n)) for s in range(1, 6)],
        "nps_answers": ratings["nps_n"],
        "nps": ratio(ratings["promoters"] - ratings["detractors"], ratings["nps_n"], 100),
        "declines": cohort["declined"],
        "snoozes": cohort["snoozed"],
        "stops": stops,
        "declines_per_1000": ratio(cohort["declined"], sent, 1000),
        "snoozes_per_1000": ratio(cohort["snoozed"], sent, 1000),
        "stops_per_1000": ratio(stops, sent, 1000),
        "suppressed": not_sent["suppressed"],
        "suppressed_total": sum(count for _label, count in not_sent["suppressed"]),
        "send_failed": not_sent[State.SEND_FAILED],
        "send_unknown": not_sent[State.SEND_UNKNOWN],
        "weeks": [
            _week(start, first, last, weekly_sends.get(start), weekly_answers.get(start))
            for start in week_starts(filters.start, filters.end)
        ],
        "products": _products(filters),
        "followups": (follow_ups.open, follow_ups.resolved, follow_ups.median_time_to_resolve),
    }


def _week(start: date, first: date, last: date, s: Counter | None, a: Counter | None) -> tuple:
    s, a = s or Counter(), a or Counter()
    return (
        start,
        max(start, first),
        min(start + timedelta(days=6), last),
        s["sent"],
        ratio(s["responded"], s["sent"]),
        a["n"],
        ratio(a["csat"], a["n"]),
    )


def _not_sent(filters: Filters) -> dict[str, object]:
    rows = (
        _narrowed(Invitation.objects.all(), filters, "order")
        .filter(due_at__gte=filters.start, due_at__lt=filters.end, state__in=states.NOT_SENT)
        .values_list("state", "suppression_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    result: dict[str, object] = {State.SEND_FAILED: 0, State.SEND_UNKNOWN: 0}
    suppressed = []
    for state, reason, n in rows:
        if state == State.SUPPRESSED:
            suppressed.append((Reason(reason).label, n))
        else:
            result[state] = n
    result["suppressed"] = sorted(suppressed, key=lambda pair: (-pair[1], str(pair[0])))
    return result


def _products(filters: Filters) -> list[tuple]:
    """Per product in the answered orders, one SQL aggregate; a product listed twice in
    an order counts once (COUNT DISTINCT of the answer)."""
    sku = "invitation__order__items__sku"
    once = {f"r{n}": Count("pk", distinct=True, filter=Q(rating=n)) for n in range(1, 6)}
    # One filter() call: one join of the items, the one grouped by.
    product = {sku: filters.sku} if filters.sku else {f"{sku}__isnull": False}
    rows = _responses(filters).filter(**product)
    rows = (
        rows.values(sku)
        .annotate(n=Count("pk", distinct=True), **once)
        .order_by("-n", sku)[:PRODUCTS_SHOWN]
    )
    return [
        (
            row[sku],
            row["n"],
            ratio(row["r4"] + row["r5"], row["n"]),
            ratio(sum(k * row[f"r{k}"] for k in range(1, 6)), row["n"]),
        )
        for row in rows
    ]
