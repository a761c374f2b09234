"""Reviews for tests: an answer allowing quotes, as the customer's page stores it, and the
moderator's decision on it, through the services."""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from feedback import services
from feedback.models import Response, Review
from feedback.services import reviews as review_services
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory, OrderItemFactory


def quoted_answer(
    *,
    rating: int = 4,
    comment: str = "Good coffee, fast delivery.",
    name: str = "Ana López",
    sku: str = "GRD-BURR-01",
    product: str = "Burr coffee grinder",
    quote_allowed: bool = True,
    at: datetime | None = None,
    locale: str = "en",
) -> Response:
    """A delivered order of one product, its invitation and the customer's answer."""
    order = OrderFactory(
        customer=CustomerFactory(name=name, locale=locale),
        delivered_at=timezone.now() - timedelta(days=9),
        items=[],
    )
    OrderItemFactory(order=order, sku=sku, name=product)
    invitation = InvitationFactory(order=order)
    return services.response_submit(
        invitation=invitation,
        rating=rating,
        comment=comment,
        quote_allowed=quote_allowed,
        now=at or timezone.now(),
    )


def moderator() -> User:
    user, _created = User.objects.get_or_create(username="moderator", is_staff=True)
    return user


def publish(answer: Response, *, at: datetime | None = None) -> Review:
    review = Review.objects.get(response=answer)
    review_services.review_publish(
        review=review, moderator=moderator(), revision=review.revision, now=at
    )
    review.refresh_from_db()
    return review


def published_review(**answer: object) -> Review:
    return publish(quoted_answer(**answer))
