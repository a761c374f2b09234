"""Reads for the product-slip alert: each product's answers in the recent window and in its
baseline (the window just before it), and the open incidents the dashboard shows."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q

from feedback.models import OrderItem, ProductAlert
from feedback.topics import SlipTest


@dataclass(frozen=True)
class Windows:
    recent_start: datetime
    baseline_start: datetime
    end: datetime


def alert_windows(now: datetime) -> Windows:
    recent_start = now - timedelta(days=settings.PRODUCT_ALERT_RECENT_DAYS)
    baseline_start = recent_start - timedelta(days=settings.PRODUCT_ALERT_BASELINE_DAYS)
    return Windows(recent_start, baseline_start, now)


def product_slip_tests(windows: Windows) -> dict[str, tuple[str, SlipTest]]:
    """One query: per product in the orders, its name and its answers (all, and 4-5 stars)
    in the recent window and in the baseline."""
    submitted = "order__invitation__response__submitted_at"
    rating = "order__invitation__response__rating"
    recent = Q(**{f"{submitted}__gte": windows.recent_start})
    baseline = Q(**{f"{submitted}__lt": windows.recent_start})
    satisfied = Q(**{f"{rating}__gte": 4})
    rows = (
        OrderItem.objects.filter(
            **{f"{submitted}__gte": windows.baseline_start, f"{submitted}__lt": windows.end}
        )
        .values("sku")
        .annotate(
            name=Max("name"),
            recent_answers=Count("pk", filter=recent),
            recent_satisfied=Count("pk", filter=recent & satisfied),
            baseline_answers=Count("pk", filter=baseline),
            baseline_satisfied=Count("pk", filter=baseline & satisfied),
        )
        .order_by()
    )
    return {
        row["sku"]: (
            row["name"],
            SlipTest(
                row["recent_answers"],
                row["recent_satisfied"],
                row["baseline_answers"],
                row["baseline_satisfied"],
            ),
        )
        for row in rows
    }


def open_alerts() -> list[ProductAlert]:
    """The incidents still open, newest first: the dashboard's banner."""
    return list(ProductAlert.objects.filter(closed_at__isnull=True).order_by("-opened_at"))
