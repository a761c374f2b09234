"""The policy simulator page: a draft policy replayed on past deliveries beside the live one.

Read-only, hence a GET form: nothing is saved, nothing is sent, and a result can be linked.
"""

from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from feedback.models import InvitationPolicy
from feedback.policy_words import describe_changes
from feedback.rules import PolicyRules
from feedback.selectors.simulator import comparison, daily_sends, delivered_count, simulate_many
from feedback.services.policy import policy_snapshot
from feedback.staff_forms import InvitationRulesForm, PeriodForm, draft_policy
from feedback.views.staff import POLICY_PERMISSION, staff_view

# A page request replays at most this many orders (about 5-10 s for both policies);
# `manage.py simulate_policy` has no limit.
PAGE_MAX_ORDERS = 100_000
CHART_HEIGHT = 120
BAR = 4  # each day: a live bar and a draft bar, BAR units wide, then a gap


@dataclass(frozen=True)
class DayBars:
    day: date
    live: int
    draft: int
    x: int
    live_height: float
    draft_height: float

    @property
    def live_y(self) -> float:
        return CHART_HEIGHT - self.live_height

    @property
    def draft_y(self) -> float:
        return CHART_HEIGHT - self.draft_height

    @property
    def draft_x(self) -> int:
        return self.x + BAR


def _chart(series: list[tuple[date, int, int]]) -> dict:
    peak = max((max(live, draft) for _day, live, draft in series), default=0) or 1
    bars = [
        DayBars(
            day,
            live,
            draft,
            i * (2 * BAR + 2),
            round(live * CHART_HEIGHT / peak, 1),
            round(draft * CHART_HEIGHT / peak, 1),
        )
        for i, (day, live, draft) in enumerate(series)
    ]
    return {
        "bars": bars,
        "width": max(len(bars) * (2 * BAR + 2), 1),
        "height": CHART_HEIGHT,
        "peak": peak,
        "bar": BAR,
    }


@staff_view
def simulate(request: HttpRequest) -> HttpResponse:
    live = InvitationPolicy.live()
    submitted = "period_start" in request.GET
    data = request.GET if submitted else None
    policy_form = InvitationRulesForm(data, instance=draft_policy(live))
    period_form = PeriodForm(data, initial=PeriodForm.default_initial())
    context = {
        "policy_form": policy_form,
        "period_form": period_form,
        "can_edit": request.user.has_perm(POLICY_PERMISSION),
    }
    if not submitted:
        return render(request, "feedback/staff/simulate.html", context)
    valid = [policy_form.is_valid(), period_form.is_valid()]
    if not all(valid):
        return render(request, "feedback/staff/simulate.html", context, status=400)
    draft = policy_form.instance
    start, end = period_form.cleaned_data["period_start"], period_form.cleaned_data["period_end"]
    orders = delivered_count(start, end)
    if orders > PAGE_MAX_ORDERS:
        period_form.add_error(
            None,
            _(
                "%(orders)s orders were delivered in this period; this page replays up to "
                "%(limit)s at a time. Choose a shorter period, or run "
                "`manage.py simulate_policy`, which has no limit."
            )
            % {"orders": f"{orders:,}", "limit": f"{PAGE_MAX_ORDERS:,}"},
        )
        return render(request, "feedback/staff/simulate.html", context, status=400)
    live_result, draft_result = simulate_many(
        [PolicyRules.from_policy(live), PolicyRules.from_policy(draft)], start, end
    )
    before, after = policy_snapshot(live), policy_snapshot(draft)
    changes = {k: {"before": before[k], "after": v} for k, v in after.items() if before[k] != v}
    query = request.GET.copy()
    for name in ("period_start", "period_end"):
        query.pop(name, None)
    context.update(
        rows=comparison(live_result, draft_result),
        changes=describe_changes(changes),
        chart=_chart(daily_sends(live_result, draft_result)),
        period=(start, end),
        edit_url=f"{reverse('feedback:policy_edit')}?{query.urlencode()}",
    )
    return render(request, "feedback/staff/simulate.html", context)
