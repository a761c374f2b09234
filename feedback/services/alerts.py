"""The quiet alert when a product slips: incidents opened and closed by a periodic check,
and one notice per incident.

Beat runs `product_alerts_evaluate` (PRODUCT_ALERT_INTERVAL_SECONDS). For each product it
tests the recent window against the baseline just before it (feedback.topics.slipped: a
one-sided two-proportion z-test on the share of 4-5 star answers). The first time the test
fires an incident opens, and staff are told once: the dashboard's banner, and an email to
TEAM_EMAIL if set. Later checks that still fire change nothing; the incident closes when
the product recovers (feedback.topics.recovered), and a later slip is a new incident.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import ProductAlert
from feedback.selectors.alerts import alert_windows, product_slip_tests
from feedback.shop import from_address, shop_identity
from feedback.topics import SlipTest, recovered, slipped

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSummary:
    opened: list[str]
    closed: list[str]

    def __str__(self) -> str:
        return f"{len(self.opened)} opened, {len(self.closed)} closed"


def product_alerts_evaluate(*, now: datetime | None = None) -> AlertSummary:
    """Open an incident for each product that slipped and has none open; close those that
    recovered."""
    now = now or timezone.now()
    tests = product_slip_tests(alert_windows(now))
    open_by_sku = {a.sku: a for a in ProductAlert.objects.filter(closed_at__isnull=True)}
    opened, closed = [], []
    for sku, (name, test) in sorted(tests.items()):
        alert = open_by_sku.get(sku)
        if (
            alert is None
            and slipped(test)
            and product_alert_open(sku=sku, name=name, test=test, now=now)
        ):
            opened.append(sku)
        elif alert is not None and recovered(test):
            ProductAlert.objects.filter(pk=alert.pk, closed_at__isnull=True).update(closed_at=now)
            closed.append(sku)
    return AlertSummary(opened, closed)


@transaction.atomic
def product_alert_open(*, sku: str, name: str, test: SlipTest, now: datetime) -> bool:
    """Record the incident and tell staff; False if one is open already (a concurrent
    check opened it: the database allows one open incident per product)."""
    try:
        with transaction.atomic():
            alert = ProductAlert.objects.create(
                sku=sku,
                name=name,
                opened_at=now,
                recent_answers=test.recent_answers,
                recent_satisfied=test.recent_satisfied,
                baseline_answers=test.baseline_answers,
                baseline_satisfied=test.baseline_satisfied,
                z=test.z,
            )
    except IntegrityError:
        return False
    alert_notify(alert)
    return True


def alert_notify(alert: ProductAlert) -> None:
    """Tell staff about a new incident beyond the dashboard's banner: an email to TEAM_EMAIL,
    sent by a worker once the incident is committed. The one place to add other channels."""
    address = settings.TEAM_EMAIL
    if not address:
        return
    from feedback.tasks import product_alert_email

    # robust: with the broker down the incident stays recorded and on the banner.
    transaction.on_commit(lambda: product_alert_email.delay(alert.pk, address), robust=True)


def product_alert_email_send(*, alert_id: int, to: str, now: datetime | None = None) -> bool:
    """Email the team about the incident, once: the worker that claims it (a conditional
    UPDATE) sends; a second delivery of the task changes nothing. The outcome is stored."""
    now = now or timezone.now()
    claimed = ProductAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if claimed != 1:
        return False
    alert = ProductAlert.objects.get(pk=alert_id)
    try:
        product_alert_message(alert, to=to).send()
    except OSError as error:  # smtplib's errors are OSErrors too
        ProductAlert.objects.filter(pk=alert_id).update(email_error=str(error)[:1000])
        logger.warning("product alert %s: email not sent (%s)", alert_id, error)
        return False
    return True


def product_alert_message(alert: ProductAlert, *, to: str) -> EmailMultiAlternatives:
    context = {
        "alert": alert,
        "shop": shop_identity(),
        "dashboard_url": settings.PORTAL_BASE_URL
        + reverse("feedback:dashboard")
        + f"?period=30&sku={alert.sku}",
        "recent_days": settings.PRODUCT_ALERT_RECENT_DAYS,
        "baseline_days": settings.PRODUCT_ALERT_BASELINE_DAYS,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/product-alert-subject.txt", context)
        text = render_to_string("emails/product-alert-body-text.txt", context)
        html = render_to_string("emails/product-alert-body-html.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=from_address(),
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
