from django.core.management.base import BaseCommand, CommandParser

from feedback import services
from feedback.tasks import enqueue_send_batch


class Command(BaseCommand):
    help = "Run one invitation sweep now, in this process; prints a one-line summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--send-inline",
            action="store_true",
            help="Send the claimed batches from this process instead of queueing them "
            "for the Celery workers.",
        )

    def handle(self, *args: object, send_inline: bool, **options: object) -> None:
        if send_inline:
            summary = services.invitations_sweep(
                send=lambda ids: services.invitation_send_batch(invitation_ids=ids)
            )
        else:
            summary = services.invitations_sweep(send=enqueue_send_batch)
        self.stdout.write(f"dispatch_invitations: {summary}")
