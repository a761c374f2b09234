"""Standard Webhooks out (https://www.standardwebhooks.com/).

An event is an outbox row (WebhookEvent) written in the same transaction as the change it
reports, with one WebhookDelivery per endpoint that wants it. Once the transaction
commits, a Celery task per delivery POSTs it; every attempt is a WebhookAttempt row. If
the broker is down then, or a task is lost, the beat sweep (webhooks_sweep) finds the
pending rows and queues them again: nothing is lost.

Every delivery of an event, re-sends included, carries the event's `webhook-id`, so a
receiver that keeps the ids it has seen takes each event once.
"""

import base64
import json
import logging
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial

import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from feedback.models import (
    Customer,
    FollowUp,
    Invitation,
    Response,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

EventType = WebhookEventType
State = WebhookDelivery.State
# The body's "version": bumped only when a field changes meaning or goes away.
PAYLOAD_VERSION = 1
# A delivery handed to the broker is left alone by the sweep this long: time enough for a
# worker to take it from a backlog. A task lost meanwhile is queued again after it.
QUEUE_LEASE = timedelta(minutes=5)
SWEEP_BATCH_SIZE = 1000
ERROR_MAX_LENGTH = 1000


# Endpoints ------------------------------------------------------------------------------


def webhook_secret_new() -> str:
    """A signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_endpoint_create(
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    active: bool = True,
    created_by: AbstractBaseUser | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a new secret; the caller shows the secret once."""
    return WebhookEndpoint.objects.create(
        url=url,
        event_types=sorted(event_types),
        description=description,
        active=active,
        secret=webhook_secret_new(),
        created_by=created_by,
    )


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, event_types: list[str], description: str, active: bool
) -> None:
    """Change an endpoint. Switching it on again forgets its failures: it gets a fresh
    WEBHOOK_DISABLE_AFTER_DAYS, and its pending deliveries go out with the next sweep."""
    fields = {"url": url, "event_types": sorted(event_types), "description": description}
    fields["active"] = active
    if active:
        fields.update(failing_since=None, disabled_at=None, disabled_reason="")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**fields)


# Emitting -------------------------------------------------------------------------------


def webhook_emit(
    *,
    type: str,
    data: dict,
    customer: Customer | None = None,
    now: datetime | None = None,
) -> WebhookEvent | None:
    """Record an event for every active endpoint that wants it, in the caller's
    transaction; its deliveries are queued once that commits. None if nobody wants it."""
    EventType(type)  # an unknown type is a programming error: fail loudly
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if type in e.event_types]
    if not endpoints:
        return None
    now = now or timezone.now()
    event = WebhookEvent.objects.create(
        message_id=f"msg_{secrets.token_hex(16)}",
        type=type,
        occurred_at=now,
        data=data,
        customer=customer,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event=event,
            endpoint=endpoint,
            next_attempt_at=now,
            queued_until=timezone.now() + QUEUE_LEASE,
            attempt_limit=settings.WEBHOOK_MAX_ATTEMPTS,
        )
        for endpoint in endpoints
    )
    transaction.on_commit(partial(_enqueue, [d.pk for d in deliveries]))
    return event


def _enqueue(delivery_ids: list[int]) -> None:
    """Hand deliveries to the workers. With the broker away the write that caused them
    still stands: they are left for the next sweep, and the caller never sees an error."""
    from feedback.tasks import webhook_deliver  # tasks import the services

    sent = 0
    try:
        with webhook_deliver.app.connection_for_write() as connection:
            # One try within the broker's short timeouts (REDIS_TIMEOUT_SECONDS): a
            # customer's request must not wait seconds for a broker that is away.
            connection.ensure_connection(max_retries=0)
            for delivery_id in delivery_ids:
                webhook_deliver.apply_async((delivery_id,), connection=connection, retry=False)
                sent += 1
    except Exception as exc:
        logger.warning("broker unavailable, webhook deliveries left to the sweep: %r", exc)
        WebhookDelivery.objects.filter(pk__in=delivery_ids[sent:]).update(queued_until=None)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def response_data(response: Response) -> dict:
    """response.submitted / response.updated: the answer itself is the point, so the
    rating, the 0-10 and the comment are in; who wrote it is not (the order id leads the
    shop to its own customer record)."""
    invitation = response.invitation
    return {
        "response_id": response.pk,
        "invitation_id": invitation.pk,
        "order_id": invitation.order.external_id,
        "rating": response.rating,
        "nps": response.nps,
        "comment": response.comment,
        "contact_requested": response.contact_requested,
        "quote_allowed": response.quote_allowed,
        "submitted_at": _iso(response.submitted_at),
        "edited_at": _iso(response.edited_at),
    }


