"""Customers, orders, the invitation policy, invitations, responses, follow-ups, email logs."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    class Consent(models.TextChoices):
        GIVEN = "given", _("given")
        NOT_GIVEN = "not_given", _("not given")
        UNKNOWN = "unknown", _("unknown")

    # Stored lower-cased (see services.customer_normalise_email); blank means "no email".
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    consent = models.CharField(max_length=10, choices=Consent.choices, default=Consent.UNKNOWN)
    invitations_stopped_at = models.DateTimeField(null=True, blank=True)
    # When the last invitation email went to this customer; written under a row lock at
    # send time, it is what enforces the cooldown across concurrent senders.
    last_invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="customer_email_unique"
            ),
        ]
        # The privacy role (Ops): the admin's "export" and "erase" actions ask for this.
        permissions = [("export_customer_data", "Can export and erase customer data")]
        indexes = [
            # The dashboard's "stopped all invitations": the few who did, not every customer.
            models.Index(
                fields=["invitations_stopped_at"],
                condition=Q(invitations_stopped_at__isnull=False),
                name="customer_stopped_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.name or f"customer {self.pk}"


class Order(models.Model):
    external_id = models.CharField("order id", max_length=100, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField("channel / store", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at"])]

    def __str__(self) -> str:
        return self.external_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField("SKU", max_length=100)
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderitem_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


def default_snooze_choices() -> list[int]:
    return [7, 14, 30]


def default_business_days() -> list[int]:
    return [1, 2, 3, 4, 5]


class InvitationPolicy(models.Model):
    """The live policy: a single row (pk=1); every change is kept as a PolicyVersion."""

    class ConsentMode(models.TextChoices):
        NOTICE = "notice", _("notice: invite unless the customer objected")
        OPT_IN = "opt_in", _("opt-in: invite only customers who consented")

    enabled = models.BooleanField(default=True, help_text="Off: no invitation is scheduled.")
    delay_after_delivery_days = models.PositiveIntegerField(default=7)
    send_window_start = models.TimeField(default=time(9, 0))
    send_window_end = models.TimeField(default=time(18, 0))
    send_on_weekends = models.BooleanField(default=True)
    customer_cooldown_days = models.PositiveIntegerField(default=90)
    invitation_valid_days = models.PositiveIntegerField(default=30)
    sample_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    daily_send_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most invitations sent per day; empty means no cap."
    )
    consent_mode = models.CharField(
        max_length=10, choices=ConsentMode.choices, default=ConsentMode.NOTICE
    )
    snooze_choices = models.JSONField(
        default=default_snooze_choices,
        help_text="Days a customer may choose for 'ask me later' (at most once per "
        "invitation), e.g. [7, 14, 30]; an empty list turns 'ask me later' off.",
    )
    nps_enabled = models.BooleanField("ask the 0–10 recommend question", default=False)
    # The first-response target for contact requests, counted in business hours in the
    # shop's time zone (SHOP_TIME_ZONE): 8 hours of a 09:00-17:00 day is one business day.
    response_target_hours = models.PositiveIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(24 * 7 * 8)]
    )
    business_hours_start = models.TimeField(default=time(9, 0))
    business_hours_end = models.TimeField(default=time(17, 0))
    business_days = models.JSONField(
        default=default_business_days,
        help_text="ISO weekday numbers the team works: 1 Monday ... 7 Sunday.",
    )
    # The brake (feedback/services/brake.py): sending pauses itself when, over the rolling
    # window, complaints or hard bounces pass these shares of the messages sent.
    brake_complaint_percent = models.FloatField(
        "complaint line (%)",
        default=0.1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Sending pauses above this share of spam complaints (Gmail asks under 0.3%).",
    )
    brake_hard_bounce_percent = models.FloatField(
        "hard-bounce line (%)",
        default=5.0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Sending pauses above this share of hard bounces.",
    )
    brake_window_days = models.PositiveIntegerField(
        "brake window (days)",
        default=30,
        validators=[MinValueValidator(1)],
        help_text="The rates count the messages sent in these last days...",
    )
    brake_window_messages = models.PositiveIntegerField(
        "brake window (messages)",
        default=10_000,
        validators=[MinValueValidator(1)],
        help_text="...and at most this many of the latest messages.",
    )
    brake_min_messages = models.PositiveIntegerField(
        "brake minimum (messages)",
        default=500,
        validators=[MinValueValidator(1)],
        help_text="The rates count only once the window holds this many messages.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "invitation policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_percent__lte=100), name="policy_sample_percent_max_100"
            ),
            models.CheckConstraint(
                condition=Q(send_window_start__lt=models.F("send_window_end")),
                name="policy_window_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(business_hours_start__lt=models.F("business_hours_end")),
                name="policy_business_hours_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return "Invitation policy"

    def clean(self) -> None:
        if self.send_window_start >= self.send_window_end:
            raise ValidationError({"send_window_end": _("The window must end after it starts.")})
        choices = self.snooze_choices
        valid = isinstance(choices, list) and all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 90 for d in choices
        )
        if not valid or len(choices) > 5 or len(set(choices)) != len(choices):
            raise ValidationError(
                {
                    "snooze_choices": _(
                        "Give up to five different whole numbers of days between 1 and 90, "
                        "e.g. [7, 14, 30]."
                    )
                }
            )
        errors = self._business_hours_errors()
        if errors:
            raise ValidationError(errors)

    def _business_hours_errors(self) -> dict[str, str]:
        errors = {}
        if self.business_hours_start >= self.business_hours_end:
            errors["business_hours_end"] = _("Business hours must end after they start.")
        days = self.business_days
        valid = isinstance(days, list) and all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days
        )
        if not valid or not days or len(set(days)) != len(days):
            errors["business_days"] = _(
                "Give the working days as different numbers from 1 (Monday) to 7 (Sunday), "
                "e.g. 1, 2, 3, 4, 5."
            )
        return errors

    @classmethod
    def live(cls) -> "InvitationPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class PolicyVersion(models.Model):
    """An audited change of the policy: who, when, and each field's before and after."""

    policy = models.ForeignKey(InvitationPolicy, on_delete=models.CASCADE, related_name="versions")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    # {"field": {"before": ..., "after": ...}}
    changes = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"policy change at {self.changed_at:%Y-%m-%d %H:%M}"


