"""The demo's story: half a year of a coffee shop's orders and what came of them, told
through the product's own code with a fixed clock.

The shop's data (customers, orders, their items) is written plainly, as an import would
write it. Everything after is an event at its own simulated moment, handed to the code
production runs, with `now=` that moment:

- a delivery schedules its invitation (invitation_schedule, reading the live policy, which
  ops change through policy_save for a month-long sampling trial);
- the sweep expires, wakes and sends what is due; sending moves states with the state
  machine's transition() and records EmailLog rows, but asks no mail server;
- customers answer, decline, snooze and stop through the customer services, and staff
  assign, note and resolve follow-ups through theirs.

Only the created_at stamps that auto_now_add sets to today are backdated afterwards.
Deterministic (a fixed seed; events in time order) and told once: a second run finds the
story's first order and writes nothing.
"""

import heapq
import itertools
import random
import smtplib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from feedback.models import (
    Customer,
    EmailLog,
    FollowUp,
    FollowUpNote,
    Invitation,
    InvitationPolicy,
    Order,
    OrderItem,
    PolicyVersion,
    Response,
    Review,
)
from feedback.rules import PolicyRules, customer_zone, in_window
from feedback.services import (
    BatchResult,
    customer_stop_invitations,
    invitation_decline,
    invitation_schedule,
    invitation_send_batch,
    invitation_snooze,
    invitations_sweep,
    live_rules,
    policy_save,
    response_submit,
)
from feedback.services.alerts import product_alerts_evaluate
from feedback.services.contacts import followup_add_note, followup_assign, followup_resolve
from feedback.services.reviews import review_publish
from feedback.services.rollups import rollups_reconcile
from feedback.states import State

Kind = EmailLog.Kind
Outcome = EmailLog.Outcome

SEED = 2026
# Two thousand orders over 26 weeks: enough for weekly trends, and for every product to
# pass the dashboard's small-sample line. Each order's story runs through the services
# (about 15 queries), so more orders make `make run` slower to start.
CUSTOMERS = 1200
ORDERS = 2000
# The last customers are kept for the live orders: with no history, no cooldown stops them.
LIVE_ORDERS = 5
HISTORY_DAYS = 178
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-feedback"  # noqa: S105 - a published demo login, refused outside DEBUG
FIRST_ORDER = "DEMO-00001"
STORE = "store-madrid"
# For a month some time ago ops tried inviting 70% of orders: a few sampled_out rows.
TRIAL_DAYS_AGO = (150, 120)
TRIAL_SAMPLE_PERCENT = 70


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    weight: int  # how often it is bought, relative to the others
    max_quantity: int = 1


CATALOGUE = (
    Product("BNS-ETH-250", "Ethiopia Yirgacheffe beans 250 g", 9, 3),
    Product("BNS-COL-250", "Colombia Huila beans 250 g", 8, 3),
    Product("FLT-V60-100", "Paper filters, pack of 100", 6, 2),
    Product("GRD-BURR-01", "Burr coffee grinder", 4),
    Product("KTL-GLS-17", "Glass kettle 1.7 L", 8),
    Product("KTL-GNK-10", "Gooseneck kettle 1.0 L", 3),
    Product("PRS-FRN-350", "French press 350 ml", 3),
    Product("DRP-CER-02", "Ceramic pour-over dripper", 3),
    Product("SCL-TMR-01", "Coffee scale with timer", 2),
    Product("MUG-STN-2", "Stoneware mugs, set of 2", 3),
    Product("FRT-MLK-01", "Milk frother", 2),
)
# The kettle whose lid leaks: a new batch of lids arrived LEAK_DAYS ago, and since then its
# answers are much worse and its comments talk about leaks. The per-product view, the
# topics panel and the product alert should all make it stand out; the gooseneck kettle,
# with the same noise and no leak, should not.
WEAK_SKU = "KTL-GLS-17"
STABLE_SKU = "KTL-GNK-10"
LEAK_DAYS = 30

