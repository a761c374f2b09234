"""The portal's own error pages (400, 403, 404, 500, a failed CSRF check, a sign-in lockout).

Under /staff/ and /admin/ an error looks like the staff pages and leads back to the
dashboard. Anywhere else, the customer pages under /f/ above all, it looks like the
customer's pages, in the active language (the customer's, once their page has chosen it),
and leads back to their feedback page and to the shop."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

STAFF_PATHS = ("/staff/", "/admin/")

# Each error's title and message, for customers (in their language) and for staff. A
# customer's "not found" is the page of a feedback link that does not work.
CUSTOMER_TEXTS = {
    "bad_request": (
        _("We could not read this request."),
        _("Please go back to the page and try again."),
    ),
    "forbidden": (
        _("This page is not open to you."),
        _("Please open the link from our email again."),
    ),
    "expired": (
        _("This page has expired."),
        _("Please go back, reload the page and send the form again."),
    ),
    "server_error": (
        _("Something went wrong on our side."),
        _("Please try again in a few minutes."),
    ),
}
STAFF_TEXTS = {
    "bad_request": (
        _("Bad request"),
        _("The portal could not read this request. Go back and try again."),
    ),
    "forbidden": (
        _("You may not open this page"),
        _(
            "Your account does not have the permission this page needs. If you need it, ask an "
            "administrator of the portal."
        ),
    ),
    "expired": (
        _("This page has expired"),
        _("Nothing was saved. Go back, reload the page and send the form again."),
    ),
    "not_found": (
        _("Page not found"),
        _(
            "There is no page at this address: the link may be incomplete, or what it showed "
            "may have been removed."
        ),
    ),
    "server_error": (
        _("Something went wrong on our side"),
        _(
            "The error was logged. Try again in a few minutes; if it keeps happening, tell "
            "whoever runs the portal."
        ),
    ),
}


def is_staff_path(request: HttpRequest) -> bool:
    return request.path.startswith(STAFF_PATHS)


def _customer_links(request: HttpRequest) -> dict[str, str]:
    """The customer's way back: their feedback page, when the address carried its link, and
    the shop's site."""
    match = request.resolver_match
    token = match.kwargs.get("token") if match else None
    page_url = reverse("feedback:page", kwargs={"token": token}) if token else ""
    return {"page_url": page_url, "shop_url": settings.SHOP_URL}


def _error(request: HttpRequest, kind: str) -> tuple[str, dict]:
    """The template and context of an error page, in the staff or the customer look."""
    if is_staff_path(request):
        title, message = STAFF_TEXTS[kind]
        return "feedback/staff/error.html", {"title": title, "message": message}
    context = _customer_links(request)
    if kind == "not_found":
        return "feedback/not_found.html", context
    title, message = CUSTOMER_TEXTS[kind]
    return "feedback/error.html", {**context, "title": title, "message": message}


def _render(request: HttpRequest, kind: str, status: int) -> HttpResponse:
    template, context = _error(request, kind)
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, "bad_request", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, "forbidden", 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, "not_found", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the context processors, as Django's own 500 page is: they read the
    session and the user from the database, which may be what failed."""
    template, context = _error(request, "server_error")
    return HttpResponse(render_to_string(template, context), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A missing or stale CSRF token: explain in the portal's look, keep nothing half-done."""
    return _render(request, "expired", 403)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a sign-in while locked out: when to try again, whom to ask."""
    wait = settings.AXES_COOLOFF_TIME
    context = {"minutes": round(wait.total_seconds() / 60)}
    response = render(request, "feedback/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(wait.total_seconds()))
    return response
