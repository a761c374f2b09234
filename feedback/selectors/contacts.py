"""Reads for the contact queue: the customers who asked to be contacted, and how fast staff
answer them."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from feedback.models import (
    ContactMessage,
    FollowUp,
    FollowUpNote,
    InboundMessage,
    Invitation,
    ReplyTemplate,
    Response,
)

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


def median_by_sorting(
    follow_ups: QuerySet[FollowUp],
    count: int,
    *,
    which: Q = RESOLVED,
    duration: ExpressionWrapper = TIME_TO_RESOLVE,
) -> timedelta | None:
    """The median without percentile_cont: fetch only the middle one or two durations of
    the `count` follow-ups matching `which`."""
    if not count:
        return None
    middle = (
        follow_ups.filter(which)
        .annotate(duration=duration)
        .order_by("duration")
        .values_list("duration", flat=True)
    )
    lower = (count - 1) // 2
    durations = list(middle[lower : lower + 2 - count % 2])
    return sum(durations, timedelta()) / len(durations)


# First responses: the first staff reply the mail server took, or the resolution.
ANSWERED = Q(first_response_at__isnull=False)
TIME_TO_FIRST_RESPONSE = ExpressionWrapper(
    F("first_response_at") - F("created_at"), output_field=DurationField()
)


@dataclass(frozen=True)
class ResponseTimeStats:
    # Requests with a due time that were answered, or whose due time has passed.
    judged: int
    on_time: int
    answered: int
    median_first_response: timedelta | None
    median_time_to_resolve: timedelta | None

    @property
    def on_time_percent(self) -> int | None:
        """The share answered by their due time, in whole percent; None with none judged."""
        return round(100 * self.on_time / self.judged) if self.judged else None


def response_time_stats(
    *, responses: QuerySet[Response] | None = None, now: datetime | None = None
) -> ResponseTimeStats:
    """Median time to first response, the share of requests answered within the policy's
    target, and the median time to resolve, over the contact requests (of `responses`
    when given). A request not answered yet counts against the target once it is due."""
    now = now or timezone.now()
    follow_ups = contact_requests()
    if responses is not None:
        follow_ups = follow_ups.filter(response__in=responses.values("pk"))
    has_due = Q(response_due_at__isnull=False)
    judged = has_due & (ANSWERED | Q(response_due_at__lt=now))
    on_time = has_due & ANSWERED & Q(first_response_at__lte=F("response_due_at"))
    counts = {
        "judged": Count("pk", filter=judged),
        "on_time": Count("pk", filter=on_time),
        "answered": Count("pk", filter=ANSWERED),
        "resolved": Count("pk", filter=RESOLVED),
    }
    if connection.vendor == "postgresql":
        row = follow_ups.aggregate(
            **counts,
            first=Median(TIME_TO_FIRST_RESPONSE, filter=ANSWERED),
            resolve=Median(TIME_TO_RESOLVE, filter=RESOLVED),
        )
    else:
        row = follow_ups.aggregate(**counts)
        row["first"] = median_by_sorting(
            follow_ups, row["answered"], which=ANSWERED, duration=TIME_TO_FIRST_RESPONSE
        )
        row["resolve"] = median_by_sorting(follow_ups, row["resolved"])
    return ResponseTimeStats(
        row["judged"], row["on_time"], row["answered"], row["first"], row["resolve"]
    )


def assignable_users() -> QuerySet:
    """Who may be given a follow-up: active members of Staff or Ops, and superusers."""
    users = get_user_model().objects.filter(is_active=True)
    members = users.filter(Q(is_superuser=True) | Q(groups__name__in=STAFF_GROUPS))
    return users.filter(pk__in=members.values("pk")).order_by("username")


def contact_queue(
    *,
    status: str = "open",
    assignee: object = None,
    search: str = "",
    now: datetime | None = None,
) -> QuerySet[FollowUp]:
    """The follow-ups of customers who asked to be contacted: open ones first, soonest due
    first (then oldest), each marked `overdue` when its first-response due time has passed
    unanswered, with everything the list shows in the same query.

    status: "open", "resolved" or "all"; assignee: only theirs when given; search: words
    found in the customer's name or address, the order id, the comment or the thread.
    """
    now = now or timezone.now()
    queue = contact_requests()
    if status in (FollowUp.Status.OPEN, FollowUp.Status.RESOLVED):
        queue = queue.filter(status=status)
    if assignee is not None:
        queue = queue.filter(assignee=assignee)
    for word in search.split()[:5]:
        queue = queue.filter(_matching(word))
    overdue = Q(status=FollowUp.Status.OPEN, first_response_at__isnull=True)
    overdue &= Q(response_due_at__lt=now)
    return (
        queue.select_related("assignee", "response__invitation__order__customer")
        .annotate(overdue=ExpressionWrapper(overdue, output_field=BooleanField()))
        .order_by("status", F("response_due_at").asc(nulls_last=True), "created_at", "pk")
    )


def _matching(word: str) -> Q:
    customer = "response__invitation__order__customer__"
    in_thread = ContactMessage.objects.filter(follow_up=OuterRef("pk"), text__icontains=word)
    return (
        Q(**{f"{customer}name__icontains": word})
        | Q(**{f"{customer}email__icontains": word})
        | Q(response__invitation__order__external_id__icontains=word)
        | Q(response__comment__icontains=word)
        | Q(Exists(in_thread))
    )


def contact_detail(pk: int) -> FollowUp | None:
    """One follow-up with its response, order, customer and log, or None."""
    return (
        contact_queue(status="all")
        .prefetch_related("entries__author", "response__invitation__order__items")
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ThreadEntry:
    """One line of a contact's thread: a staff note or change, or a message either way."""

    at: datetime
    kind: str  # "note", "out" (a staff reply) or "in" (the customer's reply)
    item: FollowUpNote | ContactMessage


def contact_thread(follow_up: FollowUp) -> list[ThreadEntry]:
    """Notes, staff replies and customer replies in the order they happened."""
    notes = [ThreadEntry(n.created_at, "note", n) for n in follow_up.entries.all()]
    messages = [
        ThreadEntry(m.created_at, m.direction, m)
        for m in follow_up.messages.select_related("author")
    ]
    return sorted(chain(notes, messages), key=lambda entry: entry.at)


def customer_history(follow_up: FollowUp) -> QuerySet[Invitation]:
    """The customer's other orders, each with its answer if any, newest first."""
    invitation = follow_up.response.invitation
    return (
        Invitation.objects.filter(customer_id=invitation.customer_id)
        .exclude(pk=invitation.pk)
        .select_related("order", "response", "response__follow_up")
        .order_by("-order__placed_at")[:50]
    )


def reply_templates(language: str) -> list[ReplyTemplate]:
    """Staff's saved replies in the customer's language first, then the others."""
    templates = list(ReplyTemplate.objects.all())
    return sorted(templates, key=lambda t: (t.language != language, t.language, t.name))


def replies_kept_aside(limit: int = 10) -> QuerySet[InboundMessage]:
    """Mail to a reply address whose signature did not verify: never attached, shown to
    staff."""
    return InboundMessage.objects.filter(kind=InboundMessage.Kind.FORGED).defer("raw")[:limit]


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
