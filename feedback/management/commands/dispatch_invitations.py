from django.core.management.base import BaseCommand, CommandParser

from feedback import services
from feedback.tasks import enqueue_send_batch


class Command(BaseCommand):
    help = (
        "Run one invitation sweep now, in this process, and print a one-line summary. "
        "Safe alongside itself, beat and the workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue the claimed batches for the Celery workers instead of sending them "
            "from this process.",
        )

    def handle(self, *args: object, queue: bool, **options: object) -> None:
        summary = services.invitations_sweep(
            send=enqueue_send_batch if queue else services.send_here
        )
        self.stdout.write(f"dispatch_invitations: {summary}")
