from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from feedback.services.rollups import rollups_reconcile

# A range is reconciled a month at a time: each month is one transaction, so a repair
# never holds the locks of a whole year's rows at once.
CHUNK_DAYS = 31


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"not a day (YYYY-MM-DD): {value!r}") from error


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's daily rollups of a range of days from the raw rows and "
        "report each difference; with --repair, correct the stored rows. Exits 1 when it "
        "found differences and did not repair them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="first", help="first day, YYYY-MM-DD (default: 30 days ago)"
        )
        parser.add_argument(
            "--to", dest="last", help="last day, YYYY-MM-DD, included (default: today)"
        )
        parser.add_argument("--repair", action="store_true", help="correct the stored rows")

    def handle(
        self, *args: object, first: str | None, last: str | None, repair: bool, **options: object
    ) -> None:
        today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
        last_day = day(last) if last else today
        first_day = day(first) if first else last_day - timedelta(days=29)
        if first_day > last_day:
            raise CommandError("--from must not be after --to")
        found = 0
        start = first_day
        while start <= last_day:
            end = min(start + timedelta(days=CHUNK_DAYS - 1), last_day)
            for difference in rollups_reconcile(first=start, last=end, repair=repair):
                self.stdout.write(str(difference))
                found += 1
            start = end + timedelta(days=1)
        verb = "repaired" if repair else "found"
        self.stdout.write(
            f"reconcile_rollups: {first_day} to {last_day}, {found} difference(s) {verb}"
        )
        if found and not repair:
            raise SystemExit(1)
