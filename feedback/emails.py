"""Invitation emails, built from three templates: subject, text body and HTML body.

A dispatch builds thousands of these in a row, so what is the same for every message is
worked out once per process: the templates, and where each choice's page lies relative to
the answer page.
"""

import functools
import re
import secrets
from collections.abc import Sequence
from email.policy import Compat32

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart, SafeMIMEText
from django.template import Template
from django.template.loader import get_template
from django.urls import reverse
from django.utils import formats, timezone, translation

from feedback import tokens
from feedback.models import Invitation, OrderItem
from feedback.policy import customer_zone

# The customer's choices, each a page of its own (a GET never changes anything).
CHOICES = {"answer": "page", "later": "later", "decline": "decline", "stop": "stop"}
TEMPLATES = (
    "emails/invitation-subject.txt",
    "emails/invitation-body-text.txt",
    "emails/invitation-body-html.html",
)


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL + path


@functools.cache
def _choice_suffixes() -> dict[str, str]:
    """Each choice's path after the answer page's: feedback/urls.py nests them all under
    the token, so one reverse() per message gives every link."""
    sample = "token"
    page = reverse("feedback:page", kwargs={"token": sample})
    suffixes = {}
    for key, name in CHOICES.items():
        path = reverse(f"feedback:{name}", kwargs={"token": sample})
        if not path.startswith(page):
            raise ImproperlyConfigured(f"feedback:{name} is not under feedback:page ({path})")
        suffixes[key] = path.removeprefix(page)
    return suffixes


def invitation_links(invitation: Invitation) -> dict[str, str]:
    page = absolute(
        reverse("feedback:page", kwargs={"token": tokens.token_for(invitation.token_nonce)})
    )
    return {key: page + suffix for key, suffix in _choice_suffixes().items()}


def invitation_link(invitation: Invitation) -> str:
    return invitation_links(invitation)["answer"]


def _templates() -> list[Template]:
    # The loader caches compiled templates (and, with DEBUG, reloads edited ones).
    return [get_template(name) for name in TEMPLATES]


def invitation_message(
    invitation: Invitation,
    *,
    kind: str,
    message_id: str,
    items: Sequence[OrderItem] | None = None,
) -> "InvitationEmail":
    """The invitation's email; `items` are its order's, when the caller has them already
    (a send batch reads all of its orders' items in one query)."""
    customer = invitation.customer
    links = invitation_links(invitation)
    context = {
        "customer": customer,
        "order": invitation.order,
        "items": invitation.order.items.all() if items is None else items,
        "links": links,
        "expires_at": invitation.expires_at,
        "kind": kind,
    }
    subject_template, text_template, html_template = _templates()
    # One language and one time zone for the whole message: its three parts and the date.
    with (
        translation.override(customer.locale),
        timezone.override(customer_zone(customer.time_zone)),
    ):
        if invitation.expires_at:
            context["expires_on"] = formats.date_format(
                timezone.localtime(invitation.expires_at), "DATE_FORMAT"
            )
        subject = subject_template.render(context)
        text = text_template.render(context)
        html = html_template.render(context)
    message = InvitationEmail(
        subject=" ".join(subject.split()),
        body=text,
        to=[customer.email],
        headers={
            "Message-ID": message_id,
            # RFC 8058 one-click unsubscribe: mail clients POST to this URL.
            "List-Unsubscribe": f"<{links['stop']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# Printable ASCII words with single spaces between: what email.header.Header leaves as is.
_PLAIN_HEADER = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")


class PlainHeadersAsIs(Compat32):
    """compat32, the policy of Django's messages, without its cost where it changes nothing.

    compat32 runs every header through email.header.Header to fold and encode it; one
    that is plain ASCII and fits on a line comes out unchanged, so it is written directly.
    Anything else (non-ASCII, long, odd whitespace) still goes the compat32 way.
    """

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
            and _PLAIN_HEADER.match(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


PLAIN_HEADERS_AS_IS = PlainHeadersAsIs()


class InvitationEmail(EmailMultiAlternatives):
    """An invitation: written out byte for byte as Django writes it, only faster."""

    def message(self) -> SafeMIMEMultipart | SafeMIMEText:
        message = super().message()
        # The generator takes the top message's policy and hands it to the parts.
        message.policy = PLAIN_HEADERS_AS_IS
        if message.is_multipart():
            # Chosen here, the generator need not search the text for a clash (it compiles
            # a regular expression per message to do so); 128 random bits never clash.
            message.set_boundary("=_" + secrets.token_hex(16))
        return message
