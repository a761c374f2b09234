"""Demo data for `make run`: customers, orders and a believable invitation history.

The history is replayed through the pipeline's own pure rules (feedback.rules.decide), so due
times and suppressions are ones the real system would have produced. Idempotent: fixed external
ids and emails, a fixed random seed, and only rows that are missing get created.
"""

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from feedback import emails, tokens
from feedback.models import (
    Customer,
    EmailLog,
    FollowUp,
    Invitation,
    InvitationPolicy,
    Order,
    OrderItem,
    PolicyVersion,
    Response,
)
from feedback.rules import SEND, Decision, Facts, PolicyRules, customer_zone, decide
from feedback.services.policy import policy_snapshot

State = Invitation.State

SEED = 2026
# A few thousand orders over 26 weeks: enough for weekly trends and per-product figures.
CUSTOMERS = 1800
ORDERS = 3000
# The last customers are kept for the live orders: with no history, no cooldown stops them.
LIVE_ORDERS = 5
HISTORY_DAYS = 178
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-feedback"  # noqa: S105 - a published demo login, refused outside DEBUG
STORE = "store-madrid"
RULES = PolicyRules()
RULES_SNOOZE_DAYS = (7, 14, 30)


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
    Product("KTL-GLS-17", "Glass kettle 1.7 L", 6),
    Product("KTL-GNK-10", "Gooseneck kettle 1.0 L", 3),
    Product("PRS-FRN-350", "French press 350 ml", 3),
    Product("DRP-CER-02", "Ceramic pour-over dripper", 3),
    Product("SCL-TMR-01", "Coffee scale with timer", 2),
    Product("MUG-STN-2", "Stoneware mugs, set of 2", 3),
    Product("FRT-MLK-01", "Milk frother", 2),
)
# The kettle whose lid leaks: the per-product view should make it stand out.
WEAK_SKU = "KTL-GLS-17"

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
WEAK_PRODUCT = (16, 22, 28, 23, 11)
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
        "Kettle works, but the lid doesn't close properly.",
        "Water drips from the kettle's spout onto the counter.",
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
        "La tapa del hervidor gotea al servir.",
        "El hervidor funciona, pero la tapa no cierra bien.",
        "Gotea agua por el pico del hervidor.",
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


@dataclass
class Story:
    """One order and what happened after it, built in memory before anything is saved."""

    order: Order
    items: list[OrderItem]
    invitation: Invitation | None = None
    email: EmailLog | None = None
    later_email: EmailLog | None = None
    response: Response | None = None
    follow_up: FollowUp | None = None


class Command(BaseCommand):
    help = "Create demo customers, orders and invitation history (idempotent), and a demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo login's password is public.",
        )

    def handle(self, *args: object, force: bool, **options: object) -> None:
        # The demo superuser has a published password: never create it on a live site by accident.
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates a superuser with a public password; set DEBUG=1")
        with transaction.atomic():
            InvitationPolicy.live()
            user = demo_user_ensure()
            created = demo_data_ensure(user=user, now=timezone.now())
            invitation = demo_invitation(now=timezone.now())
        self.print_summary(created, invitation)

    def print_summary(self, created: dict[str, int], invitation: Invitation) -> None:
        made = ", ".join(f"{count} {name}" for name, count in created.items() if count)
        self.stdout.write(f"Demo data: {'created ' + made if made else 'already there'}.")
        base = settings.PORTAL_BASE_URL
        self.stdout.write(f"Staff login:  {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Dashboard:    {base}{reverse('feedback:dashboard')}")
        self.stdout.write(f"Admin:        {base}/admin/")
        self.stdout.write(f"Outbox:       {base}{reverse('feedback:outbox')}")
        self.stdout.write(f"Health:       {base}{reverse('healthz')}")
        self.stdout.write(f"Answer an invitation as a customer (order {invitation.order}):")
        self.stdout.write(f"  {emails.invitation_link(invitation)}")


def demo_user_ensure() -> AbstractUser:
    user, _created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.email = user.email or "demo@example.com"
    # Set each run: whoever changed it in the admin still gets the documented login back.
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def demo_data_ensure(*, user: AbstractUser, now: datetime) -> dict[str, int]:
    rng = random.Random(SEED)
    customers = [_plan_customer(rng, n, now) for n in range(1, CUSTOMERS + 1)]
    stories = _plan_orders(rng, customers, now)
    _replay(rng, stories, now)
    stories += _plan_live_orders(customers[-LIVE_ORDERS:], now, first=len(stories) + 1)
    _remember_sampling_trial(user, now)
    return _save(customers, stories, user)


