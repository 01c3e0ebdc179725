"""Excel imports on the dashboard: templates, upload, the job's progress and its report.

Importing is for staff who manage an organisation; the list and a job's page for anyone on
the dashboard (their own imports; the city's administrators see all).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.scoping import get_object_for_user, get_user_scope
from apps.service_records.imports import (
    MAX_UPLOAD_BYTES,
    XLSX_CONTENT_TYPE,
    import_job_create,
    import_template,
    template_filename,
)
from apps.service_records.models import ImportJob, ImportKind, ImportStatus

from .views import _require_staff

PAGE_SIZE = 30


def _require_importer(request):
    _require_staff(request)
    if not get_user_scope(request.user).can_manage_any:
        raise PermissionDenied


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        initial=ImportKind.SERVICE_RECORDS,
    )
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        help_text=gettext_lazy("Fill in the template; at most %(mb)d MB.")
        % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "For volunteers: I confirm that each person agreed to be registered and to the use "
            "of their data."
        ),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ImportKind.VOLUNTEERS and not data.get("consent"):
            self.add_error(
                "consent", _("Confirm that the volunteers agreed before importing them.")
            )
        return data


@require_GET
def import_list(request):
    _require_staff(request)
    jobs = ImportJob.objects.visible_to(request.user).select_related("created_by")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/imports/list.html",
        {"page": page, "can_import": get_user_scope(request.user).can_manage_any},
    )


@require_http_methods(["GET", "POST"])
def import_new(request):
    _require_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if job.status == ImportStatus.DONE:
                messages.success(request, job.message)
            return redirect("dashboard:import-detail", pk=job.pk)
    return render(
        request,
        "dashboard/imports/new.html",
        {"form": form, "kinds": ImportKind.choices},
        status=400 if request.method == "POST" else 200,
    )


def _job(request, pk):
    _require_staff(request)
    return get_object_for_user(ImportJob.objects.select_related("created_by"), request.user, pk=pk)


@require_GET
def import_detail(request, pk):
    job = _job(request, pk)
    return render(request, "dashboard/imports/detail.html", {"job": job})


@require_GET
def import_progress(request, pk):
    """The progress fragment, polled by htmx while the job waits or runs."""
    job = _job(request, pk)
    return render(request, "dashboard/imports/fragments/progress.html", {"job": job})


@require_GET
def import_template_download(request, kind):
    _require_importer(request)
    if kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(import_template(kind=kind), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{template_filename(kind)}"'
    return response
