"""Orders in: the one upsert behind both the CSV import and the REST API.

A batch of records is written in one transaction with a fixed number of set-based
queries, whatever its size. Customers are keyed by normalised email, orders by their
external id; a record identical to what is stored writes nothing.

Rules a sender can rely on:
- a customer's name, locale, time zone and consent come from their newest order (by
  placed_at, then order id): a row for an older order never overwrites them, so
  re-sending a file changes nothing even when a customer's details changed over time;
- consent None leaves a known customer's consent as it is (new customers: unknown), and
  so do locale and time zone None (new customers: the site's language, UTC);
- delivered_at None never "un-delivers" an order, and an empty channel keeps the stored
  one; a record placed after its order's recorded delivery is refused (OrdersRefused);
- items are replaced only when they differ from the stored ones;
- every delivered order of the batch without an invitation gets one, scheduled or
  suppressed with its reason, through feedback.services.invitations.invitations_schedule.
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from feedback.ingest import OrderRecord, normalise_email
from feedback.models import Customer, Invitation, Order, OrderItem
from feedback.services.invitations import invitations_schedule
from feedback.services.rollups import rollups_tracked

DEADLOCK_RETRIES = 3


class OrdersRefused(ValueError):
    """Records that contradict what is stored, by order id: {order_id: (field, reason)}.
    Nothing of the batch was written."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{i}: {f}: {r}" for i, (f, r) in problems.items()))
        self.problems = problems


@dataclass
class UpsertSummary:
    """Per order: created, updated (it, its items or its customer changed) or unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def merge(self, other: "UpsertSummary") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


def orders_upsert(records: Sequence[OrderRecord]) -> UpsertSummary:
    """Create or update the records' customers, orders and items in one transaction, and
    schedule the invitations of delivered orders. Later records for the same order id win.

    Safe beside itself: rows are created with ON CONFLICT DO NOTHING and then locked in
    id order. A deadlock between two such batches is rare, and retried when this call
    owns the transaction.
    """
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _upsert(records)
        except OperationalError as error:
            if connection.in_atomic_block or attempt + 1 == DEADLOCK_RETRIES:
                raise
            if "deadlock" not in str(error):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@transaction.atomic
def _upsert(records: Sequence[OrderRecord]) -> UpsertSummary:
    latest = {record.order_id: _normalised(record) for record in records}
    records = sorted(latest.values(), key=lambda record: record.order_id)
    if not records:
        return UpsertSummary()
    now = timezone.now()
    with rollups_tracked(_invitations_touched(records)):
        customers, customers_changed = _customers_upsert(records, now)
        orders, created = _orders_upsert(records, customers, now)
        if refused := _delivered_before_placed(records, orders, created):
            raise OrdersRefused(refused)
        items_changed = _items_replace(records, orders, created)
        changed = {record.order_id for record in records if record.order_id in customers_changed}
        changed |= _orders_update(records, orders, customers, created, now) | items_changed
    # New invitations: invitations_schedule counts them in the rollups itself.
    invitations_schedule(orders=[o for o in orders.values() if o.delivered_at], now=now)
    return UpsertSummary(
        created=len(created),
        updated=len(changed - created),
        unchanged=len(records) - len(changed | created),
    )


def _invitations_touched(records: list[OrderRecord]) -> QuerySet[Invitation]:
    """The stored invitations this batch may move on the dashboard: those of its orders
    (channel, items) and of its customers (locale). The customers are locked first, the
    order the sender locks in."""
    emails = sorted({record.customer_email for record in records})
    list(Customer.objects.select_for_update().filter(email__in=emails).order_by("pk"))
    touched = Invitation.objects.filter(
        Q(customer__email__in=emails) | Q(order__external_id__in=[r.order_id for r in records])
    )
    return Invitation.objects.filter(pk__in=list(touched.values_list("pk", flat=True)))


def _normalised(record: OrderRecord) -> OrderRecord:
    """Customers are keyed by their normalised email (feedback.ingest.normalise_email)."""
    email = normalise_email(record.customer_email)
    if not email:
        raise ValueError(f"order {record.order_id}: a customer email is required")
    return record if email == record.customer_email else replace(record, customer_email=email)


# Customers ----------------------------------------------------------------------------


def _customers_upsert(
    records: list[OrderRecord], now: datetime
) -> tuple[dict[str, Customer], set[str]]:
    """The batch's customers by email, locked; and the order ids whose record changed one."""
    emails = sorted({record.customer_email for record in records})
    newest = _newest_record_per_customer(records)
    known = set(Customer.objects.filter(email__in=emails).values_list("email", flat=True))
    missing = [_new_customer(newest[email], now) for email in emails if email not in known]
    # A concurrent batch may create the same customer meanwhile: its row is kept.
    Customer.objects.bulk_create(missing, ignore_conflicts=True)
    customers = {
        customer.email: customer
        for customer in Customer.objects.select_for_update().filter(email__in=emails).order_by("pk")
    }
    stored_newest = _stored_newest_orders(customers.values())
    changed = []
    for email, customer in customers.items():
        record = newest[email]
        if _older(record, stored_newest.get(customer.pk)):
            continue
        if _apply_customer(customer, record):
            customer.updated_at = now
            changed.append(customer)
    Customer.objects.bulk_update(
        changed, ["name", "locale", "time_zone", "consent", "updated_at"], batch_size=500
    )
    changed_emails = {customer.email for customer in changed}
    return customers, {newest[email].order_id for email in changed_emails}


def _new_customer(record: OrderRecord, now: datetime) -> Customer:
    return Customer(
        email=record.customer_email,
        name=record.customer_name,
        locale=record.locale or settings.LANGUAGE_CODE,
        time_zone=record.time_zone or "UTC",
        consent=record.consent or Customer.Consent.UNKNOWN,
        created_at=now,
        updated_at=now,
    )


