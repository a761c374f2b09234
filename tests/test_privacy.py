"""Customer data rights in the admin: export everything as JSON, erase what identifies them."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback import services, tokens
from feedback.models import (
    Customer,
    EmailLog,
    FollowUp,
    InboundMessage,
    Invitation,
    PrivacyAudit,
    Response,
    Suppression,
)
from feedback.selectors.dashboard import Filters, dashboard_figures
from feedback.services.contacts import followup_add_note
from feedback.services.suppressions import suppression_add
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/feedback/customer/"
# Values that identify Ana; after erasure none may be left in any column of any table.
EMAIL = "ana.privacy@example.com"
NAME = "Ana Privacy-Lopez"
ORDER_ID = "SHOP-ANA-7731"
COMMENT = "Parcel left at the neighbour's, Ana"
NOTES = "Called Ana back on Tuesday"


@pytest.fixture
def alice() -> User:
    return User.objects.create_superuser("alice", "alice@example.com", "pw")


@pytest.fixture
def staff_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def ana(alice: User) -> Customer:
    """A customer with two answered orders, a follow-up, email logs and admin history."""
    customer = CustomerFactory(email=EMAIL, name=NAME)
    first = InvitationFactory(order=OrderFactory(customer=customer, external_id=ORDER_ID))
    second = InvitationFactory(order=OrderFactory(customer=customer))
    services.response_submit(
        invitation=first, rating=2, nps=3, comment=COMMENT, contact_requested=True
    )
    follow_up = FollowUp.objects.get(response__invitation=first)
    FollowUp.objects.filter(pk=follow_up.pk).update(notes=NOTES)
    followup_add_note(follow_up=follow_up, author=alice, text=NOTES)
    services.response_submit(invitation=second, rating=5, nps=10, quote_allowed=True)
    EmailLog.objects.create(
        invitation=first,
        kind="invitation",
        to_email=EMAIL,
        outcome="failed",
        error=f"550 mailbox {EMAIL} full",
    )
    # A bounce about her first invitation came back by mail and suppressed her address.
    InboundMessage.objects.create(
        channel="pipe",
        recipient="bounces+1-abc@tostadero-lumen.example",
        sender="MAILER-DAEMON@relay.example",
        subject=f"Undelivered Mail: {EMAIL}",
        kind="bounce",
        raw=f"To: bounces\n\n<{EMAIL}>: 550 5.1.1 User unknown\n".encode(),
        customer=customer,
    )
    suppression_add(email=EMAIL, reason="hard_bounce", source="dsn", customer=customer)
    LogEntry.objects.create(
        user=alice,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Name"]}}]),
    )
    return customer


def run_action(client: Client, action: str, customer: Customer, **extra: str) -> object:
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [customer.pk], **extra}, follow=False
    )


def figures() -> dict:
    """The staff dashboard's figures for the last 30 days, but for the list of comments."""
    end = timezone.now() + timedelta(days=1)
    shown = vars(dashboard_figures(Filters(start=end - timedelta(days=30), end=end)))
    return {name: value for name, value in shown.items() if name != "comments"}


def test_it_exports_everything_about_a_customer(staff_client: Client, ana: Customer) -> None:
    response = run_action(staff_client, "export_personal_data", ana)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{ana.pk}.json"'
    data = json.loads(response.content)
    assert data["customer"]["email"] == EMAIL
    assert data["customer"]["name"] == NAME
    assert ORDER_ID in [order["external_id"] for order in data["orders"]]
    assert len(data["order_items"]) == 4
    assert len(data["invitations"]) == 2
    assert sorted(r["rating"] for r in data["responses"]) == [2, 5]
    assert COMMENT in [r["comment"] for r in data["responses"]]
    assert [f["notes"] for f in data["follow_ups"]] == [NOTES]
    assert [n["text"] for n in data["follow_up_notes"]] == [NOTES]
    assert [log["to_email"] for log in data["email_logs"]] == [EMAIL]
    # The link's secrets are not the customer's data, and would let anyone answer as them.
    assert "token" not in response.content.decode()
    audit = PrivacyAudit.objects.get()
    assert (audit.action, audit.customer_id, audit.performed_by.username) == (
        "export",
        ana.pk,
        "alice",
    )
    audits = staff_client.get("/admin/feedback/privacyaudit/").content.decode()
    assert '<td class="field-action">export</td>' in audits
    assert f'<td class="field-customer_id">{ana.pk}</td>' in audits


def test_export_takes_one_customer_at_a_time(staff_client: Client, ana: Customer) -> None:
    other = CustomerFactory()
    response = staff_client.post(
        CHANGELIST,
        {"action": "export_personal_data", "_selected_action": [ana.pk, other.pk]},
        follow=True,
    )
    assert "Select one customer to export." in response.content.decode()
    assert not PrivacyAudit.objects.exists()


