from django.contrib import admin
from django.urls import include, path

from feedback.api import api
from feedback.views.health import healthz

# The admin's "View site" link leads staff to their dashboard.
admin.site.site_url = "/staff/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("feedback.urls")),
]