def _remember_sampling_trial(user: AbstractUser, now: datetime) -> None:
    """The month ops invited 70% of orders (see _rules_at), as the policy's audit history."""
    if PolicyVersion.objects.exists():
        return  # a real history, or this demo's: keep it
    policy = InvitationPolicy.live()
    snapshot = policy_snapshot(policy)
    usual = snapshot["sample_percent"]
    for days_ago, before, after in ((150, usual, 70), (120, 70, usual)):
        version = PolicyVersion.objects.create(
            policy=policy,
            changed_by=user,
            changes={"sample_percent": {"before": before, "after": after}},
            snapshot={**snapshot, "sample_percent": after},
        )
        # changed_at is set on creation; the story happened months ago.
        PolicyVersion.objects.filter(pk=version.pk).update(
            changed_at=now - timedelta(days=days_ago)
        )
    # The policy reads as last changed then, as its history says.
    InvitationPolicy.objects.filter(pk=policy.pk).update(updated_at=now - timedelta(days=120))


# Customers


def _plan_customer(rng: random.Random, n: int, now: datetime) -> Customer:
    locale = "es" if rng.random() < 0.4 else "en"
    first, last = rng.choice(FIRST_NAMES[locale]), rng.choice(LAST_NAMES[locale])
    zones, weights = ZONES[locale]
    customer = Customer(
        email=f"{_ascii(first)}.{_ascii(last)}{n}@example.com",
        name=f"{first} {last}",
        locale=locale,
        time_zone=rng.choices(zones, weights)[0],
        consent=rng.choices(*CONSENTS)[0],
        invitations_stopped_at=_stopped_at(rng, now),
    )
    if n > CUSTOMERS - LIVE_ORDERS:
        customer.consent, customer.invitations_stopped_at = "unknown", None
    return customer


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _stopped_at(rng: random.Random, now: datetime) -> datetime | None:
    if rng.random() >= 0.03:
        return None
    return now - timedelta(days=rng.uniform(5, HISTORY_DAYS))


# Orders


def _plan_orders(rng: random.Random, customers: list[Customer], now: datetime) -> list[Story]:
    stories = [
        _plan_order(rng, customers[index], days_ago, now)
        for index, days_ago in _order_days(rng, len(customers) - LIVE_ORDERS)
    ]
    # Numbered in the order they were placed, so DEMO-00001 is the oldest.
    stories.sort(key=lambda story: story.order.placed_at)
    for number, story in enumerate(stories, start=1):
        story.order.external_id = f"DEMO-{number:05d}"
    return stories


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


def _plan_order(rng: random.Random, customer: Customer, days_ago: float, now: datetime) -> Story:
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
    return Story(order=order, items=_plan_items(rng, order))


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


def _plan_live_orders(customers: list[Customer], now: datetime, *, first: int) -> list[Story]:
    """Invitations due in the next minutes, so the running worker and beat send something."""
    stories = []
    for offset, customer in enumerate(customers):
        # Somewhere it is daytime now, so the send-time check does not defer them to morning.
        customer.time_zone = _daytime_zone(now)
        delivered = now - timedelta(days=RULES.delay_after_delivery_days)
        order = Order(
            external_id=f"DEMO-{first + offset:05d}",
            customer=customer,
            placed_at=delivered - timedelta(days=2),
            delivered_at=delivered,
            channel="web",
        )
        due = Decision(SEND, now + timedelta(seconds=30 * (offset + 1)))
        product = CATALOGUE[offset % len(CATALOGUE)]
        items = [OrderItem(order=order, sku=product.sku, name=product.name, quantity=1)]
        stories.append(Story(order, items, invitation=_invitation(order, due)))
    return stories


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


def _daytime_zone(now: datetime) -> str:
    def inside(zone: str) -> bool:
        local = now.astimezone(customer_zone(zone)).time()
        return RULES.send_window_start <= local < time(RULES.send_window_end.hour - 1)

    return next((zone for zone in DAYTIME_ZONES if inside(zone)), "UTC")


# The invitation history


