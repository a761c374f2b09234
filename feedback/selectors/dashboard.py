"""Reads for the staff dashboard: every count comes from the daily rollups (DailyFigures,
kept exact by feedback.services.rollups), never from scanning invitations and responses;
a year costs a few hundred summary rows, whatever the number of answers.

Which date each figure hangs on:
- invitations sent, the response rate and the declines, snoozes and stops: invitations
  *sent* in the period (a cohort), so "responses / sent" counts the answers to those sends,
  also the answers that came later (a late answer adds to the day its invitation was sent);
- ratings, CSAT, NPS, per product and contact requests: responses *submitted* in the period;
- suppressed, send failed, send unknown: invitations that were *due* in the period;
- open contact requests: none; the whole contact queue now, the number its page shows.

A period is whole days in TIME_ZONE; its weeks run Monday to Sunday, and the first and
last may be partial (each Week knows its days in the period). Each headline figure is
also given for the previous period: the same number of days just before.

Read from the raw rows, and small: the latest comments (the newest ten, by an index) and
the median time to resolve a contact request (a median does not add up across days).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Exists, F, Max, OuterRef, QuerySet, Sum
from django.utils import dateformat, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from feedback.models import DailyFigures, Invitation, InvitationPolicy, OrderItem, Response
from feedback.selectors.contacts import FollowUpStats, contact_requests, followup_stats
from feedback.services.rollups import COUNT_FIELDS, SUPPRESSED_FIELDS

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


@dataclass(frozen=True)
class Change:
    """A figure of the previous period (the same number of days just before) and how
    much the current one differs from it; None where either has nothing to divide by."""

    previous: float | None
    change: float | None


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
    previous_first: date | None = None
    previous_last: date | None = None
    # Headline figure name -> Change (see COMPARED).
    previous: dict[str, Change] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=lambda: DEFINITIONS)

    @property
    def previous_dates(self) -> str:
        return day_range(self.previous_first, self.previous_last) if self.previous_first else ""


# The headline figures shown beside their previous period.
COMPARED = (
    "sent",
    "response_rate",
    "ratings",
    "csat",
    "average",
    "nps",
    "declines_per_1000",
    "snoozes_per_1000",
    "stops_per_1000",
    "suppressed_total",
    "send_failed",
    "send_unknown",
    "followups_asked",
)


def ratio(part: int, whole: int, scale: float = 1.0) -> float | None:
    """part / whole * scale; None (shown as "—") when there is nothing to divide by."""
    return part * scale / whole if whole else None


def channel_choices() -> list[str]:
    """The channels of the orders the dashboard counts, for the filter."""
    # The all-products rows: a few per day, found by the (sku, day) index.
    rows = (
        DailyFigures.objects.filter(sku="")
        .exclude(channel="")
        .values_list("channel", flat=True)
        .distinct()
    )
    return sorted(rows)


# The figures


def dashboard_figures(filters: Filters) -> Figures:
    """Every figure of the dashboard, in a fixed number of queries whatever the row count:
    one over the period's daily rows (the weeks, and summed, the totals), one over the
    previous period's, one for the products, and two small raw reads (see the module)."""
    first, last = period_days(filters.start, filters.end)
    days = _daily(filters, first, last)
    totals = _totals(days.values())
    figures = _headline(totals)
    before_last = first - timedelta(days=1)
    before_first = before_last - (last - first)
    previous = _headline(_totals(_daily(filters, before_first, before_last).values()))
    return Figures(
        **{name: value for name, value in figures.items() if name != "followups_asked"},
        distribution=[
            (stars, totals[f"r{stars}"], ratio(totals[f"r{stars}"], figures["ratings"]))
            for stars in range(1, 6)
        ],
        nps_enabled=InvitationPolicy.live().nps_enabled or bool(figures["nps_answers"]),
        suppressed=_suppressed(totals),
        weeks=_weeks(first, last, days),
        products=_products(filters, first, last),
        comments=_comments(filters),
        followups=FollowUpStats(
            totals["followups_open"],
            totals["followups_resolved"],
            _time_to_resolve(filters) if totals["followups_resolved"] else None,
        ),
        contact_queue=_contact_queue(),
        previous_first=before_first,
        previous_last=before_last,
        previous={name: _change(figures[name], previous[name]) for name in COMPARED},
    )


def _change(current: float | None, previous: float | None) -> Change:
    if current is None or previous is None:
        return Change(previous, None)
    return Change(previous, current - previous)


def _daily(filters: Filters, first: date, last: date) -> dict[date, dict[str, int]]:
    """One query: the period's counts per day, summed over the rows of the filters."""
    rows = DailyFigures.objects.filter(day__gte=first, day__lte=last, sku=filters.sku)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    sums = {figure: Sum(figure) for figure in COUNT_FIELDS}
    return {row.pop("day"): row for row in rows.values("day").annotate(**sums).order_by()}


def _totals(rows: object) -> Counter[str]:
    """The period's totals: the sums of its days (at most 366 aggregate rows)."""
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update(row)
    return totals


