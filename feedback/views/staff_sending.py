"""Ops resume sending after the brake paused it (the form is in the dashboard's banner)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.services.brake import sending_resume
from feedback.staff_forms import ResumeSendingForm
from feedback.views.staff import ops_view


@require_POST
@ops_view
def resume_sending(request: HttpRequest) -> HttpResponse:
    form = ResumeSendingForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, _("Reason: %(error)s") % {"error": error})
        return redirect("feedback:dashboard")
    pause = sending_resume(resumed_by=request.user, reason=form.cleaned_data["reason"])
    if pause is None:
        messages.info(request, _("Sending was not paused: nothing to resume."))
    else:
        messages.success(
            request,
            _("Sending resumed. Due invitations go out with the next sweep, within a minute."),
        )
    return redirect("feedback:dashboard")
