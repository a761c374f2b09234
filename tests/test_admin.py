import pytest
from django.contrib.auth.models import User
from django.test import Client

from feedback import services
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    return client


def test_it_lists_responses_with_their_comment_escaped(staff_client: Client) -> None:
    invitation = InvitationFactory()
    services.response_submit(invitation=invitation, rating=2, comment="<b>late</b> parcel")
    html = staff_client.get("/admin/feedback/response/").content.decode()
    assert "&lt;b&gt;late&lt;/b&gt; parcel" in html
    assert "<b>late</b>" not in html


@pytest.mark.parametrize(
    "model",
    ["customer", "order", "invitation", "response", "followup", "emaillog", "invitationpolicy"],
)
def test_it_opens_every_changelist(staff_client: Client, model: str) -> None:
    InvitationFactory()
    assert staff_client.get(f"/admin/feedback/{model}/").status_code == 200
