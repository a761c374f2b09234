"""Pages for staff, under /staff/."""

from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback import ratelimit
from feedback.mail import outbox_messages
from feedback.middleware import remember_staff_language
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


@require_POST
@staff_view
def language(request: HttpRequest) -> HttpResponse:
    """Remember the staff member's language for the staff pages, then go back."""
    chosen = request.POST.get("language", "")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "feedback:dashboard"
    response = redirect(back)
    if chosen in dict(settings.LANGUAGES):
        StaffPreference.objects.update_or_create(user=request.user, defaults={"language": chosen})
        remember_staff_language(response, chosen)
    return response


class StaffLogoutView(auth_views.LogoutView):
    """Django's sign-out (a POST). A GET, from a bookmark or a typed address, gets a page
    with the sign-out button, or the signed-out page when there is nobody to sign out."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return render(request, "feedback/staff/account/logout_confirm.html")
        return render(request, self.template_name)


# Password reset links by email: a few per hour from one address, and for one account, so
# the form cannot be used to flood a mailbox.
RESET_LIMIT_PER_IP = 10
RESET_LIMIT_PER_EMAIL = 3
RESET_WINDOW_SECONDS = 3600


class StaffPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        limits = [
            ratelimit.Limit(
                f"reset-ip:{ratelimit.client_ip(self.request)}",
                RESET_LIMIT_PER_IP,
                RESET_WINDOW_SECONDS,
            ),
            ratelimit.Limit(f"reset-email:{email}", RESET_LIMIT_PER_EMAIL, RESET_WINDOW_SECONDS),
        ]
        if not ratelimit.allowed(count=limits):
            form.add_error(
                None, _("Too many reset requests. Wait an hour, then ask for a new link.")
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)
