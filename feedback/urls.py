from django.urls import path

from feedback.views import (
    public,
    shop,
    staff,
    staff_contacts,
    staff_dashboard,
    staff_policy,
    staff_simulator,
)

app_name = "feedback"

urlpatterns = [
    path("f/<str:token>/", public.feedback_page, name="page"),
    path("f/<str:token>/thanks/", public.thanks, name="thanks"),
    path("f/<str:token>/later/", public.later, name="later"),
    path("f/<str:token>/no-thanks/", public.decline, name="decline"),
    path("f/<str:token>/stop/", public.stop, name="stop"),
    path("f/<str:token>/resume/", public.resume, name="resume"),
    path("shop/logo", shop.logo, name="shop_logo"),
    path("staff/", staff_dashboard.dashboard_page, name="dashboard"),
    path("staff/export.csv", staff_dashboard.export_csv, name="export"),
    path("staff/outbox/", staff.outbox, name="outbox"),
    path("staff/contacts/", staff_contacts.contacts, name="contacts"),
    path("staff/contacts/<int:pk>/", staff_contacts.contact_detail, name="contact"),
    path("staff/policy/", staff_policy.policy, name="policy"),
    path("staff/policy/edit/", staff_policy.policy_edit, name="policy_edit"),
    path("staff/simulate/", staff_simulator.simulate, name="simulate"),
]
