"""Demo data for `make run`: the story in feedback.demo, and where to look at it."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from feedback import demo, emails
from feedback.models import Invitation


class Command(BaseCommand):
    help = "Create demo customers, orders and invitation history (idempotent), and a demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo login's password is public.",
        )

    def handle(self, *args: object, force: bool, **options: object) -> None:
        # The demo superuser has a published password: never create it on a live site by accident.
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates a superuser with a public password; set DEBUG=1")
        seeded = demo.demo_seed(now=timezone.now())
        made = ", ".join(f"{count} {name}" for name, count in seeded.created.items() if count)
        self.stdout.write(f"Demo data: {'created ' + made if made else 'already there'}.")
        base = settings.PORTAL_BASE_URL
        self.stdout.write(f"Staff login:  {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}")
        self.stdout.write(f"Dashboard:    {base}{reverse('feedback:dashboard')}")
        self.stdout.write(f"Admin:        {base}/admin/")
        self.stdout.write(f"Outbox:       {base}{reverse('feedback:outbox')}")
        self.stdout.write(f"Reviews:      {base}{reverse('feedback:reviews')}")
        self.stdout.write(f"Widget:       {base}{reverse('feedback:reviews_widget')}")
        self.stdout.write(f"Health:       {base}{reverse('healthz')}")
        self.print_invitation(seeded.invitation)

    def print_invitation(self, invitation: Invitation) -> None:
        if invitation.state != invitation.State.SENT:
            reason = invitation.suppression_reason or invitation.state
            self.stdout.write(
                f"No invitation to answer: the live policy holds new ones ({reason})."
            )
            return
        self.stdout.write(f"Answer an invitation as a customer (order {invitation.order}):")
        self.stdout.write(f"  {emails.invitation_link(invitation)}")
