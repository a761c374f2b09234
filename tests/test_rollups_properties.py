"""Every dashboard figure read from the rollups equals the same figure computed from the
raw rows (tests/dashboard_oracle.py), whatever happened to the data: random histories of
deliveries, sends (some refused), answers (some long after the send), edits, "no thanks",
"ask me later", "stop all" and back, erasures and follow-ups resolved and reopened, at
moments on both sides of midnight and of a daylight-saving change, in UTC and in Madrid.

Everything is written through the services, as in production; runs on PostgreSQL and on
SQLite (whichever DATABASE_URL names).
"""

import contextlib
import smtplib
from datetime import UTC, date, datetime, time, timedelta

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from feedback.models import Customer, FollowUp, Invitation, InvitationPolicy, Order, OrderItem
from feedback.selectors import dashboard
from feedback.services import (
    AnswerRefused,
    ControlRefused,
    customer_resume_invitations,
    customer_stop_invitations,
    invitation_decline,
    invitation_send_batch,
    invitation_snooze,
    invitations_schedule,
    response_submit,
)
from feedback.services.contacts import followup_reopen, followup_resolve
from feedback.services.privacy import customer_erase
from feedback.services.rollups import rollups_reconcile
from tests.dashboard_oracle import raw_figures

# Saturday 28 March 2026: Madrid moves its clocks forward in the night to Sunday 29.
BASE = date(2026, 3, 20)
DAYS = 20
# Minutes of the day (UTC) near midnight in UTC and in Madrid (22:00/23:00 UTC), and noon.
MINUTES = [0, 1, 21 * 60 + 59, 22 * 60, 22 * 60 + 1, 22 * 60 + 59, 23 * 60, 23 * 60 + 30, 720]
CHANNELS = ["web", "app"]
SKUS = ["KETTLE", "MUG", "GRINDER"]


