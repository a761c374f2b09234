"""Ask me later (once), no thanks, stop all: the services and their pages."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import Invitation
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.smtp import SmtpSink

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

State = Invitation.State


def sweep() -> services.SweepSummary:
    return services.invitations_sweep(send=services.send_here)


def link_in(message: object) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/f/[^/\s]+/", text).group(0)


def test_ask_me_later_sends_exactly_one_more_email_with_the_same_link(
    smtp_settings: SmtpSink, client: Client
) -> None:
    order = OrderFactory(customer=CustomerFactory(email="lena@example.com"))
    invitation = services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )
    sweep()
    [first] = smtp_settings.to("lena@example.com")
    path = urlsplit(link_in(first)).path

    page = client.post(path + "later/", {"days": "14"}, follow=True)
    assert page.redirect_chain == [(path + "later/", 302)]
    assert "ask once more on" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == State.SNOOZED
    assert invitation.due_at > timezone.now() + timedelta(days=13)

    again = client.post(path + "later/", {"days": "7"})
    assert again.status_code == 400
    assert "You already asked us to ask later" in again.content.decode()

    sweep()
    assert len(smtp_settings.to("lena@example.com")) == 1  # not yet: 14 days to go
    Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())
    sweep()
    sweep()
    first_again, later = smtp_settings.to("lena@example.com")
    assert first_again is first
    assert link_in(later) == link_in(first)
    assert "As you asked" in later["Subject"]
    assert list(invitation.emails.values_list("kind", "outcome")) == [
        ("invitation", "sent"),
        ("later", "sent"),
    ]
    invitation.refresh_from_db()
    assert invitation.state == State.SENT
    assert client.post(path + "later/", {"days": "7"}).status_code == 400


def test_ask_me_later_only_offers_the_policys_days(client: Client) -> None:
    invitation = InvitationFactory()
    page = client.get(f"/f/{invitation.token}/later/")
    assert page.status_code == 200
    html = page.content.decode()
    assert [int(d) for d in re.findall(r'name="days" value="(\d+)"', html)] == [7, 14, 30]
    forged = client.post(f"/f/{invitation.token}/later/", {"days": "365"})
    assert forged.status_code == 400
    invitation.refresh_from_db()
    assert invitation.state == State.SENT


def test_a_get_of_any_choice_changes_nothing(client: Client) -> None:
    invitation = InvitationFactory()
    for choice in ("later", "no-thanks", "stop"):
        assert client.get(f"/f/{invitation.token}/{choice}/").status_code == 200
    invitation.refresh_from_db()
    invitation.customer.refresh_from_db()
    assert invitation.state == State.SENT
    assert invitation.customer.invitations_stopped_at is None


def test_no_thanks_closes_this_order_for_good(client: Client) -> None:
    invitation = InvitationFactory()
    page = client.post(f"/f/{invitation.token}/no-thanks/", follow=True)
    assert "We won't ask about this order again." in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == State.DECLINED
    assert client.post(f"/f/{invitation.token}/later/", {"days": "7"}).status_code == 200
    invitation.refresh_from_db()
    assert invitation.state == State.DECLINED


def test_one_click_unsubscribe_without_cookies_stops_everything(client: Client) -> None:
    invitation = InvitationFactory()
    waiting = services.order_mark_delivered(
        order=OrderFactory(customer=invitation.customer), delivered_at=timezone.now()
    )
    assert waiting.state == State.SCHEDULED
    one_click = Client(enforce_csrf_checks=True)
    response = one_click.post(
        f"/f/{invitation.token}/stop/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "You won't receive invitations any more." in response.content.decode()
    waiting.refresh_from_db()
    assert (waiting.state, waiting.suppression_reason) == (State.SUPPRESSED, "opted_out")
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is not None


def test_stop_can_be_undone(client: Client) -> None:
    invitation = InvitationFactory()
    client.post(f"/f/{invitation.token}/stop/")
    undo = client.post(f"/f/{invitation.token}/resume/", follow=True)
    assert undo.status_code == 200
    assert "Invitations are back on." in undo.content.decode()
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is None


def test_an_expired_invitation_says_so_and_still_offers_stop_all(client: Client) -> None:
    invitation = InvitationFactory(state=State.EXPIRED)
    page = client.get(f"/f/{invitation.token}/")
    assert page.status_code == 410
    assert f"/f/{invitation.token}/stop/" in page.content.decode()
