"""Reads for the staff dashboard: every figure is a SQL aggregate, never a loop over rows.

Which date each figure hangs on:
- invitations sent, the response rate and the declines, snoozes and stops: invitations
  *sent* in the period (a cohort), so "responses / sent" counts the answers to those sends;
- ratings, CSAT, NPS, per product and comments: responses *submitted* in the period;
- suppressed, send failed, send unknown: invitations that were *due* in the period;
- open contact requests: none; the whole contact queue now, the number its page shows.

A period is whole days in the current time zone; its weeks run Monday to Sunday, and the
first and last may be partial (each Week knows its days in the period).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import dateformat, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from feedback import states
from feedback.models import Invitation, InvitationPolicy, Order, OrderItem, Response
from feedback.selectors.contacts import FollowUpStats, followup_stats

State = Invitation.State
Reason = Invitation.Reason

# Below this many answers a product's figures are noise: the page says so.
SMALL_SAMPLE = 30
LATEST_COMMENTS = 10
PRODUCTS_SHOWN = 50

DEFINITIONS = {
    "sent": _("Invitation emails accepted by the mail server in the period."),
    "response_rate": _(
        "Responses to the invitations sent in the period ÷ those invitations; "
        "the newest can still be answered while their link is valid."
    ),
    "csat": _("Share of ratings submitted in the period that are 4 or 5 stars."),
    "average": _("Mean star rating (1–5) of the responses submitted in the period."),
    "distribution": _("How many responses submitted in the period gave each star rating."),
    "nps": _("Of the 0-10 answers submitted in the period: % 9–10 minus % 0–6."),
    "declines": _("'No thanks' on invitations sent in the period, per 1,000 sent."),
    "snoozes": _("'Ask me later' on invitations sent in the period, per 1,000 sent."),
    "stops": _(
        "Invitations sent in the period whose customer then stopped all invitations, "
        "per 1,000 sent."
    ),
    "suppressed": _("Invitations due in the period that a rule kept from being sent, by rule."),
    "send_failed": _("Invitations due in the period that the mail server refused (not delivered)."),
    "send_unknown": _(
        "Invitations due in the period whose send was interrupted: delivery "
        "unknown, never retried automatically; a human should look."
    ),
    "followups": _(
        "Open: the whole contact queue now, the count its page shows. Asked in "
        "this period: requests made with the responses submitted in the period (and channel "
        "and product)."
    ),
    "products": format_lazy(
        _(
            "Responses submitted in the period, by product in the order; an order with "
            "several products counts for each. Fewer than {small} answers: a small sample."
        ),
        small=SMALL_SAMPLE,
    ),
    "weekly": _(
        "Per week (Monday to Sunday): invitations sent and their response rate, and the "
        "CSAT of the ratings submitted that week. A week cut by the start or the end of the "
        "period is partial and shows its number of days, e.g. “(3 d)”: fewer days, so fewer "
        "invitations and answers."
    ),
    "comments": _("The newest comments submitted in the period."),
}


@dataclass(frozen=True)
class Filters:
    start: datetime
    end: datetime  # exclusive
    channel: str = ""
    sku: str = ""


@dataclass(frozen=True)
class Week:
    start: date  # its Monday
    first: date  # its first day in the period
    last: date  # its last day in the period
    sent: int
    response_rate: float | None
    ratings: int
    csat: float | None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def partial(self) -> bool:
        return self.days < 7

    @property
    def dates(self) -> str:
        return day_range(self.first, self.last)

    @property
    def label(self) -> str:
        """For a chart: its first day in the period, and its days when it is partial."""
        first = dateformat.format(self.first, "j M")
        return f"{first} ({self.days} d)" if self.partial else first


def day_range(first: date, last: date) -> str:
    """The days from first to last, both included, e.g. "24 Nov", a dash, "30 Nov 2026"."""
    opening = "j M" if first.year == last.year else "j M Y"
    return f"{dateformat.format(first, opening)} – {dateformat.format(last, 'j M Y')}"


def period_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and the last day of [start, end), in the current time zone."""
    return (
        timezone.localtime(start).date(),
        timezone.localtime(end - timedelta(microseconds=1)).date(),
    )


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    n: int
    csat: float | None
    average: float | None

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE


