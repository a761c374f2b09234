"""The public review pages, the widget and the feeds (issue 19, points 2 to 4), and that an
erasure or a withdrawn consent takes a review off every one of them at once."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from feedback import services, tokens
from feedback.models import InvitationPolicy, Review
from feedback.services.privacy import customer_erase
from tests.reviews import published_review, quoted_answer

pytestmark = pytest.mark.django_db

XSD = Path(__file__).with_name("product_reviews.xsd")
SKU = "GRD-BURR-01"
BASE = "https://reviews.tostadero-lumen.example"


@pytest.fixture(autouse=True)
def _base_url(settings: object) -> None:
    settings.PORTAL_BASE_URL = BASE


def get(name: str, *args: str, **query: str) -> object:
    return Client().get(reverse(f"feedback:{name}", args=args), query)


def json_ld(html: str) -> list[dict]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in found]


# The pages


def test_it_shows_a_review_with_first_name_initial_date_product_and_verified_mark() -> None:
    review = published_review(name="Ana María López", comment="Grinds evenly.", rating=4)
    page = get("reviews")
    assert page.status_code == 200
    article = page.text.split(f'id="review-{review.pk}"')[1].split("</article>")[0]
    assert "Ana L." in article
    assert "López" not in page.text
    assert "Grinds evenly." in article
    assert "Verified purchase" in article
    assert "4 out of 5" in article
    assert "Burr coffee grinder" in article
    assert f'datetime="{review.written_at:%Y-%m-%d}"' in article


def test_it_lists_newest_first_whatever_the_rating() -> None:
    now = timezone.now()
    published_review(comment="Oldest, five stars.", rating=5, at=now - timedelta(days=3))
    published_review(comment="Newest, one star.", rating=1, at=now - timedelta(days=1))
    published_review(comment="Middle, three stars.", rating=3, at=now - timedelta(days=2))
    text = get("reviews").text
    positions = [text.index(c) for c in ("Newest, one", "Middle, three", "Oldest, five")]
    assert positions == sorted(positions)


def test_the_summary_covers_every_published_review_not_just_the_page() -> None:
    now = timezone.now()
    for n in range(25):
        published_review(comment=f"Review {n}.", rating=1 + n % 5, at=now - timedelta(hours=n))
    quoted_answer(comment="Still pending.", rating=5)  # not published: not counted
    first = get("reviews").text
    assert first.count('class="review ') == 20
    assert "Page 1 of 2" in first
    assert '<span id="review-count">25 reviews</span>' in first
    assert '<span class="fs-3 fw-semibold" id="average-rating">3.0</span>' in first
    for rating in range(1, 6):
        row = first.split(f'<tr data-rating="{rating}">')[1].split("</tr>")[0]
        assert '<td class="text-end review-distribution-count">5</td>' in row
    second = get("reviews", page="2").text
    assert second.count('class="review ') == 5
    assert '<span id="review-count">25 reviews</span>' in second


def test_a_product_page_shows_only_reviews_of_orders_with_that_product() -> None:
    published_review(comment="About the grinder.", sku=SKU, product="Burr coffee grinder")
    published_review(comment="About the kettle.", sku="KTL-GLS-17", product="Glass kettle")
    page = get("reviews_product", SKU)
    assert "Reviews of Burr coffee grinder" in page.text
    assert "About the grinder." in page.text
    assert "About the kettle." not in page.text
    assert get("reviews_product", "NO-SUCH-SKU").status_code == 404


def test_it_speaks_the_visitors_language() -> None:
    published_review(comment="Muy bueno.")
    page = Client(headers={"accept-language": "es"}).get(reverse("feedback:reviews"))
    assert '<html lang="es">' in page.text
    assert "Compra verificada" in page.text
    assert "Opiniones de clientes" in page.text
    chosen = Client().get(reverse("feedback:reviews"), {"lang": "es"})
    assert "Compra verificada" in chosen.text


def test_it_loads_nothing_from_another_site() -> None:
    published_review()
    for page in (get("reviews"), get("reviews_product", SKU), get("reviews_policy")):
        for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            assert url.startswith(("/", "#", "?", "mailto:", "https://tostadero-lumen.example")), (
                url
            )


# The review policy


def test_the_policy_page_follows_the_live_policy() -> None:
    policy = InvitationPolicy.live()
    policy.delay_after_delivery_days = 12
    policy.sample_percent = 50
    policy.save()
    text = get("reviews_policy").text
    assert "12 days after delivery" in text
    assert "a random 50% of delivered orders" in text
    assert "We send no reminders." in text
    assert "no incentive of any kind" in text
    assert "for an order that was delivered" in text
    for _value, label in Review.Reason.choices:
        assert label.capitalize() in text
    policy.sample_percent = 100
    policy.consent_mode = InvitationPolicy.ConsentMode.OPT_IN
    policy.save()
    text = get("reviews_policy").text
    assert "random" not in text
    assert "only customers who agreed to receive invitations" in text


# The widget


def test_the_widget_may_be_framed_only_by_the_allowed_origins(settings: object) -> None:
    settings.REVIEWS_WIDGET_ORIGINS = ["https://tostadero-lumen.example"]
    published_review(comment="In the widget.")
    response = get("reviews_widget")
    assert response.status_code == 200
    assert "In the widget." in response.text
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://tostadero-lumen.example" in csp
    assert "X-Frame-Options" not in response
    # Every other page keeps refusing to be framed.
    other = get("reviews")
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]
    assert other["X-Frame-Options"] == "DENY"


def test_a_malformed_origin_is_named_and_never_reaches_the_header(settings: object) -> None:
    settings.REVIEWS_WIDGET_ORIGINS = ["https://ok.example", "https://bad.example/; script-src *"]
    errors = [e for e in run_checks() if e.id == "feedback.E003"]
    assert [e.msg for e in errors] == [
        "REVIEWS_WIDGET_ORIGINS: 'https://bad.example/; script-src *' is not an origin; "
        "the widget ignores it."
    ]
    csp = get("reviews_widget")["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://ok.example;" in csp + ";"
    assert "bad.example" not in csp


def test_the_widget_of_one_product() -> None:
    published_review(comment="Grinder review.", sku=SKU)
    published_review(comment="Kettle review.", sku="KTL-GLS-17", product="Glass kettle")
    text = get("reviews_widget", sku=SKU).text
    assert "Grinder review." in text
    assert "Kettle review." not in text
    assert f'href="{BASE}/reviews/p/{SKU}/" target="_blank"' in text
    assert get("reviews_widget", sku="NOPE").status_code == 404


# The JSON feed


def test_the_json_feed() -> None:
    review = published_review(name="Bo Chen", comment="Sturdy.", rating=2)
    body = get("reviews_json").json()
    assert body["summary"] == {
        "average": 2.0,
        "count": 1,
        "distribution": {"5": 0, "4": 0, "3": 0, "2": 1, "1": 0},
    }
    [item] = body["reviews"]
    assert item["id"] == review.pk
    assert (item["rating"], item["text"], item["author"]) == (2, "Sturdy.", "Bo C.")
    assert item["verified_purchase"] is True
    assert item["products"] == [
        {"sku": SKU, "name": "Burr coffee grinder", "url": f"{BASE}/reviews/p/{SKU}/"}
    ]
    assert body["next"] is None
    assert get("reviews_json", sku="NOPE").status_code == 404


# JSON-LD: every property schema.org's types and Google's review snippets require


def test_the_product_page_carries_product_aggregate_rating_and_review_json_ld() -> None:
    now = timezone.now()
    published_review(name="Ana López", comment="Great.", rating=5, at=now - timedelta(days=1))
    published_review(name="Bo Chen", comment="Poor.", rating=1, at=now)
    [data] = json_ld(get("reviews_product", SKU).text)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Burr coffee grinder"
    assert data["sku"] == SKU
    assert data["url"] == f"{BASE}/reviews/p/{SKU}/"
    rating = data["aggregateRating"]
    assert rating["@type"] == "AggregateRating"
    assert rating["ratingValue"] == 3.0
    assert rating["reviewCount"] == rating["ratingCount"] == 2
    assert (rating["bestRating"], rating["worstRating"]) == (5, 1)
    assert [r["reviewBody"] for r in data["review"]] == ["Poor.", "Great."]
    for review in data["review"]:
        assert review["@type"] == "Review"
        assert review["author"]["@type"] == "Person"
        assert review["author"]["name"] in ("Ana L.", "Bo C.")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", review["datePublished"])
        stars = review["reviewRating"]
        assert stars["@type"] == "Rating"
        assert stars["worstRating"] <= stars["ratingValue"] <= stars["bestRating"]


def test_no_json_ld_for_the_shop_itself_nor_for_a_product_without_reviews() -> None:
    published_review(comment="Fine.")
    assert json_ld(get("reviews").text) == []
    quoted_answer(sku="KTL-GLS-17", product="Glass kettle")  # pending only
    assert json_ld(get("reviews_product", "KTL-GLS-17").text) == []


def test_json_ld_cannot_end_its_script_early() -> None:
    published_review(comment="</script><script>alert(1)</script>")
    html = get("reviews_product", SKU).text
    block = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(block)["review"][0]["reviewBody"].startswith("</script>")


# Google Merchant Center's product reviews feed


def merchant_feed() -> etree._Element:
    response = get("reviews_merchant")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return etree.fromstring(response.content)


def test_the_merchant_feed_is_valid_against_googles_schema() -> None:
    published_review(name="Ana López", comment="Grinds evenly & quietly <3", rating=5)
    published_review(name="Cy", comment="Leaks.", rating=1, sku="KTL-GLS-17", product="Kettle")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    feed = merchant_feed()
    schema.assertValid(feed)
    reviews = feed.findall("reviews/review")
    assert len(reviews) == 2
    assert sorted(r.findtext("ratings/overall") for r in reviews) == ["1", "5"]
    assert {r.findtext("reviewer/name") for r in reviews} == {"Ana L.", "Cy"}
    assert {r.findtext("is_verified_purchase") for r in reviews} == {"true"}
    assert {r.findtext("collection_method") for r in reviews} == {"post_fulfillment"}
    assert "Grinds evenly & quietly <3" in {r.findtext("content") for r in reviews}


def test_an_empty_merchant_feed_is_valid_too() -> None:
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(merchant_feed())


# Off everywhere at once: erasure and withdrawn consent


def everywhere(settings: object) -> dict[str, str]:
    settings.REVIEWS_WIDGET_ORIGINS = []
    return {
        "page": get("reviews").text,
        "product page": get("reviews_product", SKU).text,
        "widget": get("reviews_widget").text,
        "product widget": get("reviews_widget", sku=SKU).text,
        "json": get("reviews_json").content.decode(),
        "merchant": get("reviews_merchant").content.decode(),
        "json-ld": json.dumps(json_ld(get("reviews_product", SKU).text), ensure_ascii=False),
    }


def test_erasure_removes_a_published_review_from_every_output(settings: object) -> None:
    kept = published_review(name="Bo Chen", comment="Still here.", rating=2)
    gone = published_review(name="Ana López", comment="Remove me.", rating=5)
    assert all("Remove me." in text for text in everywhere(settings).values())
    customer_erase(customer=gone.response.invitation.order.customer, performed_by=None)
    for where, text in everywhere(settings).items():
        assert "Remove me." not in text, where
        assert "Ana L." not in text, where
        assert "Still here." in text, where
    assert get("reviews_json").json()["summary"]["count"] == 1
    assert kept.pk != gone.pk


def test_withdrawn_consent_removes_a_published_review_from_every_output(settings: object) -> None:
    published_review(name="Bo Chen", comment="Still here.", rating=2)
    gone = published_review(name="Ana López", comment="Remove me.", rating=5)
    token = tokens.token_for(gone.response.invitation.token_nonce)
    assert all("Remove me." in text for text in everywhere(settings).values())
    Client().post(reverse("feedback:withdraw_quote", args=[token]))
    for where, text in everywhere(settings).items():
        assert "Remove me." not in text, where
        assert "Still here." in text, where
    assert get("reviews_json").json()["summary"]["average"] == 2.0


def test_an_edit_takes_the_old_text_off_every_output_until_moderated(settings: object) -> None:
    review = published_review(comment="Before the edit.", rating=5)
    services.response_submit(
        invitation=review.response.invitation, rating=3, comment="After.", quote_allowed=True
    )
    for where, text in everywhere(settings).items():
        assert "Before the edit." not in text, where
        assert "After." not in text, where


def test_the_pages_query_count_does_not_grow_with_the_reviews() -> None:
    def queries(name: str, *args: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert get(name, *args).status_code == 200
        return len(captured)

    for n in range(3):
        published_review(comment=f"Few {n}.")
    few = [queries("reviews"), queries("reviews_product", SKU), queries("reviews_widget")]
    few += [queries("reviews_json"), queries("reviews_merchant")]
    for n in range(30):
        published_review(comment=f"Many {n}.")
    many = [queries("reviews"), queries("reviews_product", SKU), queries("reviews_widget")]
    many += [queries("reviews_json"), queries("reviews_merchant")]
    assert many == few


def test_a_sku_with_slashes_and_odd_characters_gets_its_page() -> None:
    sku = "KIT/2025 #1?"
    published_review(comment="Odd SKU.", sku=sku, product="Starter kit")
    shop = get("reviews")
    assert shop.status_code == 200
    link = re.search(r'href="(/reviews/p/[^"]+)">Starter kit', shop.text).group(1)
    page = Client().get(link)
    assert "Reviews of Starter kit" in page.text
    assert "Odd SKU." in page.text
    assert json_ld(page.text)[0]["sku"] == sku
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(merchant_feed())
