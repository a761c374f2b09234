"""Forms of the staff pages: the policy (edit and simulate), the contact queue."""

import json
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import InvitationPolicy
from feedback.selectors.contacts import assignable_users
from feedback.services.contacts import NOTE_MAX_LENGTH
from feedback.services.policy import AUDITED_FIELDS

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

    class Meta:
        model = InvitationPolicy
        fields = AUDITED_FIELDS
        widgets = {
            "send_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
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
            "brake_complaint_percent": gettext_lazy("Complaint line (%)"),
            "brake_hard_bounce_percent": gettext_lazy("Hard-bounce line (%)"),
            "brake_window_days": gettext_lazy("Brake window (days)"),
            "brake_window_messages": gettext_lazy("Brake window (messages)"),
            "brake_min_messages": gettext_lazy("Brake minimum (messages)"),
        }
        help_texts = {
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