def follow_up_data(follow_up: FollowUp) -> dict:
    """contact.*: which request, for which order; the words stay in the portal."""
    response = follow_up.response
    return {
        "follow_up_id": follow_up.pk,
        "response_id": response.pk,
        "invitation_id": response.invitation_id,
        "order_id": response.invitation.order.external_id,
        "rating": response.rating,
        "status": follow_up.status,
    }


def invitation_data(invitation: Invitation, *, kind: str, sent_at: datetime) -> dict:
    """invitation.sent: which invitation, for which order, when; never the address."""
    return {
        "invitation_id": invitation.pk,
        "order_id": invitation.order.external_id,
        "kind": kind,
        "sent_at": _iso(sent_at),
        "expires_at": _iso(invitation.expires_at),
    }


def customer_unsubscribed_data(customer: Customer, *, at: datetime) -> dict:
    """customer.unsubscribed: the one event with the address, because the address is who
    unsubscribed: the shop's systems know their customers by it (it is the key of every
    order we are sent), not by our id."""
    return {"customer_id": customer.pk, "email": customer.email, "unsubscribed_at": _iso(at)}


def webhook_emit_contact(
    *, type: str, follow_up: FollowUp, now: datetime | None = None, **extra: object
) -> WebhookEvent | None:
    """A contact.* event for a follow-up (`extra`: e.g. replied_at and direction for
    contact.replied)."""
    follow_up = FollowUp.objects.select_related(
        "response__invitation__order", "response__invitation__customer"
    ).get(pk=follow_up.pk)
    data = follow_up_data(follow_up)
    data.update({key: _iso(v) if isinstance(v, datetime) else v for key, v in extra.items()})
    customer = follow_up.response.invitation.customer
    return webhook_emit(type=type, data=data, customer=customer, now=now)


# Delivering -----------------------------------------------------------------------------


def webhook_body(event: WebhookEvent) -> str:
    """The JSON body: the same bytes for every delivery of the event."""
    body = {
        "type": event.type,
        "timestamp": _iso(event.occurred_at),
        "version": PAYLOAD_VERSION,
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """POST one pending delivery and record the attempt. None when it is not to be tried
    now: delivered, given up, not due, its endpoint off, or another attempt under way."""
    now = timezone.now()
    # The claim pushes the due time past the attempt's timeout: a second task for the
    # same delivery finds it not due, and a worker that dies mid-POST is retried by the
    # sweep after that.
    busy_until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now, endpoint__active=True
    ).update(next_attempt_at=busy_until, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    status, error, duration_ms = _post(delivery, now)
    return _record(delivery, now, status=status, error=error, duration_ms=duration_ms)


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str, int]:
    """What the receiver said: (status code or None, error or "", milliseconds)."""
    event, endpoint = delivery.event, delivery.endpoint
    body = webhook_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "feedback-portal-webhooks/1",
        "webhook-id": event.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(event.message_id, now, body),
    }
    started = time.monotonic()
    try:
        with requests.post(
            endpoint.url,
            data=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        ) as reply:
            # A little of the answer helps whoever reads the log; the rest is not read.
            excerpt = next(reply.iter_content(300), b"").decode(errors="replace")
    except requests.RequestException as exc:
        return None, repr(exc)[:ERROR_MAX_LENGTH], _ms_since(started)
    duration_ms = _ms_since(started)
    if 200 <= reply.status_code < 300:
        return reply.status_code, "", duration_ms
    return reply.status_code, f"HTTP {reply.status_code}: {excerpt}".strip(), duration_ms


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


