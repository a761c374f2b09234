"""Comment search at /staff/search/: the dashboard's period and filters, and some words."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from feedback.selectors.search import RESULTS_SHOWN, comment_search
from feedback.views.staff import staff_view
from feedback.views.staff_dashboard import DEFAULT_PERIOD, DashboardFilterForm


class CommentSearchForm(DashboardFilterForm):
    q = forms.CharField(
        label=gettext_lazy("Words"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            'English or Spanish; "leaks" also finds "leaking", "fuga" finds "fugas". '
            'Put a phrase in quotes ("lid leaks"); a minus leaves a word out (-courier).'
        ),
    )


@staff_view
def comment_search_page(request: HttpRequest) -> HttpResponse:
    form = CommentSearchForm(request.GET or {"period": DEFAULT_PERIOD})
    context: dict[str, object] = {"form": form, "results": None, "shown": RESULTS_SHOWN}
    if not form.is_valid():
        return render(request, "feedback/staff/search.html", context, status=400)
    now = timezone.now()
    filters = form.filters(now)
    context.update(filters=filters, period_text=form.period_text(filters, now))
    words = form.cleaned_data["q"].strip()
    if words:
        context.update(words=words, results=comment_search(filters, words))
    return render(request, "feedback/staff/search.html", context)
