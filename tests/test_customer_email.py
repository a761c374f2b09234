"""One mailbox, one customer: however a sender spells the address's domain."""

import importlib

import pytest
from django.apps import apps

from feedback import services
from feedback.models import Customer, Invitation
from feedback.services import api_tokens
from tests.factories import CustomerFactory
from tests.test_api import Api, order, problems
from tests.test_orders_upsert import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]


@pytest.fixture
def api() -> Api:
    return Api(api_tokens.api_token_create(name="shop sync", created_by=None)[1])


def test_it_keeps_one_customer_for_a_domain_in_unicode_or_ascii(api: Api) -> None:
    for n, email in enumerate(["ana@exämple.com", "ana@xn--exmple-cua.com", "Ana@EXÄMPLE.COM"]):
        response = api.post("/orders", order(f"SHOP-{n}", customer_email=email))
        assert response.status_code == 200, response.content
    customer = Customer.objects.get()
    assert customer.email == "ana@xn--exmple-cua.com"
    assert customer.orders.count() == 3


def test_a_customer_who_stopped_all_is_not_invited_under_the_other_spelling() -> None:
    services.orders_upsert([record(1, customer_email="ana@exämple.com")])
    services.customer_stop_invitations(customer=Customer.objects.get())
    delivered = record(1).placed_at
    services.orders_upsert(
        [record(2, customer_email="ANA@XN--EXMPLE-CUA.com", delivered_at=delivered)]
    )
    assert Customer.objects.count() == 1
    invitation = Invitation.objects.get(order__external_id="A-2")
    assert (invitation.state, invitation.suppression_reason) == ("suppressed", "opted_out")


def test_a_domain_that_cannot_be_spelled_in_ascii_is_refused(api: Api) -> None:
    response = api.post("/orders", order(customer_email=f"ana@{'ä' * 70}.com"))
    assert response.status_code == 422
    assert "is not a valid email address" in problems(response)["customer_email"]
    assert not Customer.objects.exists()


def test_customers_stored_before_move_to_the_ascii_spelling() -> None:
    migration = importlib.import_module("feedback.migrations.0007_customer_email_ascii_domain")
    CustomerFactory(email="ana@exämple.com")
    CustomerFactory(email="bo@exämple.com")
    CustomerFactory(email="bo@xn--exmple-cua.com")  # already two customers: left to a person
    migration.move_to_ascii_domains(apps, None)
    assert sorted(Customer.objects.values_list("email", flat=True)) == [
        "ana@xn--exmple-cua.com",
        "bo@exämple.com",
        "bo@xn--exmple-cua.com",
    ]
    services.orders_upsert([record(1, customer_email="ana@exämple.com")])
    assert Customer.objects.count() == 3
