"""The dashboard's daily rollups (DailyFigures), kept exact in the writer's transaction.

Every service whose write can change a dashboard figure runs that write inside
`rollups_tracked(invitations)`: it locks those invitations, reads what they count for
before, lets the write happen, reads what they count for after, and adds the difference
to the rows with `F()` increments, all in one transaction. So a figure can never count a
write that rolled back, nor miss one that committed; a late answer, an edit, an erasure
or a "stop all" moves exactly the counts it changes, on the days they belong to.

`invitation_counts()` is the one definition of what an invitation counts for. The
reconcile command recomputes a range of days from the raw rows with it and repairs any
difference (`rollups_reconcile`); the tests check the result against the dashboard's
old raw-row SQL.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from feedback import states
from feedback.models import DailyFigures, Invitation, OrderItem

State = Invitation.State

Key = tuple[date, str, str, str]  # (day, channel, locale, sku); sku "" is all products
Counts = Counter[tuple[Key, str]]

SUPPRESSED_FIELDS = {reason: f"suppressed_{reason}" for reason in Invitation.Reason.values}
COUNT_FIELDS = (
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
    *SUPPRESSED_FIELDS.values(),
)

SNAPSHOT_FIELDS = (
    "pk",
    "order_id",
    "order__channel",
    "customer__locale",
    "customer__invitations_stopped_at",
    "state",
    "suppression_reason",
    "due_at",
    "sent_at",
    "responded_at",
    "declined_at",
    "snooze_count",
    "response__submitted_at",
    "response__rating",
    "response__nps",
    "response__contact_requested",
    "response__follow_up__status",
    "response__follow_up__resolved_at",
)


def rollup_day(moment: datetime) -> date:
    """The dashboard's day of a moment: its date in TIME_ZONE (the dashboard's periods are
    whole days there), whatever time zone is active in the request that writes."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


@dataclass(frozen=True)
class Snapshot:
    """What a set of invitations counts for, and the product names their orders give."""

    counts: Counts
    names: dict[str, str]


def invitation_counts(invitation_ids: Iterable[int]) -> Snapshot:
    """The counts these invitations (with their orders, customers, answers and follow-ups
    as stored now) contribute to the rollups, in two reads."""
    ids = list(invitation_ids)
    if not ids:
        return Snapshot(Counter(), {})
    rows = list(Invitation.objects.filter(pk__in=ids).values(*SNAPSHOT_FIELDS))
    products: dict[int, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    items = OrderItem.objects.filter(order_id__in={row["order_id"] for row in rows})
    for order_id, sku, name in items.order_by("pk").values_list("order_id", "sku", "name"):
        products[order_id].add(sku)
        names[sku] = name
    counts: Counts = Counter()
    for row in rows:
        skus = ["", *sorted(products[row["order_id"]])]
        for day, figure in _figures(row):
            for sku in skus:
                key = (day, row["order__channel"], row["customer__locale"], sku)
                counts[(key, figure)] += 1
    return Snapshot(counts, names)


def _figures(row: dict) -> Iterator[tuple[date, str]]:
    """The (day, figure) pairs one invitation counts for; the rules of
    feedback.selectors.dashboard's definitions."""
    sent_at = row["sent_at"]
    if sent_at is not None:
        day = rollup_day(sent_at)
        yield day, "sent"
        if row["responded_at"] is not None:
            yield day, "responded"
        if row["declined_at"] is not None:
            yield day, "declined"
        if row["snooze_count"] > 0:
            yield day, "snoozed"
        stopped_at = row["customer__invitations_stopped_at"]
        if stopped_at is not None and stopped_at >= sent_at:
            yield day, "stopped"
    if row["state"] in states.NOT_SENT:
        day = rollup_day(row["due_at"])
        if row["state"] == State.SUPPRESSED:
            yield day, SUPPRESSED_FIELDS[row["suppression_reason"]]
        else:
            yield day, row["state"]
    if row["response__submitted_at"] is not None:
        yield from _answer_figures(row)


def _answer_figures(row: dict) -> Iterator[tuple[date, str]]:
    day = rollup_day(row["response__submitted_at"])
    yield day, f"r{row['response__rating']}"
    nps = row["response__nps"]
    if nps is not None:
        yield day, "nps_answers"
        if nps >= 9:
            yield day, "promoters"
        elif nps <= 6:
            yield day, "detractors"
    # Only requests the customer still makes count (an unticked box drops them).
    if row["response__contact_requested"] and row["response__follow_up__status"]:
        if row["response__follow_up__status"] == "open":
            yield day, "followups_open"
        elif row["response__follow_up__resolved_at"] is not None:
            yield day, "followups_resolved"


@contextmanager
def rollups_tracked(invitations: QuerySet[Invitation]) -> Iterator[None]:
    """Run the block's writes to these invitations (and to what hangs on them) with the
    rollups following in the same transaction.

    The queryset is read before (its rows locked, so no other writer changes what they
    count for meanwhile) and again after the block, which also finds the invitations the
    block created. Callers that lock a customer lock it before entering, as the sender does.
    """
    # No savepoint of its own: the caller's transaction is the unit (a failure inside
    # rolls back the caller's writes and these counts together).
    with transaction.atomic(savepoint=False):
        before_ids = set(
            invitations.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True)
        )
        before = invitation_counts(before_ids)
        yield
        # Read again: also the invitations the block created. (Two plain reads: an OR of
        # the ids and a subquery made PostgreSQL scan the whole table.)
        after_ids = before_ids | set(invitations.values_list("pk", flat=True))
        after = invitation_counts(after_ids)
        delta = after.counts.copy()
        delta.subtract(before.counts)
        rollups_add(delta, after.names)


