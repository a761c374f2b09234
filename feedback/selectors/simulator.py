"""Replay past deliveries through the invitation rules: what would a draft policy have done?

Read-only: it runs SELECTs only (on PostgreSQL inside a READ ONLY transaction, so the
database itself refuses any write) and sends nothing. The decision is the engine's own pure
function, `feedback.rules.decide`; what the engine learns from the database as it goes
(the customer's last invitation, the day's sends) is kept here in memory from the replay's
own simulated sends, so the result reflects the draft policy, not what actually happened.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from feedback.models import Invitation, Order, SuppressionReason
from feedback.rules import Facts, PolicyRules, decide, send_time

ORDER_FIELDS = (
    "external_id",
    "delivered_at",
    "customer_id",
    "customer__email",
    "customer__consent",
    "customer__time_zone",
    "customer__invitations_stopped_at",
)
CHUNK = 5000


@dataclass
class SimulationResult:
    rules: PolicyRules
    orders: int = 0
    would_send: int = 0
    suppressed: Counter = field(default_factory=Counter)
    # UTC day -> invitations that would go out that day (the engine's daily cap is per UTC day).
    sends_per_day: Counter = field(default_factory=Counter)
    customers_invited: int = 0
    max_per_customer: int = 0

    @property
    def peak_day(self) -> tuple[date, int] | None:
        if not self.sends_per_day:
            return None
        # The busiest day; of equally busy days, the first.
        return max(self.sends_per_day.items(), key=lambda item: (item[1], -item[0].toordinal()))

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())


class Replay:
    """One policy's running state over the replay: each customer's last simulated send and
    the sends of each day."""

    def __init__(self, rules: PolicyRules, last_invited: dict[int, datetime]) -> None:
        self.rules = rules
        self.last_sent = dict(last_invited)
        self.per_customer: Counter = Counter()
        self.result = SimulationResult(rules)

    def feed(self, order: Facts, customer_id: int, stopped_at: datetime | None) -> None:
        # The sweep sends on time: the decision is taken at the planned moment, when the
        # customer's opt-out counts only if it had happened by then.
        planned = send_time(self.rules, order)
        day = planned.astimezone(UTC).date()
        facts = Facts(
            order_external_id=order.order_external_id,
            delivered_at=order.delivered_at,
            has_email=order.has_email,
            opted_out=stopped_at is not None and stopped_at <= planned,
            consent=order.consent,
            time_zone=order.time_zone,
            last_invited_at=self.last_sent.get(customer_id),
            sent_that_day=self.result.sends_per_day[day],
            due_at=planned,
        )
        decision = decide(self.rules, facts, planned)
        self.result.orders += 1
        if not decision.send:
            self.result.suppressed[decision.reason] += 1
            return
        self.result.would_send += 1
        self.result.sends_per_day[day] += 1
        self.last_sent[customer_id] = decision.due_at
        self.per_customer[customer_id] += 1

    def finish(self) -> SimulationResult:
        self.result.customers_invited = len(self.per_customer)
        self.result.max_per_customer = max(self.per_customer.values(), default=0)
        return self.result


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The UTC instants from the first day's start to the last day's end (inclusive days)."""
    start = datetime.combine(period_start, time(0), tzinfo=UTC)
    return start, datetime.combine(period_end + timedelta(days=1), time(0), tzinfo=UTC)


def delivered_orders(start: datetime, end: datetime) -> Iterator[tuple]:
    """The orders delivered in [start, end), oldest delivery first, streamed."""
    orders = Order.objects.filter(delivered_at__gte=start, delivered_at__lt=end)
    return orders.order_by("delivered_at", "pk").values_list(*ORDER_FIELDS).iterator(CHUNK)


def delivered_count(period_start: date, period_end: date) -> int:
    """How many orders a replay of these days would read (an index range count)."""
    start, end = period_bounds(period_start, period_end)
    return Order.objects.filter(delivered_at__gte=start, delivered_at__lt=end).count()


