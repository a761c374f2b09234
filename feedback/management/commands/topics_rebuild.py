"""Recount what comments talk about from the comments themselves."""

from django.core.management.base import BaseCommand

from feedback.services.topics import topic_counts_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the per-day term counts of the topics panel from the comments (after "
        "loading answers by SQL, or a restore). Answers get their customer's language."
    )

    def handle(self, *args: object, **options: object) -> None:
        counted = topic_counts_rebuild()
        self.stdout.write(f"Topics rebuilt: {counted} comments counted.")
