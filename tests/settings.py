"""Test settings: the project's settings on PostgreSQL + Redis when reachable, else SQLite."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.services import detect

SERVICES = detect()
# A developer's .env (written by `make run`) is for their commands, never for the tests;
# the worker and command processes the tests start inherit this too.
os.environ["PORTAL_READ_DOTENV"] = "0"
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else-0123456789")
os.environ["DEBUG"] = "0"
os.environ["DATABASE_URL"] = SERVICES.database_url or "sqlite:///:memory:"
if SERVICES.redis_url:
    os.environ["REDIS_URL"] = SERVICES.redis_url
else:
    os.environ.pop("REDIS_URL", None)
os.environ.setdefault("PORTAL_BASE_URL", "http://testserver")
# Production settings (DEBUG off) need the shop's identity; the demo's, as the tests expect.
_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SHOP_NAME", "Tostadero Lumen")
os.environ.setdefault("SHOP_URL", "https://tostadero-lumen.example/")
os.environ.setdefault("SHOP_LOGO", str(_ROOT / "feedback/static/feedback/shop-logo.svg"))
os.environ.setdefault(
    "SHOP_POSTAL_ADDRESS", "Tostadero Lumen S.L., Calle del Espíritu Santo 21, 28004 Madrid, Spain"
)
os.environ.setdefault("SHOP_PRIVACY_URL", "https://tostadero-lumen.example/privacy")
os.environ.setdefault("SHOP_SUPPORT_EMAIL", "hola@tostadero-lumen.example")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "feedback@tostadero-lumen.example")
# Providers' webhooks are served only with a secret (basic auth); Mailgun also signs.
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "anymail-tests:webhook-secret-0123")
os.environ.setdefault("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY", "key-mailgun-tests-signing-0123")

from portal.settings import *  # noqa: E402, F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come from the finders in tests; whitenoise only needs the folder to exist.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
if SERVICES.redis_url:
    # The cache gets a Redis database of its own, so clearing it never touches the broker.
    _broker = urlsplit(SERVICES.redis_url)
    _db = int(_broker.path.strip("/") or 0)
    CACHES["default"]["LOCATION"] = urlunsplit(  # noqa: F405
        (_broker.scheme, _broker.netloc, f"/{_db ^ 1}", _broker.query, _broker.fragment)
    )
