"""The dashboard's deliverability panel: what came back about the period's mail, in all and
per receiving domain, against the policy's lines, and the suppression list by reason."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from feedback import tokens
from feedback.models import DeliveryEvent, EmailLog, StaffPreference, Suppression
from tests.dashboard_data import staff_member
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

Kind = DeliveryEvent.Kind


def sent_to(*addresses: str, days_ago: float = 1) -> list[EmailLog]:
    logs = []
    for address in addresses:
        invitation = InvitationFactory(order__customer__email=address)
        logs.append(
            EmailLog.objects.create(
                invitation=invitation, kind="invitation", to_email=address, outcome="sent"
            )
        )
    EmailLog.objects.filter(pk__in=[log.pk for log in logs]).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return logs


def came_back(kind: str, log: EmailLog, *, days_ago: float = 1) -> None:
    DeliveryEvent.objects.create(
        kind=kind,
        source=DeliveryEvent.Source.PROVIDER,
        email_log=log,
        recipient_domain=log.to_email.split("@")[1],
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def mail_history() -> None:
    """Last 30 days: 10 messages, 6 to gmail.com, 3 to outlook.com, 1 to example.org;
    1 complaint (10%, over its 0.1% line), 1 hard bounce (10%, over 5%), 1 soft bounce,
    1 unsubscribe, 4 delivered. Older mail and events are outside the period."""
    gmail = sent_to(*(f"g{n}@gmail.com" for n in range(6)))
    outlook = sent_to(*(f"o{n}@Outlook.com" for n in range(3)))
    sent_to("x@example.org")
    came_back(Kind.COMPLAINT, gmail[0])
    came_back(Kind.HARD_BOUNCE, outlook[0])
    came_back(Kind.SOFT_BOUNCE, gmail[1])
    came_back(Kind.UNSUBSCRIBE, gmail[2])
    for log in gmail[3:] + outlook[1:2]:
        came_back(Kind.DELIVERED, log)
    old = sent_to("old@gmail.com", days_ago=60)
    came_back(Kind.COMPLAINT, old[0], days_ago=60)
    for n, reason in enumerate(["unsubscribed", "unsubscribed", "erased"]):
        Suppression.objects.create(
            address_hash=tokens.address_hash(f"s{n}@example.com"), reason=reason, source="test"
        )


def row(html: str, key: str) -> list[str]:
    found = re.search(rf'<tr data-row="{key}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found, re.S)
    ]


def domain_row(html: str, domain: str) -> list[str]:
    found = re.search(rf'<tr data-domain="{domain}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


@pytest.fixture
def bob(client: Client) -> User:
    user = staff_member()
    client.force_login(user)
    return user


@pytest.mark.usefixtures("mail_history")
def test_it_counts_what_came_back_against_each_line(client: Client, bob: User) -> None:
    html = client.get("/staff/?period=30").content.decode()
    assert "Deliverability" in html
    assert 'data-count="sent">10<' in html
    assert row(html, "delivered") == ["Delivered (as the provider reports)", "4", "40.00%", "—"]
    assert row(html, "complaint") == ["Spam complaints", "1", "10.00%", "0.10% over the line"]
    assert row(html, "hard_bounce") == ["Hard bounces", "1", "10.00%", "5.00% over the line"]
    assert row(html, "soft_bounce") == ["Soft bounces", "1", "10.00%", "—"]
    assert row(html, "unsubscribe") == ["Unsubscribes", "1", "10.00%", "—"]
    assert 'class="table-danger"' in html

    # The busiest receiving domains first, each with its own counts and rates.
    order = re.findall(r'<tr data-domain="([^"]+)">', html)
    assert order == ["gmail.com", "outlook.com", "example.org"]
    assert domain_row(html, "gmail.com") == [
        "gmail.com",
        "6",
        "3 (50.0%)",  # delivered
        "0 (0.0%)",  # hard bounces
        "1 (16.7%)",  # soft bounces
        "1 (16.7%)",  # complaints
        "1 (16.7%)",  # unsubscribes
    ]
    assert domain_row(html, "outlook.com")[:4] == ["outlook.com", "3", "1 (33.3%)", "1 (33.3%)"]

    suppressions = re.search(r'data-table="suppression-list">(.*?)</table>', html, re.S).group(1)
    assert re.findall(
        r'<th scope="row">([^<]+)</th><td class="text-end"[^>]*>(\d+)<', suppressions
    ) == [
        ("personal data erased", "1"),
        ("stopped all invitations", "2"),
        ("In all", "3"),
    ]


@pytest.mark.usefixtures("mail_history")
def test_the_longer_period_counts_the_older_mail(client: Client, bob: User) -> None:
    html = client.get("/staff/?period=90").content.decode()
    assert 'data-count="sent">11<' in html
    assert row(html, "complaint")[:3] == ["Spam complaints", "2", "18.18%"]


def test_an_empty_period_says_so(client: Client, bob: User) -> None:
    html = client.get("/staff/?period=7").content.decode()
    assert 'data-count="sent">0<' in html
    assert row(html, "complaint") == ["Spam complaints", "0", "—", "0.10%"]
    assert "No messages in this period." in html
    assert "No address is on the suppression list." in html


@pytest.mark.usefixtures("mail_history")
def test_it_speaks_spanish(client: Client, bob: User) -> None:
    StaffPreference.objects.create(user=bob, language="es")
    html = client.get("/staff/?period=30").content.decode()
    assert "Entregabilidad" in html
    assert row(html, "complaint") == [
        "Quejas por spam",
        "1",
        "10,00%",
        "0,10% por encima del límite",
    ]
    assert "Por dominio de destino" in html and "Lista de exclusión" in html
    assert "datos personales borrados" in html
