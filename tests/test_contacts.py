"""The contact queue: only customers who asked, their details, assign / note / resolve."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from feedback.models import FollowUp, FollowUpNote
from tests.factories import InvitationFactory
from tests.staff import answered, member

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def detail(follow_up: FollowUp) -> str:
    return f"/staff/contacts/{follow_up.pk}/"


@pytest.fixture
def bob(client: Client) -> User:
    user = member("bob", "Staff")
    client.force_login(user)
    return user


def test_it_lists_only_customers_who_asked_with_their_contact_details(
    client: Client, bob: User
) -> None:
    asked = answered(name="Ana Asked", email="ana@example.com", comment="Box was " + XSS)
    answered(name="Quiet Quentin", email="quentin@example.com", contact_requested=False)
    html = client.get("/staff/contacts/").content.decode()
    assert "Ana Asked" in html and "ana@example.com" in html
    assert asked.invitation.order.external_id in html
    assert "2/5" in html
    assert "Quiet Quentin" not in html and "quentin@example.com" not in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert 'id="open-count">1<' in html


def test_it_shows_open_requests_first_and_filters_resolved_and_mine(
    client: Client, bob: User
) -> None:
    answered(name="Old Olga", asked_ago=timedelta(days=3))
    new = answered(name="New Nina", asked_ago=timedelta(hours=1)).follow_up
    done = answered(name="Done Dora", asked_ago=timedelta(days=9)).follow_up
    FollowUp.objects.filter(pk=done.pk).update(status="resolved", resolved_at=timezone.now())
    FollowUp.objects.filter(pk=new.pk).update(assignee=bob)
    html = client.get("/staff/contacts/?status=all").content.decode()
    assert html.index("Old Olga") < html.index("New Nina") < html.index("Done Dora")
    assert "Done Dora" not in client.get("/staff/contacts/").content.decode()
    resolved = client.get("/staff/contacts/?status=resolved").content.decode()
    assert "Done Dora" in resolved and "Old Olga" not in resolved
    mine = client.get("/staff/contacts/?mine=1").content.decode()
    assert "New Nina" in mine and "Old Olga" not in mine


def test_it_assigns_notes_and_resolves_with_a_log_of_who_did_what(
    client: Client, bob: User
) -> None:
    alice = member("alice", "Ops")
    follow_up = answered(name="Ana Asked").follow_up
    url = detail(follow_up)
    response = client.post(url, {"action": "assign", "assignee": alice.pk}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Assigned to alice." in response.content.decode()
    client.post(url, {"action": "note", "text": "Called, left a message. " + XSS})
    response = client.post(url, {"action": "resolve"}, follow=True)
    assert "Marked resolved." in response.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.assignee, follow_up.status) == (alice, "resolved")
    assert follow_up.resolved_at is not None
    log = [(e.author.username, e.text) for e in FollowUpNote.objects.order_by("pk")]
    assert log == [
        ("bob", "Assigned to alice."),
        ("bob", "Called, left a message. " + XSS),
        ("bob", "Resolved."),
    ]
    html = client.get(url).content.decode()
    assert "Called, left a message. &lt;script&gt;" in html
    assert "Reopen" in html
    client.post(url, {"action": "reopen"})
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.resolved_at) == ("open", None)


def test_it_refuses_bad_input_with_a_message_and_changes_nothing(client: Client, bob: User) -> None:
    outsider = member("charlie", None)
    follow_up = answered().follow_up
    url = detail(follow_up)
    response = client.post(url, {"action": "assign", "assignee": outsider.pk})
    assert response.status_code == 200
    assert "Choose a member of staff from the list." in response.content.decode()
    response = client.post(url, {"action": "note", "text": "   "})
    assert "Write a note first." in response.content.decode()
    response = client.post(url, {"action": "note", "text": "x" * 2001})
    assert "2000 characters or fewer" in response.content.decode()
    response = client.post(url, {"action": "explode"}, follow=True)
    assert "Unknown action" in response.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.assignee, follow_up.status) == (None, "open")
    assert not FollowUpNote.objects.exists()


def test_it_answers_bad_ids_with_not_found(client: Client, bob: User) -> None:
    assert client.get("/staff/contacts/999999/").status_code == 404
    assert client.post("/staff/contacts/999999/", {"action": "resolve"}).status_code == 404
    assert client.get("/staff/contacts/abc/").status_code == 404
    assert client.get("/staff/contacts/?status=nonsense&page=zzz").status_code == 200


def test_it_needs_a_csrf_token_to_change_anything(bob: User) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(bob)
    follow_up = answered().follow_up
    assert csrf_client.post(detail(follow_up), {"action": "resolve"}).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_a_resolved_request_counts_towards_the_median_shown(client: Client, bob: User) -> None:
    follow_up = answered(asked_ago=timedelta(hours=3)).follow_up
    client.post(detail(follow_up), {"action": "resolve"})
    html = client.get("/staff/contacts/").content.decode()
    assert 'id="median-time">3 h 0 min<' in html


def test_a_customer_who_unticks_contact_leaves_the_queue(client: Client) -> None:
    """Only customers who asked are contacted: an edit that unticks the box withdraws the
    request (its notes go with it); ticking it again opens a new one."""
    invitation = InvitationFactory(order__customer__name="Changed Mind")
    customer_page = f"/f/{invitation.token}/"
    customer = Client()
    asked = {"action": "send", "rating": "2", "contact_requested": "on"}
    assert customer.post(customer_page, asked).status_code == 302
    follow_up = FollowUp.objects.get()
    FollowUpNote.objects.create(follow_up=follow_up, text="Will call tomorrow.")
    client.force_login(member("bob", "Staff"))
    assert "Changed Mind" in client.get("/staff/contacts/").content.decode()

    assert customer.post(customer_page, {"action": "send", "rating": "3"}).status_code == 302
    assert not FollowUp.objects.exists() and not FollowUpNote.objects.exists()
    assert "Changed Mind" not in client.get("/staff/contacts/?status=all").content.decode()
    assert client.get(detail(follow_up)).status_code == 404

    customer.post(customer_page, asked)
    assert FollowUp.objects.get().status == "open"
