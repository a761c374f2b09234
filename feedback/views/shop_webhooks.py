"""POST /webhooks/shopify and /webhooks/woocommerce: the shop platforms' webhooks in.

200: applied, ignored (a topic or state we have no use for), a replay (nothing changed),
or WooCommerce's unsigned ping. 401: a missing or wrong signature; nothing is stored.
404: the platform's secret is not set, so its webhooks are off. 413: body too large.
422: signed, but we cannot map it; the answer names the field and the reason, and the
delivery is kept for staff (admin: Shop webhooks). The platform retries a 4xx, so a
fulfilment that arrives before its order succeeds on a later try.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from feedback import shop_webhooks
from feedback.services.orders import OrdersRefused
from feedback.services.shop_webhooks import shop_webhook_accept, shop_webhook_refuse
from feedback.shop_webhooks import PayloadRefused, Platform


@csrf_exempt  # the platforms sign the body; they have no cookie
@require_POST
def shopify(request: HttpRequest) -> JsonResponse:
    return _receive(request, shop_webhooks.SHOPIFY)


@csrf_exempt
@require_POST
def woocommerce(request: HttpRequest) -> JsonResponse:
    return _receive(request, shop_webhooks.WOOCOMMERCE)


def _receive(request: HttpRequest, platform: Platform) -> JsonResponse:
    secret = getattr(settings, platform.setting)
    if not secret:
        detail = f"{platform.label} webhooks are off here: {platform.setting} is not set."
        return JsonResponse({"detail": detail}, status=404)
    try:
        body = request.body
    except RequestDataTooBig:
        detail = f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        return JsonResponse({"detail": detail}, status=413)
    signature = request.headers.get(platform.signature_header, "")
    ping = platform is shop_webhooks.WOOCOMMERCE and not signature
    if ping and shop_webhooks.WOOCOMMERCE_PING.fullmatch(body):
        return JsonResponse({"detail": "Ping received."})
    if not shop_webhooks.signature_valid(secret=secret, body=body, signature=signature):
        detail = f"The {platform.signature_header} signature is missing or wrong."
        return JsonResponse({"detail": detail}, status=401)
    return _signed(request, platform, body)


def _signed(request: HttpRequest, platform: Platform, body: bytes) -> JsonResponse:
    topic = request.headers.get(platform.topic_header, "")
    delivery_id = request.headers.get(platform.delivery_header, "").strip()
    try:
        shop_webhooks.check_delivery_id(delivery_id, header=platform.delivery_header)
        change = platform.change(topic, shop_webhooks.json_object(body))
        webhook = shop_webhook_accept(
            platform=platform.name, delivery_id=delivery_id, topic=topic, change=change
        )
    except PayloadRefused as refused:
        return _refused(platform, delivery_id, topic, refused.field, refused.reason, body)
    except OrdersRefused as refused:
        [(field, reason)] = refused.problems.values()
        return _refused(platform, delivery_id, topic, field, reason, body)
    if webhook is None:
        return JsonResponse({"detail": "Already received; nothing changed."})
    return JsonResponse(
        {"detail": webhook.get_outcome_display(), "order_id": webhook.order_external_id or None}
    )


def _refused(
    platform: Platform, delivery_id: str, topic: str, field: str, reason: str, body: bytes
) -> JsonResponse:
    shop_webhook_refuse(
        platform=platform.name,
        delivery_id=delivery_id,
        topic=topic,
        field=field,
        reason=reason,
        body=body,
    )
    detail = f"{field}: {reason}"
    return JsonResponse({"detail": detail, "field": field, "reason": reason}, status=422)
