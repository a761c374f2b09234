"""Headers a browser acts on, added to every response in one place."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

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
