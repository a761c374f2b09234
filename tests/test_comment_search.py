"""Comment search at /staff/search/: stemmed words in English and Spanish, highlighted
matches, the dashboard's filters, and a link to each answer. Runs on PostgreSQL (full-text
search with its GIN indexes) and on SQLite (a simple match)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback.models import Response
from feedback.services import response_submit
from tests.dashboard_data import staff_member
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(staff_member())
    return client


def answer(
    comment: str, *, locale: str = "en", sku: str = "KTL-1", days_ago: float = 1
) -> Response:
    """An answer as a customer gives it, through the service, `days_ago` days ago."""
    now = timezone.now() - timedelta(days=days_ago)
    order = OrderFactory(customer=CustomerFactory(locale=locale), items=[])
    OrderItemFactory(order=order, sku=sku)
    invitation = InvitationFactory(order=order, sent_at=now - timedelta(hours=1))
    return response_submit(invitation=invitation, rating=2, comment=comment, now=now)


def results(html: str) -> list[str]:
    blocks = re.findall(r'<p class="mb-1 pre-wrap">(.*?)</p>', html, flags=re.S)
    return [block.strip() for block in blocks]


def test_it_finds_other_forms_of_a_word_in_english_and_spanish(staff_client: Client) -> None:
    answer("The kettle is leaking onto the counter.")
    answer("Perfect grinder, no complaints.")
    answer("Tiene fugas por la tapa.", locale="es")

    leaks = results(staff_client.get("/staff/search/", {"q": "leaks"}).content.decode())
    fuga = results(staff_client.get("/staff/search/", {"q": "fuga"}).content.decode())

    assert leaks == ["The kettle is <mark>leaking</mark> onto the counter."]
    assert fuga == ["Tiene <mark>fugas</mark> por la tapa."]


def test_it_searches_only_the_period_and_the_product(staff_client: Client) -> None:
    answer("Lid leaks a little.", sku="KTL-1", days_ago=2)
    answer("Leaks from the base.", sku="GRD-2", days_ago=2)
    answer("It leaked in the spring.", sku="KTL-1", days_ago=60)

    week = results(
        staff_client.get("/staff/search/", {"q": "leak", "period": "7"}).content.decode()
    )
    kettle = staff_client.get("/staff/search/", {"q": "leak", "period": "90", "sku": "KTL-1"})

    assert sorted(week) == [
        "<mark>Leaks</mark> from the base.",
        "Lid <mark>leaks</mark> a little.",
    ]
    assert len(results(kettle.content.decode())) == 2
    assert "product KTL-1" in kettle.content.decode()


def test_it_escapes_the_comment_and_links_to_the_answer(staff_client: Client) -> None:
    response = answer("<script>alert('leak')</script> leak everywhere")

    html = staff_client.get("/staff/search/", {"q": "leak"}).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert f"/admin/feedback/response/{response.pk}/change/" in html


def test_it_says_when_nothing_matches_and_finds_nothing_for_stop_words(
    staff_client: Client,
) -> None:
    answer("The kettle is fine.")

    none = staff_client.get("/staff/search/", {"q": "broken"}).content.decode()
    stop_words = staff_client.get("/staff/search/", {"q": "the"}).content.decode()

    assert 'id="no-results"' in none
    assert results(stop_words) == []


def test_it_names_the_bad_field_and_never_answers_500(staff_client: Client) -> None:
    long_words = staff_client.get("/staff/search/", {"q": "x" * 201})
    bad_period = staff_client.get("/staff/search/", {"q": "leak", "period": "custom"})
    odd_query = staff_client.get("/staff/search/", {"q": "\"lid leaks' & | ! :* ( -"})

    assert long_words.status_code == 400
    assert "Words:" in long_words.content.decode()
    assert bad_period.status_code == 400
    assert "Give the first day of the custom range." in bad_period.content.decode()
    assert odd_query.status_code == 200


def test_it_asks_staff_to_sign_in(client: Client) -> None:
    response = client.get("/staff/search/", {"q": "leak"})
    assert response.status_code == 302
    assert "/staff/login/" in response["Location"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_it_uses_the_full_text_indexes_on_postgresql() -> None:
    from feedback.selectors.search import full_text_matches

    # Over every answer: on an empty table the planner would pick the period's index.
    rows = full_text_matches(Response.objects.all(), "leak")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = "\n".join(rows.explain().splitlines())
        cursor.execute("RESET enable_seqscan")
    assert "response_comment_en_fts" in plan
    assert "response_comment_es_fts" in plan
