from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.models import InvitationPolicy
from feedback.rules import PolicyRules
from feedback.selectors.simulator import comparison, simulate_many
from feedback.services.policy import AUDITED_FIELDS
from feedback.staff_forms import InvitationRulesForm, draft_policy, policy_form_data

BOOLEANS = {"true": True, "yes": True, "on": True, "1": True}
BOOLEANS |= {"false": False, "no": False, "off": False, "0": False}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--from/--to: {text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Replay the orders delivered in a past period through a draft policy and print it "
        "beside the live policy. Read-only: nothing is saved or sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument(
            "--set",
            dest="changes",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="a draft change, e.g. --set customer_cooldown_days=30 (repeatable); fields: "
            + ", ".join(AUDITED_FIELDS),
        )

    def handle(self, *args: object, start: str, end: str, changes: list[str], **_: object) -> None:
        period_start, period_end = _day(start), _day(end)
        if period_end < period_start:
            raise CommandError("--to: the period must end on or after --from")
        live = InvitationPolicy.live()
        draft = self.draft(live, changes)
        live_result, draft_result = simulate_many(
            [PolicyRules.from_policy(live), PolicyRules.from_policy(draft)],
            period_start,
            period_end,
        )
        self.stdout.write(f"Orders delivered {period_start} to {period_end} (UTC days)")
        self.stdout.write(", ".join(changes) if changes else "Draft = live policy (no --set)")
        self.print_table(comparison(live_result, draft_result))

    def draft(self, live: InvitationPolicy, changes: list[str]) -> InvitationPolicy:
        """The live policy with the --set changes, validated like the staff form."""
        data = policy_form_data(live)
        for change in changes:
            name, sep, value = change.partition("=")
            name = name.strip()
            if not sep or name not in AUDITED_FIELDS:
                raise CommandError(f"--set {change!r}: give FIELD=VALUE with a policy field")
            data[name] = value.strip()
            if isinstance(getattr(live, name), bool):
                data[name] = self.boolean(name, value)
        form = InvitationRulesForm(data, instance=draft_policy(live))
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            raise CommandError(f"--set: {problems}")
        return form.instance

    def boolean(self, name: str, value: str) -> str:
        flag = BOOLEANS.get(value.strip().lower())
        if flag is None:
            raise CommandError(f"--set {name}: {value!r} is not yes/no, true/false, on/off or 1/0")
        return "on" if flag else ""

    def print_table(self, rows: list) -> None:
        width = max(len(row.label) for row in rows)
        self.stdout.write(f"{'':<{width}}  {'live':>10}  {'draft':>10}  {'difference':>10}")
        for row in rows:
            self.stdout.write(
                f"{row.label:<{width}}  {row.live!s:>10}  {row.draft!s:>10}  {row.difference:>10}"
            )