def _headline(totals: Counter[str]) -> dict[str, object]:
    """The headline figures of one period's totals."""
    ratings = sum(totals[f"r{stars}"] for stars in range(1, 6))
    stars = sum(stars * totals[f"r{stars}"] for stars in range(1, 6))
    sent = totals["sent"]
    return {
        "sent": sent,
        "responded": totals["responded"],
        "response_rate": ratio(totals["responded"], sent),
        "ratings": ratings,
        "csat": ratio(totals["r4"] + totals["r5"], ratings),
        "average": ratio(stars, ratings),
        "nps_answers": totals["nps_answers"],
        "nps": ratio(totals["promoters"] - totals["detractors"], totals["nps_answers"], 100),
        "declines": totals["declined"],
        "snoozes": totals["snoozed"],
        "stops": totals["stopped"],
        "declines_per_1000": ratio(totals["declined"], sent, 1000),
        "snoozes_per_1000": ratio(totals["snoozed"], sent, 1000),
        "stops_per_1000": ratio(totals["stopped"], sent, 1000),
        "suppressed_total": sum(totals[name] for name in SUPPRESSED_FIELDS.values()),
        "send_failed": totals["send_failed"],
        "send_unknown": totals["send_unknown"],
        "followups_asked": totals["followups_open"] + totals["followups_resolved"],
    }


def _suppressed(totals: Counter[str]) -> list[tuple[str, int]]:
    """(reason label, count) of the suppressed invitations, most first."""
    counts = [
        (Invitation.Reason(reason).label, totals[name])
        for reason, name in SUPPRESSED_FIELDS.items()
        if totals[name]
    ]
    return sorted(counts, key=lambda pair: (-pair[1], str(pair[0])))


def _weeks(first: date, last: date, days: dict[date, dict[str, int]]) -> list[Week]:
    """Every week the period touches, also the empty ones (shown as 0 and "—"), with the
    days of each that the period covers."""
    by_week: dict[date, Counter[str]] = {}
    for day, row in days.items():
        by_week.setdefault(day - timedelta(days=day.weekday()), Counter()).update(row)
    weeks = []
    for start in _mondays(first, last):
        w = by_week.get(start, Counter())
        ratings = sum(w[f"r{stars}"] for stars in range(1, 6))
        weeks.append(
            Week(
                start,
                max(start, first),
                min(start + timedelta(days=6), last),
                w["sent"],
                ratio(w["responded"], w["sent"]),
                ratings,
                ratio(w["r4"] + w["r5"], ratings),
            )
        )
    return weeks


def _mondays(first: date, last: date) -> list[date]:
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def week_starts(start: datetime, end: datetime) -> list[date]:
    """The Mondays of the weeks the period touches, in the current time zone."""
    return _mondays(*period_days(start, end))


def _products(filters: Filters, first: date, last: date) -> list[Product]:
    """One query: responses per product in the order, with their CSAT and average. With a
    product filter, that product alone."""
    rows = DailyFigures.objects.filter(day__gte=first, day__lte=last).exclude(sku="")
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.sku:
        rows = rows.filter(sku=filters.sku)
    stars = {f"r{n}": Sum(f"r{n}") for n in range(1, 6)}
    answered = sum((F(f"r{n}") for n in range(2, 6)), F("r1"))
    rows = (
        rows.values("sku")
        .annotate(name=Max("name"), n=Sum(answered), **stars)
        .filter(n__gt=0)
        .order_by("-n", "sku")[:PRODUCTS_SHOWN]
    )
    return [
        Product(
            row["sku"],
            row["name"],
            row["n"],
            ratio(row["r4"] + row["r5"], row["n"]),
            ratio(sum(k * row[f"r{k}"] for k in range(1, 6)), row["n"]),
        )
        for row in rows
    ]


def _narrowed(rows: QuerySet, filters: Filters, order: str) -> QuerySet:
    """Rows whose order (reached by the `order` path) is in the channel and has the SKU."""
    if filters.channel:
        rows = rows.filter(**{f"{order}__channel": filters.channel})
    if filters.sku:
        # EXISTS rather than a join: an order listing the SKU twice still counts once.
        items = OrderItem.objects.filter(order=OuterRef(f"{order}_id"), sku=filters.sku)
        rows = rows.filter(Exists(items))
    return rows


def responses(filters: Filters) -> QuerySet[Response]:
    """Responses submitted in the period, narrowed by channel and product."""
    rows = Response.objects.filter(submitted_at__gte=filters.start, submitted_at__lt=filters.end)
    return _narrowed(rows, filters, "invitation__order")


def _time_to_resolve(filters: Filters) -> timedelta | None:
    """The median time to resolve the contact requests of the period's answers: from the
    follow-ups (a few per hundred answers), not from every answer."""
    asked = contact_requests().filter(
        response__submitted_at__gte=filters.start, response__submitted_at__lt=filters.end
    )
    asked = _narrowed(asked, filters, "response__invitation__order")
    return followup_stats(follow_ups=asked).median_time_to_resolve


def _comments(filters: Filters) -> list[Response]:
    return list(
        responses(filters)
        .exclude(comment="")
        .select_related("invitation__order", "follow_up")
        .order_by("-submitted_at", "-pk")[:LATEST_COMMENTS]
    )


def _contact_queue() -> FollowUpStats:
    """The whole contact queue now (open and resolved requests), whatever the period: the
    sums of every day's all-products rows. (Only the dashboard's counts; the contact
    queue's page has its own, with the median.)"""
    totals = DailyFigures.objects.filter(sku="").aggregate(
        open=Sum("followups_open"), resolved=Sum("followups_resolved")
    )
    return FollowUpStats(totals["open"] or 0, totals["resolved"] or 0, None)
