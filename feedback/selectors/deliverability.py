"""Deliverability figures: the brake's rolling rates and the dashboard's panel.

Every delivery fact is a DeliveryEvent row, whatever brought it (an SMTP reply, a bounce
message, an abuse report, a provider's webhook); "sent" is every message handed to the
mail server, one EmailLog row each.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, Value
from django.db.models.functions import Lower, StrIndex, Substr
from django.utils.translation import gettext_lazy as _

from feedback.models import DeliveryEvent, EmailLog, InvitationPolicy, SendingPause, Suppression

Kind = DeliveryEvent.Kind
BAD = [Kind.COMPLAINT, Kind.HARD_BOUNCE]
# The receiving domains the panel lists, the busiest first.
TOP_DOMAINS = 5


# The brake ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrakeFigures:
    """The rolling window as the brake sees it: since when, the messages sent in it, the
    complaints and hard bounces that came back in it, and the policy's lines (percent)."""

    since: datetime
    sent: int
    complaints: int
    hard_bounces: int
    complaint_line: float
    hard_bounce_line: float
    min_messages: int

    @property
    def complaint_percent(self) -> float:
        return 100 * self.complaints / self.sent if self.sent else 0.0

    @property
    def hard_bounce_percent(self) -> float:
        return 100 * self.hard_bounces / self.sent if self.sent else 0.0

    @property
    def counts(self) -> bool:
        """Too few messages make a rate of noise: one complaint in ten is not 10%."""
        return self.sent >= self.min_messages

    def over_line(self) -> str:
        """The SendingPause reason whose line a rate has passed, or ""."""
        if not self.counts:
            return ""
        if self.complaint_percent > self.complaint_line:
            return SendingPause.Reason.COMPLAINTS
        if self.hard_bounce_percent > self.hard_bounce_line:
            return SendingPause.Reason.HARD_BOUNCES
        return ""

    def as_json(self) -> dict:
        figures = asdict(self)
        figures["since"] = self.since.isoformat()
        figures["complaint_percent"] = round(self.complaint_percent, 3)
        figures["hard_bounce_percent"] = round(self.hard_bounce_percent, 3)
        return figures


def latest_pause() -> SendingPause | None:
    return SendingPause.objects.order_by("-paused_at", "-pk").first()


def open_pause() -> SendingPause | None:
    """The pause in force, if sending is paused."""
    pause = latest_pause()
    return pause if pause is not None and pause.resumed_at is None else None


def window_start(policy: InvitationPolicy, now: datetime, latest: SendingPause | None) -> datetime:
    """The last `brake_window_days` days, but never before the last resume: Ops resumed
    knowing those figures, and the brake counts afresh from then."""
    since = now - timedelta(days=policy.brake_window_days)
    if latest is not None and latest.resumed_at is not None:
        since = max(since, latest.resumed_at)
    return since


def bad_events_since(since: datetime) -> int:
    """Complaints and hard bounces in the window: none (the usual case) means no rate can
    be over its line, and the brake need not count the messages."""
    return DeliveryEvent.objects.filter(kind__in=BAD, occurred_at__gte=since).count()


def brake_figures(
    *, policy: InvitationPolicy, now: datetime, latest: SendingPause | None = None
) -> BrakeFigures:
    """The window's figures: the last `brake_window_days` days (since the last resume),
    shortened to the latest `brake_window_messages` messages when more were sent."""
    since = window_start(policy, now, latest if latest is not None else latest_pause())
    in_window = EmailLog.objects.filter(created_at__gte=since)
    nth_latest = in_window.order_by("-created_at").values_list("created_at", flat=True)[
        policy.brake_window_messages - 1 : policy.brake_window_messages
    ]
    since = max([since, *nth_latest])
    events = DeliveryEvent.objects.filter(occurred_at__gte=since).aggregate(
        complaints=Count("pk", filter=Q(kind=Kind.COMPLAINT)),
        hard_bounces=Count("pk", filter=Q(kind=Kind.HARD_BOUNCE)),
    )
    return BrakeFigures(
        since=since,
        sent=EmailLog.objects.filter(created_at__gte=since).count(),
        complaints=events["complaints"],
        hard_bounces=events["hard_bounces"],
        complaint_line=policy.brake_complaint_percent,
        hard_bounce_line=policy.brake_hard_bounce_percent,
        min_messages=policy.brake_min_messages,
    )


