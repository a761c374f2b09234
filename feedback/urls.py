from django.urls import path

from feedback.views import dashboard, public, staff

app_name = "feedback"

urlpatterns = [
    path("f/<str:token>/", public.feedback_page, name="page"),
    path("f/<str:token>/thanks/", public.thanks, name="thanks"),
    path("f/<str:token>/later/", public.later, name="later"),
    path("f/<str:token>/no-thanks/", public.decline, name="decline"),
    path("f/<str:token>/stop/", public.stop, name="stop"),
    path("f/<str:token>/resume/", public.resume, name="resume"),
    path("staff/", dashboard.dashboard_page, name="dashboard"),
    path("staff/export.csv", dashboard.export_csv, name="export"),
    path("staff/outbox/", staff.outbox, name="outbox"),
]