class InvitationState(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    RESPONDED = "responded", _("responded")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("expired")
    SNOOZED = "snoozed", _("snoozed")
    SUPPRESSED = "suppressed", _("suppressed")
    SEND_FAILED = "send_failed", _("send failed")
    SEND_UNKNOWN = "send_unknown", _("send unknown")


class SuppressionReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("customer stopped invitations")
    NO_CONSENT = "no_consent", _("no consent")
    COOLDOWN = "cooldown", _("customer cooldown")
    SAMPLED_OUT = "sampled_out", _("sampled out")
    DAILY_CAP = "daily_cap", _("daily cap reached")
    NO_EMAIL = "no_email", _("no email address")
    POLICY_OFF = "policy_off", _("policy off")
    EXPIRED = "expired", _("expired before sending")
    SUPPRESSED = "suppressed", _("address on the suppression list")
    UNDELIVERABLE = "undeliverable", _("address bounced: mail cannot be delivered")


class Invitation(models.Model):
    State = InvitationState
    Reason = SuppressionReason

    # One invitation per order at most: the OneToOne is the database's unique constraint.
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="invitation")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    state = models.CharField(max_length=20, choices=State.choices, default=State.SCHEDULED)
    suppression_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # A random nonce; the link's token is derived from it with SECRET_KEY (feedback.tokens),
    # and only the token's hash is stored for look-ups.
    token_nonce = models.CharField(max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    snooze_count = models.PositiveSmallIntegerField(default=0)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(state="suppressed") & ~Q(suppression_reason=""))
                | (~Q(state="suppressed") & Q(suppression_reason="")),
                name="invitation_suppressed_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state__in=InvitationState.values), name="invitation_state_valid"
            ),
        ]
        indexes = [
            # The sweep reads only due scheduled rows: O(due), not O(all invitations).
            models.Index(
                fields=["due_at"], condition=Q(state="scheduled"), name="invitation_due_idx"
            ),
            models.Index(
                fields=["due_at"], condition=Q(state="snoozed"), name="invitation_snoozed_due_idx"
            ),
            models.Index(
                fields=["expires_at"], condition=Q(state="sent"), name="invitation_sent_expiry_idx"
            ),
            models.Index(
                fields=["sending_started_at"],
                condition=Q(state="sending"),
                name="invitation_sending_idx",
            ),
            models.Index(fields=["customer", "sent_at"], name="invitation_customer_sent_idx"),
            models.Index(fields=["state", "sent_at"], name="invitation_state_sent_idx"),
            # The dashboard: invitations sent in a period, and those due in it but not sent.
            models.Index(fields=["sent_at"], name="invitation_sent_at_idx"),
            models.Index(
                fields=["due_at"],
                condition=Q(state__in=["suppressed", "send_failed", "send_unknown"]),
                name="invitation_not_sent_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation for order {self.order_id} ({self.state})"


class Response(models.Model):
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        "would recommend (0–10)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    comment = models.TextField(max_length=2000, blank=True)
    contact_requested = models.BooleanField(default=False)
    quote_allowed = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # The comment's language (the customer's locale when they answered): its words are
    # stemmed and searched in it. Kept here because full-text search indexes need it on
    # the row (see migration 0011: one GIN index per language on PostgreSQL).
    # A database default too, so rows written by SQL (an import, a benchmark) have one.
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="en", db_default="en"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="response_rating_1_5"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10),
                name="response_nps_0_10",
            ),
        ]
        indexes = [
            models.Index(fields=["submitted_at"]),
            # The dashboard's median time to resolve: the period's contact requests only.
            models.Index(
                fields=["submitted_at"],
                condition=Q(contact_requested=True),
                name="response_contact_submitted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for invitation {self.invitation_id}"


class FollowUp(models.Model):
    """Exists only because the customer ticked "please contact me about this"."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="follow_up")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When the policy's first-response target falls (business hours, the shop's zone);
    # set when the request is made, so a later policy change moves no promise already made.
    response_due_at = models.DateTimeField(null=True, blank=True)
    # The first staff reply the mail server accepted, or the resolution if that came first.
    first_response_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The queue: open requests by due time.
            models.Index(fields=["status", "response_due_at"], name="followup_status_due_idx"),
        ]
        # The contact queue's actions (assign, note, resolve, reopen) ask for this; they
        # log who did what. Nobody changes a follow-up in the admin.
        permissions = [("work_followup", "Can work the contact queue")]

    def __str__(self) -> str:
        return f"follow-up on response {self.response_id} ({self.status})"


class FollowUpNote(models.Model):
    """An entry in a follow-up's log: a staff note, or a change (assigned, resolved, reopened).

    Append-only: the log tells the next person who did what and when.
    """

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="entries")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note on follow-up {self.follow_up_id} at {self.created_at:%Y-%m-%d %H:%M}"


class EmailLog(models.Model):
    """Every message handed to the mail server: the proof behind "at most one"."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("invitation")
        LATER = "later", _("asked-for later reminder")
        # A staff member's answer to a customer who asked to be contacted; never an
        # invitation: no cap, cooldown or invitation figure counts it.
        REPLY = "reply", _("staff reply to a contact request")

    class Outcome(models.TextChoices):
        # Written before the message is handed over; a crash leaves it "unknown".
        UNKNOWN = "unknown", _("unknown: handed over, no answer recorded")
        SENT = "sent", _("accepted by the mail server")
        FAILED = "failed", _("refused: not delivered")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message_id = models.CharField(max_length=255, blank=True)
    to_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.UNKNOWN)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The brake and the deliverability panel count the messages of a period.
            models.Index(fields=["created_at"], name="emaillog_created_idx"),
        ]
        constraints = [
            # At most one accepted invitation (and one "later") per invitation; a contact
            # request may get any number of staff replies.
            models.UniqueConstraint(
                fields=["invitation", "kind"],
                condition=Q(outcome="sent", kind__in=["invitation", "later"]),
                name="emaillog_one_sent_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email for invitation {self.invitation_id} ({self.outcome})"


class Suppression(models.Model):
    """An address never to invite, kept as a keyed hash (feedback.tokens.address_hash): it
    outlives the customer's row and its erasure, and reveals no address by itself."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("hard bounce")
        SOFT_BOUNCES = "soft_bounces", _("repeated soft bounces")
        COMPLAINT = "complaint", _("spam complaint")
        UNSUBSCRIBED = "unsubscribed", _("stopped all invitations")
        ERASED = "erased", _("personal data erased")
        MANUAL = "manual", _("added by hand")

    class Source(models.TextChoices):
        SMTP = "smtp", _("SMTP reply")
        DSN = "dsn", _("bounce message (DSN)")
        PROVIDER = "provider", _("provider event")
        COMPLAINT = "complaint", _("abuse report (ARF)")
        ERASURE = "erasure", _("erasure")
        UNSUBSCRIBE = "unsubscribe", _("unsubscribe")
        MANUAL = "manual", _("manual")

    # The reasons that say mail to the address cannot be delivered (the rules' own reason).
    UNDELIVERABLE = frozenset({Reason.HARD_BOUNCE, Reason.SOFT_BOUNCES})

    address_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=40, choices=Source.choices)
    # Whose address it was, while the customer's row says so; erasure clears it.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="suppressions"
    )
    # What the news said (the SMTP reply, the DSN's status), for staff; never the address.
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Ops may take an address off the list, with a reason (SuppressionRemoval).
        permissions = [("remove_suppression", "Can remove an address from the suppression list")]

    def __str__(self) -> str:
        return f"suppressed address ({self.reason}, {self.source})"


class SuppressionRemoval(models.Model):
    """An entry Ops took off the suppression list: who, when, why, and what it was."""

    address_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=Suppression.Reason.choices)
    source = models.CharField(max_length=40, choices=Suppression.Source.choices)
    suppressed_at = models.DateTimeField()
    customer_id = models.BigIntegerField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    removed_at = models.DateTimeField(auto_now_add=True)
    why = models.TextField()

    class Meta:
        ordering = ["-removed_at", "-pk"]

    def __str__(self) -> str:
        return f"suppression ({self.reason}) removed at {self.removed_at:%Y-%m-%d %H:%M}"


class DeliveryEvent(models.Model):
    """What happened to a message after it left: delivered, bounced, complained, ...
    One row per event, whatever brought the news (the SMTP reply, a bounce message, an abuse
    report, a provider's webhook); the brake and the deliverability panel count these."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("delivered")
        HARD_BOUNCE = "hard_bounce", _("hard bounce")
        SOFT_BOUNCE = "soft_bounce", _("soft bounce")
        COMPLAINT = "complaint", _("spam complaint")
        UNSUBSCRIBE = "unsubscribe", _("unsubscribed")

    class Source(models.TextChoices):
        SMTP = "smtp", _("SMTP reply")
        DSN = "dsn", _("bounce message (DSN)")
        PROVIDER = "provider", _("provider event")
        COMPLAINT = "complaint", _("abuse report (ARF)")
        MAILTO = "mailto", _("unsubscribe by email")

    email_log = models.ForeignKey(
        EmailLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    # The receiving domain (gmail.com, ...): the panel's per-domain rates; never the address.
    recipient_domain = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    detail = models.TextField(blank=True)
    # The news' own id (a provider's event id, a bounce message's Message-ID): the same
    # news delivered twice (a webhook retried, a message piped again) is one event.
    event_id = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=~Q(event_id=""),
                name="deliveryevent_one_per_news",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.source}) at {self.occurred_at:%Y-%m-%d %H:%M}"


class SendingPause(models.Model):
    """The brake pulled: sending stopped at `paused_at` because a rate passed its line,
    until Ops resumed it. Both ends are kept with their figures: the brake's audit."""

    class Reason(models.TextChoices):
        COMPLAINTS = "complaints", _("complaint rate above its line")
        HARD_BOUNCES = "hard_bounces", _("hard-bounce rate above its line")

    paused_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # The window's counts, rates and lines when the brake was pulled (selectors/brake.py).
    figures = models.JSONField(default=dict)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    resume_reason = models.TextField(blank=True)
    resume_figures = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-paused_at", "-pk"]
        indexes = [
            models.Index(
                fields=["paused_at"], condition=Q(resumed_at__isnull=True), name="pause_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"sending paused at {self.paused_at:%Y-%m-%d %H:%M} ({self.reason})"


class InboundMessage(models.Model):
    """A message that came back by mail (bounce, complaint, unsubscribe, reply, anything):
    stored whole before anything reads it, so nothing is ever lost, and shown to staff."""

    class Kind(models.TextChoices):
        PENDING = "pending", _("not yet read")
        BOUNCE = "bounce", _("bounce (delivery status notification)")
        COMPLAINT = "complaint", _("abuse complaint")
        UNSUBSCRIBE = "unsubscribe", _("unsubscribe request")
        REPLY = "reply", _("customer reply")
        FORGED = "forged", _("signed address did not verify")
        OTHER = "other", _("other: for staff to read")

    class Channel(models.TextChoices):
        PIPE = "pipe", _("mail server pipe (receive_mail)")
        WEBHOOK = "webhook", _("provider inbound webhook")

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The envelope recipient when the mail server passes it, else the To header.
    recipient = models.CharField(max_length=320, blank=True)
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PENDING)
    # What reading it concluded (or why it could not), in words for staff.
    note = models.TextField(blank=True)
    raw = models.BinaryField()
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
    )
    email_log = models.ForeignKey(
        EmailLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        sender = self.sender or "unknown"
        return f"{self.kind} message from {sender} at {self.received_at:%Y-%m-%d %H:%M}"


class DailySendCount(models.Model):
    """Invitations sent per UTC day; the daily cap is a conditional UPDATE on this row."""

    day = models.DateField(unique=True)
    sent = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.sent} sent"


class ApiToken(models.Model):
    """A bearer token for the REST API, issued in the admin.

    Only the SHA-256 of the secret is stored: the secret is shown once, when it is made.
    """

    name = models.CharField(max_length=100, help_text="Who or what uses it, e.g. 'shop sync'.")
    prefix = models.CharField(max_length=16, editable=False, help_text="Identifies the token.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PrivacyAudit(models.Model):
    """Who exported or erased which customer, and when; it holds no personal data."""

    class Action(models.TextChoices):
        EXPORT = "export", _("export")
        ERASE = "erase", _("erase")

    action = models.CharField(max_length=10, choices=Action.choices)
    # A plain id, not a foreign key: the record outlives whatever happens to the row.
    customer_id = models.BigIntegerField()
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.action} of customer {self.customer_id} at {self.performed_at:%Y-%m-%d %H:%M}"


class StaffPreference(models.Model):
    """A staff member's own settings: the language of the staff pages."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    def __str__(self) -> str:
        return f"{self.user} reads the staff pages in {self.language}"

    @classmethod
    def language_of(cls, user: object) -> str | None:
        """The language the staff member chose, or None if they have not chosen one."""
        return cls.objects.filter(user=user).values_list("language", flat=True).first()


class ShopPlatform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"


class ShopWebhook(models.Model):
    """One webhook delivery from a shop platform (feedback.shop_webhooks), kept for staff.

    An accepted delivery's id is unique per platform: a replay of it changes nothing. A
    refused one (a payload that cannot be mapped) keeps its reason and its body, so that
    staff can see what the platform sent; the platform retries it, and each retry is kept.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        IGNORED = "ignored", _("ignored: nothing to do")
        REFUSED = "refused", _("refused: cannot be mapped")

    platform = models.CharField(max_length=20, choices=ShopPlatform.choices)
    delivery_id = models.CharField(max_length=100, help_text="The platform's webhook id.")
    topic = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # The order it concerns, as our order id, where it is known.
    order_external_id = models.CharField("order id", max_length=100, blank=True)
    field = models.CharField(max_length=200, blank=True, help_text="The field refused.")
    reason = models.TextField(blank=True)
    # Only a refused delivery's body is kept: it holds a customer's personal data.
    payload = models.TextField(blank=True)

    class Meta:
        verbose_name = "shop webhook"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "delivery_id"],
                condition=~Q(outcome="refused"),
                name="shopwebhook_delivery_once",
            ),
        ]
        indexes = [models.Index(fields=["received_at"], name="shopwebhook_received_idx")]

    def __str__(self) -> str:
        return f"{self.platform} {self.topic} {self.delivery_id} ({self.outcome})"


