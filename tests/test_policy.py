from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedback.rules import Facts, PolicyRules, decide, in_sample, send_time

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def facts(**overrides: object) -> Facts:
    values = {
        "order_external_id": "ORD-1",
        "delivered_at": NOW - timedelta(days=1),
        "has_email": True,
        "opted_out": False,
        "consent": "unknown",
        "time_zone": "Europe/Madrid",
    }
    values.update(overrides)
    return Facts(**values)


def test_it_sends_delay_days_after_delivery_inside_the_window() -> None:
    delivered = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)  # 11:30 in Madrid
    decision = decide(PolicyRules(), facts(delivered_at=delivered), delivered)
    assert decision.send
    assert decision.due_at == delivered + timedelta(days=7)


def test_it_moves_a_late_send_to_the_next_window_instead_of_sending_at_night() -> None:
    delivered = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    night = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 03:00 in Madrid, a day late
    decision = decide(PolicyRules(), facts(delivered_at=delivered), night)
    assert decision.send
    assert decision.due_at.astimezone(ZoneInfo("Europe/Madrid")).time() == time(9, 0)
    assert decision.due_at > night


def test_it_moves_an_evening_delivery_to_the_next_morning_in_the_customers_zone() -> None:
    delivered = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # 21:00 in Madrid
    due = send_time(PolicyRules(), facts(delivered_at=delivered))
    local = due.astimezone(ZoneInfo("Europe/Madrid"))
    assert (local.date().isoformat(), local.time()) == ("2026-11-10", time(9, 0))


def test_it_skips_weekends_when_the_policy_says_so() -> None:
    delivered = datetime(2026, 11, 7, 10, 0, tzinfo=UTC)  # +7 days is a Saturday
    due = send_time(PolicyRules(send_on_weekends=False), facts(delivered_at=delivered))
    assert due.astimezone(ZoneInfo("Europe/Madrid")).strftime("%A %H:%M") == "Monday 09:00"


def test_it_keeps_local_nine_oclock_across_a_dst_change() -> None:
    # Delivered before the clocks go back (25 Oct 2026), due after it.
    delivered = datetime(2026, 10, 20, 5, 0, tzinfo=UTC)  # 07:00 CEST, before the window
    due = send_time(PolicyRules(), facts(delivered_at=delivered))
    assert due.astimezone(ZoneInfo("Europe/Madrid")).time() == time(9, 0)
    assert due.utcoffset() is not None
    assert due.astimezone(UTC).hour == 8  # 09:00 CET is 08:00 UTC


def test_it_suppresses_with_the_reason_of_the_first_rule_that_forbids() -> None:
    cases = [
        (PolicyRules(enabled=False), facts(), "policy_off"),
        (PolicyRules(), facts(has_email=False), "no_email"),
        (PolicyRules(), facts(opted_out=True), "opted_out"),
        (PolicyRules(), facts(suppressed=True), "suppressed"),
        (PolicyRules(), facts(undeliverable=True), "undeliverable"),
        (PolicyRules(), facts(undeliverable=True, consent="not_given"), "undeliverable"),
        (PolicyRules(), facts(consent="not_given"), "no_consent"),
        (PolicyRules(consent_mode="opt_in"), facts(consent="unknown"), "no_consent"),
        (PolicyRules(sample_percent=0), facts(), "sampled_out"),
        (PolicyRules(), facts(last_invited_at=NOW - timedelta(days=10)), "cooldown"),
        (PolicyRules(enabled=False), facts(is_later=True), "policy_off"),
        (PolicyRules(), facts(is_later=True, opted_out=True), "opted_out"),
        (PolicyRules(), facts(is_later=True, undeliverable=True), "undeliverable"),
        (PolicyRules(), facts(delivered_at=NOW - timedelta(days=40)), "expired"),
        (PolicyRules(daily_send_cap=5), facts(sent_that_day=5), "daily_cap"),
    ]
    for rules, customer_facts, reason in cases:
        decision = decide(rules, customer_facts, NOW)
        assert (decision.send, decision.reason) == (False, reason)


def test_it_invites_opt_in_customers_who_consented() -> None:
    assert decide(PolicyRules(consent_mode="opt_in"), facts(consent="given"), NOW).send


def test_it_samples_the_same_order_the_same_way_every_time() -> None:
    for n in range(50):
        assert len({in_sample(f"ORD-{n}", 30) for _ in range(5)}) == 1
    share = sum(in_sample(f"ORD-{n}", 30) for n in range(10_000)) / 10_000
    assert 0.27 < share < 0.33


def test_it_sends_the_asked_for_later_email_despite_cooldown_and_cap() -> None:
    later = facts(
        is_later=True,
        last_invited_at=NOW - timedelta(days=14),
        sent_that_day=10,
        due_at=NOW,
    )
    assert decide(PolicyRules(daily_send_cap=10, sample_percent=0), later, NOW).send
