"""Erasure keeps the address's wish not to be invited (as a keyed hash), and both privacy
actions work as commands, audited like the admin's."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from feedback import services
from feedback.models import Customer, Invitation, PrivacyAudit, Suppression
from feedback.services import api_tokens
from tests.factories import InvitationFactory, OrderFactory
from tests.test_api import Api, order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

State = Invitation.State


@pytest.fixture
def api() -> Api:
    return Api(api_tokens.api_token_create(name="shop sync", created_by=None)[1])


def delivered_order(api: Api, order_id: str = "SHOP-1001") -> Invitation:
    placed = (timezone.now() - timedelta(days=12)).isoformat(timespec="seconds")
    delivered = (timezone.now() - timedelta(days=10)).isoformat(timespec="seconds")
    assert api.post("/orders", order(order_id, placed_at=placed)).status_code == 200
    response = api.post(f"/orders/{order_id}/delivered", {"delivered_at": delivered})
    assert response.status_code == 200, response.content
    return Invitation.objects.get(order__external_id=order_id)


def test_a_stop_all_outlives_erasure_when_the_shop_sends_the_order_again(
    api: Api, smtp_settings: object
) -> None:
    first = delivered_order(api)
    services.customer_stop_invitations(customer=first.customer)
    call_command("customer_erase", "ANA@example.com", "--no-input", stdout=StringIO())
    assert not Customer.objects.filter(email="ana@example.com").exists()
    again = delivered_order(api)  # the shop's system re-sends the same order
    assert again.pk != first.pk and again.customer.email == "ana@example.com"
    assert (again.state, again.suppression_reason) == (State.SUPPRESSED, "suppressed")
    services.invitations_sweep(send=services.send_here)
    assert smtp_settings.count() == 0
    # The list keeps no address, only its keyed hash.
    entry = Suppression.objects.get()
    assert "ana" not in entry.address_hash and entry.reason == "unsubscribed"


def test_an_address_listed_after_scheduling_is_not_sent_either(
    api: Api, smtp_settings: object
) -> None:
    waiting = delivered_order(api, "SHOP-2")
    other = InvitationFactory(order=OrderFactory(customer=waiting.customer), state=State.RESPONDED)
    services.customer_stop_invitations(customer=other.customer)
    call_command("customer_erase", "ana@example.com", "--no-input", stdout=StringIO())
    services.invitations_sweep(send=services.send_here)
    waiting.refresh_from_db()
    assert waiting.state == State.SUPPRESSED
    assert smtp_settings.count() == 0


def test_the_commands_export_and_erase_and_are_audited(api: Api) -> None:
    invitation = delivered_order(api)
    out = StringIO()
    call_command("customer_export", "Ana@EXAMPLE.com", stdout=out)
    exported = json.loads(out.getvalue())
    assert exported["customer"]["email"] == "ana@example.com"
    assert [o["external_id"] for o in exported["orders"]] == ["SHOP-1001"]
    call_command("customer_erase", "ana@example.com", "--no-input", stdout=StringIO())
    invitation.customer.refresh_from_db()
    assert invitation.customer.email == "" and invitation.customer.name == ""
    audits = PrivacyAudit.objects.order_by("performed_at")
    assert [(a.action, a.customer_id) for a in audits] == [
        ("export", invitation.customer_id),
        ("erase", invitation.customer_id),
    ]


def test_an_unknown_address_is_a_clear_error_and_changes_nothing() -> None:
    with pytest.raises(CommandError, match="no customer has the address"):
        call_command("customer_erase", "nobody@example.com", "--no-input")
    with pytest.raises(CommandError, match="no customer has the address"):
        call_command("customer_export", "nobody@example.com")
    assert not PrivacyAudit.objects.exists()
