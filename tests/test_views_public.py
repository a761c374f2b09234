"""The customer's feedback page: the form, bad input, safety, languages."""

import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.models import FollowUp, Invitation, InvitationPolicy, Response
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def spanish_invitation() -> Invitation:
    order = OrderFactory(customer=CustomerFactory(locale="es"), delivered_at=timezone.now())
    return InvitationFactory(order=order)


def test_it_shows_the_order_with_nothing_preselected(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.get(page(invitation))
    assert response.status_code == 200
    html = response.content.decode()
    for item in invitation.order.items.all():
        assert item.name in html
    assert html.count('name="rating"') == 5
    assert html.count('type="checkbox"') == 2
    assert "checked" not in html
    assert 'name="nps"' not in html  # the recommend question is off by default
    for later in ("later:7", "later:14", "later:30"):
        assert f'value="{later}"' in html
    assert f"/f/{invitation.token}/stop/" in html


def test_it_asks_the_recommend_question_when_the_policy_enables_it(client: Client) -> None:
    InvitationPolicy.objects.update_or_create(pk=1, defaults={"nps_enabled": True})
    html = client.get(page(InvitationFactory())).content.decode()
    assert html.count('name="nps"') == 11


def test_it_keeps_the_token_to_itself_and_allows_no_inline_script(client: Client) -> None:
    response = client.get(page(InvitationFactory()))
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode()


def test_its_query_count_does_not_grow_with_the_order(client: Client) -> None:
    small, large = InvitationFactory(), InvitationFactory()
    OrderItemFactory.create_batch(100, order=large.order)
    client.get(page(InvitationFactory()))  # what a process reads once

    def count_queries(invitation: Invitation) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page(invitation))
        assert response.status_code == 200
        assert response.content.decode().count(" × ") == invitation.order.items.count()
        return len(queries)

    few = count_queries(small)
    assert few == count_queries(large)
    assert few <= 4


def test_a_policy_change_reaches_open_pages_at_once(client: Client) -> None:
    invitation = InvitationFactory()
    assert 'name="nps"' not in client.get(page(invitation)).content.decode()
    # Saved by another process: the next page shows it.
    InvitationPolicy.objects.filter(pk=1).update(nps_enabled=True)
    assert client.get(page(invitation)).content.decode().count('name="nps"') == 11


def test_a_blank_form_is_in_the_customers_language_every_time(client: Client) -> None:
    english, spanish = InvitationFactory(), spanish_invitation()
    for _ in range(2):
        assert "How would you rate this order?" in client.get(page(english)).content.decode()
        assert "¿Qué valoración le das a este pedido?" in client.get(page(spanish)).content.decode()


