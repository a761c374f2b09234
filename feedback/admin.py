from datetime import datetime

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from feedback import services
from feedback.admin_import import OrderImportAdminMixin
from feedback.models import (
    ApiToken,
    Customer,
    EmailLog,
    FollowUp,
    FollowUpNote,
    Invitation,
    InvitationPolicy,
    Order,
    OrderItem,
    PolicyVersion,
    PrivacyAudit,
    Response,
    SendingPause,
)
from feedback.services import api_tokens, privacy


class ReadOnly:
    """Shown in the admin, never added, changed or deleted there, by anyone."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "locale", "time_zone", "consent", "invitations_stopped_at"]
    list_filter = ["consent", "locale", ("invitations_stopped_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["export_personal_data", "erase_personal_data"]

    def has_export_customer_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feedback.export_customer_data")

    @admin.action(description="Export personal data (JSON)", permissions=["export_customer_data"])
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one customer to export.", messages.WARNING)
            return None
        customer = queryset.get()
        data = privacy.customer_export(customer=customer, performed_by=request.user)
        response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Erase personal data…", permissions=["export_customer_data"])
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("confirmed") != "yes":
            # Irreversible: ask first, like the admin's own "delete selected".
            context = {
                **self.admin_site.each_context(request),
                "title": "Erase personal data?",
                "opts": self.model._meta,
                "customers": list(queryset),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/feedback/customer/erase_confirmation.html", context
            )
        erased = 0
        for customer in queryset:
            privacy.customer_erase(customer=customer, performed_by=request.user)
            erased += 1
        self.message_user(request, f"Erased the personal data of {erased} customer(s).")
        return None


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


def _short_time(moment: datetime) -> str:
    """A time in a list column: "2026-03-02 14:05", not "March 2, 2026, 2:05 p.m."."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@admin.register(Order)
class OrderAdmin(OrderImportAdminMixin, admin.ModelAdmin):
    # What staff look an order up for comes first, in compact columns, so that it shows on
    # a 1280 px screen beside the admin's menu and filters, however long the address.
    list_display = ["external_id", "delivered", "invitation_state", "customer", "channel", "placed"]
    list_filter = ["channel", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "customer__email", "items__sku"]
    date_hierarchy = "placed_at"
    list_select_related = ["customer", "invitation"]
    raw_id_fields = ["customer"]
    inlines = [OrderItemInline]

    @admin.display(description="placed", ordering="placed_at")
    def placed(self, order: Order) -> str:
        return _short_time(order.placed_at)

    @admin.display(description="delivered", ordering="delivered_at", empty_value="not yet")
    def delivered(self, order: Order) -> str | None:
        return _short_time(order.delivered_at) if order.delivered_at else None

    @admin.display(description="invitation", ordering="invitation__state", empty_value="none")
    def invitation_state(self, order: Order) -> str | None:
        invitation = getattr(order, "invitation", None)
        if invitation is None:
            return None
        url = reverse("admin:feedback_invitation_change", args=[invitation.pk])
        return format_html('<a href="{}">{}</a>', url, invitation.get_state_display())

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        order = form.instance
        if order.delivered_at is not None:
            # Delivery entered by hand schedules the invitation like any delivery event.
            services.invitation_schedule(order=order)


class EmailLogInline(admin.TabularInline):
    model = EmailLog
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "message_id", "to_email", "created_at", "outcome", "error"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["order", "customer", "state", "suppression_reason", "due_at", "sent_at"]
    list_filter = ["state", "suppression_reason"]
    search_fields = ["order__external_id", "customer__email"]
    date_hierarchy = "due_at"
    list_select_related = ["order", "customer"]
    raw_id_fields = ["order", "customer"]
    readonly_fields = ["token_nonce", "token_hash", "created_at", "updated_at"]
    inlines = [EmailLogInline]


@admin.register(Response)
class ResponseAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "invitation",
        "rating",
        "nps",
        "short_comment",
        "contact_requested",
        "quote_allowed",
        "submitted_at",
    ]
    list_filter = ["rating", "contact_requested", "quote_allowed"]
    search_fields = ["comment", "invitation__order__external_id", "invitation__customer__email"]
    date_hierarchy = "submitted_at"
    list_select_related = ["invitation__order"]
    raw_id_fields = ["invitation"]

    @admin.display(description="comment")
    def short_comment(self, obj: Response) -> str:
        return obj.comment[:80]

    # A customer's answer is their words: shown, never added, changed or deleted here, by
    # anyone. Erasure (the customers' action, audited) is the one way to remove it.


