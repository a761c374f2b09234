"""Forms of the staff pages: the policy (edit and simulate), the contact queue."""

import json
from datetime import date, timedelta

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.emails import shop_context
from feedback.models import InvitationPolicy, ReplyTemplate, StaffPreference
from feedback.selectors.contacts import assignable_users
from feedback.services.contacts import NOTE_MAX_LENGTH, REPLY_MAX_LENGTH
from feedback.services.policy import AUDITED_FIELDS
from feedback.shop import from_address

# The longest period the simulator page replays in one request (the command has no limit).
SIMULATION_MAX_DAYS = 366


class SnoozeChoicesField(forms.CharField):
    """Days as "7, 14, 30" (the admin's "[7, 14, 30]" works too); the model checks the
    numbers themselves."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return ", ".join(str(d) for d in value)
        return value

    def to_python(self, value: object) -> list[int]:
        text = (super().to_python(value) or "").strip().strip("[]")
        try:
            return [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise ValidationError(
                _("Give whole numbers of days separated by commas, e.g. 7, 14, 30."), code="invalid"
            ) from None


class PolicyForm(forms.ModelForm):
    """The live policy's fields, validated by the model like in the admin."""

    snooze_choices = SnoozeChoicesField(
        label=gettext_lazy("Snooze choices (days)"),
        required=False,
        help_text=gettext_lazy(
            "The days a customer may choose for “ask me later”, e.g. 7, 14, 30; "
            "empty turns “ask me later” off."
        ),
    )

    business_days = SnoozeChoicesField(
        label=gettext_lazy("Business days"),
        required=False,
        help_text=gettext_lazy(
            "The days the team answers contact requests, as numbers: 1 Monday to 7 Sunday, "
            "e.g. 1, 2, 3, 4, 5."
        ),
    )

    class Meta:
        model = InvitationPolicy
        fields = AUDITED_FIELDS
        widgets = {
            "send_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "business_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "business_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        # The model's names, in the staff member's language (the model itself stays English).
        labels = {
            "enabled": gettext_lazy("Enabled"),
            "delay_after_delivery_days": gettext_lazy("Delay after delivery days"),
            "send_window_start": gettext_lazy("Send window start"),
            "send_window_end": gettext_lazy("Send window end"),
            "send_on_weekends": gettext_lazy("Send on weekends"),
            "customer_cooldown_days": gettext_lazy("Customer cooldown days"),
            "invitation_valid_days": gettext_lazy("Invitation valid days"),
            "sample_percent": gettext_lazy("Sample percent"),
            "daily_send_cap": gettext_lazy("Daily send cap"),
            "consent_mode": gettext_lazy("Consent mode"),
            "nps_enabled": gettext_lazy("Ask the 0–10 recommend question"),
            "response_target_hours": gettext_lazy("First-response target (business hours)"),
            "business_hours_start": gettext_lazy("Business hours start"),
            "business_hours_end": gettext_lazy("Business hours end"),
            "brake_complaint_percent": gettext_lazy("Complaint line (%)"),
            "brake_hard_bounce_percent": gettext_lazy("Hard-bounce line (%)"),
            "brake_window_days": gettext_lazy("Brake window (days)"),
            "brake_window_messages": gettext_lazy("Brake window (messages)"),
            "brake_min_messages": gettext_lazy("Brake minimum (messages)"),
        }
        help_texts = {
            "response_target_hours": gettext_lazy(
                "How soon a customer who asked to be contacted should hear from the team, "
                "in business hours (8 hours of a 9-to-5 day is one business day)."
            ),
            "business_hours_start": gettext_lazy("In the shop's time zone."),
            "enabled": gettext_lazy("Off: no invitation is scheduled."),
            "daily_send_cap": gettext_lazy("Most invitations sent per day; empty means no cap."),
            "delay_after_delivery_days": gettext_lazy("Days between delivery and the invitation."),
            "send_window_start": gettext_lazy("In the customer's time zone."),
            "customer_cooldown_days": gettext_lazy(
                "At most one invitation per customer in this many days."
            ),
            "invitation_valid_days": gettext_lazy("How long the link takes answers."),
            "sample_percent": gettext_lazy("Share of delivered orders invited (0–100)."),
            "brake_complaint_percent": gettext_lazy(
                "Sending pauses itself above this share of spam complaints (Gmail asks for "
                "under 0.3%, and advises under 0.1%)."
            ),
            "brake_hard_bounce_percent": gettext_lazy(
                "Sending pauses itself above this share of hard bounces."
            ),
            "brake_window_days": gettext_lazy(
                "The rates count the messages sent in these last days…"
            ),
            "brake_window_messages": gettext_lazy("…and at most this many of the latest ones."),
            "brake_min_messages": gettext_lazy(
                "The brake waits until the window holds this many messages: one complaint "
                "in ten messages is not a rate."
            ),
        }


# The contact queue's first-response target: audited with the policy and edited with it,
# but no invitation depends on it, so the simulator leaves it out.
CONTACT_TARGET_FIELDS = [
    "response_target_hours",
    "business_hours_start",
    "business_hours_end",
    "business_days",
]


class InvitationRulesForm(PolicyForm):
    """The policy's invitation rules only: what the simulator replays."""

    class Meta(PolicyForm.Meta):
        fields = [name for name in AUDITED_FIELDS if name not in CONTACT_TARGET_FIELDS]


def policy_form_data(policy: InvitationPolicy) -> dict[str, str]:
    """The policy as submitted form data: what a prefilled form would post back."""
    data = {}
    for name, value in model_to_dict(policy, fields=AUDITED_FIELDS).items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif hasattr(value, "strftime"):
            data[name] = value.strftime("%H:%M:%S")
        elif isinstance(value, list):
            data[name] = json.dumps(value)
        else:
            data[name] = str(value)
    return data


def draft_policy(live: InvitationPolicy) -> InvitationPolicy:
    """An unsaved copy of the live policy for a form to change: the live row stays as is."""
    return InvitationPolicy(**model_to_dict(live, fields=AUDITED_FIELDS))


class PeriodForm(forms.Form):
    period_start = forms.DateField(
        label=gettext_lazy("Delivered from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=gettext_lazy("Delivered until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    @staticmethod
    def default_initial() -> dict[str, date]:
        today = timezone.now().date()
        return {"period_start": today - timedelta(days=30), "period_end": today - timedelta(1)}

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            if end < start:
                self.add_error("period_end", _("The period must end on or after its first day."))
            elif (end - start).days + 1 > SIMULATION_MAX_DAYS:
                self.add_error(
                    "period_end",
                    _(
                        "Choose at most %(days)d days here; "
                        "`manage.py simulate_policy` replays any period."
                    )
                    % {"days": SIMULATION_MAX_DAYS},
                )
        return data


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=assignable_users(),
        required=False,
        empty_label=gettext_lazy("— nobody —"),
        error_messages={"invalid_choice": gettext_lazy("Choose a member of staff from the list.")},
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Add a note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("Write a note first."),
            "max_length": gettext_lazy("Keep the note to %(limit_value)d characters or fewer."),
        },
    )


class StaffPasswordResetForm(PasswordResetForm):
    """Django's password reset; the email comes from the shop, carries its header and footer
    like every email the portal sends, and speaks the staff member's chosen language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        language = StaffPreference.language_of(context["user"]) or translation.get_language()
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                {**context, **shop_context()},
                from_address(),
                to_email,
                html_email_template_name,
            )


class ReplyForm(forms.Form):
    def __init__(self, *args: object, **kwargs: object) -> None:
        # Its own ids: the note form on the same page also has a "text" field.
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)

    text = forms.CharField(
        label=gettext_lazy("Your reply"),
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": gettext_lazy("Write your reply first."),
            "max_length": gettext_lazy("Keep the reply to %(limit_value)d characters or fewer."),
        },
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Closing note (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": gettext_lazy("Keep the note to %(limit_value)d characters or fewer."),
        },
    )


class ReplyTemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["name", "language", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
        labels = {
            "name": gettext_lazy("Name"),
            "language": gettext_lazy("Language"),
            "text": gettext_lazy("Text"),
        }
        error_messages = {
            NON_FIELD_ERRORS: {
                "unique_together": gettext_lazy(
                    "A saved reply with this name and language exists already."
                )
            },
            "name": {"required": gettext_lazy("Give the saved reply a name.")},
            "text": {"required": gettext_lazy("Write the text of the saved reply.")},
        }


class ResumeSendingForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why may sending resume?"),
        max_length=2000,
        error_messages={
            "required": gettext_lazy("Say why sending may resume: it is recorded with your name."),
            "max_length": gettext_lazy("Keep the reason to %(limit_value)d characters or fewer."),
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(
                _("Say why sending may resume: it is recorded with your name."), code="required"
            )
        return reason
