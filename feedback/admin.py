from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback import services
from feedback.admin_import import OrderImportAdminMixin
from feedback.ingest import normalise_email
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
    ReplyTemplate,
    Response,
    SendingPause,
    ShopWebhook,
    Suppression,
    SuppressionRemoval,
    TeamNotification,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from feedback.services import api_tokens, privacy, suppressions, webhooks
from feedback.services.rollups import rollups_tracked
from feedback.tokens import address_hash


class ReadOnly:
    """Shown in the admin, never added, changed or deleted there, by anyone."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RollupsFollow:
    """Edits here change what the dashboard counts (a channel, a product, a locale, a
    state): the rollups follow them in the same transaction. `invitations_of(rows)` names
    the invitations a change of these rows can move; it is read once, before the change,
    so the invitation that saving an order schedules counts itself (no double count)."""

    def invitations_of(self, rows: QuerySet) -> QuerySet[Invitation]:
        raise NotImplementedError

    def _tracked(self, rows: QuerySet) -> object:
        ids = list(self.invitations_of(rows).values_list("pk", flat=True))
        return rollups_tracked(Invitation.objects.filter(pk__in=ids))

    def _rows(self, obj: object) -> QuerySet:
        return type(obj).objects.filter(pk=obj.pk)

    def saved_invitations(self, obj: object) -> object:
        return self._tracked(self._rows(obj))

    def save_model(self, request: HttpRequest, obj: object, form: ModelForm, change: bool) -> None:
        with self.saved_invitations(obj):
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: object) -> None:
        with self._tracked(self._rows(obj)):
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with self._tracked(queryset):
            super().delete_queryset(request, queryset)


@admin.register(Customer)
class CustomerAdmin(RollupsFollow, admin.ModelAdmin):
    list_display = ["email", "name", "locale", "time_zone", "consent", "invitations_stopped_at"]
    list_filter = ["consent", "locale", ("invitations_stopped_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["export_personal_data", "erase_personal_data"]

    def invitations_of(self, rows: QuerySet) -> QuerySet[Invitation]:
        return Invitation.objects.filter(customer__in=rows)

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
class OrderAdmin(RollupsFollow, OrderImportAdminMixin, admin.ModelAdmin):
    # What staff look an order up for comes first, in compact columns, so that it shows on
    # a 1280 px screen beside the admin's menu and filters, however long the address.
    list_display = ["external_id", "delivered", "invitation_state", "customer", "channel", "placed"]
    list_filter = ["channel", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "customer__email", "items__sku"]
    date_hierarchy = "placed_at"
    list_select_related = ["customer", "invitation"]
    raw_id_fields = ["customer"]
    inlines = [OrderItemInline]

    def invitations_of(self, rows: QuerySet) -> QuerySet[Invitation]:
        return Invitation.objects.filter(order__in=rows)

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
        with self._tracked(self._rows(form.instance)):  # the items
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
class InvitationAdmin(RollupsFollow, admin.ModelAdmin):
    list_display = ["order", "customer", "state", "suppression_reason", "due_at", "sent_at"]
    list_filter = ["state", "suppression_reason"]
    search_fields = ["order__external_id", "customer__email"]
    date_hierarchy = "due_at"
    list_select_related = ["order", "customer"]
    raw_id_fields = ["order", "customer"]
    readonly_fields = ["token_nonce", "token_hash", "created_at", "updated_at"]
    inlines = [EmailLogInline]

    def invitations_of(self, rows: QuerySet) -> QuerySet[Invitation]:
        return rows

    def saved_invitations(self, obj: Invitation) -> object:
        # Also a new one (the order's, read again after the save), or one moved to another order.
        return rollups_tracked(Invitation.objects.filter(Q(order_id=obj.order_id) | Q(pk=obj.pk)))


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


@admin.register(ShopWebhook)
class ShopWebhookAdmin(ReadOnly, admin.ModelAdmin):
    """What Shopify and WooCommerce sent: a refused delivery with its reason and body."""

    list_display = [
        "received_at",
        "platform",
        "topic",
        "outcome",
        "order_external_id",
        "field",
        "reason",
    ]
    list_filter = ["outcome", "platform", "topic"]
    search_fields = ["delivery_id", "order_external_id"]
    date_hierarchy = "received_at"
    readonly_fields = fields = [
        "received_at",
        "platform",
        "topic",
        "delivery_id",
        "outcome",
        "order_external_id",
        "field",
        "reason",
        "payload",
    ]


NEW_WEBHOOK_SECRET_SESSION_KEY = "feedback:new-webhook-secret"  # noqa: S105 - a session key name


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Give an http:// or https:// URL."))
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "events", "active", "notice", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["created_by", "created_at", "failing_since", "disabled_at", "notice"]

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list:
        # The secret is never among them: it is shown once, on the page after "Save".
        fields = ["url", "description", "event_types", "active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description=gettext_lazy("events"))
    def events(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    @admin.display(description=gettext_lazy("notice"))
    def notice(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.disabled_reason

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> object:
        for endpoint in WebhookEndpoint.objects.filter(active=False, disabled_at__isnull=False):
            notice = _("Webhook endpoint %(url)s is off. %(reason)s")
            text = notice % {"url": endpoint.url, "reason": endpoint.disabled_reason}
            self.message_user(request, text, messages.ERROR)
        return super().changelist_view(request, extra_context)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        fields = {key: data[key] for key in ("url", "description", "event_types", "active")}
        if change:
            webhooks.webhook_endpoint_update(endpoint=obj, **fields)
            return
        endpoint = webhooks.webhook_endpoint_create(created_by=request.user, **fields)
        obj.pk = endpoint.pk
        # Kept in the server-side session until the page after the redirect shows it once.
        request.session[NEW_WEBHOOK_SECRET_SESSION_KEY] = {
            "pk": endpoint.pk,
            "secret": endpoint.secret,
        }

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        # Post/redirect/get: a reload of the page after must not make a second endpoint.
        return redirect("admin:feedback_webhookendpoint_created", obj.pk)

    def get_urls(self) -> list:
        created = self.admin_site.admin_view(self.created_view)
        return [
            path("<int:pk>/created/", created, name="feedback_webhookendpoint_created"),
            *super().get_urls(),
        ]

    def created_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The new endpoint's signing secret, shown once: a reload finds it gone."""
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        if not self.has_view_or_change_permission(request, endpoint):
            raise PermissionDenied
        kept = request.session.get(NEW_WEBHOOK_SECRET_SESSION_KEY) or {}
        secret = None
        if kept.get("pk") == endpoint.pk:
            secret = request.session.pop(NEW_WEBHOOK_SECRET_SESSION_KEY)["secret"]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Webhook endpoint created"),
            "opts": self.model._meta,
            "endpoint": endpoint,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/feedback/webhookendpoint/created.html", context)
        response["Cache-Control"] = "no-store"
        return response


