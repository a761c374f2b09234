"""Published reviews as other systems read them: the JSON feed, schema.org JSON-LD for a
product page, and Google Merchant Center's product reviews feed (XML schema 2.4).

Links are absolute, under PORTAL_BASE_URL, as in emails: never the request's Host.
"""

import json
from datetime import UTC
from xml.etree.ElementTree import Element, SubElement, tostring

from django.conf import settings
from django.core.paginator import Page
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from feedback.models import Review
from feedback.selectors import reviews as reads

BEST, WORST = 5, 1
# http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd
MERCHANT_SCHEMA = "http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def product_url(sku: str) -> str:
    return absolute(reverse("feedback:reviews_product", args=[sku]))


def review_url(review: Review) -> str:
    """The shop's reviews page at this review (a page of many: Google's type "group")."""
    return absolute(reverse("feedback:reviews") + f"#review-{review.pk}")


def _summary_data(summary: reads.Summary) -> dict:
    return {
        "average": float(summary.average) if summary.average is not None else None,
        "count": summary.count,
        "distribution": {str(row.rating): row.count for row in summary.distribution},
    }


def json_feed(*, page: Page, summary: reads.Summary, sku: str | None, next_url: str) -> dict:
    """The JSON feed's body: the summary of all published reviews and one page of them."""
    return {
        "shop": settings.SHOP_NAME,
        "product": sku,
        "summary": _summary_data(summary),
        "policy_url": absolute(reverse("feedback:reviews_policy")),
        "reviews": [
            {
                "id": review.pk,
                "rating": review.response.rating,
                "text": review.response.comment,
                "date": review.written_at.date().isoformat(),
                "author": reads.author_name(review.response.invitation.order.customer.name),
                "verified_purchase": True,
                "products": [
                    {"sku": p.sku, "name": p.name, "url": product_url(p.sku)}
                    for p in reads.products_of(review)
                ],
                "url": review_url(review),
            }
            for review in page
        ],
        "next": next_url or None,
    }


def product_json_ld(
    *, product: reads.Product, summary: reads.Summary, reviews: list[Review]
) -> dict | None:
    """schema.org Product with its AggregateRating (over every published review) and the
    Reviews shown on the page; None without reviews (a Product needs a rating to be valid
    for review snippets). Products only: search engines ignore a shop's reviews of itself."""
    if not summary.count:
        return None
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "sku": product.sku,
        "url": product_url(product.sku),
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": float(summary.average),
            "reviewCount": summary.count,
            "ratingCount": summary.count,
            "bestRating": BEST,
            "worstRating": WORST,
        },
        "review": [
            {
                "@type": "Review",
                "author": {
                    "@type": "Person",
                    "name": reads.author_name(review.response.invitation.order.customer.name),
                },
                "datePublished": review.written_at.date().isoformat(),
                "reviewBody": review.response.comment,
                "reviewRating": {
                    "@type": "Rating",
                    "ratingValue": review.response.rating,
                    "bestRating": BEST,
                    "worstRating": WORST,
                },
            }
            for review in reviews
        ],
    }


def script_json(data: dict) -> SafeString:
    """JSON for inside a <script> element: no "<", ">" or "&" that could end it early."""
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 - escaped just above, as django's json_script does


def merchant_feed(reviews: list[Review]) -> bytes:
    """Google Merchant Center's product reviews feed: every published review (Google
    expects the full feed each time and deletes what is missing from it)."""
    feed = Element("feed", {f"{{{XSI}}}noNamespaceSchemaLocation": MERCHANT_SCHEMA})
    SubElement(feed, "version").text = "2.4"
    publisher = SubElement(feed, "publisher")
    SubElement(publisher, "name").text = settings.SHOP_NAME or "Feedback portal"
    if reviews:
        container = SubElement(feed, "reviews")
        for review in reviews:
            _merchant_review(SubElement(container, "review"), review)
    return tostring(feed, encoding="utf-8", xml_declaration=True)


def _merchant_review(element: Element, review: Review) -> None:
    answer = review.response
    customer = answer.invitation.order.customer
    SubElement(element, "review_id").text = str(review.pk)
    reviewer = SubElement(element, "reviewer")
    SubElement(reviewer, "name").text = reads.author_name(customer.name)
    SubElement(element, "is_verified_purchase").text = "true"
    SubElement(element, "is_incentivized_review").text = "false"
    stamp = review.written_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    SubElement(element, "review_timestamp").text = stamp
    SubElement(element, "content").text = answer.comment
    SubElement(element, "review_language").text = customer.locale
    SubElement(element, "review_url", {"type": "group"}).text = review_url(review)
    ratings = SubElement(element, "ratings")
    SubElement(ratings, "overall", {"min": str(WORST), "max": str(BEST)}).text = str(answer.rating)
    products = SubElement(element, "products")
    for item in reads.products_of(review):
        product = SubElement(products, "product")
        skus = SubElement(SubElement(product, "product_ids"), "skus")
        SubElement(skus, "sku").text = item.sku
        SubElement(product, "product_name").text = item.name
        SubElement(product, "product_url").text = product_url(item.sku)
    SubElement(element, "collection_method").text = "post_fulfillment"
