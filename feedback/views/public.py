"""The customer's pages under /f/: no login, the link's token is the key.

A GET never changes anything (mail scanners prefetch links); every choice is a POST.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from feedback import services, states
from feedback.forms import ResponseForm, SnoozeForm, response_form
from feedback.models import Invitation, InvitationPolicy, Response
from feedback.selectors.links import invitation_by_token
from feedback.services.reviews import review_withdraw_consent
from feedback.views.customer import activate_language, customer_page, one_click_page

State = Invitation.State


def _not_found(request: HttpRequest) -> HttpResponse:
    # One page for every bad token: it must not reveal whether a token is "almost right".
    return render(request, "feedback/not_found.html", status=404)


def _closed(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse | None:
    """The page for an invitation that no longer takes answers, if it is one."""
    if invitation.state == State.DECLINED:
        return render(request, "feedback/declined.html", {"token": token})
    if _response(invitation) is None and states.is_expired(invitation, timezone.now()):
        return _expired(request, token)
    return None


def _expired(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "feedback/expired.html", {"token": token}, status=410)


def _open(request: HttpRequest, token: str) -> Invitation | HttpResponse:
    """The invitation a choice page acts on, in the customer's language, or the page to
    show instead (unknown link, ended, already declined)."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    activate_language(request, invitation)
    return _closed(request, invitation, token) or invitation


def _response(invitation: Invitation) -> Response | None:
    return getattr(invitation, "response", None)


def _editable(response: Response | None) -> bool:
    return services.answer_editable(response.submitted_at if response else None, timezone.now())


def _initial(response: Response | None) -> dict:
    if response is None:
        return {}
    fields = ("rating", "nps", "comment", "contact_requested", "quote_allowed")
    return {name: getattr(response, name) for name in fields}


class Page:
    """The feedback page of one invitation, in the customer's language."""

    def __init__(self, request: HttpRequest, invitation: Invitation, token: str) -> None:
        self.request, self.invitation, self.token = request, invitation, token
        self.policy = InvitationPolicy.live()
        self.response = _response(invitation)
        self.remember_language = activate_language(request, invitation)

    def response_form(self, data: dict | None = None) -> ResponseForm:
        initial = _initial(self.response)
        return response_form(data, initial=initial, nps_enabled=self.policy.nps_enabled)

    def render(self, form: ResponseForm, *, status: int = 200, **extra: object) -> HttpResponse:
        can_snooze = self.invitation.state == State.SENT and not self.invitation.snooze_count
        context = {
            "form": form,
            "order": self.invitation.order,
            "items": self.invitation.order.items.all(),
            "token": self.token,
            "answer": self.response,
            "editable": _editable(self.response),
            "snooze_choices": self.policy.snooze_choices if can_snooze else [],
            "quote_withdrawn": self.request.GET.get("quote") == "withdrawn",
            **extra,
        }
        response = render(self.request, "feedback/page.html", context, status=status)
        if self.remember_language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                self.remember_language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


@customer_page
@require_http_methods(["GET", "POST"])
def feedback_page(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    page = Page(request, invitation, token)
    if closed := _closed(request, invitation, token):
        return closed
    if request.method == "GET":
        return page.render(page.response_form())
    action = request.POST.get("action", "send")
    if action == "send":
        return _send(page)
    if action == "decline":
        services.invitation_decline(invitation=invitation)
        return redirect("feedback:decline", token=token)
    if action.startswith("later:"):
        return _later(page, action.removeprefix("later:"))
    # A forged or unknown button: keep what they typed, say what to do.
    form = page.response_form(request.POST)
    form.is_valid()
    return page.render(form, status=400, action_error=_("Please use one of the buttons below."))


def _send(page: Page) -> HttpResponse:
    form = page.response_form(page.request.POST)
    if not form.is_valid():
        return page.render(form, status=400)
    try:
        services.response_submit(
            invitation=page.invitation, nps_asked="nps" in form.fields, **form.cleaned_data
        )
    except services.AnswerRefused as refusal:
        # Declined in another tab or expired since the page was read: that page; an
        # answer past its edit window: the form again, saying so.
        page.invitation.refresh_from_db()
        closed = _closed(page.request, page.invitation, page.token)
        return closed or page.render(form, status=400, action_error=str(refusal))
    return redirect("feedback:thanks", token=page.token)


def _later(page: Page, days: str) -> HttpResponse:
    snooze = SnoozeForm({"days": days}, choices=page.policy.snooze_choices)
    try:
        if not snooze.is_valid():
            raise services.ControlRefused(snooze.errors["days"][0])
        services.invitation_snooze(invitation=page.invitation, days=snooze.cleaned_data["days"])
    except services.ControlRefused as refusal:
        # Keep the rest of what they typed; nothing was validated or stored.
        form = page.response_form()
        form.initial.update(page.request.POST.dict())
        return page.render(form, status=400, later_error=str(refusal))
    return redirect("feedback:later", token=page.token)


@customer_page
@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    activate_language(request, invitation)
    context = {"token": token, "answer": _response(invitation)}
    return render(request, "feedback/thanks.html", context)


@customer_page
@require_http_methods(["GET", "POST"])
def later(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open(request, token)
    if isinstance(invitation, HttpResponse):
        return invitation
    if request.method == "GET" and invitation.snooze_count:
        return render(request, "feedback/later_done.html", {"invitation": invitation})
    form = SnoozeForm(request.POST or None, choices=InvitationPolicy.live().snooze_choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_snooze(invitation=invitation, days=form.cleaned_data["days"])
        except services.ControlRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("feedback:later", token=token)
    context = {"form": form, "token": token, "invitation": invitation}
    return render(request, "feedback/later.html", context, status=400 if form.errors else 200)


@customer_page
@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open(request, token)
    if isinstance(invitation, HttpResponse):
        return invitation
    if request.method == "POST":
        services.invitation_decline(invitation=invitation)
        return redirect("feedback:decline", token=token)
    return render(request, "feedback/decline.html", {"token": token})


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" here without cookies or a CSRF
# token; the unguessable token in the URL is the credential.
@csrf_exempt
@one_click_page
@require_http_methods(["GET", "POST"])
def stop(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    activate_language(request, invitation)
    context = {"token": token}
    if request.method == "POST":
        services.customer_stop_invitations(customer=invitation.customer)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return render(request, "feedback/stopped.html", context)  # RFC 8058: 200, no redirect
        return redirect("feedback:stop", token=token)
    if invitation.customer.invitations_stopped_at is not None:
        return render(request, "feedback/stopped.html", context)
    if "resumed" in request.GET:
        return render(request, "feedback/resumed.html", context)
    return render(request, "feedback/stop.html", context)


@customer_page
@require_http_methods(["POST"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    services.customer_resume_invitations(customer=invitation.customer)
    return redirect(reverse("feedback:stop", kwargs={"token": token}) + "?resumed")


@customer_page
@require_http_methods(["POST"])
def withdraw_quote(request: HttpRequest, token: str) -> HttpResponse:
    """The customer takes back "you may quote me", at any time: their review leaves the
    public pages, the widget and the feeds at once."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return _not_found(request)
    answer = _response(invitation)
    if answer is not None:
        review_withdraw_consent(response=answer)
    return redirect(reverse("feedback:page", kwargs={"token": token}) + "?quote=withdrawn")
