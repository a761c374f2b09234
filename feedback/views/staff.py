"""Pages for staff, under /staff/."""

from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from feedback.mail import outbox_messages

View = Callable[..., HttpResponse]

# The "Staff" group may read feedback; "Ops" may also change the invitation policy;
# superusers have every permission. Anonymous visitors go to the login page; a signed-in
# user without an active staff account or without the permission gets a 403, never the page.
VIEW_PERMISSION = "feedback.view_response"
POLICY_PERMISSION = "feedback.change_invitationpolicy"


def _staff_page(view: View, permission: str) -> View:
    """Login required; then an active account with staff status, checked on every request
    so that removing it ends a live session's access, as in the admin; then the permission."""

    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        if not (user.is_active and user.is_staff and user.has_perm(permission)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(checked)


def staff_view(view: View) -> View:
    """A staff page: permission to read feedback."""
    return _staff_page(view, VIEW_PERMISSION)


def ops_view(view: View) -> View:
    """An Ops page: a staff page whose user may also change the invitation policy. Staff who
    may only read it are told who may change it and where to read it, not a bare 403."""

    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.has_perm(POLICY_PERMISSION):
            return render(request, "feedback/staff/policy_read_only.html", status=403)
        return view(request, *args, **kwargs)

    return staff_view(checked)


def home(request: HttpRequest) -> HttpResponse:
    """The site's root: the dashboard for signed-in staff, the sign-in page for anyone else."""
    if request.user.is_active and request.user.is_staff:
        return redirect("feedback:dashboard")
    return redirect("feedback:login")


# The outbox shows each email's HTML in a sandboxed iframe (srcdoc), which takes this
# page's policy: emails style their markup inline, as mail clients require.
@csp_update({"style-src": ["'unsafe-inline'"]})
@staff_view
def outbox(request: HttpRequest) -> HttpResponse:
    """The demo's local outbox (EMAIL_URL unset): what customers would have received."""
    context = {"messages_sent": outbox_messages()}
    return render(request, "feedback/staff/outbox.html", context)
