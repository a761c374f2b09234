"""The staff dashboard: each figure against a small data set counted by hand."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import Invitation, InvitationPolicy, Response
from feedback.selectors import dashboard
from tests.dashboard_data import bulk_responses, known_data, rollups_rebuild, staff_member
from tests.staff import answered

pytestmark = pytest.mark.django_db
State = Invitation.State


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(staff_member())
    return client


@pytest.fixture
def known() -> None:
    known_data()


def figures_on_page(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))


def test_it_shows_each_figure_as_counted_by_hand(staff_client: Client, known: None) -> None:
    response = staff_client.get("/staff/?period=30")
    assert response.status_code == 200
    assert figures_on_page(response.content.decode()) == {
        "sent": "9",
        "response_rate": "33%",
        "csat": "50%",
        "average": "3.5",
        "nps": "+33",
        "followups_open": "1",
        "followups_asked": "2",
        "followups_asked_open": "1",
        "time_to_resolve": "2 d 0 h",
        # These follow-ups were written without a due time or a reply (tests/test_contact_times.py
        # counts those figures).
        "first_response": "—",
        "on_time": "—",
        "declines_per_1000": "222.2",
        "snoozes_per_1000": "111.1",
        "stops_per_1000": "333.3",
        "send_failed": "1",
        "send_unknown": "1",
        "suppressed_total": "3",
    }


def test_it_computes_distribution_reasons_weeks_and_products(known: None) -> None:
    now = timezone.now()
    figures = dashboard.dashboard_figures(dashboard.Filters(now - timedelta(days=30), now))
    assert [(stars, n) for stars, n, _share in figures.distribution] == [
        (1, 0),
        (2, 1),
        (3, 1),
        (4, 1),
        (5, 1),
    ]
    assert figures.suppressed == [("customer cooldown", 2), ("customer stopped invitations", 1)]
    assert sum(week.sent for week in figures.weeks) == 9
    assert sum(week.ratings for week in figures.weeks) == 4
    assert len(figures.weeks) in (5, 6)  # the Mondays of the weeks 30 days touch
    products = {(p.sku, p.n, p.csat, p.average, p.small_sample) for p in figures.products}
    assert products == {
        ("KETTLE", 2, 0.5, 4.0, True),
        ("GRINDER", 1, 1.0, 4.0, True),
        ("MUG", 1, 0.0, 2.0, True),
    }
    assert [r.comment[:6] for r in figures.comments] == ["<scrip", "=HYPER", "Broken"]


def test_it_counts_older_answers_in_the_longer_period(staff_client: Client, known: None) -> None:
    shown = figures_on_page(staff_client.get("/staff/?period=90").content.decode())
    # H (sent 32 days ago) and I (60) join the cohort; I's 1★ joins the ratings.
    assert shown["sent"] == "11"
    assert shown["response_rate"] == "45%"  # 5 / 11
    assert shown["csat"] == "40%"  # 2 / 5
    assert shown["average"] == "3.0"  # 15 / 5


def test_it_narrows_by_channel_and_product(staff_client: Client, known: None) -> None:
    app = figures_on_page(staff_client.get("/staff/?period=30&channel=app").content.decode())
    assert (app["sent"], app["response_rate"], app["csat"], app["average"]) == (
        "1",
        "100%",
        "0%",
        "2.0",
    )
    kettle = figures_on_page(staff_client.get("/staff/?period=30&sku=KETTLE").content.decode())
    assert (kettle["sent"], kettle["csat"], kettle["average"]) == ("1", "50%", "4.0")


def test_it_shows_dashes_for_an_empty_period(staff_client: Client, known: None) -> None:
    response = staff_client.get("/staff/?period=custom&start=2001-01-01&end=2001-03-31")
    assert response.status_code == 200
    shown = figures_on_page(response.content.decode())
    assert shown["sent"] == "0"
    for name in ("response_rate", "csat", "average", "declines_per_1000", "stops_per_1000"):
        assert shown[name] == "—", name
    assert "No responses in this period." in response.content.decode()


def test_it_escapes_comments_and_links_each_to_its_response(
    staff_client: Client, known: None
) -> None:
    html = staff_client.get("/staff/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Lovely" in html
    response = Response.objects.get(comment__startswith="<script>")
    assert f'href="/admin/feedback/response/{response.pk}/change/"' in html
    follow_up = Response.objects.get(comment="Broken handle").follow_up
    assert f'href="/staff/contacts/{follow_up.pk}/">asked to be contacted' in html


def test_it_draws_accessible_charts_with_tables(staff_client: Client, known: None) -> None:
    html = staff_client.get("/staff/").content.decode()
    assert html.count('role="img"') == 4
    for title in ("Star ratings", "Invitations sent per week", "Response rate per", "CSAT per"):
        assert f"{title}" in html
    assert 'data-table="weeks"' in html and 'data-table="distribution"' in html
    assert "<script" not in html.replace("&lt;script", "")  # usable without JavaScript


def test_it_asks_nps_only_when_on_or_answered(staff_client: Client) -> None:
    InvitationPolicy.objects.filter(pk=1).update(nps_enabled=False)
    assert "nps" not in figures_on_page(staff_client.get("/staff/").content.decode())
    InvitationPolicy.objects.filter(pk=1).update(nps_enabled=True)
    assert figures_on_page(staff_client.get("/staff/").content.decode())["nps"] == "—"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&start=2026-02-01", "Give the last day of the custom range."),
        ("period=custom&start=2026-02-01&end=2026-01-01", "must not be before the first day"),
        ("start=not-a-date&end=2026-01-01", "Enter a valid date."),
        ("period=custom&start=0001-01-01&end=9999-12-31", "Choose a day between"),
        ("period=12", "Select a valid choice"),
        ("channel=nowhere", "Select a valid choice"),
        (f"sku={'x' * 101}", "at most 100 characters"),
    ],
)
def test_it_explains_bad_filters(staff_client: Client, query: str, message: str) -> None:
    response = staff_client.get(f"/staff/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_its_query_count_does_not_grow_with_the_rows_and_stays_small(staff_client: Client) -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/staff/?period=30").status_code == 200
        return len(queries)

    bulk_responses(10)
    staff_client.get("/staff/")  # sessions and the channel list are read once
    few = count_queries()
    bulk_responses(990)
    assert Response.objects.count() == 1000
    assert count_queries() == few
    # The figures, the session and permissions, the alert banner (1), the topics panel
    # (2; a few more when products have rising terms), the contact queue's counts and its
    # response times, the deliverability panel's five, the policy's lines and the brake's
    # banner (selectors/deliverability.py).
    assert few <= 18 + 2 + 1 + 7


@pytest.mark.parametrize("path", ["/staff/", "/staff/export.csv"])
def test_it_sends_anonymous_visitors_to_log_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


@pytest.mark.parametrize("path", ["/staff/", "/staff/export.csv"])
def test_it_refuses_a_user_without_the_staff_role(client: Client, path: str) -> None:
    client.force_login(User.objects.create_user("charlie", "c@example.com", "pw"))
    assert client.get(path).status_code == 403


def test_it_links_the_dashboard_from_the_admin(client: Client) -> None:
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    assert 'href="/staff/"' in client.get("/admin/").content.decode()


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, spaces collapsed."""
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return re.sub(r" ([,.])", r"\1", text)


