"""orders_upsert: the one write path behind the CSV import and the REST API."""

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.ingest import ItemRecord, OrderRecord
from feedback.models import Customer, Invitation, InvitationPolicy, Order, OrderItem
from feedback.services import orders_upsert
from feedback.services.invitations import invitations_schedule
from feedback.services.orders import OrdersRefused
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

PLACED = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def record(n: int = 1, **changes: object) -> OrderRecord:
    base = OrderRecord(
        order_id=f"A-{n}",
        customer_email=f"buyer{n}@example.com",
        customer_name=f"Buyer {n}",
        placed_at=PLACED,
        delivered_at=None,
        items=(ItemRecord("SKU-1", "Burr grinder", 1), ItemRecord("SKU-2", "Filters", 2)),
        locale="en",
        time_zone="Europe/Madrid",
        consent=None,
    )
    return replace(base, **changes)


def items_of(order_id: str) -> list[tuple[str, str, int]]:
    rows = OrderItem.objects.filter(order__external_id=order_id).order_by("pk")
    return list(rows.values_list("sku", "name", "quantity"))


def test_it_creates_customers_orders_and_items() -> None:
    summary = orders_upsert([record(1), record(2, consent="given")])
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    customer = Customer.objects.get(email="buyer2@example.com")
    assert (customer.name, customer.time_zone, customer.consent) == (
        "Buyer 2",
        "Europe/Madrid",
        "given",
    )
    assert Customer.objects.get(email="buyer1@example.com").consent == "unknown"
    assert items_of("A-1") == [("SKU-1", "Burr grinder", 1), ("SKU-2", "Filters", 2)]
    assert not Invitation.objects.exists()  # nothing delivered yet


