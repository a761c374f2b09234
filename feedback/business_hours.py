"""Business hours: when a first-response target falls. Pure: no I/O, no clock.

Hours are counted on the shop's wall clock (business days, opening and closing times in its
time zone) and measured as real elapsed time, so a weekend or a change to or from summer
time moves the due time exactly as a person in the shop would count it.
"""

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A target of up to eight weeks of business hours on one working day a week ends within
# this many calendar days; the bound only guards against a loop that never ends.
MAX_DAYS = 8 * 7 * 24 + 7


def add_business_hours(
    start: datetime,
    hours: float,
    *,
    opens: time,
    closes: time,
    days: Collection[int],
    zone: ZoneInfo,
) -> datetime:
    """The moment `hours` of business time after `start` (aware), in UTC.

    days: ISO weekday numbers (1 Monday ... 7 Sunday) the shop works; opens < closes.
    """
    if not days or opens >= closes:
        raise ValueError("business hours need at least one day, and opening before closing")
    remaining = timedelta(hours=hours)
    now = start.astimezone(UTC)
    day = start.astimezone(zone).date()
    for _ in range(MAX_DAYS):
        if day.isoweekday() in days:
            opening = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
            closing = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
            begin = max(opening, now)
            if begin < closing:
                if begin + remaining <= closing:
                    return begin + remaining
                remaining -= closing - begin
        day += timedelta(days=1)
    raise ValueError("the target does not end within the bound")


def response_due_at(asked_at: datetime, policy: object, zone: ZoneInfo) -> datetime:
    """When a contact request made at `asked_at` should have its first response, by the
    policy's target and business hours."""
    return add_business_hours(
        asked_at,
        policy.response_target_hours,
        opens=policy.business_hours_start,
        closes=policy.business_hours_end,
        days=set(policy.business_days),
        zone=zone,
    )