# Compact on purpose: one name per line would make these lists 70 lines long.
# fmt: off
FIRST_NAMES = {
    "en": [
        "Olivia", "James", "Emily", "Oliver", "Sophie", "Harry", "Grace", "Jack", "Chloe",
        "George", "Amelia", "Noah", "Hannah", "Liam", "Ella", "Thomas", "Mia", "Daniel", "Lucy",
        "Samuel"
    ],
    "es": [
        "Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Valeria", "Daniel", "Carmen",
        "Javier", "Paula", "Diego", "Elena", "Álvaro", "Marta", "Alejandro", "Inés", "Sergio",
        "Laura", "Andrés"
    ],
}
LAST_NAMES = {
    "en": [
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
        "Walker", "Wright", "Thompson", "Roberts", "Hughes", "Carter", "Miller"
    ],
    "es": [
        "García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Rodríguez",
        "Díaz", "Moreno", "Jiménez", "Ruiz", "Hernández", "Muñoz", "Álvarez", "Romero"
    ],
}
# fmt: on
ZONES = {
    "en": (("Europe/London", "America/New_York"), (3, 2)),
    "es": (("Europe/Madrid", "America/Mexico_City"), (3, 2)),
}
CONSENTS = (("unknown", "given", "not_given"), (76, 19, 5))

# Rating weights for 1..5 stars. Five stars means excellence, so a fine order is often a 4.
USUAL = (2, 3, 10, 37, 48)
RECENT = (1, 2, 8, 35, 54)  # the last weeks: the new courier settled in
COURIER_DIP = (8, 12, 24, 34, 22)  # about two months ago a new courier delivered late
WEAK_PRODUCT = (24, 28, 26, 16, 6)  # the leaking kettle
COMMENT_CHANCE = {"weak": 0.85}
MODERATION_DELAY = timedelta(days=4)
CONTACT_CHANCE = {1: 0.6, 2: 0.5, 3: 0.2, 4: 0.04, 5: 0.02}

COMMENTS = {
    ("en", "high"): [
        "Arrived quickly and well packed.",
        "Exactly as described. Thank you!",
        "Lovely quality, I will order again.",
        "The beans were fresh and the coffee tastes great.",
        "Easy ordering and fast delivery.",
        "Very happy with my order.",
    ],
    ("en", "mid"): [
        "Good product, but delivery took longer than expected.",
        "Fine overall, nothing special.",
        "Does the job. Far too much packaging, though.",
        "Okay, but the colour is different from the photo.",
    ],
    ("en", "low"): [
        "It arrived damaged.",
        "Not what I expected from the description.",
        "Part of the order was missing.",
        "Wrong item in the box.",
    ],
    ("en", "weak"): [
        "The kettle lid leaks when I pour.",
        "New kettle, and the lid leaks already.",
        "The kettle is leaking from the lid onto the counter.",
        "Kettle works, but the lid leaks.",
    ],
    ("en", "courier"): [
        "The parcel arrived four days late.",
        "The courier left the parcel outside in the rain.",
        "Tracking said delivered, but it came two days later.",
    ],
    ("es", "high"): [
        "Llegó rápido y bien embalado.",
        "Tal como se describe. ¡Gracias!",
        "Muy buena calidad, volveré a comprar.",
        "El café estaba fresquísimo, buenísimo.",
        "Pedido fácil y entrega rápida.",
        "Todo perfecto, muy contentos con el pedido.",
    ],
    ("es", "mid"): [
        "Buen producto, pero la entrega tardó más de lo previsto.",
        "Bien en general, sin más.",
        "Cumple. Demasiado embalaje, eso sí.",
        "Correcto, aunque el color no es como en la foto.",
    ],
    ("es", "low"): [
        "Llegó dañado.",
        "No es lo que esperaba por la descripción.",
        "Faltaba parte del pedido.",
        "En la caja venía otro artículo.",
    ],
    ("es", "weak"): [
        "La tapa del hervidor tiene fugas al servir.",
        "Hervidor nuevo y ya tiene una fuga en la tapa.",
        "El hervidor funciona, pero la tapa gotea.",
    ],
    ("es", "courier"): [
        "El paquete llegó con cuatro días de retraso.",
        "El repartidor dejó el paquete fuera, bajo la lluvia.",
        "El seguimiento decía entregado, pero llegó dos días después.",
    ],
}
FOLLOW_UP_NOTES = [
    "Called the customer; a replacement is on its way.",
    "Refund issued and apologised.",
    "Emailed care instructions; the customer is happy now.",
    "Sent a new lid; the customer confirmed it fits.",
]

