"""`manage.py customer_export EMAIL`: everything about one customer as JSON on stdout."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from feedback.services.privacy import customer_by_email, customer_export


class Command(BaseCommand):
    help = "Export everything held about a customer as JSON (recorded in Privacy audits)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: object, email: str, **options: object) -> None:
        customer = customer_by_email(email)
        if customer is None:
            raise CommandError(f"no customer has the address {email!r}")
        data = customer_export(customer=customer, performed_by=None)
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))