@transaction.atomic
def _record(
    delivery: WebhookDelivery, now: datetime, *, status: int | None, error: str, duration_ms: int
) -> WebhookDelivery:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=now,
        status_code=status,
        error=error,
        duration_ms=duration_ms,
    )
    fields = {"last_status_code": status, "last_error": error, "last_duration_ms": duration_ms}
    if not error:
        fields.update(state=State.DELIVERED, delivered_at=timezone.now(), queued_until=None)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)
    else:
        fields.update(_after_failure(delivery))
        _endpoint_failed(delivery.endpoint, now)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery


def webhook_backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 4, 16... x WEBHOOK_RETRY_BACKOFF_SECONDS."""
    return timedelta(seconds=settings.WEBHOOK_RETRY_BACKOFF_SECONDS * 4 ** (attempts - 1))


def _after_failure(delivery: WebhookDelivery) -> dict:
    """Give up after the delivery's last attempt, else wait. A short wait is a Celery retry
    (the task's countdown; queued_until keeps the sweep off it meanwhile); a wait longer
    than a countdown may be is left to the sweep."""
    if delivery.attempts >= delivery.attempt_limit:
        return {"state": State.FAILED, "queued_until": None}
    backoff = webhook_backoff(delivery.attempts)
    due = timezone.now() + backoff
    if backoff.total_seconds() > settings.MAX_TASK_ETA_SECONDS:
        return {"next_attempt_at": due, "queued_until": None}
    return {"next_attempt_at": due, "queued_until": due + QUEUE_LEASE}


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Note when the endpoint began failing; failing for WEBHOOK_DISABLE_AFTER_DAYS days
    switches it off, with a notice to the team."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    cutoff = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    reason = _(
        "Switched off on %(date)s: every delivery since %(since)s failed, the last with: %(error)s"
    )
    endpoint.refresh_from_db(fields=["failing_since"])
    if endpoint.failing_since is None or endpoint.failing_since > cutoff:
        return
    last_error = WebhookAttempt.objects.filter(delivery__endpoint=endpoint).last()
    text = reason % {
        "date": f"{now:%Y-%m-%d %H:%M} UTC",
        "since": f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC",
        "error": last_error.error if last_error else "",
    }
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=now, disabled_reason=text
    )
    if disabled:
        transaction.on_commit(partial(_notify_endpoint_disabled, endpoint.pk))


def _notify_endpoint_disabled(endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    subject = _("Webhook endpoint switched off: %(url)s") % {"url": endpoint.url}
    body = _(
        "%(reason)s\n\nNo events go to %(url)s until someone switches the endpoint on again "
        "in the admin (Webhook endpoints); the deliveries it missed can then be re-sent "
        "from Webhook deliveries."
    ) % {"reason": endpoint.disabled_reason, "url": endpoint.url}
    team_notify(subject=subject, body=body)


def team_notify(*, subject: str, body: str) -> None:
    """A plain email to TEAM_EMAIL, if set. A mail server that is down costs the notice,
    not the work that caused it (the admin shows the same facts)."""
    if not settings.TEAM_EMAIL:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [settings.TEAM_EMAIL])
    except Exception as exc:
        logger.warning("team notice not sent: %r", exc)


# Re-sending and the sweep --------------------------------------------------------------


def webhook_deliveries_resend(*, deliveries: Iterable[WebhookDelivery]) -> int:
    """Deliver again (same event, same webhook-id) with a fresh set of attempts. Returns
    how many were queued; deliveries to a switched-off endpoint are not."""
    ids = [d.pk for d in deliveries]
    now = timezone.now()
    with transaction.atomic():
        queued = list(
            WebhookDelivery.objects.filter(pk__in=ids, endpoint__active=True).values_list(
                "pk", flat=True
            )
        )
        WebhookDelivery.objects.filter(pk__in=queued).update(
            state=State.PENDING,
            next_attempt_at=now,
            queued_until=now + QUEUE_LEASE,
            attempt_limit=F("attempts") + settings.WEBHOOK_MAX_ATTEMPTS,
        )
        transaction.on_commit(partial(_enqueue, queued))
    return len(queued)


def webhooks_sweep(*, now: datetime | None = None) -> int:
    """Queue the pending deliveries that are due and not queued: those whose task was
    lost, or whose backoff was too long for a Celery countdown. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(
                state=State.PENDING, next_attempt_at__lte=now, endpoint__active=True
            )
            .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_until=now + QUEUE_LEASE)
    _enqueue(ids)
    return len(ids)
