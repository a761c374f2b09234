"""Review moderation under /staff/reviews/: the queue, the decisions, and the log's counts.

Staff read the queue and the log; publishing or rejecting asks for "publish reviews".
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from feedback import review_feeds
from feedback.models import Review
from feedback.selectors import reviews as reads
from feedback.services import reviews as services
from feedback.views.staff import staff_view

PUBLISH_PERMISSION = "feedback.publish_review"
PER_PAGE = 25


@require_http_methods(["GET"])
@staff_view
def moderation(request: HttpRequest) -> HttpResponse:
    page = Paginator(reads.moderation_queue(), PER_PAGE).get_page(request.GET.get("page"))
    widget_url = review_feeds.absolute(reverse("feedback:reviews_widget"))
    context = {
        "page": page,
        "reasons": Review.Reason.choices,
        "can_publish": request.user.has_perm(PUBLISH_PERMISSION),
        "decisions": reads.decisions_by_rating(),
        "widget_url": widget_url,
        "public_url": review_feeds.absolute(reverse("feedback:reviews")),
    }
    return render(request, "feedback/staff/reviews.html", context)


@require_POST
@staff_view
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied
    review = Review.objects.filter(pk=pk).first()
    if review is None:
        raise Http404(_("No such review."))
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        messages.error(request, _("The form was incomplete: nothing was changed."))
        return redirect("feedback:moderation")
    action = request.POST.get("action")
    try:
        if action == "publish":
            services.review_publish(review=review, moderator=request.user, revision=revision)
            messages.success(request, _("Published."))
        elif action == "reject":
            reason = request.POST.get("reason", "")
            services.review_reject(
                review=review, moderator=request.user, revision=revision, reason=reason
            )
            messages.success(request, _("Rejected."))
        else:
            messages.error(request, _("Unknown action: nothing was changed."))
    except services.ModerationRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("feedback:moderation")


@require_http_methods(["GET"])
@staff_view
def moderation_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(reads.decision_log(), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "decisions": reads.decisions_by_rating(),
        "reasons": Review.Reason.choices,
    }
    return render(request, "feedback/staff/reviews_log.html", context)