# A few sends go wrong, as they do: the mail server refuses one, or the line drops mid-send.
REFUSED_CHANCE = 0.004
LOST_CHANCE = 0.002
COUNTED = {
    "customers": Customer,
    "orders": Order,
    "order items": OrderItem,
    "invitations": Invitation,
    "emails": EmailLog,
    "responses": Response,
    "follow-ups": FollowUp,
    "reviews": Review,
}


@dataclass(frozen=True)
class Seeded:
    created: dict[str, int]  # rows per kind; empty when the story was already told
    invitation: Invitation  # one a newcomer can answer, as a customer would


@transaction.atomic
def demo_seed(*, now: datetime) -> Seeded:
    """The demo login, the story up to `now` (once), and an invitation to answer."""
    InvitationPolicy.live()
    user = demo_user_ensure()
    created = demo_history_ensure(user=user, now=now)
    # What beat's periodic check would have found by now: the leaky kettle's incident.
    product_alerts_evaluate(now=now)
    return Seeded(created, demo_invitation(now=now))


def demo_user_ensure() -> AbstractUser:
    user, _created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.email = user.email or "demo@example.com"
    # Set each run: whoever changed it in the admin still gets the documented login back.
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def demo_history_ensure(*, user: AbstractUser, now: datetime) -> dict[str, int]:
    """Tell the story once; it is written in one transaction, so its first order means
    all of it is there."""
    if Order.objects.filter(external_id=FIRST_ORDER).exists():
        return {}
    before = {name: model.objects.count() for name, model in COUNTED.items()}
    rng = random.Random(SEED)
    people = [_plan_customer(rng, n, now) for n in range(1, CUSTOMERS + 1)]
    customers = [customer for customer, _stop in people]
    plans = _plan_orders(rng, customers, now)
    plans += _plan_live_orders(customers[-LIVE_ORDERS:], live_rules(), now, first=len(plans) + 1)
    _save(customers, plans)
    story = Story(rng=rng, user=user, now=now, plans=plans)
    story.tell(stops=[(customer, stop) for customer, stop in people if stop])
    _backdate([plan.order.pk for plan in plans])
    # Part of the history was written in bulk, not through the services: count all of it
    # in the dashboard's rollups, as `reconcile_rollups --repair` would.
    today = timezone.localdate(now, timezone.get_default_timezone())
    rollups_reconcile(
        first=today - timedelta(days=400), last=today + timedelta(days=60), repair=True
    )
    return {name: model.objects.count() - before[name] for name, model in COUNTED.items()}


# Customers


def _plan_customer(rng: random.Random, n: int, now: datetime) -> tuple[Customer, datetime | None]:
    """A customer, and when they will stop all invitations (from an email's footer), if
    they do."""
    locale = "es" if rng.random() < 0.4 else "en"
    first, last = rng.choice(FIRST_NAMES[locale]), rng.choice(LAST_NAMES[locale])
    zones, weights = ZONES[locale]
    customer = Customer(
        email=f"{_ascii(first)}.{_ascii(last)}{n}@example.com",
        name=f"{first} {last}",
        locale=locale,
        time_zone=rng.choices(zones, weights)[0],
        consent=rng.choices(*CONSENTS)[0],
    )
    stop = _stopped_at(rng, now)
    if n > CUSTOMERS - LIVE_ORDERS:
        customer.consent, stop = "unknown", None
    return customer, stop


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _stopped_at(rng: random.Random, now: datetime) -> datetime | None:
    if rng.random() >= 0.03:
        return None
    return now - timedelta(days=rng.uniform(5, HISTORY_DAYS))


# Orders


@dataclass
class OrderPlan:
    order: Order
    items: list[OrderItem]


def _plan_orders(rng: random.Random, customers: list[Customer], now: datetime) -> list[OrderPlan]:
    plans = [
        _plan_order(rng, customers[index], days_ago, now)
        for index, days_ago in _order_days(rng, len(customers) - LIVE_ORDERS)
    ]
    # Numbered in the order they were placed, so DEMO-00001 is the oldest.
    plans.sort(key=lambda plan: plan.order.placed_at)
    for number, plan in enumerate(plans, start=1):
        plan.order.external_id = f"DEMO-{number:05d}"
    return plans


