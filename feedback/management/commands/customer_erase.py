"""`manage.py customer_erase EMAIL`: erase a customer's personal data (see
feedback.services.privacy); asks first unless --no-input."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.services.privacy import customer_by_email, customer_erase


class Command(BaseCommand):
    help = "Erase a customer's personal data; ratings stay, anonymous (recorded in Privacy audits)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: object, email: str, interactive: bool, **options: object) -> None:
        customer = customer_by_email(email)
        if customer is None:
            raise CommandError(f"no customer has the address {email!r}")
        if interactive:
            answer = input(f"Erase the personal data of customer {customer.pk}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("nothing erased")
        customer_erase(customer=customer, performed_by=None)
        self.stdout.write(f"Erased customer {customer.pk}; their address stays suppressed.")