class FollowUpNoteInline(ReadOnly, admin.TabularInline):
    model = FollowUpNote
    extra = 0
    fields = readonly_fields = ["created_at", "author", "text"]
    verbose_name_plural = "notes and changes"


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["response", "status", "assignee", "created_at", "resolved_at"]
    list_filter = ["status", "assignee"]
    search_fields = ["response__invitation__customer__email", "notes"]
    inlines = [FollowUpNoteInline]

    # Follow-ups change only on the contact queue's page (/staff/contacts/), whose actions
    # log who did what and keep the times right; here they are read, by everyone.


@admin.register(EmailLog)
class EmailLogAdmin(admin.ModelAdmin):
    list_display = ["invitation", "kind", "outcome", "to_email", "message_id", "created_at"]
    list_filter = ["kind", "outcome"]
    search_fields = ["message_id", "to_email", "invitation__order__external_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["invitation"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    extra = 0
    can_delete = False
    readonly_fields = ["changed_at", "changed_by", "what_changed"]
    fields = readonly_fields
    verbose_name_plural = "history of changes"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="what changed (before → after)")
    def what_changed(self, version: PolicyVersion) -> str:
        rows = (
            (name, change["before"], change["after"]) for name, change in version.changes.items()
        )
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {} → {}</li>", rows))


@admin.register(InvitationPolicy)
class InvitationPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "enabled",
        "delay_after_delivery_days",
        "customer_cooldown_days",
        "sample_percent",
        "consent_mode",
        "updated_at",
    ]
    inlines = [PolicyVersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not InvitationPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        InvitationPolicy.live()
        return super().get_queryset(request)

    def save_model(
        self, request: HttpRequest, obj: InvitationPolicy, form: ModelForm, change: bool
    ) -> None:
        services.policy_save(policy=obj, changed_by=request.user)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["changed_at", "changed_by", "changed_fields"]
    list_filter = ["changed_by"]
    readonly_fields = ["policy", "changed_at", "changed_by", "changes", "snapshot"]

    @admin.display(description="fields changed")
    def changed_fields(self, version: PolicyVersion) -> str:
        return ", ".join(version.changes)


NEW_TOKEN_SESSION_KEY = "feedback:new-api-token"  # noqa: S105 - a session key name


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Revoked, never deleted: a revoked token answers 403 and its history stays.
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: ModelForm, change: bool
    ) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = api_tokens.api_token_create(name=obj.name, created_by=request.user)
        obj.pk, obj.prefix = token.pk, token.prefix
        # Kept in the server-side session until the page after the redirect shows it once.
        request.session[NEW_TOKEN_SESSION_KEY] = {"pk": token.pk, "secret": secret}

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        # Post/redirect/get: reloading the page after must not create a second token.
        return redirect("admin:feedback_apitoken_created", obj.pk)

    def get_urls(self) -> list:
        created = self.admin_site.admin_view(self.created_view)
        return [
            path("<int:pk>/created/", created, name="feedback_apitoken_created"),
            *super().get_urls(),
        ]

    def created_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The new token's secret, shown once: a reload finds it gone."""
        token = get_object_or_404(ApiToken, pk=pk)
        if not self.has_view_or_change_permission(request, token):
            raise PermissionDenied
        kept = request.session.get(NEW_TOKEN_SESSION_KEY) or {}
        secret = None
        if kept.get("pk") == token.pk:
            secret = request.session.pop(NEW_TOKEN_SESSION_KEY)["secret"]
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "opts": self.model._meta,
            "token": token,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/feedback/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = sum(api_tokens.api_token_revoke(token=token) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).")


@admin.register(PrivacyAudit)
class PrivacyAuditAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["performed_at", "action", "customer_id", "performed_by"]
    list_filter = ["action"]
    search_fields = ["customer_id"]


@admin.register(SendingPause)
class SendingPauseAdmin(ReadOnly, admin.ModelAdmin):
    """The brake's audit: each pause, its figures, and who resumed sending, when and why
    (resumed on the dashboard, by Ops)."""

    list_display = ["paused_at", "reason", "resumed_at", "resumed_by"]
    list_filter = ["reason"]
    readonly_fields = [
        "paused_at",
        "reason",
        "figures",
        "resumed_at",
        "resumed_by",
        "resume_reason",
        "resume_figures",
    ]