def _newest_record_per_customer(records: list[OrderRecord]) -> dict[str, OrderRecord]:
    newest: dict[str, OrderRecord] = {}
    for record in records:
        current = newest.get(record.customer_email)
        if current is None or _key(record) > _key(current):
            newest[record.customer_email] = record
    return newest


def _key(record: OrderRecord) -> tuple[datetime, str]:
    return (record.placed_at, record.order_id)


def _stored_newest_orders(customers: Iterable[Customer]) -> dict[int, tuple[datetime, str]]:
    """Each customer's newest stored order as (placed_at, external id), in one query."""
    newest = Order.objects.filter(customer=OuterRef("pk")).order_by("-placed_at", "-external_id")
    rows = (
        Customer.objects.filter(pk__in=[customer.pk for customer in customers])
        .annotate(
            newest_placed_at=Subquery(newest.values("placed_at")[:1]),
            newest_order_id=Subquery(newest.values("external_id")[:1]),
        )
        .filter(newest_placed_at__isnull=False)
        .values_list("pk", "newest_placed_at", "newest_order_id")
    )
    return {pk: (placed_at, order_id) for pk, placed_at, order_id in rows}


def _older(record: OrderRecord, stored: tuple[datetime, str] | None) -> bool:
    return stored is not None and _key(record) < stored


def _apply_customer(customer: Customer, record: OrderRecord) -> bool:
    wanted = {
        "name": record.customer_name,
        "locale": record.locale or customer.locale,
        "time_zone": record.time_zone or customer.time_zone,
        "consent": record.consent or customer.consent,
    }
    return _assign(customer, wanted)


def _assign(instance: object, wanted: dict[str, object]) -> bool:
    changed = False
    for name, value in wanted.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


# Orders and items ---------------------------------------------------------------------


def _orders_upsert(
    records: list[OrderRecord], customers: dict[str, Customer], now: datetime
) -> tuple[dict[str, Order], set[str]]:
    """The batch's orders by external id, locked; and the ids this batch created."""
    ids = [record.order_id for record in records]
    known = set(Order.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
    missing = [
        Order(
            external_id=record.order_id,
            customer=customers[record.customer_email],
            placed_at=record.placed_at,
            delivered_at=record.delivered_at,
            channel=record.channel,
            created_at=now,
            updated_at=now,
        )
        for record in records
        if record.order_id not in known
    ]
    Order.objects.bulk_create(missing, ignore_conflicts=True)
    orders = {
        order.external_id: order
        for order in Order.objects.select_for_update().filter(external_id__in=ids).order_by("pk")
    }
    # "Created" only where this batch's insert took, not a concurrent batch's: the stored
    # row carries the creation time this batch's instance was given.
    created = {o.external_id for o in missing if orders[o.external_id].created_at == o.created_at}
    return orders, created


def _delivered_before_placed(
    records: list[OrderRecord], orders: dict[str, Order], created: set[str]
) -> dict[str, tuple[str, str]]:
    """Records without a delivery time whose placed_at is after the stored delivery: the
    order would end up delivered before it was placed."""
    refused = {}
    for record in records:
        delivered_at = orders[record.order_id].delivered_at
        if record.order_id in created or record.delivered_at or delivered_at is None:
            continue
        if delivered_at < record.placed_at:
            recorded = f"{delivered_at:%Y-%m-%dT%H:%M:%SZ}"
            reason = f"the delivery on record, {recorded}, is before placed_at"
            refused[record.order_id] = ("delivered_at", reason)
    return refused


def _orders_update(
    records: list[OrderRecord],
    orders: dict[str, Order],
    customers: dict[str, Customer],
    created: set[str],
    now: datetime,
) -> set[str]:
    """Write the fields that differ; returns the order ids that changed."""
    changed = []
    for record in records:
        order = orders[record.order_id]
        if record.order_id in created:
            continue
        wanted = {
            "customer_id": customers[record.customer_email].pk,
            "placed_at": record.placed_at,
            "delivered_at": record.delivered_at or order.delivered_at,
            "channel": record.channel or order.channel,
        }
        if _assign(order, wanted):
            order.updated_at = now
            changed.append(order)
    fields = ["customer_id", "placed_at", "delivered_at", "channel", "updated_at"]
    Order.objects.bulk_update(changed, fields, batch_size=500)
    return {order.external_id for order in changed}


def _items_replace(
    records: list[OrderRecord], orders: dict[str, Order], created: set[str]
) -> set[str]:
    """Items of new orders, and of orders whose items differ; returns the latter's ids."""
    existing = [orders[r.order_id].pk for r in records if r.order_id not in created]
    stored: dict[int, list[tuple[str, str, int]]] = {}
    rows = OrderItem.objects.filter(order_id__in=existing).order_by("order_id", "pk")
    for order_id, sku, name, quantity in rows.values_list("order_id", "sku", "name", "quantity"):
        stored.setdefault(order_id, []).append((sku, name, quantity))
    replace, changed = [], set()
    for record in records:
        order = orders[record.order_id]
        wanted = [(item.sku, item.name, item.quantity) for item in record.items]
        if record.order_id in created:
            replace.append((order, record))
        elif stored.get(order.pk, []) != wanted:
            replace.append((order, record))
            changed.add(record.order_id)
    OrderItem.objects.filter(order_id__in=[orders[i].pk for i in changed]).delete()
    OrderItem.objects.bulk_create(
        [
            OrderItem(order=order, sku=item.sku, name=item.name, quantity=item.quantity)
            for order, record in replace
            for item in record.items
        ],
        batch_size=2000,
    )
    return changed
