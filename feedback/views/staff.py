"""Pages for staff, under /staff/."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from feedback.mail import outbox_messages

View = Callable[..., HttpResponse]

# The "Staff" group may read feedback; "Ops" may also change the invitation policy;
# superusers have every permission. Anonymous visitors go to the login page; a signed-in
# user without the permission gets a 403, never the page.
VIEW_PERMISSION = "feedback.view_response"
POLICY_PERMISSION = "feedback.change_invitationpolicy"


def staff_view(view: View) -> View:
    """Login required, then permission to read feedback."""
    return login_required(permission_required(VIEW_PERMISSION, raise_exception=True)(view))


def ops_view(view: View) -> View:
    """Login required, then permission to change the invitation policy."""
    return login_required(permission_required(POLICY_PERMISSION, raise_exception=True)(view))


def _parts(message: object) -> dict:
    text = message.get_body(preferencelist=("plain",))
    return {
        "subject": message["Subject"],
        "to": message["To"],
        "date": message["Date"],
        "text": text.get_content() if text else "",
    }


@staff_view
def outbox(request: HttpRequest) -> HttpResponse:
    """The demo's local outbox (EMAIL_URL unset): what customers would have received."""
    messages = [_parts(m) for m in outbox_messages()]
    return render(request, "feedback/staff/outbox.html", {"messages_sent": messages})
