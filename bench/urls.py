"""The project's URLs plus the baselines the benchmarks compare against."""

from django.urls import include, path
from django.views.generic import TemplateView

from bench.views import bare_json

urlpatterns = [
    # Same server, same middleware, same base template: only the view's own work differs.
    path("bench/bare/", TemplateView.as_view(template_name="bench/bare.html"), name="bench-bare"),
    path("bench/bare-json/", bare_json, name="bench-bare-json"),
    path("", include("portal.urls")),
]
