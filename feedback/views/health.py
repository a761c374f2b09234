"""GET /healthz for load balancers: 200 when the database and the broker answer, else 503.
It also says whether the brake has paused sending, and why ("sending": "paused")."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from feedback.selectors.deliverability import open_pause


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    """One attempt, within the broker's own short timeouts (REDIS_TIMEOUT_SECONDS): a
    probe must answer at once, and the load balancer asks again soon."""
    broker = Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    )
    try:
        with broker:
            broker.ensure_connection(max_retries=0)
        return True
    except Exception:
        return False


def _sending() -> dict[str, str]:
    """A paused sender is not an outage of the portal: it shows here, the status stays."""
    try:
        pause = open_pause()
    except Exception:
        return {"sending": "unknown"}
    if pause is None:
        return {"sending": "ok"}
    reason = f"{pause.get_reason_display()} since {pause.paused_at.isoformat()}"
    return {"sending": "paused", "sending_paused_reason": reason}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    body = {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
    body["status"] = "ok" if all(checks.values()) else "unavailable"
    body.update(_sending())
    return JsonResponse(body, status=200 if all(checks.values()) else 503)
