"""The public review pages under /reviews/: the shop's and each product's reviews, the review
policy, the embeddable widget and the feeds. No login; nothing here writes.

Every page speaks the visitor's language (?lang=, then the remembered choice, then the
browser's), loads nothing from another site, and shows published reviews newest first.
"""

import re
from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from feedback import review_feeds
from feedback.models import InvitationPolicy, Review
from feedback.selectors import reviews as reads
from feedback.views.customer import page_language

View = Callable[..., HttpResponse]
PER_PAGE = 20
WIDGET_REVIEWS = 3
# scheme://host[:port], nothing more: anything else would not be an origin in a CSP header.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def widget_origins() -> list[str]:
    """REVIEWS_WIDGET_ORIGINS' valid entries (a system check names the invalid ones)."""
    return [origin for origin in settings.REVIEWS_WIDGET_ORIGINS if ORIGIN.fullmatch(origin)]


def public_page(view: View) -> View:
    """A public page: GET only, in the visitor's language; a language picked with ?lang=
    is remembered in Django's language cookie."""

    @require_GET
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        language = page_language(request, request.LANGUAGE_CODE)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = view(request, *args, **kwargs)
        if request.GET.get("lang") == language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    return wrapper


def widget_frame_policy(view: View) -> View:
    """Only the portal itself and the origins in REVIEWS_WIDGET_ORIGINS may frame this page
    (CSP frame-ancestors; browsers refuse it inside any other site). Read per request, so
    the setting is the one in force."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        ancestors = ["'self'", *widget_origins()]
        framed = csp_replace({"frame-ancestors": ancestors})(view)
        return framed(request, *args, **kwargs)

    # frame-ancestors is the rule; X-Frame-Options (DENY) cannot name origins.
    return xframe_options_exempt(wrapper)


def _page_of(request: HttpRequest, reviews: object) -> object:
    return Paginator(reviews, PER_PAGE).get_page(request.GET.get("page"))


def _product_or_404(sku: str) -> reads.Product:
    product = reads.product(sku)
    if product is None:
        raise Http404(_("No such product."))
    return product


@public_page
def shop_reviews(request: HttpRequest) -> HttpResponse:
    reviews = reads.published()
    context = {
        "page": _page_of(request, reviews),
        "summary": reads.summary(reviews),
        "products": reads.reviewed_products(),
        "product": None,
    }
    return render(request, "feedback/reviews/list.html", context)


@public_page
def product_reviews(request: HttpRequest, sku: str) -> HttpResponse:
    product = _product_or_404(sku)
    reviews = reads.published(sku=sku)
    page = _page_of(request, reviews)
    summary = reads.summary(reviews)
    json_ld = review_feeds.product_json_ld(product=product, summary=summary, reviews=list(page))
    context = {
        "page": page,
        "summary": summary,
        "product": product,
        "json_ld": review_feeds.script_json(json_ld) if json_ld else None,
    }
    return render(request, "feedback/reviews/list.html", context)


@public_page
def review_policy(request: HttpRequest) -> HttpResponse:
    """How reviews are collected, checked and moderated, from the live policy and the
    moderation log."""
    policy = InvitationPolicy.live()
    context = {
        "policy": policy,
        "reasons": Review.Reason.choices,
        "decisions": reads.decisions_by_rating(),
        "editable_days": settings.RESPONSE_EDITABLE_DAYS,
    }
    return render(request, "feedback/reviews/policy.html", context)


@widget_frame_policy
@public_page
def widget(request: HttpRequest) -> HttpResponse:
    """The embeddable widget: the summary and the latest reviews, of the shop or of one
    product (?sku=), linking to the full pages in a new tab."""
    sku = request.GET.get("sku") or None
    product = _product_or_404(sku) if sku else None
    reviews = reads.published(sku=sku)
    all_path = (
        reverse("feedback:reviews_product", args=[sku]) if sku else reverse("feedback:reviews")
    )
    context = {
        "summary": reads.summary(reviews),
        "latest": reviews[:WIDGET_REVIEWS],
        "product": product,
        "all_url": review_feeds.absolute(all_path),
        "policy_url": review_feeds.absolute(reverse("feedback:reviews_policy")),
    }
    return render(request, "feedback/reviews/widget.html", context)


@require_GET
def json_feed(request: HttpRequest) -> HttpResponse:
    """Published reviews as JSON, 20 a page, newest first (?sku= for one product)."""
    sku = request.GET.get("sku") or None
    if sku:
        _product_or_404(sku)
    reviews = reads.published(sku=sku)
    page = _page_of(request, reviews)
    next_url = ""
    if page.has_next():
        query = {"page": page.next_page_number(), **({"sku": sku} if sku else {})}
        next_url = review_feeds.absolute(reverse("feedback:reviews_json") + "?" + urlencode(query))
    body = review_feeds.json_feed(
        page=page, summary=reads.summary(reviews), sku=sku, next_url=next_url
    )
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    # Shops may read it from their own pages' scripts.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def merchant_feed(request: HttpRequest) -> HttpResponse:
    """Google Merchant Center's product reviews feed (XML schema 2.4), every published
    review in it."""
    body = review_feeds.merchant_feed(list(reads.published()))
    return HttpResponse(body, content_type="application/xml; charset=utf-8")
