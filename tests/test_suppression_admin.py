"""The suppression list in the admin: Staff and Ops read it (viewers without addresses);
Ops remove an entry only with a reason, and the removal is kept: who, when, why."""

import pytest
from django.test import Client

from feedback.models import Suppression, SuppressionRemoval
from feedback.services.suppressions import suppression_add
from tests.factories import CustomerFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/feedback/suppression/"
EMAIL = "gone.admin@example.net"


@pytest.fixture
def entry() -> Suppression:
    customer = CustomerFactory(email=EMAIL)
    return suppression_add(
        email=EMAIL,
        reason="hard_bounce",
        source="dsn",
        customer=customer,
        detail="failed 5.1.1 smtp; 550 5.1.1 (recipient): User unknown",
    )


def remove(client: Client, entry: Suppression, **extra: str) -> object:
    data = {"action": "remove_entries", "_selected_action": [entry.pk], **extra}
    return client.post(CHANGELIST, data)


def test_ops_see_the_list_with_reason_source_and_whose_address(
    client: Client, entry: Suppression
) -> None:
    client.force_login(member("alice", "Ops"))
    page = client.get(CHANGELIST).content.decode()
    assert "hard bounce" in page
    assert "bounce message (DSN)" in page
    assert EMAIL in page
    assert "Remove from the suppression list" in page


def test_ops_find_an_address_by_searching_for_it(client: Client, entry: Suppression) -> None:
    suppression_add(email="other@example.org", reason="complaint", source="complaint")
    client.force_login(member("alice", "Ops"))
    found = client.get(CHANGELIST, {"q": " Gone.Admin@Example.NET "})
    assert list(found.context["cl"].result_list) == [entry]
    assert "1 result" in found.content.decode()
    nobody = client.get(CHANGELIST, {"q": "nobody@x.example"})
    assert list(nobody.context["cl"].result_list) == []


def test_ops_remove_an_entry_with_a_reason_and_it_is_audited(
    client: Client, entry: Suppression
) -> None:
    alice = member("alice", "Ops")
    client.force_login(alice)
    asked = remove(client, entry)
    assert asked.status_code == 200
    assert "Why (kept with the record)" in asked.content.decode()
    assert Suppression.objects.filter(pk=entry.pk).exists()

    without_reason = remove(client, entry, confirmed="yes", why="  ")
    assert "Please say why" in without_reason.content.decode()
    assert Suppression.objects.filter(pk=entry.pk).exists()

    done = remove(client, entry, confirmed="yes", why="Customer fixed their mailbox, ticket 88")
    assert done.status_code == 302
    assert not Suppression.objects.exists()
    removal = SuppressionRemoval.objects.get()
    assert (removal.removed_by, removal.why) == (alice, "Customer fixed their mailbox, ticket 88")
    assert (removal.reason, removal.source) == ("hard_bounce", "dsn")
    assert removal.customer_id == entry.customer_id
    history = client.get("/admin/feedback/suppressionremoval/").content.decode()
    assert "Customer fixed their mailbox, ticket 88" in history


def test_a_staff_viewer_reads_the_list_without_addresses_and_cannot_remove(
    client: Client, entry: Suppression
) -> None:
    client.force_login(member("bob", "Staff"))
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "hard bounce" in page.content.decode()
    assert EMAIL not in page.content.decode()
    assert "Remove from the suppression list" not in page.content.decode()
    remove(client, entry, confirmed="yes", why="I think it works now")
    assert Suppression.objects.filter(pk=entry.pk).exists()
    assert not SuppressionRemoval.objects.exists()
    assert client.get(f"{CHANGELIST}{entry.pk}/delete/").status_code == 403


def test_nobody_adds_or_changes_an_entry_by_hand_here(client: Client, entry: Suppression) -> None:
    client.force_login(member("alice", "Ops"))
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    client.post(f"{CHANGELIST}{entry.pk}/change/", {"reason": "manual"})
    entry.refresh_from_db()
    assert entry.reason == "hard_bounce"


def test_someone_without_a_role_sees_nothing(client: Client, entry: Suppression) -> None:
    client.force_login(member("charlie", None))
    response = client.get(CHANGELIST)
    assert response.status_code in (302, 403)
    assert "hard bounce" not in response.content.decode()
