"""The staff dashboard at /staff/ and its CSV export, both filtered by one GET form."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from feedback import exports
from feedback.models import InvitationPolicy
from feedback.selectors import contacts as contact_reads
from feedback.selectors import dashboard, deliverability
from feedback.selectors.alerts import open_alerts
from feedback.selectors.topics import topics_panel
from feedback.views.staff import POLICY_PERMISSION, staff_view

PERIODS = [
    ("7", gettext_lazy("Last 7 days")),
    ("30", gettext_lazy("Last 30 days")),
    ("90", gettext_lazy("Last 90 days")),
    ("365", gettext_lazy("Last 365 days")),
    ("custom", gettext_lazy("Custom range")),
]
DEFAULT_PERIOD = "30"
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=PERIODS, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel / store"), required=False)
    sku = forms.CharField(label=gettext_lazy("Product (SKU)"), required=False, max_length=100)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        channels = dashboard.channel_choices()
        self.fields["channel"].choices = [("", _("All channels"))] + [(c, c) for c in channels]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "" and (start or end):
            data["period"] = "custom"  # dates given without a period: they are the period
        if data.get("period") != "custom":
            return data
        if not start:
            self.add_error("start", _("Give the first day of the custom range."))
        if not end:
            self.add_error("end", _("Give the last day of the custom range."))
        for name in ("start", "end"):
            day = data.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(
                    name,
                    _("Choose a day between %(first)s and %(last)s.")
                    % {"first": EARLIEST, "last": LATEST},
                )
        if start and end and start > end:
            self.add_error("end", _("The last day must not be before the first day."))
        return data

    def chosen_period(self) -> str:
        return self.cleaned_data.get("period") or DEFAULT_PERIOD

    def filters(self, now: datetime) -> dashboard.Filters:
        """The period as [start, end) in the current time zone, and the narrowing filters.

        A period is whole days: "Last 7 days" is today and the six days before, so the
        dates the page states are exactly the days counted (and the daily rollups answer
        for them whole)."""
        data = self.cleaned_data
        period = self.chosen_period()
        if period == "custom":
            start = _midnight(data["start"])
            end = _midnight(data["end"] + timedelta(days=1))
        else:
            today = timezone.localdate(now)
            start = _midnight(today - timedelta(days=int(period) - 1))
            end = _midnight(today + timedelta(days=1))
        return dashboard.Filters(start, end, data.get("channel", ""), data.get("sku", "").strip())

    def period_text(self, filters: dashboard.Filters, now: datetime) -> str:
        """The period's name, its first and last day, and how many days it covers."""
        first, last = dashboard.period_days(filters.start, filters.end)
        days = (last - first).days + 1
        covers = ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
        if first <= timezone.localdate(now) <= last:
            covers = _("%(days)s, today until now") % {"days": covers}
        label = dict(PERIODS)[self.chosen_period()]
        return f"{label}: {dashboard.day_range(first, last)} ({covers})"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _form(request: HttpRequest) -> DashboardFilterForm:
    # No filters at all (the first visit) is the default period, not an error.
    return DashboardFilterForm(request.GET or {"period": DEFAULT_PERIOD})


@staff_view
def dashboard_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        context = {"form": form, "figures": None, "alerts": open_alerts(), **_sending(request)}
        return render(request, "feedback/staff/dashboard.html", context, status=400)
    now = timezone.now()
    filters = form.filters(now)
    alerts = open_alerts()
    context = {
        "alerts": alerts,
        "form": form,
        "filters": filters,
        "period_text": form.period_text(filters, now),
        "figures": dashboard.dashboard_figures(filters),
        "response_times": contact_reads.response_time_stats(
            responses=dashboard.responses(filters), now=now
        ),
        "export_query": request.GET.urlencode(),
        "topics": topics_panel(filters, alerted=[alert.sku for alert in alerts]),
        "search_query": _period_query(form),
        "deliverability": deliverability.deliverability_panel(
            start=filters.start, end=filters.end, policy=InvitationPolicy.live()
        ),
        **_sending(request),
    }
    return render(request, "feedback/staff/dashboard.html", context)


def _period_query(form: DashboardFilterForm) -> str:
    """The period of the page, for links to the comment search (topics count all channels)."""
    data = form.cleaned_data
    query = QueryDict(mutable=True)
    query["period"] = form.chosen_period()
    if query["period"] == "custom":
        query["start"], query["end"] = str(data["start"]), str(data["end"])
    return query.urlencode()


def _sending(request: HttpRequest) -> dict[str, object]:
    """The brake's banner: the pause in force, if any, and whether this user may resume."""
    return {
        "brake": deliverability.open_pause(),
        "can_resume": request.user.has_perm(POLICY_PERMISSION),
    }


@staff_view
def export_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(
            f"Bad filter: {problems}\n", status=400, content_type="text/plain; charset=utf-8"
        )
    filters = form.filters(timezone.now())
    name = f"responses-{filters.start:%Y%m%d}-{filters.end - timedelta(microseconds=1):%Y%m%d}"
    response = StreamingHttpResponse(
        exports.csv_lines(exports.export_rows(filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