@dataclass
class Figures:
    sent: int
    responded: int
    response_rate: float | None
    ratings: int
    csat: float | None
    average: float | None
    distribution: list[tuple[int, int, float | None]]  # (stars, count, share)
    nps_enabled: bool
    nps_answers: int
    nps: float | None
    declines: int
    snoozes: int
    stops: int
    declines_per_1000: float | None
    snoozes_per_1000: float | None
    stops_per_1000: float | None
    suppressed: list[tuple[str, int]]  # (reason label, count), most first
    suppressed_total: int
    send_failed: int
    send_unknown: int
    weeks: list[Week]
    products: list[Product]
    comments: list[Response]
    followups: FollowUpStats
    contact_queue: FollowUpStats
    definitions: dict[str, str] = field(default_factory=lambda: DEFINITIONS)


def ratio(part: int, whole: int, scale: float = 1.0) -> float | None:
    """part / whole * scale; None (shown as "—") when there is nothing to divide by."""
    return part * scale / whole if whole else None


def channel_choices() -> list[str]:
    """Distinct order channels, for the filter."""
    rows = Order.objects.exclude(channel="").values_list("channel", flat=True).distinct()
    return sorted(rows)


# Filtered base querysets


def _narrowed(rows: QuerySet, filters: Filters, order: str) -> QuerySet:
    """Rows whose order (reached by the `order` path) is in the channel and has the SKU."""
    if filters.channel:
        rows = rows.filter(**{f"{order}__channel": filters.channel})
    if filters.sku:
        # EXISTS rather than a join: an order listing the SKU twice still counts once.
        items = OrderItem.objects.filter(order=OuterRef(f"{order}_id"), sku=filters.sku)
        rows = rows.filter(Exists(items))
    return rows


def invitations(filters: Filters) -> QuerySet[Invitation]:
    return _narrowed(Invitation.objects.all(), filters, "order")


def responses(filters: Filters) -> QuerySet[Response]:
    """Responses submitted in the period, narrowed by channel and product."""
    rows = Response.objects.filter(submitted_at__gte=filters.start, submitted_at__lt=filters.end)
    return _narrowed(rows, filters, "invitation__order")


def sent_in_period(filters: Filters) -> QuerySet[Invitation]:
    return invitations(filters).filter(sent_at__gte=filters.start, sent_at__lt=filters.end)


# The figures


def dashboard_figures(filters: Filters) -> Figures:
    """Every figure of the dashboard, in a fixed number of queries whatever the row count.

    One query per date a figure hangs on gives both the weekly trend and, summed over its
    few weeks, the period's totals: the chart and the headline figures always agree.
    """
    sends_by_week = _sends_by_week(filters)
    answers_by_week = _answers_by_week(filters)
    cohort, ratings = _totals(sends_by_week), _totals(answers_by_week)
    stops = _stops(filters)
    not_sent = _not_sent(filters)
    sent, answered = cohort["sent"], ratings["n"]
    return Figures(
        sent=sent,
        responded=cohort["responded"],
        response_rate=ratio(cohort["responded"], sent),
        ratings=answered,
        csat=ratio(ratings["csat"], answered),
        average=ratio(ratings["stars"], answered),
        distribution=[
            (stars, ratings[f"r{stars}"], ratio(ratings[f"r{stars}"], answered))
            for stars in range(1, 6)
        ],
        nps_enabled=InvitationPolicy.live().nps_enabled or bool(ratings["nps_n"]),
        nps_answers=ratings["nps_n"],
        nps=ratio(ratings["promoters"] - ratings["detractors"], ratings["nps_n"], 100),
        declines=cohort["declined"],
        snoozes=cohort["snoozed"],
        stops=stops,
        declines_per_1000=ratio(cohort["declined"], sent, 1000),
        snoozes_per_1000=ratio(cohort["snoozed"], sent, 1000),
        stops_per_1000=ratio(stops, sent, 1000),
        suppressed=not_sent["suppressed"],
        suppressed_total=sum(count for _label, count in not_sent["suppressed"]),
        send_failed=not_sent[State.SEND_FAILED],
        send_unknown=not_sent[State.SEND_UNKNOWN],
        weeks=_weeks(filters, sends_by_week, answers_by_week),
        products=_products(filters),
        comments=_comments(filters),
        followups=followup_stats(responses=responses(filters)),
        contact_queue=followup_stats(),
    )


Weekly = dict[date, dict[str, int]]
SENDS = ("sent", "responded", "declined", "snoozed")
ANSWERS = ("n", "csat", "stars", "nps_n", "promoters", "detractors", "r1", "r2", "r3", "r4", "r5")


def _by_week(rows: QuerySet) -> Weekly:
    return {_day(row.pop("week")): row for row in rows}


