from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Customer feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        # Registers the system checks; connects anymail's signals to our services.
        from feedback import checks, webhooks  # noqa: F401

        # The admin says whose portal it is.
        title = " · ".join(filter(None, [settings.SHOP_NAME, "Feedback portal"]))
        admin.site.site_header = admin.site.site_title = title
