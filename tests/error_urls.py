"""The portal's URLs and error handlers, plus pages that fail on purpose, for the error
page tests."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from feedback.selectors.links import invitation_by_token
from feedback.views.customer import activate_language
from portal import urls


def customer_page_with_a_bug(request: HttpRequest, token: str) -> HttpResponse:
    """Fails as a customer's page might: after it chose the customer's language."""
    activate_language(request, invitation_by_token(token))
    raise RuntimeError("a bug")


def staff_page_with_a_bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def forbidden(request: HttpRequest, token: str) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [
    path("f/<str:token>/bug/", customer_page_with_a_bug),
    path("f/<str:token>/forbidden/", forbidden),
    path("staff/bug/", staff_page_with_a_bug),
    *urls.urlpatterns,
]
handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
