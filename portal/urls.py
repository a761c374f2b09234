from django.conf import settings
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
if settings.ANYMAIL_WEBHOOK_SECRET:
    # Providers' inbound and tracking webhooks, e.g. /mail/anymail/postmark/tracking/;
    # only with a secret, as anymail would otherwise accept posts from anyone.
    urlpatterns.append(path("mail/anymail/", include("anymail.urls")))

# Error pages in the portal's look: the staff pages' under /staff/ and /admin/, the
# customer's (in their language) anywhere else.
handler400 = "feedback.views.errors.bad_request"
handler403 = "feedback.views.errors.permission_denied"
handler404 = "feedback.views.errors.page_not_found"
handler500 = "feedback.views.errors.server_error"
