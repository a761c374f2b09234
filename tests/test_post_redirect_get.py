"""Every customer choice ends in a redirect: reloading the page after it repeats nothing
and shows the same answer (RFC 8058's one-click POST excepted: 200, no redirect)."""

import pytest
from django.test import Client

from feedback.models import Invitation
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

State = Invitation.State


def page(invitation: Invitation, choice: str = "") -> str:
    return f"/f/{invitation.token}/{choice}"


def test_ask_me_later_then_reload_shows_the_same_confirmation(client: Client) -> None:
    invitation = InvitationFactory()
    posted = client.post(page(invitation), {"action": "later:14", "rating": ""})
    assert (posted.status_code, posted["Location"]) == (302, page(invitation, "later/"))
    for _ in range(2):  # the page after the redirect, then a reload of it
        shown = client.get(posted["Location"])
        assert shown.status_code == 200
        assert "ll ask once more on" in shown.content.decode()
        assert "already asked" not in shown.content.decode()
    invitation.refresh_from_db()
    assert (invitation.state, invitation.snooze_count) == (State.SNOOZED, 1)


def test_the_later_page_redirects_too(client: Client) -> None:
    invitation = InvitationFactory()
    posted = client.post(page(invitation, "later/"), {"days": "7"})
    assert (posted.status_code, posted["Location"]) == (302, page(invitation, "later/"))
    assert "ll ask once more on" in client.get(posted["Location"]).content.decode()


@pytest.mark.parametrize(
    ("choice", "data"), [("", {"action": "decline"}), ("no-thanks/", {})], ids=["page", "own"]
)
def test_no_thanks_then_reload_shows_it_was_done(client: Client, choice: str, data: dict) -> None:
    invitation = InvitationFactory()
    posted = client.post(page(invitation, choice), data)
    assert (posted.status_code, posted["Location"]) == (302, page(invitation, "no-thanks/"))
    shown = client.get(posted["Location"]).content.decode()
    assert "t ask about this order again." in shown
    invitation.refresh_from_db()
    assert invitation.state == State.DECLINED


def test_stop_and_undo_from_the_page_redirect(client: Client) -> None:
    invitation = InvitationFactory()
    stopped = client.post(page(invitation, "stop/"))
    assert (stopped.status_code, stopped["Location"]) == (302, page(invitation, "stop/"))
    assert "t receive invitations any more." in (client.get(stopped["Location"]).content.decode())
    resumed = client.post(page(invitation, "resume/"))
    assert resumed.status_code == 302
    assert "Invitations are back on." in client.get(resumed["Location"]).content.decode()
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is None


def test_the_one_click_post_is_answered_200_without_a_redirect() -> None:
    invitation = InvitationFactory()
    # What a mailbox provider sends (RFC 8058): no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        page(invitation, "stop/"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert not response.has_header("Location")
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is not None
