from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from feedback.staff_forms import StaffPasswordResetForm
from feedback.views import (
    public,
    reviews,
    shop,
    shop_webhooks,
    staff,
    staff_contacts,
    staff_dashboard,
    staff_policy,
    staff_reviews,
    staff_search,
    staff_sending,
    staff_simulator,
)

app_name = "feedback"

# Staff sign in, sign out and change or reset their password with Django's own views, in the
# staff pages' look. The views' default next pages are un-namespaced names: ours are given.
ACCOUNT_TEMPLATES = "feedback/staff/account"
account_urls = [
    path(
        "staff/login/",
        auth_views.LoginView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/login.html", next_page="feedback:dashboard"
        ),
        name="login",
    ),
    path(
        "staff/logout/",
        staff.StaffLogoutView.as_view(template_name=f"{ACCOUNT_TEMPLATES}/logged_out.html"),
        name="logout",
    ),
    path(
        "staff/password/",
        auth_views.PasswordChangeView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_change_form.html",
            success_url=reverse_lazy("feedback:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "staff/password/changed/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "staff/password/reset/",
        staff.StaffPasswordResetView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_reset_form.html",
            subject_template_name="emails/password-reset-subject.txt",
            email_template_name="emails/password-reset-body-text.txt",
            html_email_template_name="emails/password-reset-body-html.html",
            form_class=StaffPasswordResetForm,
            # Links in emails start with PORTAL_BASE_URL, never with the request's Host.
            extra_email_context={"base_url": settings.PORTAL_BASE_URL},
            success_url=reverse_lazy("feedback:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "staff/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "staff/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_reset_confirm.html",
            success_url=reverse_lazy("feedback:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "staff/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name=f"{ACCOUNT_TEMPLATES}/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", staff.home, name="home"),
    path("f/<str:token>/", public.feedback_page, name="page"),
    path("f/<str:token>/thanks/", public.thanks, name="thanks"),
    path("f/<str:token>/later/", public.later, name="later"),
    path("f/<str:token>/no-thanks/", public.decline, name="decline"),
    path("f/<str:token>/stop/", public.stop, name="stop"),
    path("f/<str:token>/resume/", public.resume, name="resume"),
    path("f/<str:token>/no-quote/", public.withdraw_quote, name="withdraw_quote"),
    path("reviews/", reviews.shop_reviews, name="reviews"),
    # Any SKU an import accepts, slashes included.
    path("reviews/p/<path:sku>/", reviews.product_reviews, name="reviews_product"),
    path("reviews/policy/", reviews.review_policy, name="reviews_policy"),
    path("reviews/widget/", reviews.widget, name="reviews_widget"),
    path("reviews/feed.json", reviews.json_feed, name="reviews_json"),
    path("reviews/merchant.xml", reviews.merchant_feed, name="reviews_merchant"),
    path("shop/logo", shop.logo, name="shop_logo"),
    path("webhooks/shopify", shop_webhooks.shopify, name="webhook_shopify"),
    path("webhooks/woocommerce", shop_webhooks.woocommerce, name="webhook_woocommerce"),
    path("staff/", staff_dashboard.dashboard_page, name="dashboard"),
    *account_urls,
    path("staff/export.csv", staff_dashboard.export_csv, name="export"),
    path("staff/outbox/", staff.outbox, name="outbox"),
    path("staff/language/", staff.language, name="staff_language"),
    path("staff/contacts/", staff_contacts.contacts, name="contacts"),
    path("staff/contacts/<int:pk>/", staff_contacts.contact_detail, name="contact"),
    path("staff/contacts/saved-replies/", staff_contacts.reply_templates, name="reply_templates"),
    path("staff/policy/", staff_policy.policy, name="policy"),
    path("staff/policy/edit/", staff_policy.policy_edit, name="policy_edit"),
    path("staff/simulate/", staff_simulator.simulate, name="simulate"),
    path("staff/search/", staff_search.comment_search_page, name="comment_search"),
    path("staff/reviews/", staff_reviews.moderation, name="moderation"),
    path("staff/reviews/<int:pk>/", staff_reviews.decide, name="moderation_decide"),
    path("staff/reviews/log/", staff_reviews.moderation_log, name="moderation_log"),
    path("staff/sending/resume/", staff_sending.resume_sending, name="resume_sending"),
]