def _sends_by_week(filters: Filters) -> Weekly:
    """One query: per week, the invitations sent and what their customers did."""
    return _by_week(
        sent_in_period(filters)
        .annotate(week=TruncWeek("sent_at"))
        .values("week")
        .annotate(
            sent=Count("pk"),
            responded=Count("pk", filter=Q(responded_at__isnull=False)),
            declined=Count("pk", filter=Q(declined_at__isnull=False)),
            snoozed=Count("pk", filter=Q(snooze_count__gt=0)),
        )
        .order_by()
    )


def _answers_by_week(filters: Filters) -> Weekly:
    """One query: per week, the star ratings and the 0-10 answers submitted."""
    stars = {f"r{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)}
    return _by_week(
        responses(filters)
        .annotate(week=TruncWeek("submitted_at"))
        .values("week")
        .annotate(
            n=Count("pk"),
            csat=Count("pk", filter=Q(rating__gte=4)),
            stars=Sum("rating"),
            nps_n=Count("pk", filter=Q(nps__isnull=False)),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            **stars,
        )
        .order_by()
    )


def _totals(weekly: Weekly) -> Counter[str]:
    """The period's totals: the sums of its weeks (at most 53 aggregate rows)."""
    totals: Counter[str] = Counter()
    for row in weekly.values():
        totals.update(row)
    return totals


def _stops(filters: Filters) -> int:
    """One query: of the invitations sent in the period, those whose customer then stopped
    all invitations. Apart from the weekly sends, so it starts from the few who stopped
    (a partial index) rather than joining every customer."""
    stopped = Q(customer__invitations_stopped_at__isnull=False)
    after = Q(customer__invitations_stopped_at__gte=F("sent_at"))
    return sent_in_period(filters).filter(stopped, after).count()


def _not_sent(filters: Filters) -> dict[str, object]:
    """One query: invitations due in the period that were not sent, by state and reason."""
    rows = (
        invitations(filters)
        .filter(due_at__gte=filters.start, due_at__lt=filters.end, state__in=states.NOT_SENT)
        .values_list("state", "suppression_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    result: dict[str, object] = {State.SEND_FAILED: 0, State.SEND_UNKNOWN: 0}
    suppressed = []
    # At most a dozen aggregate rows: one per state and reason.
    for state, reason, n in rows:
        if state == State.SUPPRESSED:
            suppressed.append((Reason(reason).label if reason in Reason.values else reason, n))
        else:
            result[state] = n
    result["suppressed"] = sorted(suppressed, key=lambda pair: (-pair[1], pair[0]))
    return result


def _weeks(filters: Filters, sends: Weekly, answers: Weekly) -> list[Week]:
    """Every week the period touches, also the empty ones (shown as 0 and "—"), with the
    days of each that the period covers."""
    first, last = period_days(filters.start, filters.end)
    weeks = []
    for start in week_starts(filters.start, filters.end):
        s = sends.get(start, dict.fromkeys(SENDS, 0))
        a = answers.get(start, dict.fromkeys(ANSWERS, 0))
        weeks.append(
            Week(
                start,
                max(start, first),
                min(start + timedelta(days=6), last),
                s["sent"],
                ratio(s["responded"], s["sent"]),
                a["n"],
                ratio(a["csat"], a["n"]),
            )
        )
    return weeks


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def week_starts(start: datetime, end: datetime) -> list[date]:
    """The Mondays of the weeks the period touches, in the current time zone."""
    first, last = period_days(start, end)
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


# The ORM would reach the items through the orders table (response -> invitation -> order
# -> item); joining items on the invitation's order_id skips a join over every order,
# about a third of this query's time on a million rows. The inner query is the ORM's own
# (with every filter), so only table and column names are written here.
PRODUCTS_SQL = """
SELECT item.sku, MAX(item.name), COUNT(*),
       SUM(CASE WHEN answer.rating >= 4 THEN 1 ELSE 0 END), AVG(answer.rating)
FROM ({answers}) answer
JOIN feedback_orderitem item ON item.order_id = answer.order_ref
GROUP BY item.sku
ORDER BY COUNT(*) DESC, item.sku
LIMIT %s
"""


def _products(filters: Filters) -> list[Product]:
    """One query: responses per product in the order, with their CSAT and average."""
    answers = responses(filters).values("rating", order_ref=F("invitation__order_id"))
    inner, params = answers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(PRODUCTS_SQL.format(answers=inner), [*params, PRODUCTS_SHOWN])
        rows = cursor.fetchall()
    return [
        Product(sku, name, n, ratio(csat, n), float(average))
        for sku, name, n, csat, average in rows
    ]


def _comments(filters: Filters) -> list[Response]:
    return list(
        responses(filters)
        .exclude(comment="")
        .select_related("invitation__order", "follow_up")
        .order_by("-submitted_at", "-pk")[:LATEST_COMMENTS]
    )
