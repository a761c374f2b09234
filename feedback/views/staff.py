"""Pages for staff."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from feedback.mail import outbox_messages


def _parts(message: object) -> dict:
    text = message.get_body(preferencelist=("plain",))
    return {
        "subject": message["Subject"],
        "to": message["To"],
        "date": message["Date"],
        "text": text.get_content() if text else "",
    }


@staff_member_required
def outbox(request: HttpRequest) -> HttpResponse:
    """The demo's local outbox (EMAIL_URL unset): what customers would have received."""
    messages = [_parts(m) for m in outbox_messages()]
    return render(request, "feedback/staff/outbox.html", {"messages_sent": messages})
