"""Reads for the review pages: public reviews, their summary, the moderation queue and log.

The summary (average, count, distribution) always covers every published review of the
shop or product, not the page on screen; it is one SQL aggregate.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from feedback.models import OrderItem, Review, ReviewDecision

State = Review.State
RATINGS = (5, 4, 3, 2, 1)


@dataclass(frozen=True)
class RatingCount:
    rating: int
    count: int
    percent: int  # of all published reviews, rounded; bars are drawn from it


@dataclass(frozen=True)
class Summary:
    count: int
    average: Decimal | None  # one decimal; None without reviews
    distribution: list[RatingCount]  # 5 down to 1, zeros included


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    reviews: int = 0


def published(*, sku: str | None = None) -> QuerySet[Review]:
    """Published reviews, newest first (never by rating), of the shop or of one product:
    a review is of every product in its order."""
    reviews = Review.objects.filter(state=State.PUBLISHED)
    if sku is not None:
        has_item = OrderItem.objects.filter(order=OuterRef("response__invitation__order"), sku=sku)
        reviews = reviews.filter(Exists(has_item))
    return (
        reviews.select_related("response__invitation__order__customer")
        .prefetch_related("response__invitation__order__items")
        .order_by("-written_at", "-pk")
    )


def summary(reviews: QuerySet[Review]) -> Summary:
    counts = dict(
        reviews.order_by()
        .values_list("response__rating")
        .annotate(n=Count("pk"))
        .values_list("response__rating", "n")
    )
    total = sum(counts.values())
    stars = sum(rating * n for rating, n in counts.items())
    average = None
    if total:
        average = (Decimal(stars) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    distribution = [
        RatingCount(rating, counts.get(rating, 0), round(100 * counts.get(rating, 0) / total))
        if total
        else RatingCount(rating, 0, 0)
        for rating in RATINGS
    ]
    return Summary(total, average, distribution)


def product(sku: str) -> Product | None:
    """The product by its SKU, named as its latest order names it; None if never sold."""
    item = OrderItem.objects.filter(sku=sku).order_by("-order__placed_at", "-pk").first()
    return Product(sku=item.sku, name=item.name) if item else None


def reviewed_products() -> list[Product]:
    """Every product with a published review, most reviewed first, then by name."""
    rows = (
        OrderItem.objects.filter(
            order__invitation__response__review__state=State.PUBLISHED,
        )
        .values("sku")
        .annotate(reviews=Count("order", distinct=True))
        .order_by("-reviews", "sku")
    )
    names = {}
    for sku, name in OrderItem.objects.filter(sku__in=[r["sku"] for r in rows]).values_list(
        "sku", "name"
    ):
        names.setdefault(sku, name)
    return [Product(row["sku"], names.get(row["sku"], row["sku"]), row["reviews"]) for row in rows]


def author_name(full_name: str) -> str:
    """First name and the initial of the last: "Ana López" -> "Ana L."; nothing more."""
    parts = full_name.replace(",", " ").split()
    if not parts:
        return _("A customer")
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def products_of(review: Review) -> list[Product]:
    items = review.response.invitation.order.items.all()
    return [Product(item.sku, item.name) for item in items]


# Moderation -----------------------------------------------------------------------------


def moderation_queue() -> QuerySet[Review]:
    """Reviews waiting for a decision, oldest first: the order they were written in."""
    return (
        Review.objects.filter(state=State.PENDING)
        .select_related("response__invitation__order__customer")
        .prefetch_related("response__invitation__order__items")
        .order_by("written_at", "pk")
    )


@dataclass(frozen=True)
class DecisionsByRating:
    rating: int
    published: int
    rejected: int
    by_reason: dict[str, int]  # reason value -> rejections for it


def decisions_by_rating() -> list[DecisionsByRating]:
    """The moderation log's counts: publications and rejections (per reason) of each
    rating, so anyone can see whether low ratings are held back."""
    rows = (
        ReviewDecision.objects.order_by()
        .values("rating")
        .annotate(
            published=Count("pk", filter=Q(action=ReviewDecision.Action.PUBLISHED)),
            rejected=Count("pk", filter=Q(action=ReviewDecision.Action.REJECTED)),
            **{reason: Count("pk", filter=Q(reason=reason)) for reason in Review.Reason.values},
        )
    )
    found = {row["rating"]: row for row in rows}
    result = []
    for rating in RATINGS:
        row = found.get(rating, {})
        by_reason = {reason: row.get(reason, 0) for reason in Review.Reason.values}
        result.append(
            DecisionsByRating(rating, row.get("published", 0), row.get("rejected", 0), by_reason)
        )
    return result


def decision_log() -> QuerySet[ReviewDecision]:
    return ReviewDecision.objects.select_related("decided_by").order_by("-decided_at", "-pk")