class PlatformOrder(models.Model):
    """Which of our orders a shop platform's order id is: a Shopify fulfilment names its
    order by Shopify's id only, while our order id is the number the customer knows."""

    platform = models.CharField(max_length=20, choices=ShopPlatform.choices)
    platform_order_id = models.CharField(max_length=100)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="platform_ids")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_order_id"], name="platformorder_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} order {self.platform_order_id}"


class WebhookEventType(models.TextChoices):
    RESPONSE_SUBMITTED = "response.submitted", _("a customer answered")
    RESPONSE_UPDATED = "response.updated", _("a customer changed their answer")
    CONTACT_REQUESTED = "contact.requested", _("a customer asked to be contacted")
    CONTACT_REPLIED = "contact.replied", _("a reply in a contact's thread")
    CONTACT_RESOLVED = "contact.resolved", _("a contact request was resolved")
    INVITATION_SENT = "invitation.sent", _("an invitation email was sent")
    CUSTOMER_UNSUBSCRIBED = "customer.unsubscribed", _("a customer stopped all invitations")


class WebhookEndpoint(models.Model):
    """A receiver of our Standard Webhooks, managed in the admin.

    The secret (`whsec_<base64>`) signs every message, so it is stored as it is; the admin
    shows it once, right after the endpoint is made, and never again."""

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types it receives.")
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The first failed attempt since the last success: failing for WEBHOOK_DISABLE_AFTER_DAYS
    # disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.description or self.url


