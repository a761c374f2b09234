"""The invitation state machine: every allowed move works, every other is refused and
changes nothing; and the races it decides (answer against "no thanks", answer against the
expiry, answer while the email is still being sent)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback import services, states
from feedback.models import Invitation, Response
from tests.factories import InvitationFactory

State = Invitation.State
PAIRS = [(source, target) for source in State for target in State]


def _reason(target: str) -> str:
    return Invitation.Reason.OPTED_OUT if target == State.SUPPRESSED else ""


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}->{t}" for s, t in PAIRS])
def test_it_moves_only_along_the_table(source: str, target: str) -> None:
    invitation = InvitationFactory(
        state=source, suppression_reason=_reason(source), claimed_until=timezone.now()
    )
    moved = states.transition(invitation, to=target, reason=_reason(target), claimed_until=None)
    stored = Invitation.objects.get(pk=invitation.pk)
    if states.allowed(source, target):
        assert moved == 1
        assert (stored.state, invitation.state) == (target, target)
        assert stored.claimed_until is None
    else:
        assert moved == 0
        assert (stored.state, invitation.state) == (source, source)
        assert stored.claimed_until is not None  # nothing else changed either


@pytest.mark.django_db
def test_it_refuses_to_be_asked_for_a_move_the_table_does_not_have() -> None:
    invitation = InvitationFactory(state=State.RESPONDED)
    with pytest.raises(states.TransitionNotAllowed):
        states.transition(invitation, to=State.SENT, source=[State.RESPONDED])
    with pytest.raises(states.TransitionNotAllowed):
        states.transition(invitation, to=State.SUPPRESSED)  # no reason given
    assert Invitation.objects.get(pk=invitation.pk).state == State.RESPONDED


def test_the_named_groups_agree_with_the_table() -> None:
    assert {
        State.RESPONDED,
        State.DECLINED,
        State.EXPIRED,
        State.SUPPRESSED,
        State.SEND_FAILED,
    } == states.FINAL
    assert State.SUPPRESSED not in states.LINKED and State.SCHEDULED not in states.LINKED
    assert states.SOURCES[State.SUPPRESSED] >= states.WAITING


def _at_once(*actions: object) -> list[object]:
    """Run the actions in threads released at the same instant; their results."""
    start = threading.Barrier(len(actions))
    outcome: list[object] = [None] * len(actions)

    def run(index: int, action: object) -> None:
        start.wait()
        try:
            outcome[index] = action()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_answer_and_no_thanks_at_the_same_instant_never_leave_a_declined_answer() -> None:
    invitations = [InvitationFactory() for _ in range(40)]
    for invitation in invitations:
        answer, decline = Client(), Client()
        page = f"/f/{invitation.token}/"
        statuses = _at_once(
            lambda page=page, c=answer: c.post(page, {"action": "send", "rating": "4"}),
            lambda page=page, c=decline: c.post(page, {"action": "decline"}),
        )
        assert all(s.status_code < 500 for s in statuses)
    finals = {}
    for invitation in invitations:
        invitation.refresh_from_db()
        answered = Response.objects.filter(invitation=invitation).exists()
        finals[invitation.state] = finals.get(invitation.state, 0) + 1
        # One of them won: answered and responded, or declined with no answer.
        assert (invitation.state, answered) in {
            (State.RESPONDED, True),
            (State.DECLINED, False),
        }, (invitation.state, answered)
    assert sum(finals.values()) == 40, finals


@pytest.mark.django_db
def test_an_answer_after_the_expiry_time_gets_the_expired_page_before_the_sweep(
    client: Client,
) -> None:
    invitation = InvitationFactory(expires_at=timezone.now() - timedelta(seconds=1))
    assert invitation.state == State.SENT  # the sweep has not run yet
    page = client.get(f"/f/{invitation.token}/")
    answer = client.post(f"/f/{invitation.token}/", {"action": "send", "rating": "5"})
    services.invitations_expire(now=timezone.now())
    after_sweep = client.post(f"/f/{invitation.token}/", {"action": "send", "rating": "5"})
    assert page.status_code == answer.status_code == after_sweep.status_code == 410
    assert answer.content == after_sweep.content
    assert not Response.objects.filter(invitation=invitation).exists()
    with pytest.raises(services.AnswerRefused):
        services.response_submit(invitation=invitation, rating=5)


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.SENDING, State.SEND_UNKNOWN])
def test_an_answer_while_the_email_is_still_being_sent_is_taken(client: Client, state: str) -> None:
    invitation = InvitationFactory(state=state, sent_at=None)
    response = client.post(f"/f/{invitation.token}/", {"action": "send", "rating": "5"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == State.RESPONDED
    assert invitation.response.rating == 5
