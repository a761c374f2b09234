"""The live policy in the admin: Ops edit it, every change is audited, bad input is refused."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from feedback.models import InvitationPolicy, PolicyVersion

pytestmark = pytest.mark.django_db

URL = "/admin/feedback/invitationpolicy/1/change/"


def member(name: str, group: str) -> User:
    user = User.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def form_data(**changes: object) -> dict:
    policy = InvitationPolicy.live()
    data = {
        "enabled": "on",
        "delay_after_delivery_days": policy.delay_after_delivery_days,
        "send_window_start": "09:00",
        "send_window_end": "18:00",
        "send_on_weekends": "on",
        "customer_cooldown_days": policy.customer_cooldown_days,
        "invitation_valid_days": policy.invitation_valid_days,
        "sample_percent": policy.sample_percent,
        "daily_send_cap": "",
        "consent_mode": policy.consent_mode,
        "snooze_choices": "[7, 14, 30]",
        "response_target_hours": policy.response_target_hours,
        "business_hours_start": "09:00",
        "business_hours_end": "17:00",
        "business_days": "[1, 2, 3, 4, 5]",
        "brake_complaint_percent": policy.brake_complaint_percent,
        "brake_hard_bounce_percent": policy.brake_hard_bounce_percent,
        "brake_window_days": policy.brake_window_days,
        "brake_window_messages": policy.brake_window_messages,
        "brake_min_messages": policy.brake_min_messages,
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_ops_change_the_policy_and_the_change_is_audited(client: Client) -> None:
    bob = member("bob", "Ops")
    client.force_login(bob)
    response = client.post(URL, form_data(delay_after_delivery_days=10, sample_percent=50))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = InvitationPolicy.live()
    assert (policy.delay_after_delivery_days, policy.sample_percent) == (10, 50)
    version = PolicyVersion.objects.get()
    assert version.changed_by == bob
    assert version.changes == {
        "delay_after_delivery_days": {"before": 7, "after": 10},
        "sample_percent": {"before": 100, "after": 50},
    }
    history = client.get(URL).content.decode()
    assert "delay_after_delivery_days: 7 → 10" in history
    assert "bob" in history


def test_saving_without_changes_writes_no_version(client: Client) -> None:
    client.force_login(member("bob", "Ops"))
    client.post(URL, form_data())
    assert not PolicyVersion.objects.exists()


def test_staff_can_view_but_not_change_the_policy(client: Client) -> None:
    client.force_login(member("carol", "Staff"))
    assert client.get(URL).status_code == 200
    response = client.post(URL, form_data(delay_after_delivery_days=1))
    assert response.status_code == 403
    assert InvitationPolicy.live().delay_after_delivery_days == 7


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("send_window_end", "08:00", "The window must end after it starts."),
        ("sample_percent", "101", "less than or equal to 100"),
        ("delay_after_delivery_days", "-1", "greater than or equal to 0"),
        ("snooze_choices", "[0, 400]", "between 1 and 90"),
        ("snooze_choices", "[7, 7]", "different whole numbers"),
    ],
)
def test_it_refuses_bad_values_with_a_message_on_the_field(
    client: Client, field: str, value: str, message: str
) -> None:
    client.force_login(member("bob", "Ops"))
    response = client.post(URL, form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PolicyVersion.objects.exists()
    assert InvitationPolicy.live().send_window_end.hour == 18
