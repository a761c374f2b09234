"""A change made in the admin moves the dashboard's rollups with it."""

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from feedback.models import DailyFigures, Invitation
from feedback.services.rollups import rollups_reconcile
from tests.dashboard_data import known_data

pytestmark = pytest.mark.django_db


def sent_by_locale() -> dict[str, int]:
    rows = DailyFigures.objects.filter(sku="").values("locale").annotate(n=Sum("sent"))
    return {row["locale"]: row["n"] for row in rows if row["n"]}


def test_a_customers_new_locale_and_stop_in_the_admin_move_their_counts(client: Client) -> None:
    known_data()
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    customer = Invitation.objects.get(response__comment="Broken handle").customer
    before = sent_by_locale()
    stopped = timezone.localtime()
    response = client.post(
        f"/admin/feedback/customer/{customer.pk}/change/",
        {
            "email": customer.email,
            "name": customer.name,
            "locale": "es",
            "time_zone": customer.time_zone,
            "consent": customer.consent,
            "invitations_stopped_at_0": f"{stopped:%Y-%m-%d}",
            "invitations_stopped_at_1": f"{stopped:%H:%M:%S}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sent_by_locale() == {"en": before["en"] - 1, "es": 1}
    stops = DailyFigures.objects.filter(sku="", locale="es").aggregate(n=Sum("stopped"))["n"]
    assert stops == 1
    today = timezone.localdate()
    assert rollups_reconcile(first=today.replace(year=today.year - 1), last=today) == []
