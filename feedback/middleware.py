"""Headers a browser acts on, added to every response in one place."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from feedback.models import StaffPreference

# Browser features the portal never uses: denied to its pages and to anything they embed,
# so an injected script or a framed page cannot ask for them either.
DENIED_FEATURES = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
]
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)
# DESIGN §6: the staff pages live under /staff/, the customer pages under /f/.
STAFF_PREFIX = "/staff/"
CUSTOMER_PREFIX = "/f/"


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; on every /staff/ response (pages, the CSV
    export, redirects and errors alike) the admin's never-cache headers, since they carry
    personal data that no browser or proxy may keep; on every /f/ response (pages, 429s,
    404s and slash redirects alike) X-Robots-Tag, since a link is one customer's and no
    search engine may list it or follow its links."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith(STAFF_PREFIX):
            add_never_cache_headers(response)
        if request.path.startswith(CUSTOMER_PREFIX):
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response


# The staff member's language, remembered in this browser for the pages they see signed out
# (sign-in, password reset, "you are signed out"). Only the staff pages read it.
STAFF_LANGUAGE_COOKIE = "staff_language"


class StaffLanguageMiddleware:
    """Every /staff/ page, Django's sign-in and password pages included, speaks the language
    the staff member chose: their saved preference when signed in, else the one this browser
    remembers from their last visit, else the browser's (LocaleMiddleware's choice)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(STAFF_PREFIX):
            return self.get_response(request)
        languages = dict(settings.LANGUAGES)
        saved = None
        if request.user.is_authenticated:
            saved = StaffPreference.language_of(request.user)
        remembered = request.COOKIES.get(STAFF_LANGUAGE_COOKIE)
        language = saved or (remembered if remembered in languages else None)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if saved and saved != remembered and STAFF_LANGUAGE_COOKIE not in response.cookies:
            remember_staff_language(response, saved)
        return response


def remember_staff_language(response: HttpResponseBase, language: str) -> None:
    response.set_cookie(
        STAFF_LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        path=STAFF_PREFIX,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
