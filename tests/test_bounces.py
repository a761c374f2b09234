"""Mail that comes back, piped into a real `manage.py receive_mail` process: bounces in the
shapes real mail servers write (Postfix's RFC 3464 DSN, Exim's and qmail's own formats),
matched by the signed return path the invitation really went out with; soft bounces count
only when repeated; a forged signature changes nothing."""

import pytest

from feedback.models import (
    Customer,
    DeliveryEvent,
    InboundMessage,
    Invitation,
    InvitationPolicy,
    Suppression,
)
from feedback.tokens import address_hash
from tests.mailback import (
    BOUNCE_ADDRESS,
    deliver,
    fixture,
    receive_mail,
    send_invitation,
    use_return_paths,
)
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]


@pytest.fixture(autouse=True)
def return_paths(settings: object, all_day_window: None) -> None:
    use_return_paths(settings)
    # Orders of one customer a day apart are each invited: what a bounce changes shows.
    InvitationPolicy.objects.filter(pk=1).update(customer_cooldown_days=0)


def suppression_of(email: str) -> Suppression | None:
    return Suppression.objects.filter(address_hash=address_hash(email)).first()


def test_it_sends_with_a_signed_return_path_and_an_unsubscribe_address(
    smtp_settings: SmtpSink,
) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    local, _at, domain = sent.verp.partition("@")
    assert local.startswith(f"bounces+{sent.log.pk}-")
    assert domain == "tostadero-lumen.example"
    [message] = smtp_settings.to("ana@example.com")
    assert message["From"].addresses[0].addr_spec == "feedback@tostadero-lumen.example"
    assert message["From"].addresses[0].display_name == "Tostadero Lumen"
    unsubscribe = message["List-Unsubscribe"].strip()
    assert unsubscribe.startswith("<http://testserver/f/")
    assert f"<mailto:unsubscribe+{sent.log.pk}-" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("name", ["postfix-hard.eml", "exim-failed.eml", "qmail-failure.eml"])
def test_a_hard_bounce_suppresses_the_customer_and_their_next_order_is_not_invited(
    smtp_settings: SmtpSink, name: str
) -> None:
    sent = send_invitation("gone@example.net", smtp_settings)
    bystander = send_invitation("here@example.org", smtp_settings)

    done = receive_mail(fixture(name, sent))
    assert "bounce" in done.stdout.decode()

    entry = suppression_of("gone@example.net")
    assert (entry.reason, entry.source) == ("hard_bounce", "dsn")
    assert entry.customer == sent.invitation.customer
    assert "gone@example.net" not in entry.detail
    event = DeliveryEvent.objects.get()
    assert (event.kind, event.source, event.email_log) == ("hard_bounce", "dsn", sent.log)
    assert event.recipient_domain == "example.net"
    kept = InboundMessage.objects.get()
    assert (kept.kind, kept.email_log, kept.customer) == ("bounce", sent.log, entry.customer)

    following = deliver("gone@example.net", days_ago=1)
    assert (following.state, following.suppression_reason) == ("suppressed", "undeliverable")
    assert deliver("here@example.org", days_ago=1).state == "scheduled"
    assert suppression_of(bystander.invitation.customer.email) is None