def test_the_same_records_again_change_nothing() -> None:
    orders_upsert([record(1), record(2)])
    before = list(Order.objects.values_list("pk", "updated_at").order_by("pk"))
    item_ids = list(OrderItem.objects.values_list("pk", flat=True).order_by("pk"))
    summary = orders_upsert([record(1), record(2)])
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2)
    assert list(Order.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert list(OrderItem.objects.values_list("pk", flat=True).order_by("pk")) == item_ids


def test_it_updates_what_changed_and_replaces_changed_items() -> None:
    orders_upsert([record(1), record(2), record(3)])
    items = (ItemRecord("SKU-9", "Kettle", 1),)
    summary = orders_upsert(
        [record(1, items=items), record(2, customer_name="Buyer Two"), record(3)]
    )
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    assert items_of("A-1") == [("SKU-9", "Kettle", 1)]
    assert Customer.objects.get(email="buyer2@example.com").name == "Buyer Two"


def test_it_keys_customers_by_their_lower_cased_email() -> None:
    orders_upsert([record(1, customer_email="Buyer@Example.com")])
    summary = orders_upsert([record(2, customer_email="buyer@example.com ")])
    assert summary.created == 1
    assert list(Customer.objects.values_list("email", flat=True)) == ["buyer@example.com"]
    with pytest.raises(ValueError, match="order A-3: a customer email is required"):
        orders_upsert([record(3, customer_email=" ")])


def test_a_later_record_for_the_same_order_wins() -> None:
    summary = orders_upsert([record(1), record(1, customer_name="Second")])
    assert summary.created == 1
    assert Customer.objects.get().name == "Second"


def test_an_older_order_does_not_overwrite_newer_customer_details() -> None:
    newer = record(2, customer_email="ana@example.com", customer_name="Ana Ruiz")
    newer = replace(newer, consent="not_given", placed_at=PLACED + timedelta(days=30))
    older = record(1, customer_email="ana@example.com", customer_name="Ana García")
    orders_upsert([newer])
    summary = orders_upsert([older])
    assert summary.created == 1
    ana = Customer.objects.get(email="ana@example.com")
    assert (ana.name, ana.consent) == ("Ana Ruiz", "not_given")
    # Both again, in either order and batch split: still nothing changes.
    assert orders_upsert([older]).unchanged == 1
    assert orders_upsert([newer, older]).unchanged == 2


def test_empty_consent_delivery_and_channel_keep_what_is_stored() -> None:
    delivered = timezone.now() - timedelta(days=1)
    orders_upsert([record(1, consent="given", delivered_at=delivered, channel="shop-es")])
    summary = orders_upsert([record(1)])
    assert summary.unchanged == 1
    order = Order.objects.select_related("customer").get()
    assert (order.delivered_at, order.channel, order.customer.consent) == (
        delivered,
        "shop-es",
        "given",
    )


def test_a_record_placed_after_the_recorded_delivery_is_refused_whole() -> None:
    delivered = PLACED + timedelta(days=2)
    orders_upsert([record(1, delivered_at=delivered)])
    later = record(1, placed_at=delivered + timedelta(hours=1))  # no delivery time: kept
    with pytest.raises(OrdersRefused) as refused:
        orders_upsert([record(2), later])
    assert refused.value.problems == {
        "A-1": ("delivered_at", "the delivery on record, 2025-03-03T10:00:00Z, is before placed_at")
    }
    assert Order.objects.get().placed_at == PLACED
    # With its delivery time, the record is whole again.
    fixed = replace(later, delivered_at=later.placed_at + timedelta(hours=1))
    assert orders_upsert([fixed]).updated == 1


def test_a_newly_delivered_order_gets_its_invitation_once() -> None:
    orders_upsert([record(1)])
    delivered = timezone.now() - timedelta(days=1)
    summary = orders_upsert([record(1, delivered_at=delivered)])
    assert summary.updated == 1
    invitation = Invitation.objects.get()
    assert invitation.state == Invitation.State.SCHEDULED
    assert invitation.due_at >= delivered + timedelta(days=7)
    orders_upsert([record(1, delivered_at=delivered + timedelta(hours=2))])
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().due_at == invitation.due_at


def test_a_suppressed_invitation_says_why() -> None:
    CustomerFactory(email="buyer1@example.com", invitations_stopped_at=timezone.now())
    orders_upsert([record(1, delivered_at=timezone.now())])
    invitation = Invitation.objects.get()
    assert (invitation.state, invitation.suppression_reason) == ("suppressed", "opted_out")


# On PostgreSQL: SQLite splits a large INSERT by its 999-parameter limit.
@pytest.mark.integration
def test_its_query_count_does_not_grow_with_the_batch() -> None:
    delivered = timezone.now() - timedelta(days=2)

    def queries(first: int, count: int) -> int:
        batch = [record(n, delivered_at=delivered) for n in range(first, first + count)]
        with CaptureQueriesContext(connection) as captured:
            orders_upsert(batch)
        return len(captured)

    few = queries(1000, 5)
    assert few == queries(2000, 200)
    # 17 for the upsert itself, plus the rollups' fixed reads before and after the writes.
    assert few <= 24
    assert Invitation.objects.count() == 205


def test_bulk_scheduling_decides_as_the_single_order_service() -> None:
    InvitationPolicy.objects.filter(pk=1).update(
        sample_percent=50, consent_mode="opt_in", send_on_weekends=False
    )
    now = timezone.now()
    customers = [
        CustomerFactory(consent="given", time_zone="America/New_York"),
        CustomerFactory(consent="given", time_zone="Asia/Tokyo", last_invited_at=now),
        CustomerFactory(consent="unknown"),
        CustomerFactory(consent="given", email=""),
        CustomerFactory(consent="given", invitations_stopped_at=now),
    ]
    pairs = []
    for n in range(40):
        delivered = now - timedelta(days=n % 12, hours=n * 5)
        customer = customers[n % len(customers)]
        pairs.append(
            (
                OrderFactory(customer=customer, delivered_at=delivered),
                OrderFactory(customer=customer, delivered_at=delivered),
            )
        )
    singles = [services.invitation_schedule(order=one, now=now) for one, _ in pairs]
    invitations_schedule(orders=[other for _, other in pairs], now=now)
    bulk = {i.order_id: i for i in Invitation.objects.filter(order__in=[o for _, o in pairs])}

    def outcome(invitation: Invitation) -> tuple[object, ...]:
        return (invitation.state, invitation.suppression_reason, invitation.due_at)

    got = [outcome(bulk[other.pk]) for _, other in pairs]
    # Sampling is per order id, so compare it apart from the rest.
    expected = [outcome(single) for single in singles]
    same_sample = [
        n
        for n, (one, other) in enumerate(pairs)
        if "sampled_out" not in (expected[n][1], got[n][1])
    ]
    assert len(same_sample) > 10
    assert [got[n] for n in same_sample] == [expected[n] for n in same_sample]
    reasons = {reason for _state, reason, _due in got}
    assert {"", "cooldown", "no_consent", "no_email", "opted_out", "sampled_out"} <= reasons


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_for_the_same_orders_store_each_once() -> None:
    delivered = timezone.now() - timedelta(days=1)
    batch = [
        record(n, delivered_at=delivered, customer_email="same@example.com") for n in range(50)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def upsert() -> None:
        try:
            barrier.wait()
            orders_upsert(batch)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=upsert) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Customer.objects.filter(email="same@example.com").count() == 1
    assert Order.objects.count() == 50
    assert OrderItem.objects.count() == 100
    assert Invitation.objects.count() == 50