def last_invited_before(start: datetime, end: datetime) -> dict[int, datetime]:
    """Each customer with an order in the period -> their last invitation sent before it.

    One grouped query: the replay starts from the real history up to the period's start.
    """
    customers = Order.objects.filter(delivered_at__gte=start, delivered_at__lt=end)
    rows = (
        Invitation.objects.filter(
            customer_id__in=customers.values("customer_id"), sent_at__lt=start
        )
        .values("customer_id")
        .annotate(last=Max("sent_at"))
        .values_list("customer_id", "last")
    )
    return dict(rows)


def simulate_many(
    policies: Iterable[PolicyRules], period_start: date, period_end: date
) -> list[SimulationResult]:
    """Replay the period once, feeding every order to each policy's replay."""
    start, end = period_bounds(period_start, period_end)
    with read_only():
        history = last_invited_before(start, end)
        replays = [Replay(rules, history) for rules in policies]
        for (
            external_id,
            delivered_at,
            customer_id,
            email,
            consent,
            zone,
            stopped,
        ) in delivered_orders(start, end):
            # What the policies share; each replay adds its own history of sends.
            order = Facts(external_id, delivered_at, bool(email), False, consent, zone)
            for replay in replays:
                replay.feed(order, customer_id, stopped)
    return [replay.finish() for replay in replays]


def simulate(rules: PolicyRules, period_start: date, period_end: date) -> SimulationResult:
    """What `rules` would have done with the orders delivered from period_start to
    period_end (inclusive UTC days)."""
    return simulate_many([rules], period_start, period_end)[0]


@contextmanager
def read_only() -> Iterator[None]:
    """On PostgreSQL, a READ ONLY transaction: the database itself refuses any write.

    On SQLite (the demo) no transaction at all: its transactions start IMMEDIATE here,
    which would hold the write lock, and so stall the worker, for the whole replay.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
        yield


@dataclass(frozen=True)
class Row:
    label: str
    live: object
    draft: object
    difference: str

    @property
    def indented(self) -> bool:
        """A detail of the row above (a suppression reason)."""
        return self.label.startswith(" ")


def _signed(draft: int, live: int) -> str:
    diff = draft - live
    return "0" if diff == 0 else f"{diff:+,}"


def comparison(live: SimulationResult, draft: SimulationResult) -> list[Row]:
    """The side-by-side table the command prints and the page shows."""

    def count_row(label: str, live_value: int, draft_value: int) -> Row:
        return Row(label, live_value, draft_value, _signed(draft_value, live_value))

    rows = [
        count_row(_("orders delivered in the period"), live.orders, draft.orders),
        count_row(_("invitations that would be sent"), live.would_send, draft.would_send),
        count_row(_("suppressed"), live.suppressed_total, draft.suppressed_total),
    ]
    for reason in SuppressionReason:
        live_n, draft_n = live.suppressed[reason.value], draft.suppressed[reason.value]
        if live_n or draft_n:
            rows.append(
                count_row(
                    "  " + _("suppressed: %(reason)s") % {"reason": reason.label}, live_n, draft_n
                )
            )
    live_peak, draft_peak = live.peak_day, draft.peak_day
    rows += [
        count_row(_("peak sends in one day"), _peak_count(live_peak), _peak_count(draft_peak)),
        Row(_("peak day"), _peak_day(live_peak), _peak_day(draft_peak), ""),
        count_row(_("customers invited"), live.customers_invited, draft.customers_invited),
        count_row(
            _("most invitations to one customer"), live.max_per_customer, draft.max_per_customer
        ),
    ]
    return rows


def _peak_count(peak: tuple[date, int] | None) -> int:
    return peak[1] if peak else 0


def _peak_day(peak: tuple[date, int] | None) -> str:
    return peak[0].isoformat() if peak else "—"


def daily_sends(live: SimulationResult, draft: SimulationResult) -> list[tuple[date, int, int]]:
    """Every day from the first to the last send of either policy: (day, live, draft)."""
    days = set(live.sends_per_day) | set(draft.sends_per_day)
    if not days:
        return []
    day, last, series = min(days), max(days), []
    while day <= last:
        series.append((day, live.sends_per_day[day], draft.sends_per_day[day]))
        day += timedelta(days=1)
    return series
