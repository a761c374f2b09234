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
