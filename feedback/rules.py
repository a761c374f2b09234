"""The invitation rules as a pure function: no database, no clock, no I/O.

decide(rules, facts, now) answers "may this order's invitation be sent, and when?".
The same function runs at scheduling time, again at send time, and in the simulator.
"""

import hashlib
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SEND = "send"
SUPPRESS = "suppress"


@dataclass(frozen=True)
class PolicyRules:
    enabled: bool = True
    delay_after_delivery_days: int = 7
    send_window_start: time = time(9, 0)
    send_window_end: time = time(18, 0)
    send_on_weekends: bool = True
    customer_cooldown_days: int = 90
    invitation_valid_days: int = 30
    sample_percent: int = 100
    daily_send_cap: int | None = None
    consent_mode: str = "notice"

    @classmethod
    def from_policy(cls, policy: object) -> "PolicyRules":
        return cls(**{f.name: getattr(policy, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Facts:
    order_external_id: str
    delivered_at: datetime
    has_email: bool
    opted_out: bool
    consent: str  # "given" / "not_given" / "unknown"
    time_zone: str = "UTC"
    # When this customer was last sent an invitation email, if ever.
    last_invited_at: datetime | None = None
    # Invitations already sent on the day this one would go out (for the daily cap).
    sent_that_day: int = 0
    # The one "ask me later" email the customer asked for: only their own wishes apply.
    is_later: bool = False
    # When the invitation is due (defaults to delivery + delay moved into the window).
    due_at: datetime | None = None
    # The address is on the suppression list (e.g. it stopped all, then was erased; or a
    # complaint, or by hand).
    suppressed: bool = False
    # The address is on the suppression list because mail to it bounced (a hard bounce, or
    # repeated soft ones): inviting it again would only bounce again.
    undeliverable: bool = False


@dataclass(frozen=True)
class Decision:
    action: str
    # When to send: never in the past relative to `now`, always inside the window.
    due_at: datetime
    reason: str = ""

    @property
    def send(self) -> bool:
        return self.action == SEND


def decide(rules: PolicyRules, facts: Facts, now: datetime) -> Decision:
    """Apply the rules in order; the first that forbids sending gives the reason.

    - policy off -> policy_off
    - no email address -> no_email
    - customer stopped all invitations -> opted_out
    - the address is on the suppression list -> suppressed
    - it is listed because mail to it bounced -> undeliverable
    - consent: notice mode refuses only "not_given"; opt_in needs "given" -> no_consent
    For a first invitation (not the asked-for "later" one), also:
    - the order is not in the sampled share -> sampled_out
    - another invitation within the cooldown -> cooldown
    - it would go out after its validity ran out -> expired
    - the day's cap is reached -> daily_cap
    """
    planned = facts.due_at or send_time(rules, facts)
    # Late (a backlog, a retry, the sweep's minute): the next in-window moment from now.
    due_at = planned if planned >= now else into_window(rules, now, facts.time_zone)
    checks = [
        ("policy_off", not rules.enabled),
        ("no_email", not facts.has_email),
        ("opted_out", facts.opted_out),
        ("suppressed", facts.suppressed),
        ("undeliverable", facts.undeliverable),
        ("no_consent", not _consented(rules.consent_mode, facts.consent)),
    ]
    if not facts.is_later:
        checks += [
            ("sampled_out", not in_sample(facts.order_external_id, rules.sample_percent)),
            ("cooldown", _in_cooldown(rules, facts, due_at)),
            ("expired", due_at >= planned + timedelta(days=rules.invitation_valid_days)),
            ("daily_cap", _cap_reached(rules, facts)),
        ]
    for reason, forbidden in checks:
        if forbidden:
            return Decision(SUPPRESS, due_at, reason)
    return Decision(SEND, due_at)


def _consented(mode: str, consent: str) -> bool:
    return consent == "given" if mode == "opt_in" else consent != "not_given"


def _in_cooldown(rules: PolicyRules, facts: Facts, send_at: datetime) -> bool:
    if facts.last_invited_at is None:
        return False
    return send_at < facts.last_invited_at + timedelta(days=rules.customer_cooldown_days)


def _cap_reached(rules: PolicyRules, facts: Facts) -> bool:
    return rules.daily_send_cap is not None and facts.sent_that_day >= rules.daily_send_cap


def in_sample(order_external_id: str, percent: int) -> bool:
    """Deterministic per order: re-evaluating the same order always gives the same answer."""
    digest = hashlib.sha256(order_external_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def send_time(rules: PolicyRules, facts: Facts) -> datetime:
    """Delivery + delay, moved forward into the send window in the customer's time zone."""
    moment = facts.delivered_at + timedelta(days=rules.delay_after_delivery_days)
    return into_window(rules, moment, facts.time_zone)


def into_window(rules: PolicyRules, moment: datetime, time_zone: str) -> datetime:
    """The first instant at or after `moment` inside the customer's local send window."""
    tz = customer_zone(time_zone)
    local = moment.astimezone(tz)
    if in_window(rules, local):
        return local
    day = local.date()
    if local.time() >= rules.send_window_end:
        day += timedelta(days=1)
    # A bounded walk: weekends and DST gaps can push the opening a few days on.
    for _ in range(8):
        opening = _opening(rules, day, tz)
        if opening >= local and in_window(rules, opening):
            return opening
        day += timedelta(days=1)
    raise ValueError("the send window never opens")  # unreachable for a valid policy


def in_window(rules: PolicyRules, local: datetime) -> bool:
    """Is this local moment inside the window (and on an allowed day)?"""
    if not rules.send_on_weekends and local.weekday() >= 5:
        return False
    return rules.send_window_start <= local.time() < rules.send_window_end


def _opening(rules: PolicyRules, day: date, tz: ZoneInfo) -> datetime:
    # Round-trip through UTC so a start time inside a DST gap lands on a real instant.
    return datetime.combine(day, rules.send_window_start, tzinfo=tz).astimezone(UTC).astimezone(tz)


def customer_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
