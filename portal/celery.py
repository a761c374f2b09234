import os
from datetime import UTC, datetime, timedelta

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
# All Celery settings live in Django settings under the CELERY_ prefix, each with its reason.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def refuse_far_future_eta(headers: dict | None = None, **_: object) -> None:
    """Days-ahead work must be a database row: a far eta on Redis is delivered twice."""
    eta = (headers or {}).get("eta")
    if not eta:
        return
    from django.conf import settings

    ahead = datetime.fromisoformat(eta) - datetime.now(UTC)
    if ahead > timedelta(seconds=settings.MAX_TASK_ETA_SECONDS):
        raise ValueError(f"refusing a Celery eta {ahead} ahead; store a due_at row instead")
