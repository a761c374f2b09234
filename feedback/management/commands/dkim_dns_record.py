"""Print the DNS TXT record that publishes the DKIM public key (from DKIM_* settings)."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feedback.mail import dkim_private_key

# A TXT record is a list of strings of at most 255 bytes each; resolvers join them.
TXT_CHUNK = 250


def dns_record(private_key_pem: bytes, *, selector: str, domain: str) -> str:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        kind = "rsa"
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        kind = "ed25519"  # RFC 8463: the raw 32-byte key
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    else:
        raise ValueError("the key is neither RSA nor Ed25519")
    value = f"v=DKIM1; k={kind}; p={base64.b64encode(public).decode()}"
    parts = [value[start : start + TXT_CHUNK] for start in range(0, len(value), TXT_CHUNK)]
    strings = " ".join(f'"{part}"' for part in parts)
    return f"{selector}._domainkey.{domain}. IN TXT ( {strings} )"


class Command(BaseCommand):
    help = "Print the DNS TXT record to publish for DKIM (DKIM_DOMAIN, DKIM_SELECTOR, key file)."

    def handle(self, *args: object, **options: object) -> None:
        missing = [
            name
            for name in ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE")
            if not getattr(settings, name)
        ]
        if missing:
            raise CommandError(f"set {', '.join(missing)} first")
        try:
            record = dns_record(
                dkim_private_key(), selector=settings.DKIM_SELECTOR, domain=settings.DKIM_DOMAIN
            )
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(
                f"DKIM_PRIVATE_KEY_FILE ({settings.DKIM_PRIVATE_KEY_FILE}): {exc}"
            ) from None
        self.stdout.write(record)
