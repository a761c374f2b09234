from django.urls import path

from feedback.views import contacts, dashboard, policy, public, simulator, staff

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
    path("staff/contacts/", contacts.contacts, name="contacts"),
    path("staff/contacts/<int:pk>/", contacts.contact_detail, name="contact"),
    path("staff/policy/", policy.policy, name="policy"),
    path("staff/policy/edit/", policy.policy_edit, name="policy_edit"),
    path("staff/simulate/", simulator.simulate, name="simulate"),
]