def _order_days(rng: random.Random, pool: int) -> list[tuple[int, float]]:
    """(customer index, days ago delivered) for each order: one per customer, then repeats.

    A negative day is a delivery still to come: the order is placed but not yet delivered.
    """
    firsts = [(index, _first_day(rng)) for index in range(pool)]
    # Without replacement: a third order would mostly land inside a cooldown.
    repeats = [
        (index, _repeat_day(rng, first)) for index, first in rng.sample(firsts, ORDERS - pool)
    ]
    return firsts + repeats


def _first_day(rng: random.Random) -> float:
    """The shop is growing: orders come about three times as often now as half a year ago."""
    if rng.random() < 0.5:
        return rng.uniform(-3, HISTORY_DAYS)
    return -3 + (HISTORY_DAYS + 3) * (1 - rng.random() ** 0.5)


def _repeat_day(rng: random.Random, first: float) -> float:
    """Most repeat orders come more than a cooldown (90 days) apart; a fifth fall inside one."""
    if rng.random() < 0.2:
        gap = rng.uniform(6, 80)
        return first - gap if first - gap >= -3 else first + gap
    if first >= 92:
        return first - rng.uniform(95, first + 3)
    # Earlier than the first order; a few land just past the history's start.
    return first + rng.uniform(95, max(100, HISTORY_DAYS - first))


def _plan_order(
    rng: random.Random, customer: Customer, days_ago: float, now: datetime
) -> OrderPlan:
    channel = _channel(rng, customer)
    delivered = _daytime(rng, now - timedelta(days=days_ago), customer.time_zone)
    lead = timedelta(days=rng.randint(1, 4), hours=rng.randint(1, 10))
    placed = min(delivered - lead, now - timedelta(minutes=rng.randint(5, 600)))
    if channel == STORE:
        # Bought at the till: placed and handed over at once.
        placed = delivered = min(delivered, now - timedelta(hours=1))
    order = Order(
        customer=customer,
        placed_at=placed,
        delivered_at=delivered if delivered <= now else None,
        channel=channel,
    )
    return OrderPlan(order=order, items=_plan_items(rng, order))


def _channel(rng: random.Random, customer: Customer) -> str:
    if customer.time_zone == "Europe/Madrid" and rng.random() < 0.35:
        return STORE
    return rng.choices(("web", "app"), (65, 35))[0]


def _daytime(rng: random.Random, moment: datetime, zone: str) -> datetime:
    """The same day in the customer's zone, during working hours: deliveries happen by day."""
    tz = customer_zone(zone)
    day = moment.astimezone(tz).date()
    minutes = rng.randint(0, 7 * 60 + 30)
    return datetime.combine(day, time(10, 0), tzinfo=tz) + timedelta(minutes=minutes)


def _plan_items(rng: random.Random, order: Order) -> list[OrderItem]:
    count = rng.choices((1, 2, 3), (55, 30, 15))[0]
    weights = [product.weight for product in CATALOGUE]
    # A list, not a set: set order varies between processes and would break the fixed seed.
    picked: list[Product] = []
    while len(picked) < count:
        product = rng.choices(CATALOGUE, weights)[0]
        if product not in picked:
            picked.append(product)
    return [
        OrderItem(order=order, sku=p.sku, name=p.name, quantity=rng.randint(1, p.max_quantity))
        for p in picked
    ]


def _plan_live_orders(
    customers: list[Customer], rules: PolicyRules, now: datetime, *, first: int
) -> list[OrderPlan]:
    """Invitations due in the next minutes, so the running worker and beat send something."""
    plans = []
    for offset, customer in enumerate(customers):
        # Somewhere it is daytime now, so the send window does not hold them till morning.
        customer.time_zone = _daytime_zone(now, rules)
        # Delivered a delay ago, give or take: due 30 seconds apart from now on.
        delay = timedelta(days=rules.delay_after_delivery_days)
        delivered = now - delay + timedelta(seconds=30 * (offset + 1))
        order = Order(
            external_id=f"DEMO-{first + offset:05d}",
            customer=customer,
            placed_at=delivered - timedelta(days=2),
            delivered_at=delivered,
            channel="web",
        )
        product = CATALOGUE[offset % len(CATALOGUE)]
        items = [OrderItem(order=order, sku=product.sku, name=product.name, quantity=1)]
        plans.append(OrderPlan(order, items))
    return plans