def moment(day: int, minute: int) -> datetime:
    return datetime.combine(BASE + timedelta(days=day), time(), tzinfo=UTC) + timedelta(
        minutes=minute
    )


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the recipient for good (a 5xx)."""

    def send_messages(self, messages: list) -> int:
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})


when = st.tuples(st.integers(0, DAYS - 1), st.sampled_from(MINUTES))
later = st.tuples(st.integers(0, 40), st.sampled_from(MINUTES))  # days after the send
order_event = st.one_of(
    st.tuples(
        st.just("answer"),
        later,
        st.integers(1, 5),
        st.one_of(st.none(), st.integers(0, 10)),
        st.booleans(),
    ),
    st.tuples(st.just("decline"), later),
    st.tuples(st.just("snooze"), later),
    st.tuples(st.just("resolve"), later, st.booleans()),
)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple]:
    """Orders delivered, sent (or refused, or not yet), then what their customers and
    staff did; "stop all", "resume" and erasures fall anywhere in between."""
    steps: list[tuple] = []
    for _ in range(draw(st.integers(1, 8))):
        customer = draw(st.integers(0, 2))
        delivered = draw(when)
        skus = draw(st.lists(st.sampled_from(SKUS), max_size=3))  # a repeat lists it twice
        steps.append(("deliver", customer, draw(st.sampled_from(CHANNELS)), skus, delivered))
        send = draw(st.sampled_from(["ok", "ok", "ok", "refused", "none"]))
        sent = (delivered[0] + draw(st.integers(0, 2)), draw(st.sampled_from(MINUTES)))
        if send != "none":
            steps.append(("send", send == "ok", sent))
        for event in draw(st.lists(order_event, max_size=3)):
            kind, (days, minute), *rest = event
            steps.append((kind, (sent[0] + days, minute), *rest))
    for _ in range(draw(st.integers(0, 3))):
        event = draw(
            st.sampled_from(["stop", "resume", "erase"]),
        )
        position = draw(st.integers(0, len(steps)))
        steps.insert(position, (event, draw(st.integers(0, 2)), draw(when)))
    return steps


class RollupsEqualRawRows(TestCase):
    def setUp(self) -> None:
        InvitationPolicy.objects.update_or_create(
            pk=1,
            defaults={
                "delay_after_delivery_days": 0,
                "send_window_start": time(0, 0),
                "send_window_end": time(23, 59),
                "customer_cooldown_days": 0,
                "invitation_valid_days": 60,  # answers can come weeks after the send
                "snooze_choices": [7],
                "nps_enabled": True,
            },
        )
        self.customers = [
            Customer.objects.create(email="ana@example.com", locale="es", time_zone="UTC"),
            Customer.objects.create(email="bo@example.com", locale="en", time_zone="UTC"),
            Customer.objects.create(email="", locale="es", time_zone="UTC"),  # never invited
        ]
        self.orders: list[Order] = []

    def run_step(self, step: tuple) -> None:
        name, *args = step
        if name == "deliver":
            customer, channel, skus, (day, minute) = args
            at = moment(day, minute)
            order = Order.objects.create(
                external_id=f"O-{len(self.orders)}",
                customer=self.customers[customer],
                placed_at=at - timedelta(days=1),
                delivered_at=at,
                channel=channel,
            )
            for sku in skus:
                OrderItem.objects.create(order=order, sku=sku, name=f"{sku.title()} v1")
            self.orders.append(order)
            invitations_schedule(orders=[order], now=at)
            return
        if name in ("stop", "resume", "erase"):
            customer, when = self.customers[args[0]], moment(*args[1])
            if name == "stop":
                customer_stop_invitations(customer=customer, now=when)
            elif name == "resume":
                customer_resume_invitations(customer=customer, now=when)
            else:
                customer_erase(customer=customer, performed_by=None)
            return
        invitation = Invitation.objects.get(order=self.orders[-1])
        # Refused as a customer would be (answered already, expired...): nothing changes.
        with contextlib.suppress(AnswerRefused, ControlRefused):
            self.order_step(invitation, name, args)

    def order_step(self, invitation: Invitation, name: str, args: list) -> None:
        if name == "send":
            ok, when = args
            backend = EmailBackend() if ok else RefusingBackend()
            invitation_send_batch(
                invitation_ids=[invitation.pk], now=moment(*when), connection=backend
            )
            return
        at = moment(*args[0])
        if name == "answer":
            rating, nps, contact = args[1:]
            response_submit(
                invitation=invitation, rating=rating, nps=nps, contact_requested=contact, now=at
            )
        elif name == "decline":
            invitation_decline(invitation=invitation, now=at)
        elif name == "snooze":
            invitation_snooze(invitation=invitation, days=7, now=at)
        elif name == "resolve":
            follow_up = FollowUp.objects.filter(response__invitation=invitation).first()
            if follow_up and args[1]:
                followup_resolve(follow_up=follow_up, by=None, now=at)
            elif follow_up:
                followup_reopen(follow_up=follow_up, by=None)

    def assert_same_figures(self, filters: dashboard.Filters) -> None:
        figures = dashboard.dashboard_figures(filters)
        raw = raw_figures(filters)
        shown = {name: getattr(figures, name) for name in raw if hasattr(figures, name)}
        shown["weeks"] = [
            (w.start, w.first, w.last, w.sent, w.response_rate, w.ratings, w.csat)
            for w in figures.weeks
        ]
        shown["products"] = [(p.sku, p.n, p.csat, p.average) for p in figures.products]
        follow_ups = figures.followups
        shown["followups"] = (
            follow_ups.open,
            follow_ups.resolved,
            follow_ups.median_time_to_resolve,
        )
        assert shown == raw, (filters, shown, raw)
        first, last = dashboard.period_days(filters.start, filters.end)
        before = dashboard.Filters(
            midnight(figures.previous_first),
            midnight(figures.previous_last + timedelta(days=1)),
            filters.channel,
            filters.sku,
        )
        assert figures.previous_last == first - timedelta(days=1)
        assert figures.previous_last - figures.previous_first == last - first
        raw_before = raw_figures(before)
        raw_before["followups_asked"] = raw_before["followups"][0] + raw_before["followups"][1]
        for name, change in figures.previous.items():
            assert change.previous == raw_before[name], (name, change, raw_before[name])

    @given(histories(), st.sampled_from(["UTC", "Europe/Madrid"]))
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def test_it_shows_the_raw_rows_figures_from_the_rollups(
        self, steps: list[tuple], zone: str
    ) -> None:
        with override_settings(TIME_ZONE=zone), timezone.override(zone):
            for one in steps:
                self.run_step(one)
            assert (
                rollups_reconcile(first=BASE - timedelta(days=5), last=BASE + timedelta(90)) == []
            )
            for first, days in ((0, DAYS + 50), (8, 1), (9, 7)):
                start = midnight(BASE + timedelta(days=first))
                end = midnight(BASE + timedelta(days=first + days))
                for channel, sku in (("", ""), ("web", ""), ("", "KETTLE"), ("app", "MUG")):
                    self.assert_same_figures(dashboard.Filters(start, end, channel, sku))


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
