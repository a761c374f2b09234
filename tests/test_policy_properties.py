"""Property-based tests of the pure rules: for random policies, customers and times."""

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.rules import Facts, PolicyRules, customer_zone, decide, in_sample, in_window

ZONES = [
    "UTC",
    "Europe/Madrid",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kolkata",
    "Pacific/Chatham",
]
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@st.composite
def rules(draw: st.DrawFn) -> PolicyRules:
    start = draw(st.integers(0, 22 * 60))
    end = draw(st.integers(start + 30, 24 * 60 - 1))
    return PolicyRules(
        delay_after_delivery_days=draw(st.integers(0, 30)),
        send_window_start=time(start // 60, start % 60),
        send_window_end=time(end // 60, end % 60),
        send_on_weekends=draw(st.booleans()),
        customer_cooldown_days=draw(st.integers(0, 365)),
        invitation_valid_days=draw(st.integers(1, 60)),
        sample_percent=draw(st.integers(0, 100)),
        daily_send_cap=draw(st.none() | st.integers(0, 1000)),
        consent_mode=draw(st.sampled_from(["notice", "opt_in"])),
    )


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    delivered = draw(moments)
    return Facts(
        order_external_id=draw(st.text(min_size=1, max_size=20)),
        delivered_at=delivered,
        has_email=draw(st.booleans()),
        opted_out=draw(st.booleans()),
        suppressed=draw(st.booleans()),
        undeliverable=draw(st.booleans()),
        consent=draw(st.sampled_from(["given", "not_given", "unknown"])),
        time_zone=draw(st.sampled_from(ZONES)),
        last_invited_at=draw(st.none() | moments),
        sent_that_day=draw(st.integers(0, 1200)),
    )


@settings(max_examples=1500, deadline=None)
@given(rules(), facts(), st.integers(0, 90 * 24 * 60))
def test_a_decision_to_send_respects_every_rule(
    policy: PolicyRules, customer: Facts, minutes_after_delivery: int
) -> None:
    now = customer.delivered_at + timedelta(minutes=minutes_after_delivery)
    decision = decide(policy, customer, now)
    local = decision.due_at.astimezone(customer_zone(customer.time_zone))
    # Whatever the decision, the time it names is in the window and not in the past.
    assert in_window(policy, local)
    assert decision.due_at >= now
    if not decision.send:
        return
    assert customer.has_email and not customer.opted_out
    assert not customer.suppressed and not customer.undeliverable
    if customer.last_invited_at is not None:
        cooldown_ends = customer.last_invited_at + timedelta(days=policy.customer_cooldown_days)
        assert decision.due_at >= cooldown_ends
    if policy.consent_mode == "opt_in":
        assert customer.consent == "given"
    assert customer.consent != "not_given"
    assert policy.daily_send_cap is None or customer.sent_that_day < policy.daily_send_cap


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 100), st.integers(0, 10**9))
def test_sampling_keeps_close_to_the_configured_share(percent: int, offset: int) -> None:
    orders = [f"ORD-{offset + n}" for n in range(4000)]
    share = sum(in_sample(order, percent) for order in orders) / len(orders)
    assert abs(share - percent / 100) < 0.035
    assert [in_sample(o, percent) for o in orders[:50]] == [
        in_sample(o, percent) for o in orders[:50]
    ]