def test_it_stores_the_answer_and_says_thanks(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.post(
        page(invitation), {"action": "send", "rating": "4", "comment": "Quick delivery"}
    )
    assert response.status_code == 302
    stored = Response.objects.get(invitation=invitation)
    assert (stored.rating, stored.comment, stored.contact_requested) == (4, "Quick delivery", False)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.RESPONDED
    assert not FollowUp.objects.exists()
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you for your feedback." in thanks
    assert "get in touch" not in thanks


def test_it_promises_contact_only_when_asked(client: Client) -> None:
    invitation = InvitationFactory()
    data = {"action": "send", "rating": "2", "contact_requested": "on"}
    response = client.post(page(invitation), data)
    assert FollowUp.objects.get().response.invitation == invitation
    assert (
        "someone from our team will contact you"
        in client.get(response["Location"]).content.decode()
    )


@pytest.mark.parametrize("rating", ["", "0", "6", "five"])
def test_it_returns_the_form_with_an_error_for_a_bad_rating(client: Client, rating: str) -> None:
    invitation = InvitationFactory()
    data = {"action": "send", "rating": rating, "comment": "kept", "quote_allowed": "on"}
    response = client.post(page(invitation), data)
    assert response.status_code == 400
    html = response.content.decode()
    rating_block = html[html.index('id="div_id_rating"') : html.index('id="div_id_comment"')]
    assert "Please choose a rating from 1 to 5." in rating_block
    assert "kept</textarea>" in html
    assert (
        'name="quote_allowed" class="checkboxinput form-check-input" id="id_quote_allowed" checked'
        in html
    )
    assert not Response.objects.exists()


def test_it_refuses_a_comment_over_2000_characters(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.post(
        page(invitation), {"action": "send", "rating": "3", "comment": "x" * 2001}
    )
    assert response.status_code == 400
    assert "Please keep the comment to 2000 characters or fewer." in response.content.decode()
    assert 'value="3" id="id_rating_2" required checked' in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("nps", ["11", "-1", "ten"])
def test_it_refuses_a_recommend_score_out_of_range(client: Client, nps: str) -> None:
    InvitationPolicy.objects.update_or_create(pk=1, defaults={"nps_enabled": True})
    response = client.post(page(InvitationFactory()), {"action": "send", "rating": "3", "nps": nps})
    assert response.status_code == 400
    assert "Please choose a number from 0 to 10." in response.content.decode()
    assert not Response.objects.exists()


def test_it_refuses_a_forged_action_and_keeps_the_input(client: Client) -> None:
    invitation = InvitationFactory()
    data = {"action": "delete-everything", "rating": "5", "comment": "hello"}
    response = client.post(page(invitation), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please use one of the buttons below." in html
    assert "hello</textarea>" in html
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT


def test_it_refuses_a_forged_snooze_length(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.post(page(invitation), {"action": "later:365", "comment": "kept"})
    assert response.status_code == 400
    assert "Please choose one of the offered days." in response.content.decode()
    assert "kept</textarea>" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT


def test_a_missing_csrf_token_gets_a_403_page_in_the_portals_look() -> None:
    invitation = InvitationFactory()
    client = Client(enforce_csrf_checks=True)
    response = client.post(page(invitation), {"action": "send", "rating": "4"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This page has expired." in html
    assert "bootstrap.min.css" in html
    assert not Response.objects.exists()


def test_a_double_submit_stores_one_response(client: Client) -> None:
    invitation = InvitationFactory()
    for _ in range(2):
        client.post(page(invitation), {"action": "send", "rating": "5", "comment": "twice"})
    assert Response.objects.filter(invitation=invitation).count() == 1


def test_an_answered_invitation_shows_the_answer_and_can_be_edited_for_a_week(
    client: Client,
) -> None:
    invitation = InvitationFactory()
    services.response_submit(invitation=invitation, rating=3, comment="first thoughts")
    html = client.get(page(invitation)).content.decode()
    assert "first thoughts" in html
    assert "Change your answer" in html
    client.post(page(invitation), {"action": "send", "rating": "4", "comment": "second"})
    answer = Response.objects.get()
    assert (answer.rating, answer.comment) == (4, "second")
    assert answer.edited_at is not None

    Response.objects.update(submitted_at=timezone.now() - timedelta(days=8))
    html = client.get(page(invitation)).content.decode()
    assert "This answer can no longer be changed." in html
    assert 'name="rating"' not in html
    refused = client.post(page(invitation), {"action": "send", "rating": "1"})
    assert refused.status_code == 400
    assert Response.objects.get().rating == 4


def test_a_resave_without_the_recommend_question_keeps_the_earlier_score(
    client: Client,
) -> None:
    InvitationPolicy.objects.update_or_create(pk=1, defaults={"nps_enabled": True})
    invitation = InvitationFactory()
    client.post(page(invitation), {"action": "send", "rating": "4", "nps": "9"})
    assert Response.objects.get().nps == 9
    # Ops turn the question off; the customer opens their answer and saves it unchanged.
    InvitationPolicy.objects.filter(pk=1).update(nps_enabled=False)
    assert 'name="nps"' not in client.get(page(invitation)).content.decode()
    saved = client.post(page(invitation), {"action": "send", "rating": "4", "nps": "0"})
    assert saved.status_code == 302
    answer = Response.objects.get()
    assert (answer.rating, answer.nps) == (4, 9)
    assert answer.edited_at is not None


def test_it_speaks_the_customers_language_and_can_switch(client: Client) -> None:
    invitation = spanish_invitation()
    html = client.get(page(invitation)).content.decode()
    assert '<html lang="es">' in html
    assert "¿Qué tal tu pedido?" in html
    english = client.get(page(invitation) + "?lang=en")
    assert "How was your order?" in english.content.decode()
    assert english.cookies["django_language"].value == "en"
    assert "How was your order?" in client.get(page(invitation)).content.decode()


def test_unknown_and_tampered_tokens_get_the_same_404(client: Client) -> None:
    invitation = InvitationFactory()
    tampered = invitation.token[:-1] + ("A" if invitation.token[-1] != "A" else "B")
    unknown = client.get("/f/not-a-real-token/")
    almost = client.get(f"/f/{tampered}/")
    assert unknown.status_code == almost.status_code == 404
    assert unknown.content == almost.content


def test_a_token_guessing_loop_gets_404s_then_429s_and_never_a_500(client: Client) -> None:
    invitation = InvitationFactory()
    statuses = []
    bodies = set()
    for n in range(300):
        guess = (
            secrets.token_urlsafe(32)
            if n % 2
            else invitation.token[:-2] + secrets.token_urlsafe(2)[:2]
        )
        response = client.get(f"/f/{guess}/")
        statuses.append(response.status_code)
        if response.status_code == 404:
            bodies.add(response.content)
    assert set(statuses) == {404, 429}
    first_429 = statuses.index(429)
    assert set(statuses[:first_429]) == {404}
    assert set(statuses[first_429:]) == {429}
    assert len(bodies) == 1  # "almost right" looks exactly like random
    assert client.get(page(invitation)).status_code == 429  # this address is cut off


def test_one_link_opened_too_often_gets_429_while_others_still_open(
    client: Client, settings: object
) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 5
    hammered, other = InvitationFactory(), InvitationFactory()
    statuses = [client.get(page(hammered)).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    assert client.get(page(other)).status_code == 200


def test_a_comment_with_markup_shows_as_text(client: Client) -> None:
    invitation = InvitationFactory()
    client.post(page(invitation), {"action": "send", "rating": "2", "comment": XSS})
    html = client.get(page(invitation)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert XSS not in html
