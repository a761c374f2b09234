import pytest
from django.test import Client

from feedback.models import FollowUp, Invitation, Response
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def test_it_shows_the_order_with_no_rating_preselected(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.get(page(invitation))
    assert response.status_code == 200
    html = response.content.decode()
    for item in invitation.order.items.all():
        assert item.name in html
    assert html.count('type="radio"') == 5
    assert "checked" not in html


def test_it_stores_a_rating_and_comment(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.post(page(invitation), {"rating": "4", "comment": "Quick delivery"})
    assert response.status_code == 302
    stored = Response.objects.get(invitation=invitation)
    assert (stored.rating, stored.comment) == (4, "Quick delivery")
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.RESPONDED
    assert not FollowUp.objects.exists()
    assert "Thank you" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("rating", ["", "0", "6", "five"])
def test_it_returns_the_form_with_an_error_for_a_bad_rating(client: Client, rating: str) -> None:
    invitation = InvitationFactory()
    response = client.post(page(invitation), {"rating": rating, "comment": "kept"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "invalid-feedback" in html
    assert "kept" in html
    assert not Response.objects.exists()


def test_it_refuses_a_comment_over_2000_characters(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.post(page(invitation), {"rating": "3", "comment": "x" * 2001})
    assert response.status_code == 200
    assert "at most 2000 characters" in response.content.decode()
    assert not Response.objects.exists()


def test_it_answers_unknown_and_tampered_tokens_with_the_same_404(client: Client) -> None:
    invitation = InvitationFactory()
    tampered = invitation.token[:-1] + ("A" if invitation.token[-1] != "A" else "B")
    unknown = client.get("/f/not-a-real-token/")
    almost = client.get(f"/f/{tampered}/")
    assert unknown.status_code == almost.status_code == 404
    assert unknown.content == almost.content
