"""The brake: complaints or hard bounces over the policy's line pause sending, mid-batch;
the dashboard and /healthz say so; Ops resume it with a reason, audited; nothing is sent
twice. (tests/test_brake_integration.py runs it through a real worker.)"""

import re
from datetime import timedelta

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import (
    Customer,
    DeliveryEvent,
    EmailLog,
    Invitation,
    InvitationPolicy,
    SendingPause,
)
from feedback.selectors.deliverability import brake_figures
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink
from tests.staff import member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

State = Invitation.State


def deliver(email: str) -> Invitation:
    order = OrderFactory(customer=CustomerFactory(email=email))
    return services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )


def low_lines(**fields: object) -> None:
    values = {"brake_min_messages": 3, "brake_complaint_percent": 10.0, **fields}
    InvitationPolicy.objects.filter(pk=1).update(**values)


def event(kind: str, log: EmailLog | None = None) -> DeliveryEvent:
    return DeliveryEvent.objects.create(
        kind=kind,
        source=DeliveryEvent.Source.PROVIDER,
        email_log=log,
        recipient_domain="example.com",
        occurred_at=timezone.now(),
    )


class ComplainingMailbox(EmailBackend):
    """Real SMTP to the test's server; then each recipient complains at once, as a feedback
    loop would report it (a DeliveryEvent row, as the bounce handling writes it)."""

    def send_messages(self, email_messages: list) -> int:
        sent = super().send_messages(email_messages)
        for message in email_messages:
            log = EmailLog.objects.get(message_id=message.extra_headers["Message-ID"])
            event(DeliveryEvent.Kind.COMPLAINT, log)
        return sent


def sweep() -> services.SweepSummary:
    return services.invitations_sweep(send=services.send_here)


def test_a_run_of_complaints_pauses_the_batch_midway_and_resuming_sends_the_rest_once(
    smtp_settings: SmtpSink, client: Client
) -> None:
    low_lines()
    invitations = [deliver(f"c{n}@example.com") for n in range(10)]
    connection = ComplainingMailbox(host="127.0.0.1", port=smtp_settings.port)
    ids = [invitation.pk for invitation in invitations]
    result = services.invitation_send_batch(invitation_ids=ids, connection=connection)

    # Three messages, three complaints: 100% of 3, over the 10% line. Nothing more went out.
    assert (result.sent, result.given_back) == (3, 7)
    assert smtp_settings.count() == 3
    pause = SendingPause.objects.get()
    assert pause.reason == SendingPause.Reason.COMPLAINTS
    assert (pause.figures["sent"], pause.figures["complaints"]) == (3, 3)
    waiting = Invitation.objects.filter(pk__in=ids, state=State.SCHEDULED)
    assert waiting.count() == 7
    assert not waiting.filter(claimed_until__isnull=False).exists()  # claims given back

    # A sweep while paused sends nothing; the invitations wait.
    summary = sweep()
    assert (summary.paused, summary.claimed, smtp_settings.count()) == (True, 0, 3)
    assert "sending paused by the brake" in str(summary)

    health = client.get("/healthz").json()
    assert health["sending"] == "paused"
    assert health["sending_paused_reason"].startswith("complaint rate above its line since ")

    # The dashboard's red banner, with the figures; Staff cannot resume, Ops can.
    client.force_login(member("bob", "Staff"))
    page = client.get("/staff/").content.decode()
    assert 'data-brake="paused"' in page and "Sending is paused" in page
    assert "Spam complaints: 3 of 3 messages (100.00%; the line is 10.00%)." in page
    assert "Resume sending" not in page
    refused = client.post("/staff/sending/resume/", {"reason": "I think it's fine"})
    assert refused.status_code == 403
    assert SendingPause.objects.get().resumed_at is None

    alice = member("alice", "Ops")
    client.force_login(alice)
    assert "Resume sending" in client.get("/staff/").content.decode()
    blank = client.post("/staff/sending/resume/", {"reason": "   "}, follow=True)
    assert "Reason: Say why sending may resume" in blank.content.decode()
    assert SendingPause.objects.get().resumed_at is None

    why = "Checked: a list bought by marketing was imported by mistake; removed it."
    resumed = client.post("/staff/sending/resume/", {"reason": why}, follow=True)
    assert "Sending resumed." in resumed.content.decode()
    assert 'data-brake="paused"' not in resumed.content.decode()
    pause.refresh_from_db()
    assert (pause.resumed_by, pause.resume_reason) == (alice, why)
    assert pause.resume_figures["complaints"] == 3
    assert client.get("/healthz").json()["sending"] == "ok"

    # The rest go out with the next sweep, each once; the three already sent are not re-sent.
    assert sweep().results.sent == 7
    assert smtp_settings.count() == 10
    for invitation in invitations:
        assert len(smtp_settings.to(invitation.customer.email)) == 1
        assert EmailLog.objects.filter(invitation=invitation).count() == 1
    assert set(Invitation.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        State.SENT
    }


