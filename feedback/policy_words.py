"""The invitation policy in plain words, for staff who do not read field names."""

from dataclasses import dataclass
from datetime import time

from feedback.models import InvitationPolicy

LABELS = {
    "enabled": "Invitations on",
    "delay_after_delivery_days": "Delay after delivery (days)",
    "send_window_start": "Send window opens",
    "send_window_end": "Send window closes",
    "send_on_weekends": "Send on weekends",
    "customer_cooldown_days": "Customer cooldown (days)",
    "invitation_valid_days": "Link valid for (days)",
    "sample_percent": "Sample (% of orders)",
    "daily_send_cap": "Daily send cap",
    "consent_mode": "Consent mode",
    "snooze_choices": "Snooze choices (days)",
    "nps_enabled": "0–10 recommend question",
}


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _clock(value: time | str) -> str:
    if isinstance(value, str):
        value = time.fromisoformat(value)
    return value.strftime("%H:%M")


def describe_policy(policy: InvitationPolicy) -> list[str]:
    """One sentence per rule, in the order the engine applies them."""
    days = "every day, weekends included" if policy.send_on_weekends else "on weekdays only"
    return [
        "Invitations are on."
        if policy.enabled
        else "Invitations are off: no invitation is scheduled for any order.",
        f"Invitations go out {_days(policy.delay_after_delivery_days)} after delivery, between "
        f"{_clock(policy.send_window_start)} and {_clock(policy.send_window_end)} in the "
        f"customer's time zone, {days}.",
        _sample(policy.sample_percent),
        _consent(policy.consent_mode),
        f"A customer gets at most one invitation every {_days(policy.customer_cooldown_days)}.",
        _cap(policy.daily_send_cap),
        f"An invitation link takes answers for {_days(policy.invitation_valid_days)}; an "
        f"invitation that could not go out within that time is dropped.",
        _snooze(policy.snooze_choices),
        "The 0–10 “would you recommend us” question is asked."
        if policy.nps_enabled
        else "The 0–10 “would you recommend us” question is not asked.",
    ]


def _sample(percent: int) -> str:
    if percent >= 100:
        return "Every delivered order is invited (sample 100%)."
    if percent <= 0:
        return "No order is invited (sample 0%)."
    return (
        f"About {percent}% of delivered orders are invited, chosen by order number "
        "(the same order always gets the same answer)."
    )


def _consent(mode: str) -> str:
    if mode == InvitationPolicy.ConsentMode.OPT_IN:
        return "Only customers who gave their consent are invited (opt-in)."
    return "Customers are invited unless they said no (notice)."


def _cap(cap: int | None) -> str:
    if cap is None:
        return "There is no daily limit on invitations."
    return f"At most {cap} invitations are sent per day (UTC day); the rest are not sent."


def _snooze(choices: list[int]) -> str:
    if not choices:
        return "“Ask me later” is off."
    days = ", ".join(str(d) for d in choices[:-1])
    listed = f"{days} or {choices[-1]}" if days else str(choices[-1])
    return f"“Ask me later” offers {listed} days, once per invitation."


def show_value(name: str, value: object) -> str:
    """A stored value (a snapshot's JSON) as a person reads it."""
    if value is None:
        return "no cap" if name == "daily_send_cap" else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in ("send_window_start", "send_window_end"):
        return _clock(value)
    if name == "consent_mode":
        return "opt-in" if value == InvitationPolicy.ConsentMode.OPT_IN else "notice"
    if isinstance(value, list):
        return ", ".join(str(d) for d in value) or "none (off)"
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
