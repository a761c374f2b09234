from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A missing or stale CSRF token: explain in the portal's look, keep nothing half-done."""
    context = {
        "title": _("This page has expired."),
        "message": _("Please go back, reload the page and send the form again."),
    }
    return render(request, "feedback/error.html", context, status=403)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a sign-in while locked out: when to try again, whom to ask."""
    wait = settings.AXES_COOLOFF_TIME
    context = {"minutes": round(wait.total_seconds() / 60)}
    response = render(request, "feedback/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(wait.total_seconds()))
    return response
