"""Reads for the contact queue: the customers who asked to be contacted, and how fast staff
answer them."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from feedback.models import FollowUp, Response

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


class Median(Aggregate):
    """PostgreSQL's ordered-set aggregate: the exact median, computed by the database."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def followup_stats(*, responses: QuerySet[Response] | None = None) -> FollowUpStats:
    """Open follow-ups, resolved ones, and the median time from request to resolution.

    `responses` narrows it to the follow-ups of those responses (e.g. the dashboard's
    period, channel and product filters); without it, the whole queue.
    One query on PostgreSQL; on SQLite (the demo) two, since it has no percentile_cont.
    """
    follow_ups = FollowUp.objects.all()
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