def test_hard_bounces_over_their_line_pause_too(smtp_settings: SmtpSink) -> None:
    low_lines(brake_hard_bounce_percent=20.0)
    first = [deliver(f"b{n}@example.com") for n in range(4)]
    assert sweep().results.sent == 4
    event(DeliveryEvent.Kind.HARD_BOUNCE, EmailLog.objects.first())  # 1 of 4: 25%
    deliver("later@example.com")
    summary = sweep()
    assert summary.paused and summary.results.sent == 0
    assert SendingPause.objects.get().reason == SendingPause.Reason.HARD_BOUNCES
    assert smtp_settings.count() == len(first)


def test_a_rate_counts_only_from_the_minimum_number_of_messages(smtp_settings: SmtpSink) -> None:
    low_lines(brake_min_messages=500)
    deliver("one@example.com")
    sweep()
    event(DeliveryEvent.Kind.COMPLAINT)  # 1 of 1 is 100%, but of too few messages
    deliver("two@example.com")
    assert sweep().results.sent == 1
    assert not SendingPause.objects.exists()


def test_the_window_is_the_latest_messages_and_the_last_days(smtp_settings: SmtpSink) -> None:
    low_lines(brake_window_messages=4, brake_window_days=7)
    now = timezone.now()
    customer = Customer.objects.create(email="w@example.com")
    invitation = Invitation.objects.create(
        order=OrderFactory(customer=customer), customer=customer, due_at=now, state=State.SENT
    )
    logs = EmailLog.objects.bulk_create(
        EmailLog(invitation=invitation, kind="invitation", outcome="unknown") for _ in range(6)
    )
    # The two oldest messages fall out of the latest four.
    stamps = [now - timedelta(hours=h) for h in (50, 40, 4, 3, 2, 1)]
    for log, stamp in zip(logs, stamps, strict=True):
        EmailLog.objects.filter(pk=log.pk).update(created_at=stamp)
    DeliveryEvent.objects.create(
        kind="complaint", source="complaint", occurred_at=now - timedelta(hours=45)
    )
    DeliveryEvent.objects.create(
        kind="complaint", source="complaint", occurred_at=now - timedelta(days=8)
    )
    figures = brake_figures(policy=InvitationPolicy.live(), now=now)
    assert (figures.sent, figures.complaints, figures.over_line()) == (4, 0, "")
    event(DeliveryEvent.Kind.COMPLAINT)
    figures = brake_figures(policy=InvitationPolicy.live(), now=timezone.now())
    assert (figures.sent, figures.complaints, figures.over_line()) == (4, 1, "complaints")


def test_ops_change_the_lines_on_the_policy_page_audited(client: Client) -> None:
    client.force_login(member("alice", "Ops"))
    page = client.get("/staff/policy/edit/").content.decode()
    assert "Complaint line (%)" in page and "Hard-bounce line (%)" in page
    loaded = re.search(r'name="loaded" value="([^"]*)"', page).group(1).replace("&quot;", '"')
    from feedback.staff_forms import policy_form_data

    data = {**policy_form_data(InvitationPolicy.live()), "loaded": loaded}
    bad = client.post("/staff/policy/edit/", {**data, "brake_complaint_percent": "150"})
    assert bad.status_code == 400
    assert "Ensure this value is less than or equal to 100" in bad.content.decode()
    saved = client.post("/staff/policy/edit/", {**data, "brake_complaint_percent": "0.3"})
    assert saved.status_code == 302
    assert InvitationPolicy.live().brake_complaint_percent == 0.3
    version = InvitationPolicy.live().versions.get()
    assert version.changes["brake_complaint_percent"] == {"before": 0.1, "after": 0.3}
    assert "spam complaints pass 0.3%" in client.get("/staff/policy/").content.decode()
