"""The live invitation policy in plain words, its audited history, and the Ops editor."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from feedback import services
from feedback.models import InvitationPolicy, PolicyVersion
from feedback.policy_words import describe_changes, describe_policy
from feedback.services.policy import AUDITED_FIELDS
from feedback.staff_forms import PolicyForm, draft_policy
from feedback.views.staff import POLICY_PERMISSION, ops_view, staff_view

HISTORY_PER_PAGE = 10


@staff_view
def policy(request: HttpRequest) -> HttpResponse:
    live = InvitationPolicy.live()
    versions = PolicyVersion.objects.select_related("changed_by").order_by("-changed_at", "-pk")
    page = Paginator(versions, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    history = [(version, describe_changes(version.changes)) for version in page]
    context = {
        "policy": live,
        "sentences": describe_policy(live),
        "page": page,
        "history": history,
        "can_edit": request.user.has_perm(POLICY_PERMISSION),
    }
    return render(request, "feedback/staff/policy.html", context)


def _stamp(policy: InvitationPolicy) -> str:
    return policy.updated_at.isoformat()


@require_http_methods(["GET", "POST"])
@ops_view
def policy_edit(request: HttpRequest) -> HttpResponse:
    """Edit the live policy; saved through the audited service. A change someone else saved
    since this form was opened is not overwritten silently."""
    live = InvitationPolicy.live()
    if request.method == "GET":
        # The simulator links here with its draft's values in the query string.
        draft_values = any(name in request.GET for name in AUDITED_FIELDS)
        data = request.GET if draft_values else None
        form = PolicyForm(data, instance=draft_policy(live))
        return _edit_page(request, form, live)
    # The form changes a copy of the row of its own: `live` keeps the stored values, which
    # the page shows again if the form is refused.
    form = PolicyForm(request.POST, instance=InvitationPolicy.objects.get(pk=live.pk))
    if request.POST.get("loaded") != _stamp(live):
        form.is_valid()
        form.add_error(
            None,
            "Someone saved the policy while you were editing. The current values are shown "
            "under “Live policy”; check your changes and save again.",
        )
        return _edit_page(request, form, live, status=409)
    if not form.is_valid():
        return _edit_page(request, form, live, status=400)
    version = services.policy_save(policy=form.instance, changed_by=request.user)
    if version is None:
        messages.info(request, "Nothing changed: the policy is as it was.")
    else:
        count = len(version.changes)
        messages.success(request, f"Policy saved: {count} change{'s' * (count != 1)} recorded.")
    return redirect("feedback:policy")


def _edit_page(
    request: HttpRequest, form: PolicyForm, live: InvitationPolicy, status: int = 200
) -> HttpResponse:
    context = {"form": form, "loaded": _stamp(live), "sentences": describe_policy(live)}
    return render(request, "feedback/staff/policy_edit.html", context, status=status)
