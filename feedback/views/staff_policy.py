"""The live invitation policy in plain words, its audited history, and the Ops editor."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from feedback import services
from feedback.models import InvitationPolicy, PolicyVersion
from feedback.policy_words import LABELS, describe_changes, describe_policy
from feedback.services.policy import (
    AUDITED_FIELDS,
    PolicyChangedMeanwhile,
    policy_changes,
    policy_rebase,
    policy_snapshot,
)
from feedback.staff_forms import (
    CONTACT_TARGET_FIELDS,
    PolicyForm,
    draft_policy,
    policy_form_data,
)
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


def _with_contact_target(draft: QueryDict, live: InvitationPolicy) -> QueryDict:
    """The simulator's draft leaves the contact target out: keep the live one."""
    data = draft.copy()
    live_values = policy_form_data(live)
    for name in CONTACT_TARGET_FIELDS:
        data.setdefault(name, live_values[name])
    return data


def _loaded(data: QueryDict) -> dict | None:
    """The policy's values when the form was opened, which the form carries along."""
    try:
        loaded = json.loads(data.get("loaded", ""))
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


@require_http_methods(["GET", "POST"])
@ops_view
def policy_edit(request: HttpRequest) -> HttpResponse:
    """Edit the live policy; saved through the audited service. If someone saved it since
    this form was opened, nothing is saved: the form comes back with their values and only
    this person's changes on top, and says what the colleague changed."""
    live = InvitationPolicy.live()
    if request.method == "GET":
        # The simulator links here with its draft's values in the query string.
        draft_values = any(name in request.GET for name in AUDITED_FIELDS)
        data = _with_contact_target(request.GET, live) if draft_values else None
        form = PolicyForm(data, instance=draft_policy(live))
        return _edit_page(request, form, live, loaded=policy_snapshot(live))
    loaded = _loaded(request.POST)
    # The form changes a copy of the row of its own: `live` keeps the stored values, which
    # the page shows again if the form is refused.
    form = PolicyForm(request.POST, instance=InvitationPolicy.objects.get(pk=live.pk))
    if loaded is None:
        form.is_valid()
        form.add_error(None, _("This form is incomplete: open the editor again."))
        return _edit_page(request, form, live, loaded=policy_snapshot(live), status=400)
    if not form.is_valid():
        return _edit_page(request, form, live, loaded=loaded, status=400)
    try:
        version = services.policy_save(
            policy=form.instance, changed_by=request.user, based_on=loaded
        )
    except PolicyChangedMeanwhile:
        return _conflict_page(request, edited=form.instance, loaded=loaded)
    if version is None:
        messages.info(request, _("Nothing changed: the policy is as it was."))
    else:
        count = len(version.changes)
        messages.success(
            request,
            ngettext(
                "Policy saved: %(count)d change recorded.",
                "Policy saved: %(count)d changes recorded.",
                count,
            )
            % {"count": count},
        )
    return redirect("feedback:policy")


def _conflict_page(request: HttpRequest, *, edited: InvitationPolicy, loaded: dict) -> HttpResponse:
    live = InvitationPolicy.live()
    rebased = policy_rebase(edited=edited, base=loaded, live=live)
    theirs = policy_changes(loaded, policy_snapshot(live))
    mine = policy_changes(loaded, policy_snapshot(edited))
    last = PolicyVersion.objects.select_related("changed_by").order_by("-changed_at", "-pk")
    conflict = {
        "theirs": describe_changes(theirs),
        "mine": describe_changes(policy_changes(policy_snapshot(live), policy_snapshot(rebased))),
        "both": [LABELS.get(name, name) for name in theirs if name in mine],
        "last": last.first(),
    }
    form = PolicyForm(instance=rebased)
    return _edit_page(
        request, form, live, loaded=policy_snapshot(live), conflict=conflict, status=409
    )


def _edit_page(
    request: HttpRequest,
    form: PolicyForm,
    live: InvitationPolicy,
    *,
    loaded: dict,
    conflict: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "loaded": json.dumps(loaded),
        "sentences": describe_policy(live),
        "conflict": conflict,
    }
    return render(request, "feedback/staff/policy_edit.html", context, status=status)
