"""What customers talk about: the per-day term counts kept at write time (answer, edit,
erasure), and the dashboard's topics panel that reads them."""

import random
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from feedback.models import Response, TopicCount, TopicWord
from feedback.services import response_submit
from feedback.services.privacy import customer_erase
from feedback.services.topics import topic_counts_rebuild
from feedback.topics import comment_terms, rising
from tests.dashboard_data import staff_member
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(staff_member())
    return client


def answer(
    comment: str, *, locale: str = "en", skus: tuple[str, ...] = ("KTL-1",), days_ago: int = 1
) -> Response:
    now = timezone.now() - timedelta(days=days_ago)
    order = OrderFactory(customer=CustomerFactory(locale=locale), items=[])
    for sku in skus:
        OrderItemFactory(order=order, sku=sku, name=f"Product {sku}")
    invitation = InvitationFactory(order=order, sent_at=now - timedelta(hours=1))
    return response_submit(invitation=invitation, rating=2, comment=comment, now=now)


def counts() -> dict[tuple, int]:
    rows = TopicCount.objects.exclude(comments=0)
    return {(r.day, r.sku, r.language, r.term): r.comments for r in rows}


def words() -> dict[tuple, int]:
    return {(w.language, w.term, w.written): w.uses for w in TopicWord.objects.exclude(uses=0)}


def test_it_stems_drops_stop_words_and_keeps_phrases_within_a_sentence() -> None:
    english = comment_terms("The lid leaks. Leaking kettle!", "en")
    spanish = comment_terms("La tapa tiene fugas", "es")

    assert english == {
        "lid": "lid",
        "leak": "leaks",
        "lid leak": "lid leaks",
        "kettl": "kettle",
        "leak kettl": "leaking kettle",
    }
    assert "la" not in spanish and spanish["fug"] == "fugas" and "tap fug" not in spanish


def test_rising_needs_support_and_twice_the_share() -> None:
    assert rising(mentions=5, comments=50, before=0, comments_before=50)
    assert not rising(mentions=4, comments=50, before=0, comments_before=50)  # support
    assert not rising(mentions=10, comments=100, before=5, comments_before=100)  # 10% vs 6%
    assert rising(mentions=10, comments=100, before=4, comments_before=100)  # 10% vs 5%
    assert rising(mentions=5, comments=5, before=0, comments_before=0)  # a new product


def test_it_counts_each_comment_once_per_term_and_product_on_its_day() -> None:
    response = answer("Leaks, leaks, leaks.", skus=("KTL-1", "MUG-2"))
    day = timezone.localdate(response.submitted_at)

    assert counts() == {
        (day, sku, "en", term): 1 for sku in ("", "KTL-1", "MUG-2") for term in ("", "leak")
    }
    assert words() == {("en", "leak", "leaks"): 1}


def test_edits_and_erasure_move_the_counts_with_the_comments() -> None:
    """Whatever happens to comments, the counts equal a recount from the comments."""
    rng = random.Random(18)
    vocabulary = ["lid leaks", "kettle", "fast delivery", "leaking", "great", "broken handle"]
    answers = []
    for n in range(30):
        comment = " ".join(rng.sample(vocabulary, rng.randint(0, 3)))
        locale = rng.choice(["en", "es"])
        answers.append(answer(comment, locale=locale, skus=(f"S{n % 3}",), days_ago=n % 4))
    for response in rng.sample(answers, 12):
        response_submit(
            invitation=response.invitation,
            rating=3,
            comment=" ".join(rng.sample(vocabulary, rng.randint(0, 3))),
            now=response.submitted_at + timedelta(hours=1),
        )
    for response in rng.sample(answers, 5):
        customer_erase(customer=response.invitation.customer, performed_by=None)
    kept, kept_words = counts(), words()

    topic_counts_rebuild()

    assert kept == counts()
    assert kept_words == words()
    assert kept  # not vacuous


def test_the_rebuild_command_recounts_and_reports(capsys: pytest.CaptureFixture) -> None:
    answer("Lid leaks")
    TopicCount.objects.all().delete()

    call_command("topics_rebuild")

    assert "1 comments counted" in capsys.readouterr().out
    assert counts()


def panel(html: str) -> str:
    return html[html.index('data-panel="topics"') :]


def test_the_panel_shows_rising_terms_overall_and_per_product_with_links(
    staff_client: Client,
) -> None:
    for n in range(6):
        answer("The lid leaks when I pour", skus=("KTL-1",), days_ago=n + 1)
        answer("Fast delivery, thanks", skus=("MUG-2",), days_ago=n + 1)
        answer("Fast delivery, thanks", skus=("MUG-2",), days_ago=n + 8)

    html = panel(staff_client.get("/staff/", {"period": "7"}).content.decode())

    overall = re.findall(r'data-table="topics".*?</table>', html, re.S)[0]
    shown = re.findall(r'data-topic="([^"]+)"', overall)
    assert {"leaks", "lid leaks", "lid", "pour"} <= set(shown)
    assert "delivery" not in shown  # as often as the week before
    assert 'data-product-topics="KTL-1"' in html
    assert 'data-product-topics="MUG-2"' not in html
    link = re.search(r'href="([^"]+)" data-topic="lid leaks"', overall).group(1)
    results = staff_client.get(link.replace("&amp;", "&")).content.decode()
    assert results.count("data-result") == 6
    assert "<mark>" in results


def test_the_panel_says_when_nothing_stands_out(staff_client: Client) -> None:
    answer("Fast delivery", days_ago=1)
    answer("Fast delivery", days_ago=9)

    html = panel(staff_client.get("/staff/", {"period": "7"}).content.decode())

    assert 'id="no-topics"' in html
    assert "at least 5 comments mention it" in html


def test_the_panel_reads_a_fixed_number_of_queries(staff_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def topic_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            staff_client.get("/staff/", {"period": "30"})
        return sum("feedback_topic" in q["sql"] for q in queries.captured_queries)

    for n in range(6):
        answer("Lid leaks", days_ago=n % 5 + 1)
    few = topic_queries()
    for n in range(30):
        answer(f"Lid leaks again {n}", skus=(f"P{n % 7}",), days_ago=n % 5 + 1)
    assert topic_queries() == few == 3