def _replay(rng: random.Random, stories: list[Story], now: datetime) -> None:
    """Walk the deliveries in time order, deciding each as the pipeline would have."""
    last_sent: dict[str, datetime] = {}
    delivered = [story for story in stories if story.order.delivered_at is not None]
    for story in sorted(delivered, key=lambda story: story.order.delivered_at):
        order = story.order
        facts = _facts(order, last_sent.get(order.customer.email))
        decision = decide(_rules_at(order.delivered_at, now), facts, order.delivered_at)
        story.invitation = _invitation(order, decision)
        if decision.send and decision.due_at <= now and _send(rng, story, now):
            last_sent[order.customer.email] = story.invitation.sent_at


def _rules_at(delivered_at: datetime, now: datetime) -> PolicyRules:
    # For a month some time ago ops tried inviting 70% of orders: a few sampled_out rows.
    if now - timedelta(days=150) <= delivered_at < now - timedelta(days=120):
        return replace(RULES, sample_percent=70)
    return RULES


def _facts(order: Order, last_invited_at: datetime | None) -> Facts:
    customer = order.customer
    sends_at = order.delivered_at + timedelta(days=RULES.delay_after_delivery_days)
    stopped = customer.invitations_stopped_at
    return Facts(
        order_external_id=order.external_id,
        delivered_at=order.delivered_at,
        has_email=True,
        opted_out=stopped is not None and stopped <= sends_at,
        consent=customer.consent,
        time_zone=customer.time_zone,
        last_invited_at=last_invited_at,
    )


def _invitation(order: Order, decision: Decision) -> Invitation:
    nonce = tokens.new_nonce()
    return Invitation(
        order=order,
        customer=order.customer,
        state=State.SCHEDULED if decision.send else State.SUPPRESSED,
        suppression_reason="" if decision.send else decision.reason,
        due_at=decision.due_at,
        expires_at=decision.due_at + timedelta(days=RULES.invitation_valid_days),
        token_nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
    )


# A few sends go wrong, as they do: the mail server refuses one, or a worker dies mid-send.
SEND_PROBLEMS = {
    EmailLog.Outcome.FAILED: (0.004, State.SEND_FAILED, "550 5.1.1 mailbox unavailable"),
    EmailLog.Outcome.UNKNOWN: (0.002, State.SEND_UNKNOWN, "connection lost after DATA"),
}


def _send(rng: random.Random, story: Story, now: datetime) -> bool:
    """Send (in the past) and play out what the customer did; False if it was not sent."""
    invitation = story.invitation
    started = min(invitation.due_at + timedelta(minutes=rng.randint(1, 15)), now)
    invitation.sending_started_at, invitation.send_attempts = started, 1
    story.email = EmailLog(
        invitation=invitation,
        kind=EmailLog.Kind.INVITATION,
        message_id=f"<demo-{int(story.order.external_id[5:])}@localhost>",
        to_email=story.order.customer.email,
        outcome=EmailLog.Outcome.SENT,
    )
    roll = rng.random()
    for outcome, (chance, state, error) in SEND_PROBLEMS.items():
        if roll < chance:
            invitation.state, invitation.last_error = state, error
            story.email.outcome, story.email.error = outcome, error
            return False
        roll -= chance
    invitation.state, invitation.sent_at = State.SENT, started
    _answer(rng, story, now)
    # The sweep expires what is still unanswered past its validity; the seed agrees with it.
    if invitation.state == State.SENT and invitation.expires_at <= now:
        invitation.state = State.EXPIRED
    return True


def _answer(rng: random.Random, story: Story, now: datetime) -> None:
    roll = rng.random()
    after = story.invitation.sent_at + timedelta(hours=rng.uniform(1, 96))
    if after > now:
        return
    if roll < 0.40:
        _respond(rng, story, after, now)
    elif roll < 0.47:
        story.invitation.state, story.invitation.declined_at = State.DECLINED, after
    elif roll < 0.52:
        _snooze(rng, story, after, now)
    elif roll < 0.535:
        # "Stop all invitations": the replay's later decisions see it (opted_out).
        customer = story.order.customer
        customer.invitations_stopped_at = customer.invitations_stopped_at or after


