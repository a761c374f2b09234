"""Scheduling many delivered orders at once: the import's and the API's list form.

The same decision as invitation_schedule (the pure feedback.rules.decide over the same
facts), taken for a whole batch with a fixed number of queries: one to find the orders
that already have their invitation, one for their customers, one insert.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from feedback.models import Customer, Invitation, Order
from feedback.rules import decide
from feedback.services.invitations import _facts, _state_for, _token_fields, live_rules


def invitations_schedule_bulk(*, orders: Sequence[Order], now: datetime | None = None) -> int:
    """Give each delivered order without an invitation its one invitation, scheduled or
    suppressed with its reason. Idempotent, like the single-order service: an order that
    has its invitation keeps it, and the one-per-order constraint settles a race (the
    loser's row is dropped by ON CONFLICT DO NOTHING). Returns how many it inserted or
    found inserted by a concurrent call a moment ago."""
    delivered = {order.pk: order for order in orders if order.delivered_at is not None}
    if not delivered:
        return 0
    have = set(Invitation.objects.filter(order_id__in=delivered).values_list("order_id", flat=True))
    todo = [order for pk, order in sorted(delivered.items()) if pk not in have]
    if not todo:
        return 0
    # Fresh from the database, as order.customer would be for the single-order path: the
    # cooldown reads last_invited_at and the opt-out invitations_stopped_at.
    customers = Customer.objects.in_bulk({order.customer_id for order in todo})
    rules = live_rules()
    now = now or timezone.now()
    invitations = []
    for order in todo:
        customer = customers[order.customer_id]
        decision = decide(rules, _facts(order, customer), now)
        invitations.append(
            Invitation(
                order=order,
                customer=customer,
                due_at=decision.due_at,
                expires_at=decision.due_at + timedelta(days=rules.invitation_valid_days),
                **_token_fields(),
                **_state_for(decision),
            )
        )
    Invitation.objects.bulk_create(invitations, ignore_conflicts=True, batch_size=1000)
    return len(invitations)