class WebhookAttemptInline(ReadOnly, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = readonly_fields = ["number", "started_at", "status_code", "duration_ms", "error"]
    verbose_name_plural = gettext_lazy("attempts")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "event_type",
        "message_id",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "short_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event__type", "endpoint"]
    search_fields = ["event__message_id", "endpoint__url"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "event",
        "endpoint",
        "state",
        "attempts",
        "attempt_limit",
        "last_status_code",
        "last_duration_ms",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "body",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    @admin.display(description=gettext_lazy("event"), ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="webhook-id", ordering="event__message_id")
    def message_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.message_id

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.display(description=gettext_lazy("body sent"))
    def body(self, delivery: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", webhooks.webhook_body(delivery.event))

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feedback.change_webhookendpoint")

    @admin.action(
        description=gettext_lazy("Re-send selected deliveries (same webhook-id)"),
        permissions=["resend"],
    )
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = list(queryset)
        queued = webhooks.webhook_deliveries_resend(deliveries=selected)
        self.message_user(request, _("Queued %(count)d delivery(ies) again.") % {"count": queued})
        if queued < len(selected):
            self.message_user(
                request,
                _("%(count)d not re-sent: their endpoint is switched off.")
                % {"count": len(selected) - queued},
                messages.WARNING,
            )


class WebhookDeliveryInline(ReadOnly, admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    fields = readonly_fields = ["endpoint", "state", "attempts", "last_status_code", "delivered_at"]
    show_change_link = True


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["type", "message_id", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["message_id"]
    date_hierarchy = "occurred_at"
    fields = readonly_fields = ["type", "message_id", "occurred_at", "data"]
    inlines = [WebhookDeliveryInline]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "updated_at"]
    list_filter = ["language"]
    search_fields = ["name", "text"]


@admin.register(TeamNotification)
class TeamNotificationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["key", "channel", "subject", "created_at", "sent_at", "attempts"]
    list_filter = ["channel", ("sent_at", admin.EmptyFieldListFilter)]


@admin.register(Suppression)
class SuppressionAdmin(ReadOnly, admin.ModelAdmin):
    """The suppression list: Staff and Ops read it; Ops may remove an entry, with a reason
    (kept as a SuppressionRemoval). Entries come only from what happened to the address."""

    list_filter = ["reason", "source"]
    search_fields = ["address_hash"]
    search_help_text = "Search by the whole email address."
    list_select_related = ["customer"]
    actions = ["remove_entries"]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        return ["created_at", "reason", "source", self._whose(request), "detail"]

    def get_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return ["created_at", "reason", "source", self._whose(request), "detail"]

    get_readonly_fields = get_fields

    def _whose(self, request: HttpRequest) -> str:
        # Viewers do not see customers' addresses (issue 14): only who may list customers.
        return "customer" if request.user.has_perm("feedback.view_customer") else "customer_ref"

    @admin.display(description="customer")
    def customer_ref(self, entry: Suppression) -> str:
        return f"customer {entry.customer_id}" if entry.customer_id else "-"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # The list keeps keyed hashes, not addresses: an address is looked up by its hash.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            hashed = address_hash(normalise_email(term))
        except UnicodeError:
            return queryset.none(), False
        return queryset.filter(address_hash=hashed), False

    def has_remove_suppression_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feedback.remove_suppression")

    @admin.action(
        description="Remove from the suppression list…", permissions=["remove_suppression"]
    )
    def remove_entries(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        why = request.POST.get("why", "").strip()
        if request.POST.get("confirmed") != "yes" or not why:
            context = {
                **self.admin_site.each_context(request),
                "title": "Remove from the suppression list?",
                "opts": self.model._meta,
                "entries": list(queryset.select_related("customer")),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "why_missing": request.POST.get("confirmed") == "yes",
            }
            return TemplateResponse(
                request, "admin/feedback/suppression/remove_confirmation.html", context
            )
        removed = 0
        for entry in queryset:
            suppressions.suppression_remove(suppression=entry, removed_by=request.user, why=why)
            removed += 1
        self.message_user(request, f"Removed {removed} address(es) from the suppression list.")
        return None


@admin.register(SuppressionRemoval)
class SuppressionRemovalAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["removed_at", "removed_by", "reason", "source", "suppressed_at", "why"]
    list_filter = ["reason", "source", "removed_by"]


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
