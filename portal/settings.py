"""Project settings, all read from the environment (12-factor); see README for the table."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

from portal.mail_url import BACKENDS, is_provider_url, provider_email_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A newcomer's local .env (`make .env`, run by `make run`: DEBUG=1 and a random SECRET_KEY)
# lets the README's manage.py commands run without exporting anything. A variable set in
# the real environment always wins; the tests set PORTAL_READ_DOTENV=0 so that a
# developer's .env never reaches them.
if env.bool("PORTAL_READ_DOTENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env")
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
# A development key is only acceptable while DEBUG is on; production must provide its own.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
# Links in emails and the demo's printed links follow the port `make run` serves on
# (WEB_PORT, as in the Procfile) unless PORTAL_BASE_URL names the site.
PORTAL_BASE_URL = env(
    "PORTAL_BASE_URL", default=f"http://localhost:{env.int('WEB_PORT', default=8000)}"
).rstrip("/")

INSTALLED_APPS = [
    # First, so that its templates (admin/base_site.html) override the admin's own.
    "feedback",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    # Counts failed sign-ins and locks out a guessing loop (see "Sign-in throttling" below).
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    # The API's docs page uses the Swagger UI files this app ships (no CDN).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy everywhere, no-store on /staff/, X-Robots-Tag on /f/: before
    # WhiteNoise, so static files get the policy too.
    "feedback.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After LocaleMiddleware and the user: the staff member's own language on /staff/.
    "feedback.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes documents: turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # `shop`: the shop's name, logo and links, on every page.
                "feedback.shop.context_processor",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep connections open between requests, and check a kept one before a request uses
    # it, so that a database restart costs no 500.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # web, worker and beat share one file in the demo: WAL and immediate transactions
    # let them write without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# How long any Redis client here waits to connect, or for an answer, before it gives up.
# Redis is a helper (DESIGN §4.5): when it is down or silent, a request goes on without it
# (rate limits count in the process) instead of waiting redis-py's default 5 s per command.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            # Passed to redis-py's connection pool; see REDIS_TIMEOUT_SECONDS.
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# This process's own memory: rate limits count here while Redis cannot be reached. Room
# for the buckets of many addresses, so a guessing loop's count is not culled early.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "local",
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}

EMAIL_URL = env("EMAIL_URL", default="")
if is_provider_url(EMAIL_URL):
    # An email provider's API through django-anymail (portal/mail_url.py lists the forms).
    vars().update(provider_email_config(EMAIL_URL))
elif EMAIL_URL:
    try:
        vars().update(env.email_url_config(EMAIL_URL))
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            f"EMAIL_URL: {exc}; use smtp://, smtp+tls://, smtps:// or a provider's "
            f"scheme ({', '.join(BACKENDS)})"
        ) from None
else:
    # No mail server configured: messages land in var/outbox/, which staff can read at
    # /staff/outbox/ so the demo shows what a customer would receive.
    EMAIL_BACKEND = "feedback.mail.OutboxEmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# DKIM over SMTP: with all three set, every message sent over SMTP is signed
# (feedback/mail.py); a system check loads the key at start-up, and
# `manage.py dkim_dns_record` prints the TXT record to publish.
DKIM_DOMAIN = env("DKIM_DOMAIN", default="")
DKIM_SELECTOR = env("DKIM_SELECTOR", default="")
DKIM_PRIVATE_KEY_FILE = env("DKIM_PRIVATE_KEY_FILE", default="")
if (
    DKIM_DOMAIN
    and DKIM_SELECTOR
    and DKIM_PRIVATE_KEY_FILE
    and EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
):
    EMAIL_BACKEND = "feedback.mail.DkimSmtpEmailBackend"

# The shop's identity, carried by every email and customer page (DESIGN §8). Production
# must set SHOP_NAME (`check --deploy` warns without it) and should set the rest; with DEBUG
# on, the demo's shop stands in: a Madrid roaster whose orders are beans, grinders and
# kettles, on reserved .example addresses.
SHOP_NAME = env("SHOP_NAME", default="Tostadero Lumen" if DEBUG else "")
SHOP_URL = env("SHOP_URL", default="https://tostadero-lumen.example/" if DEBUG else "")
# A local image file (SVG, PNG, JPEG...). The portal serves it itself at /shop/logo, so
# emails and pages load nothing from elsewhere. Unset: no logo.
SHOP_LOGO = env(
    "SHOP_LOGO", default=str(BASE_DIR / "feedback/static/feedback/shop-logo.svg") if DEBUG else ""
)
SHOP_POSTAL_ADDRESS = env(
    "SHOP_POSTAL_ADDRESS",
    default="Tostadero Lumen S.L., Calle del Espíritu Santo 21, 28004 Madrid, Spain"
    if DEBUG
    else "",
)
SHOP_PRIVACY_URL = env(
    "SHOP_PRIVACY_URL", default="https://tostadero-lumen.example/privacy" if DEBUG else ""
)
SHOP_SUPPORT_EMAIL = env(
    "SHOP_SUPPORT_EMAIL", default="hola@tostadero-lumen.example" if DEBUG else ""
)
# The sender's address. Its display name is always SHOP_NAME (feedback/shop.py), whatever
# name this one carries.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="feedback@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# What comes back by mail (issue 16). BOUNCE_ADDRESS, e.g. bounces@shop.example: each
# message's envelope sender becomes bounces+<signed id>@shop.example, so a bounce names its
# message and a forged one names nothing (feedback/verp.py). UNSUBSCRIBE_ADDRESS: the
# List-Unsubscribe mailto's address, signed the same way; by default unsubscribe@ the bounce
# address's domain. Both unset: envelope sender = From, and only the one-click URL.
BOUNCE_ADDRESS = env("BOUNCE_ADDRESS", default="")
UNSUBSCRIBE_ADDRESS = env(
    "UNSUBSCRIBE_ADDRESS",
    default=f"unsubscribe@{BOUNCE_ADDRESS.rpartition('@')[2]}" if "@" in BOUNCE_ADDRESS else "",
)
# Soft bounces (4.x.x) suppress an address only once this many arrive within this window.
BOUNCE_SOFT_LIMIT = env.int("BOUNCE_SOFT_LIMIT", default=3)
BOUNCE_SOFT_WINDOW_DAYS = env.int("BOUNCE_SOFT_WINDOW_DAYS", default=14)
# Providers' webhooks (django-anymail, under /mail/anymail/): "user:password" that every
# provider must send as HTTP basic auth. Unset: the webhooks are not served at all, since
# anymail would otherwise accept posts from anyone.
ANYMAIL_WEBHOOK_SECRET = env("ANYMAIL_WEBHOOK_SECRET", default="")
# Mailgun also signs its webhooks: its "HTTP webhook signing key".
if env("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY", default=""):
    ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY = env("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "feedback:login"

# Sign-in throttling (django-axes). Failed sign-ins are counted per account and address
# together, in the database (so it holds without Redis and across web processes): a
# guessing loop is stopped, and nobody can lock a colleague out from another address.
# A superuser unlocks sooner in the admin ("Access attempts") or with
# `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    # First, as axes documents: it refuses a locked-out sign-in before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failed sign-ins in a row before the lockout; a successful one starts the count again.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_RESET_ON_SUCCESS = True
# How long a lockout lasts; each try while locked out starts it again, so a script that
# keeps guessing stays locked out.
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# The client's address as the customer pages' rate limits see it (BEHIND_TLS_PROXY aware).
AXES_CLIENT_IP_CALLABLE = "feedback.ratelimit.client_ip"
# The lockout page in the portal's look, saying when to try again and whom to ask.
AXES_LOCKOUT_CALLABLE = "feedback.views.errors.locked_out"
# Superusers see and clear attempts in the admin; the roles' groups have no access.
AXES_ENABLE_ADMIN = True
# Failures and lockouts are still logged; this only drops the banner at every process start.
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "feedback" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Bootstrap comes from a pip package and is served by us: no CDN, pages work offline.
STATICFILES_DIRS = [("bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security: secure by default whenever DEBUG is off; each switch can be set by env.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    # Only trust X-Forwarded-Proto when a proxy we run strips it from client requests.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
# /healthz is probed by load balancers over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "feedback.views.errors.csrf_failure"
# Our own files only: no inline scripts, no third-party requests, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# The customer pages under /f/: limits per client address and per link, in the shared cache.
FEEDBACK_RATE_WINDOW_SECONDS = env.int("FEEDBACK_RATE_WINDOW_SECONDS", default=60)
FEEDBACK_RATE_PER_IP = env.int("FEEDBACK_RATE_PER_IP", default=120)
FEEDBACK_RATE_PER_TOKEN = env.int("FEEDBACK_RATE_PER_TOKEN", default=30)
# Unknown links per address per 10 minutes before every /f/ request gets 429.
FEEDBACK_RATE_MISSES_PER_IP = env.int("FEEDBACK_RATE_MISSES_PER_IP", default=20)
# The REST API (/api/v1/): requests per token per window, in the shared cache, and the
# largest body read (a list of 1,000 orders is well under 2 MB; Django's own limit,
# DATA_UPLOAD_MAX_MEMORY_SIZE, must stay above it).
API_RATE_WINDOW_SECONDS = env.int("API_RATE_WINDOW_SECONDS", default=60)
API_RATE_PER_TOKEN = env.int("API_RATE_PER_TOKEN", default=600)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, API_MAX_BODY_BYTES + 1)
# Shop platforms' webhooks in (/webhooks/shopify, /webhooks/woocommerce): each platform's
# shared secret signs its deliveries. Unset: that platform's endpoint is off (404).
SHOPIFY_WEBHOOK_SECRET = env("SHOPIFY_WEBHOOK_SECRET", default="")
WOOCOMMERCE_WEBHOOK_SECRET = env("WOOCOMMERCE_WEBHOOK_SECRET", default="")
# Origins (scheme://host[:port]) whose pages may frame the reviews widget, besides the
# portal itself: its CSP frame-ancestors. Browsers refuse it inside any other site.
REVIEWS_WIDGET_ORIGINS = env.list("REVIEWS_WIDGET_ORIGINS", default=[])
# Contact requests: replies and telling the team.
# Customers' replies come back to REPLY_ADDRESS's local part + a signed tag ("reply@shop.example"
# -> "reply+42-<signature>@shop.example"); unset, staff replies carry no Reply-To.
REPLY_ADDRESS = env("REPLY_ADDRESS", default="")
# The shop's time zone: business hours and first-response due times are counted in it.
SHOP_TIME_ZONE = env("SHOP_TIME_ZONE", default="Europe/Madrid" if DEBUG else "UTC")
# Who hears of each new contact request, a product's CSAT slip and a webhook endpoint switched
# off: an address (or several, comma-separated), and a Slack-compatible incoming webhook.
TEAM_EMAIL = env("TEAM_EMAIL", default="")
TEAM_CHAT_WEBHOOK_URL = env("TEAM_CHAT_WEBHOOK_URL", default="")
# "each": one message per request; "daily": one digest a day of the previous day's requests.
TEAM_NOTIFY = env("TEAM_NOTIFY", default="each")
# How often a staff reply or a team message is retried when the mail server or webhook
# does not take it (waiting 1, 4, 16... x the backoff, at most 5 min), before it is "not sent".
NOTIFY_MAX_RETRIES = env.int("NOTIFY_MAX_RETRIES", default=4)
NOTIFY_RETRY_BACKOFF_SECONDS = env.int("NOTIFY_RETRY_BACKOFF_SECONDS", default=30)
# How long a customer may change their answer from the same link.
RESPONSE_EDITABLE_DAYS = env.int("RESPONSE_EDITABLE_DAYS", default=7)

# Celery: explicit settings, each with its reason.
# The filesystem transport ignores the host; naming one spares a warning at every start.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
if not REDIS_URL:
    # The embedded broker for a demo or a small shop: messages are files in var/broker/.
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "store_processed": False,
        # Where broadcasts (e.g. a worker's shutdown) keep their exchange tables; kombu's
        # default, control/ in the working directory, would litter the checkout.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers unacked messages after this; we never publish eta/countdown far
        # ahead (see portal/celery.py), so one hour is never reached by design.
        "visibility_timeout": 3600,
        # A publish (the sweep's) and /healthz's broker check give up after this instead of
        # hanging on a Redis that is down or silent. A worker waits for tasks (BRPOP) in
        # its event loop, reading only when Redis has answered: no socket timeout applies
        # there, so a short one never cuts that long wait.
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
# JSON only: no pickle, so a message on the broker can never execute code.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Nobody reads task results: the database rows are the outcome.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A stuck SMTP conversation must not hold a worker forever.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Ack on receipt: a lost task is re-found by the next sweep, a redelivered one could re-send.
CELERY_TASK_ACKS_LATE = False
# Fetch one message at a time so a slow batch does not hoard work other workers could do.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers start before Redis in some deployments: keep trying instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tests and production run tasks in real workers; eager mode hides broker behaviour.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Days-ahead work is a database row with due_at, never a Celery eta (see DESIGN §4).
MAX_TASK_ETA_SECONDS = 300
# How often beat checks whether a product's CSAT slipped (feedback.services.alerts).
PRODUCT_ALERT_INTERVAL_SECONDS = env.int("PRODUCT_ALERT_INTERVAL_SECONDS", default=900)
CELERY_BEAT_SCHEDULE = {
    "invitations-sweep": {
        "task": "feedback.tasks.invitations_sweep",
        "schedule": 60.0,
        # A sweep not started within the minute is replaced by the next one.
        "options": {"expires": 55},
    },
    # Has a product's CSAT slipped? A check replaced by the next one if not started in time.
    "product-alerts": {
        "task": "feedback.tasks.product_alerts_evaluate",
        "schedule": float(PRODUCT_ALERT_INTERVAL_SECONDS),
        "options": {"expires": max(PRODUCT_ALERT_INTERVAL_SECONDS - 5, 1)},
    },
    # Hourly: yesterday's digest of contact requests, once (TEAM_NOTIFY=daily), soon after
    # midnight in the shop's time zone whichever hour beat runs; and team messages whose
    # task was lost (Redis down when they were written) queued again.
    "team-notifications": {
        "task": "feedback.tasks.team_notifications_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {
    "task": "feedback.tasks.webhooks_sweep",
    "schedule": 60.0,
    # Picks up deliveries whose task was lost (Redis down at commit) or whose backoff is
    # longer than a Celery countdown may be; a missed minute is replaced by the next one.
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The quiet alert when a product slips (feedback.services.alerts): the recent window is
# tested against the baseline just before it; incidents are emailed to TEAM_EMAIL if set.
PRODUCT_ALERT_RECENT_DAYS = env.int("PRODUCT_ALERT_RECENT_DAYS", default=21)
PRODUCT_ALERT_BASELINE_DAYS = env.int("PRODUCT_ALERT_BASELINE_DAYS", default=90)

# The invitation pipeline.
INVITATION_BATCH_SIZE = env.int("INVITATION_BATCH_SIZE", default=100)
# A queueing sweep (beat's, once a minute) hands out at most this many batches.
INVITATION_SWEEP_MAX_BATCHES = env.int("INVITATION_SWEEP_MAX_BATCHES", default=100)
# A claimed batch whose send task never ran (e.g. Redis lost it) is re-claimed after this.
INVITATION_CLAIM_LEASE_SECONDS = env.int("INVITATION_CLAIM_LEASE_SECONDS", default=600)
# A send still `sending` after this (longer than the task time limit) had its process die:
# it becomes send_unknown, never re-sent automatically.
INVITATION_SENDING_TIMEOUT_SECONDS = env.int("INVITATION_SENDING_TIMEOUT_SECONDS", default=600)
# A refused message is retried this many times in all, waiting 1, 4, 16... x the backoff.
INVITATION_MAX_SEND_ATTEMPTS = env.int("INVITATION_MAX_SEND_ATTEMPTS", default=4)
INVITATION_RETRY_BACKOFF_SECONDS = env.int("INVITATION_RETRY_BACKOFF_SECONDS", default=60)

# Webhooks out (Standard Webhooks): each POST waits this long for an answer.
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Attempts per delivery, waiting 1, 4, 16... x the backoff between them (about two days
# in all with the defaults), then the delivery is given up (a re-send in the admin tries
# again).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BACKOFF_SECONDS = env.int("WEBHOOK_RETRY_BACKOFF_SECONDS", default=30)
# An endpoint whose every attempt has failed for this many days is switched off.
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
