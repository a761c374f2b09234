"""EMAIL_URL for an email provider (django-anymail): one URL gives the backend and its keys.

SMTP URLs (smtp://, smtp+tls://, smtps://, ...) stay with django-environ's email_url; this
module reads only the providers' schemes, with urllib. The forms (README, "Configuration"):

    postmark://SERVER_TOKEN@
    mailgun://API_KEY@SENDER_DOMAIN          ?api_url=https://api.eu.mailgun.net/v3
    sendgrid://API_KEY@
    ses://ACCESS_KEY_ID:SECRET_ACCESS_KEY@REGION      (needs boto3; ses://@eu-west-1 uses
                                                       boto3's own credentials)
    brevo://API_KEY@
    postal://API_KEY@POSTAL_HOST
    mailjet://API_KEY:SECRET_KEY@
    sparkpost://API_KEY@                     ?api_url=https://api.eu.sparkpost.com/api/v1
    resend://API_KEY@

A key holding characters a URL reserves (`/`, `@`, `:`, ...) is written percent-encoded.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "postmark": "anymail.backends.postmark.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "ses": "anymail.backends.amazon_ses.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
    "postal": "anymail.backends.postal.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "sparkpost": "anymail.backends.sparkpost.EmailBackend",
    "resend": "anymail.backends.resend.EmailBackend",
}


def is_provider_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in BACKENDS


def provider_email_config(url: str) -> dict[str, object]:
    """EMAIL_BACKEND and ANYMAIL for a provider's EMAIL_URL; ImproperlyConfigured, naming
    EMAIL_URL and what is missing, for one that cannot work."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ImproperlyConfigured(f"EMAIL_URL: unknown scheme {scheme!r}")
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    host = parts.hostname or ""
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    anymail = _ANYMAIL[scheme](user, password, host, query)
    return {"EMAIL_BACKEND": BACKENDS[scheme], "ANYMAIL": anymail}


def _need(value: str, what: str, form: str) -> str:
    if not value:
        raise ImproperlyConfigured(f"EMAIL_URL: {what} is missing (the form is {form})")
    return value


def _postmark(user: str, password: str, host: str, query: dict) -> dict:
    return {"POSTMARK_SERVER_TOKEN": _need(user, "the server token", "postmark://TOKEN@")}


def _mailgun(user: str, password: str, host: str, query: dict) -> dict:
    form = "mailgun://API_KEY@SENDER_DOMAIN"
    config = {
        "MAILGUN_API_KEY": _need(user, "the API key", form),
        "MAILGUN_SENDER_DOMAIN": _need(host, "the sending domain", form),
    }
    if "api_url" in query:
        config["MAILGUN_API_URL"] = query["api_url"]
    return config


def _sendgrid(user: str, password: str, host: str, query: dict) -> dict:
    return {"SENDGRID_API_KEY": _need(user, "the API key", "sendgrid://API_KEY@")}


def _ses(user: str, password: str, host: str, query: dict) -> dict:
    form = "ses://ACCESS_KEY_ID:SECRET_ACCESS_KEY@REGION"
    params = {"region_name": _need(host, "the region", form)}
    if user or password:
        params["aws_access_key_id"] = _need(user, "the access key id", form)
        params["aws_secret_access_key"] = _need(password, "the secret access key", form)
    return {"AMAZON_SES_CLIENT_PARAMS": params}


def _brevo(user: str, password: str, host: str, query: dict) -> dict:
    return {"BREVO_API_KEY": _need(user, "the API key", "brevo://API_KEY@")}


def _postal(user: str, password: str, host: str, query: dict) -> dict:
    form = "postal://API_KEY@POSTAL_HOST"
    return {
        "POSTAL_API_KEY": _need(user, "the API key", form),
        "POSTAL_API_URL": "https://" + _need(host, "the Postal server's host", form),
    }


def _mailjet(user: str, password: str, host: str, query: dict) -> dict:
    form = "mailjet://API_KEY:SECRET_KEY@"
    return {
        "MAILJET_API_KEY": _need(user, "the API key", form),
        "MAILJET_SECRET_KEY": _need(password, "the secret key", form),
    }


def _sparkpost(user: str, password: str, host: str, query: dict) -> dict:
    config = {"SPARKPOST_API_KEY": _need(user, "the API key", "sparkpost://API_KEY@")}
    if "api_url" in query:
        config["SPARKPOST_API_URL"] = query["api_url"]
    return config


def _resend(user: str, password: str, host: str, query: dict) -> dict:
    return {"RESEND_API_KEY": _need(user, "the API key", "resend://API_KEY@")}


_ANYMAIL = {
    "postmark": _postmark,
    "mailgun": _mailgun,
    "sendgrid": _sendgrid,
    "ses": _ses,
    "brevo": _brevo,
    "postal": _postal,
    "mailjet": _mailjet,
    "sparkpost": _sparkpost,
    "resend": _resend,
}
