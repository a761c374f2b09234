"""The contact queue under /staff/contacts/: customers who asked to be contacted."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from feedback.models import ContactMessage, FollowUp, ReplyTemplate
from feedback.selectors import contacts as contact_reads
from feedback.services import contacts as services
from feedback.staff_forms import (
    AssignForm,
    NoteForm,
    ReplyForm,
    ReplyTemplateForm,
    ResolveForm,
)
from feedback.views.staff import staff_view

# Working the queue (assign, note, resolve, reopen): the "Staff" and "Ops" roles.
WORK_PERMISSION = "feedback.work_followup"
STATUSES = {
    "open": gettext_lazy("Open"),
    "resolved": gettext_lazy("Resolved"),
    "all": gettext_lazy("All"),
}
PER_PAGE = 50


@staff_view
def contacts(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    status = status if status in STATUSES else "open"
    mine = request.GET.get("mine") == "1"
    search = request.GET.get("q", "").strip()[:100]
    queue = contact_reads.contact_queue(
        status=status, assignee=request.user if mine else None, search=search
    )
    page = Paginator(queue, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": STATUSES,
        "mine": mine,
        "search": search,
        "kept_aside": contact_reads.replies_kept_aside(),
    }
    stats = contact_reads.followup_stats()
    median_time = contact_reads.human_duration(stats.median_time_to_resolve)
    context.update(stats=stats, median_time=median_time)
    return render(request, "feedback/staff/contacts.html", context)


@require_http_methods(["GET", "POST"])
@staff_view
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = contact_reads.contact_detail(pk)
    if follow_up is None:
        raise Http404(_("No such contact request."))
    forms = {
        "assign_form": AssignForm(initial={"assignee": follow_up.assignee_id}),
        "note_form": NoteForm(),
        "reply_form": ReplyForm(initial={"text": _template_text(request)}),
        "resolve_form": ResolveForm(),
    }
    if request.method == "POST":
        if not request.user.has_perm(WORK_PERMISSION):
            raise PermissionDenied
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, _("Unknown action: nothing was changed."))
            return _back(follow_up)
        invalid = action(request, follow_up)
        if invalid is None:
            return _back(follow_up)
        forms.update(invalid)
    customer = follow_up.response.invitation.order.customer
    context = {
        "follow_up": follow_up,
        "can_change": request.user.has_perm(WORK_PERMISSION),
        "thread": contact_reads.contact_thread(follow_up),
        "history": contact_reads.customer_history(follow_up),
        "templates": contact_reads.reply_templates(customer.locale),
        "can_reply": bool(customer.email) and follow_up.response.contact_requested,
    }
    return render(request, "feedback/staff/contact_detail.html", {**context, **forms}, status=200)


def _template_text(request: HttpRequest) -> str:
    """The saved reply picked on the page (?template=<id>), to start the reply from."""
    pk = request.GET.get("template", "")
    template = ReplyTemplate.objects.filter(pk=pk).first() if pk.isdigit() else None
    return template.text if template else ""


def _back(follow_up: FollowUp) -> HttpResponse:
    return redirect(reverse("feedback:contact", args=[follow_up.pk]))


# Each action returns None when done (then the page redirects), or the invalid form to show.
Action = Callable[[HttpRequest, FollowUp], dict | None]


def _assign(request: HttpRequest, follow_up: FollowUp) -> dict | None:
    form = AssignForm(request.POST)
    if not form.is_valid():
        return {"assign_form": form}
    assignee = form.cleaned_data["assignee"]
    try:
        changed = services.followup_assign(follow_up=follow_up, assignee=assignee, by=request.user)
    except services.FollowUpRefused as refused:
        form.add_error("assignee", str(refused))
        return {"assign_form": form}
    if changed:
        who = assignee.get_username() if assignee else _("nobody")
        messages.success(request, _("Assigned to %(who)s.") % {"who": who})
    else:
        messages.info(request, _("The assignee was already that: nothing changed."))
    return None


def _note(request: HttpRequest, follow_up: FollowUp) -> dict | None:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return {"note_form": form}
    try:
        services.followup_add_note(
            follow_up=follow_up, author=request.user, text=form.cleaned_data["text"]
        )
    except services.FollowUpRefused as refused:
        form.add_error("text", str(refused))
        return {"note_form": form}
    messages.success(request, _("Note added."))
    return None


def _assign_me(request: HttpRequest, follow_up: FollowUp) -> None:
    if services.followup_assign(follow_up=follow_up, assignee=request.user, by=request.user):
        messages.success(request, _("Assigned to you."))
    else:
        messages.info(request, _("It was already yours: nothing changed."))


def _resolve(request: HttpRequest, follow_up: FollowUp) -> dict | None:
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return {"resolve_form": form}
    note = form.cleaned_data["note"]
    if services.followup_resolve(follow_up=follow_up, by=request.user, note=note):
        messages.success(request, _("Marked resolved."))
    else:
        messages.info(request, _("It was already resolved."))
    return None


def _reply(request: HttpRequest, follow_up: FollowUp) -> dict | None:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return {"reply_form": form}
    try:
        services.contact_reply_send(
            follow_up=follow_up, author=request.user, text=form.cleaned_data["text"]
        )
    except services.FollowUpRefused as refused:
        form.add_error("text", str(refused))
        return {"reply_form": form}
    messages.success(request, _("Reply queued for sending; its status shows in the thread."))
    return None


def _send_again(request: HttpRequest, follow_up: FollowUp) -> None:
    chosen = request.POST.get("message", "")
    message = ContactMessage.objects.filter(
        follow_up=follow_up, pk=int(chosen) if chosen.isdigit() else 0
    ).first()
    if message is not None and services.contact_reply_retry(message=message):
        messages.success(request, _("Reply queued for sending again."))
    else:
        messages.info(request, _("That reply is not waiting to be sent again."))


def _reopen(request: HttpRequest, follow_up: FollowUp) -> None:
    if services.followup_reopen(follow_up=follow_up, by=request.user):
        messages.success(request, _("Reopened."))
    else:
        messages.info(request, _("It was already open."))


ACTIONS: dict[str, Action] = {
    "assign": _assign,
    "assign_me": _assign_me,
    "reply": _reply,
    "send_again": _send_again,
    "note": _note,
    "resolve": _resolve,
    "reopen": _reopen,
}


@require_http_methods(["GET", "POST"])
@staff_view
def reply_templates(request: HttpRequest) -> HttpResponse:
    """Saved replies, per language: list, add, change, remove."""
    can_change = request.user.has_perm(WORK_PERMISSION)
    pk = request.GET.get("edit", "")
    editing = ReplyTemplate.objects.filter(pk=pk).first() if pk.isdigit() else None
    form = ReplyTemplateForm(instance=editing)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if request.POST.get("action") == "delete":
            chosen = request.POST.get("template", "")
            ReplyTemplate.objects.filter(pk=int(chosen) if chosen.isdigit() else 0).delete()
            messages.success(request, _("Saved reply removed."))
            return redirect(reverse("feedback:reply_templates"))
        form = ReplyTemplateForm(request.POST, instance=editing)
        if form.is_valid():
            form.save()
            messages.success(request, _("Saved reply stored."))
            return redirect(reverse("feedback:reply_templates"))
    context = {
        "templates": ReplyTemplate.objects.all(),
        "form": form,
        "editing": editing,
        "can_change": can_change,
    }
    return render(request, "feedback/staff/reply_templates.html", context)