def _snooze(rng: random.Random, story: Story, asked_at: datetime, now: datetime) -> None:
    """Ask me later, once: the one "later" email goes out on the chosen day."""
    invitation = story.invitation
    wake = asked_at + timedelta(days=rng.choice(RULES_SNOOZE_DAYS))
    invitation.snooze_count, invitation.snoozed_until = 1, wake
    if wake > now:
        invitation.state, invitation.due_at = State.SNOOZED, wake
        return
    invitation.state = State.SENT
    story.later_email = EmailLog(
        invitation=invitation,
        kind=EmailLog.Kind.LATER,
        message_id=f"<demo-later-{int(story.order.external_id[5:])}@localhost>",
        to_email=story.order.customer.email,
        outcome=EmailLog.Outcome.SENT,
    )
    answered = wake + timedelta(hours=rng.uniform(1, 48))
    if rng.random() < 0.5 and answered <= now:
        _respond(rng, story, answered, now)


def _respond(rng: random.Random, story: Story, submitted_at: datetime, now: datetime) -> None:
    rating = rng.choices(range(1, 6), _rating_weights(story, now))[0]
    comment = _comment(rng, story, rating, now) if rng.random() < 0.5 else ""
    story.response = Response(
        invitation=story.invitation,
        rating=rating,
        nps=_nps(rng, rating) if rng.random() < 0.45 else None,
        comment=comment,
        contact_requested=rng.random() < CONTACT_CHANCE[rating],
        quote_allowed=bool(comment) and rng.random() < 0.3,
        submitted_at=submitted_at,
    )
    story.invitation.state, story.invitation.responded_at = State.RESPONDED, submitted_at
    if story.response.contact_requested:
        story.follow_up = _follow_up(rng, story.response, now)


def _topic(story: Story, now: datetime) -> str:
    """What the order's experience was about: the weak kettle, the late courier, or neither."""
    if any(item.sku == WEAK_SKU for item in story.items):
        return "weak"
    days_ago = (now - story.order.delivered_at).days
    if story.order.channel != STORE and 50 <= days_ago <= 75:
        return "courier"
    return "recent" if days_ago <= 40 else "usual"


def _rating_weights(story: Story, now: datetime) -> tuple[int, ...]:
    topic = _topic(story, now)
    return {"weak": WEAK_PRODUCT, "courier": COURIER_DIP, "recent": RECENT}.get(topic, USUAL)


def _comment(rng: random.Random, story: Story, rating: int, now: datetime) -> str:
    topic = _topic(story, now)
    if rating <= 3 and topic in ("weak", "courier"):
        band = topic
    else:
        band = "high" if rating >= 4 else "mid" if rating == 3 else "low"
    return rng.choice(COMMENTS[(story.order.customer.locale, band)])


def _nps(rng: random.Random, rating: int) -> int:
    low, high = {1: (0, 3), 2: (2, 5), 3: (5, 7), 4: (7, 9), 5: (8, 10)}[rating]
    return rng.randint(low, high)


def _follow_up(rng: random.Random, response: Response, now: datetime) -> FollowUp:
    resolved_at = response.submitted_at + timedelta(days=rng.uniform(0.5, 5))
    # Recent requests are still open: the staff queue should have work in it.
    if resolved_at > now - timedelta(days=10) or rng.random() < 0.4:
        return FollowUp(response=response)
    return FollowUp(
        response=response,
        status=FollowUp.Status.RESOLVED,
        notes=rng.choice(FOLLOW_UP_NOTES),
        resolved_at=resolved_at,
    )


# Saving


def _save(customers: list[Customer], stories: list[Story], user: AbstractUser) -> dict[str, int]:
    """Create only what is missing; a second run finds everything and writes nothing."""
    new_customers = _missing_customers(customers)
    Customer.objects.bulk_create(new_customers)
    stories = _missing_stories(stories)
    for story in stories:
        if story.follow_up and story.follow_up.status == FollowUp.Status.RESOLVED:
            story.follow_up.assignee = user
    rows = {
        "customers": new_customers,
        "orders": Order.objects.bulk_create([s.order for s in stories]),
        "order items": OrderItem.objects.bulk_create([i for s in stories for i in s.items]),
        "invitations": _bulk(Invitation, [s.invitation for s in stories]),
        "emails": _bulk(EmailLog, [e for s in stories for e in (s.email, s.later_email)]),
        "responses": _bulk(Response, [s.response for s in stories]),
        "follow-ups": _bulk(FollowUp, [s.follow_up for s in stories]),
    }
    _backdate([story.order.pk for story in stories])
    _remember_last_invitations([story.order.pk for story in stories])
    return {name: len(created) for name, created in rows.items()}


