"""Who may open what under /staff/: anonymous visitors go to the login page, a customer's
link opens nothing there, Staff read everything but may not change the policy, Ops may."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from feedback.models import FollowUp, InvitationPolicy, PolicyVersion
from feedback.services.policy import policy_snapshot
from feedback.staff_forms import CONTACT_TARGET_FIELDS, policy_form_data
from tests.staff import answered, member
from tests.test_simulator import form as simulator_form

pytestmark = pytest.mark.django_db

# Every staff page a GET opens; {pk} is a contact request.
PAGES = [
    ("feedback:dashboard", {}),
    ("feedback:export", {}),
    ("feedback:contacts", {}),
    ("feedback:contact", {"pk": None}),
    ("feedback:policy", {}),
    ("feedback:simulate", {}),
    ("feedback:outbox", {}),
]
LOGIN = reverse("feedback:login")


@pytest.fixture
def follow_up() -> FollowUp:
    return answered(name="Asked Anna").follow_up


def url(name: str, kwargs: dict, follow_up: FollowUp) -> str:
    return reverse(name, kwargs={k: follow_up.pk for k in kwargs})


def policy_data(**changes: str) -> dict[str, str]:
    data = {k: v for k, v in simulator_form().items() if not k.startswith("period_")}
    # The simulator leaves out the contact queue's target; the editor has it.
    live = policy_form_data(InvitationPolicy.live())
    data.update({name: live[name] for name in CONTACT_TARGET_FIELDS})
    # The editor's form carries the values it was opened with.
    data["loaded"] = json.dumps(policy_snapshot(InvitationPolicy.live()))
    return {**data, **changes}


def assert_policy_unchanged() -> None:
    assert InvitationPolicy.live().customer_cooldown_days == 90
    assert not PolicyVersion.objects.exists()


def assert_follow_up_open(follow_up: FollowUp) -> None:
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(
    client: Client, follow_up: FollowUp, name: str, kwargs: dict
) -> None:
    target = url(name, kwargs, follow_up)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_anonymous_posts_change_nothing(client: Client, follow_up: FollowUp) -> None:
    contact = reverse("feedback:contact", args=[follow_up.pk])
    assert client.post(contact, {"action": "resolve"})["Location"].startswith(LOGIN)
    edit = reverse("feedback:policy_edit")
    response = client.post(edit, policy_data(customer_cooldown_days="1"))
    assert response["Location"].startswith(LOGIN)
    assert_follow_up_open(follow_up)
    assert_policy_unchanged()


def test_a_customers_link_opens_no_staff_page(client: Client, follow_up: FollowUp) -> None:
    token = follow_up.response.invitation.token
    # The customer's own page works, and leaves whatever cookies it sets in this client.
    assert client.get(f"/f/{token}/").status_code == 200
    client.cookies["token"] = token
    for name, kwargs in [*PAGES, ("feedback:policy_edit", {})]:
        target = url(name, kwargs, follow_up)
        for response in (
            client.get(target),
            client.get(target, {"token": token}),
            client.get(target, headers={"authorization": f"Bearer {token}"}),
        ):
            assert response.status_code == 302, target
            assert response["Location"].startswith(LOGIN)
    client.post(reverse("feedback:contact", args=[follow_up.pk]), {"action": "resolve"})
    assert_follow_up_open(follow_up)


@pytest.mark.parametrize(("name", "kwargs"), [*PAGES, ("feedback:policy_edit", {})])
def test_a_signed_in_user_without_a_role_is_refused(
    client: Client, follow_up: FollowUp, name: str, kwargs: dict
) -> None:
    client.force_login(member("charlie", None))
    assert client.get(url(name, kwargs, follow_up)).status_code == 403


@pytest.mark.parametrize(("group", "superuser"), [("Staff", False), ("Ops", False), (None, True)])
def test_staff_ops_and_superusers_open_every_page(
    client: Client, follow_up: FollowUp, group: str | None, superuser: bool
) -> None:
    user = member("dana", group)
    User.objects.filter(pk=user.pk).update(is_superuser=superuser, is_staff=True)
    client.force_login(user)
    for name, kwargs in PAGES:
        target = url(name, kwargs, follow_up)
        assert client.get(target).status_code == 200, target
    assert "Asked Anna" in client.get(reverse("feedback:contacts")).content.decode()


@pytest.mark.parametrize(("name", "kwargs"), [*PAGES, ("feedback:policy_edit", {})])
@pytest.mark.parametrize(("group", "superuser"), [("Staff", False), ("Ops", False), (None, True)])
def test_a_user_without_staff_status_is_refused(
    client: Client,
    follow_up: FollowUp,
    name: str,
    kwargs: dict,
    group: str | None,
    superuser: bool,
) -> None:
    user = member("dana", group)
    User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=superuser)
    client.force_login(user)
    assert client.get(url(name, kwargs, follow_up)).status_code == 403


def test_removing_staff_status_ends_a_live_session_s_access(
    client: Client, follow_up: FollowUp
) -> None:
    bob = member("bob", "Staff")
    client.force_login(bob)
    dashboard, export = reverse("feedback:dashboard"), reverse("feedback:export")
    assert client.get(dashboard).status_code == 200
    assert client.get(export).status_code == 200
    User.objects.filter(pk=bob.pk).update(is_staff=False)
    for target in (dashboard, export, reverse("feedback:contacts")):
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"Asked Anna" not in b"".join(response)
    contact = reverse("feedback:contact", args=[follow_up.pk])
    assert client.post(contact, {"action": "resolve"}).status_code == 403
    assert_follow_up_open(follow_up)


def test_a_deactivated_user_is_sent_to_the_login_page(client: Client, follow_up: FollowUp) -> None:
    alice = member("alice", "Ops")
    client.force_login(alice)
    assert client.get(reverse("feedback:dashboard")).status_code == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)
    for name, kwargs in PAGES:
        response = client.get(url(name, kwargs, follow_up))
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")


def test_staff_may_work_the_queue(client: Client, follow_up: FollowUp) -> None:
    client.force_login(member("bob", "Staff"))
    contact = reverse("feedback:contact", args=[follow_up.pk])
    assert client.post(contact, {"action": "resolve"}).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "resolved"


def test_staff_view_the_policy_but_may_not_change_it(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    page = client.get(reverse("feedback:policy")).content.decode()
    assert "Invitations go out 7 days after delivery" in page
    assert reverse("feedback:policy_edit") not in page
    edit = reverse("feedback:policy_edit")
    assert client.get(edit).status_code == 403
    assert client.post(edit, policy_data(customer_cooldown_days="1")).status_code == 403
    assert_policy_unchanged()


def test_ops_change_the_policy_and_it_is_audited_with_their_name(client: Client) -> None:
    alice = member("alice", "Ops")
    client.force_login(alice)
    edit = reverse("feedback:policy_edit")
    assert client.get(edit).status_code == 200
    response = client.post(edit, policy_data(customer_cooldown_days="30"))
    assert response.status_code == 302
    assert InvitationPolicy.live().customer_cooldown_days == 30
    version = PolicyVersion.objects.get()
    assert version.changed_by == alice
    assert version.changes == {"customer_cooldown_days": {"before": 90, "after": 30}}