def test_erasure_asks_for_confirmation_first(staff_client: Client, ana: Customer) -> None:
    response = run_action(staff_client, "erase_personal_data", ana)
    assert response.status_code == 200
    assert "Erasing cannot be undone" in response.content.decode()
    ana.refresh_from_db()
    assert ana.email == EMAIL
    assert not PrivacyAudit.objects.exists()


def test_a_viewer_cannot_erase(client: Client, ana: Customer) -> None:
    viewer = User.objects.create_user("bob", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Staff"))
    client.force_login(viewer)
    response = run_action(client, "erase_personal_data", ana, confirmed="yes")
    ana.refresh_from_db()
    assert ana.email == EMAIL
    assert response.status_code == 403
    assert not PrivacyAudit.objects.exists()


# Every admin page a viewer might open that could list customers.
ADMIN_PAGES = [
    "/admin/",
    *(
        f"/admin/feedback/{model}/"
        for model in (
            "customer",
            "order",
            "invitation",
            "response",
            "followup",
            "emaillog",
            "privacyaudit",
            "apitoken",
        )
    ),
]


def test_a_viewer_cannot_list_customers_or_their_addresses(client: Client, ana: Customer) -> None:
    client.force_login(member("bob", "Staff"))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{ana.pk}/change/").status_code == 403
    for url in ADMIN_PAGES:
        assert EMAIL not in client.get(url).content.decode(), url


def test_a_viewer_cannot_export_personal_data(client: Client, ana: Customer) -> None:
    client.force_login(member("bob", "Staff"))
    response = run_action(client, "export_personal_data", ana)
    assert response.status_code == 403
    assert EMAIL not in response.content.decode()
    assert not PrivacyAudit.objects.exists()


def test_ops_export_and_erase_personal_data(client: Client, ana: Customer) -> None:
    client.force_login(member("olga", "Ops"))
    response = run_action(client, "export_personal_data", ana)
    assert response.status_code == 200
    assert json.loads(response.content)["customer"]["email"] == EMAIL
    assert run_action(client, "erase_personal_data", ana, confirmed="yes").status_code == 302
    ana.refresh_from_db()
    assert (ana.email, ana.name) == ("", "")
    audits = PrivacyAudit.objects.order_by("performed_at")
    assert [(a.action, a.performed_by.username) for a in audits] == [
        ("export", "olga"),
        ("erase", "olga"),
    ]


def test_staff_see_the_address_of_a_customer_who_asked_to_be_contacted(
    client: Client, ana: Customer
) -> None:
    client.force_login(member("bob", "Staff"))
    follow_up = FollowUp.objects.get(response__invitation__customer=ana)
    page = client.get(f"/staff/contacts/{follow_up.pk}/").content.decode()
    assert f'<a href="mailto:{EMAIL}">{EMAIL}</a>' in page


def text_columns() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('character varying', 'text', 'character', 'json', 'jsonb', "
            "'bytea')"
        )
        return cursor.fetchall()


def places_holding(value: str) -> list[str]:
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column, data_type in text_columns():
            # A bytea column (a whole inbound message) is read as text too.
            value_of = f"encode({quote(column)}, 'escape')" if data_type == "bytea" else None
            cursor.execute(
                f"SELECT count(*) FROM {quote(table)} "  # noqa: S608 (names from the catalogue)
                f"WHERE {value_of or quote(column) + '::text'} ILIKE %s",
                [f"%{value}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.mark.integration
def test_erasure_leaves_no_personal_value_and_the_same_figures(
    staff_client: Client, ana: Customer
) -> None:
    keeper = InvitationFactory(order__customer__name="Bea Kept")
    services.response_submit(invitation=keeper, rating=4, nps=8, comment="Fine")
    link = f"/f/{tokens.token_for(Invitation.objects.filter(customer=ana)[0].token_nonce)}/"
    assert Client().get(link).status_code == 200
    before = figures()
    assert (before["ratings"], before["nps_answers"], before["followups"].open) == (3, 3, 1)
    assert places_holding(COMMENT)
    assert "feedback_inboundmessage.raw" in places_holding(EMAIL)

    response = run_action(staff_client, "erase_personal_data", ana, confirmed="yes")
    assert response.status_code == 302

    for value in (EMAIL, NAME, ORDER_ID, COMMENT, NOTES):
        assert places_holding(value) == [], value
    assert figures() == before
    # The other customer keeps everything.
    assert Response.objects.get(invitation=keeper).comment == "Fine"
    assert sorted(Response.objects.values_list("rating", flat=True)) == [2, 4, 5]
    assert places_holding("Bea Kept") == ["feedback_customer.name"]
    # Her address stays suppressed (as a keyed hash), no longer linked to her row.
    entry = Suppression.objects.get(address_hash=tokens.address_hash(EMAIL))
    assert (entry.reason, entry.customer) == ("hard_bounce", None)
    assert not InboundMessage.objects.exists()
    audit = PrivacyAudit.objects.get()
    assert (audit.action, audit.customer_id) == ("erase", ana.pk)
    # Old links no longer open anything.
    assert Client().get(link).status_code == 404
