from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import FollowUp, Response
from feedback.selectors.contacts import followup_stats, median_by_sorting
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def follow_up(*, hours_to_resolve: float | None = None, channel: str = "web") -> FollowUp:
    invitation = InvitationFactory(order__channel=channel)
    response = Response.objects.create(
        invitation=invitation, rating=2, contact_requested=True, submitted_at=timezone.now()
    )
    created = timezone.now() - timedelta(days=3)
    follow_up = FollowUp.objects.create(response=response)
    resolved = hours_to_resolve is not None
    FollowUp.objects.filter(pk=follow_up.pk).update(
        created_at=created,
        status=FollowUp.Status.RESOLVED if resolved else FollowUp.Status.OPEN,
        resolved_at=created + timedelta(hours=hours_to_resolve) if resolved else None,
    )
    return follow_up


def test_it_shows_no_median_before_anything_is_resolved() -> None:
    follow_up()
    stats = followup_stats()
    assert (stats.open, stats.resolved, stats.median_time_to_resolve) == (1, 0, None)


def test_it_counts_open_ones_and_takes_the_middle_resolution_time() -> None:
    follow_up()
    follow_up()
    for hours in (1, 5, 30):
        follow_up(hours_to_resolve=hours)
    stats = followup_stats()
    assert (stats.open, stats.resolved) == (2, 3)
    assert stats.median_time_to_resolve == timedelta(hours=5)


def test_it_averages_the_two_middle_times_of_an_even_count() -> None:
    for hours in (1, 2, 6, 100):
        follow_up(hours_to_resolve=hours)
    assert followup_stats().median_time_to_resolve == timedelta(hours=4)
    # The SQLite fallback (the demo's database) gives the same answer.
    assert median_by_sorting(FollowUp.objects.all(), 4) == timedelta(hours=4)
    assert median_by_sorting(FollowUp.objects.filter(pk__lt=0), 0) is None


def test_it_narrows_to_the_responses_it_is_given() -> None:
    follow_up(hours_to_resolve=2, channel="shop")
    follow_up(channel="shop")
    follow_up(hours_to_resolve=50, channel="web")
    shop = Response.objects.filter(invitation__order__channel="shop")
    stats = followup_stats(responses=shop)
    assert (stats.open, stats.resolved, stats.median_time_to_resolve) == (1, 1, timedelta(hours=2))


def test_its_query_count_does_not_grow_with_the_follow_ups() -> None:
    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            stats = followup_stats()
        return len(queries), stats.resolved

    for hours in (1, None):
        follow_up(hours_to_resolve=hours)
    few, resolved = count_queries()
    assert resolved == 1
    for n in range(40):
        follow_up(hours_to_resolve=n if n % 2 else None)
    assert count_queries() == (few, 21)
    assert few <= 2
