"""A "Send feedback" of the common kind is stored by the link alone, in one statement, with
the result the full path (look-up, page rules, response_submit) would give."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.models import FollowUp, Invitation, Response
from tests.factories import InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.integration]  # the statement is PostgreSQL's

State = Invitation.State


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def statements(client: Client, path: str, form: dict[str, str]) -> tuple[int, list[str]]:
    """The POST's status and the SQL it ran (read before the next request resets the log)."""
    with CaptureQueriesContext(connection) as queries:
        status = client.post(path, form).status_code
    return status, [query["sql"] for query in queries]


def test_a_first_answer_and_an_edit_are_one_statement_each(client: Client) -> None:
    invitation = InvitationFactory()
    client.get(page(invitation))  # the customer opens the page (the policy is read)
    first = statements(client, page(invitation), {"action": "send", "rating": "3"})
    edit = statements(client, page(invitation), {"action": "send", "rating": "4", "nps": ""})
    # No look-up first and no transaction around it: one statement, committed on its own.
    assert first[0] == edit[0] == 302
    assert len(first[1]) == 1, first[1]
    assert len(edit[1]) == 1, edit[1]
    answer = Response.objects.get()
    assert (answer.rating, answer.edited_at is not None) == (4, True)
    invitation.refresh_from_db()
    assert invitation.state == State.RESPONDED
    # The page kept from the first visit is not served again: it shows the answer now.
    html = client.get(page(invitation)).content.decode()
    assert "Change your answer" in html
    assert "<dt>Your rating</dt><dd>4 / 5</dd>" in html


def answered(invitation: Invitation, *, contact: bool = False, days_ago: int = 0) -> None:
    services.response_submit(invitation=invitation, rating=2, contact_requested=contact)
    Response.objects.filter(invitation=invitation).update(
        submitted_at=timezone.now() - timedelta(days=days_ago)
    )


def in_state(state: str, **fields: object) -> Callable[[Invitation], None]:
    def arrange(invitation: Invitation) -> None:
        Invitation.objects.filter(pk=invitation.pk).update(state=state, **fields)

    return arrange


def answered_then(state: str, **answer: object) -> Callable[[Invitation], None]:
    def arrange(invitation: Invitation) -> None:
        answered(invitation, **answer)
        Invitation.objects.filter(pk=invitation.pk).update(state=state)

    return arrange


# (how the invitation stands, whether the contact box is ticked now, taken by the link alone?)
CASES = {
    "sent": (in_state(State.SENT), False, True),
    "sent, asks for contact": (in_state(State.SENT), True, True),
    "snoozed": (in_state(State.SNOOZED, snooze_count=1), False, True),
    "asked again after a snooze": (in_state(State.SCHEDULED, snooze_count=1), False, False),
    "edit": (answered_then(State.RESPONDED), False, True),
    "edit starts a contact request": (answered_then(State.RESPONDED), True, False),
    "edit ends a contact request": (answered_then(State.RESPONDED, contact=True), False, False),
    "edit keeps a contact request": (answered_then(State.RESPONDED, contact=True), True, False),
    "edit after the week": (answered_then(State.RESPONDED, days_ago=8), False, False),
    "expired": (in_state(State.EXPIRED), False, False),
    "expired, answered": (answered_then(State.EXPIRED), False, False),
    "declined": (in_state(State.DECLINED), False, False),
    "sending": (in_state(State.SENDING), False, False),
    "send unknown": (in_state(State.SEND_UNKNOWN), False, False),
    "not sent": (in_state(State.SUPPRESSED, suppression_reason="cooldown"), False, False),
}


def outcome(client: Client, invitation: Invitation, contact: bool) -> tuple:
    """What the customer and staff would see after the submit."""
    form = {"action": "send", "rating": "5", "comment": "Thanks <b>team</b>", "quote_allowed": "on"}
    if contact:
        form["contact_requested"] = "on"
    status = client.post(page(invitation), form).status_code
    invitation.refresh_from_db()
    answer = Response.objects.filter(invitation=invitation).first()
    stored = answer and (
        answer.rating,
        answer.comment,
        answer.contact_requested,
        answer.quote_allowed,
        answer.edited_at is not None,
    )
    follow_ups = FollowUp.objects.filter(response__invitation=invitation).count()
    return status, invitation.state, invitation.responded_at is not None, stored, follow_ups


@pytest.mark.parametrize("case", CASES)
def test_the_link_alone_stores_what_the_full_path_would(
    client: Client, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    arrange, contact, taken = CASES[case]
    by_link, by_full_path = InvitationFactory(), InvitationFactory()
    for invitation in (by_link, by_full_path):
        arrange(invitation)

    answers_by_link = services.answer_by_link
    results: list[bool] = []

    def recorded(**answer: object) -> bool:
        results.append(answers_by_link(**answer))
        return results[-1]

    monkeypatch.setattr(services, "answer_by_link", recorded)
    seen = outcome(client, by_link, contact)
    assert results == [taken]

    monkeypatch.setattr(services, "answer_by_link", lambda **answer: False)
    assert seen == outcome(client, by_full_path, contact)


def test_an_unknown_link_stores_nothing_and_gets_the_404(client: Client) -> None:
    assert not services.answer_by_link(token="not-a-real-token", rating=5)
    response = client.post("/f/not-a-real-token/", {"action": "send", "rating": "5"})
    assert response.status_code == 404
    assert not Response.objects.exists()
