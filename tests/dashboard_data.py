"""Data for the dashboard and export tests: a small set counted by hand, and bulk rows."""

from datetime import timedelta

from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from feedback.models import Customer, FollowUp, Invitation, Order, OrderItem, Response
from feedback.services import response_submit
from feedback.services.rollups import rollups_reconcile
from tests.factories import InvitationFactory

State = Invitation.State


def staff_member() -> User:
    """bob, in the "Staff" group: may read feedback, not change the policy."""
    # is_staff: the staff pages, like the admin, admit staff accounts only.
    bob = User.objects.create_user("bob", "bob@example.com", "pw", is_staff=True)
    # A transactional test's flush empties the group the migration made: make it again.
    staff, _created = Group.objects.get_or_create(name="Staff")
    staff.permissions.add(Permission.objects.get(codename="view_response"))
    bob.groups.add(staff)
    return bob


def invite(days_ago: float, *, state: str = State.SENT, channel: str = "web", sku: str = "MUG"):
    """An invitation sent `days_ago` (or due then, when it was never sent)."""
    moment = timezone.now() - timedelta(days=days_ago)
    sent = state not in (State.SUPPRESSED, State.SEND_FAILED, State.SEND_UNKNOWN)
    invitation = InvitationFactory(
        order__channel=channel,
        order__items=[],
        state=state,
        due_at=moment,
        sent_at=moment if sent else None,
        suppression_reason="cooldown" if state == State.SUPPRESSED else "",
    )
    OrderItem.objects.create(order=invitation.order, sku=sku, name=f"{sku.title()} product")
    return invitation


def answer(invitation: Invitation, days_ago: float, rating: int, **fields: object) -> Response:
    response_submit(invitation=invitation, rating=rating, **fields)
    response = Response.objects.get(invitation=invitation)
    moment = timezone.now() - timedelta(days=days_ago)
    Response.objects.filter(pk=response.pk).update(submitted_at=moment)
    Invitation.objects.filter(pk=invitation.pk).update(responded_at=moment)
    FollowUp.objects.filter(response=response).update(created_at=moment)
    return response


def stop(invitation: Invitation, days_ago: float) -> None:
    moment = timezone.now() - timedelta(days=days_ago)
    Customer.objects.filter(pk=invitation.customer_id).update(invitations_stopped_at=moment)


def known_data() -> None:
    """The data set the expected figures below are counted from.

    Last 30 days, by sending: 9 sent; A, B, C answered (3/9 = 33%); D, D2 declined;
    E snoozed; F, G, G2 then stopped all invitations.
    Last 30 days, by submission: A 5★, B 4★, C 2★, and H 3★ (H was sent 32 days ago):
    CSAT 2/4 = 50%, average 3.5; NPS answers 10, 9, 3: (2 - 1) / 3 = +33.
    Due in the last 30 days and not sent: 2 cooldown + 1 opted out, 1 failed, 1 unknown.
    Older: I (sent 60 days ago, 1★) only counts in the 90-day view.
    """
    a = invite(3, sku="KETTLE")
    answer(a, 2, 5, nps=10, comment="<script>alert('x')</script> Lovely")
    answer(invite(4, sku="GRINDER"), 3, 4, nps=9, comment='=HYPERLINK("http://evil")')
    c = invite(5, channel="app")
    answer(c, 4, 2, nps=3, comment="Broken handle", contact_requested=True)
    invite(6, state=State.DECLINED)
    invite(6.5, state=State.DECLINED)
    e = invite(7, state=State.SNOOZED)
    Invitation.objects.filter(pk=e.pk).update(snooze_count=1)
    for days in (8, 9, 10):
        stop(invite(days, state=State.EXPIRED), days - 1)
    Invitation.objects.filter(state=State.DECLINED).update(declined_at=timezone.now())
    h = answer(invite(32, sku="KETTLE"), 29, 3, contact_requested=True)
    FollowUp.objects.filter(response=h).update(
        status=FollowUp.Status.RESOLVED,
        resolved_at=timezone.now() - timedelta(days=27),
    )
    answer(invite(60), 59, 1)
    for days in (2, 3):
        invite(days, state=State.SUPPRESSED)
    opted_out = invite(4, state=State.SUPPRESSED)
    Invitation.objects.filter(pk=opted_out.pk).update(suppression_reason="opted_out")
    invite(40, state=State.SUPPRESSED)
    invite(2, state=State.SEND_FAILED)
    invite(1, state=State.SEND_UNKNOWN)
    rollups_rebuild()


def rollups_rebuild() -> None:
    """The rows above are written straight to the tables (history, as an import of old
    data would be): count them in the rollups, as `reconcile_rollups --repair` does."""
    today = timezone.localdate()
    rollups_reconcile(
        first=today - timedelta(days=400), last=today + timedelta(days=40), repair=True
    )


def bulk_responses(count: int) -> None:
    """count answered invitations, one in ten asking to be contacted (some resolved)."""
    now = timezone.now()
    start = Order.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(email=f"bulk{start + i}@example.com") for i in range(count)
    )
    orders = Order.objects.bulk_create(
        Order(
            external_id=f"BULK-{start + i}",
            customer=customer,
            placed_at=now - timedelta(days=12),
            delivered_at=now - timedelta(days=10),
            channel=("web", "app")[i % 2],
        )
        for i, customer in enumerate(customers)
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, sku=f"SKU-{i % 7}", name="Thing") for i, order in enumerate(orders)
    )
    sent = [now - timedelta(days=i % 20 + 1) for i in range(count)]
    invitations = Invitation.objects.bulk_create(
        Invitation(
            order=order,
            customer=order.customer,
            state=State.RESPONDED,
            due_at=sent[i],
            sent_at=sent[i],
            responded_at=sent[i],
        )
        for i, order in enumerate(orders)
    )
    responses = Response.objects.bulk_create(
        Response(
            invitation=invitation,
            rating=i % 5 + 1,
            nps=i % 11,
            comment=f"comment {i}",
            contact_requested=i % 10 == 0,
            submitted_at=sent[i],
        )
        for i, invitation in enumerate(invitations)
    )
    FollowUp.objects.bulk_create(
        FollowUp(
            response=response,
            status="resolved" if i % 20 == 0 else "open",
            resolved_at=now if i % 20 == 0 else None,
        )
        for i, response in enumerate(responses)
        if response.contact_requested
    )
    rollups_rebuild()
