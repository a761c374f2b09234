"""Reads for the contact queue: the customers who asked to be contacted, and how fast staff
answer them."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from feedback.models import FollowUp, Response

STAFF_GROUPS = ("Staff", "Ops")

OPEN = Q(status=FollowUp.Status.OPEN)
RESOLVED = Q(status=FollowUp.Status.RESOLVED, resolved_at__isnull=False)
TIME_TO_RESOLVE = ExpressionWrapper(
    F("resolved_at") - F("created_at"), output_field=DurationField()
)


@dataclass(frozen=True)
class FollowUpStats:
    open: int
    resolved: int
    # None when nothing is resolved yet: the page shows "—", never a made-up zero.
    median_time_to_resolve: timedelta | None


def contact_requests() -> QuerySet[FollowUp]:
    """Every follow-up of a customer who asked to be contacted: what the queue lists and
    its figures (here and on the dashboard) count."""
    return FollowUp.objects.filter(response__contact_requested=True)


class Median(Aggregate):
    """PostgreSQL's ordered-set aggregate: the exact median, computed by the database."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def followup_stats(
    *,
    responses: QuerySet[Response] | None = None,
    follow_ups: QuerySet[FollowUp] | None = None,
) -> FollowUpStats:
    """Open follow-ups, resolved ones, and the median time from request to resolution.

    `responses` narrows it to the follow-ups of those responses (e.g. the dashboard's
    period, channel and product filters), `follow_ups` to those contact requests; without
    either, the whole queue.
    One query on PostgreSQL; on SQLite (the demo) two, since it has no percentile_cont.
    """
    follow_ups = contact_requests() if follow_ups is None else follow_ups
    if responses is not None:
        follow_ups = follow_ups.filter(response__in=responses.values("pk"))
    counts = {"open": Count("pk", filter=OPEN), "resolved": Count("pk", filter=RESOLVED)}
    if connection.vendor == "postgresql":
        row = follow_ups.aggregate(**counts, median=Median(TIME_TO_RESOLVE, filter=RESOLVED))
        return FollowUpStats(row["open"], row["resolved"], row["median"])
    row = follow_ups.aggregate(**counts)
    median = median_by_sorting(follow_ups, row["resolved"])
    return FollowUpStats(row["open"], row["resolved"], median)


def median_by_sorting(follow_ups: QuerySet[FollowUp], resolved: int) -> timedelta | None:
    """The median without percentile_cont: fetch only the middle one or two durations."""
    if not resolved:
        return None
    middle = (
        follow_ups.filter(RESOLVED)
        .annotate(duration=TIME_TO_RESOLVE)
        .order_by("duration")
        .values_list("duration", flat=True)
    )
    lower = (resolved - 1) // 2
    durations = list(middle[lower : lower + 2 - resolved % 2])
    return sum(durations, timedelta()) / len(durations)


def assignable_users() -> QuerySet:
    """Who may be given a follow-up: active members of Staff or Ops, and superusers."""
    users = get_user_model().objects.filter(is_active=True)
    members = users.filter(Q(is_superuser=True) | Q(groups__name__in=STAFF_GROUPS))
    return users.filter(pk__in=members.values("pk")).order_by("username")


def contact_queue(*, status: str = "open", assignee: object = None) -> QuerySet[FollowUp]:
    """The follow-ups of customers who asked to be contacted: open ones first, oldest
    request first, with everything the list shows in the same query.

    status: "open", "resolved" or "all"; assignee: only theirs when given.
    """
    queue = contact_requests()
    if status in (FollowUp.Status.OPEN, FollowUp.Status.RESOLVED):
        queue = queue.filter(status=status)
    if assignee is not None:
        queue = queue.filter(assignee=assignee)
    return queue.select_related("assignee", "response__invitation__order__customer").order_by(
        "status", "created_at", "pk"
    )


def contact_detail(pk: int) -> FollowUp | None:
    """One follow-up with its response, order, customer and log, or None."""
    return (
        contact_queue(status="all")
        .prefetch_related("entries__author", "response__invitation__order__items")
        .filter(pk=pk)
        .first()
    )


def human_duration(duration: timedelta | None) -> str:
    """ "3 h 20 min", "2 d 4 h", or "—" for nothing to show."""
    if duration is None:
        return "—"
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
