"""Moderation of reviews (issue 19, point 1): what enters the queue, the decisions, an edit
and a withdrawal, the staff page and its permission; and that the rating changes none of it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import services, tokens
from feedback.models import Response, Review, ReviewDecision
from feedback.services import reviews as review_services
from feedback.services.privacy import customer_export
from tests.reviews import moderator, publish, quoted_answer
from tests.staff import member

pytestmark = pytest.mark.django_db
State = Review.State


def public_texts() -> list[str]:
    body = Client().get(reverse("feedback:reviews")).content.decode()
    return [r.response.comment for r in Review.objects.all() if r.response.comment in body]


def test_it_queues_an_answer_that_may_be_quoted() -> None:
    answer = quoted_answer(comment="Lovely beans.")
    assert Review.objects.get(response=answer).state == State.PENDING


@pytest.mark.parametrize(
    ("quote_allowed", "comment"), [(False, "Lovely beans."), (True, ""), (True, "   ")]
)
def test_it_queues_nothing_without_consent_or_text(quote_allowed: bool, comment: str) -> None:
    quoted_answer(quote_allowed=quote_allowed, comment=comment)
    assert not Review.objects.exists()


def test_it_does_not_show_a_review_before_it_is_published() -> None:
    quoted_answer(comment="Waiting for a moderator.")
    assert "Waiting for a moderator." not in Client().get(reverse("feedback:reviews")).text


# The property: for the same content, whatever the rating, the same path to the public page.

COMMENTS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=0, max_size=80
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    comment=COMMENTS,
    quote_allowed=st.booleans(),
    ratings=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    decision=st.sampled_from(["publish", *Review.Reason.values]),
)
def test_acceptance_does_not_depend_on_the_rating(
    comment: str, quote_allowed: bool, ratings: tuple[int, int], decision: str
) -> None:
    outcomes = []
    for rating in ratings:
        answer = quoted_answer(rating=rating, comment=comment, quote_allowed=quote_allowed)
        review = Review.objects.filter(response=answer).first()
        if review is not None:
            if decision == "publish":
                review_services.review_publish(
                    review=review, moderator=moderator(), revision=review.revision
                )
            else:
                review_services.review_reject(
                    review=review, moderator=moderator(), revision=review.revision, reason=decision
                )
            review.refresh_from_db()
        shown = review is not None and review.state == State.PUBLISHED
        outcomes.append((review is not None, review and review.state, shown))
    assert outcomes[0] == outcomes[1]


def test_the_same_reasons_are_offered_for_every_rating(settings: object) -> None:
    alice = member("alice", "Ops")
    quoted_answer(rating=1, comment="Broke on day one.")
    quoted_answer(rating=5, comment="Perfect.")
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("feedback:moderation")).text
    for review in Review.objects.all():
        row = page.split(f'id="pending-{review.pk}"')[1].split("</tr>")[0]
        assert [label for _value, label in Review.Reason.choices if label.capitalize() in row] == [
            label for _value, label in Review.Reason.choices
        ]


# Decisions


def test_a_moderator_publishes_a_low_rating_like_a_high_one() -> None:
    low = publish(quoted_answer(rating=1, comment="The lid leaks."))
    high = publish(quoted_answer(rating=5, comment="Great kettle."))
    assert (low.state, high.state) == (State.PUBLISHED, State.PUBLISHED)
    assert sorted(public_texts()) == ["Great kettle.", "The lid leaks."]


def test_a_rejection_needs_one_of_the_reasons() -> None:
    review = Review.objects.get(response=quoted_answer())
    with pytest.raises(review_services.ModerationRefused):
        review_services.review_reject(
            review=review, moderator=moderator(), revision=review.revision, reason="too negative"
        )
    review.refresh_from_db()
    assert review.state == State.PENDING
    assert not ReviewDecision.objects.exists()


def test_a_decision_on_an_older_version_changes_nothing() -> None:
    answer = quoted_answer(comment="First words.")
    review = Review.objects.get(response=answer)
    seen = review.revision
    services.response_submit(
        invitation=answer.invitation, rating=4, comment="Second words.", quote_allowed=True
    )
    with pytest.raises(review_services.ModerationRefused):
        review_services.review_publish(review=review, moderator=moderator(), revision=seen)
    review.refresh_from_db()
    assert review.state == State.PENDING
    assert "Second words." not in Client().get(reverse("feedback:reviews")).text


def test_the_log_counts_decisions_by_rating() -> None:
    publish(quoted_answer(rating=1, comment="Bad."))
    publish(quoted_answer(rating=1, comment="Also bad."))
    review = Review.objects.get(response=quoted_answer(rating=5, comment="Buy at shop.example!"))
    review_services.review_reject(
        review=review, moderator=moderator(), revision=review.revision, reason="spam"
    )
    body = Client().get(reverse("feedback:reviews_policy")).text
    one = body.split('<tr data-rating="1">')[1].split("</tr>")[0]
    five = body.split('<tr data-rating="5">')[1].split("</tr>")[0]
    assert '<td class="published">2</td><td class="rejected">0</td>' in one
    assert '<td class="published">0</td><td class="rejected">1</td>' in five


# The customer's side


def test_an_edit_sends_a_published_review_back_to_moderation() -> None:
    answer = quoted_answer(rating=5, comment="Great.")
    publish(answer)
    assert public_texts() == ["Great."]
    services.response_submit(
        invitation=answer.invitation, rating=2, comment="It broke after a week.", quote_allowed=True
    )
    review = Review.objects.get(response=answer)
    assert (review.state, review.revision) == (State.PENDING, 2)
    body = Client().get(reverse("feedback:reviews")).text
    assert "It broke after a week." not in body
    assert "Great." not in body


def test_an_edit_of_other_fields_keeps_the_review_published() -> None:
    answer = quoted_answer(rating=5, comment="Great.")
    publish(answer)
    services.response_submit(
        invitation=answer.invitation,
        rating=5,
        comment="Great.",
        quote_allowed=True,
        contact_requested=True,
    )
    assert Review.objects.get(response=answer).state == State.PUBLISHED


def test_unticking_you_may_quote_me_withdraws_the_review_at_once() -> None:
    answer = quoted_answer(comment="Nice mugs.")
    publish(answer)
    services.response_submit(
        invitation=answer.invitation, rating=4, comment="Nice mugs.", quote_allowed=False
    )
    assert Review.objects.get(response=answer).state == State.WITHDRAWN
    assert public_texts() == []


def test_a_customer_withdraws_consent_from_their_link_after_the_edit_window() -> None:
    long_ago = timezone.now() - timedelta(days=60)
    answer = quoted_answer(comment="Old but gold.", at=long_ago)
    publish(answer)
    token = tokens.token_for(answer.invitation.token_nonce)
    page = Client().get(reverse("feedback:page", args=[token])).text
    assert "Do not quote my answer" in page
    response = Client().post(reverse("feedback:withdraw_quote", args=[token]))
    assert response.status_code == 302
    followed = Client().get(response["Location"]).text
    assert "we will not quote your answer" in followed
    assert "Do not quote my answer" not in followed
    assert Review.objects.get(response=answer).state == State.WITHDRAWN
    assert Response.objects.get(pk=answer.pk).quote_allowed is False
    assert public_texts() == []


def test_a_withdrawal_with_an_unknown_link_is_a_404() -> None:
    assert Client().post(reverse("feedback:withdraw_quote", args=["nope"])).status_code == 404


# The staff page and its permission


def test_ops_publish_from_the_queue() -> None:
    alice = member("alice", "Ops")
    answer = quoted_answer(rating=2, comment="Slow courier.")
    review = Review.objects.get(response=answer)
    client = Client()
    client.force_login(alice)
    assert "Slow courier." in client.get(reverse("feedback:moderation")).text
    url = reverse("feedback:moderation_decide", args=[review.pk])
    response = client.post(url, {"action": "publish", "revision": review.revision}, follow=True)
    assert "Published." in response.text
    assert "Slow courier." in Client().get(reverse("feedback:reviews")).text
    [decision] = ReviewDecision.objects.all()
    assert (decision.action, decision.rating, decision.decided_by) == ("published", 2, alice)


def test_ops_reject_with_a_reason() -> None:
    alice = member("alice", "Ops")
    review = Review.objects.get(response=quoted_answer(comment="Call me on 600 123 456"))
    client = Client()
    client.force_login(alice)
    url = reverse("feedback:moderation_decide", args=[review.pk])
    data = {"action": "reject", "reason": "personal_data", "revision": review.revision}
    assert "Rejected." in client.post(url, data, follow=True).text
    review.refresh_from_db()
    assert (review.state, review.reject_reason) == (State.REJECTED, "personal_data")


def test_staff_read_the_queue_but_may_not_publish() -> None:
    bob = member("bob", "Staff")
    review = Review.objects.get(response=quoted_answer(comment="Fine."))
    client = Client()
    client.force_login(bob)
    page = client.get(reverse("feedback:moderation"))
    assert page.status_code == 200
    assert "Fine." in page.text
    assert "publish reviews" in page.text
    url = reverse("feedback:moderation_decide", args=[review.pk])
    assert client.post(url, {"action": "publish", "revision": 1}).status_code == 403
    review.refresh_from_db()
    assert review.state == State.PENDING


def test_an_outsider_gets_no_queue() -> None:
    charlie = member("charlie", None)
    client = Client()
    client.force_login(charlie)
    assert client.get(reverse("feedback:moderation")).status_code == 403


def test_a_broken_form_changes_nothing() -> None:
    alice = member("alice", "Ops")
    review = Review.objects.get(response=quoted_answer())
    client = Client()
    client.force_login(alice)
    url = reverse("feedback:moderation_decide", args=[review.pk])
    page = client.post(url, {"action": "publish", "revision": "x"}, follow=True)
    assert "nothing was changed" in page.text
    page = client.post(url, {"action": "reject", "reason": "rude", "revision": 1}, follow=True)
    assert "Choose one of the reasons" in page.text
    review.refresh_from_db()
    assert review.state == State.PENDING


def test_a_customers_export_includes_their_review() -> None:
    answer = quoted_answer(comment="Export me.")
    publish(answer)
    customer = answer.invitation.order.customer
    data = customer_export(customer=customer, performed_by=None)
    [review] = data["reviews"]
    assert (review["response_id"], review["state"]) == (answer.pk, "published")
