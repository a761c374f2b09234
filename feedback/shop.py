"""The shop's identity (SHOP_* settings), as emails and pages show it."""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Shop:
    name: str
    url: str
    # The portal's own URL of the logo (a path, for pages); "" without a logo.
    logo_path: str
    postal_address: str
    privacy_url: str
    support_email: str


def shop_identity() -> Shop:
    return Shop(
        name=settings.SHOP_NAME,
        url=settings.SHOP_URL,
        logo_path=reverse("feedback:shop_logo") if settings.SHOP_LOGO else "",
        postal_address=settings.SHOP_POSTAL_ADDRESS,
        privacy_url=settings.SHOP_PRIVACY_URL,
        support_email=settings.SHOP_SUPPORT_EMAIL,
    )


def from_address() -> str:
    """DEFAULT_FROM_EMAIL's address under the shop's name: `"Tostadero Lumen" <a@b>`."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((settings.SHOP_NAME, address))


def context_processor(request: HttpRequest) -> dict[str, Shop]:
    return {"shop": shop_identity()}
