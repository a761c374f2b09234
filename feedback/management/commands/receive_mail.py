"""`manage.py receive_mail [--recipient ADDRESS] < message`: one message from the mail server.

For an MTA's pipe transport (see the README for Postfix). Exit status follows sysexits.h as
mail servers expect: 0 when the message is stored (whatever it turned out to be), 75
(EX_TEMPFAIL) when it could not be stored, so the mail server keeps it and tries again.
"""

import sys

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from feedback.services.inbound import inbound_receive

EX_TEMPFAIL = 75
EX_DATAERR = 65


class Command(BaseCommand):
    help = "Read one email message on standard input: bounce, complaint, unsubscribe or reply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient",
            default="",
            help="The envelope recipient (Postfix: ${recipient}); else the message's headers.",
        )

    def handle(self, *args: object, recipient: str, **options: object) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("receive_mail: no message on standard input")
            sys.exit(EX_DATAERR)
        try:
            record = inbound_receive(raw, recipient=recipient)
        except DatabaseError as exc:
            self.stderr.write(f"receive_mail: could not store the message, try later: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"stored inbound message {record.pk}: {record.get_kind_display()}")
