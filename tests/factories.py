from datetime import timedelta

import factory
from django.utils import timezone

from feedback import tokens
from feedback.models import Customer, Invitation, Order, OrderItem


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Faker("name")
    locale = "en"
    time_zone = "Europe/Madrid"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Iterator(["Burr coffee grinder", "Gooseneck kettle", "Pour-over dripper"])
    quantity = 1


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"ORD-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=14))
    delivered_at = None
    channel = "web"
    items = factory.RelatedFactoryList(OrderItemFactory, factory_related_name="order", size=2)


class InvitationFactory(factory.django.DjangoModelFactory):
    """A sent invitation; `invitation.token` is the raw token of its link."""

    class Meta:
        model = Invitation
        skip_postgeneration_save = True

    order = factory.SubFactory(
        OrderFactory, delivered_at=factory.LazyFunction(lambda: timezone.now() - timedelta(8))
    )
    customer = factory.SelfAttribute("order.customer")
    state = Invitation.State.SENT
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    sent_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=29))
    token_nonce = factory.LazyFunction(tokens.new_nonce)
    token_hash = factory.LazyAttribute(lambda o: tokens.token_hash(tokens.token_for(o.token_nonce)))

    @factory.post_generation
    def token(obj: Invitation, create: bool, extracted: object, **kwargs: object) -> None:
        obj.token = tokens.token_for(obj.token_nonce)