class WebhookEvent(models.Model):
    """Something other tools may want to know: the outbox row written in the same
    transaction as the change it reports. Its `message_id` is the `webhook-id` of every
    delivery of it, re-sends included, so a receiver recognises a second delivery."""

    message_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    occurred_at = models.DateTimeField()
    data = models.JSONField()
    # Whose event it is, so that erasing the customer erases their events too.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: pending until the receiver answers 2xx, or given up after
    its attempts. Every attempt is a WebhookAttempt row."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed: gave up")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # When the next attempt may start; an attempt in progress pushes it past its timeout.
    next_attempt_at = models.DateTimeField()
    # Queued for a worker until then: the sweep leaves it alone meanwhile.
    queued_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Gives up when attempts reaches this; a re-send allows WEBHOOK_MAX_ATTEMPTS more.
    attempt_limit = models.PositiveIntegerField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The sweep reads only pending rows that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint} ({self.state})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: saved with what the receiver said, or why it said nothing."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"


class TopicCount(models.Model):
    """Comments submitted on a day (in the site's time zone) that mention a term: a stem
    ("leak") or two neighbouring stems ("lid leak"), in one language; the empty term counts
    the day's comments. `sku` is a product in the order, or empty for all products.

    Kept exact at write time, in the answer's own transaction (feedback.services.topics),
    so "what customers talk about" reads a few rows per day, however many comments exist.
    """

    day = models.DateField()
    sku = models.CharField("SKU", max_length=100, blank=True)
    language = models.CharField(max_length=8)
    term = models.CharField(max_length=100, blank=True)
    comments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Also the read's index: one product (or all), a range of days.
            models.UniqueConstraint(
                fields=["sku", "day", "language", "term"], name="topiccount_unique"
            ),
        ]
        indexes = [
            # The comments per product and day, to pick the busiest products.
            models.Index(fields=["day", "sku"], condition=Q(term=""), name="topiccount_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.sku or 'all'} {self.language} {self.term!r}: {self.comments}"


class TopicWord(models.Model):
    """How often a term was written each way ("leaks", "leaking" for "leak"): the topics
    panel shows the most common."""

    language = models.CharField(max_length=8)
    term = models.CharField(max_length=100)
    written = models.CharField(max_length=100)
    uses = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["language", "term", "written"], name="topicword_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.term!r} written {self.written!r}: {self.uses}"


class ProductAlert(models.Model):
    """An incident: a product's recent CSAT fell below its own baseline by more than chance
    explains (feedback.topics.slipped). Opened once, when the test first fires; closed when
    the product recovers. Staff are told once per incident, not once per answer."""

    sku = models.CharField("SKU", max_length=100)
    name = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The figures when it opened: recent window and baseline, answers and 4-5 star answers.
    recent_answers = models.PositiveIntegerField()
    recent_satisfied = models.PositiveIntegerField()
    baseline_answers = models.PositiveIntegerField()
    baseline_satisfied = models.PositiveIntegerField()
    z = models.FloatField()
    # Set by the one worker that claims the email (a conditional UPDATE), before it sends.
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=Q(closed_at__isnull=True), name="productalert_one_open"
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.closed_at is None else "closed"
        return f"CSAT slip of {self.sku} ({state}) since {self.opened_at:%Y-%m-%d}"

    @property
    def recent_csat(self) -> float:
        return self.recent_satisfied / self.recent_answers

    @property
    def baseline_csat(self) -> float:
        return self.baseline_satisfied / self.baseline_answers


class ReviewState(models.TextChoices):
    PENDING = "pending", _("awaiting moderation")
    PUBLISHED = "published", _("published")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class RejectReason(models.TextChoices):
    """The only reasons to reject a review. None of them is about the rating."""

    PERSONAL_DATA = "personal_data", _("contains personal data")
    OFFENSIVE = "offensive", _("offensive")
    OFF_TOPIC = "off_topic", _("not about the product or the order")
    SPAM = "spam", _("spam")


class Review(models.Model):
    """An answer whose author allowed us to quote it, on its way to the public pages.

    Its text and rating are the answer's own (Response.comment, Response.rating): there is
    no second copy to fall out of step. `revision` counts the customer's edits, so a
    moderator's decision applies only to the version they read.
    """

    State = ReviewState
    Reason = RejectReason

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="review")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reject_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    revision = models.PositiveIntegerField(default=1)
    # When the customer wrote this version: the date the public pages show and sort by.
    written_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        permissions = [("publish_review", "Can publish reviews")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(state="rejected") & ~Q(reject_reason=""))
                | (~Q(state="rejected") & Q(reject_reason="")),
                name="review_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ReviewState.values), name="review_state_valid"
            ),
        ]
        indexes = [
            # The public pages read published reviews newest first; the queue, pending ones.
            models.Index(
                fields=["-written_at"],
                condition=Q(state="published"),
                name="review_published_idx",
            ),
            models.Index(
                fields=["written_at"], condition=Q(state="pending"), name="review_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"review of response {self.response_id} ({self.state})"


class ReviewDecision(models.Model):
    """The moderation log: one row per publish or reject, with the rating the moderator
    saw, so counts by rating show that low ratings are not held back. No text, no name."""

    class Action(models.TextChoices):
        PUBLISHED = "published", _("published")
        REJECTED = "rejected", _("rejected")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    rating = models.PositiveSmallIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["decided_at"], name="reviewdecision_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} review {self.review_id} ({self.rating}/5)"


class ContactMessage(models.Model):
    """One message in a contact request's thread: a staff reply sent by email, or the
    customer's answer that came back to the signed reply address."""

    class Direction(models.TextChoices):
        OUT = "out", _("staff reply")
        IN = "in", _("customer reply")

    class Status(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        # Not handed over (the mail server refused it or could not be reached): the text
        # is kept, and staff may send it again.
        FAILED = "failed", _("not sent")
        RECEIVED = "received", _("received")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    text = models.TextField()
    # Attachments of a customer's reply, as listed (name, size, type); the files stay in
    # the InboundMessage's raw message and are never served.
    attachments = models.JSONField(default=list, blank=True)
    email_log = models.ForeignKey(
        EmailLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    inbound = models.ForeignKey(
        InboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.direction} message on follow-up {self.follow_up_id} ({self.status})"


class ReplyTemplate(models.Model):
    """A reusable staff reply, per language; staff pick one on the contact page."""

    name = models.CharField(max_length=100)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    text = models.TextField(max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="replytemplate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class TeamNotification(models.Model):
    """One message to the shop's team on one channel (email or chat webhook). The row is
    written before the send and its outcome after; `key` makes "tell the team once" hold:
    one row per key and channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        CHAT = "chat", _("chat webhook")

    key = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    link = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "channel"], name="teamnotification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} notification {self.key} ({'sent' if self.sent_at else 'unsent'})"


class DailyFigures(models.Model):
    """The dashboard's counts for one day (in TIME_ZONE) and one (channel, locale, SKU).

    Kept exact by feedback.services.rollups: every write that changes a figure adds its
    difference here in the same transaction; `reconcile_rollups` checks them against the
    raw rows. `sku` "" is the row of all products (an order with two products counts once
    there, and once under each SKU). Which day a count hangs on follows the dashboard:
    sent, responded, declined, snoozed, stopped: the day the invitation was *sent*; the
    ratings, 0-10 answers and contact requests: the day the answer was *submitted*; the
    send failures and suppressions: the day the invitation was *due*.
    """

    day = models.DateField()
    channel = models.CharField(max_length=100, blank=True)
    locale = models.CharField(max_length=10, blank=True)
    sku = models.CharField("SKU", max_length=100, blank=True)
    # The product's name as its latest counted order gave it (empty in the all-products row).
    name = models.CharField(max_length=300, blank=True)
    sent = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    declined = models.IntegerField(default=0)
    snoozed = models.IntegerField(default=0)
    stopped = models.IntegerField(default=0)
    r1 = models.IntegerField(default=0)
    r2 = models.IntegerField(default=0)
    r3 = models.IntegerField(default=0)
    r4 = models.IntegerField(default=0)
    r5 = models.IntegerField(default=0)
    nps_answers = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    followups_open = models.IntegerField(default=0)
    followups_resolved = models.IntegerField(default=0)
    send_failed = models.IntegerField(default=0)
    send_unknown = models.IntegerField(default=0)
    suppressed_opted_out = models.IntegerField(default=0)
    suppressed_no_consent = models.IntegerField(default=0)
    suppressed_cooldown = models.IntegerField(default=0)
    suppressed_sampled_out = models.IntegerField(default=0)
    suppressed_daily_cap = models.IntegerField(default=0)
    suppressed_no_email = models.IntegerField(default=0)
    suppressed_policy_off = models.IntegerField(default=0)
    suppressed_expired = models.IntegerField(default=0)
    suppressed_suppressed = models.IntegerField(default=0)
    suppressed_undeliverable = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily figures"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "locale", "sku"], name="dailyfigures_one_row_per_key"
            ),
        ]
        # The unique index serves "all products" by day; this one a product filter.
        indexes = [models.Index(fields=["sku", "day"], name="dailyfigures_sku_day_idx")]

    def __str__(self) -> str:
        return f"figures of {self.day} ({self.channel or '-'}, {self.locale}, {self.sku or 'all'})"
