"""Pages for staff, under /staff/."""

from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from feedback.mail import outbox_messages
from feedback.models import StaffPreference

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
        activate_staff_language(user)
        return view(request, *args, **kwargs)

    return login_required(checked)


def activate_staff_language(user: AbstractBaseUser) -> None:
    """Staff pages speak the language the staff member chose; until then, the request's."""
    preference = StaffPreference.objects.filter(user=user).first()
    if preference is not None:
        translation.activate(preference.language)


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


@require_POST
@staff_view
def language(request: HttpRequest) -> HttpResponse:
    """Remember the staff member's language for the staff pages, then go back."""
    chosen = request.POST.get("language", "")
    if chosen in dict(settings.LANGUAGES):
        StaffPreference.objects.update_or_create(user=request.user, defaults={"language": chosen})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "feedback:dashboard"
    return redirect(back)
