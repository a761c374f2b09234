"""The quiet alert when a product slips: the test's false-alarm rate on stable products,
one incident (and one notice) per slip, the dashboard's banner, the team's email."""

import random
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from feedback.models import ProductAlert, Response
from feedback.services.alerts import product_alert_email_send, product_alerts_evaluate
from feedback.topics import SLIP_ALPHA, SlipTest, slipped
from tests.conftest import WorkerProcess, wait_for
from tests.dashboard_data import staff_member
from tests.factories import InvitationFactory, OrderFactory, OrderItemFactory
from tests.smtp import SmtpSink


def binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def test_its_false_alarm_rate_on_stable_products_is_within_alpha() -> None:
    """Thousands of stable products, each with its own true CSAT and sample sizes, and the
    same noise in both windows: the share the test flags stays within alpha (plus three
    standard errors of the simulation)."""
    rng = random.Random(2026)
    products = 5000
    alarms = 0
    for _ in range(products):
        p = rng.uniform(0.55, 0.92)
        recent, baseline = rng.randint(15, 80), rng.randint(50, 400)
        test = SlipTest(recent, binomial(rng, recent, p), baseline, binomial(rng, baseline, p))
        alarms += slipped(test)
    bound = SLIP_ALPHA + 3 * (SLIP_ALPHA * (1 - SLIP_ALPHA) / products) ** 0.5
    assert alarms / products <= bound, f"{alarms} false alarms in {products}"


def test_it_catches_a_real_slip_most_of_the_time() -> None:
    rng = random.Random(7)
    caught = sum(
        slipped(SlipTest(30, binomial(rng, 30, 0.45), 150, binomial(rng, 150, 0.8)))
        for _ in range(500)
    )
    assert caught / 500 >= 0.85


def test_it_needs_enough_answers_on_both_sides() -> None:
    assert not slipped(SlipTest(14, 0, 200, 180))
    assert not slipped(SlipTest(40, 0, 49, 45))
    assert slipped(SlipTest(15, 3, 50, 45))


# The service, the banner and the email


def answers(sku: str, *, n: int, satisfied: int, days_ago: tuple[int, int]) -> None:
    """n answers to orders with the product, `satisfied` of them 4-5 stars, spread over the
    days ago given."""
    now = timezone.now()
    first, last = days_ago
    for index in range(n):
        order = OrderFactory(items=[])
        OrderItemFactory(order=order, sku=sku, name=f"Product {sku}")
        invitation = InvitationFactory(order=order, state="responded")
        when = now - timedelta(days=first + (last - first) * index / max(n - 1, 1))
        Response.objects.create(
            invitation=invitation, rating=5 if index < satisfied else 2, submitted_at=when
        )


def slipping(sku: str) -> None:
    answers(sku, n=80, satisfied=64, days_ago=(30, 100))  # 80% satisfied before
    answers(sku, n=20, satisfied=6, days_ago=(1, 20))  # 30% lately


def stable(sku: str) -> None:
    answers(sku, n=80, satisfied=64, days_ago=(30, 100))
    answers(sku, n=20, satisfied=16, days_ago=(1, 20))


@pytest.mark.django_db
def test_it_opens_one_incident_per_slip_and_closes_it_on_recovery() -> None:
    slipping("KTL-1")
    stable("MUG-2")

    first = product_alerts_evaluate()
    again = product_alerts_evaluate()

    assert (first.opened, again.opened) == (["KTL-1"], [])
    alert = ProductAlert.objects.get()
    assert (alert.recent_answers, alert.recent_satisfied) == (20, 6)
    assert (alert.baseline_answers, alert.baseline_satisfied) == (80, 64)
    assert alert.closed_at is None

    answers("KTL-1", n=60, satisfied=54, days_ago=(0, 2))  # fixed: 75% of 80 lately
    recovered = product_alerts_evaluate()

    assert recovered.closed == ["KTL-1"]
    assert ProductAlert.objects.get().closed_at is not None


@pytest.mark.django_db
def test_the_banner_shows_open_incidents_only(client: Client) -> None:
    slipping("KTL-1")
    product_alerts_evaluate()
    client.force_login(staff_member())

    html = client.get("/staff/").content.decode()
    bad_filter = client.get("/staff/", {"period": "custom"}).content.decode()
    ProductAlert.objects.update(closed_at=timezone.now())
    after = client.get("/staff/").content.decode()

    assert 'data-alert="KTL-1"' in html
    assert "Product KTL-1 (KTL-1): CSAT slipped" in html
    assert "30% of 20 recent answers were 4 or 5 stars, against 80% of 80 before" in html
    assert 'data-alert="KTL-1"' in bad_filter
    assert 'data-alert="KTL-1"' not in after


@pytest.mark.django_db
def test_no_team_email_no_task(settings: object, django_capture_on_commit_callbacks) -> None:
    settings.TEAM_EMAIL = ""
    slipping("KTL-1")
    with django_capture_on_commit_callbacks() as callbacks:
        product_alerts_evaluate()
    assert callbacks == []
    assert ProductAlert.objects.count() == 1


@pytest.mark.django_db
def test_the_email_goes_once_and_says_why() -> None:
    slipping("KTL-1")
    product_alerts_evaluate()
    alert = ProductAlert.objects.get()

    first = product_alert_email_send(alert_id=alert.pk, to="team@shop.example")
    second = product_alert_email_send(alert_id=alert.pk, to="team@shop.example")

    assert (first, second) == (True, False)
    [message] = mail.outbox
    assert message.to == ["team@shop.example"]
    assert message.subject == "CSAT slipped: Product KTL-1 (KTL-1)"
    assert "is 30% over the last 21 days (20 answers), against 80%" in message.body
    assert "one-sided two-proportion z-test at the 1% level" in message.body
    assert "/staff/?period=30&sku=KTL-1" in message.body


@pytest.mark.django_db
def test_a_mail_server_down_is_recorded_not_raised(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    slipping("KTL-1")
    product_alerts_evaluate()
    alert = ProductAlert.objects.get()

    assert product_alert_email_send(alert_id=alert.pk, to="team@shop.example") is False
    alert.refresh_from_db()
    assert alert.emailed_at is not None and alert.email_error


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_the_team_once_per_incident(
    settings: object, smtp: SmtpSink, celery_worker_process: WorkerProcess
) -> None:
    settings.TEAM_EMAIL = "team@shop.example"
    slipping("KTL-1")
    stable("MUG-2")

    product_alerts_evaluate()  # as beat's task does: it opens the incident, queues the email
    product_alerts_evaluate()  # the next check: the incident is open, nothing new
    log = celery_worker_process.log
    assert wait_for(lambda: smtp.count() >= 1, timeout=20), "\n".join(log[-30:])

    assert not wait_for(lambda: smtp.count() > 1, timeout=5)
    [message] = smtp.to("team@shop.example")
    assert "KTL-1" in message["Subject"]
    assert ProductAlert.objects.get().sku == "KTL-1"
