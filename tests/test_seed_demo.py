import itertools
import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from feedback.models import (
    Customer,
    EmailLog,
    FollowUp,
    Invitation,
    Order,
    PolicyVersion,
    Response,
    Review,
)

pytestmark = pytest.mark.django_db
State = Invitation.State


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    models = (Customer, Order, Invitation, Response)
    return tuple(model.objects.count() for model in models)


def test_it_seeds_months_of_data_once_and_prints_a_working_link(client: Client) -> None:
    first = seed()
    seeded = counts()
    assert seeded[0] >= 200 and seeded[1] >= 300 and seeded[3] >= 50
    months = {d.strftime("%Y-%m") for d in Response.objects.values_list("submitted_at", flat=True)}
    assert len(months) >= 4
    assert_history_the_product_could_have_made()
    seed()
    assert counts() == seeded
    # The story's sampling trial is in the policy's history, once.
    trial = PolicyVersion.objects.order_by("changed_at").values_list("changes", flat=True)
    assert [c["sample_percent"]["after"] for c in trial] == [70, 100]

    assert "demo-feedback" in first
    link = re.search(r"https?://\S+/f/\S+/", first).group(0)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert page.content.decode().count('name="rating"') == 5


def test_it_gives_the_dashboard_a_story_to_tell(client: Client) -> None:
    first = seed()
    assert "/staff/" in first
    client.force_login(User.objects.get(username="demo"))
    html = client.get("/staff/?period=365").content.decode()
    shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    for name in ("sent", "send_failed", "suppressed_total", "followups_open"):
        assert int(shown[name]) > 0, name
    for name in ("response_rate", "csat", "nps"):
        assert 0 < int(shown[name].strip("%+")) < 100, name
    for name in ("declines_per_1000", "snoozes_per_1000", "stops_per_1000"):
        assert float(shown[name]) > 0, name
    assert shown["time_to_resolve"] != "—"
    assert html.count("<blockquote") == 10  # the latest comments
    # The kettle whose lid leaks stands out in the per-product table.
    products = re.findall(
        r"sku=([\w-]+)\">[^<]+</a>.*?</td>\s*<td[^>]*>(\d+).*?</td>\s*"
        r"<td[^>]*>(\d+)%",
        html,
        re.S,
    )
    csat = {sku: int(share) for sku, _n, share in products}
    assert len(csat) >= 10
    # A month ago a new batch of lids began to leak: the last 30 days tell it.
    month = client.get("/staff/?period=30").content.decode()
    recent = {
        sku: int(share)
        for sku, _n, share in re.findall(
            r"sku=([\w-]+)\">[^<]+</a>.*?</td>\s*<td[^>]*>(\d+).*?</td>\s*<td[^>]*>(\d+)%",
            month,
            re.S,
        )
    }
    assert recent["KTL-GLS-17"] == min(recent.values()) < 50
    # The quiet alert: the leaky kettle, and no other product with the same noise.
    assert re.findall(r'data-alert="([\w-]+)"', month) == ["KTL-GLS-17"]
    # What customers talk about: leaks, for the kettle.
    topics = month[month.index('data-panel="topics"') :]
    kettle = topics[topics.index('data-product-topics="KTL-GLS-17"') :]
    assert 'data-topic="leaks"' in topics
    kettle_terms = kettle.split("</ul>")[0]
    assert 'data-topic="leaks"' in kettle_terms and 'data-topic="lid"' in kettle_terms
    assert_published_reviews_and_a_working_widget(client)


def assert_published_reviews_and_a_working_widget(client: Client) -> None:
    """Issue 19: the demo has reviews published by a moderator, low ratings among them,
    a few still waiting in the queue, and a widget page that shows them."""
    published = Review.objects.filter(state=Review.State.PUBLISHED)
    ratings = set(published.values_list("response__rating", flat=True))
    assert published.count() >= 20
    assert {1, 2} & ratings and {4, 5} & ratings
    assert Review.objects.filter(state=Review.State.PENDING).exists()
    widget = client.get("/reviews/widget/").content.decode()
    assert widget.count('class="review ') == 3
    assert f'<span id="review-count">{published.count()} reviews</span>' in widget


def assert_history_the_product_could_have_made() -> None:
    """Every row agrees with the others, as the services and the state machine leave them."""
    invitations = Invitation.objects.all()
    answered = set(Response.objects.values_list("invitation_id", flat=True))
    assert answered == set(invitations.filter(state=State.RESPONDED).values_list("pk", flat=True))
    went_out = invitations.filter(
        state__in=[State.SENT, State.RESPONDED, State.DECLINED, State.EXPIRED, State.SNOOZED]
    )
    assert not went_out.filter(sent_at__isnull=True).exists()
    accepted = EmailLog.objects.filter(kind=EmailLog.Kind.INVITATION, outcome="sent")
    assert accepted.count() == invitations.filter(sent_at__isnull=False).count()
    assert set(accepted.values_list("invitation_id", flat=True)) == set(
        invitations.filter(sent_at__isnull=False).values_list("pk", flat=True)
    )
    # A refused first email leaves no sent_at (a refused "later" one follows a sent first one).
    failed = invitations.filter(state=State.SEND_FAILED, snooze_count=0)
    assert not failed.filter(sent_at__isnull=False).exists()
    assert not invitations.filter(state=State.DECLINED, declined_at__isnull=True).exists()
    # The sweep expired what ran out unanswered, and only that.
    now = timezone.now()
    assert not invitations.filter(state=State.SENT, expires_at__lte=now).exists()
    assert not invitations.filter(state=State.EXPIRED, expires_at__gt=now).exists()
    # The cooldown held: no customer got two invitation emails within 90 days.
    sends: dict[int, list] = {}
    maybe_sent = EmailLog.objects.filter(kind=EmailLog.Kind.INVITATION).exclude(outcome="failed")
    for customer, at in maybe_sent.values_list("invitation__customer", "created_at"):
        sends.setdefault(customer, []).append(at)
    gaps = [b - a for times in sends.values() for a, b in itertools.pairwise(sorted(times))]
    assert gaps and min(gaps) >= timedelta(days=90)
    # A follow-up only for a contact request; a resolved one was assigned, noted and resolved.
    assert not FollowUp.objects.filter(response__contact_requested=False).exists()
    resolved = FollowUp.objects.filter(status=FollowUp.Status.RESOLVED)
    assert resolved.exists()
    for follow_up in resolved:
        assert follow_up.assignee is not None and follow_up.resolved_at > follow_up.created_at
        assert follow_up.entries.count() == 3
