"""What every customer page under /f/ shares: rate limits, no referrer, the language."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from feedback import ratelimit
from feedback.models import Invitation
from feedback.selectors.links import invitation_by_token

View = Callable[..., HttpResponse]


def _limits(request: HttpRequest, token: str) -> ratelimit.Verdict:
    """Whether this request may go on; counts it against the IP and the token."""
    ip = ratelimit.client_ip(request)
    window = settings.FEEDBACK_RATE_WINDOW_SECONDS
    return ratelimit.start(
        count=[
            ratelimit.Limit(f"ip:{ip}", settings.FEEDBACK_RATE_PER_IP, window),
            ratelimit.Limit(f"token:{token[:64]}", settings.FEEDBACK_RATE_PER_TOKEN, window),
        ],
        watch=[_misses(ip)],
    )


def _misses(ip: str) -> ratelimit.Limit:
    return ratelimit.Limit(f"miss:{ip}", settings.FEEDBACK_RATE_MISSES_PER_IP, 600)


def record_miss(request: HttpRequest) -> None:
    """An unknown token: after a few, this address gets 429s instead of 404s."""
    misses = _misses(ratelimit.client_ip(request))
    ratelimit.hit(misses.key, limit=misses.limit, window=misses.window)


def link_invitation(request: HttpRequest, token: str) -> Invitation | None:
    """The invitation the link's token names, or None; read once per request."""
    try:
        return request._link_invitation
    except AttributeError:
        request._link_invitation = invitation_by_token(token)
        return request._link_invitation


def customer_page(
    view: View | None = None,
    *,
    while_counting: Callable[[HttpRequest, str], object] = link_invitation,
) -> View | Callable[[View], View]:
    """A customer page: rate limited, with no referrer, never cached.

    Used as @customer_page, or as @customer_page(while_counting=...) by a view whose
    POST reads something other than its invitation while Redis counts the request.
    """
    if view is None:
        return lambda view: _customer_page(view, while_counting)
    return _customer_page(view, while_counting)


def _customer_page(view: View, while_counting: Callable[[HttpRequest, str], object]) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: object, **kwargs: object) -> HttpResponse:
        limits = _limits(request, token)
        early = None
        try:
            # Reads run while Redis counts. A GET changes nothing: it runs whole, and is
            # dropped if over a limit. Anything else only reads (by default, its
            # invitation), and waits for the verdict before it may change anything.
            if request.method == "GET":
                early = view(request, token, *args, **kwargs)
            else:
                while_counting(request, token)
        finally:
            allowed = limits.allowed()
        if not allowed:
            response = render(request, "feedback/too_many.html", status=429)
            response["Retry-After"] = str(settings.FEEDBACK_RATE_WINDOW_SECONDS)
        else:
            response = early if early is not None else view(request, token, *args, **kwargs)
            if response.status_code == 404:
                record_miss(request)
        # The token is in the URL: never hand it to another site. (Not "no-referrer": with
        # it, browsers send "Origin: null" on our own form posts and CSRF checks fail.)
        response["Referrer-Policy"] = "same-origin"
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def activate_language(request: HttpRequest, invitation: Invitation) -> str | None:
    """The customer's locale, unless they switched on the page (?lang=, then a cookie).

    Returns the language to remember in a cookie, if the customer just chose one."""
    language = page_language(request, invitation.customer.locale)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language if language == request.GET.get("lang") else None


def page_language(request: HttpRequest, locale: str) -> str:
    """The language chosen on the page (?lang=), else remembered (cookie), else the locale."""
    languages = dict(settings.LANGUAGES)
    chosen = request.GET.get("lang")
    remembered = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return next(
        (lang for lang in (chosen, remembered, locale) if lang in languages),
        settings.LANGUAGE_CODE,
    )
