"""Personas and data for the staff pages: alice (Ops), bob (Staff), charlie (no role)."""

import importlib
from datetime import timedelta

from django.apps import apps
from django.contrib.auth.models import Group, User
from django.utils import timezone

from feedback.models import FollowUp, Response
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory


def member(name: str, group: str | None) -> User:
    # Staff accounts have "staff status": the staff pages, like the admin, ask for it.
    user = User.objects.create_user(name, f"{name}@shop.example", "pw", is_staff=bool(group))
    if group:
        if not Group.objects.filter(name=group).exists():
            # A transactional test (the browser's) flushed what the migration made. Run with
            # the live app registry, the migration leaves every app's models_module unset,
            # and the next flush would then not make the permissions again: put them back.
            modules = [(config, config.models_module) for config in apps.get_app_configs()]
            importlib.import_module("feedback.migrations.0002_groups").create_groups(apps, None)
            roles = importlib.import_module("feedback.migrations.0006_role_permissions")
            roles.narrow_roles(apps, None)
            reviews = importlib.import_module("feedback.migrations.0014_reviews")
            reviews.grant_publishing(apps, None)
            importlib.import_module("feedback.migrations.0016_bounce").grant_roles(apps, None)
            for config, module in modules:
                config.models_module = module
        user.groups.add(Group.objects.get(name=group))
    return user


def answered(
    *,
    rating: int = 2,
    comment: str = "",
    contact_requested: bool = True,
    asked_ago: timedelta = timedelta(hours=5),
    **customer: object,
) -> Response:
    """A customer's answer; with contact_requested, its open follow-up as the page makes it."""
    order = OrderFactory(
        customer=CustomerFactory(**customer), delivered_at=timezone.now() - timedelta(days=9)
    )
    invitation = InvitationFactory(order=order, state="responded")
    response = Response.objects.create(
        invitation=invitation,
        rating=rating,
        comment=comment,
        contact_requested=contact_requested,
        submitted_at=timezone.now() - asked_ago,
    )
    if contact_requested:
        follow_up = FollowUp.objects.create(response=response)
        FollowUp.objects.filter(pk=follow_up.pk).update(created_at=timezone.now() - asked_ago)
    return response
