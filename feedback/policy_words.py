"""The invitation policy in plain words, for staff who do not read field names."""

from dataclasses import dataclass
from datetime import time

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from feedback.models import InvitationPolicy

LABELS = {
    "enabled": gettext_lazy("Invitations on"),
    "delay_after_delivery_days": gettext_lazy("Delay after delivery (days)"),
    "send_window_start": gettext_lazy("Send window opens"),
    "send_window_end": gettext_lazy("Send window closes"),
    "send_on_weekends": gettext_lazy("Send on weekends"),
    "customer_cooldown_days": gettext_lazy("Customer cooldown (days)"),
    "invitation_valid_days": gettext_lazy("Link valid for (days)"),
    "sample_percent": gettext_lazy("Sample (percent of orders)"),
    "daily_send_cap": gettext_lazy("Daily send cap"),
    "consent_mode": gettext_lazy("Consent mode"),
    "snooze_choices": gettext_lazy("Snooze choices (days)"),
    "nps_enabled": gettext_lazy("0–10 recommend question"),
    "response_target_hours": gettext_lazy("First-response target (business hours)"),
    "business_hours_start": gettext_lazy("Business hours start"),
    "business_hours_end": gettext_lazy("Business hours end"),
    "business_days": gettext_lazy("Business days"),
    "brake_complaint_percent": gettext_lazy("Complaint line (%)"),
    "brake_hard_bounce_percent": gettext_lazy("Hard-bounce line (%)"),
    "brake_window_days": gettext_lazy("Brake window (days)"),
    "brake_window_messages": gettext_lazy("Brake window (messages)"),
    "brake_min_messages": gettext_lazy("Brake minimum (messages)"),
}
WEEKDAYS = {
    1: gettext_lazy("Monday"),
    2: gettext_lazy("Tuesday"),
    3: gettext_lazy("Wednesday"),
    4: gettext_lazy("Thursday"),
    5: gettext_lazy("Friday"),
    6: gettext_lazy("Saturday"),
    7: gettext_lazy("Sunday"),
}


def _days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def _clock(value: time | str) -> str:
    if isinstance(value, str):
        value = time.fromisoformat(value)
    return value.strftime("%H:%M")


def describe_policy(policy: InvitationPolicy) -> list[str]:
    """One sentence per rule, in the order the engine applies them."""
    days = _("every day, weekends included") if policy.send_on_weekends else _("on weekdays only")
    return [
        _("Invitations are on.")
        if policy.enabled
        else _("Invitations are off: no invitation is scheduled for any order."),
        _(
            "Invitations go out %(delay)s after delivery, between %(opens)s and %(closes)s "
            "in the customer's time zone, %(days)s."
        )
        % {
            "delay": _days(policy.delay_after_delivery_days),
            "opens": _clock(policy.send_window_start),
            "closes": _clock(policy.send_window_end),
            "days": days,
        },
        _sample(policy.sample_percent),
        _consent(policy.consent_mode),
        _("A customer gets at most one invitation every %(days)s.")
        % {"days": _days(policy.customer_cooldown_days)},
        _cap(policy.daily_send_cap),
        _(
            "An invitation link takes answers for %(days)s; an invitation that could not go "
            "out within that time is dropped."
        )
        % {"days": _days(policy.invitation_valid_days)},
        _snooze(policy.snooze_choices),
        _("The 0–10 “would you recommend us” question is asked.")
        if policy.nps_enabled
        else _("The 0–10 “would you recommend us” question is not asked."),
        _response_target(policy),
        _brake(policy),
    ]


def _weekdays(days: list[int]) -> str:
    return ", ".join(str(WEEKDAYS[d]) for d in sorted(days) if d in WEEKDAYS)


def _brake(policy: InvitationPolicy) -> str:
    return _(
        "Sending pauses itself, until Ops resume it, when spam complaints pass "
        "%(complaints)s%% or hard bounces pass %(bounces)s%% of the messages sent in the "
        "last %(days)s (at most the latest %(messages)s messages, and once at least "
        "%(minimum)s were sent)."
    ) % {
        "complaints": f"{policy.brake_complaint_percent:g}",
        "bounces": f"{policy.brake_hard_bounce_percent:g}",
        "days": _days(policy.brake_window_days),
        "messages": policy.brake_window_messages,
        "minimum": policy.brake_min_messages,
    }


def _response_target(policy: InvitationPolicy) -> str:
    return _(
        "A customer who asks to be contacted should hear from the team within "
        "%(hours)s business hours (%(days)s, %(opens)s–%(closes)s, %(zone)s time)."
    ) % {
        "hours": policy.response_target_hours,
        "days": _weekdays(policy.business_days),
        "opens": _clock(policy.business_hours_start),
        "closes": _clock(policy.business_hours_end),
        "zone": settings.SHOP_TIME_ZONE,
    }


def _sample(percent: int) -> str:
    if percent >= 100:
        return _("Every delivered order is invited (sample 100%).")
    if percent <= 0:
        return _("No order is invited (sample 0%).")
    return _(
        "About %(percent)s%% of delivered orders are invited, chosen by order number "
        "(the same order always gets the same answer)."
    ) % {"percent": percent}


def _consent(mode: str) -> str:
    if mode == InvitationPolicy.ConsentMode.OPT_IN:
        return _("Only customers who gave their consent are invited (opt-in).")
    return _("Customers are invited unless they said no (notice).")


def _cap(cap: int | None) -> str:
    if cap is None:
        return _("There is no daily limit on invitations.")
    return _("At most %(cap)s invitations are sent per day (UTC day); the rest are not sent.") % {
        "cap": cap
    }


def _snooze(choices: list[int]) -> str:
    if not choices:
        return _("“Ask me later” is off.")
    days = ", ".join(str(d) for d in choices[:-1])
    last = str(choices[-1])
    listed = _("%(days)s or %(last)s") % {"days": days, "last": last} if days else last
    return _("“Ask me later” offers %(listed)s days, once per invitation.") % {"listed": listed}


def show_value(name: str, value: object) -> str:
    """A stored value (a snapshot's JSON) as a person reads it."""
    if value is None:
        return _("no cap") if name == "daily_send_cap" else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in (
        "send_window_start",
        "send_window_end",
        "business_hours_start",
        "business_hours_end",
    ):
        return _clock(value)
    if name == "business_days" and isinstance(value, list):
        return _weekdays(value)
    if name == "consent_mode":
        return _("opt-in") if value == InvitationPolicy.ConsentMode.OPT_IN else _("notice")
    if isinstance(value, list):
        return ", ".join(str(d) for d in value) or _("none (off)")
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def describe_changes(changes: dict) -> list[FieldChange]:
    """An audited version's {field: {before, after}} as labelled, readable rows."""
    return [
        FieldChange(
            LABELS.get(name, name.replace("_", " ")),
            show_value(name, change.get("before")),
            show_value(name, change.get("after")),
        )
        for name, change in changes.items()
    ]