def day_range(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def test_last_7_days_covers_exactly_seven_days_and_says_which(staff_client: Client) -> None:
    today = timezone.localdate()
    first = today - timedelta(days=6)
    opening = timezone.make_aware(datetime.combine(first, time.min))
    for moment, rating in (
        (opening + timedelta(minutes=1), 5),
        (opening - timedelta(minutes=1), 1),
    ):
        response = answered(contact_requested=False, rating=rating)
        Response.objects.filter(pk=response.pk).update(submitted_at=moment)
    rollups_rebuild()
    page = text_of(staff_client.get("/staff/?period=7").content.decode())
    assert f"Last 7 days: {day_range(first, today)} (7 days, today until now)" in page
    assert "1 rating." in page  # the one from the day before the seven is not counted
    assert figures_on_page(staff_client.get("/staff/?period=7").content.decode())["csat"] == "100%"


def test_a_custom_range_covers_its_days_and_marks_its_partial_weeks(
    staff_client: Client,
) -> None:
    # Wednesday 4 Nov to Tuesday 24 Nov 2026: two whole weeks between two partial ones.
    html = staff_client.get("/staff/?period=custom&start=2026-11-04&end=2026-11-24").content
    page = text_of(html.decode())
    assert "Custom range: 4 Nov – 24 Nov 2026 (21 days)" in page
    weeks = page[page.index("Week (Monday to Sunday)") :]
    assert "4 Nov – 8 Nov 2026 partial week: 5 of 7 days" in weeks
    assert "9 Nov – 15 Nov 2026 0" in weeks
    assert "16 Nov – 22 Nov 2026 0" in weeks
    assert "23 Nov – 24 Nov 2026 partial week: 2 of 7 days" in weeks
    assert weeks.count("partial week") == 2
    assert "4 Nov (5 d)" in page and "23 Nov (2 d)" in page  # the charts' labels


def test_open_contact_requests_are_the_queues_open_requests(
    staff_client: Client, known: None
) -> None:
    answered(asked_ago=timedelta(days=60))  # asked long ago, still waiting
    rollups_rebuild()  # answered() writes its rows straight to the tables
    dashboard_page = staff_client.get("/staff/?period=30&channel=app").content.decode()
    queue = staff_client.get("/staff/contacts/").content.decode()
    assert 'id="open-count">2<' in queue
    assert figures_on_page(dashboard_page)["followups_open"] == "2"
    page = text_of(dashboard_page)
    assert "2 open in the contact queue now, whatever the period, channel or product." in page
    # The period's own figure says what it counts.
    assert "Asked in this period: 1, still open: 1." in page