def rollups_add(delta: Counts, names: dict[str, str]) -> None:
    """Add the differences to their rows: one UPDATE with F() increments per row changed,
    creating the row the first time a key is counted. Rows are taken in key order, so two
    writers touching the same rows wait for each other rather than deadlock."""
    by_key: dict[Key, dict[str, int]] = defaultdict(dict)
    for (key, figure), n in delta.items():
        if n:
            by_key[key][figure] = n
    for key in sorted(by_key):
        _add_to_row(key, by_key[key], names.get(key[3], ""))


def _add_to_row(key: Key, changes: dict[str, int], name: str) -> None:
    day, channel, locale, sku = key
    row = DailyFigures.objects.filter(day=day, channel=channel, locale=locale, sku=sku)
    increments = {figure: F(figure) + n for figure, n in changes.items()}
    if sku:
        increments["name"] = name
    if row.update(**increments):
        return
    try:
        with transaction.atomic():
            DailyFigures.objects.create(
                day=day, channel=channel, locale=locale, sku=sku, name=name, **changes
            )
    except IntegrityError:
        # Another writer created the row meanwhile: add to theirs.
        row.update(**increments)


# Reconciling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    key: Key
    figure: str
    stored: int
    recomputed: int

    def __str__(self) -> str:
        day, channel, locale, sku = self.key
        return (
            f"{day} channel={channel or '-'} locale={locale or '-'} sku={sku or '(all)'} "
            f"{self.figure}: stored {self.stored}, recomputed {self.recomputed}"
        )


def touching_days(first: date, last: date) -> QuerySet[Invitation]:
    """The invitations that count for some day from first to last: sent, due (not sent)
    or answered then. Bounds are widened by a day on each side for the time zone, and
    invitation_counts() keeps only the days in range."""
    start = timezone.make_aware(datetime.combine(first - timedelta(days=1), datetime.min.time()))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=2), datetime.min.time()))
    return Invitation.objects.filter(
        Q(sent_at__gte=start, sent_at__lt=end)
        | Q(due_at__gte=start, due_at__lt=end, state__in=states.NOT_SENT)
        | Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
    )


def rollups_recompute(first: date, last: date, *, chunk: int = 5000) -> Snapshot:
    """The counts of the days first..last recomputed from the raw rows."""
    counts: Counts = Counter()
    names: dict[str, str] = {}
    ids = list(touching_days(first, last).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        snapshot = invitation_counts(ids[start : start + chunk])
        names.update(snapshot.names)
        for (key, figure), n in snapshot.counts.items():
            if first <= key[0] <= last:
                counts[(key, figure)] += n
    return Snapshot(counts, names)


def rollups_stored(first: date, last: date, *, lock: bool = False) -> Counts:
    rows = DailyFigures.objects.filter(day__gte=first, day__lte=last).order_by("pk")
    if lock:
        rows = rows.select_for_update()
    counts: Counts = Counter()
    for row in rows.values("day", "channel", "locale", "sku", *COUNT_FIELDS):
        key = (row["day"], row["channel"], row["locale"], row["sku"])
        for figure in COUNT_FIELDS:
            if row[figure]:
                counts[(key, figure)] += row[figure]
    return counts


@transaction.atomic
def rollups_reconcile(*, first: date, last: date, repair: bool = False) -> list[Difference]:
    """Compare the stored rollups of first..last with the raw rows; with `repair`, add the
    differences so they agree. The stored rows are locked first: a writer meanwhile waits,
    and then adds its own difference on top of the repaired rows."""
    stored = rollups_stored(first, last, lock=repair)
    recomputed = rollups_recompute(first, last)
    differences = [
        Difference(key, figure, stored[(key, figure)], recomputed.counts[(key, figure)])
        for key, figure in sorted(set(stored) | set(recomputed.counts))
        if stored[(key, figure)] != recomputed.counts[(key, figure)]
    ]
    if repair and differences:
        delta = recomputed.counts.copy()
        delta.subtract(stored)
        rollups_add(delta, recomputed.names)
    return differences
