"""Settings for the bench server and worker: the project's settings, minus TLS and collectstatic.

The bench process supplies SECRET_KEY and DATABASE_URL in the environment (see
bench.common.bench_env), so portal.settings reads them as it would in production.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, STORAGES, TEMPLATES

DEBUG = False
# Plain HTTP on 127.0.0.1: a redirect to https would measure nothing useful.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [BASE_DIR / "bench" / "templates"]}]
# {% static %} must not need a manifest from collectstatic; no static file is fetched.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A bench worker takes tasks from a queue of its own (bench.dispatch_throughput), so that
# it and any other worker on the same Redis never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "celery")
# One client asks for one page hundreds of times a minute: the customer pages' rate
# limits must not answer 429, yet still run, so that their cost stays in the measurement.
FEEDBACK_RATE_PER_IP = 1_000_000
FEEDBACK_RATE_PER_TOKEN = 1_000_000
# The API benchmark posts lists of orders as fast as gunicorn takes them, with one token.
API_RATE_PER_TOKEN = 1_000_000