# Offsets from UTC-10 to UTC+13 a few hours apart: one of them is always in the window.
DAYTIME_ZONES = (
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Madrid",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Pacific/Auckland",
)


def _daytime_zone(now: datetime, rules: PolicyRules) -> str:
    """A zone whose send window is open now and for the next hour."""

    def inside(zone: str) -> bool:
        local = now.astimezone(customer_zone(zone))
        return in_window(rules, local) and in_window(rules, local + timedelta(hours=1))

    return next((zone for zone in DAYTIME_ZONES if inside(zone)), "UTC")


def _save(customers: list[Customer], plans: list[OrderPlan]) -> None:
    """The shop's own data, as an import writes it."""
    Customer.objects.bulk_create(customers)
    Order.objects.bulk_create([plan.order for plan in plans])
    OrderItem.objects.bulk_create([item for plan in plans for item in plan.items])


# The story


class Story:
    """The clock and the people in it: events run in time order, each at its own moment,
    and each may plan later ones. What would happen after `now` has not happened yet."""

    def __init__(
        self, *, rng: random.Random, user: AbstractUser, now: datetime, plans: list[OrderPlan]
    ) -> None:
        self.rng, self.user, self.now = rng, user, now
        self.plans = {plan.order.pk: plan for plan in plans}
        self.events: list[tuple[datetime, int, Callable[..., None], tuple]] = []
        self.planned = itertools.count()  # events at the same moment run as planned

    def at(self, moment: datetime, action: Callable[..., None], *args: object) -> None:
        if moment <= self.now:
            heapq.heappush(self.events, (moment, next(self.planned), action, args))

    def tell(self, *, stops: list[tuple[Customer, datetime]]) -> None:
        usual = InvitationPolicy.live().sample_percent
        trial_start, trial_end = (self.now - timedelta(days=days) for days in TRIAL_DAYS_AGO)
        self.at(trial_start, self.sample, TRIAL_SAMPLE_PERCENT)
        self.at(trial_end, self.sample, usual)
        for customer, moment in stops:
            self.at(moment, self.stop, customer)
        for plan in self.plans.values():
            if plan.order.delivered_at is not None:
                self.at(plan.order.delivered_at, self.deliver, plan.order)
        while self.events:
            moment, _planned, action, args = heapq.heappop(self.events)
            action(moment, *args)
        self.sweep(self.now)  # the last sweep: what ran out meanwhile expires

    # Ops and staff

    def sample(self, moment: datetime, percent: int) -> None:
        policy = InvitationPolicy.live()
        policy.sample_percent = percent
        version = policy_save(policy=policy, changed_by=self.user)
        if version is not None:
            # Saved today by the wall clock; the story made the change back then.
            PolicyVersion.objects.filter(pk=version.pk).update(changed_at=moment)
            InvitationPolicy.objects.filter(pk=policy.pk).update(updated_at=moment)

    def moderate(self, moment: datetime, review: Review) -> None:
        """Every review is published, low ratings like high ones: the demo's customers
        wrote nothing that one of the reasons to reject would cover."""
        review_publish(review=review, moderator=self.user, revision=review.revision, now=moment)

    def resolve(self, moment: datetime, invitation: Invitation) -> None:
        follow_up = FollowUp.objects.get(response__invitation=invitation)
        followup_assign(follow_up=follow_up, assignee=self.user, by=self.user)
        note = self.rng.choice(FOLLOW_UP_NOTES)
        followup_add_note(follow_up=follow_up, author=self.user, text=note)
        followup_resolve(follow_up=follow_up, by=self.user, now=moment)

    # The pipeline

    def deliver(self, moment: datetime, order: Order) -> None:
        order.customer.refresh_from_db()  # the opt-out and cooldown as they stand now
        invitation = invitation_schedule(order=order, now=moment)
        if invitation.state == State.SCHEDULED:
            self.at(invitation.due_at, self.sweep)

    def sweep(self, moment: datetime) -> None:
        """Beat's sweep, run when something falls due, with the story's mail server."""
        invitations_sweep(send=lambda ids: self.send(moment, ids), now=moment)
        # Handed over now, not today by the wall clock.
        EmailLog.objects.filter(created_at__gt=moment).update(created_at=moment)

    def send(self, moment: datetime, ids: list[int]) -> BatchResult:
        """The sender's batch, as production sends it, at the story's moment; then the
        customers whose email went out read it."""
        result = invitation_send_batch(
            invitation_ids=ids, now=moment, connection=DemoMailServer(self.rng)
        )
        sent = Invitation.objects.filter(pk__in=ids, state=State.SENT, sent_at=moment)
        for invitation in sent.select_related("customer").order_by("pk"):
            if invitation.snooze_count:
                self.reads_later_email(moment, invitation)
            else:
                self.reads_email(moment, invitation)
        return result

    # The customers

    def reads_email(self, moment: datetime, invitation: Invitation) -> None:
        """Within four days: an answer, a "no thanks", a "later", a "stop all", or (most
        often) nothing."""
        roll = self.rng.random()
        then = moment + timedelta(hours=self.rng.uniform(1, 96))
        if roll < 0.40:
            self.at(then, self.respond, invitation)
        elif roll < 0.47:
            self.at(then, self.decline, invitation)
        elif roll < 0.52:
            self.at(then, self.snooze, invitation)
        elif roll < 0.535:
            self.at(then, self.stop, invitation.customer)

    def reads_later_email(self, moment: datetime, invitation: Invitation) -> None:
        if self.rng.random() < 0.5:
            self.at(moment + timedelta(hours=self.rng.uniform(1, 48)), self.respond, invitation)

    def respond(self, moment: datetime, invitation: Invitation) -> None:
        plan = self.plans[invitation.order_id]
        rating = self.rng.choices(range(1, 6), _rating_weights(plan, self.now))[0]
        # Half of the customers write a comment; most of those with a leaking kettle do.
        writes = COMMENT_CHANCE.get(_topic(plan, self.now), 0.5)
        comment = _comment(self.rng, plan, rating, self.now) if self.rng.random() < writes else ""
        contact = self.rng.random() < CONTACT_CHANCE[rating]
        answer = response_submit(
            invitation=invitation,
            rating=rating,
            comment=comment,
            nps=_nps(self.rng, rating) if self.rng.random() < 0.45 else None,
            contact_requested=contact,
            quote_allowed=bool(comment) and self.rng.random() < 0.3,
            now=moment,
        )
        review = Review.objects.filter(response=answer).first()
        if review is not None:
            # A moderator reads it a few days later; the last days' wait in the queue.
            self.at(moment + MODERATION_DELAY, self.moderate, review)
        if contact:
            resolved = moment + timedelta(days=self.rng.uniform(0.5, 5))
            # Recent requests are still open: the staff queue should have work in it.
            if resolved <= self.now - timedelta(days=10) and self.rng.random() >= 0.4:
                self.at(resolved, self.resolve, invitation)

    def decline(self, moment: datetime, invitation: Invitation) -> None:
        invitation_decline(invitation=invitation, now=moment)

    def snooze(self, moment: datetime, invitation: Invitation) -> None:
        days = self.rng.choice(InvitationPolicy.live().snooze_choices)
        invitation = invitation_snooze(invitation=invitation, days=days, now=moment)
        self.at(invitation.due_at, self.sweep)

    def stop(self, moment: datetime, customer: Customer) -> None:
        customer_stop_invitations(customer=customer, now=moment)


