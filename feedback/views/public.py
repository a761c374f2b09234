"""The customer's pages under /f/: no login, the link's token is the key.

A GET never changes anything (mail scanners prefetch links); every choice is a POST.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from feedback import selectors, services
from feedback.forms import ResponseForm, SnoozeForm
from feedback.models import Invitation, InvitationPolicy

State = Invitation.State
# States in which the customer may hold a link (an email was, or may have been, sent).
LINKED_STATES = {
    State.SENDING,
    State.SENT,
    State.SNOOZED,
    State.RESPONDED,
    State.DECLINED,
    State.EXPIRED,
    State.SEND_UNKNOWN,
}


def _invitation(token: str) -> Invitation | None:
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return None
    linked = invitation.state in LINKED_STATES
    if linked or (invitation.state == State.SCHEDULED and invitation.snooze_count):
        return invitation
    return None


def _not_found(request: HttpRequest) -> HttpResponse:
    # One page for every bad token: it must not reveal whether a token is "almost right".
    return render(request, "feedback/not_found.html", status=404)


def _closed(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse | None:
    """The page for an invitation that no longer takes answers, if it is one."""
    if invitation.state == State.EXPIRED:
        return render(request, "feedback/expired.html", {"token": token}, status=410)
    if invitation.state == State.DECLINED:
        return render(request, "feedback/declined.html", {"token": token})
    return None


@require_http_methods(["GET", "POST"])
def feedback_page(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation is None:
        return _not_found(request)
    if closed := _closed(request, invitation, token):
        return closed
    form = ResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.response_submit(invitation=invitation, **form.cleaned_data)
        return redirect("feedback:thanks", token=token)
    order = invitation.order
    context = {"form": form, "order": order, "items": order.items.all(), "token": token}
    return render(request, "feedback/page.html", context)


@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    if _invitation(token) is None:
        return _not_found(request)
    return render(request, "feedback/thanks.html", {"token": token})


@require_http_methods(["GET", "POST"])
def later(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation is None:
        return _not_found(request)
    if closed := _closed(request, invitation, token):
        return closed
    form = SnoozeForm(request.POST or None, choices=InvitationPolicy.live().snooze_choices)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_snooze(
                invitation=invitation, days=form.cleaned_data["days"]
            )
        except services.ControlRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return render(request, "feedback/later_done.html", {"invitation": invitation})
    context = {"form": form, "token": token, "invitation": invitation}
    return render(request, "feedback/later.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation is None:
        return _not_found(request)
    if closed := _closed(request, invitation, token):
        return closed
    if request.method == "POST":
        services.invitation_decline(invitation=invitation)
        return render(request, "feedback/declined.html", {"token": token})
    return render(request, "feedback/decline.html", {"token": token})


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" here without cookies or a CSRF
# token; the unguessable token in the URL is the credential.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def stop(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    if request.method == "POST":
        services.customer_stop_invitations(customer=invitation.customer)
        return render(request, "feedback/stopped.html", {"token": token})
    return render(request, "feedback/stop.html", {"token": token})


@require_http_methods(["POST"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    services.customer_resume_invitations(customer=invitation.customer)
    message = _("Invitations are back on. We will ask at most once per order.")
    return render(request, "feedback/resumed.html", {"token": token, "message": message})
