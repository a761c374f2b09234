"""The answer is committed before the thanks page goes out, and a double submit stores one."""

import threading

import psycopg
import pytest
from django.db import connection
from django.test import Client

from feedback.models import FollowUp, Response
from tests.factories import InvitationFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def rows_seen_by_another_connection(invitation_id: int) -> int:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        query = "SELECT count(*) FROM feedback_response WHERE invitation_id = %s"
        return other.execute(query, [invitation_id]).fetchone()[0]


def test_the_answer_is_committed_before_the_thanks_page() -> None:
    invitation = InvitationFactory()
    response = Client().post(f"/f/{invitation.token}/", {"action": "send", "rating": "5"})
    assert response.status_code == 302
    assert rows_seen_by_another_connection(invitation.pk) == 1


@pytest.mark.parametrize("contact", [False, True])
def test_two_tabs_submitting_at_once_store_one_response(contact: bool) -> None:
    invitation = InvitationFactory()
    start = threading.Barrier(4)
    statuses: list[int] = []
    form = {"contact_requested": "on"} if contact else {}

    def submit(rating: str) -> None:
        client = Client()
        start.wait()
        answer = {"rating": rating, **form}
        statuses.append(client.post(f"/f/{invitation.token}/", answer).status_code)
        connection.close()

    threads = [threading.Thread(target=submit, args=(r,)) for r in "2345"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302] * 4
    assert Response.objects.filter(invitation=invitation).count() == 1
    assert rows_seen_by_another_connection(invitation.pk) == 1
    # Asked to be contacted: one request in the staff's queue, however many tabs sent it.
    assert FollowUp.objects.filter(response__invitation=invitation).count() == int(contact)