def _remember_last_invitations(order_ids: list[int]) -> None:
    """Customer.last_invited_at is what the cooldown reads at send time."""
    last_sent = (
        Invitation.objects.filter(customer=OuterRef("pk"), sent_at__isnull=False)
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    Customer.objects.filter(orders__in=order_ids).update(last_invited_at=Subquery(last_sent))


def _bulk(model: type, objs: list) -> list:
    return model.objects.bulk_create([obj for obj in objs if obj is not None])


def _missing_customers(customers: list[Customer]) -> list[Customer]:
    existing = dict(
        Customer.objects.filter(email__in=[c.email for c in customers]).values_list("email", "pk")
    )
    for customer in customers:
        # Orders point at the planned instance; give it the stored row's key.
        customer.pk = existing.get(customer.email)
    return [customer for customer in customers if customer.pk is None]


def _missing_stories(stories: list[Story]) -> list[Story]:
    ids = [story.order.external_id for story in stories]
    existing = set(Order.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
    return [story for story in stories if story.order.external_id not in existing]


def _backdate(order_ids: list[int]) -> None:
    """auto_now_add stamps every row with today; the demo history carries its own dates."""
    if not order_ids:
        return
    Order.objects.filter(pk__in=order_ids).update(created_at=F("placed_at"))
    delivered = Order.objects.filter(pk=OuterRef("order_id")).values("delivered_at")
    Invitation.objects.filter(order__in=order_ids).update(created_at=Subquery(delivered))
    # An email that failed or whose outcome is unknown has no sent_at: its attempt's time.
    handed_over = Invitation.objects.filter(pk=OuterRef("invitation_id")).values(
        at=Coalesce("sent_at", "sending_started_at")
    )
    EmailLog.objects.filter(invitation__order__in=order_ids).update(
        created_at=Subquery(handed_over)
    )
    submitted = Response.objects.filter(pk=OuterRef("response_id")).values("submitted_at")
    FollowUp.objects.filter(response__invitation__order__in=order_ids).update(
        created_at=Subquery(submitted)
    )
    first_order = Order.objects.filter(customer=OuterRef("pk")).order_by("placed_at")
    Customer.objects.filter(orders__in=order_ids).update(
        created_at=Coalesce(Subquery(first_order.values("placed_at")[:1]), F("created_at"))
    )


# The link printed for a newcomer


def demo_invitation(*, now: datetime) -> Invitation:
    """A sent, unanswered, unexpired invitation, so the printed link always opens a form."""
    open_invitations = Invitation.objects.filter(state=State.SENT, expires_at__gt=now)
    invitation = open_invitations.order_by("order__external_id").first()
    return invitation or _fresh_invitation(now)


def _fresh_invitation(now: datetime) -> Invitation:
    # A newcomer answered every open one: a new customer, so no cooldown applies to them.
    number = Order.objects.filter(external_id__startswith="DEMO-X").count() + 1
    customer, _created = Customer.objects.get_or_create(
        email=f"demo.visitor{number}@example.com",
        defaults={"name": "Demo Visitor", "time_zone": "Europe/London"},
    )
    delivered = now - timedelta(days=RULES.delay_after_delivery_days, hours=1)
    order = Order.objects.create(
        external_id=f"DEMO-X{number:04d}",
        customer=customer,
        placed_at=delivered - timedelta(days=2),
        delivered_at=delivered,
        channel="web",
    )
    product = CATALOGUE[3]
    OrderItem.objects.create(order=order, sku=product.sku, name=product.name, quantity=1)
    return _fresh_sent(order, now)


def _fresh_sent(order: Order, now: datetime) -> Invitation:
    invitation = _invitation(order, Decision(SEND, now - timedelta(hours=1)))
    invitation.state, invitation.sent_at, invitation.send_attempts = State.SENT, now, 1
    invitation.save()
    EmailLog.objects.create(
        invitation=invitation,
        kind=EmailLog.Kind.INVITATION,
        message_id=f"<demo-{order.external_id.lower()}@localhost>",
        to_email=order.customer.email,
        outcome=EmailLog.Outcome.SENT,
    )
    return invitation