def test_the_envelope_recipient_from_the_mail_server_is_enough(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("gone@example.net", smtp_settings)
    raw = fixture("postfix-hard.eml", sent).replace(
        f"To: {sent.verp}".encode(), b"To: undisclosed-recipients:;"
    )
    raw = raw.replace(f"Delivered-To: {sent.verp}\n".encode(), b"")
    receive_mail(raw, "--recipient", sent.verp.upper())  # some servers lower- or upper-case
    assert suppression_of("gone@example.net").reason == "hard_bounce"


def test_a_forged_return_path_changes_nothing(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    domain = sent.verp.partition("@")[2]
    forged = f"bounces+{sent.log.pk}-{'a' * 16}@{domain}"
    receive_mail(fixture("postfix-hard.eml", sent, VERP=forged))
    kept = InboundMessage.objects.get()
    assert kept.kind == InboundMessage.Kind.FORGED
    assert "did not verify" in kept.note
    assert not Suppression.objects.exists()
    assert not DeliveryEvent.objects.exists()
    assert deliver("ana@example.com", days_ago=1).state == "scheduled"


def test_an_unsigned_bounce_is_not_trusted(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    receive_mail(fixture("postfix-hard.eml", sent, VERP=BOUNCE_ADDRESS))
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.OTHER
    assert not Suppression.objects.exists()


def test_soft_bounces_suppress_only_when_repeated(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("full@example.net", smtp_settings)
    delayed = fixture("postfix-delayed.eml", sent)

    def notice(n: int) -> bytes:  # each warning the mail server sends has its own id
        return delayed.replace(b"4ZbL7q0RnPz9sXc@", f"4ZbL7q0RnPz9sX{n}@".encode())

    for n in range(2):
        receive_mail(notice(n))
    receive_mail(notice(1))  # the same notice piped again counts once
    assert suppression_of("full@example.net") is None
    assert DeliveryEvent.objects.filter(kind="soft_bounce", email_log=sent.log).count() == 2
    assert deliver("full@example.net", days_ago=1).state == "scheduled"

    receive_mail(notice(2))  # the third within 14 days (BOUNCE_SOFT_LIMIT=3)
    entry = suppression_of("full@example.net")
    assert (entry.reason, entry.source) == ("soft_bounces", "dsn")
    assert deliver("full@example.net", days_ago=1).suppression_reason == "undeliverable"


def test_a_failure_with_a_temporary_status_counts_as_soft(smtp_settings: SmtpSink) -> None:
    # Postfix gives up after its queue lifetime with "Action: failed" and "Status: 4.4.1".
    sent = send_invitation("slow@example.net", smtp_settings)
    raw = fixture("postfix-delayed.eml", sent).replace(b"Action: delayed", b"Action: failed")
    receive_mail(raw)
    assert DeliveryEvent.objects.get().kind == "soft_bounce"
    assert suppression_of("slow@example.net") is None


def test_mail_to_the_unsubscribe_address_stops_invitations_like_one_click(
    smtp_settings: SmtpSink,
) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    waiting = deliver("ana@example.com", days_ago=0)
    assert waiting.state == "scheduled"

    receive_mail(fixture("unsubscribe.eml", sent), "--recipient", sent.unsubscribe)

    customer = Customer.objects.get(email="ana@example.com")
    assert customer.invitations_stopped_at is not None
    waiting.refresh_from_db()
    assert (waiting.state, waiting.suppression_reason) == ("suppressed", "opted_out")
    event = DeliveryEvent.objects.get()
    assert (event.kind, event.source, event.email_log) == ("unsubscribe", "mailto", sent.log)
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.UNSUBSCRIBE


def test_a_forged_unsubscribe_address_changes_nothing(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    other = send_invitation("bo@example.com", smtp_settings)
    # Bo's log id under Ana's signature: someone guessing ids to unsubscribe others.
    signature = sent.unsubscribe.partition("@")[0].rpartition("-")[2]
    forged = f"unsubscribe+{other.log.pk}-{signature}@tostadero-lumen.example"
    receive_mail(fixture("unsubscribe.eml", sent, UNSUBSCRIBE=forged), "--recipient", forged)
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.FORGED
    assert not Customer.objects.filter(invitations_stopped_at__isnull=False).exists()
    assert not DeliveryEvent.objects.exists()


def test_an_abuse_report_stops_all_invitations_and_counts_as_a_complaint(
    smtp_settings: SmtpSink,
) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    waiting = deliver("ana@example.com", days_ago=0)

    receive_mail(fixture("arf-complaint.eml", sent))

    customer = Customer.objects.get(email="ana@example.com")
    assert customer.invitations_stopped_at is not None
    waiting.refresh_from_db()
    assert (waiting.state, waiting.suppression_reason) == ("suppressed", "opted_out")
    entry = suppression_of("ana@example.com")
    assert (entry.reason, entry.source) == ("complaint", "complaint")
    event = DeliveryEvent.objects.get()
    assert (event.kind, event.source, event.email_log) == ("complaint", "complaint", sent.log)
    assert "Feedback-Type: abuse" in event.detail
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.COMPLAINT
    # Even after "resume", the address stays on the list: no invitation goes out.
    Customer.objects.filter(pk=customer.pk).update(invitations_stopped_at=None)
    assert deliver("ana@example.com", days_ago=1).suppression_reason == "suppressed"


def test_an_abuse_report_with_the_addresses_redacted_is_matched_by_message_id(
    smtp_settings: SmtpSink,
) -> None:
    # Many feedback loops redact the recipient; some strip the return path too.
    sent = send_invitation("ana@example.com", smtp_settings)
    raw = fixture(
        "arf-complaint.eml",
        sent,
        VERP="redacted@redacted.example",
        RECIPIENT="redacted@redacted.example",
        UNSUBSCRIBE="redacted@redacted.example",
    )
    receive_mail(raw, "--recipient", "fbl@tostadero-lumen.example")
    assert suppression_of("ana@example.com").reason == "complaint"
    assert Customer.objects.get(email="ana@example.com").invitations_stopped_at is not None


def test_a_forged_abuse_report_changes_nothing(smtp_settings: SmtpSink) -> None:
    sent = send_invitation("ana@example.com", smtp_settings)
    forged = f"bounces+{sent.log.pk}-{'b' * 16}@tostadero-lumen.example"
    raw = fixture(
        "arf-complaint.eml",
        sent,
        VERP=forged,
        UNSUBSCRIBE="someone@example.com",
        MESSAGE_ID="<not-ours@example.com>",
    )
    receive_mail(raw)
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.FORGED
    assert not Suppression.objects.exists()
    assert Customer.objects.get(email="ana@example.com").invitations_stopped_at is None
    assert Invitation.objects.filter(state="suppressed").count() == 0