def _topic(plan: OrderPlan, now: datetime) -> str:
    """What the order's experience was about: the leaky kettle (lately), the late courier,
    or neither."""
    days_ago = (now - plan.order.delivered_at).days
    if days_ago <= LEAK_DAYS and any(item.sku == WEAK_SKU for item in plan.items):
        return "weak"
    if plan.order.channel != STORE and 50 <= days_ago <= 75:
        return "courier"
    return "recent" if days_ago <= 40 else "usual"


def _rating_weights(plan: OrderPlan, now: datetime) -> tuple[int, ...]:
    topic = _topic(plan, now)
    return {"weak": WEAK_PRODUCT, "courier": COURIER_DIP, "recent": RECENT}.get(topic, USUAL)


def _comment(rng: random.Random, plan: OrderPlan, rating: int, now: datetime) -> str:
    topic = _topic(plan, now)
    if rating <= 3 and topic in ("weak", "courier"):
        band = topic
    else:
        band = "high" if rating >= 4 else "mid" if rating == 3 else "low"
    return rng.choice(COMMENTS[(plan.order.customer.locale, band)])


def _nps(rng: random.Random, rating: int) -> int:
    low, high = {1: (0, 3), 2: (2, 5), 3: (5, 7), 4: (7, 9), 5: (8, 10)}[rating]
    return rng.randint(low, high)


