from django.urls import path

from feedback.views import public, staff

app_name = "feedback"

urlpatterns = [
    path("f/<str:token>/", public.feedback_page, name="page"),
    path("f/<str:token>/thanks/", public.thanks, name="thanks"),
    path("staff/outbox/", staff.outbox, name="outbox"),
]
