import os
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class Task(DjangoTask):
    """Refuses far-future eta/countdown: on Redis such a task is redelivered after the
    visibility timeout and runs twice. Days-ahead work is a database row with a due_at."""

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        from django.conf import settings

        limit = timedelta(seconds=settings.MAX_TASK_ETA_SECONDS)
        eta, countdown = options.get("eta"), options.get("countdown")
        ahead = (eta - datetime.now(UTC)) if eta else timedelta(seconds=countdown or 0)
        if ahead > limit:
            raise ValueError(f"refusing a Celery eta {ahead} ahead; store a due_at row instead")
        return super().apply_async(args, kwargs, **options)


app = Celery("portal", task_cls=Task)
# All Celery settings live in Django settings under the CELERY_ prefix, each with its reason.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
