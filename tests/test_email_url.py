"""EMAIL_URL: one setting for SMTP, the local outbox or an email provider (django-anymail),
and every message carrying its invitation's identity to the provider."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.utils import timezone

from feedback import services
from feedback.models import EmailLog, Invitation
from portal.mail_url import provider_email_config
from tests.conftest import ROOT, service_env
from tests.factories import CustomerFactory, OrderFactory


@pytest.mark.parametrize(
    ("url", "backend", "anymail"),
    [
        (
            "postmark://server-token-1@",
            "anymail.backends.postmark.EmailBackend",
            {"POSTMARK_SERVER_TOKEN": "server-token-1"},
        ),
        (
            "mailgun://key-abc@mg.shop.example",
            "anymail.backends.mailgun.EmailBackend",
            {"MAILGUN_API_KEY": "key-abc", "MAILGUN_SENDER_DOMAIN": "mg.shop.example"},
        ),
        (
            "mailgun://key-abc@mg.shop.example?api_url=https://api.eu.mailgun.net/v3",
            "anymail.backends.mailgun.EmailBackend",
            {
                "MAILGUN_API_KEY": "key-abc",
                "MAILGUN_SENDER_DOMAIN": "mg.shop.example",
                "MAILGUN_API_URL": "https://api.eu.mailgun.net/v3",
            },
        ),
        (
            "sendgrid://SG.a%2Fb%2Bc@",
            "anymail.backends.sendgrid.EmailBackend",
            {"SENDGRID_API_KEY": "SG.a/b+c"},
        ),
        (
            "ses://AKIAEXAMPLE:se%2Fcret@eu-west-1",
            "anymail.backends.amazon_ses.EmailBackend",
            {
                "AMAZON_SES_CLIENT_PARAMS": {
                    "region_name": "eu-west-1",
                    "aws_access_key_id": "AKIAEXAMPLE",
                    "aws_secret_access_key": "se/cret",
                }
            },
        ),
        (
            "ses://@us-east-1",
            "anymail.backends.amazon_ses.EmailBackend",
            {"AMAZON_SES_CLIENT_PARAMS": {"region_name": "us-east-1"}},
        ),
        (
            "brevo://xkeysib-1@",
            "anymail.backends.brevo.EmailBackend",
            {"BREVO_API_KEY": "xkeysib-1"},
        ),
        (
            "postal://pk1@postal.shop.example",
            "anymail.backends.postal.EmailBackend",
            {"POSTAL_API_KEY": "pk1", "POSTAL_API_URL": "https://postal.shop.example"},
        ),
        (
            "mailjet://public:private@",
            "anymail.backends.mailjet.EmailBackend",
            {"MAILJET_API_KEY": "public", "MAILJET_SECRET_KEY": "private"},
        ),
        ("resend://re_1@", "anymail.backends.resend.EmailBackend", {"RESEND_API_KEY": "re_1"}),
    ],
)
def test_it_selects_the_providers_backend_and_keys(url: str, backend: str, anymail: dict) -> None:
    assert provider_email_config(url) == {"EMAIL_BACKEND": backend, "ANYMAIL": anymail}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postmark://@", "EMAIL_URL: the server token is missing (the form is postmark://TOKEN@)"),
        ("mailgun://key@", "EMAIL_URL: the sending domain is missing"),
        ("postal://key@", "EMAIL_URL: the Postal server's host is missing"),
        ("ses://only-the-id@eu-west-1", "EMAIL_URL: the secret access key is missing"),
    ],
)
def test_an_incomplete_provider_url_names_what_is_missing(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        provider_email_config(url)


def settings_in_a_process(email_url: str) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMAIL_BACKEND); print(getattr(settings, 'ANYMAIL', {}))"
    )
    env = {
        **service_env(EMAIL_URL=email_url),
        "DATABASE_URL": "sqlite:///:memory:",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_settings_read_a_provider_url_and_still_read_smtp() -> None:
    provider = settings_in_a_process("postmark://server-token-1@")
    assert provider.stdout.splitlines() == [
        "anymail.backends.postmark.EmailBackend",
        "{'POSTMARK_SERVER_TOKEN': 'server-token-1'}",
    ], provider.stderr
    smtp = settings_in_a_process("smtp+tls://user:pass@mail.shop.example:587")
    assert smtp.stdout.splitlines()[0] == "django.core.mail.backends.smtp.EmailBackend"


def test_a_url_of_no_known_kind_stops_start_up_naming_email_url() -> None:
    result = settings_in_a_process("smtpp://mail.shop.example")
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL: Invalid email schema smtpp; use smtp://" in (
        result.stderr
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("all_day_window")
def test_each_message_carries_its_invitation_and_email_log_to_the_provider(
    settings: object,
) -> None:
    settings.ANYMAIL = {}
    order = OrderFactory(customer=CustomerFactory(email="ana@example.com"))
    invitation = services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )
    connection = get_connection("anymail.backends.test.EmailBackend")
    mail.outbox = []
    result = services.invitation_send_batch(invitation_ids=[invitation.pk], connection=connection)
    assert result.sent == 1
    [message] = mail.outbox
    log = EmailLog.objects.get(invitation=invitation)
    # What the provider's API is given: the metadata comes back on every tracking event.
    params = message.anymail_test_params
    assert params["metadata"] == {"email_log": str(log.pk), "invitation": str(invitation.pk)}
    assert params["to"][0].addr_spec == "ana@example.com"
    # And our own Message-ID names the invitation, for a bounce that quotes it.
    assert message.extra_headers["Message-ID"] == log.message_id
    assert log.message_id.startswith(f"<invitation-{invitation.pk}.invitation.")
    assert log.message_id.endswith("@testserver>")
    assert Invitation.objects.get(pk=invitation.pk).state == Invitation.State.SENT
