"""A customer's answer and the follow-ups on it are read-only in the admin, for every role
and for superusers: the answer is the customer's words, erasure is the one audited way to
remove them, and follow-ups change only through the contact queue, which logs who did what."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from feedback.models import FollowUp, FollowUpNote, Order, Response
from feedback.services.contacts import followup_add_note
from tests.staff import answered, member

pytestmark = pytest.mark.django_db

ROLES = ["superuser", "Ops", "Staff"]


def signed_in(client: Client, role: str) -> User:
    if role == "superuser":
        user = User.objects.create_superuser("root", "root@shop.example", "pw")
    else:
        user = member(role.lower(), role)
    client.force_login(user)
    return user


@pytest.fixture
def answer() -> Response:
    return answered(rating=2, comment="The lid cracked.", asked_ago=timedelta(hours=5))


def assert_answer_unchanged(answer: Response) -> None:
    stored = Response.objects.get(pk=answer.pk)
    assert (stored.rating, stored.comment, stored.submitted_at) == (
        2,
        "The lid cracked.",
        answer.submitted_at,
    )
    assert (stored.contact_requested, stored.quote_allowed) == (True, False)


def rewritten_answer(answer: Response) -> dict[str, str]:
    when = timezone.localtime(answer.submitted_at - timedelta(days=30))
    return {
        "invitation": str(answer.invitation_id),
        "rating": "5",
        "nps": "10",
        "comment": "Perfect!",
        "quote_allowed": "on",
        "submitted_at_0": when.strftime("%Y-%m-%d"),
        "submitted_at_1": when.strftime("%H:%M:%S"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_an_answer_but_nobody_may_change_it(
    client: Client, answer: Response, role: str
) -> None:
    signed_in(client, role)
    url = f"/admin/feedback/response/{answer.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "The lid cracked." in html
    assert 'name="_save"' not in html
    assert client.post(url, rewritten_answer(answer)).status_code == 403
    assert_answer_unchanged(answer)


@pytest.mark.parametrize("role", ROLES)
def test_nobody_may_add_or_delete_an_answer(client: Client, answer: Response, role: str) -> None:
    signed_in(client, role)
    changelist = client.get("/admin/feedback/response/").content.decode()
    assert "The lid cracked." in changelist
    assert "Add response" not in changelist
    assert client.get("/admin/feedback/response/add/").status_code == 403
    data = {**rewritten_answer(answer), "invitation": str(answered().invitation_id)}
    assert client.post("/admin/feedback/response/add/", data).status_code == 403
    delete = f"/admin/feedback/response/{answer.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Response.objects.count() == 2
    assert_answer_unchanged(answer)


def test_deleting_the_order_in_the_admin_cannot_take_its_answer(
    client: Client, answer: Response
) -> None:
    signed_in(client, "superuser")
    order = answer.invitation.order
    url = f"/admin/feedback/order/{order.pk}/delete/"
    assert "would require deleting the following protected" not in client.get(url).content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
    assert_answer_unchanged(answer)


def follow_up_form(follow_up: FollowUp, **changes: str) -> dict[str, str]:
    data = {
        "response": str(follow_up.response_id),
        "assignee": "",
        "status": "open",
        "notes": "",
    }
    return {**data, **changes}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_may_rewrite_a_follow_up_in_the_admin(
    client: Client, answer: Response, role: str
) -> None:
    signed_in(client, role)
    follow_up = answer.follow_up
    other = answered(comment="Someone else's answer.", contact_requested=False)
    url = f"/admin/feedback/followup/{follow_up.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(
        url, follow_up_form(follow_up, response=str(other.pk), status="resolved")
    )
    assert response.status_code == 403
    follow_up.refresh_from_db()
    assert (follow_up.response_id, follow_up.status, follow_up.resolved_at) == (
        answer.pk,
        "open",
        None,
    )
    assert client.get("/admin/feedback/followup/add/").status_code == 403
    delete = f"/admin/feedback/followup/{follow_up.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert FollowUp.objects.filter(pk=follow_up.pk).exists()


def test_the_admin_shows_a_follow_ups_log_read_only(client: Client, answer: Response) -> None:
    bob = signed_in(client, "Staff")
    followup_add_note(follow_up=answer.follow_up, author=bob, text="Called, no answer.")
    html = client.get(f"/admin/feedback/followup/{answer.follow_up.pk}/change/").content.decode()
    assert "Called, no answer." in html
    assert "entries-0-text" not in html  # shown as text, not as a field to edit
    assert FollowUpNote.objects.get().text == "Called, no answer."


def test_staff_still_work_the_queue_and_it_is_logged(client: Client, answer: Response) -> None:
    signed_in(client, "Staff")
    contact = f"/staff/contacts/{answer.follow_up.pk}/"
    assert client.post(contact, {"action": "resolve"}).status_code == 302
    follow_up = FollowUp.objects.get(pk=answer.follow_up.pk)
    assert follow_up.status == "resolved" and follow_up.resolved_at is not None
    assert [e.author.username for e in follow_up.entries.all()] == ["staff"]