# The dashboard's panel --------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRow:
    key: str
    label: str
    count: int
    # Percent of the messages sent; None when none were sent.
    percent: float | None
    # The policy's line for this rate (percent), where it has one.
    line: float | None = None

    @property
    def over(self) -> bool:
        return self.line is not None and self.percent is not None and self.percent > self.line


@dataclass(frozen=True)
class DomainRow:
    domain: str
    sent: int
    counts: dict[str, int]

    def percent(self, kind: str) -> float | None:
        return 100 * self.counts.get(kind, 0) / self.sent if self.sent else None

    @property
    def cells(self) -> list[tuple[int, float | None]]:
        """Each event kind's count and rate, in the panel's column order."""
        return [(self.counts.get(kind, 0), self.percent(kind)) for kind in Kind.values]


@dataclass(frozen=True)
class Panel:
    sent: int
    rows: list[PanelRow]
    domains: list[DomainRow]
    suppressions: list[tuple[str, int]]

    @property
    def suppressed_total(self) -> int:
        return sum(count for _label, count in self.suppressions)


ROW_LABELS = {
    Kind.DELIVERED: _("Delivered (as the provider reports)"),
    Kind.HARD_BOUNCE: _("Hard bounces"),
    Kind.SOFT_BOUNCE: _("Soft bounces"),
    Kind.COMPLAINT: _("Spam complaints"),
    Kind.UNSUBSCRIBE: _("Unsubscribes"),
}


def _domain(field: str) -> Lower:
    return Lower(Substr(field, StrIndex(field, Value("@")) + 1))


def deliverability_panel(*, start: datetime, end: datetime, policy: InvitationPolicy) -> Panel:
    """The period's messages and what came back about them, in all and for the busiest
    receiving domains, and the suppression list's size by reason, in five queries."""
    logs = EmailLog.objects.filter(created_at__gte=start, created_at__lt=end)
    events = DeliveryEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    sent = logs.count()
    by_kind = dict(events.values_list("kind").annotate(n=Count("pk")).order_by())
    lines = {
        Kind.COMPLAINT: policy.brake_complaint_percent,
        Kind.HARD_BOUNCE: policy.brake_hard_bounce_percent,
    }
    rows = [
        PanelRow(
            key=kind,
            label=str(ROW_LABELS[kind]),
            count=by_kind.get(kind, 0),
            percent=100 * by_kind.get(kind, 0) / sent if sent else None,
            line=lines.get(kind),
        )
        for kind in Kind.values
    ]
    return Panel(sent=sent, rows=rows, domains=_domains(logs, events), suppressions=_suppressions())


def _domains(logs: object, events: object) -> list[DomainRow]:
    busiest = list(
        logs.exclude(to_email="")
        .annotate(domain=_domain("to_email"))
        .values_list("domain")
        .annotate(n=Count("pk"))
        .order_by("-n", "domain")[:TOP_DOMAINS]
    )
    counts: dict[str, dict[str, int]] = {domain: {} for domain, _n in busiest}
    rows = (
        events.annotate(domain=Lower("recipient_domain"))
        .filter(domain__in=list(counts))
        .values_list("domain", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for domain, kind, n in rows:
        counts[domain][kind] = n
    return [DomainRow(domain, n, counts[domain]) for domain, n in busiest]


def _suppressions() -> list[tuple[str, int]]:
    labels = dict(Suppression.Reason.choices)
    rows = Suppression.objects.values_list("reason").annotate(n=Count("pk")).order_by("reason")
    return [(str(labels.get(reason, reason)), n) for reason, n in rows]
