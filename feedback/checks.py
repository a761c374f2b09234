"""System checks of the shop's identity (DESIGN §8): every email and customer page carries
it, so production must not run without it; and of the origins allowed to frame the reviews
widget."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register(deploy=True)
def shop_name_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """SHOP_NAME is set: it is the sender's name and the title of every customer page.
    (With DEBUG on, the demo's shop stands in.)"""
    if settings.SHOP_NAME:
        return []
    return [
        Warning(
            "SHOP_NAME is not set: emails and customer pages would not say who sent them.",
            hint="Set SHOP_NAME, and SHOP_URL, SHOP_LOGO, SHOP_POSTAL_ADDRESS and "
            "SHOP_PRIVACY_URL, in the environment.",
            id="feedback.W001",
        )
    ]


@register()
def shop_logo_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """SHOP_LOGO, when set, is an image file the portal can read and serve."""
    if not settings.SHOP_LOGO:
        return []
    content_type, _encoding = mimetypes.guess_type(settings.SHOP_LOGO)
    if Path(settings.SHOP_LOGO).is_file() and (content_type or "").startswith("image/"):
        return []
    return [
        Warning(
            f"SHOP_LOGO ({settings.SHOP_LOGO}) is not an image file: pages and emails show "
            "no logo.",
            hint="Point SHOP_LOGO to a local .svg, .png or .jpg file, or unset it.",
            id="feedback.W002",
        )
    ]


@register()
def widget_origins_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Each REVIEWS_WIDGET_ORIGINS entry is an origin: scheme://host[:port]."""
    from feedback.views.reviews import ORIGIN

    return [
        Error(
            f"REVIEWS_WIDGET_ORIGINS: {origin!r} is not an origin; the widget ignores it.",
            hint="Write each as scheme://host[:port], e.g. https://www.example.com, "
            "comma-separated, with no path and no trailing slash.",
            id="feedback.E003",
        )
        for origin in settings.REVIEWS_WIDGET_ORIGINS
        if not ORIGIN.fullmatch(origin)
    ]


@register()
def return_address_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """BOUNCE_ADDRESS and UNSUBSCRIBE_ADDRESS, when set, are plain addresses: the portal adds
    its own `+<signed tag>` to their local part."""
    problems = []
    for name in ("BOUNCE_ADDRESS", "UNSUBSCRIBE_ADDRESS"):
        value = getattr(settings, name)
        local, at, domain = value.rpartition("@")
        if value and (not at or not local or not domain or "+" in local or " " in value):
            problems.append(
                Error(
                    f"{name} ({value}) is not a plain address like bounces@shop.example.",
                    hint="Give the address without a +tag; the portal signs one in per message.",
                    id="feedback.E016",
                )
            )
    return problems


DKIM_SETTINGS = ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE")


@register()
def dkim_key_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """With DKIM_* set, the private key loads and signs: a key that cannot would otherwise
    show only as failed sends."""
    missing = [name for name in DKIM_SETTINGS if not getattr(settings, name, "")]
    if len(missing) == len(DKIM_SETTINGS):
        return []
    if missing:
        return [
            Error(
                f"DKIM is half configured: {', '.join(missing)} not set.",
                hint="Set all of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE, or none.",
                id="feedback.E001",
            )
        ]
    return _dkim_key_problems(settings.DKIM_PRIVATE_KEY_FILE)


def _dkim_key_problems(path: str) -> list[CheckMessage]:
    from feedback.mail import dkim_sign

    try:
        key = Path(path).read_bytes()
        dkim_sign(b"From: check@example.com\r\nSubject: check\r\n\r\ncheck\r\n", private_key=key)
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror})"
    except Exception as exc:
        problem = f"does not hold an RSA private key in PEM form ({exc})"
    else:
        return []
    return [
        Error(
            f"DKIM_PRIVATE_KEY_FILE ({path}) {problem}: messages could not be signed.",
            hint="Point DKIM_PRIVATE_KEY_FILE to the PEM file of the key whose public half "
            "`manage.py dkim_dns_record` prints (openssl genrsa -out dkim.pem 2048).",
            id="feedback.E002",
        )
    ]
