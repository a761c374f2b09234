from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from feedback import services
from feedback.models import Invitation
from tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]


def test_it_sends_inline_and_prints_one_summary_line() -> None:
    for _ in range(3):
        services.order_mark_delivered(
            order=OrderFactory(), delivered_at=timezone.now() - timedelta(days=10)
        )
    out = StringIO()
    call_command("dispatch_invitations", stdout=out)
    assert out.getvalue().strip().splitlines() == [
        "dispatch_invitations: claimed 3 in 1 batch(es), expired 0, snoozes due 0, "
        "stale sends 0, sent 3, suppressed 0, deferred 0, retrying 0, failed 0, unknown 0, "
        "given back 0"
    ]
    assert len(mail.outbox) == 3
    assert set(Invitation.objects.values_list("state", flat=True)) == {"sent"}


def test_it_has_nothing_to_do_when_nothing_is_due() -> None:
    services.order_mark_delivered(order=OrderFactory(), delivered_at=timezone.now())
    out = StringIO()
    call_command("dispatch_invitations", stdout=out)
    assert "claimed 0" in out.getvalue()
    assert mail.outbox == []
