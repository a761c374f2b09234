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
        indexes = [models.Index(fields=["submitted_at"])]

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

    class Meta:
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
            # At most one accepted message of each kind per invitation.
            models.UniqueConstraint(
                fields=["invitation", "kind"],
                condition=Q(outcome="sent"),
                name="emaillog_one_sent_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email for invitation {self.invitation_id} ({self.outcome})"


class Suppression(models.Model):
    """An address never to invite, kept as a keyed hash (feedback.tokens.address_hash): it
    outlives the customer's row and its erasure, and reveals no address by itself."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("stopped all invitations")
        ERASED = "erased", _("personal data erased")

    address_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Where it came from: "erasure" (admin or command), and more to come (bounces, ...).
    source = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"suppressed address ({self.reason}, {self.source})"


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

    class Meta:
        indexes = [models.Index(fields=["kind", "occurred_at"])]

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