# The story's mail server


class DemoMailServer(BaseEmailBackend):
    """Takes every message and keeps none, except that now and then it refuses one for
    good or loses the line after the data, as real mail servers do."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            roll = self.rng.random()
            if roll < REFUSED_CHANCE:
                reply = (550, b"5.1.1 mailbox unavailable")
                raise smtplib.SMTPRecipientsRefused(dict.fromkeys(message.to, reply))
            if roll < REFUSED_CHANCE + LOST_CHANCE:
                raise smtplib.SMTPServerDisconnected("connection lost after DATA")
        return len(email_messages)


def _backdate(order_ids: list[int]) -> None:
    """auto_now_add stamps every row with today; the story's rows carry their own dates."""
    Order.objects.filter(pk__in=order_ids).update(created_at=F("placed_at"))
    # An invitation is scheduled when its order is delivered.
    delivered = Order.objects.filter(pk=OuterRef("order_id")).values("delivered_at")
    Invitation.objects.filter(order__in=order_ids).update(created_at=Subquery(delivered))
    submitted = Response.objects.filter(pk=OuterRef("response_id")).values("submitted_at")
    FollowUp.objects.filter(response__invitation__order__in=order_ids).update(
        created_at=Subquery(submitted)
    )
    # Staff assign, note and resolve in one sitting.
    resolved = FollowUp.objects.filter(pk=OuterRef("follow_up_id")).values("resolved_at")
    FollowUpNote.objects.filter(follow_up__response__invitation__order__in=order_ids).update(
        created_at=Subquery(resolved)
    )
    first_order = Order.objects.filter(customer=OuterRef("pk")).order_by("placed_at")
    Customer.objects.filter(orders__in=order_ids).update(
        created_at=Coalesce(Subquery(first_order.values("placed_at")[:1]), F("created_at"))
    )


# The link printed for a newcomer


def demo_invitation(*, now: datetime) -> Invitation:
    """A sent, unanswered, unexpired invitation, so the printed link opens a form."""
    open_invitations = Invitation.objects.filter(state=State.SENT, expires_at__gt=now)
    invitation = open_invitations.order_by("order__external_id").first()
    return invitation or _visitor_invitation(now)


def _visitor_invitation(now: datetime) -> Invitation:
    """A newcomer answered every open one: a new visitor's order, delivered a delay ago and
    sent now. New, so no cooldown holds it back; where it is daytime, so the window does not.
    A live policy that forbids it (switched off, sampling) is obeyed: it comes back suppressed.
    """
    rules = live_rules()
    number = Order.objects.filter(external_id__startswith="DEMO-X").count() + 1
    customer, _created = Customer.objects.get_or_create(
        email=f"demo.visitor{number}@example.com",
        defaults={
            "name": "Demo Visitor",
            "time_zone": _daytime_zone(now, rules),
            "consent": Customer.Consent.GIVEN,
        },
    )
    delivered = now - timedelta(days=rules.delay_after_delivery_days)
    order = Order.objects.create(
        external_id=f"DEMO-X{number:04d}",
        customer=customer,
        placed_at=delivered - timedelta(days=2),
        delivered_at=delivered,
        channel="web",
    )
    product = CATALOGUE[3]
    OrderItem.objects.create(order=order, sku=product.sku, name=product.name, quantity=1)
    invitation = invitation_schedule(order=order, now=now)
    if invitation.state == State.SCHEDULED and invitation.due_at <= now:
        accepting = get_connection("django.core.mail.backends.locmem.EmailBackend")
        invitation_send_batch(invitation_ids=[invitation.pk], now=now, connection=accepting)
        invitation.refresh_from_db()
    return invitation
