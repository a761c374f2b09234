"""SpamAssassin (Debian's package, local tests only: no network, no DNS) scores the
invitation as customers receive it, in English and Spanish, well below 1.0."""

import re
import shutil
import subprocess

import pytest

from feedback import emails
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory, OrderItemFactory

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        SPAMASSASSIN is None, reason="SpamAssassin is not installed (apt-get install spamassassin)"
    ),
]


def score(message: bytes) -> tuple[float, str]:
    """SpamAssassin's score and its report, from local tests only (-L)."""
    result = subprocess.run(
        [SPAMASSASSIN, "-t", "-L"], input=message, capture_output=True, timeout=120, check=True
    )
    output = result.stdout.decode(errors="replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", output, re.MULTILINE)
    report = output.partition("Content analysis details:")[2]
    return float(status.group(1)), report


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize(
    ("kind", "name", "items"), [("invitation", "Ana López", 2), ("later", "", 0)]
)
def test_the_invitation_scores_below_one(locale: str, kind: str, name: str, items: int) -> None:
    customer = CustomerFactory(name=name, locale=locale, time_zone="Europe/Madrid")
    invitation = InvitationFactory(order=OrderFactory(customer=customer))
    for n in range(items):
        OrderItemFactory(order=invitation.order, name=("Burr grinder", "Paper filters")[n])
    message = emails.invitation_message(
        invitation,
        kind=kind,
        message_id=emails.new_message_id(invitation, kind=kind),
        email_log_id=1,
    )
    points, report = score(message.message().as_bytes(linesep="\r\n"))
    print(f"SpamAssassin {locale} {kind}: {points}")
    assert points < 1.0, report
