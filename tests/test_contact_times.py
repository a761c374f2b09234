"""On time: each contact request is due a first response by the policy's target in business
hours (the shop's time zone); the queue sorts by that and marks overdue ones; the dashboard
shows the median time to first response and the share answered within the target."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from feedback.business_hours import add_business_hours
from feedback.models import FollowUp, InvitationPolicy
from feedback.selectors.contacts import response_time_stats
from feedback.services.contacts import followup_open
from tests.dashboard_data import rollups_rebuild
from tests.staff import answered, member

MADRID = ZoneInfo("Europe/Madrid")
NINE_TO_FIVE = {"opens": time(9), "closes": time(17), "days": {1, 2, 3, 4, 5}, "zone": MADRID}


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("asked", "due"),
    [
        # Friday 16:00 before summer time starts (Sunday 29 March 2026): one hour on Friday,
        # seven on Monday, which is already summer time: 16:00 CEST, 14:00 UTC.
        (madrid(2026, 3, 27, 16, 0), datetime(2026, 3, 30, 14, 0, tzinfo=UTC)),
        # Friday 16:00 before summer time ends (Sunday 25 October 2026): Monday 16:00 CET.
        (madrid(2026, 10, 23, 16, 0), datetime(2026, 10, 26, 15, 0, tzinfo=UTC)),
        # Asked on Saturday: the day starts on Monday at 09:00; due at its close.
        (madrid(2026, 3, 28, 11, 0), datetime(2026, 3, 30, 15, 0, tzinfo=UTC)),
        # Asked before opening on a Tuesday: due at that day's close.
        (madrid(2026, 12, 1, 7, 30), datetime(2026, 12, 1, 16, 0, tzinfo=UTC)),
        # Asked in the middle of a Wednesday: the same time on Thursday.
        (madrid(2026, 12, 2, 12, 15), datetime(2026, 12, 3, 11, 15, tzinfo=UTC)),
    ],
)
def test_it_counts_eight_business_hours_across_weekends_and_clock_changes(
    asked: datetime, due: datetime
) -> None:
    assert add_business_hours(asked, 8, **NINE_TO_FIVE) == due


def test_a_shop_open_every_day_counts_the_real_hours_of_a_clock_change_night() -> None:
    # 00:00-23:59 every day. From Saturday 12:00 (CET) to closing, 11 h 59 min; the other
    # 12 h 01 min of the 24 real hours run from Sunday 00:00, through the hour the clocks
    # skip: 13:01 on Sunday's (summer) clock.
    every_day = {"opens": time(0), "closes": time(23, 59), "days": set(range(1, 8))}
    due = add_business_hours(madrid(2026, 3, 28, 12, 0), 24, zone=MADRID, **every_day)
    assert due.astimezone(MADRID) == madrid(2026, 3, 29, 13, 1)
    assert due - madrid(2026, 3, 28, 12, 0) == timedelta(hours=24, minutes=1)


def test_it_refuses_business_hours_that_cannot_end() -> None:
    with pytest.raises(ValueError):
        add_business_hours(
            madrid(2026, 3, 27, 16), 8, opens=time(9), closes=time(9), days={1}, zone=MADRID
        )
    with pytest.raises(ValueError):
        add_business_hours(
            madrid(2026, 3, 27, 16), 8, opens=time(9), closes=time(17), days=set(), zone=MADRID
        )


@pytest.mark.django_db
def test_a_new_request_is_due_by_the_policy_in_the_shops_time_zone(settings: object) -> None:
    settings.SHOP_TIME_ZONE = "Europe/Madrid"
    InvitationPolicy.objects.update_or_create(
        pk=1,
        defaults={
            "response_target_hours": 4,
            "business_hours_start": time(10),
            "business_hours_end": time(14),
            "business_days": [1, 2, 3, 4],
        },
    )
    response = answered(contact_requested=False)
    # Thursday 13:00 in Madrid: one hour on Thursday, none on Friday (not a business day),
    # three on Monday.
    follow_up, created = followup_open(response=response, now=madrid(2026, 3, 26, 13, 0))
    assert created
    assert follow_up.response_due_at == madrid(2026, 3, 30, 13, 0)


@pytest.mark.django_db
def test_the_queue_sorts_by_due_time_and_marks_the_overdue_ones(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    now = timezone.now()
    for name, due, answered_at in [
        ("Later Lola", now + timedelta(hours=5), None),
        ("Late Luis", now - timedelta(hours=2), None),
        ("Answered Ada", now - timedelta(hours=9), now - timedelta(hours=10)),
    ]:
        follow_up = answered(name=name).follow_up
        FollowUp.objects.filter(pk=follow_up.pk).update(
            response_due_at=due, first_response_at=answered_at
        )
    html = client.get("/staff/contacts/").content.decode()
    assert html.index("Answered Ada") < html.index("Late Luis") < html.index("Later Lola")
    rows = {name: html[html.index(name) :].split("</tr>")[0] for name in ("Ada", "Luis", "Lola")}
    assert "overdue" in rows["Luis"]
    assert "overdue" not in rows["Ada"] and "overdue" not in rows["Lola"]


def hand_counted(now: datetime) -> None:
    """Five requests made a day ago with an 8-hour target, counted by hand:
    answered after 2 h, 10 h (late) and 6 h; one unanswered past its due time (late); one
    not due yet (not judged). Resolved: the first after 24 h, the second after 72 h.
    Median first response 6 h; within the target 2 of 4 (50%); median to resolve 48 h."""
    asked = now - timedelta(days=1)
    rows = [
        (2, 24, asked + timedelta(hours=8)),
        (10, 72, asked + timedelta(hours=8)),
        (6, None, asked + timedelta(hours=8)),
        (None, None, now - timedelta(hours=1)),
        (None, None, now + timedelta(hours=1)),
    ]
    for first, resolve, due in rows:
        follow_up = answered(asked_ago=timedelta(days=1)).follow_up
        FollowUp.objects.filter(pk=follow_up.pk).update(
            created_at=asked,
            response_due_at=due,
            first_response_at=asked + timedelta(hours=first) if first else None,
            status="resolved" if resolve else "open",
            resolved_at=asked + timedelta(hours=resolve) if resolve else None,
        )


@pytest.mark.django_db
def test_the_figures_match_a_hand_count() -> None:
    now = timezone.now()
    hand_counted(now)
    stats = response_time_stats(now=now)
    assert stats.median_first_response == timedelta(hours=6)
    assert (stats.on_time, stats.judged, stats.on_time_percent) == (2, 4, 50)
    assert stats.median_time_to_resolve == timedelta(hours=48)


@pytest.mark.django_db
def test_the_dashboard_shows_them_next_to_the_time_to_resolve(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    hand_counted(timezone.now())
    rollups_rebuild()  # hand_counted writes the follow-ups' rows straight to the table
    html = client.get("/staff/?period=30").content.decode()
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    assert figures["first_response"] == "6 h"
    assert figures["on_time"] == "50%"
    assert figures["time_to_resolve"] == "2 d 0 h"


@pytest.mark.django_db
def test_ops_set_the_target_on_the_policy_page_and_the_change_is_audited(client: Client) -> None:
    from feedback.models import PolicyVersion
    from tests.test_policy_page import edit_data

    client.force_login(member("alice", "Ops"))
    bad = edit_data(client, business_days="1, 8", business_hours_end="08:00")
    html = client.post("/staff/policy/edit/", bad).content.decode()
    assert "Give the working days as different numbers from 1 (Monday) to 7" in html
    assert "Business hours must end after they start." in html
    assert not PolicyVersion.objects.exists()
    good = edit_data(client, response_target_hours="16", business_days="1, 2, 3, 4, 5, 6")
    assert client.post("/staff/policy/edit/", good).status_code == 302
    version = PolicyVersion.objects.get()
    assert version.changes["response_target_hours"] == {"before": 8, "after": 16}
    assert version.changes["business_days"] == {
        "before": [1, 2, 3, 4, 5],
        "after": [1, 2, 3, 4, 5, 6],
    }
    html = client.get("/staff/policy/").content.decode()
    assert (
        "within 16 business hours (Monday, Tuesday, Wednesday, Thursday, Friday, Saturday" in html
    )
