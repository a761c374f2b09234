"""The customer's pages under /f/: no login, the link's token is the key."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from feedback import selectors, services
from feedback.forms import ResponseForm
from feedback.models import Invitation

RESPONDABLE = {Invitation.State.SENT, Invitation.State.RESPONDED}


def _not_found(request: HttpRequest) -> HttpResponse:
    # One page for every bad token: it must not reveal whether a token is "almost right".
    return render(request, "feedback/not_found.html", status=404)


@require_http_methods(["GET", "POST"])
def feedback_page(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation is None or invitation.state not in RESPONDABLE:
        return _not_found(request)
    form = ResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.response_submit(invitation=invitation, **form.cleaned_data)
        return redirect("feedback:thanks", token=token)
    order = invitation.order
    context = {"form": form, "order": order, "items": order.items.all()}
    return render(request, "feedback/page.html", context)


@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    if selectors.invitation_by_token(token) is None:
        return _not_found(request)
    return render(request, "feedback/thanks.html")
