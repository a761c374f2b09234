"""The admin's "Import orders from CSV" page: the same import as `manage.py import_orders`.

Mixed into OrderAdmin. The upload is read line by line (Django spools a large one to a
temporary file); the page lists each bad line with its reason.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from feedback.ingest import CSV_HEADER
from feedback.services.order_import import ImportFailed, orders_import_csv

# A web request should finish well within the server's timeout; bigger files go through
# `manage.py import_orders`, which has no such limit.
MAX_UPLOAD_MB = 10
# The page shows this many report lines; the count of the rest is given.
MAX_SHOWN_ERRORS = 500


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, with the header {','.join(CSV_HEADER)}; up to {MAX_UPLOAD_MB} MB.",
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_MB} MB: import it with "
                "`python manage.py import_orders PATH.csv`."
            )
        return upload


class OrderImportAdminMixin:
    change_list_template = "admin/feedback/order/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="feedback_order_import"), *super().get_urls()]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> object:
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = OrderImportForm(request.POST, request.FILES) if posted else OrderImportForm()
        context = {}
        if posted and form.is_valid():
            context = _run(form.cleaned_data["file"])
            if "failure" in context:
                form.add_error("file", context["failure"])
        context.update(
            self.admin_site.each_context(request),
            title="Import orders from CSV",
            opts=self.model._meta,
            form=form,
            header=",".join(CSV_HEADER),
        )
        return TemplateResponse(request, "admin/feedback/order/import.html", context)


def _run(upload: object) -> dict[str, object]:
    errors: list[str] = []
    counted = {"lines": 0}

    def on_error(line: str) -> None:
        counted["lines"] += 1
        if len(errors) < MAX_SHOWN_ERRORS:
            errors.append(line)

    try:
        report = orders_import_csv(file=upload, on_error=on_error)
    except ImportFailed as error:
        report = error.report if error.report.rows else None
        return {"failure": f"{error}", "report": report, "errors": errors}
    except OperationalError:
        return {"failure": "The database failed; the import stopped. Try again later."}
    return {
        "report": report,
        "errors": errors,
        "more_errors": counted["lines"] - len(errors),
    }
