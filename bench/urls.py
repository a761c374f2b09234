"""The project's URLs plus the baselines the benchmarks compare against."""

import os

from django.db import transaction
from django.urls import include, path
from django.views.generic import TemplateView

from bench.views import bare_json

urlpatterns = [
    # Same server, same middleware, same base template: only the view's own work differs.
    path("bench/bare/", TemplateView.as_view(template_name="bench/bare.html"), name="bench-bare"),
    path("bench/bare-json/", bare_json, name="bench-bare-json"),
    path("", include("portal.urls")),
]

if os.environ.get("BENCH_ROLLUPS_OFF") == "1":
    # A bench-only switch (bench.rollups): the answer POST without the rollups' upkeep,
    # to measure what the rollups add. Never set outside the benchmark.
    from feedback.services import responses

    responses.rollups_tracked = lambda invitations: transaction.atomic(savepoint=False)
