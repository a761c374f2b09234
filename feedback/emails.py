"""Invitation emails, built from three templates: subject, text body and HTML body."""

from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback import tokens
from feedback.models import Invitation
from feedback.policy import customer_zone


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL + path


def invitation_link(invitation: Invitation) -> str:
    token = tokens.token_for(invitation.token_nonce)
    return absolute(reverse("feedback:page", kwargs={"token": token}))


def invitation_message(invitation: Invitation, *, kind: str) -> EmailMultiAlternatives:
    customer = invitation.order.customer
    context = {
        "customer": customer,
        "order": invitation.order,
        "items": list(invitation.order.items.all()),
        "link": invitation_link(invitation),
        "expires_at": invitation.expires_at,
        "kind": kind,
    }
    with (
        translation.override(customer.locale),
        timezone.override(customer_zone(customer.time_zone)),
    ):
        subject = render_to_string("emails/invitation-subject.txt", context).strip()
        text = render_to_string("emails/invitation-body-text.txt", context)
        html = render_to_string("emails/invitation-body-html.html", context)
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[customer.email],
        headers={"Message-ID": make_msgid(domain=domain)},
    )
    message.attach_alternative(html, "text/html")
    return message
