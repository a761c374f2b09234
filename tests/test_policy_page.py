"""The staff policy page: the live rules in plain words, their history, the Ops editor."""

from datetime import time
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from feedback import services
from feedback.models import InvitationPolicy, PolicyVersion
from feedback.policy_words import describe_policy
from tests.staff import member
from tests.test_simulator import form as simulator_form

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """What a browser would submit from a page's form, as shown."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if a.get("type") != "checkbox":
                self.data[name] = a.get("value") or ""
            elif "checked" in a:
                self.data[name] = a.get("value") or "on"
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


def shown_form(html: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(html)
    return reader.data


def edit_data(client: Client, **changes: str) -> dict[str, str]:
    """The editor's form as a browser posts it: the values it opened with, then changes."""
    return {**shown_form(client.get("/staff/policy/edit/").content.decode()), **changes}


@pytest.fixture
def alice(client: Client) -> User:
    user = member("alice", "Ops")
    client.force_login(user)
    return user


def test_it_tells_the_live_policy_in_plain_words(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    html = client.get("/staff/policy/").content.decode()
    assert (
        "Invitations go out 7 days after delivery, between 09:00 and 18:00 in the "
        "customer&#x27;s time zone, every day, weekends included." in html
    )
    assert "A customer gets at most one invitation every 90 days." in html
    assert "Every delivered order is invited (sample 100%)." in html
    assert "Customers are invited unless they said no (notice)." in html
    assert "There is no daily limit on invitations." in html
    assert "“Ask me later” offers 7, 14 or 30 days, once per invitation." in html
    assert "nobody has changed it yet" in html
    assert "Edit the policy" not in html


def test_every_rule_reads_right_when_changed() -> None:
    policy = InvitationPolicy(
        enabled=False,
        delay_after_delivery_days=1,
        send_window_start=time(10, 30),
        send_window_end=time(16, 0),
        send_on_weekends=False,
        customer_cooldown_days=30,
        invitation_valid_days=14,
        sample_percent=25,
        daily_send_cap=500,
        consent_mode="opt_in",
        snooze_choices=[],
        nps_enabled=True,
        response_target_hours=16,
        business_hours_start=time(8, 0),
        business_hours_end=time(14, 0),
        business_days=[6, 1, 2],
        brake_complaint_percent=0.25,
        brake_hard_bounce_percent=4,
        brake_window_days=7,
        brake_window_messages=2000,
        brake_min_messages=100,
    )
    assert describe_policy(policy) == [
        "Invitations are off: no invitation is scheduled for any order.",
        "Invitations go out 1 day after delivery, between 10:30 and 16:00 in the customer's "
        "time zone, on weekdays only.",
        "About 25% of delivered orders are invited, chosen by order number (the same order "
        "always gets the same answer).",
        "Only customers who gave their consent are invited (opt-in).",
        "A customer gets at most one invitation every 30 days.",
        "At most 500 invitations are sent per day (UTC day); the rest are not sent.",
        "An invitation link takes answers for 14 days; an invitation that could not go out "
        "within that time is dropped.",
        "“Ask me later” is off.",
        "The 0–10 “would you recommend us” question is asked.",
        "A customer who asks to be contacted should hear from the team within 16 business "
        "hours (Monday, Tuesday, Saturday, 08:00–14:00, UTC time).",
        "Sending pauses itself, until Ops resume it, when spam complaints pass 0.25% or hard "
        "bounces pass 4% of the messages sent in the last 7 days (at most the latest 2000 "
        "messages, and once at least 100 were sent).",
    ]


def test_ops_edit_it_and_the_history_says_who_changed_what(client: Client, alice: User) -> None:
    assert "Edit the policy" in client.get("/staff/policy/").content.decode()
    data = edit_data(client, customer_cooldown_days="30", send_on_weekends="", daily_send_cap="200")
    response = client.post("/staff/policy/edit/", data, follow=True)
    assert response.redirect_chain == [("/staff/policy/", 302)]
    html = response.content.decode()
    assert "Policy saved: 3 changes recorded." in html
    assert "on weekdays only" in html
    version = PolicyVersion.objects.get()
    assert version.changed_by == alice
    for line in (
        "Customer cooldown (days): 90 → 30",
        "Send on weekends: yes → no",
        "Daily send cap: no cap → 200",
    ):
        assert line in html
    assert "<td>alice</td>" in html


def test_saving_the_same_values_records_nothing(client: Client, alice: User) -> None:
    response = client.post("/staff/policy/edit/", edit_data(client), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert not PolicyVersion.objects.exists()


def test_bad_values_are_refused_on_their_field(client: Client, alice: User) -> None:
    data = edit_data(client, send_window_end="08:00", snooze_choices="7, soon", sample_percent="")
    response = client.post("/staff/policy/edit/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The window must end after it starts." in html
    assert "Give whole numbers of days separated by commas, e.g. 7, 14, 30." in html
    assert "This field is required." in html
    # The live policy beside the form is still the stored one.
    assert "between 09:00 and 18:00 in the customer&#x27;s time zone" in html
    assert InvitationPolicy.live().send_window_end == time(18, 0)
    assert not PolicyVersion.objects.exists()


def test_a_change_saved_meanwhile_is_not_overwritten(client: Client, alice: User) -> None:
    data = edit_data(client, sample_percent="50")
    policy = InvitationPolicy.live()
    policy.customer_cooldown_days = 60
    services.policy_save(policy=policy, changed_by=member("olga", "Ops"))
    response = client.post("/staff/policy/edit/", data)
    assert response.status_code == 409
    assert "Someone saved the policy while you were editing" in response.content.decode()
    live = InvitationPolicy.live()
    assert (live.customer_cooldown_days, live.sample_percent) == (60, 100)


def test_the_history_is_paginated_newest_first(client: Client, alice: User) -> None:
    policy = InvitationPolicy.live()
    for days in range(1, 13):
        policy.delay_after_delivery_days = days
        services.policy_save(policy=policy, changed_by=alice)
    first = client.get("/staff/policy/").content.decode()
    assert "Delay after delivery (days): 11 → 12" in first
    assert "Delay after delivery (days): 1 → 2" not in first
    second = client.get("/staff/policy/?page=2").content.decode()
    assert "Delay after delivery (days): 1 → 2" in second
    assert "Page 2 of 2" in second


def test_the_simulator_draft_opens_prefilled_in_the_editor(client: Client, alice: User) -> None:
    draft = {
        k: v for k, v in simulator_form(customer_cooldown_days="45").items() if k[:7] != "period_"
    }
    del draft["send_on_weekends"]  # an unticked box is absent from a submitted form
    html = client.get("/staff/policy/edit/", draft).content.decode()
    assert 'name="customer_cooldown_days" value="45"' in html
    assert 'name="send_on_weekends" class="checkboxinput form-check-input"' in html
    assert 'name="send_on_weekends" class="checkboxinput form-check-input" checked' not in html
    assert "is-invalid" not in html
    assert InvitationPolicy.live().customer_cooldown_days == 90


def test_it_keeps_both_colleagues_changes_when_they_edit_at_once() -> None:
    olga, alice = Client(), Client()
    olga.force_login(member("olga", "Ops"))
    alice.force_login(member("alice", "Ops"))
    olga.post("/staff/policy/edit/", edit_data(olga, customer_cooldown_days="60"))
    alice_tab = edit_data(alice, daily_send_cap="200")  # opened before olga's next save
    olga.post("/staff/policy/edit/", edit_data(olga, customer_cooldown_days="45"))

    response = alice.post("/staff/policy/edit/", alice_tab)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone saved the policy while you were editing" in html
    assert "Customer cooldown (days): 60 → 45" in html
    assert "Daily send cap: no cap → 200" in html
    shown = shown_form(html)
    assert (shown["customer_cooldown_days"], shown["daily_send_cap"]) == ("45", "200")

    response = alice.post("/staff/policy/edit/", shown, follow=True)
    assert "Policy saved: 1 change recorded." in response.content.decode()
    live = InvitationPolicy.live()
    assert (live.customer_cooldown_days, live.daily_send_cap) == (45, 200)
    history = [v.changes for v in PolicyVersion.objects.order_by("pk")]
    assert history == [
        {"customer_cooldown_days": {"before": 90, "after": 60}},
        {"customer_cooldown_days": {"before": 60, "after": 45}},
        {"daily_send_cap": {"before": None, "after": 200}},
    ]
    assert "45 → 60" not in alice.get("/staff/policy/").content.decode()


def test_it_says_when_both_changed_the_same_field() -> None:
    olga, alice = Client(), Client()
    olga.force_login(member("olga", "Ops"))
    alice.force_login(member("alice", "Ops"))
    alice_tab = edit_data(alice, customer_cooldown_days="30", sample_percent="50")
    olga.post("/staff/policy/edit/", edit_data(olga, customer_cooldown_days="45"))

    html = alice.post("/staff/policy/edit/", alice_tab).content.decode()
    assert "You both changed Customer cooldown (days): your value is shown." in html
    shown = shown_form(html)
    assert (shown["customer_cooldown_days"], shown["sample_percent"]) == ("30", "50")
    assert InvitationPolicy.live().customer_cooldown_days == 45
