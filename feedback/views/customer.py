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


def _page_allowed(request: HttpRequest, token: str) -> bool:
    """Whether a page request may go on; counts it against the address and the link, and
    refuses an address that asked for too many unknown links."""
    ip = ratelimit.client_ip(request)
    window = settings.FEEDBACK_RATE_WINDOW_SECONDS
    return ratelimit.allowed(
        count=[ratelimit.Limit(f"ip:{ip}", settings.FEEDBACK_RATE_PER_IP, window), _link(token)],
        watch=[_misses(ip)],
    )


def _link(token: str) -> ratelimit.Limit:
    window = settings.FEEDBACK_RATE_WINDOW_SECONDS
    return ratelimit.Limit(f"token:{token[:64]}", settings.FEEDBACK_RATE_PER_TOKEN, window)


def _misses(ip: str) -> ratelimit.Limit:
    return ratelimit.Limit(f"miss:{ip}", settings.FEEDBACK_RATE_MISSES_PER_IP, 600)


def record_miss(request: HttpRequest) -> None:
    """An unknown token: after a few, this address gets 429s instead of 404s."""
    misses = _misses(ratelimit.client_ip(request))
    ratelimit.hit(misses.key, limit=misses.limit, window=misses.window)


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "feedback/too_many.html", status=429)
    response["Retry-After"] = str(settings.FEEDBACK_RATE_WINDOW_SECONDS)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never hand it to another site. (Not "no-referrer": with
    # it, browsers send "Origin: null" on our own form posts and CSRF checks fail.)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


def customer_page(view: View) -> View:
    """A customer page: rate limited before the view runs (a refused request costs no
    database read), with no referrer, never cached."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: object, **kwargs: object) -> HttpResponse:
        if not _page_allowed(request, token):
            return _private(_too_many(request))
        response = view(request, token, *args, **kwargs)
        if response.status_code == 404:
            record_miss(request)
        return _private(response)

    return wrapper


def one_click_page(view: View) -> View:
    """The stop link's customer_page, except that a POST for a real link is always
    honoured, whatever its address asked before: mailbox providers send everyone's RFC 8058
    one-click unsubscribes from a few addresses. Only the link's own limit applies to it.
    A POST for an unknown link is a page like any other, so guessing by POST is limited."""
    page = customer_page(view)

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: object, **kwargs: object) -> HttpResponse:
        if request.method != "POST" or invitation_by_token(token) is None:
            return page(request, token, *args, **kwargs)
        if not ratelimit.allowed(count=[_link(token)]):
            return _private(_too_many(request))
        return _private(view(request, token, *args, **kwargs))

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
